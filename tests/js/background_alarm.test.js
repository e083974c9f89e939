// The minute alarm that flushes the queue and notices a lost server coming back. The background
// starts again after every idle stop (Firefox suspends its event page after 30 s); if each start
// replaced the alarm, its minute began again, and a background woken more often than once a
// minute never heard it (found in Firefox ESR: the server back for two minutes, the queue still
// full and the pages still saying "server not running").
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { startBackground } = require("./background_stand_in.js");

// Starts background.js as written with a stand-in chrome.* whose alarms are `alarms` (kept by the
// browser across the background's restarts).
async function start(alarms) {
  const created = [];
  startBackground({
    stored: { server: "http://127.0.0.1:7317" }, scheme: "moz-extension",
    fetch: async () => { throw new TypeError("offline"); },
    chrome: { alarms: {
      async get(name) { return alarms.get(name); },
      create(name, info) {
        created.push(name);
        alarms.set(name, { name, scheduledTime: Date.now() + info.periodInMinutes * 60000, periodInMinutes: info.periodInMinutes });
      },
      onAlarm: { addListener() {} },
    } },
  });
  await new Promise((r) => setImmediate(r));
  return created;
}

test("a first start creates the minute alarm", async () => {
  const alarms = new Map();
  assert.deepEqual(await start(alarms), ["cloutlens-flush"]);
  assert.equal(alarms.get("cloutlens-flush").periodInMinutes, 1);
});

test("a restart of the background leaves the alarm's next minute where it was", async () => {
  const due = Date.now() + 5000; // five seconds from firing when the background is woken
  const alarms = new Map([["cloutlens-flush", { name: "cloutlens-flush", scheduledTime: due, periodInMinutes: 1 }]]);
  assert.deepEqual(await start(alarms), []);
  assert.equal(alarms.get("cloutlens-flush").scheduledTime, due);
});
