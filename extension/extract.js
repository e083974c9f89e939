// Cloutlens extraction engine (JS): applies a declarative site adapter to a document and returns
// a capture (contract v1) plus, for each item, the element holding the author's name.
//
// server/extract.py is the same engine in Python; tests/adapters/test_conformance.py runs both on
// the same pages and requires identical items, so every rule here has a twin there. When changing
// one, change the other. The rule language is documented in docs/adapters.md.
//
// Page content is hostile: this file only reads textContent-equivalents (text nodes) and
// attributes, never innerHTML or any other HTML-parsing sink. JSON-LD is read with JSON.parse.
// A classic script (no modules): it is loaded as an MV3 content script before content.js.
(function () {
  "use strict";

  var TEXT_MAX = 2000;
  var HANDLE_MAX = 100;
  var NAME_MAX = 200;
  var URL_MAX = 2048;
  var TITLE_MAX = 500;
  var ID_MAX = 256;
  var MENTIONS_MAX = 50;

  // An explicit whitespace class, because JS's \s and Python's \s differ; the Python twin uses
  // exactly this class.
  var WS = "[\\t\\n\\u000b\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]";
  // Runs that need rewriting: a lone plain space is left alone, so text with ordinary spacing
  // comes back as the same string without a copy. The result is the same as WS+ -> " ".
  var WS_NOT_SPACE = "[\\t\\n\\u000b\\f\\r\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]";
  var WS_RUN = new RegExp("(?: " + WS + "+|" + WS_NOT_SPACE + WS + "*)", "g");
  var WS_EDGE = new RegExp("^" + WS + "+|" + WS + "+$", "g");
  // Control characters and bidi overrides/isolates (which let a name display as something else).
  var CTRL = /[\u0000-\u0008\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g;

  // Text inside these is never what a reader sees as a comment's words.
  var SKIP_TAGS = { script: 1, style: 1, noscript: 1, template: 1, textarea: 1, select: 1, svg: 1, button: 1 };
  // Block boundaries become line breaks in "block" text, so paragraphs do not run together.
  var BLOCK_TAGS = {};
  ("address article aside blockquote br dd details dialog div dl dt fieldset figcaption figure footer " +
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody thead tfoot tr td th ul")
    .split(" ").forEach(function (t) { BLOCK_TAGS[t] = 1; });

  // Anything clean() would remove or rewrite; most names and sentences hold none of it, and one
  // search is cheaper than two replacements.
  var DIRTY = /[\u0000-\u001f\u007f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202a-\u202f\u205f\u2066-\u2069\u3000\ufeff]|  /;

  function clean(s) {
    // After the runs are collapsed, trimming is one space at either end: cheaper than a regex.
    var t = DIRTY.test(s) ? s.replace(CTRL, "").replace(WS_RUN, " ") : s;
    // A page's script can put a lone surrogate in a name or a comment (an HTML parser never
    // makes one). JSON cannot carry it: the server refused the whole capture as invalid, every
    // other comment of the batch with it. U+FFFD is what a parser makes of &#xD800;.
    if (!t.isWellFormed()) t = t.toWellFormed();
    var a = t.charCodeAt(0) === 32 ? 1 : 0;
    var b = t.length > a && t.charCodeAt(t.length - 1) === 32 ? t.length - 1 : t.length;
    return a || b < t.length ? t.slice(a, b) : t;
  }

  // Cap by code points, as Python (and JSON Schema's maxLength) counts them.
  function cap(s, n) {
    if (s.length <= n) return s;
    var out = "", count = 0;
    for (var ch of s) {
      if (count === n) break;
      out += ch;
      count++;
    }
    return out;
  }

  // Descendants that make an element's text differ from its textContent: left-out tags, block
  // boundaries, and MathML (which may hold CDATA, text to textContent but not to the walk). Where
  // none is inside, textContent gives the walk's text without visiting a node from script: the
  // walk wraps every node it touches in a JS object, which is most of a cold first run's cost.
  var STRUCTURE = Object.keys(SKIP_TAGS).concat(Object.keys(BLOCK_TAGS), ["math"]).join(",");
  var structureSel = new Map();

  function plainInside(el, skip) {
    if (el.firstElementChild === null) return true;
    var sel = STRUCTURE;
    if (skip) {
      sel = structureSel.get(skip);
      if (sel === undefined) {
        sel = STRUCTURE + "," + skip;
        structureSel.set(skip, sel);
      }
    }
    try {
      return el.querySelector(sel) === null;
    } catch (e) {
      return false;
    }
  }

  // The walk's state: finished lines and the line being gathered.
  function TextWalk(skip) {
    this.skip = skip;
    this.lines = [];
    this.cur = "";
  }
  TextWalk.prototype.brk = function () {
    this.lines.push(this.cur);
    this.cur = "";
  };
  TextWalk.prototype.walk = function (node) {
    for (var c = node.firstChild; c; c = c.nextSibling) {
      var t = c.nodeType;
      if (t === 3) this.cur += c.data;
      else if (t === 1) {
        var n = c.localName;
        if (SKIP_TAGS[n] === 1) continue;
        if (this.skip && c.matches(this.skip)) continue;
        var b = BLOCK_TAGS[n] === 1;
        if (b) this.brk();
        // A leaf's text is its textContent (MathML aside): no need to visit its text nodes.
        if (c.firstElementChild === null && n !== "math") this.cur += c.textContent;
        else this.walk(c);
        if (b) this.brk();
      }
    }
  };

  function textOf(root, skip, block) {
    var only = root.firstChild;
    // Most names and many comments are a single text node.
    if (only && only.nodeType === 3 && only.nextSibling === null) return clean(only.data);
    if (plainInside(root, skip)) return clean(root.textContent);
    var w = new TextWalk(skip);
    w.walk(root);
    w.brk();
    var out = "";
    for (var i = 0; i < w.lines.length; i++) {
      var l = clean(w.lines[i]);
      if (l) out = out ? out + (block ? "\n" : " ") + l : l;
    }
    return out;
  }

  var reCache = new Map();
  function regex(src, global) {
    var key = (global ? "g:" : ":") + src;
    var r = reCache.get(key);
    if (!r) {
      r = new RegExp(src, global ? "gu" : "u");
      reCache.set(key, r);
    }
    return r;
  }

  // ---- URLs: resolved by hand (not with URL()) so that both engines give the same string.
  var ABS_HTTP = /^https?:\/\//i;
  var SCHEME = /^[a-zA-Z][a-zA-Z0-9+.\-]*:/;
  var WAYBACK = /^https?:\/\/web\.archive\.org\/web\/[0-9]+[a-z_]*\/(https?:\/\/.*)$/i;

  function unwrapArchive(u) {
    var m = WAYBACK.exec(u);
    return m ? m[1] : u;
  }

  function splitUrl(u) {
    // -> [origin, path, query, fragment] for an absolute http(s) URL
    var m = /^(https?:\/\/[^\/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(u);
    if (!m) return null;
    return [m[1], m[2] || "/", m[3] || "", m[4] || ""];
  }

  function removeDots(path) {
    if (path.indexOf("/.") < 0 && path[0] !== ".") return path;
    var segs = path.split("/");
    var out = [];
    for (var i = 0; i < segs.length; i++) {
      var s = segs[i];
      if (s === ".") {
        if (i === segs.length - 1) out.push("");
      } else if (s === "..") {
        if (out.length > 1) out.pop();
        if (i === segs.length - 1) out.push("");
      } else out.push(s);
    }
    return out.join("/");
  }

  // The page's address split once: every relative link on the page resolves against it.
  var lastBase = null;
  var lastSplit = null;

  function resolveUrl(href, base) {
    if (href == null) return null;
    var h = href;
    // Most links have no white space to remove: one search instead of two replacements.
    if (DIRTY.test(h) || h.charCodeAt(0) === 32 || h.charCodeAt(h.length - 1) === 32) {
      h = h.replace(/[\t\n\r]/g, "").replace(WS_EDGE, "");
    }
    if (!h) return null;
    var out;
    if (ABS_HTTP.test(h)) out = h;
    else if (SCHEME.test(h)) return null; // javascript:, data:, mailto: ... never a profile
    else {
      if (base !== lastBase) {
        lastBase = base;
        lastSplit = base ? splitUrl(base) : null;
      }
      var b = lastSplit;
      if (!b) return null;
      if (h.slice(0, 2) === "//") out = b[0].split("//")[0] + h;
      else if (h[0] === "/") {
        var ma = /^([^?#]*)(.*)$/.exec(h);
        out = b[0] + removeDots(ma[1]) + ma[2];
      }
      else if (h[0] === "?") out = b[0] + b[1] + h;
      else if (h[0] === "#") out = b[0] + b[1] + b[2] + h;
      else {
        var dir = b[1].slice(0, b[1].lastIndexOf("/") + 1);
        var m = /^([^?#]*)(.*)$/.exec(h);
        out = b[0] + removeDots(dir + m[1]) + m[2];
      }
    }
    out = unwrapArchive(out);
    return out.length <= URL_MAX ? out : null;
  }

  function hostOf(u) {
    var m = /^https?:\/\/(?:[^\/?#@]*@)?(\[[^\]]*\]|[^\/?#:]*)/i.exec(u || "");
    return m ? m[1].toLowerCase().replace(/\.+$/, "") : ""; // "example.com." is example.com
  }

  function siteOf(u) {
    var h = hostOf(u);
    return h.indexOf("www.") === 0 ? h.slice(4) : h;
  }

  // ---- numbers ("1.2k", "3,456 points") and times (datetime / title attributes)
  // Groups of three digits may be set apart by a dot, a comma or, as French and others print
  // them, a space (plain, no-break, narrow or thin): "1 234" is 1234, not 1.
  // The characters the server removes from a handle (scoring/items.py _INVISIBLE).
  var INVISIBLE = /[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
  var NUM = /([0-9]+(?:(?:[.,]|[ \u00a0\u202f\u2009](?=[0-9]{3}(?![0-9])))[0-9]+)*)(?:[ \u00a0]?([kKmM])(?![a-zA-Z]))?/;
  var MINUS = "-\u2212\u2013"; // a score below zero is no count of reactions

  function parseCount(s) {
    var m = NUM.exec(s);
    if (!m) return null;
    if (m.index > 0 && MINUS.indexOf(s.charAt(m.index - 1)) >= 0) return 0; // -1 is not one upvote
    var n;
    if (m[2]) {
      var f = /^[0-9]+(?:[.,][0-9]+)?/.exec(m[1])[0].replace(",", ".");
      n = Math.floor(parseFloat(f) * (m[2] === "k" || m[2] === "K" ? 1e3 : 1e6) + 0.5);
    } else {
      n = parseInt(m[1].replace(/[^0-9]/g, ""), 10);
    }
    if (!(n >= 0) || n > 1e9) return null;
    return n;
  }

  var TIME = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,][0-9]+)?)?)?[ ]?(Z|z|[+\-][0-9]{2}(?::?[0-9]{2})?)?/;
  var EPOCH = /^[0-9]{9,14}$/; // seconds (9-11 digits) or milliseconds (12-14)
  var DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

  function pad(n, w) {
    if (w === 2 && n >= 0 && n < 100) return n < 10 ? "0" + n : "" + n;
    var s = String(n);
    while (s.length < w) s = "0" + s;
    return s;
  }

  // The calendar fields by arithmetic (days to a civil date, after H. Hinnant), as a Date would
  // give them: a Date and its six getters cost microseconds, and nearly every comment has a time.
  function fromEpoch(ms) {
    var secs = Math.floor(ms / 1000);
    var days = Math.floor(secs / 86400);
    var rem = secs - days * 86400;
    var z = days + 719468;
    var era = Math.floor(z / 146097);
    var doe = z - era * 146097;
    var yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
    var doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    var mp = Math.floor((5 * doy + 2) / 153);
    var day = doy - Math.floor((153 * mp + 2) / 5) + 1;
    var mon = mp < 10 ? mp + 3 : mp - 9;
    var y = yoe + era * 400 + (mon <= 2 ? 1 : 0);
    if (!(y >= 1990 && y <= 2200)) return null;
    var hh = Math.floor(rem / 3600);
    var mi = Math.floor((rem - hh * 3600) / 60);
    return pad(y, 4) + "-" + pad(mon, 2) + "-" + pad(day, 2) + "T" + pad(hh, 2) + ":" + pad(mi, 2) + ":" +
      pad(rem - hh * 3600 - mi * 60, 2) + "Z";
  }

  function realDay(y, mo, d) {
    if (mo < 1 || mo > 12 || d < 1 || d > DAYS[mo - 1]) return false;
    return !(mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)));
  }

  function parseTime(s) {
    if (EPOCH.test(s)) {
      return s.length <= 11 ? fromEpoch(parseInt(s, 10) * 1000) : fromEpoch(Math.floor(parseInt(s, 10) / 1000) * 1000);
    }
    var m = TIME.exec(s);
    if (!m) return null;
    var y = +m[1], mo = +m[2], d = +m[3];
    var hh = m[4] ? +m[4] : 0, mi = m[5] ? +m[5] : 0, ss = m[6] ? +m[6] : 0;
    if (!realDay(y, mo, d)) return null;
    if (hh > 23 || mi > 59 || ss > 60) return null;
    if (ss === 60) ss = 59;
    var off = 0;
    var tz = m[7];
    if (tz && tz !== "Z" && tz !== "z") {
      var digits = tz.slice(1).replace(":", "");
      var oh = +digits.slice(0, 2), om = digits.length > 2 ? +digits.slice(2, 4) : 0;
      if (oh > 23 || om > 59) return null;
      off = (oh * 60 + om) * (tz[0] === "-" ? -1 : 1);
    }
    return fromEpoch(Date.UTC(y, mo - 1, d, hh, mi, ss) - off * 60000);
  }

  // Dates as blog themes print them ("14/04/2020 at 3:00 pm", "8. April 2019 @ 11:38"), for comments
  // with no machine-readable date: the site's local time read as UTC. server/extract.py
  // parse_date_text is the same function (and says why): change both together.
  var MONTHS = {};
  [
    "january jan januar janv janvier enero ene gennaio gen janeiro januari",
    "february feb februar fevr fev fevrier febrero febbraio fevereiro februari",
    "march mar marz maerz mrz mars marzo marco maart mrt",
    "april apr avril avr abril abr aprile",
    "may mai mayo maggio mag maio mei",
    "june jun juni juin junio giugno giu junho",
    "july jul juli juil juillet julio luglio lug julho",
    "august aug aout agosto augustus",
    "september sep sept septembre septiembre setiembre settembre setembro",
    "october oct oktober okt octobre octubre ottobre ott outubro",
    "november nov novembre noviembre novembro",
    "december dec dezember dez decembre diciembre dic dicembre dezembro"
  ].forEach(function (names, n) {
    names.split(" ").forEach(function (w) { MONTHS[w] = n + 1; });
  });
  var CLOCK = /(^|[^0-9])([0-9]{1,2})(?::|h)([0-9]{2})(?::([0-9]{2}))?(?:[ ]*([ap])\.?[ ]?m(?![a-z]))?/;
  var NUM_DATE = /(^|[^0-9])([0-9]{1,4})([.\/-])([0-9]{1,2})\3([0-9]{2,4})(?![0-9])/;
  var TOKEN = /[a-z]+|[0-9]+/g;
  var MARKS = /[\u0300-\u036f]/g;

  // Which way round a page prints days and months in digits, from the dates it prints that can be
  // read only one way ("14/04/2020": day first): "dmy", "mdy", or null for none of those, or both.
  function pageDateOrder(text) {
    var seen = {}, n = 0, re = new RegExp(NUM_DATE.source, "g"), m;
    while ((m = re.exec(text)) !== null) {
      if (m[0] === "") { re.lastIndex++; continue; }
      if (m[3] === "." || m[2].length > 2 || m[5].length === 3) continue;
      var a = +m[2], b = +m[4], o = null;
      if (a > 12 && a <= 31 && b >= 1 && b <= 12) o = "dmy";
      else if (b > 12 && b <= 31 && a >= 1 && a <= 12) o = "mdy";
      if (o && !seen[o]) { seen[o] = true; n++; }
    }
    return n === 1 ? (seen.dmy ? "dmy" : "mdy") : null;
  }

  // order: the page's ("dmy" or "mdy", pageDateOrder), for a day and month in digits that could
  // be either way round; without it they give nothing.
  function parseDateText(s, order) {
    if (typeof s !== "string" || !s || s.length > 80) return null;
    var t = s.toLowerCase().normalize("NFD").replace(MARKS, "").replace(/\u00a0/g, " ");
    var hh = 0, mi = 0, ss = 0, y, mo, d;
    var m = CLOCK.exec(t);
    if (m) {
      hh = +m[2]; mi = +m[3]; ss = m[4] ? +m[4] : 0;
      if (m[5]) {
        if (hh < 1 || hh > 12) return null;
        hh = hh % 12 + (m[5] === "p" ? 12 : 0);
      }
      if (hh > 23 || mi > 59 || ss > 59) return null;
      t = t.slice(0, m.index) + m[1] + " " + t.slice(m.index + m[0].length);
    }
    m = NUM_DATE.exec(t);
    if (m) {
      var a = m[2], b = +m[4], c = m[5];
      if (a.length === 4) {
        y = +a; mo = b; d = +c;
      } else if (c.length === 3) {
        return null;
      } else {
        y = +c + (c.length === 4 ? 0 : +c >= 70 ? 1900 : 2000);
        a = +a;
        if (m[3] === "." || a > 12 || (order === "dmy" && b <= 12)) { d = a; mo = b; }
        else if (b > 12 || a === b || order === "mdy") { mo = a; d = b; }
        else return null;
      }
    } else {
      mo = y = d = null;
      var toks = t.match(TOKEN) || [];
      for (var i = 0; i < toks.length; i++) {
        var tok = toks[i];
        if (tok[0] > "9") {
          if (mo === null && Object.prototype.hasOwnProperty.call(MONTHS, tok)) mo = MONTHS[tok];
        } else if (tok.length === 4) {
          if (y === null) y = +tok;
        } else if (tok.length <= 2 && d === null) {
          d = +tok;
        }
      }
      if (mo === null || y === null || d === null) return null;
    }
    if (!(y >= 1990 && y <= 2200 && realDay(y, mo, d))) return null;
    return pad(y, 4) + "-" + pad(mo, 2) + "-" + pad(d, 2) + "T" + pad(hh, 2) + ":" + pad(mi, 2) + ":" + pad(ss, 2) + "Z";
  }

  // A printed date; one whose day and month could be either way round is read the way the page's
  // other dates show (asked of the page once, and only then). server/extract.py _date_text.
  function dateText(x, env) {
    var d = parseDateText(x);
    if (d === null && NUM_DATE.test(x)) {
      // kept in env itself: env.memo is emptied whenever the element read from changes
      if (env.dateOrder === undefined) {
        var root = env.doc.body || env.doc.documentElement;
        env.dateOrder = pageDateOrder(root ? root.textContent : "");
      }
      if (env.dateOrder) d = parseDateText(x, env.dateOrder);
    }
    return d;
  }

  // ---- stable ids for items that have none (some microformats / JSON-LD comments):
  // two FNV-1a passes over UTF-16 code units, hex; Python hashes the same code units.
  function hash64(s) {
    var a = 0x811c9dc5, b = 0x01000193 ^ 0x5bd1e995;
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193) >>> 0;
      b = Math.imul(b ^ c, 0x01000193) >>> 0;
      b = (b ^ (b >>> 13)) >>> 0;
    }
    return pad(a.toString(16), 8) + pad(b.toString(16), 8);
  }

  // ---- rules

  var EMPTY = [];
  var listCache = new WeakMap();
  function asList(r) {
    if (r == null) return EMPTY;
    if (Array.isArray(r)) return r;
    var l = listCache.get(r);
    if (!l) {
      l = [r];
      listCache.set(r, l);
    }
    return l;
  }

  var ruleRe = new WeakMap();
  function ruleRegex(rule) {
    var r = ruleRe.get(rule);
    if (!r) {
      r = new RegExp(rule.re, "u");
      ruleRe.set(rule, r);
    }
    return r;
  }

  // finish() for one value, without the arrays: the path taken by almost every field.
  function finishOne(raw, rule, env) {
    var x = raw;
    if (rule.url) {
      x = resolveUrl(x, env.url);
      if (!x) return null;
    }
    if (rule.re) {
      var m = ruleRegex(rule).exec(x);
      if (!m) return null;
      x = m[1] !== undefined ? m[1] : m[0];
    }
    if (rule.decode) {
      try { x = decodeURIComponent(x); } catch (e) { /* keep the raw form */ }
    }
    if (rule.num) x = parseCount(x);
    else if (rule.time) x = parseTime(x);
    else if (rule.dateText) x = dateText(x, env);
    else {
      // rawValue() gives attributes and text already clean: only what a rule made of them since
      // (a resolved link, a regex group, a decoded part) or the page's address needs it again.
      if ((rule.text !== "block" || rule.re) && (rule.url || rule.re || rule.decode || rule.page)) x = clean(x);
      if (!x) return null;
    }
    if (x === null) return null;
    return rule.fmt ? formatted(rule.fmt, x, env) : x;
  }

  // An adapter's "fmt": "{}" is the value, "{post}" the page's post id (for ids a page numbers
  // on its own, such as a blog theme's "comment-1" on every post). One pass, so a value that
  // holds "{post}" stays as it is; a function, so "$&" in page text is not a pattern.
  var FMT_SLOT = /\{post\}|\{\}/g;
  function formatted(fmt, x, env) {
    var xs = String(x);
    return fmt.replace(FMT_SLOT, function (slot) { return slot === "{}" ? xs : env.postId || ""; });
  }

  function isOwned(el, ctx, env, rule) {
    if (rule.doc || rule.own === false || !env.scope) return true;
    // Where no item contains another (flat threads), anything inside an item is its own.
    if (!env.nested && ctx !== env.doc) return true;
    if (ctx !== env.doc) {
      // An item with no item inside it (most comments: the leaves of a thread) owns everything
      // in it; asked once per item instead of once per field.
      if (env.leafCtx !== ctx) {
        env.leafCtx = ctx;
        var known = env.leafs === null ? undefined : env.leafs.get(ctx);
        if (known !== undefined) env.leaf = known;
        else {
          try {
            env.leaf = ctx.querySelector(env.scope) === null;
          } catch (e) {
            env.leaf = false;
          }
        }
      }
      if (env.leaf) return true;
    }
    var owner = el.closest(env.scope);
    return owner === ctx || (owner === null && ctx === env.doc);
  }

  // Candidate elements for a rule, in document order (or reversed for "last").
  function candidates(ctx, rule, env) {
    if (rule.page) return [ctx];
    if (!rule.sel) return ctx === env.doc ? [] : [ctx];
    var base = rule.doc ? env.doc : ctx;
    var single = !rule.all && !rule.last && !rule.scan;
    if (single) {
      // Several fields often read the same element (name, handle, url from one link).
      var memo = env.memo;
      var first;
      if (memo.ctx === base && memo.has(rule.sel)) first = memo.get(rule.sel);
      else {
        if (memo.ctx !== base) {
          memo.clear();
          memo.ctx = base;
        }
        first = firstWithin(base, rule.sel);
        memo.set(rule.sel, first);
      }
      if (!first) return [];
      if (isOwned(first, ctx, env, rule)) return [first];
    }
    var found = base.querySelectorAll(rule.sel);
    var out = [];
    for (var i = 0; i < found.length; i++) {
      if (isOwned(found[i], ctx, env, rule)) {
        out.push(found[i]);
        if (single) break;
      }
    }
    if (rule.last && out.length) return [out[out.length - 1]];
    return out;
  }

  function rawValue(el, rule, env) {
    if (rule.page) return env.url || "";
    if (rule.attr) {
      var a = el.getAttribute(rule.attr);
      return a == null ? "" : clean(a);
    }
    return textOf(el, rule.skip || null, rule.text === "block");
  }

  // Turns one raw string into zero or more finished values.
  function finish(raw, rule, env) {
    var vals;
    var v = raw;
    if (rule.url) {
      v = resolveUrl(v, env.url);
      if (!v) return [];
    }
    if (rule.re) {
      if (rule.all) {
        vals = [];
        var rg = regex(rule.re, true);
        rg.lastIndex = 0;
        var m;
        while ((m = rg.exec(v)) !== null) {
          if (m[0] === "") { rg.lastIndex++; continue; }
          vals.push(m[1] !== undefined ? m[1] : m[0]);
        }
      } else {
        var m1 = regex(rule.re, false).exec(v);
        vals = m1 ? [m1[1] !== undefined ? m1[1] : m1[0]] : [];
      }
    } else vals = [v];
    var out = [];
    for (var i = 0; i < vals.length; i++) {
      var x = vals[i];
      if (rule.decode) {
        try { x = decodeURIComponent(x); } catch (e) { /* keep the raw form */ }
      }
      if (rule.num) {
        x = parseCount(x);
        if (x === null) continue;
      } else if (rule.time) {
        x = parseTime(x);
        if (x === null) continue;
      } else if (rule.dateText) {
        x = dateText(x, env);
        if (x === null) continue;
      } else if (typeof x === "string") {
        // block text is already clean line by line; cleaning again would join its lines
        if (rule.text !== "block" || rule.re) x = clean(x);
        if (!x) continue;
      }
      if (rule.fmt) x = formatted(rule.fmt, x, env);
      out.push(x);
    }
    return out;
  }

  // The first element a one-value rule reads: candidates() without the arrays.
  function firstOwned(ctx, rule, env) {
    if (rule.page) return ctx;
    if (!rule.sel) return ctx === env.doc ? null : ctx;
    var base = rule.doc ? env.doc : ctx;
    var first;
    if (env.shared && !env.shared.has(rule.sel)) first = firstWithin(base, rule.sel);
    else {
      var memo = env.memo;
      if (memo.ctx !== base) {
        memo.clear();
        memo.ctx = base;
      }
      first = memo.get(rule.sel);
      if (first === undefined) {
        first = firstWithin(base, rule.sel);
        memo.set(rule.sel, first);
      }
    }
    if (!first) return null;
    if (isOwned(first, ctx, env, rule)) return first;
    var found = base.querySelectorAll(rule.sel);
    for (var i = 0; i < found.length; i++) {
      if (isOwned(found[i], ctx, env, rule)) return found[i];
    }
    return null;
  }

  // First non-empty value of a rule or a list of alternative rules: {value, el} or null.
  function one(ctx, rules, env) {
    var list = asList(rules);
    for (var i = 0; i < list.length; i++) {
      var rule = list[i];
      if (rule.value !== undefined) return { value: rule.value, el: null };
      if (!rule.all && !rule.last && !rule.scan) {
        var el = firstOwned(ctx, rule, env);
        if (el) {
          var v1 = finishOne(rawValue(el, rule, env), rule, env);
          if (v1 !== null) return { value: v1, el: el };
        }
        continue;
      }
      var els = candidates(ctx, rule, env);
      for (var j = 0; j < els.length; j++) {
        var v = finishOne(rawValue(els[j], rule, env), rule, env);
        if (v !== null) return { value: v, el: els[j] };
      }
    }
    return null;
  }

  var allRules = new WeakMap();
  function textValues(text, rule, env) {
    var r = allRules.get(rule);
    if (!r) {
      r = Object.assign({}, rule, { all: true });
      allRules.set(rule, r);
    }
    var vals = finish(text, r, env);
    for (var i = 0; i < vals.length; i++) vals[i] = String(vals[i]);
    return vals;
  }

  // Every value of every rule (mentions).
  function every(ctx, rules, env) {
    var list = asList(rules);
    var out = [];
    for (var i = 0; i < list.length; i++) {
      var rule = Object.assign({}, list[i], { all: true });
      var els = candidates(ctx, rule, env);
      for (var j = 0; j < els.length; j++) {
        var vals = finish(rawValue(els[j], rule, env), rule, env);
        for (var k = 0; k < vals.length; k++) out.push(String(vals[k]));
      }
    }
    return out;
  }

  function val(ctx, rules, env) {
    var r = one(ctx, rules, env);
    return r ? r.value : null;
  }

  // ---- items

  function buildItem(ctx, spec, env, kind) {
    var author = spec.author || {};
    var nameR = one(ctx, author.name, env);
    var handleR = one(ctx, author.handle, env);
    var name = nameR ? cap(String(nameR.value), NAME_MAX) : "";
    var handle = handleR ? String(handleR.value) : name;
    handle = cap(handle.replace(/^@/, ""), HANDLE_MAX);
    // nothing the server would keep ("@ @", a zero-width space): it would refuse the whole
    // capture over one commenter's name (scoring/items.py normalize_handle)
    if (!handle.replace(INVISIBLE, "").normalize("NFC").trim().replace(/^@/, "").trim()) return null;
    // placeholders such as reddit's "[deleted]" are nobody
    if (author.ignore && author.ignore.indexOf(handle.toLowerCase()) >= 0) return null;
    if (!name) name = handle;
    var a = { handle: handle, name: name };
    var aurl = val(ctx, author.url, env);
    if (aurl) a.url = String(aurl);

    var item = { id: null, kind: kind, parent: null, author: a };
    var text = val(ctx, spec.text, env);
    item.text = text ? cap(String(text), TEXT_MAX) : "";
    var at = val(ctx, spec.at, env);
    if (at) item.at = at;
    var url = val(ctx, spec.url, env);
    if (url) item.url = String(url);
    if (spec.reactions) {
      var reactions = {};
      var any = false;
      Object.keys(spec.reactions).forEach(function (k) {
        var n = val(ctx, spec.reactions[k], env);
        if (typeof n === "number") {
          reactions[k] = n;
          any = true;
        }
      });
      if (any) item.reactions = reactions;
    }
    if (spec.mentions) {
      // A Set, not {}: a handle named "constructor" or "__proto__" is a key like any other.
      var seen = new Set();
      var ms = [];
      var raw = [];
      var mrules = asList(spec.mentions);
      for (var r = 0; r < mrules.length; r++) {
        // from "text": the item's own text, already read, instead of another trip through the DOM
        var got = mrules[r].from === "text" ? textValues(item.text, mrules[r], env) : every(ctx, mrules[r], env);
        // "@Tony" in text names a person by display name: resolved once every author is known
        if (mrules[r].byName) {
          if (got.length) env.byName.push([item, got]);
        } else raw = raw.concat(got);
      }
      for (var i = 0; i < raw.length && ms.length < MENTIONS_MAX; i++) {
        var h = cap(raw[i].replace(/^@/, ""), HANDLE_MAX);
        var key = h.toLowerCase();
        if (h && !seen.has(key)) {
          seen.add(key);
          ms.push(h);
        }
      }
      if (ms.length) item.mentions = ms;
    }
    var idv = val(ctx, spec.id, env);
    item.id = idv ? cap(String(idv), ID_MAX) : hashedId(env, handle, item.text);
    var badge = author.badge ? one(ctx, { sel: author.badge }, env) : null;
    var el = (badge && badge.el) || (nameR && nameR.el) || (handleR && handleR.el) || null;
    return { item: item, el: el };
  }

  // An item with no id of its own: one made of its post, author and text, so the same words by
  // the same person under another post ("Thanks!") are another item.
  function hashedId(env, handle, text) {
    return "h-" + hash64((env.postId || "") + "\n" + handle + "\n" + text);
  }

  // ---- mentions by display name (Stack Exchange's "@TonyM", a blog reply's "@Bebs")
  var WS_ANY = new RegExp(WS, "g");
  function cpLength(s) {
    var n = 0;
    var i = 0;
    while (i < s.length) {
      var c = s.charCodeAt(i);
      // a high surrogate followed by a low one is one code point, as Python counts
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
      n++;
    }
    return n;
  }

  function nameKey(s) {
    return s.replace(WS_ANY, "").toLowerCase();
  }

  var WS_SPLIT = new RegExp(WS + "+");

  // A display name's last word, when there is more than one, of 3 letters or more: on German
  // blogs people write "@Holzherr" or "@Herr Holzherr" for Martin Holzherr (the adapter's regex
  // drops the honorific). A single-word name is its own "surname" and is found by the whole name.
  function surnameKey(name) {
    var words = name.split(WS_SPLIT).filter(Boolean);
    if (words.length < 2) return null;
    var k = words[words.length - 1].toLowerCase();
    return cpLength(k) >= 3 ? k : null;
  }

  // Only a word written with a capital is taken for a surname: lower-case words after an "@"
  // are mostly "@all", "@admin" or a handle typed in full (found by the whole name already).
  // German capitalises nouns too, so this narrows the guess; requiring one owner narrows it more.
  function capitalised(s) {
    if (!s) return false;
    var c = String.fromCodePoint(s.codePointAt(0));
    return c !== c.toLowerCase();
  }

  function newKnown() {
    return { index: new Map(), keys: [], surnames: new Map() };
  }

  // A written name becomes the handle of the page author it names: the same name without spaces,
  // or failing that the one author whose name starts with it (3+ letters) or, for a capitalised
  // word, whose surname it is. Anything else, and any word two people could answer to, is
  // dropped rather than guessed. `known` (newKnown()) holds the authors to resolve against.
  function knowAuthors(items, known) {
    for (var i = 0; i < items.length; i++) {
      var a = items[i].author;
      var ks = [nameKey(a.name), nameKey(a.handle)];
      for (var j = 0; j < 2; j++) {
        if (ks[j] && !known.index.has(ks[j])) {
          known.index.set(ks[j], a.handle);
          known.keys.push(ks[j]);
        }
      }
      var sk = surnameKey(a.name);
      if (sk !== null) {
        var owners = known.surnames.get(sk);
        if (owners === undefined) known.surnames.set(sk, [a.handle]);
        // two owners already make the surname useless: no need to keep a third
        else if (owners.length < 2 && owners[0].toLowerCase() !== a.handle.toLowerCase()) owners.push(a.handle);
      }
    }
  }

  function resolveByName(known, pending) {
    var index = known.index;
    var keys = known.keys;
    for (var p = 0; p < pending.length; p++) {
      var item = pending[p][0];
      var vals = pending[p][1];
      var ms = item.mentions ? item.mentions.slice() : [];
      var seen = new Set();
      for (var m = 0; m < ms.length; m++) seen.add(ms[m].toLowerCase());
      for (var v = 0; v < vals.length && ms.length < MENTIONS_MAX; v++) {
        var word = vals[v].replace(/^@/, "");
        var k = nameKey(word);
        var h = index.get(k);
        if (h === undefined && cpLength(k) >= 3) {
          // handles differing only in case are one identity (the server lowercases them)
          var found = null;
          var clash = false;
          for (var q = 0; q < keys.length && !clash; q++) {
            if (keys[q].slice(0, k.length) === k) {
              var hh = index.get(keys[q]);
              if (found === null) found = hh;
              else if (hh.toLowerCase() !== found.toLowerCase()) clash = true;
            }
          }
          var owners = capitalised(word) ? known.surnames.get(k) : undefined;
          if (owners !== undefined) {
            for (var o = 0; o < owners.length && !clash; o++) {
              if (found === null) found = owners[o];
              else if (owners[o].toLowerCase() !== found.toLowerCase()) clash = true;
            }
          }
          if (found !== null && !clash) h = found;
        }
        if (h !== undefined && !seen.has(h.toLowerCase())) {
          seen.add(h.toLowerCase());
          ms.push(h);
        }
      }
      if (ms.length) item.mentions = ms;
    }
  }

  function pageUrl(doc, url) {
    var u = url;
    if (!u) {
      var c = doc.querySelector('link[rel="canonical"][href]');
      if (c) u = resolveUrl(c.getAttribute("href"), null);
    }
    if (!u) {
      var og = doc.querySelector('meta[property="og:url"][content]');
      if (og) u = resolveUrl(og.getAttribute("content"), null);
    }
    if (!u) return null;
    u = unwrapArchive(clean(u));
    var hash = u.indexOf("#");
    return hash >= 0 ? u.slice(0, hash) : u;
  }

  function pageTitle(doc) {
    var t = doc.querySelector("head > title") || doc.querySelector("title");
    return t ? cap(textOf(t, null, false), TITLE_MAX) : "";
  }

  // Selectors more than one rule of the adapter reads (a name, handle and link from one element):
  // only their first match is worth remembering per item. Once per adapter.
  var sharedSels = new WeakMap();
  function sharedOf(adapter) {
    var shared = sharedSels.get(adapter);
    if (shared === undefined) {
      var seen = new Set();
      shared = new Set();
      (function walk(o) {
        if (Array.isArray(o)) o.forEach(walk);
        else if (o && typeof o === "object") {
          Object.keys(o).forEach(function (k) {
            var v = o[k];
            if ((k === "sel" || k === "badge") && typeof v === "string") {
              if (seen.has(v)) shared.add(v);
              seen.add(v);
            } else walk(v);
          });
        }
      })(adapter);
      sharedSels.set(adapter, shared);
    }
    return shared;
  }

  // Once per adapter: a live page calls extract() for every slice.
  var scopes = new WeakMap();
  function scopeOf(adapter) {
    var scope = scopes.get(adapter);
    if (scope === undefined) {
      var parts = [];
      if (adapter.post && adapter.post.root) parts.push(adapter.post.root);
      asList(adapter.items).forEach(function (s) { if (s.select) parts.push(s.select); });
      scope = parts.join(", ");
      scopes.set(adapter, scope);
    }
    return scope;
  }

  // The address the capture names, within the contract's 2,048 characters: a page's own address
  // can be longer (tracking parameters, a long search), and the server refused the whole capture
  // for it. Without its query, then cut; the rules still read the whole address.
  function recordUrl(u) {
    if (!u || cap(u, URL_MAX) === u) return u; // code points, as the contract counts them
    var p = splitUrl(u);
    return cap(p ? p[0] + p[1] : u, URL_MAX);
  }

  function postIdFromUrl(u) {
    var p = splitUrl(u || "");
    if (!p) return "page";
    return cap("url:" + p[1] + p[2], ID_MAX);
  }

  var NESTING = { by: "nesting" };

  function sameSet(els) {
    var set = new Set();
    for (var i = 0; i < els.length; i++) if (els[i] && els[i].nodeType === 1) set.add(els[i]);
    return set;
  }

  // Document order. compareDocumentPosition costs as much as the siblings it crawls past (to the
  // first child, when asked in the unlucky direction), and a long thread's list holds thousands of
  // comments while a sort asks it hundreds of times. Here each element's ancestors are listed once;
  // where elements part ways, the branches they take are ordered by walking outwards from each of
  // them at once until each has met its neighbour, so the walk covers about the stretch of the list
  // the elements span, not the list. Elements outside the document (removed, or in a shadow tree)
  // are left to compareDocumentPosition.
  function inDocumentOrder(set) {
    var out = Array.from(set);
    if (out.length < 2) return out;
    var chains = new Map();
    var rank = new Map(); // a branch -> its place among the branches of its parent
    var byParent = new Map(); // parent -> its children that lead to chosen elements
    var top = null;
    for (var i = 0; i < out.length; i++) {
      var chain = [];
      for (var n = out[i]; n; n = n.parentElement) chain.push(n);
      var root = chain[chain.length - 1];
      if (top === null) top = root;
      if (root !== top || !root.parentNode || root.parentNode.nodeType !== 9) {
        out.sort(function (x, y) { return x === y ? 0 : x.compareDocumentPosition(y) & 4 ? -1 : 1; });
        return out;
      }
      chain.reverse();
      chains.set(out[i], chain);
      for (var j = 1; j < chain.length; j++) {
        if (rank.has(chain[j])) continue;
        rank.set(chain[j], 0);
        var kids = byParent.get(chain[j - 1]);
        if (kids) kids.push(chain[j]);
        else byParent.set(chain[j - 1], [chain[j]]);
      }
    }
    byParent.forEach(function (kids) {
      if (kids.length > 1) rankSiblings(kids, rank);
    });
    out.sort(function (x, y) {
      if (x === y) return 0;
      var cx = chains.get(x);
      var cy = chains.get(y);
      var d = 1;
      while (d < cx.length && d < cy.length && cx[d] === cy[d]) d++;
      // An ancestor comes before what it holds.
      if (d === cx.length) return -1;
      if (d === cy.length) return 1;
      return rank.get(cx[d]) - rank.get(cy[d]);
    });
    return out;
  }

  // Ranks siblings by walking from each of them, one step at a time in both directions, until
  // every one knows the sibling of the set that comes next (k - 1 links make the whole order).
  function rankSiblings(kids, rank) {
    var k = kids.length;
    var index = new Map();
    for (var i = 0; i < k; i++) index.set(kids[i], i);
    var next = new Array(k).fill(-1);
    var prev = new Array(k).fill(-1);
    var fwd = kids.map(function (c) { return c.nextElementSibling; });
    var back = kids.map(function (c) { return c.previousElementSibling; });
    var links = 0;
    while (links < k - 1) {
      var moved = false;
      for (var m = 0; m < k && links < k - 1; m++) {
        var f = fwd[m];
        if (f !== null && next[m] < 0) {
          moved = true;
          var hit = index.get(f);
          if (hit !== undefined) {
            if (prev[hit] < 0) links++;
            next[m] = hit;
            prev[hit] = m;
            fwd[m] = null;
          } else fwd[m] = f.nextElementSibling;
        }
        var b = back[m];
        if (b !== null && prev[m] < 0) {
          moved = true;
          var hb = index.get(b);
          if (hb !== undefined) {
            if (next[hb] < 0) links++;
            prev[m] = hb;
            next[hb] = m;
            back[m] = null;
          } else back[m] = b.previousElementSibling;
        }
      }
      if (!moved) break;
    }
    var first = 0;
    while (prev[first] >= 0) first = prev[first];
    for (var r = 0, c = first; c >= 0 && r < k; r++, c = next[c]) rank.set(kids[c], r);
  }

  // A depth-numbered slice's rows, found from the chosen rows themselves: every element matching
  // `sel` after the nearest one above the first chosen row that a slice has already walked (whose
  // stack of open ancestors is in `stacks`) up to the last chosen row, in document order, and that
  // stack ([] when the walk reached the document's start). The same rows, from the same place, as
  // the whole-document query and its search did; but a slice's cost no longer grows with the
  // thread above it (that query, and finding the slice in its result, read every row on the page
  // once per slice: a 2,000-comment thread's slices cost twice a 1,000-comment one's per comment).
  // null (the caller queries the document) when a chosen row is not in `doc`'s own tree.
  function rowsAround(doc, sel, chosenEls, stacks) {
    if (!stacks || !doc || doc.nodeType !== 9) return null;
    for (var c = 0; c < chosenEls.length; c++) if (!doc.contains(chosenEls[c])) return null;
    var first = chosenEls[0];
    var last = chosenEls[chosenEls.length - 1];
    // Backwards in document order to the first element already walked.
    var above = [];
    var stack = [];
    for (var el = elementBefore(first, sel); el !== null; el = elementBefore(el, sel)) {
      if (!el.matches(sel)) continue;
      var known = stacks.get(el);
      if (known) {
        stack = known;
        break;
      }
      above.push(el);
    }
    above.reverse();
    // Forwards from the first chosen row to the last, into a subtree only where it holds a match.
    var rows = above;
    el = first;
    for (;;) {
      if (el.matches(sel)) rows.push(el);
      if (el === last) break;
      var next = el.firstElementChild !== null && firstWithin(el, sel) !== null ? el.firstElementChild : null;
      for (var up = el; next === null && up !== null; up = up.parentElement) next = up.nextElementSibling;
      if (next === null) return null; // `last` comes before `first`: never, as they are in order
      el = next;
    }
    return { rows: rows, stack: stack };
  }

  // The element just before `el` in document order (a previous sibling's last descendant, else the
  // parent), passing over descendants where none matches `sel`: a previous row, not its cells.
  function elementBefore(el, sel) {
    var s = el.previousElementSibling;
    if (s === null) return el.parentElement;
    while (s.lastElementChild !== null && firstWithin(s, sel) !== null) s = s.lastElementChild;
    return s;
  }

  // base.querySelector(sel), asked of each child in turn when `sel` has a combinator: in Chromium
  // an element's querySelector with a combinator ("a b", "a > b") costs in proportion to the
  // element's preceding siblings (13 us for the 2,000th row of a thread, 0.3 us for the first),
  // and a depth-numbered thread's rows are thousands of siblings. The same first match in
  // document order: each child, then its descendants. Not for `:scope`, which would mean the child.
  var combinators = new Map();
  function firstWithin(base, sel) {
    var hard = combinators.get(sel);
    if (hard === undefined) {
      var found = base.querySelector(sel); // an invalid selector throws here, as it always did
      combinators.set(sel, /[\s>+~]/.test(sel.trim()) && sel.indexOf(":scope") < 0);
      return found;
    }
    if (!hard || base.nodeType !== 1) return base.querySelector(sel);
    for (var c = base.firstElementChild; c !== null; c = c.nextElementSibling) {
      if (c.matches(sel)) return c;
      var f = c.querySelector(sel);
      if (f !== null) return f;
    }
    return null;
  }

  // The id a comment would get if it were extracted, without extracting it (a reply's parent, or
  // a comment before the chosen ones in a depth-numbered thread). An id rule answers at once, and
  // both an authored comment and a deleted one ("ghost") take that id; only a comment with no id
  // rule value needs building, since its id is a hash of its author and text.
  function idOnly(el, spec, env) {
    var v = val(el, spec.id, env);
    if (v) return cap(String(v), ID_MAX);
    var keep = env.byName;
    env.byName = [];
    var b = buildItem(el, spec, env, spec.kind || "comment");
    env.byName = keep;
    return b ? b.item.id : null;
  }

  // Page-level results: the page record, the post, the scope. Computed once per call, or once
  // per page when the caller keeps a cache (see extract()).
  function pageLevel(doc, adapter, url, env) {
    var pu = pageUrl(doc, url);
    if (!pu && adapter.pageUrl) {
      // A saved page without its address: some sites print enough to rebuild it (HN's item id).
      var rebuilt = val(doc, adapter.pageUrl, { doc: doc, url: null, scope: "", memo: new Map(), nested: true });
      pu = rebuilt ? resolveUrl(String(rebuilt), null) : null;
    }
    env.url = pu;
    var page = { url: recordUrl(pu), title: pageTitle(doc), site: adapter.site || siteOf(pu) || "unknown" };
    if (adapter.site && pu && siteOf(pu) !== adapter.site && siteOf(pu).slice(-adapter.site.length - 1) !== "." + adapter.site) {
      page.site = siteOf(pu);
    }
    var post = adapter.post || {};
    var postRoot = post.root ? doc.querySelector(post.root) : null;
    var postCtx = postRoot || doc;
    var postId = val(postCtx, post.id, env);
    postId = postId ? cap(String(postId), ID_MAX) : postIdFromUrl(pu);
    env.postId = postId;
    var built = null;
    if (post.author) {
      built = buildItem(postCtx, post, env, "post");
      if (built) built.item.id = postId;
    }
    var byName = false;
    asList(adapter.items).forEach(function (s) {
      asList(s.mentions).forEach(function (m) { if (m.byName) byName = true; });
    });
    asList(post.mentions).forEach(function (m) { if (m.byName) byName = true; });
    return { adapter: adapter, url: url, pu: pu, page: page, postRoot: postRoot, postId: postId, post: built,
      postByName: built ? env.byName.slice() : [], byName: byName, ld: false, known: newKnown() };
  }

  function stillThere(pl) {
    return (!pl.postRoot || pl.postRoot.isConnected) && (!pl.post || !pl.post.el || pl.post.el.isConnected);
  }

  // extract(doc, adapter, options) -> {capture, names}
  // options: the page's address (a string), or an object:
  //   url       the page's address (else the canonical link or og:url in the page);
  //   elements  only these comment elements become items (live pages extract a slice at a time).
  //             The post and page-level data still come from the document, and parents are
  //             those the whole page gives: a parent outside the list is identified (its id)
  //             without being extracted, and a depth-numbered thread reads the id and depth of
  //             the comments before the chosen ones. Elements matching no item selector are
  //             ignored; order does not matter.
  //   cache     an object the caller keeps between calls on one page (start with {}): the post,
  //             title, JSON-LD (returned by the first call only) and known authors are worked
  //             out once. Use a new object for a new page; an entry whose post has left the
  //             document, or that was made for another adapter or address, is redone.
  // Differences from a whole-document call, with elements: "@name" mentions resolve against
  // the authors extracted so far with the same cache (without one, those of this call), and a
  // comment repeating an earlier comment's id still counts as that parent for its replies.
  function extract(doc, adapter, options) {
    var opts = options !== null && typeof options === "object" ? options : { url: options };
    var url = opts.url || null;
    var chosen = opts.elements ? sameSet(opts.elements) : null;
    var cache = opts.cache && typeof opts.cache === "object" ? opts.cache : null;
    var scope = scopeOf(adapter);
    var env = { doc: doc, url: null, scope: scope, memo: new Map(), nested: true, byName: [], leafCtx: null, leaf: false,
      shared: sharedOf(adapter), leafs: null };
    env.memo.ctx = null;

    var pl = cache && cache.page;
    if (!pl || pl.adapter !== adapter || pl.url !== url || !stillThere(pl)) {
      pl = pageLevel(doc, adapter, url, env);
      if (cache) cache.page = pl;
    }
    env.url = pl.pu;
    env.postId = pl.postId;
    env.byName = pl.postByName.slice();
    var postRoot = pl.postRoot;
    var postId = pl.postId;
    var specs = asList(adapter.items);
    var ordered = chosen ? inDocumentOrder(chosen) : null;

    if (scope) {
      try {
        // Depth-numbered threads read comments outside the chosen ones: the page-wide answer.
        var readsOthers = chosen && specs.some(function (sp) { return sp.parent && sp.parent.by === "depth"; });
        if (readsOthers && cache) {
          // the same answer for every slice of a page (a whole-document query, per slice, made a
          // long thread's cost grow with the square of its length)
          if (pl.nestedAll === undefined) pl.nestedAll = doc.querySelector(":is(" + scope + ") :is(" + scope + ")") !== null;
          env.nested = pl.nestedAll;
        } else if (!chosen || readsOthers) env.nested = doc.querySelector(":is(" + scope + ") :is(" + scope + ")") !== null;
        else {
          // Nesting that matters to this call: around or inside the chosen comments, or the post.
          var nested = postRoot !== null && (postRoot.querySelector(scope) !== null ||
            (postRoot.parentElement !== null && postRoot.parentElement.closest(scope) !== null));
          env.leafs = new Map(); // what this check learns, isOwned() need not ask again
          for (var n = 0; n < ordered.length && !nested; n++) {
            var up = ordered[n].parentElement;
            nested = up !== null && up.closest(scope) !== null;
            if (!nested) {
              nested = ordered[n].querySelector(scope) !== null;
              env.leafs.set(ordered[n], !nested);
            }
          }
          env.nested = nested;
        }
      } catch (e) {
        env.nested = true;
      }
    }
    var items = [];
    var names = [];
    var byId = new Map();
    var elId = new Map();

    function add(built) {
      if (!built || byId.has(built.item.id)) return false;
      byId.set(built.item.id, built.item);
      items.push(built.item);
      if (built.el) names.push({ itemId: built.item.id, handle: built.item.author.handle, name: built.item.author.name, element: built.el });
      return true;
    }

    if (pl.post) add(pl.post);
    if (postRoot) elId.set(postRoot, postId);

    var pending = [];
    for (var s = 0; s < specs.length; s++) {
      var spec = specs[s];
      var p = spec.parent || NESTING;
      var kind = spec.kind || "comment";
      var els;
      var left = -1; // chosen elements of this spec still to come (depth threads stop after the last)
      var fromMemo = null; // a slice's rows found by a walk from the chosen ones: the stack it starts with
      if (!chosen) els = doc.querySelectorAll(spec.select);
      else {
        els = [];
        for (var c = 0; c < ordered.length; c++) if (ordered[c].matches(spec.select)) els.push(ordered[c]);
        if (p.by === "depth" && els.length) {
          left = els.length;
          var firstChosen = els[0];
          var walk = cache ? rowsAround(doc, spec.select, els, pl.stacks || (pl.stacks = new WeakMap())) : null;
          if (walk) {
            els = walk.rows;
            fromMemo = walk.stack;
          } else els = doc.querySelectorAll(spec.select);
        }
      }
      var stack = [];
      var i = 0;
      // A slice of a depth-numbered thread needs the rows before it for their depth and id. Kept
      // per page: each row's (depth, id) and the stack of open ancestors after it, so a slice
      // starts where the row before it left off instead of walking the thread from its top (a
      // 2,000-comment thread was read from its first row by each of its hundreds of slices).
      var rowMemo = null;
      var stackMemo = null;
      if (p.by === "depth" && cache) {
        rowMemo = pl.rows || (pl.rows = new WeakMap());
        stackMemo = pl.stacks || (pl.stacks = new WeakMap());
        if (fromMemo !== null) stack = fromMemo.slice();
        else if (left > 0) {
          // from the nearest row above already walked: rows a fast scroll skipped are walked once
          for (var at = Array.prototype.indexOf.call(els, firstChosen) - 1; at >= 0; at--) {
            var before = stackMemo.get(els[at]);
            if (before) {
              stack = before.slice();
              i = at + 1;
              break;
            }
          }
        }
      }
      for (; i < els.length && left !== 0; i++) {
        var el = els[i];
        if (left > 0) {
          if (!chosen.has(el)) {
            var row = rowMemo && rowMemo.get(el);
            if (!row) {
              var pid = idOnly(el, spec, env);
              var pd = pid ? val(el, p.depth, env) : 0;
              row = [typeof pd === "number" ? pd : 0, pid];
              if (rowMemo) rowMemo.set(el, row);
            }
            if (row[1]) {
              while (stack.length && stack[stack.length - 1][0] >= row[0]) stack.pop();
              stack.push(row);
            }
            if (stackMemo) stackMemo.set(el, stack.slice());
            continue;
          }
          left--;
        }
        var built = buildItem(el, spec, env, kind);
        if (!built) {
          // A deleted comment has no author but still has replies: they answer it, not its
          // parent, so it keeps its place in the tree without becoming an item.
          var ghost = val(el, spec.id, env);
          if (ghost) {
            elId.set(el, cap(String(ghost), ID_MAX));
            if (p.by === "depth") {
              var gd = val(el, p.depth, env);
              var grow = [typeof gd === "number" ? gd : 0, cap(String(ghost), ID_MAX)];
              if (rowMemo) rowMemo.set(el, grow);
              while (stack.length && stack[stack.length - 1][0] >= grow[0]) stack.pop();
              stack.push(grow);
            }
          }
          if (stackMemo) stackMemo.set(el, stack.slice());
          continue;
        }
        if (!add(built)) {
          if (stackMemo) stackMemo.set(el, stack.slice());
          continue;
        }
        var it = built.item;
        elId.set(el, it.id);
        if (p.by === "depth") {
          var dv = val(el, p.depth, env);
          var d = typeof dv === "number" ? dv : 0;
          while (stack.length && stack[stack.length - 1][0] >= d) stack.pop();
          it.parent = stack.length ? stack[stack.length - 1][1] : postId;
          var drow = [d, it.id];
          if (rowMemo) rowMemo.set(el, drow);
          stack.push(drow);
          if (stackMemo) stackMemo.set(el, stack.slice());
        } else if (p.by === "ref") {
          var ref = val(el, p.ref, env);
          it.parent = ref ? cap(String(ref), ID_MAX) : postId;
        } else if (p.by === "none") {
          it.parent = postId;
        } else {
          pending.push([it, el, p.of || spec.select]);
        }
      }
    }
    // Nesting is resolved after every spec has run, so a comment can point at an answer.
    for (var k = 0; k < pending.length; k++) {
      var itm = pending[k][0];
      var anc = pending[k][1].parentElement;
      var found = null;
      while (anc) {
        anc = anc.closest(pending[k][2]);
        if (!anc) break;
        var aid = elId.get(anc);
        if (aid === undefined && chosen && !chosen.has(anc)) {
          // A parent outside the chosen elements: the id the whole page would give it (the
          // last item spec to match wins there too, as it is the last to record an id).
          aid = null;
          for (var q = 0; q < specs.length; q++) {
            if (anc.matches(specs[q].select)) {
              var oid = idOnly(anc, specs[q], env);
              if (oid) aid = oid;
            }
          }
          elId.set(anc, aid);
        }
        if (aid) { found = aid; break; }
        anc = anc.parentElement;
      }
      itm.parent = found || postId;
    }
    if (adapter.jsonld && (!cache || !pl.ld)) {
      pl.ld = true;
      jsonLd(doc, env, postId, add);
    }
    if (env.byName.length || (cache && pl.byName)) {
      // Without a cache, authors are known per call, as a whole-document read knows them.
      var known = cache ? pl.known : newKnown();
      knowAuthors(items, known);
      if (env.byName.length) resolveByName(known, env.byName);
    }
    for (var r = 0; r < items.length; r++) {
      if (items[r].kind === "post") items[r].parent = null;
      else if (items[r].parent === items[r].id) items[r].parent = postId;
    }
    var page = { url: pl.page.url, title: pl.page.title, site: pl.page.site };
    return { capture: { v: 1, page: page, items: items }, names: names };
  }

  // ---- schema.org Comment in JSON-LD (the generic adapter). Walks parsed JSON, never HTML.
  function ldType(o) {
    var t = o["@type"];
    return Array.isArray(t) ? t.map(String) : t == null ? [] : [String(t)];
  }

  function ldAuthor(a) {
    if (Array.isArray(a)) a = a[0];
    if (typeof a === "string") return { name: a, url: null };
    if (!a || typeof a !== "object") return null;
    var name = typeof a.name === "string" ? a.name : typeof a.alternateName === "string" ? a.alternateName : "";
    var url = typeof a.url === "string" ? a.url : null;
    return { name: name, url: url };
  }

  function ldStr(v) {
    return typeof v === "string" ? v : "";
  }

  function jsonLd(doc, env, postId, add) {
    var scripts = doc.querySelectorAll('script[type="application/ld+json"]');
    function visit(o, parentId, depth) {
      if (depth > 40 || o == null || typeof o !== "object") return;
      if (Array.isArray(o)) {
        for (var i = 0; i < o.length; i++) visit(o[i], parentId, depth + 1);
        return;
      }
      var types = ldType(o);
      var isComment = types.indexOf("Comment") >= 0 || types.indexOf("Answer") >= 0;
      var here = parentId;
      if (isComment) {
        var a = ldAuthor(o.author);
        var name = a ? cap(clean(a.name), NAME_MAX) : "";
        var aurl = a && a.url ? resolveUrl(a.url, env.url) : null;
        if (name) {
          var text = cap(clean(ldStr(o.text)), TEXT_MAX);
          var idSrc = clean(ldStr(o["@id"]) || ldStr(o.url));
          var item = { id: null, kind: "comment", parent: parentId || postId,
            author: { handle: cap(name, HANDLE_MAX), name: name }, text: text };
          if (aurl) item.author.url = aurl;
          var at = parseTime(clean(ldStr(o.dateCreated) || ldStr(o.datePublished)));
          if (at) item.at = at;
          var iurl = o.url ? resolveUrl(ldStr(o.url), env.url) : null;
          if (iurl) item.url = iurl;
          var likes = o.upvoteCount;
          if (typeof likes === "number" && likes >= 0 && likes <= 1e9 && Math.floor(likes) === likes) item.reactions = { like: likes };
          // an @id that is not a web address ("#c1", "_:b0") names the comment within this page only
          if (idSrc && !ABS_HTTP.test(idSrc)) idSrc = (postId || "") + "#" + idSrc;
          item.id = idSrc ? cap("ld:" + idSrc, ID_MAX) : hashedId(env, item.author.handle, text);
          add({ item: item, el: null });
          here = item.id;
        }
      }
      var keys = Object.keys(o);
      for (var k = 0; k < keys.length; k++) {
        var key = keys[k];
        if (key === "author" || key === "@context") continue;
        var v = o[key];
        if (v && typeof v === "object") visit(v, isComment ? here : parentId, depth + 1);
      }
    }
    for (var i = 0; i < scripts.length; i++) {
      var data;
      try {
        data = JSON.parse(scripts[i].textContent);
      } catch (e) {
        continue;
      }
      visit(data, null, 0);
    }
  }

  // ---- adapter choice

  function hostMatches(host, patterns) {
    for (var i = 0; i < (patterns || []).length; i++) {
      var p = String(patterns[i]).toLowerCase().replace(/^\*\./, "");
      if (host === p || host.slice(-p.length - 1) === "." + p) return true;
    }
    return false;
  }

  function detects(doc, adapter) {
    if (!adapter.detect) return false;
    try {
      return doc.querySelector(adapter.detect) !== null;
    } catch (e) {
      return false;
    }
  }

  function pickAdapter(adapters, doc, url) {
    var host = hostOf(pageUrl(doc, url));
    var i;
    if (host) {
      // A known host wins even before its markup has loaded (single-page apps render late).
      for (i = 0; i < adapters.length; i++) {
        if (adapters[i].hosts && adapters[i].hosts.length && hostMatches(host, adapters[i].hosts)) return adapters[i];
      }
    }
    for (i = 0; i < adapters.length; i++) {
      var a = adapters[i];
      var markupOnly = !a.hosts || !a.hosts.length;
      // anyHost: a site that also runs on custom domains (Substack, Mastodon instances, Discourse)
      if ((markupOnly || !host || a.anyHost) && detects(doc, a)) return a;
    }
    return null;
  }

  var CloutlensExtract = {
    pickAdapter: pickAdapter,
    extract: extract,
    // exposed for unit tests of the twin engines
    _internal: { recordUrl: recordUrl, parseCount: parseCount, parseTime: parseTime, parseDateText: parseDateText, pageDateOrder: pageDateOrder, resolveUrl: resolveUrl, siteOf: siteOf, hash64: hash64, clean: clean,
      inDocumentOrder: inDocumentOrder, newKnown: newKnown, knowAuthors: knowAuthors, resolveByName: resolveByName,
      textValues: textValues },
  };
  globalThis.CloutlensExtract = CloutlensExtract;
  if (typeof module !== "undefined") module.exports = CloutlensExtract;
})();
