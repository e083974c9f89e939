// Options: the local server, pairing, where Cloutlens runs, view-only mode and the badge style.
// Every change goes through the background worker, which owns extension storage; only the
// browser's permission prompt is opened from here, because it needs the user's click.
"use strict";

// A field the user is in, or typed in and has not saved, keeps what they typed: the page's own
// load, and the refresh after every change, would otherwise overwrite it (a fill racing the load
// once left two addresses in the server field, and an exclude list typed early was saved empty).
const edited = new Set();
for (const id of ["server", "exclude", "view-only", "badge-style"]) $(id).addEventListener("input", () => edited.add($(id)));

function showValue(el, value) {
  if (el === document.activeElement || edited.has(el)) return;
  if (el.type === "checkbox") el.checked = value;
  else el.value = value;
}

function showSettings(s) {
  const list = $("sites-off");
  const off = Object.keys(s.sites).filter((h) => s.sites[h] === false).sort();
  list.replaceChildren();
  for (const host of off) {
    const li = document.createElement("li");
    li.className = "site";
    li.dataset.host = host;
    const name = document.createElement("span");
    name.textContent = `${host} `;
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = "Turn back on";
    // Read alone (a screen reader's list of buttons), each says which site it is for.
    btn.setAttribute("aria-label", `Turn ${host} back on`);
    btn.addEventListener("click", async () => {
      await ask({ type: "set-settings", change: { site: { host, enabled: true } } });
      await loadSites();
    });
    li.append(name, btn);
    list.append(li);
  }
  $("sites-off-part").hidden = off.length === 0;
  showValue($("exclude"), s.exclude.join("\n"));
  showValue($("view-only"), s.viewOnly);
  showValue($("badge-style"), s.badgeStyle);
}

let granted = [];

function showGranted(report) {
  granted = report.sites.map((x) => x.origin);
  const list = $("granted");
  list.replaceChildren();
  for (const site of report.sites) {
    const li = document.createElement("li");
    li.className = "granted";
    li.dataset.origin = site.origin;
    li.dataset.host = site.host;
    const name = document.createElement("span");
    const label = site.host || "every site";
    name.textContent = site.enabled ? `${label} ` : `${label} (off: ${site.reason}) `;
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = "Remove";
    btn.setAttribute("aria-label", `Remove ${label}`);
    btn.addEventListener("click", async () => {
      try {
        showGranted(await ask({ type: "remove-origin", origin: site.origin }));
        $("sites-msg").textContent = `Removed: Cloutlens no longer reads ${label}.`;
      } catch (e) {
        $("sites-msg").textContent = e.message;
      }
    });
    li.append(name, btn);
    list.append(li);
  }
  $("granted-none").hidden = report.sites.length > 0;
}

async function loadSites() {
  const report = await ask({ type: "sites" });
  showGranted(report);
  showSettings(report.settings);
}

// permissions.request runs first thing in the click's handler: the prompt needs the user's gesture.
async function grant(label, origins, hosts) {
  // Chromium prompts again for a pattern a wider grant already covers: such a site is not asked.
  const covered = hosts.every((h) => granted.some((o) => CloutlensSites.originCovers(o, h)));
  const request = covered ? Promise.resolve(true) : chrome.permissions.request({ origins });
  $("sites-msg").textContent = `Waiting for your browser's answer about ${label}…`;
  try {
    if (!(await request)) {
      $("sites-msg").textContent = `Your browser did not grant ${label}.`;
      return;
    }
    for (const host of hosts) await ask({ type: "site-on", host });
    $("sites-msg").textContent = `Turned on: ${label}.`;
  } catch (e) {
    $("sites-msg").textContent = e.message;
  }
  await loadSites();
}

$("add-site-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const host = CloutlensSites.cleanPattern($("add-site").value);
  if (!host) {
    $("sites-msg").textContent = "Not a host name (for example: blog.example.com).";
    return;
  }
  grant(host, CloutlensSites.originsFor(host), [host]);
});

$("well-known-list").textContent = CloutlensSites.WELL_KNOWN.join(", ") + " (and their subdomains).";
$("well-known").addEventListener("click", () => {
  grant("the well-known comment sites", CloutlensSites.wellKnownOrigins(), CloutlensSites.WELL_KNOWN);
});

let polling = null;
const SERVER_RECHECK_MS = 3000;

// One pending request per extension (the worker keeps it): while it waits, this page shows its
// code and offers Cancel, not another "Pair with server" (each click used to add a code the user
// could approve while the worker waited for another). Unpair only when there is a token.
function showPairState(s) {
  const pending = Boolean(s.pairing) && !s.paired;
  $("pair-state").textContent = !s.reachable
    ? `The server at ${s.server} is not running; start it with: ${serveCommand(s.server)}. ` +
      "Running it on another port? Enter its address under Server above and save."
    : s.paired ? "Paired with the server." : pending ? "Not paired yet: waiting for you to approve the code below." : "Not paired.";
  // A button that goes while it has the keyboard's focus would drop it to the page's top: the
  // focus moves to the one that takes its place (Pair -> Cancel, Cancel or Unpair -> Pair).
  const had = document.activeElement;
  $("pair-button").hidden = Boolean(s.paired) || pending;
  $("pair-cancel").hidden = !pending;
  $("unpair").hidden = !s.hasToken;
  if (had && had.hidden && ["pair-button", "pair-cancel", "unpair"].includes(had.id)) {
    const next = ["pair-cancel", "pair-button", "unpair"].map($).find((b) => !b.hidden);
    if (next) next.focus();
  }
  if (pending) {
    showCode(s.pairing, s.server);
    if (!polling) polling = setInterval(pollPairing, 1000);
  } else {
    stopPolling();
    // Paired through the popup's poll, this page's own may never see the answer: the line goes here.
    $("pair-code").hidden = true;
    $("pair-help").hidden = true;
  }
}

// The pair state shown is the one the newest status call found. Calls overlap (the page's load, a
// save, each pairing step), and an older one answering late (its server timed out after 5 s)
// once replaced a code still waiting with "not running" and stopped the polling that would
// have seen the approval: the page never said it was paired.
let pairStateAsked = 0;
let recheck = null;

async function refreshPairState() {
  const asked = ++pairStateAsked;
  const s = await ask({ type: "status" });
  if (asked === pairStateAsked) {
    showPairState(s);
    // Not running: look again now and then, so the page notices the server once it is started.
    clearTimeout(recheck);
    recheck = s.reachable ? null : setTimeout(() => refreshPairState().catch(() => {}), SERVER_RECHECK_MS);
  }
  return s;
}

// Pairing, unpairing or another server from another page (the popup) shows here too.
chrome.storage.onChanged.addListener((changes, area) => {
  if (area === "local" && ("token" in changes || "pairing" in changes || "server" in changes)) {
    refreshPairState().catch(() => {});
  }
});

function stopPolling() {
  clearInterval(polling);
  polling = null;
}

function showCode(pairing, server) {
  $("pair-code").hidden = false;
  $("pair-code").textContent = pairing.code;
  $("pair-help").hidden = false;
  const url = serverPage(server, "/pair");
  $("pair-link").href = url;
  $("pair-link").textContent = url;
}

async function pollPairing() {
  try {
    const r = await ask({ type: "pair-poll" });
    if (r.status === "pending") return;
    stopPolling();
    $("pair-help").hidden = true;
    // "none": cancelled from another page; nothing to report here
    if (r.status === "denied" || r.status === "expired") $("pair-msg").textContent = `Pairing ${r.status}. Try again.`;
    await refreshPairState();
  } catch (e) {
    $("pair-msg").textContent = e.message;
  }
}

async function load() {
  const s = await refreshPairState();
  showValue($("server"), s.server);
  showSettings(s.settings);
  await loadSites();
}

$("server-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const r = await ask({ type: "set-server", server: $("server").value });
    edited.delete($("server"));
    $("server-msg").textContent = `Saved: ${r.server}`;
    await refreshPairState();
  } catch (e) {
    $("server-msg").textContent = e.message;
  }
});

$("pair-button").addEventListener("click", async () => {
  try {
    const r = await ask({ type: "pair-start" });
    $("pair-msg").textContent = r.reused ? "A pairing was already waiting: approve this code (the same one the toolbar popup shows)." : "";
    await refreshPairState();
  } catch (e) {
    $("pair-msg").textContent = e.message;
  }
});

$("pair-cancel").addEventListener("click", async () => {
  try {
    const r = await ask({ type: "pair-cancel" });
    $("pair-help").hidden = true;
    // Withdrawn on the server, or (offline) only here: then say where the code can still be
    // approved, rather than pretend it is gone.
    $("pair-msg").textContent = !r.cancelled ? "No pairing was waiting."
      : r.onServer ? `Pairing cancelled: code ${r.code} is withdrawn from the server's pairing page.`
        : `Pairing cancelled here: this extension no longer waits for code ${r.code}. The server could not be told; it lists the code on its pairing page until it expires: deny it there.`;
    await refreshPairState();
  } catch (e) {
    $("pair-msg").textContent = e.message;
  }
});

const UNPAIRED = {
  revoked: "Unpaired: the server no longer accepts the token. Pair again to see scores.",
  offline: "Token deleted here; the server could not be reached: revoke it on its pairing page.",
  unknown: "Token deleted here; the server did not know it (already revoked there).",
  error: "Token deleted here; the server refused to revoke it: check its pairing page.",
  "no-token": "Nothing to unpair: this extension holds no token.",
};

$("unpair").addEventListener("click", async () => {
  try {
    const r = await ask({ type: "unpair" });
    $("pair-msg").textContent = UNPAIRED[r.reason] || UNPAIRED.error;
    await refreshPairState();
  } catch (e) {
    $("pair-msg").textContent = e.message;
  }
});

$("exclude-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const s = await ask({ type: "set-settings", change: { exclude: $("exclude").value } });
    edited.delete($("exclude"));
    await loadSites();
    $("exclude-msg").textContent = s.exclude.length ? `Saved: ${s.exclude.join(", ")}` : "Saved: nothing excluded.";
  } catch (e) {
    $("exclude-msg").textContent = e.message;
  }
});

$("view-only").addEventListener("change", async () => {
  const s = await ask({ type: "set-settings", change: { viewOnly: $("view-only").checked } });
  edited.delete($("view-only"));
  $("behaviour-msg").textContent = s.viewOnly ? "Saved: view-only (applies to pages you open or reload)." : "Saved: capturing.";
});

$("badge-style").addEventListener("change", async () => {
  const s = await ask({ type: "set-settings", change: { badgeStyle: $("badge-style").value } });
  edited.delete($("badge-style"));
  $("behaviour-msg").textContent = `Saved: ${s.badgeStyle} badges.`;
});

load().catch((e) => {
  $("server-msg").textContent = e.message;
});
