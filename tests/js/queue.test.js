// The offline queue's rules: bounded, oldest dropped with a count, acknowledged entries removed
// by id so nothing is sent twice and nothing queued meanwhile is lost.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const Q = require("../../extension/queue.js");

function cap(n, tag = "c") {
  return { v: 1, page: { url: "https://blog.example/p", title: "", site: "blog.example" },
    items: Array.from({ length: n }, (_, i) => ({ id: `${tag}-${i}` })) };
}

test("captures wait in order and the oldest goes first", () => {
  let s = Q.empty();
  s = Q.enqueue(s, cap(2, "a"));
  s = Q.enqueue(s, cap(3, "b"));
  assert.equal(Q.next(s).capture.items[0].id, "a-0");
  assert.deepEqual(Q.summary(s), { captures: 2, items: 5, dropped: 0 });
});

test("an empty capture is not queued", () => {
  assert.deepEqual(Q.summary(Q.enqueue(Q.empty(), cap(0))), { captures: 0, items: 0, dropped: 0 });
});

test("over the item bound the oldest captures are dropped and counted", () => {
  const limits = { maxEntries: 100, maxItems: 10 };
  let s = Q.empty();
  s = Q.enqueue(s, cap(4, "a"), limits);
  s = Q.enqueue(s, cap(4, "b"), limits);
  s = Q.enqueue(s, cap(4, "c"), limits);
  assert.deepEqual(Q.summary(s), { captures: 2, items: 8, dropped: 4 });
  assert.equal(Q.next(s).capture.items[0].id, "b-0");
});

test("over the entry bound the oldest captures are dropped and counted", () => {
  const limits = { maxEntries: 2, maxItems: 1000 };
  let s = Q.empty();
  for (const t of ["a", "b", "c"]) s = Q.enqueue(s, cap(1, t), limits);
  assert.deepEqual(Q.summary(s), { captures: 2, items: 2, dropped: 1 });
});

test("a capture larger than the whole queue keeps its newest items", () => {
  const s = Q.enqueue(Q.empty(), cap(12), { maxEntries: 5, maxItems: 10 });
  assert.deepEqual(Q.summary(s), { captures: 1, items: 10, dropped: 2 });
  assert.equal(Q.next(s).capture.items[0].id, "c-2");
});

test("ack removes only the acknowledged entry, even if more were queued meanwhile", () => {
  let s = Q.enqueue(Q.empty(), cap(1, "a"));
  const inFlight = Q.next(s);
  s = Q.enqueue(s, cap(1, "b"));
  s = Q.ack(s, inFlight.id);
  assert.equal(Q.next(s).capture.items[0].id, "b-0");
  s = Q.ack(s, inFlight.id); // a second ack of the same entry changes nothing
  assert.deepEqual(Q.summary(s), { captures: 1, items: 1, dropped: 0 });
});

test("ids stay unique after entries are removed", () => {
  let s = Q.enqueue(Q.empty(), cap(1, "a"));
  s = Q.ack(s, Q.next(s).id);
  s = Q.enqueue(s, cap(1, "b"));
  s = Q.enqueue(s, cap(1, "c"));
  const ids = s.entries.map((e) => e.id);
  assert.equal(new Set(ids).size, 2);
  assert.ok(!ids.includes(1));
});

test("a damaged stored queue is treated as empty", () => {
  assert.deepEqual(Q.summary(null), { captures: 0, items: 0, dropped: 0 });
  assert.deepEqual(Q.summary({ entries: "x" }), { captures: 0, items: 0, dropped: 0 });
});

test("a busy server's refusals are kept, the others are final", () => {
  assert.equal(Q.keeps(503), true); // busy with a long task, or its data dir unreadable
  assert.equal(Q.keeps(507), true); // its disk full
  for (const status of [400, 401, 403, 404, 413, 415, 500]) assert.equal(Q.keeps(status), false, String(status));
});
