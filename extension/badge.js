// Badges: one annotation per person, drawn next to every place their name appears.
// Each badge lives in a closed shadow root, so page scripts can neither read the user's scores nor
// restyle them, and everything in it is built with textContent: names are attacker controlled.
"use strict";

(function () {
  const STYLE = `
    :host { all: initial; display: inline-block; vertical-align: baseline; margin-left: .35em; position: relative; }
    .badge { display: inline-block; min-width: 1.6em; padding: 0 .35em; border-radius: .8em; font: 600 11px/1.6 system-ui, sans-serif;
             text-align: center; color: #fff; background: #6b7280; cursor: default; }
    .badge:focus-visible { outline: 2px solid #2563eb; outline-offset: 1px; }
    .badge[data-band="1"] { background: #6b7280; }
    .badge[data-band="2"] { background: #0f766e; }
    .badge[data-band="3"] { background: #1d4ed8; }
    .badge[data-band="4"] { background: #7e22ce; }
    .badge[data-band="5"] { background: #c2410c; }
    .badge[data-state="offline"], .badge[data-state="unpaired"], .badge[data-state="pending"] { background: #9ca3af; }
    .card { position: absolute; z-index: 2147483647; top: 1.9em; left: 0; width: 17em; padding: .6em .75em; border-radius: 8px;
            font: 12px/1.45 system-ui, sans-serif; color: #111827; background: #fff; box-shadow: 0 4px 18px #0004; }
    .card[hidden] { display: none; }
    .card h3 { margin: 0 0 .3em; font-size: 13px; }
    .card .muted { color: #6b7280; }
    .card ul { margin: .2em 0; padding-left: 1.1em; }
    @media (prefers-color-scheme: dark) { .card { color: #f3f4f6; background: #1f2937; } .card .muted { color: #9ca3af; } }
  `;

  function band(score) {
    if (score >= 80) return 5;
    if (score >= 60) return 4;
    if (score >= 40) return 3;
    if (score >= 20) return 2;
    return 1;
  }

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function fmtTrend(t) {
    const v = Math.round((t || 0) * 10) / 10;
    return v > 0 ? `+${v}` : `${v}`;
  }

  class Badge {
    constructor(anchor, identity) {
      this.identity = identity;
      this.host = document.createElement("span");
      const root = this.host.attachShadow({ mode: "closed" });
      root.appendChild(el("style", STYLE));
      this.pill = el("span", "…", "badge");
      this.pill.tabIndex = 0;
      this.pill.setAttribute("role", "img");
      this.card = el("div", undefined, "card");
      this.card.hidden = true;
      this.card.setAttribute("role", "tooltip");
      root.append(this.pill, this.card);
      const show = () => { this.card.hidden = false; };
      const hide = () => { this.card.hidden = true; };
      this.pill.addEventListener("mouseenter", show);
      this.pill.addEventListener("mouseleave", hide);
      this.pill.addEventListener("focus", show);
      this.pill.addEventListener("blur", hide);
      anchor.after(this.host);
      this.setState("pending", "Cloutlens: scoring…");
    }

    setState(state, label) {
      this.pill.dataset.state = state;
      delete this.pill.dataset.band;
      this.pill.textContent = state === "offline" ? "–" : state === "unpaired" ? "?" : "…";
      this.pill.setAttribute("aria-label", label);
      this.card.replaceChildren(el("p", label));
    }

    show(summary) {
      if (!summary) {
        this.setState("pending", `Cloutlens: no score yet for ${this.identity}`);
        return;
      }
      this.pill.dataset.state = "scored";
      this.pill.dataset.band = String(band(summary.score));
      this.pill.textContent = String(summary.score);
      this.pill.setAttribute("aria-label", `Cloutlens score ${summary.score} of 100 for ${this.identity}`);
      const parts = [el("h3", `${this.identity}: ${summary.score}`)];
      parts.push(el("p", `Trend ${fmtTrend(summary.trend)} · ${summary.interactions} interactions from ${summary.people} people`, "muted"));
      if (summary.top && summary.top.length) {
        parts.push(el("p", "Top engagement from"));
        const ul = el("ul");
        for (const t of summary.top) ul.append(el("li", `${t.identity} (${t.points})`));
        parts.push(ul);
      }
      const neg = summary.negative || {};
      if (neg.count) parts.push(el("p", `Negative replies, not counted: ${neg.count}`, "muted"));
      this.card.replaceChildren(...parts);
    }

    read() {
      return { identity: this.identity, text: this.pill.textContent, label: this.pill.getAttribute("aria-label"),
               state: this.pill.dataset.state, card: this.card.textContent };
    }
  }

  // identity -> {summary, badges: Badge[]}: one annotation per person, however often they appear.
  const people = new Map();

  globalThis.CloutlensBadges = {
    attach(anchor, identity) {
      let person = people.get(identity);
      if (!person) {
        person = { summary: undefined, badges: [] };
        people.set(identity, person);
      }
      const b = new Badge(anchor, identity);
      if (person.summary !== undefined) b.show(person.summary);
      person.badges.push(b);
      return b;
    },
    update(identity, summary) {
      const person = people.get(identity);
      if (!person) return;
      person.summary = summary;
      for (const b of person.badges) b.show(summary);
    },
    setStateAll(state, label) {
      for (const person of people.values()) for (const b of person.badges) b.setState(state, label);
    },
    identities() {
      return [...people.keys()];
    },
    read() {
      const out = [];
      for (const person of people.values()) for (const b of person.badges) out.push(b.read());
      return out;
    },
  };
})();
