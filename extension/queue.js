// The offline queue's rules, as pure functions over a plain object kept in extension storage.
// The background worker owns the storage and the network; this file only decides what is kept,
// what is dropped and what is sent next, so node's test runner can check it without a browser.
//
// State: {entries: [{id, items, capture}], dropped: <items dropped, ever>, nextId}.
(function () {
  "use strict";

  const LIMITS = { maxEntries: 200, maxItems: 5000 };

  function empty() {
    return { entries: [], dropped: 0, nextId: 1 };
  }

  function normalise(state) {
    if (!state || !Array.isArray(state.entries)) return empty();
    return { entries: state.entries.slice(), dropped: state.dropped | 0, nextId: state.nextId || 1 };
  }

  function queuedItems(state) {
    let n = 0;
    for (const e of state.entries) n += e.items;
    return n;
  }

  // Adds one capture; while over a limit, the oldest entries go and their items are counted, so
  // the user can be told how much was lost rather than the queue growing without end.
  function enqueue(state, capture, limits = LIMITS) {
    const s = normalise(state);
    const items = capture && Array.isArray(capture.items) ? capture.items.length : 0;
    if (!items) return s;
    if (items > limits.maxItems) {
      // One capture larger than the whole queue keeps its newest items only.
      const kept = capture.items.slice(-limits.maxItems);
      s.dropped += items - kept.length;
      capture = Object.assign({}, capture, { items: kept });
    }
    s.entries.push({ id: s.nextId, items: capture.items.length, capture });
    s.nextId += 1;
    let total = queuedItems(s);
    while (s.entries.length > limits.maxEntries || total > limits.maxItems) {
      const gone = s.entries.shift();
      s.dropped += gone.items;
      total -= gone.items;
    }
    return s;
  }

  // The entry to send next: the oldest, so the server sees captures in the order they were made.
  function next(state) {
    const s = normalise(state);
    return s.entries.length ? s.entries[0] : null;
  }

  // Removes an entry the server has acknowledged. By id, not position: captures queued while the
  // request was in flight must survive.
  function ack(state, id) {
    const s = normalise(state);
    s.entries = s.entries.filter((e) => e.id !== id);
    return s;
  }

  // Whether a send the server refused stays queued. 503 (busy with a long task such as an import,
  // or its data dir unreadable) and 507 (its disk full) say nothing was stored and the same
  // capture will be taken later; any other refusal is about the capture itself, and sending it
  // again would only keep the captures queued behind it waiting.
  function keeps(status) {
    return status === 503 || status === 507;
  }

  function summary(state) {
    const s = normalise(state);
    return { captures: s.entries.length, items: queuedItems(s), dropped: s.dropped };
  }

  const CloutlensQueue = { LIMITS, empty, enqueue, next, ack, keeps, summary };
  globalThis.CloutlensQueue = CloutlensQueue;
  if (typeof module !== "undefined") module.exports = CloutlensQueue;
})();
