// Shared by the extension's own pages (popup, options): a message to the background worker,
// which owns the server connection and extension storage, answered or thrown as an Error.
"use strict";

const $ = (id) => document.getElementById(id);

async function ask(msg) {
  const r = await chrome.runtime.sendMessage(msg);
  if (!r || !r.ok) throw new Error((r && r.error) || "no answer from the extension");
  return r.result;
}

const { serveCommand } = CloutlensSites;

// A page of the server the extension is set to (its dashboard, its pairing page): links are made
// from that address, never from one a server's answer names.
function serverPage(server, path) {
  try {
    return new URL(path, server).href;
  } catch (e) {
    return "";
  }
}

// "1 capture waits", "2 captures wait": counts the user reads are in the right number.
function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}
