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
  // over everything; a site the browser has not granted stays off (the content script can still
  // be running there for a moment after the user removed the permission); a site the user turned
  // off stays off; anything else is on. `permitted` defaults to true for callers that only ask
  // about settings.
  function decide(raw, host, permitted = true) {
    const s = settingsOf(raw);
    const h = String(host || "").toLowerCase();
    if (!h) return { enabled: false, capture: false, reason: "not a web page" };
    const ex = s.exclude.find((p) => covers(p, h));
    if (ex) return { enabled: false, capture: false, reason: `excluded by "${ex}"` };
    if (!permitted) return { enabled: false, capture: false, reason: "not turned on for this site" };
    if (s.sites[h] === false) return { enabled: false, capture: false, reason: "turned off for this site" };
    if (s.viewOnly) return { enabled: true, capture: false, reason: "view-only mode: badges without capture" };
    return { enabled: true, capture: true, reason: "" };
  }

  // ---- host permissions. The browser grants sites as match patterns; the user thinks in host
  // names. A site is asked for on both schemes: the same blog is often reachable on either.

  function originsFor(host) {
    const h = cleanPattern(host);
    return h ? [`*://${h}/*`] : [];
  }

  // The host a granted pattern names ("*://*.example.com/*" -> "*.example.com"), or "" for a
  // pattern that is not about one site (all sites, or not a web scheme).
  function hostOfOrigin(origin) {
    const m = /^(\*|https?):\/\/([^/]+)\/.*$/.exec(String(origin || ""));
    if (!m || m[2] === "*") return "";
    return m[2].replace(/:\d+$/, "").toLowerCase();
  }

  // Whether a granted pattern covers a host (for deciding whether removing it turns a site off).
  function originCovers(origin, host) {
    const m = /^(\*|https?):\/\/([^/]+)\//.exec(String(origin || ""));
    if (!m) return origin === "<all_urls>";
    const p = m[2].replace(/:\d+$/, "").toLowerCase();
    if (p === "*") return true;
    if (p.startsWith("*.")) return covers(p.slice(2), host);
    return p === host;
  }

  // Comment sites the adapters know, offered in Options as one request (still a prompt the user
  // answers, never granted at install). Subdomains included: reddit's old./www., Stack Exchange's
  // per-topic sites, each Substack publication.
  const WELL_KNOWN = [
    "news.ycombinator.com", "reddit.com", "stackexchange.com", "stackoverflow.com", "superuser.com",
    "serverfault.com", "askubuntu.com", "github.com", "disqus.com", "substack.com", "youtube.com",
    "mastodon.social", "meta.discourse.org",
  ];

  function wellKnownOrigins() {
    return WELL_KNOWN.flatMap((h) => [`*://${h}/*`, `*://*.${h}/*`]);
  }

  // Comment services that live in an iframe of the page the user reads: turning the page's site
  // on should offer these too, or the comments stay out of reach.
  const EMBEDS = ["disqus.com"];

  function embedsIn(frameUrls) {
    const out = [];
    for (const u of frameUrls || []) {
      let host = "";
      try {
        host = new URL(u).hostname.toLowerCase();
      } catch (e) {
        continue;
      }
      const e = EMBEDS.find((p) => covers(p, host));
      if (e && !out.includes(e)) out.push(e);
    }
    return out;
  }

  // The command that starts the server where the extension looks for it (7317 by default): the
  // popup, Options and the badges of a page whose server is down all give it.
  function serveCommand(server) {
    let port = "";
    try { port = new URL(server).port; } catch (e) { /* the address is checked when saved */ }
    return port && port !== "7317" ? `cloutlens serve --port ${port}` : "cloutlens serve";
  }

  const CloutlensSites = {
    DEFAULTS, STYLES, WELL_KNOWN, EMBEDS, cleanPattern, parseExclude, settingsOf, decide, covers,
    originsFor, hostOfOrigin, originCovers, wellKnownOrigins, embedsIn, serveCommand,
  };
  globalThis.CloutlensSites = CloutlensSites;
  if (typeof module !== "undefined") module.exports = CloutlensSites;
})();
