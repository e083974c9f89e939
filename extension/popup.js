// The toolbar popup: is the server there, are we paired, what happened on this page, and the
// switch that turns Cloutlens on for this site (the browser's permission prompt) or off (the
// permission removed).
"use strict";

// The last status: the server's address the links go to (the one set in Options, not the address
// the server's own answer names), and what the page's waiting captures wait for.
let lastStatus = null;

function showPairing(pairing) {
  $("pairing").hidden = false;
  if (!pairing) return;
  // The button goes: a keyboard's focus on it would fall to the page's top, so it moves on to
  // the link where the code is approved (the code itself is read out: #pair-shown is live).
  const hadFocus = document.activeElement === $("pair-button");
  $("pair-button").hidden = true;
  $("pair-code").hidden = false;
  $("pair-code").textContent = pairing.code;
  $("pair-help").hidden = false;
  const url = serverPage(lastStatus.server, "/pair");
  $("pair-link").href = url;
  $("pair-link").textContent = url;
  if (hadFocus) $("pair-link").focus();
}

let polling = null;

async function pollPairing() {
  try {
    const r = await ask({ type: "pair-poll" });
    if (r.status === "paired") {
      clearInterval(polling);
      polling = null;
      await refresh();
    } else if (r.status !== "pending") {
      clearInterval(polling);
      polling = null;
      // "none": cancelled in Options
      $("pair-text").textContent = r.status === "none" ? "Pairing cancelled." : `Pairing ${r.status}. Try again.`;
      const hadFocus = $("pair-shown").contains(document.activeElement);
      $("pair-button").hidden = false;
      if (hadFocus) $("pair-button").focus();
      $("pair-code").hidden = true;
      $("pair-help").hidden = true;
    }
  } catch (e) {
    $("pair-text").textContent = e.message;
  }
}

// The tab this popup describes, with its content script's report. Opened from the toolbar, that
// is the active tab (the toolbar click lends its address through activeTab, even on a site that
// is not turned on); opened as a page of its own (a pinned tab, or a test), it is the tab the
// user was on last.
async function pageState(tab) {
  if (!tab || tab.id === undefined) return null;
  try {
    return await chrome.tabs.sendMessage(tab.id, { type: "page-state" });
  } catch (e) {
    return null; // no content script there (a site not turned on, a browser page)
  }
}

function webHost(url) {
  try {
    const u = new URL(url || "");
    return u.protocol === "http:" || u.protocol === "https:" ? u.hostname.toLowerCase() : "";
  } catch (e) {
    return "";
  }
}

const LOCAL = ["127.0.0.1", "localhost", "[::1]"];

async function describeTab(tab) {
  const page = await pageState(tab);
  const host = page ? page.host : webHost(tab && tab.url);
  return { tab, page, host };
}

async function targetPage() {
  const self = chrome.tabs.getCurrent ? await chrome.tabs.getCurrent() : undefined;
  if (!self) {
    const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
    return describeTab(tab);
  }
  const others = (await chrome.tabs.query({})).filter((t) => t.id !== self.id);
  others.sort((a, b) => (b.lastAccessed || 0) - (a.lastAccessed || 0));
  for (const tab of others) {
    const d = await describeTab(tab);
    // The dashboard's own tabs are readable through the server permission but are not a site.
    if (d.page || (d.host && !LOCAL.includes(d.host))) return d;
  }
  return { tab: null, page: null, host: "" };
}

// The sites' own names for the adapters that read them; any other (the generic one reads
// schema.org data any site may carry) is "this page".
const SITE_NAMES = {
  discourse: "Discourse", disqus: "Disqus", github: "GitHub", hackernews: "Hacker News", mastodon: "Mastodon",
  reddit: "Reddit", stackexchange: "Stack Exchange", substack: "Substack", wordpress: "WordPress", x: "X",
  youtube: "YouTube",
};

// What the page's captures, if any wait, wait for: a server that runs but holds no pairing
// waits for the user, not for the server.
function waitingFor() {
  const s = lastStatus;
  if (!s || !s.reachable || s.paired) return "for the server";
  return s.pairing ? "for you to approve the pairing code above" : "until you pair Cloutlens with the server (above)";
}

// where: the page's place in the sentence; an embedded comment frame names its own service.
function describePage(page, where) {
  if (!page.enabled) return `Cloutlens is off here: ${page.reason}.`;
  if (!page.adapter) return "No comments recognised on this page.";
  const name = SITE_NAMES[page.adapter];
  where = where || (name ? `on this ${name} page` : "on this page");
  // Captured items are the comments plus, on most sites, the post they are under, which the
  // reader would not count as a comment: the comment elements found bound the count. Found is
  // not yet captured on a long page (comments far below are read as they come near), so the
  // smaller of the two is what is both. A page read whole (schema.org data) finds no elements.
  const found = page.stats && page.stats.commentsSeen;
  const comments = found ? Math.min(found, page.items) : page.items;
  const parts = [];
  if (page.capture) parts.push(`${plural(comments, "comment", "comments")} captured ${where}`);
  else parts.push(found ? `View-only: ${plural(found, "comment", "comments")} ${where}, none captured` : "View-only: nothing captured");
  // people whose badge shows a score, of everyone with a badge (those still waiting: "…", "–", "?")
  parts.push(`${page.counts.scoredPeople} of ${plural(page.people, "person", "people")} scored`);
  let s = `${parts.join("; ")}.`;
  if (page.queued) s += ` ${plural(page.queued, "capture waits", "captures wait")} ${waitingFor()}.`;
  if (page.error) s += ` Problem: ${page.error}`;
  return s;
}

let currentTab = null;
let currentHost = "";
let currentUrl = ""; // the page's address: the demo blog is told apart from the rest of localhost
let currentEmbeds = [];

// Comment services embedded in the page (Disqus) need a grant of their own. The top frame's
// iframes are read with the access the page already gives (its grant, or the toolbar click).
async function frameSources(tab) {
  try {
    const [r] = await chrome.scripting.executeScript({
      target: { tabId: tab.id },
      func: () => [...document.querySelectorAll("iframe[src]")].map((f) => f.src),
    });
    return Array.isArray(r && r.result) ? r.result.filter((u) => typeof u === "string") : [];
  } catch (e) {
    return [];
  }
}

// An embedded comment frame's own report. Only the top page answers an unaddressed question,
// so the frame is named by its address (without the query, which the frame may rewrite).
async function frameState(tab, src) {
  let part = "";
  try {
    const u = new URL(src);
    part = u.host + u.pathname;
  } catch (e) {
    return null;
  }
  try {
    return await chrome.tabs.sendMessage(tab.id, { type: "page-state", url: part, light: true });
  } catch (e) {
    return null;
  }
}

async function showEmbeds(tab) {
  currentEmbeds = [];
  const frames = [];
  const srcs = tab ? await frameSources(tab) : [];
  for (const host of CloutlensSites.embedsIn(srcs)) {
    const st = await ask({ type: "site-state", host });
    if (!st.permitted) {
      if (!String(st.reason || "").startsWith("excluded")) currentEmbeds.push(host);
      continue;
    }
    // Turned on: say what the frame captured, since the page's own counts leave it out.
    for (const src of srcs.filter((u) => CloutlensSites.embedsIn([u]).includes(host))) {
      const fs = await frameState(tab, src);
      if (fs && fs.enabled && fs.adapter) frames.push(describePage(fs, `from ${host} in this page`));
    }
  }
  $("frames-state").textContent = frames.join(" ");
  $("frames-state").hidden = frames.length === 0;
  $("embed").hidden = currentEmbeds.length === 0;
  $("embed-button").textContent = `Turn on ${currentEmbeds.join(", ")} too (this page's comments come from there)`;
}

async function showPage() {
  const { tab, page, host } = await targetPage();
  currentTab = tab;
  if (!host) {
    $("page").hidden = true;
    $("no-page").hidden = false;
    return;
  }
  $("no-page").hidden = true;
  $("page").hidden = false;
  currentHost = host;
  currentUrl = (page && page.url) || (tab && tab.url) || "";
  const site = await ask({ type: "site-state", host, url: currentUrl });
  // The content script's report when there is one; otherwise what the settings and the browser's
  // grants say about the site.
  $("page-state").textContent = page && (page.enabled || site.permitted)
    ? describePage(page)
    : site.permitted ? `Cloutlens is on for ${host}; reload the page to read it.` : `Cloutlens is not turned on for ${host}.`;
  const off = site.reason && site.reason.startsWith("excluded");
  $("site-toggle").checked = site.enabled;
  $("site-toggle").disabled = Boolean(off);
  $("site-toggle").dataset.permitted = String(site.permitted);
  $("site-toggle-text").textContent = off ? `${host} is on your exclude list (Options)`
    : site.demo ? `Cloutlens on ${host} (your server's demo blog: no permission needed)` : `Cloutlens on ${host}`;
  if (!site.permitted && !off && !$("site-msg").textContent) {
    $("site-msg").textContent = `Turning it on asks your browser to let Cloutlens read ${host}.`;
  }
  await showEmbeds(tab);
}
async function refresh() {
  const s = await ask({ type: "status" });
  lastStatus = s;
  const state = $("server-state");
  state.dataset.ok = String(s.reachable);
  const q = s.queue || { captures: 0, items: 0, dropped: 0 };
  $("queue-state").hidden = !(q.captures || q.dropped);
  $("queue-state").textContent = plural(q.items, "comment or post waits", "comments and posts wait") + " to be sent to the server" +
    (q.dropped ? `; ${plural(q.dropped, "older one was", "older ones were")} dropped (the queue is full)` : "") + ".";
  $("dashboard-link").hidden = !s.reachable;
  $("dashboard-link").href = serverPage(s.server, "/");
  if (!s.reachable) {
    state.textContent = `The Cloutlens server is not running at ${s.server}.`;
    $("serve-command").textContent = serveCommand(s.server);
    $("server-help").hidden = false;
    $("pairing").hidden = true;
  } else {
    $("server-help").hidden = true;
    state.textContent = `Server running (${plural(s.status.items, "comment or post", "comments and posts")}, ${plural(s.status.people, "person", "people")}).` + (s.paired ? " Paired." : "") +
      (s.status.busy ? ` Busy with ${s.status.busy}: captures wait in the queue until it is done.` : "");
    if (!s.paired) {
      showPairing(s.pairing);
      if (s.pairing && !polling) polling = setInterval(pollPairing, 1000);
    } else {
      $("pairing").hidden = true;
    }
  }
  await showPage();
}

$("pair-button").addEventListener("click", async () => {
  try {
    // A request already waiting (started in Options) comes back instead of a new one.
    const pairing = await ask({ type: "pair-start" });
    if (pairing.status === "paired") return refresh();
    showPairing(pairing);
    if (!polling) polling = setInterval(pollPairing, 1000);
    // The page's waiting captures now wait for the user's approval: the summary says so.
    lastStatus = { ...lastStatus, pairing };
    await showPage();
  } catch (e) {
    $("pair-text").textContent = e.message;
  }
});

// The browser's prompt opens only from the user's click: permissions.request is called before
// anything else is awaited in the handler (Firefox refuses it once the handler has yielded).
function requestSites(hosts) {
  const origins = hosts.flatMap((h) => CloutlensSites.originsFor(h));
  return chrome.permissions.request({ origins });
}

// The popup may not live to see the answer (Firefox closes it when its prompt opens): the worker
// registers the site and starts its open tabs on permissions.onAdded by itself. What follows here
// only reports, and forgets a stale "off" in the settings.
// url: the page's address, when the one host is the page's own (the demo blog needs no grant).
async function turnOn(hosts, request, url) {
  $("site-msg").textContent = `Waiting for your browser's answer about ${hosts.join(", ")}…`;
  let granted = false;
  try {
    granted = await request;
  } catch (e) {
    $("site-msg").textContent = e.message;
    return false;
  }
  if (!granted) {
    $("site-msg").textContent = `Your browser did not grant ${hosts.join(", ")}: Cloutlens stays off there.`;
    return false;
  }
  // The worker starts Cloutlens in this tab (and any other open tab of these sites) at once.
  for (const host of hosts) await ask({ type: "site-on", host, url });
  $("site-msg").textContent = `Cloutlens is on for ${hosts.join(", ")}.`;
  return true;
}

$("site-toggle").addEventListener("change", async () => {
  const enabled = $("site-toggle").checked;
  const host = currentHost;
  const url = currentUrl;
  // Granted already (under a wider grant, turned off in the settings only): nothing to ask. The
  // browser would prompt again for a pattern it already covers, so it is not asked.
  const granted = $("site-toggle").dataset.permitted === "true";
  const request = enabled ? (granted ? Promise.resolve(true) : requestSites([host])) : null;
  try {
    if (enabled) {
      await turnOn([host], request, url);
    } else {
      const st = await ask({ type: "site-off", host, url });
      if (currentTab) await chrome.tabs.sendMessage(currentTab.id, { type: "config-changed" }).catch(() => null);
      $("site-msg").textContent = st.demo
        ? `Cloutlens is off for ${host}: no badges, nothing captured (the demo blog needs no permission to take back).`
        : `Cloutlens is off for ${host}: no badges, nothing captured, and the browser's permission for it is removed.`;
    }
    await showPage();
  } catch (e) {
    $("site-msg").textContent = e.message;
  }
});

$("embed-button").addEventListener("click", async () => {
  const hosts = currentEmbeds.slice();
  const request = requestSites(hosts);
  try {
    await turnOn(hosts, request);
    await showPage();
  } catch (e) {
    $("site-msg").textContent = e.message;
  }
});

refresh().catch((e) => {
  $("server-state").textContent = e.message;
});
