// Which sites Cloutlens works on, decided from the user's settings. Pure functions, shared by the
// background worker (which enforces them) and node's unit tests.
(function () {
  "use strict";

  const DEFAULTS = { sites: {}, exclude: [], viewOnly: false, badgeStyle: "score" };
  const STYLES = ["score", "dot"];

  // A pattern is a host name; it covers the host and its subdomains. "*.example.com" means the
  // same, written the way people often write it.
  function cleanPattern(p) {
    let s = String(p || "").trim().toLowerCase();
    if (!s || s.startsWith("#")) return "";
    s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//, "").replace(/[/?#].*$/, "").replace(/:\d+$/, "").replace(/^\*\./, "");
    return /^[a-z0-9.-]+$/.test(s) || /^\[[0-9a-f:]+\]$/.test(s) ? s : "";
  }

  function parseExclude(text) {
    const out = [];
    for (const line of String(text || "").split(/[\n,]/)) {
      const p = cleanPattern(line);
      if (p && !out.includes(p)) out.push(p);
    }
    return out;
  }

  function covers(pattern, host) {
    return host === pattern || host.endsWith("." + pattern);
  }

  function settingsOf(raw) {
    const s = Object.assign({}, DEFAULTS, raw || {});
    s.sites = s.sites && typeof s.sites === "object" ? s.sites : {};
    s.exclude = Array.isArray(s.exclude) ? s.exclude.map(cleanPattern).filter(Boolean) : [];
    s.viewOnly = Boolean(s.viewOnly);
    s.badgeStyle = STYLES.includes(s.badgeStyle) ? s.badgeStyle : "score";
    return s;
  }

  // What the content script may do on a host: {enabled, capture, reason}. The exclude list wins
  // over everything; a site the user turned off stays off; anything else is on.
  function decide(raw, host) {
    const s = settingsOf(raw);
    const h = String(host || "").toLowerCase();
    if (!h) return { enabled: false, capture: false, reason: "not a web page" };
    const ex = s.exclude.find((p) => covers(p, h));
    if (ex) return { enabled: false, capture: false, reason: `excluded by "${ex}"` };
    if (s.sites[h] === false) return { enabled: false, capture: false, reason: "turned off for this site" };
    if (s.viewOnly) return { enabled: true, capture: false, reason: "view-only mode: badges without capture" };
    return { enabled: true, capture: true, reason: "" };
  }

  const CloutlensSites = { DEFAULTS, STYLES, cleanPattern, parseExclude, settingsOf, decide };
  globalThis.CloutlensSites = CloutlensSites;
  if (typeof module !== "undefined") module.exports = CloutlensSites;
})();
