// background.js (with queue.js and sites.js) as written, in a vm context with a stand-in for the
// browser's chrome.* and the given fetch and timers: what the background tests share. `stored`
// is extension storage; `chrome` adds or replaces parts of the stand-in (tabs, alarms).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const EXT = path.join(__dirname, "../../extension");

function startBackground({ stored, fetch, setTimeout = () => 0, scheme = "chrome-extension", chrome = {} }) {
  const browser = {
    storage: { local: {
      async get(keys) {
        const wanted = typeof keys === "string" ? [keys] : keys;
        return Object.fromEntries(wanted.filter((k) => k in stored).map((k) => [k, structuredClone(stored[k])]));
      },
      async set(values) { Object.assign(stored, structuredClone(values)); },
      async remove(key) { delete stored[key]; },
    } },
    runtime: { onMessage: { addListener() {} }, getURL: (p) => `${scheme}://test/${p}` },
    tabs: { async query() { return []; }, async sendMessage() {} },
    ...chrome,
  };
  const ctx = vm.createContext({ chrome: browser, fetch, console, URL, Response, AbortController, structuredClone,
    setTimeout, clearTimeout() {} });
  for (const file of ["queue.js", "sites.js", "background.js"]) {
    vm.runInContext(fs.readFileSync(path.join(EXT, file), "utf8"), ctx, { filename: file });
  }
  return ctx;
}

module.exports = { startBackground };
