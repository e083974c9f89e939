// The background worker against a server that answers 503 "busy" (a long task holds it): the
// capture is kept in the queue, a flush keeps it too, and once the server takes it, it goes.
// background.js runs as written, in a context with a stand-in for the browser's chrome.* and fetch.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { startBackground } = require("./background_stand_in.js");

function worker(answers) {
  const stored = { token: "t0k3n", server: "http://127.0.0.1:7317" };
  const sent = [];
  const told = [];
  async function fetch(url, init) {
    sent.push({ url, body: init.body && JSON.parse(init.body) });
    const [status, body, headers = {}] = answers.shift();
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
  }
  const timers = [];
  const due = []; // the planned callbacks, run by the test when it chooses
  const tabs = { async query() { return [{ id: 1 }]; },
    async sendMessage(id, msg) { told.push(msg.waiting ? `${msg.type} (waiting)` : msg.type); } };
  const ctx = startBackground({ stored, fetch, chrome: { tabs },
    setTimeout: (f, ms) => { timers.push(ms); due.push([ms, f]); return 0; } });
  return { ctx, stored, sent, timers, due, told };
}

const BUSY = [503, { error: "busy", message: "the server is busy with an import; nothing was done", task: "an import" },
  { "Retry-After": "5" }];
const capture = { v: 1, page: { url: "https://blog.example/p", site: "blog.example" },
  items: [{ id: "c1", kind: "comment", parent: null, author: { handle: "anna" } }] };

test("a capture answered busy waits in the queue, and a flush sends it once the server takes it", async () => {
  const answers = [BUSY, BUSY, [200, { stored: { added: 1, updated: 0, unchanged: 0 }, authors: {}, scores: {} }]];
  const { ctx, stored, sent, timers } = worker(answers);
  const r = await ctx.capture(capture);
  assert.equal(r.queued, true);
  assert.equal(r.busy, true);
  assert.deepEqual({ ...r.queue }, { captures: 1, items: 1, dropped: 0 }); // copied out of the other realm
  assert.ok(timers.includes(5000), "a retry is planned after Retry-After");

  assert.equal(await ctx.flush(), 0); // still busy: kept, not dropped as a refused capture
  assert.equal(stored.queue.entries.length, 1);

  assert.equal(await ctx.flush(), 1);
  assert.equal(stored.queue.entries.length, 0);
  assert.equal(sent.length, 3);
  assert.deepEqual(sent[2].body, capture);
});

test("a capture the server refuses for good is not queued", async () => {
  const { ctx, stored } = worker([[400, { error: "invalid", message: "must be an array", field: "items" }]]);
  await assert.rejects(ctx.capture(capture), /items: must be an array/);
  assert.equal(stored.queue, undefined);
});

test("pages whose scores were answered busy ask again once the server is free, with nothing queued", async () => {
  const free = [200, { name: "cloutlens", paired: true, busy: null, items: 3 }];
  const busyStatus = [200, { name: "cloutlens", paired: true, busy: "an import", items: 3 }];
  const busy7 = [BUSY[0], BUSY[1], { "Retry-After": "7" }]; // told apart from the 5 s request timeouts
  const { ctx, sent, due, told } = worker([busy7, busyStatus, free]);
  const retries = () => due.filter(([ms]) => ms === 7000);
  const settle = async () => { for (let i = 0; i < 8; i++) await new Promise((r) => setImmediate(r)); };
  await assert.rejects(ctx.scores(["blog.example:anna"]), /busy/);
  assert.equal(retries().length, 1);
  retries()[0][1](); // Retry-After has passed: the server is still busy, so it looks again later
  await settle();
  assert.equal(sent[1].url, "http://127.0.0.1:7317/api/status");
  assert.deepEqual(told, []);
  assert.equal(retries().length, 2, "another look planned");
  retries()[1][1](); // now free: the open pages are told to ask again, for the badges still waiting
  await settle();
  assert.deepEqual(told, ["server-back (waiting)"]);
  assert.equal(sent.length, 3);
});
