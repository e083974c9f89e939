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

test("a site the browser has not granted is off, and the exclude list still wins", () => {
  assert.deepEqual(S.decide({}, "blog.example", false),
    { enabled: false, capture: false, reason: "not turned on for this site" });
  assert.match(S.decide({ exclude: ["blog.example"] }, "blog.example", false).reason, /excluded/);
  assert.equal(S.decide({}, "blog.example", true).capture, true);
});

test("a host is asked for as one pattern on both schemes; junk asks for nothing", () => {
  assert.deepEqual(S.originsFor("https://Blog.Example:8080/post?id=1"), ["*://blog.example/*"]);
  assert.deepEqual(S.originsFor("*.blog.example"), ["*://blog.example/*"]);
  assert.deepEqual(S.originsFor("not a host!"), []);
  assert.deepEqual(S.originsFor(""), []);
});

test("granted patterns name their host, and only one-site patterns do", () => {
  assert.equal(S.hostOfOrigin("*://*.Example.com/*"), "*.example.com");
  assert.equal(S.hostOfOrigin("https://blog.example:8443/*"), "blog.example");
  assert.equal(S.hostOfOrigin("*://*/*"), "");
  assert.equal(S.hostOfOrigin("<all_urls>"), "");
  assert.equal(S.hostOfOrigin("file:///*"), "");
});

test("a granted pattern covers its host and, with *., subdomains but not look-alikes", () => {
  assert.equal(S.originCovers("*://blog.example/*", "blog.example"), true);
  assert.equal(S.originCovers("*://blog.example/*", "www.blog.example"), false);
  assert.equal(S.originCovers("*://*.blog.example/*", "www.blog.example"), true);
  assert.equal(S.originCovers("*://*.blog.example/*", "blog.example"), true);
  assert.equal(S.originCovers("*://*.blog.example/*", "evilblog.example"), false);
  assert.equal(S.originCovers("*://*/*", "anything.example"), true);
  assert.equal(S.originCovers("<all_urls>", "anything.example"), true);
  assert.equal(S.originCovers("file:///*", "blog.example"), false);
});

test("well-known sites are offered with their subdomains, all as one-site patterns", () => {
  const origins = S.wellKnownOrigins();
  assert.equal(origins.length, 2 * S.WELL_KNOWN.length);
  assert.ok(origins.includes("*://reddit.com/*") && origins.includes("*://*.reddit.com/*"));
  assert.ok(origins.every((o) => S.hostOfOrigin(o) !== ""));
});

test("embedded comment services are found in frame addresses, once each, bad URLs ignored", () => {
  const frames = ["https://myblog.disqus.com/embed/comments/?t_u=x", "https://disqus.com/embed/",
    "https://ads.example/frame", "not a url", "https://notdisqus.com/"];
  assert.deepEqual(S.embedsIn(frames), ["disqus.com"]);
  assert.deepEqual(S.embedsIn([]), []);
  assert.deepEqual(S.embedsIn(undefined), []);
});

test("the command that starts the server names the port the extension is set to", () => {
  assert.equal(S.serveCommand("http://127.0.0.1:7317"), "cloutlens serve");
  assert.equal(S.serveCommand("http://127.0.0.1:8123"), "cloutlens serve --port 8123");
  assert.equal(S.serveCommand("not a url"), "cloutlens serve");
});
