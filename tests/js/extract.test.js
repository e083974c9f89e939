// extension/extract.js as node sees it: a classic script that also exports itself, and an engine
// that never hands page content to an HTML parser. Extraction itself is tested in Chromium
// (tests/adapters/test_conformance.py), where there is a real DOM.
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const FILE = path.join(__dirname, "..", "..", "extension", "extract.js");
const SOURCE = fs.readFileSync(FILE, "utf8");

test("loads as a classic content script and defines CloutlensExtract", () => {
  const sandbox = {};
  sandbox.globalThis = sandbox;
  vm.runInNewContext(SOURCE, sandbox, { filename: "extract.js" });
  assert.strictEqual(typeof sandbox.CloutlensExtract.pickAdapter, "function");
  assert.strictEqual(typeof sandbox.CloutlensExtract.extract, "function");
});

test("is requirable by node tests", () => {
  const E = require(FILE);
  assert.strictEqual(typeof E.extract, "function");
});

test("uses no ES module syntax and no HTML-parsing sink", () => {
  const code = SOURCE.replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
  for (const banned of [/^\s*import\s/m, /^\s*export\s/m, /\.innerHTML\b/, /\.outerHTML\b/,
    /insertAdjacentHTML/, /document\.write/, /DOMParser/, /createContextualFragment/, /\beval\s*\(/,
    /new Function/]) {
    assert.ok(!banned.test(code), `extract.js must not contain ${banned}`);
  }
});

test("pickAdapter picks by host before any markup exists", () => {
  const E = require(FILE);
  const adapters = ["hackernews.json", "x.json", "wordpress.json"].map((f) =>
    JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "extension", "adapters", f), "utf8")));
  const emptyDoc = { querySelector: () => null, querySelectorAll: () => [] };
  assert.strictEqual(E.pickAdapter(adapters, emptyDoc, "https://x.com/a/status/1").name, "x");
  assert.strictEqual(E.pickAdapter(adapters, emptyDoc, "https://news.ycombinator.com/item?id=1").name, "hackernews");
  assert.strictEqual(E.pickAdapter(adapters, emptyDoc, "https://blog.example/p"), null);
});

test("helpers: counts, times and unsafe links", () => {
  const I = require(FILE)._internal;
  assert.strictEqual(I.parseCount("1.2k"), 1200);
  assert.strictEqual(I.parseCount("3,456 points"), 3456);
  assert.strictEqual(I.parseTime("2020-10-22T17:17:43+08:00"), "2020-10-22T09:17:43Z");
  assert.strictEqual(I.parseTime("2023-02-29"), null);
  assert.strictEqual(I.resolveUrl("javascript:alert(1)", "https://a.example/"), null);
  assert.strictEqual(I.resolveUrl("/u/x", "https://a.example/p/q"), "https://a.example/u/x");
});

test("extract takes the address as a string or as {url, elements, cache}", () => {
  const E = require(FILE);
  const adapter = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "extension", "adapters", "hackernews.json"), "utf8"));
  const emptyDoc = { querySelector: () => null, querySelectorAll: () => [] };
  const url = "https://news.ycombinator.com/item?id=7";
  const a = E.extract(emptyDoc, adapter, url).capture;
  const b = E.extract(emptyDoc, adapter, { url }).capture;
  assert.deepStrictEqual(a, b);
  assert.strictEqual(a.page.site, "news.ycombinator.com");
  // No elements chosen: nothing is read but the page itself, and the page-level work is cached.
  const cache = {};
  const c = E.extract(emptyDoc, adapter, { url, elements: [], cache }).capture;
  assert.deepStrictEqual(c.items, []);
  assert.strictEqual(c.page.url, url);
  assert.strictEqual(cache.page.postId, "url:/item?id=7");
});
