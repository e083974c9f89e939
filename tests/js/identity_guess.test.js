// The identity the extension guesses for a name when the server cannot be asked (offline badges,
// view-only mode) must be the one the server gives (scoring/items.py normalize_handle): otherwise
// a badge drawn offline belongs to nobody once the server answers.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { identityGuess } = require("../../extension/badge.js");

const ROOT = path.resolve(__dirname, "..", "..");

function serverHandles(handles) {
  const out = execFileSync(process.env.PYTHON || "python3",
    ["-c", "import json, sys; from scoring.items import normalize_handle; "
      + "print(json.dumps([normalize_handle(h) for h in json.load(sys.stdin)]))"],
    { cwd: ROOT, input: JSON.stringify(handles), encoding: "utf8" });
  return JSON.parse(out);
}

test("every control, space and invisible character is treated as the server treats it", () => {
  const odd = [];
  for (let c = 0; c <= 0xa0; c++) odd.push(String.fromCharCode(c));
  odd.push("\u00ad", "\u061c", "\u1680", "\u180e", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff");
  for (let c = 0x2000; c <= 0x206f; c++) odd.push(String.fromCharCode(c));
  const handles = odd.map((ch) => `Ann${ch}Lee${ch}`).concat(odd.map((ch) => `${ch} Bo ${ch}`));
  const want = serverHandles(handles);
  handles.forEach((h, i) => {
    const code = h.codePointAt(3).toString(16);
    assert.equal(identityGuess("Blog.Example", h), `blog.example:${want[i]}`, `U+${code}`);
  });
});

test("a terminal's escape sequence is not part of a name", () => {
  assert.equal(identityGuess("x.com", "Eve\x1b[2J\x1b]0;pwned\x07"), "x.com:eve[2j]0;pwned");
  assert.equal(identityGuess("x.com", "Zé\u200bro\u202e"), "x.com:zéro");
});

test("one person typed two ways is one identity, as on the server", () => {
  const handles = ["Zo\u00eb", "Zoe\u0308", "@Bob", " @ Bob ", "@", "a@b", "@@x", "\u200b@Ann"];
  const want = serverHandles(handles);
  handles.forEach((h, i) => assert.equal(identityGuess("b.example", h), `b.example:${want[i]}`, JSON.stringify(h)));
  assert.equal(identityGuess("b.example", "Zoe\u0308"), identityGuess("b.example", "Zo\u00eb"));
});
