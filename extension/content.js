// The content script: page -> items -> (background -> server) -> scores -> badges.
// It runs on every page but does nothing unless an adapter recognises the page's comment markup.
"use strict";

(function () {
  if (globalThis.__cloutlensStarted) return; // injected twice (e.g. by a reload of the extension)
  globalThis.__cloutlensStarted = true;

  const Extract = globalThis.CloutlensExtract;
  const Badges = globalThis.CloutlensBadges;
  const state = { adapter: null, items: 0, people: 0, error: null };

  function send(msg) {
    return chrome.runtime.sendMessage(msg).then((r) => {
      if (!r || !r.ok) {
        const e = new Error((r && r.error) || "no answer from the extension");
        e.kind = r && r.kind;
        throw e;
      }
      return r.result;
    });
  }

  function showError(e) {
    state.error = e.message;
    if (e.kind === "offline") Badges.setStateAll("offline", "Cloutlens: the local server is not running");
    else if (e.kind === "unpaired") Badges.setStateAll("unpaired", "Cloutlens: pair the extension with your server (toolbar icon)");
    else Badges.setStateAll("offline", `Cloutlens: ${e.message}`);
  }

  async function run() {
    const { adapters } = await send({ type: "adapters" });
    const adapter = Extract.pickAdapter(adapters, document, location.href);
    if (!adapter) return;
    state.adapter = adapter.name;
    const { capture, names } = Extract.extract(document, adapter, location.href);
    if (!capture.items.length) return;
    state.items = capture.items.length;
    const badgeFor = new Map(); // itemId -> badge, until the server says who each author is
    for (const n of names) badgeFor.set(n.itemId, { anchor: n.element, handle: n.handle });

    let result;
    try {
      result = await send({ type: "capture", capture });
    } catch (e) {
      // Draw the badges anyway, so the user sees why there are no scores.
      for (const { anchor, handle } of badgeFor.values()) Badges.attach(anchor, `${capture.page.site}:${handle}`);
      showError(e);
      return;
    }
    for (const [itemId, { anchor }] of badgeFor) {
      const identity = result.authors[itemId];
      if (identity) Badges.attach(anchor, identity);
    }
    for (const [identity, summary] of Object.entries(result.scores)) Badges.update(identity, summary);
    state.people = Object.keys(result.scores).length;
  }

  // The popup asks what happened on this page; tests read the closed-root badges the same way.
  chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
    if (sender.id !== chrome.runtime.id) return false;
    if (msg && msg.type === "page-state") {
      sendResponse({ ...state, badges: Badges.read() });
    }
    return false;
  });

  run().catch((e) => {
    state.error = e.message;
  });
})();
