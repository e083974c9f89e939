// The background worker: the only part of the extension that talks to the Cloutlens server.
// Content scripts hand it captures and ask it for scores; the popup and options pages ask it to
// pair and to report status. The token lives in chrome.storage.local and never leaves this worker
// except in the Authorization header to the configured loopback server.
"use strict";

// Chromium runs this file as a service worker and loads helpers with importScripts; Firefox runs
// the manifest's background "scripts" list, which already loaded them.
if (typeof importScripts === "function" && !globalThis.CloutlensQueue) importScripts("queue.js", "sites.js");
const Queue = globalThis.CloutlensQueue;
const Sites = globalThis.CloutlensSites;

const DEFAULT_SERVER = "http://127.0.0.1:7317";
const REQUEST_TIMEOUT_MS = 5000;

let adaptersPromise = null;

function loadAdapters() {
  // Adapters are data files shipped in the extension; the worker reads them once and hands them
  // to content scripts, which cannot fetch extension files without exposing them to pages.
  if (!adaptersPromise) {
    adaptersPromise = (async () => {
      const index = await (await fetch(chrome.runtime.getURL("adapters/index.json"))).json();
      const files = Array.isArray(index) ? index : index.adapters;
      return Promise.all(files.map(async (f) => (await fetch(chrome.runtime.getURL(`adapters/${f}`))).json()));
    })().catch((e) => {
      adaptersPromise = null;
      throw e;
    });
  }
  return adaptersPromise;
}

async function config() {
  const c = await chrome.storage.local.get(["server", "token", "pairing"]);
  return { server: c.server || DEFAULT_SERVER, token: c.token || null, pairing: c.pairing || null };
}

async function settings() {
  return Sites.settingsOf((await chrome.storage.local.get("settings")).settings);
}

function hostOf(url) {
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.hostname.toLowerCase() : "";
  } catch (e) {
    return "";
  }
}

class ServerError extends Error {
  constructor(kind, message, status) {
    super(message);
    this.kind = kind; // "offline", "unpaired", "rejected"
    this.status = status;
  }
}

async function call(path, { method = "GET", body, auth = true } = {}) {
  const { server, token } = await config();
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && token) headers["Authorization"] = `Bearer ${token}`;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS);
  let resp;
  try {
    resp = await fetch(server + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctrl.signal,
      credentials: "omit",
      cache: "no-store",
    });
  } catch (e) {
    throw new ServerError("offline", `the Cloutlens server at ${server} is not reachable`);
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  try {
    data = await resp.json();
  } catch (e) {
    data = null;
  }
  if (resp.status === 401) throw new ServerError("unpaired", "not paired with the server", 401);
  if (!resp.ok) {
    const msg = data && data.message ? `${data.field ? data.field + ": " : ""}${data.message}` : `HTTP ${resp.status}`;
    throw new ServerError("rejected", msg, resp.status);
  }
  return data;
}

async function status() {
  const c = await config();
  const base = { server: c.server, pairing: c.pairing, settings: await settings() };
  try {
    const s = await call("/api/status");
    if (s.paired) kickFlush();
    return { ...base, reachable: true, paired: Boolean(s.paired), status: s, queue: Queue.summary(await loadQueue()) };
  } catch (e) {
    return { ...base, reachable: false, paired: Boolean(c.token), error: e.message, queue: Queue.summary(await loadQueue()) };
  }
}

async function pairStart() {
  const r = await call("/api/pair", { method: "POST", body: { client: "Cloutlens extension" }, auth: false });
  const pairing = { request: r.request, code: r.code, approveUrl: r.approve_url };
  await chrome.storage.local.set({ pairing });
  return pairing;
}

async function pairPoll() {
  const { pairing } = await config();
  if (!pairing) return { status: "none" };
  let r;
  try {
    r = await call(`/api/pair/${encodeURIComponent(pairing.request)}`, { method: "POST", body: {}, auth: false });
  } catch (e) {
    if (e.status === 404) {
      await chrome.storage.local.remove("pairing");
      return { status: "expired" };
    }
    throw e;
  }
  if (r.status === "approved" && r.token) {
    await chrome.storage.local.set({ token: r.token });
    await chrome.storage.local.remove("pairing");
    return { status: "paired" };
  }
  if (r.status === "denied") await chrome.storage.local.remove("pairing");
  return { status: r.status };
}

// ---- the offline queue: captures made while the server is down wait in extension storage.

// Every change to the stored queue goes through this chain, so two changes never interleave
// between their read and their write.
let queueChain = Promise.resolve();

function withQueue(change) {
  const run = queueChain.then(async () => {
    const q = (await chrome.storage.local.get("queue")).queue;
    const { state, result } = await change(q || Queue.empty());
    if (state) await chrome.storage.local.set({ queue: state });
    return result;
  });
  queueChain = run.catch(() => undefined);
  return run;
}

async function loadQueue() {
  await queueChain;
  return (await chrome.storage.local.get("queue")).queue || Queue.empty();
}

let flushing = null;

// Sends queued captures oldest first, one at a time, removing each as soon as the server has
// acknowledged it. One flush at a time: a second trigger joins the running one instead of
// sending the same entries again.
function flush() {
  if (!flushing) {
    flushing = (async () => {
      let sent = 0;
      for (;;) {
        const entry = Queue.next(await loadQueue());
        if (!entry) break;
        try {
          await call("/api/capture", { method: "POST", body: entry.capture });
        } catch (e) {
          if (e.kind !== "rejected") break; // still down or not paired: keep it for later
          // The server refused this capture for good (invalid): retrying cannot help.
        }
        await withQueue((q) => ({ state: Queue.ack(q, entry.id) }));
        sent += 1;
      }
      if (sent) tellTabs({ type: "server-back" });
      return sent;
    })().finally(() => {
      flushing = null;
    });
  }
  return flushing;
}

// Pages that drew "server not running" badges redraw them once their captures are in.
async function tellTabs(msg) {
  for (const tab of await chrome.tabs.query({})) {
    chrome.tabs.sendMessage(tab.id, msg).catch(() => undefined); // no content script there
  }
}

function kickFlush() {
  loadQueue().then((q) => {
    if (Queue.next(q)) flush().catch(() => undefined);
  });
}

async function capture(cap) {
  try {
    const r = await call("/api/capture", { method: "POST", body: cap });
    kickFlush();
    return r;
  } catch (e) {
    if (e.kind !== "offline") throw e;
    const q = await withQueue((old) => {
      const state = Queue.enqueue(old, cap);
      return { state, result: Queue.summary(state) };
    });
    return { queued: true, queue: q, error: e.message };
  }
}

async function scores(ids) {
  const q = ids.map((i) => `id=${encodeURIComponent(i)}`).join("&");
  const r = await call(`/api/scores?${q}`);
  kickFlush();
  return r;
}

// What the content script of one tab may do. Decided here, from the sender's real URL, not from
// anything the page could influence.
async function pageConfig(sender) {
  const host = hostOf(sender.url || (sender.tab && sender.tab.url) || "");
  const s = await settings();
  const { server } = await config();
  return { host, ...Sites.decide(s, host), badgeStyle: s.badgeStyle, server };
}

async function updateSettings(change) {
  const s = await settings();
  if ("site" in change) {
    const host = Sites.cleanPattern(change.site.host);
    if (!host) throw new Error("not a host name");
    // Only "off" is stored: every other site follows the default.
    if (change.site.enabled) delete s.sites[host];
    else s.sites[host] = false;
  }
  if ("exclude" in change) s.exclude = Sites.parseExclude(Array.isArray(change.exclude) ? change.exclude.join("\n") : change.exclude);
  if ("viewOnly" in change) s.viewOnly = Boolean(change.viewOnly);
  if ("badgeStyle" in change) {
    if (!Sites.STYLES.includes(change.badgeStyle)) throw new Error("unknown badge style");
    s.badgeStyle = change.badgeStyle;
  }
  await chrome.storage.local.set({ settings: s });
  return s;
}

function fromExtensionPage(sender) {
  return !sender.tab || (sender.url || "").startsWith(chrome.runtime.getURL(""));
}

async function handle(msg, sender) {
  switch (msg && msg.type) {
    case "adapters":
      return { adapters: await loadAdapters() };
    case "page-config":
      return pageConfig(sender);
    case "capture": {
      // Enforced here as well as in the content script: a turned-off site never reaches the server.
      const pc = await pageConfig(sender);
      if (!pc.capture) throw new Error(`capture is off here (${pc.reason})`);
      return capture(msg.capture);
    }
    case "scores": {
      const pc = await pageConfig(sender);
      if (!pc.enabled && sender.tab) throw new Error(`Cloutlens is off here (${pc.reason})`);
      return scores(msg.ids);
    }
  }
  // The rest changes the pairing or reveals settings: extension pages only, never a content script.
  if (!fromExtensionPage(sender)) throw new Error("not allowed from a web page");
  switch (msg.type) {
    case "status":
      return status();
    case "pair-start":
      return pairStart();
    case "pair-poll":
      return pairPoll();
    case "set-server": {
      const url = new URL(msg.server);
      if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) throw new Error("the server must be on this machine");
      await chrome.storage.local.set({ server: url.origin });
      kickFlush();
      return { server: url.origin };
    }
    case "settings":
      return settings();
    case "set-settings":
      return updateSettings(msg.change || {});
    case "flush":
      return { sent: await flush(), queue: Queue.summary(await loadQueue()) };
    case "unpair":
      await chrome.storage.local.remove(["token", "pairing"]);
      return { ok: true };
  }
  throw new Error(`unknown message ${msg && msg.type}`);
}

// The server may come back while no page is open: try the queue now and then.
if (chrome.alarms) {
  chrome.alarms.create("cloutlens-flush", { periodInMinutes: 1 });
  chrome.alarms.onAlarm.addListener((a) => {
    if (a.name === "cloutlens-flush") kickFlush();
  });
}

chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  handle(msg, sender).then(
    (result) => sendResponse({ ok: true, result }),
    (e) => sendResponse({ ok: false, error: e.message, kind: e.kind || "error" }),
  );
  return true; // the answer comes asynchronously
});
