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
  // the site the server stores under: no www., no trailing dot of a fully qualified name
  assert.strictEqual(I.siteOf("https://www.News.YCombinator.com./item?id=1"), "news.ycombinator.com");
  assert.strictEqual(I.siteOf("https://user@blog.example:8080/p"), "blog.example");
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

// A tree with just what the ordering reads: element links, and compareDocumentPosition from the
// order the elements were made in (every tree's pre-order) for the elements it leaves to the browser.
const made = [];
function tree(shape) {
  const order = [];
  const doc = { nodeType: 9 };
  function make(parent, kids) {
    const e = { nodeType: 1, parentElement: parent && parent.nodeType === 1 ? parent : null, parentNode: parent,
      firstElementChild: null, nextElementSibling: null, previousElementSibling: null };
    e.compareDocumentPosition = (o) => (made.indexOf(o) > made.indexOf(e) ? 4 : 2);
    order.push(e);
    made.push(e);
    let prev = null;
    for (const k of kids) {
      const c = make(e, k);
      if (prev) {
        prev.nextElementSibling = c;
        c.previousElementSibling = prev;
      } else e.firstElementChild = c;
      prev = c;
    }
    return e;
  }
  make(doc, shape);
  return order;
}

function shuffled(xs, seed) {
  const out = xs.slice();
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

test("inDocumentOrder gives document order for elements in any order", () => {
  const { inDocumentOrder } = require(FILE)._internal;
  // html > body > a long list whose every seventh item holds replies, some with replies of their own
  const list = [];
  for (let i = 0; i < 400; i++) list.push(i % 7 ? [] : [[[], [[]], []]]);
  const all = tree([[list]]);
  for (const [seed, every] of [[1, 1], [7, 3], [42, 11], [5, 97]]) {
    const chosen = all.filter((e, i) => i > 2 && i % every === 0);
    assert.deepStrictEqual(inDocumentOrder(new Set(shuffled(chosen, seed))), chosen);
  }
  // an element and what it holds, the holder first; and one element alone
  assert.deepStrictEqual(inDocumentOrder(new Set([all[9], all[3], all[8]])), [all[3], all[8], all[9]]);
  assert.deepStrictEqual(inDocumentOrder(new Set([all[5]])), [all[5]]);
});

test("inDocumentOrder leaves elements outside the document to compareDocumentPosition", () => {
  const { inDocumentOrder } = require(FILE)._internal;
  const all = tree([[[[], [], []]]]);
  const loose = tree([[], []]); // a subtree that is in no document
  loose[0].parentNode = null;
  const got = inDocumentOrder(new Set([all[5], loose[1], all[3]]));
  assert.strictEqual(got.length, 3);
  assert.deepStrictEqual(got.filter((e) => all.includes(e)), [all[3], all[5]]);
});

test("a page says which way round it prints dates, as the Python engine reads it", () => {
  const I = require(FILE)._internal;
  assert.strictEqual(I.pageDateOrder("posted 14/04/2020, then 09/06/2020"), "dmy");
  assert.strictEqual(I.pageDateOrder("12/25/2020 and 01/02/2021"), "mdy");
  assert.strictEqual(I.pageDateOrder("14/04/2020 and 12/25/2020"), null);
  assert.strictEqual(I.parseDateText("09/06/2020", "dmy"), "2020-06-09T00:00:00Z");
  assert.strictEqual(I.parseDateText("09/06/2020", "mdy"), "2020-09-06T00:00:00Z");
  assert.strictEqual(I.parseDateText("09/06/2020"), null);
});

// The table tests/adapters/test_mentions_by_name.py also runs through server/extract.py and, in
// Chromium, this engine on whole pages; here without a DOM, the same steps extract() takes: the
// WordPress adapter's mention rule on the text, then resolution against the page's commenters.
test("mentions by name: surnames, honorifics, and no guess between two people", () => {
  const I = require(FILE)._internal;
  const root = path.join(__dirname, "..", "..");
  const table = JSON.parse(fs.readFileSync(path.join(root, "tests", "fixtures", "mentions-by-name.json"), "utf8"));
  const wordpress = JSON.parse(fs.readFileSync(path.join(root, "extension", "adapters", "wordpress.json"), "utf8"));
  const rule = wordpress.items[0].mentions;
  assert.ok(rule.byName && rule.from === "text");
  const person = (name) => ({ author: { handle: name, name: name } });
  for (const c of table.cases) {
    const writer = person("Zed");
    const known = I.newKnown();
    I.knowAuthors(c.authors.map(person).concat([writer]), known);
    I.resolveByName(known, [[writer, I.textValues(c.text, rule, {})]]);
    assert.deepStrictEqual(writer.mentions || [], c.mentions, c.why);
  }
});

test("mentions by name: authors met in later slices of a live page count as well", () => {
  const I = require(FILE)._internal;
  const person = (name) => ({ author: { handle: name, name: name } });
  const known = I.newKnown();
  I.knowAuthors([person("Anna Schmidt")], known);
  const first = person("Zed");
  I.resolveByName(known, [[first, ["Schmidt"]]]);
  assert.deepStrictEqual(first.mentions, ["Anna Schmidt"]);
  // a second Schmidt arrives: from now on "@Schmidt" could be either of them
  I.knowAuthors([person("Karl Schmidt")], known);
  const later = person("Zed");
  I.resolveByName(known, [[later, ["Schmidt"]]]);
  assert.strictEqual(later.mentions, undefined);
});

test("clean() replaces lone surrogates, which JSON cannot carry, and keeps pairs", () => {
  // A page's script can write a lone surrogate into a name; the server refused the whole capture
  // ("not valid JSON"), every other comment of the batch with it.
  const { clean } = require(FILE)._internal;
  assert.strictEqual(clean("lone \ud800 surrogate"), "lone \ufffd surrogate");
  assert.strictEqual(clean("\udc00"), "\ufffd");
  assert.strictEqual(clean("end\ud83d"), "end\ufffd");
  assert.strictEqual(clean("pair \ud83d\ude00 kept"), "pair \ud83d\ude00 kept");
  assert.ok(JSON.parse(JSON.stringify(clean("x\ud800y"))).isWellFormed());
});

test("the capture's page address stays within the contract's 2,048 characters", () => {
  // A page's own address can be longer (tracking parameters); the server refused the capture.
  const { recordUrl } = require(FILE)._internal;
  const short = "https://blog.example/post-1?utm_source=x";
  assert.strictEqual(recordUrl(short), short);
  assert.strictEqual(recordUrl(`https://blog.example/post-1?utm=${"a".repeat(3000)}`), "https://blog.example/post-1");
  assert.strictEqual(recordUrl(`https://blog.example/${"p".repeat(3000)}?q=1`).length, 2048);
  assert.strictEqual(recordUrl(null), null);
  // characters, as the contract (and the Python engine) counts them: an emoji is one, not two
  const emoji = `https://blog.example/${"\u{1F600}".repeat(1020)}?q=1`;
  assert.ok(emoji.length > 2048 && [...emoji].length <= 2048);
  assert.strictEqual(recordUrl(emoji), emoji);
});
