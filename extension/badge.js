// Badges: one annotation per person, drawn next to every place their name appears, each with a
// hovercard that explains the score.
// Each badge lives in a closed shadow root, so page scripts can neither reach the user's scores nor
// restyle them. A closed root is not enough on its own: window.find, a selection moved into the
// host and the text it copies all reach text nodes inside it. So no text node holds anything shown:
// every text is an attribute drawn as CSS generated content (`data-t`), which none of them see,
// and the badges react to the user's own input only (a page can dispatch mouseover on a host).
// Names are attacker controlled: they are only ever attribute values, never parsed.
// Nothing about a person is written to the host element the page can see.
"use strict";

(function () {
  // Five bands on a log-scaled score, and a pale band 0 for a score nothing counted towards (the
  // floor everyone starts at). Each background keeps its text above 4.5:1 contrast, and
  // the pale ring keeps the pill visible on dark pages as well as light ones. Every pill is as
  // wide as "100" whatever it shows: the page can measure the host, and a width would tell it
  // how many digits the score has.
  //
  // The host's own rules are !important: a page's rules for the host element win over :host's
  // normal ones, and themes style spans wholesale (".comment-author span { display: block;
  // float: right; width: 300px }" threw the pill to the far side of the page), while an
  // !important rule inside the shadow tree wins over the page's. Visibility is inherited all the
  // same, as `all: initial` alone did not: a comment hidden with `visibility: hidden` (a
  // collapsed reply) showed its pill, floating, focusable, beside no name.
  const STYLE = `
    :host { all: initial !important; display: inline-block !important; vertical-align: baseline !important;
            margin-left: .35em !important; position: relative !important; visibility: inherit !important; }
    [data-t]::before { content: attr(data-t); }
    .badge { display: inline-block; box-sizing: border-box; width: 2.6em; padding: 0; white-space: nowrap;
             border-radius: .8em; font: 600 11px/1.6 system-ui, sans-serif; font-variant-numeric: tabular-nums;
             text-align: center; color: #fff; background: #4b5563; cursor: default; box-shadow: 0 0 0 1px #ffffffa0, 0 0 0 2px #0000002a; }
    .badge:focus-visible { outline: 2px solid #2563eb; outline-offset: 2px; }
    .badge[data-band="1"] { background: #4b5563; }
    .badge[data-band="2"] { background: #0f766e; }
    .badge[data-band="3"] { background: #1d4ed8; }
    .badge[data-band="4"] { background: #7e22ce; }
    .badge[data-band="5"] { background: #b45309; }
    .badge[data-state="offline"], .badge[data-state="unpaired"], .badge[data-state="pending"], .badge[data-state="queued"] {
             background: #f3f4f6; color: #374151; box-shadow: 0 0 0 1px #6b7280; }
    .badge[data-state="forgotten"] { visibility: hidden; }
    .badge[data-band="0"] { background: #e5e7eb; color: #1f2937; box-shadow: 0 0 0 1px #6b7280; }
    .badge[data-state="none"] { background: #fff; color: #374151; box-shadow: 0 0 0 1px #6b7280; }
    /* The dot's own font size is 0 (it shows no text), so its sizes are in px: an em would be 0.
       The transparent border is its hit area (24 px across), drawn over the words beside it. Its
       edge is a dark ring and a pale one inside it: one of them shows on any page, and the pale
       dot of a score nothing counted towards is not lost on white. */
    .badge[data-style="dot"] { min-width: 0; width: 24px; height: 24px; margin: -7px -7px -7px -4px; padding: 0; border-radius: 50%;
             border: 7px solid transparent; background-clip: padding-box; font-size: 0; line-height: 0;
             vertical-align: middle; box-shadow: inset 0 0 0 1px #0000008c, inset 0 0 0 2px #ffffffa0; }
    .card { position: fixed; z-index: 2147483647; inset: auto; margin: 0; top: 0; left: 0; box-sizing: border-box;
            width: calc(20.5em + 2px); max-width: 80vw;
            max-height: calc(100vh - 8px); overflow: auto; padding: .6em .75em; overflow-wrap: anywhere;
            border-radius: 8px; font: 12px/1.45 system-ui, sans-serif; text-align: left; white-space: normal;
            color: #111827; background: #fff; box-shadow: 0 4px 18px #0005; border: 1px solid #d1d5db; }
    .card[data-theme="dark"] { color: #f3f4f6; background: #1f2937; border-color: #4b5563; }
    .card[hidden] { display: none; }
    .card h3 { margin: 0 0 .2em; font-size: 13px; }
    .card .who { margin: -.2em 0 .3em; font-size: 11px; opacity: .75; overflow-wrap: anywhere; }
    .card h4 { margin: .5em 0 .1em; font-size: 11px; text-transform: uppercase; letter-spacing: .04em; opacity: .75; }
    .card p { margin: .15em 0; }
    .card ul { margin: .1em 0; padding-left: 1.1em; }
    .card bdi { unicode-bidi: plaintext; }
    .card .neg { border-left: 3px solid #b91c1c; padding-left: .45em; margin-top: .5em; }
    .card a { color: #1d4ed8; }
    .card[data-theme="dark"] a { color: #93c5fd; }
  `;

  function band(score) {
    if (score >= 80) return 5;
    if (score >= 60) return 4;
    if (score >= 40) return 3;
    if (score >= 20) return 2;
    return 1;
  }

  // `text` is shown as generated content (the sheet's [data-t]::before), never as a text node.
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.setAttribute("data-t", text);
    if (cls) e.className = cls;
    return e;
  }

  // A line of the card from plain texts and captured ones (iso(text)). Each captured text (a
  // name, an identity, a site, a topic) is drawn in a <bdi> of its own, isolated from the words
  // and numbers beside it, so that a right-to-left name cannot take the ": 3.7" after it into its
  // run ("3.7 :محمد points"). dir="auto" would not see the text, which is generated content:
  // `unicode-bidi: plaintext` (an isolate whose direction is its own first strong letter) does.
  function line(tag, parts, cls) {
    const e = el(tag, undefined, cls);
    for (const p of parts) {
      if (typeof p !== "string") e.append(el("bdi", p.iso));
      else if (p) e.append(el("span", p));
    }
    return e;
  }
  const iso = (text) => ({ iso: String(text) });
  const nameOf = (v) => (typeof v === "string" && v.trim() ? v.trim() : null);

  // What an element shows, as textContent would give it if the texts were text nodes.
  function shown(node) {
    let out = node.getAttribute("data-t") || "";
    for (const e of node.querySelectorAll("[data-t]")) out += e.getAttribute("data-t");
    return out;
  }

  function num(v) {
    const n = Number(v);
    if (!Number.isFinite(n)) return "0";
    return String(Math.round(n * 10) / 10);
  }

  // Points and weights as the dashboard writes them (server/dashboard.py's `points`: two decimals
  // below 10, one from 10), without trailing zeros: a hostile reply's weight 0.04 is "0.04" on
  // both, not "0" here. One that would still round to 0 keeps two significant digits.
  function points(v) {
    const n = Number(v);
    if (!Number.isFinite(n)) return "0";
    let s = n.toFixed(Math.abs(n) < 10 ? 2 : 1);
    if (Number(s) === 0 && n !== 0) s = n.toFixed(Math.min(100, 1 - Math.floor(Math.log10(Math.abs(n)))));
    return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
  }

  // A reply's weight as the dashboard writes it (server/dashboard.py's `times`): "×7.6", "×25".
  function times(v) {
    const n = Number(v);
    if (!Number.isFinite(n)) return "";
    const s = n.toFixed(n < 10 ? 1 : 0);
    return "\u00d7" + (s.endsWith(".0") ? s.slice(0, -2) : s);
  }

  // pages.js has the same, but it is not among the content scripts
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  // a reach counts someone whose engagement has aged as part of a person
  const peopleCount = (n) => Number.isInteger(n) ? plural(n, "person", "people")
    : `${points(n)} people (older engagement counts for less)`;

  // The scorer's pseudo-person for reactions, named as the dashboard names it.
  const AUDIENCE = "(audience)";
  const whoLabel = (who) => (who === AUDIENCE ? "the audience (likes and votes)" : who);

  function signed(v) {
    const s = num(v);
    return Number(s) > 0 ? `+${s}` : s;
  }

  // {key: points} or [{name|topic|identity, score|points}] -> [[label, value]], largest first.
  function pairs(v) {
    let out = [];
    if (Array.isArray(v)) {
      for (const x of v) {
        if (x && typeof x === "object") {
          const label = x.topic ?? x.name ?? x.identity ?? x.kind ?? x.site;
          const value = x.score ?? x.points ?? x.weight ?? x.count;
          if (label !== undefined) out.push([String(label), value]);
        } else if (x !== undefined && x !== null) out.push([String(x), undefined]);
      }
    } else if (v && typeof v === "object") {
      out = Object.entries(v).map(([k, x]) => [k, x && typeof x === "object" ? x.points ?? x.score : x]);
    }
    out.sort((a, b) => (Number(b[1]) || 0) - (Number(a[1]) || 0));
    return out;
  }

  function negativeOf(neg) {
    if (typeof neg === "number") return { count: neg, points: undefined, people: undefined };
    if (!neg || typeof neg !== "object") return { count: 0 };
    return { count: Number(neg.count ?? neg.interactions ?? 0) || 0, points: neg.points ?? neg.weight, people: neg.people };
  }

  // The background behind the pill decides the hovercard's colours, not the OS theme: a dark
  // site on a light desktop still gets a dark card. Read at each opening, from the nearest box
  // that paints one: a site can switch to dark while it is open, or paint it on a wrapper.
  function themeOf(node) {
    for (; node && node.nodeType === 1; node = node.parentElement) {
      const m = /rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)/.exec(getComputedStyle(node).backgroundColor);
      if (!m || (m[4] !== undefined && Number(m[4]) < 0.5)) continue;
      const lum = (0.2126 * m[1] + 0.7152 * m[2] + 0.0722 * m[3]) / 255;
      return lum < 0.45 ? "dark" : "light";
    }
    return "light";
  }

  // One constructed stylesheet shared by every badge root: parsing the same CSS once per badge
  // is most of the cost of drawing a thousand of them. Where a content script cannot adopt
  // sheets (older Firefox), each root gets its own <style>.
  let sharedSheet = null;
  try {
    sharedSheet = new CSSStyleSheet();
    sharedSheet.replaceSync(STYLE);
  } catch (e) {
    sharedSheet = null;
  }

  function styleRoot(root) {
    if (sharedSheet) {
      try {
        root.adoptedStyleSheets = [sharedSheet];
        return;
      } catch (e) {
        sharedSheet = null;
      }
    }
    const style = document.createElement("style");
    style.textContent = STYLE;
    root.appendChild(style);
  }

  // The window a fixed card can be seen in: without its scrollbars, which innerWidth and
  // innerHeight include. The root element measures it, or the body on a quirks-mode page
  // (Hacker News has no doctype).
  function windowSize() {
    const root = document.compatMode === "BackCompat" ? document.body : document.documentElement;
    const w = root && root.clientWidth;
    const h = root && root.clientHeight;
    return { w: w ? Math.min(w, innerWidth) : innerWidth, h: h ? Math.min(h, innerHeight) : innerHeight };
  }

  // timer wraps callbacks this file schedules itself, so the content script's accounting of its
  // main-thread time covers them too.
  const settings = { server: null, style: "score", timer: (fn) => fn, viewOnly: false };
  let serial = 0;

  function dashboardLink(identity) {
    // Built from the configured server address only; the identity is a path segment, encoded.
    if (!settings.server) return null;
    try {
      const base = new URL(settings.server);
      if (base.protocol !== "http:" && base.protocol !== "https:") return null;
      return new URL(`/people/${encodeURIComponent(identity)}`, base.origin).href;
    } catch (e) {
      return null;
    }
  }

  // The least height worth giving a card beside its pill rather than over it (a title and a few lines).
  const MIN_ROOM = 120;

  // A name inside a link that is just the name (a Genesis theme's byline:
  // a.entry-author-link > span.entry-author-name) put the pill inside the link: a click on the
  // pill followed the link off the page, and a button inside a link is a control inside a
  // control to assistive technology. The badge goes after such a link. A link around more than
  // the name (a whole comment) is left alone: after it would be far from the name.
  const CONTROL = "a[href], button, summary, label";
  function outsideControl(anchor) {
    const up = anchor.parentElement;
    const control = up && up.closest(CONTROL);
    return control && control.textContent.trim() === anchor.textContent.trim() ? control : anchor;
  }

  const NO_SPAN_CHILD = new Set(["UL", "OL", "MENU", "DL", "TABLE", "THEAD", "TBODY", "TFOOT", "TR", "SELECT"]);

  // Badges whose card is open, so a rescoring redraws the cards someone is reading.
  const openBadges = new Set();

  // What a pill shows for a person: a score, or a state. `key` changes exactly when the pill
  // must be repainted; the label is the only part that names the person.
  // What a scored pill shows changes with the score, and with whether anything counted towards
  // it (nothing counted: a thread from years ago, or nobody has engaged yet; the score is the
  // floor, drawn apart from a low score that something earned).
  function scoredKey(summary) {
    const score = Number(summary.score) || 0;
    return anyCounted(summary) ? score : `uncounted ${score}`;
  }

  // `interactions` counts replies and mentions from people; likes and votes come from no one
  // person and are not among them, yet they count (the kind "reaction"). A Reddit comment with
  // upvotes and no replies scored 13 on a pale band, its card saying "nothing counted yet" and
  // "1 is where everyone starts" above "the audience (likes and votes): 13.3 points".
  function anyCounted(summary) {
    return Number(summary.interactions) > 0 || reactionPoints(summary) > 0;
  }

  function reactionPoints(summary) {
    const kinds = summary.by_kind;
    if (!kinds || typeof kinds !== "object" || Array.isArray(kinds)) return 0;
    const v = kinds.reaction;
    return Number(v && typeof v === "object" ? v.points ?? v.score : v) || 0;
  }

  function lookOf(person) {
    const { summary, state, identity } = person;
    if (summary) {
      const score = Number(summary.score) || 0;
      const key = scoredKey(summary);
      if (key !== score) {
        return { key, state: "scored", band: "0", text: String(score),
          label: `Cloutlens score ${score} of 100 for ${identity}: nothing counted yet. Press Enter for details.` };
      }
      return { key: score, state: "scored", band: String(band(score)), text: String(score),
        label: `Cloutlens score ${score} of 100 for ${identity}. Press Enter for details.` };
    }
    // The server has no score (summary null): nothing by or about them is stored. Not "…": that
    // is a score on its way, and this one is not coming.
    const [name, label] = state || (summary === null
      ? ["none", `Cloutlens: no score for ${identity}: nothing by or about them is stored` + (settings.viewOnly
        ? " (view-only mode stores nothing: turn capture on in the Cloutlens toolbar popup)"
        : " (reload the page to capture what they wrote here)")]
      : ["pending", "Cloutlens: scoring…"]);
    return { key: `${name}\n${label}`, state: name, band: null,
      text: name === "offline" || name === "queued" || name === "none" ? "–" : name === "unpaired" ? "?" : "…", label };
  }

  // Pills already painted, one per badge style and look (a score or a state: a few hundred at
  // most, since labels are not part of it), cloned for each new badge: one native call, then its
  // label, instead of a dozen element and attribute writes. Painted before the badge is in the
  // page, the writes cost the browser no style invalidation each.
  const templates = new Map();
  function pillFor(style, look) {
    const k = `${style}|${look.state}|${look.text}`;
    let t = templates.get(k);
    if (!t) {
      t = el("span", look.text, "badge");
      t.tabIndex = 0;
      t.setAttribute("role", "button");
      t.setAttribute("aria-expanded", "false");
      t.setAttribute("data-style", style);
      t.setAttribute("data-state", look.state);
      if (look.band) t.setAttribute("data-band", look.band);
      templates.set(k, t);
    }
    const pill = t.cloneNode(true);
    pill.setAttribute("aria-label", look.label);
    return pill;
  }

  // host element -> Badge. Events from inside a badge reach the window retargeted to its host, so
  // one set of listeners serves every badge: a thousand badges add no listeners. Moves between
  // the pill and its card stay inside the host and never reach the window (the event path ends at
  // the shadow root when both ends are in it), so "over" and "out" mean entering and leaving.
  const byHost = new WeakMap();
  const byAnchor = new WeakMap(); // name element -> its Badge
  let listening = false;

  // Only the user's own input counts: a page can dispatch mouseover, focusin or keydown on any
  // host to open its card (isTrusted is false for those, and the page cannot forge it).
  function badgeOf(ev) {
    if (!ev.isTrusted) return undefined;
    return ev.target && ev.target.nodeType === 1 ? byHost.get(ev.target) : undefined;
  }

  function listen() {
    if (listening) return;
    listening = true;
    const opts = true; // capture: before any page listener lower down can stop the event
    window.addEventListener("mouseover", (ev) => {
      const b = badgeOf(ev);
      if (b) b.show();
    }, opts);
    window.addEventListener("mouseout", (ev) => {
      const b = badgeOf(ev);
      // A short grace period lets the pointer travel from the pill onto the card's link.
      if (b && ev.relatedTarget !== b.host) b.hideSoon();
    }, opts);
    window.addEventListener("focusin", (ev) => {
      const b = badgeOf(ev);
      // A page's focus() makes trusted focus events: given a tabindex, the host itself takes
      // focus, and the card opened at the page's will. Only focus on the pill (or in the card),
      // which the page cannot reach, opens it.
      if (b && !b.returning && b.root.activeElement) b.show();
    }, opts);
    window.addEventListener("focusout", (ev) => {
      const b = badgeOf(ev);
      if (b && ev.relatedTarget !== b.host) b.hide();
    }, opts);
    window.addEventListener("keydown", (ev) => {
      const b = badgeOf(ev);
      if (b) b.key(ev);
      else if (ev.isTrusted && ev.key === "Escape") for (const open of [...openBadges]) open.hide();
    }, opts);
    // an open card is placed in the window: it follows its pill when the page or a box scrolls
    const follow = () => { for (const b of openBadges) b.place(); };
    window.addEventListener("scroll", follow, { capture: true, passive: true });
    window.addEventListener("resize", follow, { passive: true });
  }

  // A badge draws its person: {identity, summary, state, version}. Updating a person is O(1)
  // unless the pill itself changes (a new whole-number score or state); the card's content is
  // built when it is opened or read, from whatever the person holds then. A person can appear
  // hundreds of times on a page and be rescored after every capture.
  class Badge {
    constructor(anchor, person) {
      this.person = person;
      this.identity = person.identity;
      this.near = false;
      this.cardVersion = -1;
      this.hideTimer = 0;
      this.returning = false;
      this.entered = false; // Enter took the reader into the open card
      this.host = document.createElement("span");
      this.root = this.host.attachShadow({ mode: "closed" });
      styleRoot(this.root);
      // What the pill shows: its person's look when it was painted, a shared object that is
      // replaced only when the pill must change.
      this.look = person.look;
      this.pill = pillFor(settings.style, this.look);
      // The card element itself is made on first open: most badges are never opened.
      this.card = null;
      this.root.append(this.pill);
      byHost.set(this.host, this);
      byAnchor.set(anchor, this);
      listen();
      // Beside the name, unless the name is itself a list item or a table cell's row part: a
      // span there would be an invalid child that the browser lays out on a line of its own.
      const at = outsideControl(anchor);
      const parent = at.parentElement;
      if (parent && NO_SPAN_CHILD.has(parent.tagName)) at.append(this.host);
      else at.after(this.host);
      watch(this);
    }

    show() {
      clearTimeout(this.hideTimer);
      // Focus can reach a badge before the observer has seen it come near (Tab scrolls to it).
      this.paint();
      const card = this.ensureCard();
      if (card.hidden) {
        this.renderCard();
        card.setAttribute("data-theme", themeOf(this.host.parentElement));
        card.hidden = false;
        // In the top layer where the browser has it, so no ancestor's overflow, transform or
        // stacking clips the card; placed by the pill in either case (place()).
        if (card.showPopover) {
          card.popover = "manual";
          card.showPopover();
        }
        openBadges.add(this);
        this.pill.setAttribute("aria-expanded", "true");
      }
      this.place();
    }

    // Below the pill, or above it where there is more room; always whole in the window (4 px
    // from each edge) and never over its pill: a card taller than the room on its side is cut to
    // that room and scrolls inside, since a fixed card in the top layer cannot be reached by
    // scrolling the page.
    place() {
      if (!this.card || this.card.hidden) return;
      const M = 4;
      const GAP = 6;
      const { w: vw, h: vh } = windowSize();
      const r = this.pill.getBoundingClientRect();
      // Scrolled out of the window, the pill would leave its card pinned to an edge over other
      // people's comments: the card waits, unseen, for the pill to come back.
      const away = r.bottom < 0 || r.top > vh || r.right < 0 || r.left > vw;
      this.card.style.visibility = away ? "hidden" : "";
      if (away) return;
      // The card's whole height, whatever it is cut to now (scrollHeight and its borders): setting
      // its max-height back to measure it would reset a card the reader has scrolled.
      const card = this.card;
      const whole = card.scrollHeight + card.offsetHeight - card.clientHeight;
      const w = card.getBoundingClientRect().width;
      const roomBelow = vh - M - (r.bottom + GAP);
      const roomAbove = r.top - GAP - M;
      const below = whole <= roomBelow || roomBelow >= roomAbove;
      // Taller than the room on its side, the card is cut to that room and scrolls: cut to the
      // window and pushed back inside it, it lay over its own pill (a Reddit card at 375 px),
      // focus ring and all. Only a window too short to leave a useful card beside the pill
      // gets the window's height.
      const room = below ? roomBelow : roomAbove;
      const max = room >= MIN_ROOM ? room : vh - 2 * M;
      card.style.maxHeight = `${Math.max(0, max)}px`;
      const h = Math.min(whole, max);
      const top = below ? r.bottom + GAP : r.top - GAP - h;
      card.style.top = `${Math.max(M, Math.min(top, vh - M - h))}px`;
      card.style.left = `${Math.max(M, Math.min(r.left, vw - M - w))}px`;
    }

    hide() {
      clearTimeout(this.hideTimer);
      this.entered = false;
      const link = this.card && this.card.querySelector("a");
      if (link) link.tabIndex = -1;
      if (this.card) {
        if (this.card.hidePopover && this.card.matches(":popover-open")) this.card.hidePopover();
        this.card.hidden = true;
      }
      openBadges.delete(this);
      this.pill.setAttribute("aria-expanded", "false");
    }

    hideSoon() {
      clearTimeout(this.hideTimer);
      this.hideTimer = setTimeout(() => this.hide(), 200);
    }

    key(ev) {
      // Which element inside has focus: only this closed root can say.
      const inside = this.root.activeElement;
      if (ev.key === "Escape") {
        const inCard = this.card && this.card.contains(inside);
        this.hide();
        if (inCard) {
          // focus goes back to the pill without opening the card again (focus events are synchronous)
          this.returning = true;
          this.pill.focus();
          this.returning = false;
        }
      } else if (inside === this.pill && (ev.key === "Enter" || ev.key === " ")) {
        // Focus has already opened the card: Enter, as the label says, takes the reader into
        // it (closing it there hid the details from whoever followed the label)
        ev.preventDefault();
        this.show();
        this.entered = true;
        const link = this.card.querySelector("a");
        if (link) link.tabIndex = 0;
        this.card.focus();
      }
    }

    // Repaints the pill for the person now, if what it shows has changed.
    paint() {
      const look = this.person.look;
      const was = this.look;
      if (look === was) return;
      this.look = look;
      // Only what differs is written: most repaints move a score within its band, and every
      // write costs a call into the DOM (and, for the attributes the sheet selects on, a style check).
      const pill = this.pill;
      if (look.state !== was.state) pill.setAttribute("data-state", look.state);
      if (look.band !== was.band) {
        if (look.band) pill.setAttribute("data-band", look.band);
        else pill.removeAttribute("data-band");
      }
      if (look.text !== was.text) pill.setAttribute("data-t", look.text);
      pill.setAttribute("aria-label", look.label);
    }

    ensureCard() {
      if (!this.card) {
        this.card = el("div", undefined, "card");
        this.card.id = `card-${++serial}`;
        this.card.hidden = true;
        this.card.setAttribute("role", "dialog");
        this.card.tabIndex = -1; // Enter on the pill moves focus here
        this.pill.setAttribute("aria-controls", this.card.id);
        this.root.append(this.card);
      }
      return this.card;
    }

    renderCard() {
      this.ensureCard();
      if (this.cardVersion === this.person.version) return;
      this.cardVersion = this.person.version;
      const { summary } = this.person;
      if (summary) {
        const score = Number(summary.score) || 0;
        this.card.replaceChildren(...this.cardFor(summary, score, signed(summary.trend)));
      } else {
        // The pill's label names Cloutlens for a screen reader met in the page; in the card,
        // whose title says whom it is about, the state starts the sentence.
        let label = this.pill.getAttribute("aria-label").replace(/^Cloutlens: /, "");
        label = label.charAt(0).toUpperCase() + label.slice(1);
        const at = label.indexOf(this.identity);
        const name = nameOf(this.person.name);
        const head = [line("h3", [iso(name || this.identity)])];
        if (name) head.push(line("p", [iso(this.identity)], "who"));
        this.card.replaceChildren(...head, line("p", at < 0 ? [label]
          : [label.slice(0, at), iso(this.identity), label.slice(at + this.identity.length)]));
      }
      // Screen readers read generated content too; the dialog's name says what it is about.
      this.card.setAttribute("aria-label", shown(this.card.firstChild));
      this.place(); // a card drawn again may be taller
    }

    cardFor(summary, score, trend) {
      const name = nameOf(summary.name) || nameOf(this.person.name);
      const who = iso(name || this.identity);
      const parts = [line("h3", summary.own === true ? ["You (", who, `): ${score} of 100`] : [who, `: ${score} of 100`])];
      if (name) parts.push(line("p", [iso(this.identity)], "who"));
      const counted = Number(summary.interactions) || 0;
      parts.push(el("p", `Trend ${trend} points over the last 7 days · ` + (counted || !reactionPoints(summary)
        ? `${plural(counted, "interaction", "interactions")} from ${plural(Number(summary.people) || 0, "person", "people")}`
        : "likes and votes only, no reply or mention yet")));
      // the score is what they receive; what their own reply gives is their standing's weight,
      // and the two differ most for a newcomer lifted by one weighty reply
      const weight = Number(summary.weight);
      if (Number.isFinite(weight) && weight >= 1) {
        parts.push(el("p", `A reply from them counts ${times(weight)} beside one from someone nobody engages.`));
      }
      const group = summary.group && typeof summary.group === "object" ? summary.group : null;
      const members = group ? Number(group.accounts) : 0;
      if (members > 0) {
        parts.push(el("p", `Their score comes from a closed group: ${plural(members, "account", "accounts")} that ` +
          `nobody else engages and that engage nobody else but them (${plural(Number(group.interactions) || 0,
            "interaction", "interactions")}). A ring, or friends who read nobody else.`));
      }
      const reach = Number(summary.reach);
      if (summary.reach !== null && Number.isFinite(reach) && reach >= 0) {
        parts.push(el("p", `Held here by their reach: ${peopleCount(reach)} within three steps of them (who engages ` +
          "them, who engages those, and one step further). A score of 30 needs 9 such people, 40 needs 27."));
      }
      if (!anyCounted(summary)) {
        const days = Number(summary.counted_days);
        parts.push(el("p", "Nothing counted yet: Cloutlens has seen no reply, mention or reaction to them " +
          (days > 0 ? `from the last ${days.toLocaleString("en")} days that counts (about ${Math.round(days / 365)} years; ` +
            "older ones count for nothing, and hostile replies never do)" : "that counts") +
          ". 1 is where everyone starts."));
      }

      const top = pairs(summary.top);
      if (top.length) {
        parts.push(el("h4", "Top people"));
        const ul = el("ul");
        for (const [who, pts] of top) ul.append(line("li", [iso(whoLabel(who)), `: ${points(pts)} points`]));
        parts.push(ul);
      }
      for (const [title, data] of [["By kind (points)", summary.by_kind], ["By site (points)", summary.by_site]]) {
        const rows = pairs(data);
        if (!rows.length) continue;
        parts.push(el("h4", title));
        parts.push(line("p", rows.flatMap(([k, v], i) => [i ? " · " : "", iso(k), ` ${points(v)}`])));
      }
      const topics = pairs(summary.topics);
      parts.push(el("h4", "Topics"));
      parts.push(topics.length ? line("p", topics.flatMap(([k, v], i) => [i ? " · " : "", iso(k), v === undefined ? "" : ` ${points(v)}`]))
        : el("p", "None yet: a topic needs at least 3 interactions from 2 people."));

      const neg = negativeOf(summary.negative);
      const negBox = el("div", undefined, "neg");
      negBox.append(el("h4", "Negative engagement (not counted)"));
      negBox.append(el("p", neg.count
        ? `${neg.count} clearly negative ${neg.count === 1 ? "reply" : "replies"}` +
          (neg.people ? ` from ${plural(neg.people, "person", "people")}` : "") +
          (neg.points !== undefined
            ? ` (${neg.count === 1 ? "it weighs" : "together they weigh"} ${points(neg.points)}: kept out of the score)` : "")
        : "None"));
      parts.push(negBox);

      const href = dashboardLink(this.identity);
      if (href) {
        const a = el("a", "Why? Open on your dashboard");
        a.href = href;
        // in the Tab order only once Enter took the reader into the card (key()): otherwise each
        // badge on a long thread would be two stops
        a.tabIndex = this.entered ? 0 : -1;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        const p = el("p");
        p.append(a);
        parts.push(p);
      }
      return parts;
    }

    remove() {
      clearTimeout(this.hideTimer);
      unwatch(this);
      byHost.delete(this.host);
      this.host.remove();
    }

    // For the page-state message (tests): what the badge shows, read from what it draws.
    read() {
      this.renderCard();
      const sections = {};
      let current = "";
      for (const node of this.card.querySelectorAll("h4, p:not(.who), li")) {
        if (node.tagName === "H4") current = shown(node);
        else (sections[current] = sections[current] || []).push(shown(node));
      }
      const link = this.card.querySelector("a");
      const who = this.card.querySelector(".who");
      const box = this.card.getBoundingClientRect();
      const rects = (e) => [...e.getClientRects()].map((r) => ({ left: r.left, right: r.right, top: r.top }));
      return {
        identity: this.identity, text: shown(this.pill), label: this.pill.getAttribute("aria-label"),
        title: shown(this.card.firstChild), who: who ? shown(who) : null,
        state: this.pill.dataset.state, band: this.pill.dataset.band || null, style: this.pill.dataset.style,
        background: getComputedStyle(this.pill).backgroundColor, color: getComputedStyle(this.pill).color,
        visibility: getComputedStyle(this.pill).visibility,
        card: shown(this.card), cardOpen: !this.card.hidden, cardFocused: this.root.activeElement === this.card,
        theme: this.card.dataset.theme || null,
        // the pill's box (a dot's hit area), and whether the open card can be seen where it is
        pillBox: (({ width, height, top, bottom }) => ({ width, height, top, bottom }))(this.pill.getBoundingClientRect()),
        cardVisibility: this.card.hidden ? null : getComputedStyle(this.card).visibility,
        // where the open card is in the window, and whether its overflow scrolls
        cardBox: this.card.hidden ? null : { top: box.top, bottom: box.bottom, left: box.left, right: box.right,
          scrollHeight: this.card.scrollHeight, clientHeight: this.card.clientHeight,
          overflowY: getComputedStyle(this.card).overflowY, innerWidth, innerHeight },
        // the open card's bidi-isolated texts, where each is drawn and where the text after it is
        isolated: this.card.hidden ? null : [...this.card.querySelectorAll("bdi")].map((e) => ({
          text: shown(e), unicodeBidi: getComputedStyle(e).unicodeBidi, rects: rects(e),
          after: e.nextElementSibling ? rects(e.nextElementSibling) : [] })),
        sections, link: link ? link.href : null, connected: this.host.isConnected,
        near: this.near, stale: this.look !== this.person.look,
      };
    }
  }

  // identity -> person {identity, summary, state, version, look, badges, near}: one annotation per
  // person, however often they appear. `look` is what their pills show, made once per change of
  // pill (not per badge: a person can have hundreds).
  const people = new Map();
  // The hosts we inserted, so the content script's observers can ignore their own writes.
  const hosts = new WeakSet();

  function pillKeyOf(person) {
    return person.summary ? scoredKey(person.summary) : lookOf(person).key;
  }

  // A person's score change repaints only their badges near the screen: a person can appear
  // hundreds of times on a long thread and be rescored after every capture, and repainting all
  // of them each time was most of the content script's cost. A badge farther away keeps its old
  // pill (its label too) and is repainted when it comes near, from its person's record as it is
  // then, so however many rescorings happened in between it is painted once. The margin is wider
  // than a screen so that scrolling finds badges already current.
  const NEAR_MARGIN = "1000px 0px";
  let nearObserver = null;
  let nearTried = false;

  function onNear(entries) {
    for (const e of entries) {
      const b = byHost.get(e.target);
      if (!b) continue;
      b.near = e.isIntersecting;
      if (b.near) {
        b.person.near.add(b);
        b.paint();
      } else b.person.near.delete(b);
    }
  }

  function watch(b) {
    if (!nearTried) {
      nearTried = true;
      try {
        nearObserver = new IntersectionObserver(settings.timer(onNear), { rootMargin: NEAR_MARGIN });
      } catch (e) {
        nearObserver = null;
      }
    }
    // Without an observer every badge counts as near, and a change repaints them all.
    if (nearObserver) nearObserver.observe(b.host);
    else {
      b.near = true;
      b.person.near.add(b);
    }
  }

  function unwatch(b) {
    if (nearObserver) nearObserver.unobserve(b.host);
    b.person.near.delete(b);
    b.near = false;
  }

  function isForgotten(person) {
    return person.state !== null && person.state[0] === "forgotten";
  }

  function hasOpenCard(person) {
    for (const b of openBadges) if (b.person === person) return true;
    return false;
  }

  function changed(person) {
    person.version += 1;
    // Rescorings mostly move points, not the whole score: then no badge of this person changes.
    const key = pillKeyOf(person);
    if (key !== person.look.key) {
      person.look = lookOf(person);
      for (const b of person.near) b.paint();
    }
    for (const b of openBadges) if (b.person === person) b.renderCard();
  }

  // What shows nothing (zero-width spaces and joiners, direction marks, soft hyphens) and control
  // characters, which terminals act on: removed from handles, as the server does. The control
  // characters Python counts as spaces and JavaScript does not (\x1c-\x1f, \x85) go with them, so
  // both sides agree.
  const INVISIBLE = /[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
  function identityGuess(site, handle) {
    // The server's normalisation (scoring/items.py normalize_handle), used only when the server
    // cannot be asked: offline badges and view-only mode.
    const h = String(handle).replace(INVISIBLE, "").normalize("NFC").trim().replace(/^@/, "").trim();
    return `${String(site).toLowerCase()}:${h.replace(/\s+/g, " ").toLowerCase()}`;
  }

  globalThis.CloutlensBadges = {
    points, // how the card writes points and weights (unit tests)
    times,
    identityGuess,
    configure({ server, style, timer, viewOnly } = {}) {
      if (viewOnly !== undefined) settings.viewOnly = viewOnly;
      if (server !== undefined) settings.server = server;
      if (style !== undefined) settings.style = style;
      if (timer !== undefined) settings.timer = timer;
    },
    // summary (optional): the score of a person not seen before, so that their first badge is
    // drawn with it rather than drawn pending and repainted.
    // forgotten: the server said to forget this person. Their first pill here is made hidden: made
    // pending and then forgotten, it would show "…" until the observer saw it come near, which on
    // a busy machine is many frames later.
    // name: as the page shows it, the title of a card the server has no name for.
    attach(anchor, identity, summary, forgotten = false, name = null) {
      let person = people.get(identity);
      if (!person) {
        person = { identity, summary: forgotten ? undefined : summary, state: forgotten ? ["forgotten", ""] : null,
          version: 0, look: null, badges: [], near: new Set(), name };
        person.look = lookOf(person);
        people.set(identity, person);
      } else if (!person.name && name) person.name = name;
      const b = new Badge(anchor, person);
      hosts.add(b.host);
      person.badges.push(b);
      return b;
    },
    isOurs(node) {
      return hosts.has(node);
    },
    update(identity, summary) {
      const person = people.get(identity);
      if (!person) return;
      // The score refresh asks for everyone again, and most answers have not changed. Only an open
      // card needs telling: redrawing it with the same content would take the focus off its link.
      // Anything else is O(1) whether it changed or not, cheaper than comparing summaries.
      if (person.state === null && person.summary && openBadges.size && hasOpenCard(person) &&
          JSON.stringify(summary) === JSON.stringify(person.summary)) return;
      person.summary = summary;
      person.state = null;
      changed(person);
    },
    setState(identities, state, label) {
      for (const id of identities) {
        const person = people.get(id);
        if (!person || person.summary || isForgotten(person)) continue;
        person.state = [state, label];
        changed(person);
      }
    },
    setStateAll(state, label) {
      for (const person of people.values()) {
        if (isForgotten(person)) continue;
        person.summary = undefined;
        person.state = [state, label];
        changed(person);
      }
    },
    // Drops badges whose name left the page (single-page apps replace whole threads).
    prune() {
      // Runs after every burst of captures over every badge: compacted in place, no new lists.
      for (const [id, person] of people) {
        const list = person.badges;
        let kept = 0;
        for (let i = 0; i < list.length; i++) {
          const b = list[i];
          if (b.host.isConnected) list[kept++] = b;
          else unwatch(b);
        }
        list.length = kept;
        if (!kept) people.delete(id);
      }
      for (const b of openBadges) if (!b.host.isConnected) openBadges.delete(b);
    },
    // Someone the user asked the server to forget: their pills are hidden, not removed (a badge
    // saying "no score yet" would suggest they are on their way to one). The host stays, as wide
    // as any other, so the page cannot tell whom the user forgot; a score given later (the user
    // let them back in) shows them again.
    forget(identity) {
      const person = people.get(identity);
      if (!person) return;
      for (const b of openBadges) if (b.person === person) b.hide();
      person.summary = undefined;
      person.state = ["forgotten", ""];
      changed(person);
    },
    // The badge drawn for this name element, taken away: the page wrote someone else's name
    // into it (a framework recycling the element).
    detach(anchor) {
      const b = byAnchor.get(anchor);
      if (!b) return;
      byAnchor.delete(anchor);
      b.hide();
      b.remove();
      const list = b.person.badges;
      const i = list.indexOf(b);
      if (i >= 0) list.splice(i, 1);
      // A badge let go before (its name left the page) may belong to a record since dropped,
      // and the identity to someone shown again under a record of their own: that one stays.
      if (!list.length && people.get(b.identity) === b.person) people.delete(b.identity);
    },
    removeAll() {
      for (const person of people.values()) for (const b of person.badges) b.remove();
      people.clear();
      openBadges.clear();
    },
    identities() {
      return [...people.keys()];
    },
    // The people whose badges wait for the server (down, not paired, busy): not scored, not
    // forgotten, not asked for yet.
    waiting() {
      const out = [];
      for (const person of people.values()) if (person.state !== null && !isForgotten(person)) out.push(person.identity);
      return out;
    },
    peopleCount() {
      return this.counts().people;
    },
    // The people shown: the forgotten keep their hidden pills, and are counted nowhere.
    counts() {
      let badges = 0;
      let scored = 0;
      let scoredPeople = 0;
      let shown = 0;
      for (const person of people.values()) {
        if (isForgotten(person)) continue;
        shown += 1;
        badges += person.badges.length;
        if (person.summary) {
          scored += person.badges.length;
          scoredPeople += 1;
        }
      }
      return { people: shown, badges, scored, scoredPeople };
    },
    read() {
      const out = [];
      for (const person of people.values()) for (const b of person.badges) out.push(b.read());
      return out;
    },
  };
  if (typeof module !== "undefined") module.exports = globalThis.CloutlensBadges;
})();
