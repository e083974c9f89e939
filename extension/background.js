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
    this.kind = kind; // "offline", "unpaired", "busy", "rejected"
    this.status = status;
  }
}

// A busy server names the seconds to wait in Retry-After; bounded, so that a wrong header
// neither hammers it nor leaves the queue for long.
function retryAfterMs(resp) {
  const seconds = Number(resp.headers.get("Retry-After"));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 60) * 1000 : 5000;
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
    noteServer(false);
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
  // 403 bad_origin: the server admits an extension origin it has not pinned (Firefox's
  // moz-extension:// origin is random for each install) only while it is paired, so unpaired,
  // Firefox heard this where Chromium hears 401, and its captures were dropped as refused
  // instead of queued for the pairing, its badges saying "requests from this origin are not
  // accepted" instead of "not paired".
  if (resp.status === 401 || (resp.status === 403 && data && data.error === "bad_origin")) {
    noteServer(false);
    throw new ServerError("unpaired", "not paired with the server", 401);
  }
  if (!resp.ok) {
    const msg = data && data.message ? `${data.field ? data.field + ": " : ""}${data.message}` : `HTTP ${resp.status}`;
    if (Queue.keeps(resp.status)) {
      // Up, but busy (or its disk full): nothing was done. The pages are told to ask again once
      // a call goes through, as after an outage, and queued captures are sent again soon.
      noteServer(false);
      retrySoon(retryAfterMs(resp));
      throw new ServerError("busy", msg, resp.status);
    }
    throw new ServerError("rejected", msg, resp.status);
  }
  // /api/status answers without a token too: only status() knows whether it was accepted.
  if (auth && token && path !== "/api/status") noteServer(true);
  return data;
}

// ---- pages waiting for the server. A page whose badges say "server not running" or "not
// paired" has nothing to retry by itself (a view-only page queues nothing whose flush would wake
// it), so the worker remembers that the server was lost and, as soon as a call with the token
// succeeds again, tells every open page to ask for its scores. Kept in storage: the worker is
// stopped when idle, the pages are not.
let lostKnown = null; // mirrors storage's serverLost once read

async function isLost() {
  if (lostKnown !== null) return lostKnown;
  const stored = Boolean((await chrome.storage.local.get("serverLost")).serverLost);
  if (lostKnown === null) lostKnown = stored; // a change made while reading wins
  return lostKnown;
}

function noteServer(ok) {
  isLost().then(() => {
    // Checked and changed in one synchronous step: two answers at once tell the pages once.
    if (lostKnown === !ok) return;
    lostKnown = !ok;
    chrome.storage.local.set({ serverLost: !ok }).catch(() => undefined);
    if (ok) serverBack();
  }).catch(() => undefined);
}

// Queued captures go in first, then every open page asks for its scores again (flush tells the
// pages itself when it sent something). With nothing sent, only the badges still waiting for the
// server ask (`waiting`): every badge of every page asking after each busy answer of a long
// import made the pages' own look-ups the server's load.
function serverBack() {
  return flush().catch(() => 0).then((sent) => {
    if (!sent) tellTabs({ type: "server-back", waiting: true });
  });
}

async function status() {
  const c = await config();
  // hasToken: Options offers Unpair only when there is a token to give up, and Cancel while a
  // pairing request is merely pending.
  const base = { server: c.server, pairing: c.pairing, hasToken: Boolean(c.token), settings: await settings() };
  try {
    const s = await call("/api/status");
    if (s.paired) {
      noteServer(true);
      kickFlush();
    }
    return { ...base, reachable: true, paired: Boolean(s.paired), status: s, queue: Queue.summary(await loadQueue()) };
  } catch (e) {
    return { ...base, reachable: false, paired: Boolean(c.token), error: e.message, queue: Queue.summary(await loadQueue()) };
  }
}

// ---- pairing. One request per extension: the popup and Options both offer "Pair with server",
// and each click used to make a new request, so the user could approve the code one page showed
// while the worker polled only the newest (the extension stayed unpaired; the server held a
// token nobody had). Starting again while a request is pending returns that request. Every step
// runs one at a time: both pages poll, and a token delivered to one poll must not make the
// other's poll (now a 404) read as "expired".
let pairChain = Promise.resolve();

function pairStep(step) {
  const run = pairChain.then(step);
  pairChain = run.catch(() => undefined);
  return run;
}

function pairStart() {
  return pairStep(async () => {
    const { pairing } = await config();
    if (pairing) {
      const r = await pollRequest();
      if (r.status === "pending") return { ...pairing, status: "pending", reused: true };
      if (r.status === "paired") return { status: "paired" };
      // expired or denied: a new request
    }
    const r = await call("/api/pair", { method: "POST", body: { client: "Cloutlens extension" }, auth: false });
    const fresh = { request: r.request, code: r.code, approveUrl: r.approve_url };
    await chrome.storage.local.set({ pairing: fresh });
    return { ...fresh, status: "pending", reused: false };
  });
}

function pairPoll() {
  return pairStep(pollRequest);
}

async function pollRequest() {
  const { pairing, token } = await config();
  // No request: another page's poll may just have received the token.
  if (!pairing) return { status: token ? "paired" : "none" };
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
    // what was captured before pairing goes in now, and open pages (view-only ones too) ask for
    // their scores
    lostKnown = false;
    await chrome.storage.local.set({ serverLost: false });
    serverBack();
    return { status: "paired" };
  }
  if (r.status === "denied") await chrome.storage.local.remove("pairing");
  return { status: r.status };
}

// Cancel withdraws the pending request on the server (its code leaves the pairing page, and
// approving it can no longer make a token nobody holds) and forgets it here. Offline, it is
// forgotten here only; the page that cancelled says the code stays listed until it expires.
function pairCancel() {
  return pairStep(async () => {
    const { pairing } = await config();
    await chrome.storage.local.remove("pairing");
    if (!pairing) return { cancelled: false, code: null, onServer: false };
    let onServer = false;
    try {
      onServer = Boolean((await call(`/api/pair/${encodeURIComponent(pairing.request)}`,
        { method: "DELETE", auth: false })).withdrawn);
    } catch (e) { /* offline, or already expired or decided there */ }
    return { cancelled: true, code: pairing.code, onServer };
  });
}

// Unpair gives the token up: the server stops accepting it first. Why it could not, when it
// could not, is said apart: no token here at all, the server unreachable (revoke it on the
// dashboard's pairing page), or the server not knowing the token (already revoked there).
function unpair() {
  return pairStep(async () => {
    const { token } = await config();
    if (!token) {
      await chrome.storage.local.remove("pairing");
      return { revoked: false, reason: "no-token" };
    }
    let reason = "revoked";
    try {
      await call("/api/pair", { method: "DELETE" });
    } catch (e) {
      reason = e.kind === "offline" ? "offline" : e.kind === "unpaired" ? "unknown" : "error";
    }
    await chrome.storage.local.remove(["token", "pairing"]);
    return { revoked: reason === "revoked", reason };
  });
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
          if (e.kind !== "rejected") break; // still down, busy or not paired: keep it for later
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

let retryTimer = null;

// After a busy answer: queued captures are sent again; with none queued, the server's status
// (which never waits) is asked until it is free, and then the pages whose score look-ups were
// answered busy ask again. Without it, they waited for the next request that happened to pass,
// up to the minute's alarm.
function retrySoon(ms) {
  if (retryTimer) return;
  retryTimer = setTimeout(() => {
    retryTimer = null;
    loadQueue().then((q) => {
      if (Queue.next(q)) return flush();
      return call("/api/status").then((s) => {
        if (s.busy) retrySoon(ms);
        else if (s.paired) noteServer(true);
      });
    }).catch(() => undefined);
  }, ms);
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
    // Down, busy, or not paired yet: the capture waits in the queue, sent once the server takes
    // it (pairing flushes it), instead of being lost with the page.
    if (e.kind !== "offline" && e.kind !== "unpaired" && e.kind !== "busy") throw e;
    const q = await withQueue((old) => {
      const state = Queue.enqueue(old, cap);
      return { state, result: Queue.summary(state) };
    });
    return { queued: true, unpaired: e.kind === "unpaired", busy: e.kind === "busy", queue: q, error: e.message };
  }
}

async function scores(ids) {
  const q = ids.map((i) => `id=${encodeURIComponent(i)}`).join("&");
  const r = await call(`/api/scores?${q}`);
  kickFlush();
  return r;
}

// What the content script of one frame may do. Decided here, from the sender's real URL, not from
// anything the page could influence. A frame needs its own site granted (a Disqus thread inside a
// blog needs disqus.com); the exclude list and the off switch of the tab's site apply to the
// frames inside it as well.
async function pageConfig(sender) {
  const url = sender.url || (sender.tab && sender.tab.url) || "";
  const host = hostOf(url);
  const s = await settings();
  const { server } = await config();
  let decision = Sites.decide(s, host, await permitted(url, server));
  const top = hostOf((sender.tab && sender.tab.url) || "");
  if (decision.enabled && top && top !== host) {
    const outer = Sites.decide(s, top);
    if (!outer.enabled) decision = { ...outer, reason: `${outer.reason} (${top}, around this frame)` };
  }
  return { host, ...decision, badgeStyle: s.badgeStyle, server, serve: Sites.serveCommand(server) };
}

// ---- where the content script runs: the sites the browser granted, nothing else.
//
// Nothing is granted at install: optional_host_permissions covers every site, and a site is
// granted only when the user turns it on (popup or Options), through the browser's own prompt.
// Each granted pattern gets a registered content script of its own, so removing one site removes
// exactly its script. All frames: comment services such as Disqus live in an iframe.

const CONTENT_JS = ["extract.js", "badge.js", "content.js"];
const SITE_SCRIPT = "site:"; // id prefix; the rest of the id is the granted pattern
const LOOPBACK = ["http://127.0.0.1/*", "http://localhost/*"]; // the server's API, not a site
// The local server's demo blog is badged with no grant: it is the user's own server, already
// reachable through the loopback permission. Any loopback port matches the pattern; pageConfig
// turns away pages that are not on the configured server's port.
const DEMO_SCRIPT = { id: "local-demo", matches: ["http://127.0.0.1/demo/*", "http://localhost/demo/*"] };

function isLoopback(host) {
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
}

async function permitted(url, server) {
  let u;
  try {
    u = new URL(url);
  } catch (e) {
    return false;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return false;
  if (isLoopback(u.hostname)) {
    const s = new URL(server);
    return u.protocol === "http:" && (u.port || "80") === (s.port || "80") && u.pathname.startsWith("/demo/");
  }
  return chrome.permissions.contains({ origins: [`${u.protocol}//${u.hostname}/*`] });
}

function siteOrigins(perms) {
  return (perms.origins || []).filter((o) => !LOOPBACK.includes(o));
}

function scriptSpec(id, matches) {
  return { id, matches, js: CONTENT_JS, runAt: "document_idle", allFrames: true, persistAcrossSessions: true };
}

function sameScript(a, b) {
  return JSON.stringify([a.matches, a.js, Boolean(a.allFrames)]) === JSON.stringify([b.matches, b.js, Boolean(b.allFrames)]);
}

async function register(specs) {
  try {
    await chrome.scripting.registerContentScripts(specs);
  } catch (e) {
    // A browser that cannot keep registrations across restarts still runs them this session;
    // the sync at every start registers them again.
    if (!/persist/i.test(e.message || "")) throw e;
    await chrome.scripting.registerContentScripts(specs.map((x) => ({ ...x, persistAcrossSessions: false })));
  }
}

// Makes the registered content scripts match the granted sites exactly. Runs at every start of
// the background worker (registrations can be lost with an update, or never persisted) and after
// every grant or removal; one run at a time, so two events never register the same id twice.
let syncChain = Promise.resolve();

function syncScripts() {
  const run = syncChain.then(async () => {
    const want = new Map([[DEMO_SCRIPT.id, scriptSpec(DEMO_SCRIPT.id, DEMO_SCRIPT.matches)]]);
    for (const o of siteOrigins(await chrome.permissions.getAll())) want.set(SITE_SCRIPT + o, scriptSpec(SITE_SCRIPT + o, [o]));
    const have = await chrome.scripting.getRegisteredContentScripts();
    const stale = have.filter((x) => !want.has(x.id) || !sameScript(x, want.get(x.id))).map((x) => x.id);
    if (stale.length) await chrome.scripting.unregisterContentScripts({ ids: stale });
    const kept = new Set(have.map((x) => x.id).filter((id) => !stale.includes(id)));
    const missing = [...want.values()].filter((x) => !kept.has(x.id));
    if (missing.length) await register(missing);
    return [...want.keys()];
  });
  syncChain = run.catch(() => undefined);
  return run;
}

// Starts Cloutlens in the open tabs of newly granted sites, so the user need not reload. Frames
// where the content script already runs (stopped, because the site was off) are told to look
// again; the others get the scripts injected. Only frames of the granted sites are touched: the
// loopback permission also reaches the dashboard's pages, which are not for badges.
async function activateTabs(origins) {
  const sites = origins.filter((o) => !LOOPBACK.includes(o));
  if (!sites.length) return 0;
  // A frame of a granted site inside a tab of another site (Disqus inside a blog) does not make
  // the tab's own address match: every tab is probed, and the browser only lets the probe into
  // frames this extension may read.
  let started = 0;
  for (const tab of await chrome.tabs.query({})) started += await activateTab(tab.id, sites).catch(() => 0);
  return started;
}

// One grant can start two activations (permissions.onAdded, and the page that asked following
// up): they run one after the other, and a frame activated moments ago is left alone rather
// than injected twice or restarted.
let activationChain = Promise.resolve();
const recentlyActivated = new Map(); // "tab:frame:url" -> time

function activateTab(tabId, origins) {
  const run = activationChain.then(() => activateFrames(tabId, origins));
  activationChain = run.catch(() => undefined);
  return run;
}

async function activateFrames(tabId, origins) {
  const probe = await chrome.scripting.executeScript({
    target: { tabId, allFrames: true },
    func: () => ({ started: Boolean(globalThis.__cloutlensStarted), url: location.href }),
  });
  const now = Date.now();
  for (const [k, t] of recentlyActivated) if (now - t > 5000) recentlyActivated.delete(k);
  const ours = probe.filter((r) => r.result && origins.some((o) => Sites.originCovers(o, hostOf(r.result.url))))
    .filter((r) => !recentlyActivated.has(`${tabId}:${r.frameId}:${r.result.url}`));
  for (const r of ours) recentlyActivated.set(`${tabId}:${r.frameId}:${r.result.url}`, now);
  const fresh = ours.filter((r) => !r.result.started).map((r) => r.frameId);
  const running = ours.filter((r) => r.result.started).map((r) => r.frameId);
  for (const frameId of running) {
    chrome.tabs.sendMessage(tabId, { type: "config-changed" }, { frameId }).catch(() => undefined);
  }
  if (fresh.length) await chrome.scripting.executeScript({ target: { tabId, frameIds: fresh }, files: CONTENT_JS });
  return fresh.length + running.length;
}

// After a site lost its permission its content script is still loaded in open tabs (browsers
// do not unload it). It already gets nothing from this worker; this makes it drop its badges now.
// The demo blog, turned off or on in the settings, is told the same way to look again.
async function reconfigureTabs(origins) {
  for (const tab of await chrome.tabs.query({})) {
    let st = null;
    try {
      st = await chrome.tabs.sendMessage(tab.id, { type: "page-state", light: true });
    } catch (e) {
      continue; // no content script there
    }
    if (st && origins.some((o) => Sites.originCovers(o, st.host))) {
      chrome.tabs.sendMessage(tab.id, { type: "config-changed" }).catch(() => undefined);
    }
  }
}

// url (optional): the page asked about. The demo blog on the configured server runs under the
// loopback permission with no grant of its own: asked about by host alone, the popup showed it
// "not turned on" (and offered the browser's prompt) while it showed scores.
async function siteState(host, url) {
  const h = Sites.cleanPattern(host);
  const s = await settings();
  if (url && isLoopback(hostOf(url)) && (await permitted(url, (await config()).server))) {
    return { host: h, permitted: true, demo: true, origins: [], ...Sites.decide(s, h, true) };
  }
  const perms = await chrome.permissions.getAll();
  const origins = siteOrigins(perms);
  const covering = origins.filter((o) => Sites.originCovers(o, h));
  return { host: h, permitted: covering.length > 0, origins: covering, ...Sites.decide(s, h, covering.length > 0) };
}

async function sitesReport() {
  const origins = siteOrigins(await chrome.permissions.getAll());
  const registered = await chrome.scripting.getRegisteredContentScripts();
  const s = await settings();
  return {
    sites: origins.map((o) => {
      const host = Sites.hostOfOrigin(o);
      const d = host ? Sites.decide(s, host.replace(/^\*\./, "")) : { enabled: true, reason: "" };
      return { origin: o, host, registered: registered.some((x) => x.id === SITE_SCRIPT + o), enabled: d.enabled, reason: d.reason };
    }),
    settings: s,
  };
}

// The user turned a site on and the browser granted it (the prompt belongs to the page that was
// clicked; this only follows up): a stale "off" is forgotten, the script is registered, and the
// open tabs start at once.
async function siteOn(host, url) {
  const st = await siteState(host, url);
  if (!st.permitted) throw new Error(`the browser has not granted ${st.host}`);
  const s = await settings();
  if (s.sites[st.host] === false) {
    delete s.sites[st.host];
    await chrome.storage.local.set({ settings: s });
  }
  await syncScripts();
  await activateTabs(st.origins);
  if (st.demo) await reconfigureTabs(Sites.originsFor(st.host)); // its script is there, stopped
  return siteState(st.host, url);
}

// A grant is the user turning those sites on: an "off" kept in the settings for them is stale.
async function forgetOff(origins) {
  const s = await settings();
  const stale = Object.keys(s.sites).filter((h) => s.sites[h] === false && origins.some((o) => Sites.originCovers(o, h)));
  if (!stale.length) return;
  for (const h of stale) delete s.sites[h];
  await chrome.storage.local.set({ settings: s });
}

// Off means the browser takes the permission back. A site covered by a broader grant (a
// "*.example.com" pattern, or one granted from the browser's own settings) cannot lose its own
// part of it: that one is remembered as off in the settings instead.
async function siteOff(host, url) {
  const st = await siteState(host, url);
  // The host's own patterns, its subdomains' included (the well-known sites are granted both ways).
  const own = st.origins.filter((o) => [st.host, `*.${st.host}`].includes(Sites.hostOfOrigin(o)));
  if (own.length) await chrome.permissions.remove({ origins: own });
  const after = await siteState(st.host, url);
  if (after.permitted) {
    const s = await settings();
    s.sites[st.host] = false;
    await chrome.storage.local.set({ settings: s });
  }
  await syncScripts();
  await reconfigureTabs(st.origins.length ? st.origins : Sites.originsFor(st.host));
  return siteState(st.host, url);
}

async function removeOrigin(origin) {
  if (LOOPBACK.includes(origin)) throw new Error("the local server's address is not a site");
  await chrome.permissions.remove({ origins: [origin] });
  await syncScripts();
  await reconfigureTabs([origin]);
  return sitesReport();
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
    case "sites":
      return sitesReport();
    case "site-state":
      return siteState(msg.host, msg.url);
    case "site-on":
      return siteOn(msg.host, msg.url);
    case "site-off":
      return siteOff(msg.host, msg.url);
    case "remove-origin":
      return removeOrigin(String(msg.origin || ""));
    case "flush":
      return { sent: await flush(), queue: Queue.summary(await loadQueue()) };
    case "pair-cancel":
      return pairCancel();
    case "unpair":
      return unpair();
  }
  throw new Error(`unknown message ${msg && msg.type}`);
}

// The server may come back while no page is open: try the queue now and then.
if (chrome.alarms) {
  // Created only when missing: creating replaces the alarm and restarts its minute, and the
  // background starts again after every idle stop (Firefox's event page after 30 s), so a
  // background woken more often than once a minute never heard it. In Firefox, with the server
  // back, the queue and the pages' "server not running" badges waited over two minutes.
  chrome.alarms.get("cloutlens-flush").then((a) => {
    if (!a || a.periodInMinutes !== 1) chrome.alarms.create("cloutlens-flush", { periodInMinutes: 1 });
  }).catch(() => chrome.alarms.create("cloutlens-flush", { periodInMinutes: 1 }));
  chrome.alarms.onAlarm.addListener((a) => {
    // While pages wait for a lost server, this is also what notices it is back.
    if (a.name === "cloutlens-flush") isLost().then((lost) => (lost ? status() : kickFlush())).catch(() => undefined);
  });
}

if (chrome.permissions && chrome.permissions.onAdded) {
  chrome.permissions.onAdded.addListener((p) => {
    const origins = p.origins || [];
    forgetOff(origins)
      .then(() => syncScripts())
      .then(() => activateTabs(origins))
      .catch(() => undefined);
  });
  chrome.permissions.onRemoved.addListener((p) => {
    syncScripts().then(() => reconfigureTabs(p.origins || []), () => undefined).catch(() => undefined);
  });
}
syncScripts().catch(() => undefined);

chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  handle(msg, sender).then(
    (result) => sendResponse({ ok: true, result }),
    (e) => sendResponse({ ok: false, error: e.message, kind: e.kind || "error" }),
  );
  return true; // the answer comes asynchronously
});
