// Where Cloutlens runs: the exclude list wins, a site turned off stays off, view-only captures
// nothing, and host patterns cover subdomains but not look-alikes.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const S = require("../../extension/sites.js");

test("by default a web page is on and captured", () => {
  assert.deepEqual(S.decide({}, "blog.example"), { enabled: true, capture: true, reason: "" });
});

test("a site turned off is off, others are not", () => {
  const s = { sites: { "blog.example": false } };
  assert.equal(S.decide(s, "blog.example").enabled, false);
  assert.equal(S.decide(s, "news.example").enabled, true);
});

test("the exclude list covers subdomains but not look-alike hosts", () => {
  const s = { exclude: S.parseExclude("bank.example\n# a comment\n*.mail.example") };
  assert.deepEqual(s.exclude, ["bank.example", "mail.example"]);
  assert.equal(S.decide(s, "bank.example").enabled, false);
  assert.equal(S.decide(s, "www.bank.example").enabled, false);
  assert.equal(S.decide(s, "evilbank.example").enabled, true);
  assert.match(S.decide(s, "inbox.mail.example").reason, /excluded/);
});

test("the exclude list wins over a site turned on", () => {
  const s = { exclude: ["blog.example"], sites: { "blog.example": true } };
  assert.equal(S.decide(s, "blog.example").enabled, false);
});

test("view-only shows badges but captures nothing", () => {
  const d = S.decide({ viewOnly: true }, "blog.example");
  assert.equal(d.enabled, true);
  assert.equal(d.capture, false);
});

test("patterns are cleaned from what people paste", () => {
  assert.equal(S.cleanPattern("https://WWW.Example.com:8080/path?q"), "www.example.com");
  assert.equal(S.cleanPattern("not a host!"), "");
  assert.deepEqual(S.parseExclude("a.example, a.example\nb.example"), ["a.example", "b.example"]);
});

test("no host means not a web page", () => {
  assert.equal(S.decide({}, "").enabled, false);
});

test("unknown badge styles fall back to the score", () => {
  assert.equal(S.settingsOf({ badgeStyle: "<script>" }).badgeStyle, "score");
  assert.equal(S.settingsOf({ badgeStyle: "dot" }).badgeStyle, "dot");
});
