// The background worker: the only part of the extension that talks to the Cloutlens server.
// Content scripts hand it captures and ask it for scores; the popup and options pages ask it to
// pair and to report status. The token lives in chrome.storage.local and never leaves this worker
// except in the Authorization header to the configured loopback server.
"use strict";

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
  try {
    const s = await call("/api/status");
    return { reachable: true, paired: Boolean(s.paired), server: c.server, pairing: c.pairing, status: s };
  } catch (e) {
    return { reachable: false, paired: Boolean(c.token), server: c.server, pairing: c.pairing, error: e.message };
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

async function capture(cap) {
  return call("/api/capture", { method: "POST", body: cap });
}

async function scores(ids) {
  const q = ids.map((i) => `id=${encodeURIComponent(i)}`).join("&");
  return call(`/api/scores?${q}`);
}

function fromExtensionPage(sender) {
  return !sender.tab || (sender.url || "").startsWith(chrome.runtime.getURL(""));
}

async function handle(msg, sender) {
  switch (msg && msg.type) {
    case "adapters":
      return { adapters: await loadAdapters() };
    case "capture":
      return capture(msg.capture);
    case "scores":
      return scores(msg.ids);
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
      return { server: url.origin };
    }
    case "unpair":
      await chrome.storage.local.remove(["token", "pairing"]);
      return { ok: true };
  }
  throw new Error(`unknown message ${msg && msg.type}`);
}

chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  handle(msg, sender).then(
    (result) => sendResponse({ ok: true, result }),
    (e) => sendResponse({ ok: false, error: e.message, kind: e.kind || "error" }),
  );
  return true; // the answer comes asynchronously
});
