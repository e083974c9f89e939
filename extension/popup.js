// The toolbar popup: is the server there, are we paired, what happened on this page, and the
// switch that turns Cloutlens off (or on) for this site.
"use strict";

function showPairing(pairing) {
  $("pairing").hidden = false;
  if (!pairing) return;
  $("pair-button").hidden = true;
  $("pair-code").hidden = false;
  $("pair-code").textContent = pairing.code;
  $("pair-help").hidden = false;
  $("pair-help").textContent = `Check that the same code shows at ${pairing.approveUrl} (or in the terminal running cloutlens), and approve it there.`;
}

let polling = null;

async function pollPairing() {
  try {
    const r = await ask({ type: "pair-poll" });
    if (r.status === "paired") {
      clearInterval(polling);
      polling = null;
      await refresh();
    } else if (r.status === "denied" || r.status === "expired") {
      clearInterval(polling);
      polling = null;
      $("pair-text").textContent = `Pairing ${r.status}. Try again.`;
      $("pair-button").hidden = false;
      $("pair-code").hidden = true;
      $("pair-help").hidden = true;
    }
  } catch (e) {
    $("pair-text").textContent = e.message;
  }
}

// The tab this popup describes, with its content script's report. Opened from the toolbar, that
// is the active tab; opened as a page of its own (a pinned tab, or a test), it is the tab the
// user was on last.
async function pageState(tab) {
  if (!tab || tab.id === undefined) return null;
  try {
    return await chrome.tabs.sendMessage(tab.id, { type: "page-state" });
  } catch (e) {
    return null; // no content script there (a browser page, or a page loaded before install)
  }
}

async function targetPage() {
  const self = chrome.tabs.getCurrent ? await chrome.tabs.getCurrent() : undefined;
  if (!self) {
    const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
    return { tab, page: await pageState(tab) };
  }
  const others = (await chrome.tabs.query({})).filter((t) => t.id !== self.id);
  others.sort((a, b) => (b.lastAccessed || 0) - (a.lastAccessed || 0));
  for (const tab of others) {
    const page = await pageState(tab);
    if (page) return { tab, page };
  }
  return { tab: null, page: null };
}

function describePage(page) {
  if (!page.enabled) return `Cloutlens is off here: ${page.reason}.`;
  if (!page.adapter) return "No comments recognised on this page.";
  const parts = [];
  parts.push(page.capture ? `${page.items} items captured` : "View-only: nothing captured");
  parts.push(`${page.people} people scored`);
  let s = `${parts.join("; ")} (${page.adapter} adapter).`;
  if (page.queued) s += ` ${page.queued} captures wait for the server.`;
  if (page.error) s += ` Problem: ${page.error}`;
  return s;
}

let currentTab = null;
let currentHost = "";

async function showPage() {
  const { tab, page } = await targetPage();
  currentTab = tab;
  if (!page) {
    $("page").hidden = true;
    $("no-page").hidden = false;
    return;
  }
  $("no-page").hidden = true;
  $("page").hidden = false;
  currentHost = page.host;
  $("page-state").textContent = describePage(page);
  const off = page.reason && page.reason.startsWith("excluded");
  $("site-toggle").checked = page.enabled;
  $("site-toggle").disabled = Boolean(off);
  $("site-toggle-text").textContent = off ? `${page.host} is on your exclude list (Options)` : `Cloutlens on ${page.host}`;
}

async function refresh() {
  const s = await ask({ type: "status" });
  const state = $("server-state");
  state.dataset.ok = String(s.reachable);
  const q = s.queue || { captures: 0, items: 0, dropped: 0 };
  $("queue-state").hidden = !(q.captures || q.dropped);
  $("queue-state").textContent = `${q.items} captured items wait to be sent` + (q.dropped ? `; ${q.dropped} older items were dropped (the queue is full)` : "") + ".";
  if (!s.reachable) {
    state.textContent = `The Cloutlens server is not running at ${s.server}.`;
    $("server-help").hidden = false;
    $("pairing").hidden = true;
  } else {
    $("server-help").hidden = true;
    state.textContent = `Server running (${s.status.items} items, ${s.status.people} people).` + (s.paired ? " Paired." : "");
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
    const pairing = await ask({ type: "pair-start" });
    showPairing(pairing);
    if (!polling) polling = setInterval(pollPairing, 1000);
  } catch (e) {
    $("pair-text").textContent = e.message;
  }
});

$("site-toggle").addEventListener("change", async () => {
  const enabled = $("site-toggle").checked;
  try {
    await ask({ type: "set-settings", change: { site: { host: currentHost, enabled } } });
    if (currentTab) await chrome.tabs.sendMessage(currentTab.id, { type: "config-changed" }).catch(() => null);
    $("site-msg").textContent = enabled ? `Cloutlens is on for ${currentHost}.` : `Cloutlens is off for ${currentHost}: no badges, nothing captured.`;
    await showPage();
  } catch (e) {
    $("site-msg").textContent = e.message;
  }
});

refresh().catch((e) => {
  $("server-state").textContent = e.message;
});
