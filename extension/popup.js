// The toolbar popup: is the server there, are we paired, what happened on this page.
"use strict";

const $ = (id) => document.getElementById(id);

async function ask(msg) {
  const r = await chrome.runtime.sendMessage(msg);
  if (!r || !r.ok) throw new Error((r && r.error) || "no answer from the extension");
  return r.result;
}

function showPairing(pairing) {
  $("pairing").hidden = false;
  if (!pairing) return;
  $("pair-button").hidden = true;
  $("pair-code").hidden = false;
  $("pair-code").textContent = pairing.code;
  $("pair-help").hidden = false;
  $("pair-help").textContent = `Approve this code at ${pairing.approveUrl} (or in the terminal running cloutlens).`;
}

let polling = null;

async function pollPairing() {
  try {
    const r = await ask({ type: "pair-poll" });
    if (r.status === "paired") {
      clearInterval(polling);
      await refresh();
    } else if (r.status === "denied" || r.status === "expired") {
      clearInterval(polling);
      $("pair-text").textContent = `Pairing ${r.status}. Try again.`;
      $("pair-button").hidden = false;
      $("pair-code").hidden = true;
      $("pair-help").hidden = true;
    }
  } catch (e) {
    $("pair-text").textContent = e.message;
  }
}

async function pageState() {
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  if (!tab || tab.id === undefined) return null;
  try {
    return await chrome.tabs.sendMessage(tab.id, { type: "page-state" });
  } catch (e) {
    return null; // no content script there (a browser page, or a site we do not run on)
  }
}

async function refresh() {
  const s = await ask({ type: "status" });
  const state = $("server-state");
  state.dataset.ok = String(s.reachable);
  if (!s.reachable) {
    state.textContent = `The Cloutlens server is not running at ${s.server}. Start it with: cloutlens serve`;
    return;
  }
  state.textContent = `Server running (${s.status.items} items, ${s.status.people} people).` + (s.paired ? " Paired." : "");
  if (!s.paired) {
    showPairing(s.pairing);
    if (s.pairing && !polling) polling = setInterval(pollPairing, 1000);
  } else {
    $("pairing").hidden = true;
  }
  const page = await pageState();
  if (page) {
    $("page").hidden = false;
    $("page-state").textContent = page.adapter
      ? `${page.items} items captured with the ${page.adapter} adapter; ${page.people} people scored.` + (page.error ? ` Problem: ${page.error}` : "")
      : "No comments recognised on this page.";
  }
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

refresh().catch((e) => {
  $("server-state").textContent = e.message;
});
