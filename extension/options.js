// Options: which local server to talk to, and forgetting the pairing token.
"use strict";

const $ = (id) => document.getElementById(id);

async function ask(msg) {
  const r = await chrome.runtime.sendMessage(msg);
  if (!r || !r.ok) throw new Error((r && r.error) || "no answer from the extension");
  return r.result;
}

ask({ type: "status" }).then((s) => {
  $("server").value = s.server;
});

$("server-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const r = await ask({ type: "set-server", server: $("server").value });
    $("server-msg").textContent = `Saved: ${r.server}`;
  } catch (e) {
    $("server-msg").textContent = e.message;
  }
});

$("unpair").addEventListener("click", async () => {
  await ask({ type: "unpair" });
  $("server-msg").textContent = "Token forgotten. Pair again from the toolbar icon.";
});
