// A server the extension is not paired with. It answers a pinned Chromium origin 401 and an
// unpaired Firefox one (moz-extension://, random for each install, admitted only while paired)
// 403 bad_origin; both mean "not paired": the capture waits in the queue for the pairing, and
// the page's badges say "not paired". Found in Firefox ESR after Unpair: the captures were
// dropped as refused and the badges said "requests from this origin are not accepted".
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { startBackground } = require("./background_stand_in.js");

function worker(answer) {
  const stored = { server: "http://127.0.0.1:7317" };
  const fetch = async () => new Response(JSON.stringify(answer[1]), { status: answer[0], headers: { "Content-Type": "application/json" } });
  return { ctx: startBackground({ stored, fetch, scheme: "moz-extension" }), stored };
}

const capture = { v: 1, page: { url: "https://blog.example/p", site: "blog.example" },
  items: [{ id: "c1", kind: "comment", parent: null, author: { handle: "anna" } }] };
const ANSWERS = {
  "401 (Chromium's pinned origin)": [401, { error: "unauthorized", message: "pair the extension first: a valid bearer token is required" }],
  "403 bad_origin (Firefox's unpaired origin)": [403, { error: "bad_origin", message: "requests from this origin are not accepted" }],
};

for (const [name, answer] of Object.entries(ANSWERS)) {
  test(`unpaired, answered ${name}: the capture is queued for the pairing and said to be unpaired`, async () => {
    const { ctx, stored } = worker(answer);
    const r = await ctx.capture(capture);
    assert.equal(r.queued, true);
    assert.equal(r.unpaired, true);
    assert.equal(stored.queue.entries.length, 1);
    await assert.rejects(ctx.scores(["blog.example:anna"]), (e) => e.kind === "unpaired");
  });
}

test("any other refusal is still not queued", async () => {
  const { ctx, stored } = worker([403, { error: "bad_host", message: "this server answers only to localhost" }]);
  await assert.rejects(ctx.capture(capture), /localhost/);
  assert.equal(stored.queue, undefined);
});
