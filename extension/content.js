// The content script: page -> items -> (background -> server) -> scores -> badges.
// It runs on every page but does nothing unless the user's settings allow the site and an adapter
// recognises the page's comment markup.
//
// Huge threads are the case to design for (Reddit Enhancement Suite's worst bugs were slowdowns):
// - MutationObservers watch only comments and the lists holding them, for added children only;
// - a WeakSet remembers every comment and name already handled, so nothing is processed twice;
// - comments far off screen wait for an IntersectionObserver before any extraction;
// - work runs in small slices between frames, and the comments one gathering brings go to the
//   server as one batched capture; extract.js reads only the slice's comments (its `elements`
//   option).
"use strict";

(function () {
  if (globalThis.__cloutlensStarted) return; // injected twice (e.g. by a reload of the extension)
  globalThis.__cloutlensStarted = true;

  const Extract = globalThis.CloutlensExtract;
  const Badges = globalThis.CloutlensBadges;

  // A slice of work stops after this much main-thread time and yields to the page, however many
  // comments that covered: how long a comment takes varies with the site, the machine and
  // whether the engine's code is still cold, so the time is measured, not assumed.
  const SLICE_MS = 8;
  const FULL_SLICE = 250; // comments waiting that are worth a slice at once, without gathering more
  const MAX_CHUNK = 60; // comments per extraction call at most, whatever the estimate says
  const NEAR_SCREEN = "1200px 0px"; // how far off screen a comment still counts as about to be seen
  const REFRESH_DELAY = 1500;

  // In a frame (Disqus's comment frame on a blog), the frame is a page of its own: its own
  // address goes into the capture, its own site scopes identities (Disqus handles are
  // Disqus-wide, whichever blog shows them: the adapter says disqus.com), and its badges are
  // drawn inside it. The capture cannot name the embedding page as its address, since the server
  // only accepts a site that is the address's host; the thread it discusses is the post's id.
  const inFrame = window.top !== window;

  const state = {
    enabled: false, capture: false, reason: "starting", host: location.hostname, frame: inFrame,
    adapter: null, items: 0, people: 0, queued: 0, error: null, url: pageKey(), serve: "cloutlens serve",
    stats: { busyMs: 0, slices: 0, maxSliceMs: 0, captures: 0, commentsSeen: 0, extractMs: 0, sendMs: 0, drawMs: 0, byName: {} },
  };

  let adapters = null;
  let adapter = null;
  let itemSelector = "";
  let wholeDocument = false;
  let processed = new WeakSet(); // comment elements and name elements already handled
  let sent = new Set(); // item ids already captured on this page
  let ready = []; // comment elements near the screen, waiting for a slice
  let sliceScheduled = false;
  let containerObserver = null; // childList only, on comments and the lists that hold them
  let lateObserver = null;
  let io = null;
  let watched = new WeakSet(); // elements already observed
  let lists = new WeakSet(); // parents of comments already looked at
  let refreshTimer = 0;

  function pageKey() {
    return location.origin + location.pathname + location.search;
  }

  // Every callback this script runs goes through here, so the benchmark can read how much main
  // thread time the content script took, and one failing step never stops the others.
  function timed(fn, name = fn.name || "other") {
    // The wrapper carries the callback's name, so a browser trace's calls say which callback ran.
    return { [name](...args) {
      const t0 = performance.now();
      try {
        return fn.apply(this, args);
      } catch (e) {
        state.error = e.message;
        return undefined;
      } finally {
        const dt = performance.now() - t0;
        state.stats.busyMs += dt;
        const by = state.stats.byName[name] || (state.stats.byName[name] = { ms: 0, max: 0, calls: 0 });
        by.ms += dt;
        by.calls += 1;
        if (dt > by.max) by.max = dt;
        if (dt > state.stats.maxSliceMs) state.stats.maxSliceMs = dt;
      }
    } }[name];
  }

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

  const later = typeof requestIdleCallback === "function"
    ? (fn) => requestIdleCallback(fn, { timeout: 300 })
    : (fn) => setTimeout(fn, 16);

  // ---- settings

  async function loadConfig() {
    const cfg = await send({ type: "page-config" });
    state.enabled = cfg.enabled;
    state.capture = cfg.capture;
    state.reason = cfg.reason;
    if (cfg.serve) state.serve = cfg.serve;
    Badges.configure({ server: cfg.server, style: cfg.badgeStyle, timer: timed, viewOnly: !cfg.capture });
    return cfg;
  }

  // ---- finding comments

  function selectorsOf(a) {
    const specs = Array.isArray(a.items) ? a.items : a.items ? [a.items] : [];
    return specs.map((s) => s.select).filter(Boolean);
  }

  function useAdapter(a) {
    adapter = a;
    state.adapter = a.name;
    itemSelector = selectorsOf(a).join(", ");
    // An adapter with page-level data only (JSON-LD) has no comment elements to hand over.
    wholeDocument = !itemSelector;
  }

  function consider(el) {
    if (processed.has(el)) return;
    processed.add(el);
    state.stats.commentsSeen += 1;
    io.observe(el);
    // New comments arrive as children of a comment (a first reply, with its list) or of the
    // list a comment sits in; a top-level list's parent sees new pages of comments. Only direct
    // children are watched: a page rewriting text inside its comments ("5 minutes ago", every
    // second, on thousands of comments) never wakes us.
    watch(el);
    const list = el.parentElement;
    if (list && !lists.has(list)) {
      // A comment's siblings share its list: the list, and what holds it, are looked at once.
      lists.add(list);
      watch(list);
      // Above a top-level list, every ancestor up to the body: "load more" may add a whole new
      // section of comments several levels up (a <section> holding its own list), which watching
      // the list's parent alone never saw. A few elements, direct children only.
      if (!list.closest(itemSelector)) {
        for (let up = list.parentElement; up && up !== document.documentElement && !watched.has(up); up = up.parentElement) watch(up);
      }
    }
  }

  function watch(node) {
    if (watched.has(node)) return;
    watched.add(node);
    containerObserver.observe(node, { childList: true });
  }

  function scan(root) {
    const found = root.querySelectorAll ? root.querySelectorAll(itemSelector) : [];
    for (const el of found) consider(el);
    return found.length;
  }

  const onMutations = timed(function mutations(records) {
    checkNavigation();
    for (const r of records) {
      let redrawn = false;
      for (const node of r.addedNodes) {
        if (node.nodeType !== 1 || Badges.isOurs(node)) continue;
        let holdsComments = node.matches(itemSelector);
        if (holdsComments) consider(node);
        if (node.firstElementChild) for (const el of node.querySelectorAll(itemSelector)) {
          consider(el);
          holdsComments = true;
        }
        if (!holdsComments) redrawn = true;
      }
      // A comment whose own parts were drawn again (a framework re-rendering it in place) lost
      // its badge with its old name element: it is read again once near the screen. Its item
      // was sent already; only the new name gets a badge. A page that only adds a widget to its
      // comments, over and over, keeps their names and costs no reading.
      const t = r.target;
      if (redrawn && processed.has(t) && t.matches(itemSelector)) {
        const name = nameIn.get(t);
        if (!name || !t.contains(name)) io.observe(t);
      }
    }
  });

  const onIntersect = timed(function intersect(entries) {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      io.unobserve(e.target);
      ready.push(e.target);
    }
    scheduleSlice();
  });

  // Until comments exist (a single-page app renders them late, or after navigating), one
  // debounced look at the whole document per burst of changes; it stops once comments appear,
  // or after a while, so a page without comments does not pay for us for long.
  const LATE_WATCH_MS = 20000;
  let lateGiveUp = 0;

  function watchForLateComments() {
    clearTimeout(lateGiveUp);
    lateGiveUp = setTimeout(stopLateWatch, LATE_WATCH_MS);
    if (lateObserver) return;
    let timer = 0;
    lateObserver = new MutationObserver(() => {
      if (timer) return;
      timer = setTimeout(timed(function lateLook() {
        timer = 0;
        checkNavigation();
        if (tryStart()) stopLateWatch();
      }), 400);
    });
    lateObserver.observe(document.documentElement, { childList: true, subtree: true });
  }

  function stopLateWatch() {
    if (lateObserver) lateObserver.disconnect();
    lateObserver = null;
  }

  // ---- extraction, one slice at a time

  // Page-level results (the post, its author and id, the title) are the same for every slice;
  // extract.js keeps them in this cache between calls. A new one after navigation, and after a
  // quiet spell, so a byline a single-page app renders late is still found.
  let pageCache = {};
  let pageCacheUsed = 0;
  const PAGE_CACHE_MS = 3000;

  function extractCache() {
    const now = performance.now();
    if (now - pageCacheUsed > PAGE_CACHE_MS) pageCache = {};
    pageCacheUsed = now;
    return pageCache;
  }

  // Comments come into view a few at a time while the reader scrolls; waiting a moment gathers
  // them into fuller slices, and what a gathering finds goes to the server as one message (a
  // message costs the page's main thread about as much whatever its size, and each answer
  // rescores everyone in it). The first comments of a page are not kept waiting, nor the rest of
  // a gathering that a slice's time budget cut short.
  const GATHER_MS = 500;
  const SEND_MAX = 400; // items that go at once, without waiting for the gathering to end
  let outbox = null; // what the slices of the current gathering found

  function scheduleSlice() {
    if (sliceScheduled || !ready.length) return;
    sliceScheduled = true;
    const now = ready.length >= FULL_SLICE || outbox !== null || sent.size === 0;
    setTimeout(() => later(runSlice), now ? 0 : GATHER_MS);
  }

  function sendOutbox() {
    const out = outbox;
    outbox = null;
    if (!out || (!out.items.length && !out.anchors.length)) return;
    if (state.capture) state.items += out.items.length;
    const t0 = performance.now();
    const parts = partsOf(out.items);
    if (parts.length === 1) deliver({ v: out.v, page: out.page, items: out.items }, out.anchors);
    else {
      // Each part with the names of its own items; names of items sent before go with the last.
      const partOf = new Map();
      parts.forEach((items, i) => { for (const it of items) partOf.set(it.id, i); });
      const anchors = parts.map(() => []);
      for (const n of out.anchors) anchors[partOf.has(n.itemId) ? partOf.get(n.itemId) : parts.length - 1].push(n);
      parts.forEach((items, i) => deliver({ v: out.v, page: out.page, items }, anchors[i]));
    }
    state.stats.sendMs += performance.now() - t0;
  }

  // The server takes a body of 2 MB at most and refuses a larger one whole: 400 comments of
  // 2,000 emoji each (8 KB apiece in UTF-8) were lost together, their badges never scored. So a
  // gathering goes in parts of at most about 1.5 MB, counted generously (3 bytes for every UTF-16
  // unit of the long texts, a fixed allowance for the rest): an ordinary one stays one message.
  const PART_BYTES = 1500000;
  const PART_ITEMS = 1000; // the server takes 2,000 items a capture; JSON-LD comments come all at once
  function sizeOf(it) {
    return 3 * ((it.text || "").length + (it.url || "").length + ((it.author && it.author.url) || "").length) + 1500;
  }

  function partsOf(items) {
    const parts = [];
    let part = [];
    let bytes = 0;
    for (const it of items) {
      const n = sizeOf(it);
      if (part.length && (bytes + n > PART_BYTES || part.length >= PART_ITEMS)) {
        parts.push(part);
        part = [];
        bytes = 0;
      }
      part.push(it);
      bytes += n;
    }
    parts.push(part);
    return parts;
  }

  // Milliseconds one comment's extraction took lately: sizes each extraction call so that it
  // ends within the slice's budget.
  let msPerComment = 0.3;

  const runSlice = timed(function slice() {
    sliceScheduled = false;
    state.stats.slices += 1;
    checkNavigation();
    const t0 = performance.now();
    const out = outbox || (outbox = { page: null, v: 1, items: [], anchors: [] });
    while (ready.length) {
      const left = SLICE_MS - (performance.now() - t0);
      if (left <= 0) break;
      const batch = ready.splice(0, Math.max(1, Math.min(MAX_CHUNK, Math.floor(left / msPerComment))));
      const t1 = performance.now();
      extractInto(batch, out);
      msPerComment = (msPerComment + (performance.now() - t1) / batch.length) / 2;
    }
    if (!ready.length || out.items.length >= SEND_MAX) sendOutbox();
    scheduleSlice();
  });

  // One extraction call: its new items and the names still without a badge go into `out`, which
  // a slice sends as one capture.
  function extractInto(batch, out) {
    const t0 = performance.now();
    const elements = wholeDocument ? undefined : batch;
    const { capture, names } = Extract.extract(document, adapter, { url: location.href, elements, cache: extractCache() });
    state.stats.extractMs += performance.now() - t0;
    out.page = capture.page;
    out.v = capture.v;
    for (const it of capture.items) {
      if (sent.has(it.id)) continue;
      sent.add(it.id);
      out.items.push(it);
    }
    for (const n of names) {
      if (!n.element || processed.has(n.element) || !n.element.isConnected) continue;
      processed.add(n.element);
      watchName(n.element);
      const comment = itemSelector ? n.element.closest(itemSelector) : null;
      if (comment) nameIn.set(comment, n.element);
      out.anchors.push(n);
    }
  }

  // Frameworks recycle comment elements: Polymer (YouTube) writes other comments into the
  // elements it has, names in place, as on going to the next video. The badge there showed the
  // old person's score beside the new name, and the comment, read once, was never captured. So
  // every name with a badge is watched for its own text (names change seldom, unlike the "ago"
  // texts beside them), and a renamed one loses its badge and is read again with its comment.
  let nameObserver = null;
  let named = new WeakMap(); // name element -> its text when read
  let nameIn = new WeakMap(); // comment element -> the name element given a badge in it

  function watchName(el) {
    if (!nameObserver) nameObserver = new MutationObserver(onRenamed);
    named.set(el, el.textContent);
    nameObserver.observe(el, { characterData: true, childList: true, subtree: true });
  }

  const onRenamed = timed(function renamed(records) {
    const seen = new Set();
    for (const r of records) {
      let el = r.target;
      while (el && !named.has(el)) el = el.parentNode;
      if (!el || seen.has(el)) continue;
      seen.add(el);
      // Our own pill put inside a name (a list item) changes no text.
      if (el.textContent === named.get(el)) continue;
      named.delete(el);
      Badges.detach(el);
      processed.delete(el);
      const comment = itemSelector ? el.closest(itemSelector) : null;
      if (comment && processed.has(comment) && io) io.observe(comment);
    }
  });

  function identitiesFor(anchors, site) {
    return anchors.map((n) => {
      const id = Badges.identityGuess(site, n.handle);
      attach(n.element, id, latest.get(id), n.name);
      return id;
    });
  }

  // Badges whose names left the page go, and with them the last scores of people no longer on
  // it: an app that never reloads (YouTube, Reddit) went through thread after thread, and every
  // person of every thread kept their summary here for the whole session.
  function prune() {
    Badges.prune();
    if (latest.size <= Badges.peopleCount()) return;
    const here = new Set(Badges.identities());
    for (const id of latest.keys()) if (!here.has(id)) latest.delete(id);
  }

  function attach(el, id, summary, name) {
    Badges.attach(el, id, summary, forgotten.has(id), name);
  }

  // The server names the people the user asked it to forget: their pills are hidden (their
  // hosts stay, so the page cannot tell). A person let back in on the dashboard shows again when
  // the user comes back to the page, as a forgotten one is hidden then.
  function hideForgotten(ids) {
    for (const id of ids || []) {
      forgotten.add(id);
      latest.delete(id);
      Badges.forget(id);
    }
  }

  function deliver(capture, anchors) {
    if (!state.capture || !capture.items.length) {
      // View-only (or nothing new to store): ask for scores without sending anything.
      // Nothing new to store is also a page drawing comments again that were already sent:
      // the badges of the nodes it threw away go now, not at a refresh that no capture brings.
      // Pruned once the names drawn again have their badges: a person whose old badge went with
      // the nodes keeps their record and score, instead of a pending pill until the answer.
      const ids = identitiesFor(anchors, capture.page.site);
      if (anchors.length) prune();
      if (ids.length) fetchScores([...new Set(ids)]);
      return;
    }
    state.stats.captures += 1;
    // The answer is handled in the messaging API's callback, not after an await: a browser trace
    // sees a callback as a call into this script, while a promise's continuation starts in the
    // extension's bindings and is invisible to it (the benchmark's second timing relies on it).
    chrome.runtime.sendMessage({ type: "capture", capture }, timed(function answer(r) {
      const t0 = performance.now();
      const lost = chrome.runtime.lastError; // read, or the browser reports it as unchecked
      let error = null;
      if (!r || !r.ok) {
        error = new Error((r && r.error) || (lost && lost.message) || "no answer from the extension");
        error.kind = r && r.kind;
      }
      drawAfterCapture(capture, anchors, error ? null : r.result, error);
      state.stats.drawMs += performance.now() - t0;
    }));
  }

  function drawAfterCapture(capture, anchors, result, error) {
    if (error) {
      // Draw the badges anyway, so the user sees why there are no scores.
      showError(error, identitiesFor(anchors, capture.page.site));
      return;
    }
    if (result.queued) {
      state.queued = result.queue.captures;
      if (result.unpaired) {
        Badges.setState(identitiesFor(anchors, capture.page.site), "unpaired",
          `Cloutlens: not paired with your server yet: click the Cloutlens toolbar icon to pair; the ${result.queue.items} comments and posts captured wait until then`);
      } else if (result.busy) {
        Badges.setState(identitiesFor(anchors, capture.page.site), "queued",
          `Cloutlens: the server is busy; the ${result.queue.items} comments and posts captured wait in the queue and go in by themselves`);
      } else {
        Badges.setState(identitiesFor(anchors, capture.page.site), "offline",
          `Cloutlens: the local server is not running (start it with: ${state.serve}); the ${result.queue.items} comments and posts captured wait in the queue and go in once it runs`);
      }
      return;
    }
    state.error = null;
    for (const [identity, summary] of Object.entries(result.scores)) {
      latest.set(identity, summary);
      Badges.update(identity, summary);
    }
    hideForgotten(result.forgotten);
    // own keys only: an item id such as "constructor" would read the object's prototype
    for (const n of anchors) {
      const author = Object.hasOwn(result.authors, n.itemId) ? result.authors[n.itemId] : null;
      toDraw.push([n.element, author || Badges.identityGuess(capture.page.site, n.handle), n.name]);
    }
    // The first few milliseconds of drawing go with the answer, while what it touched is fresh;
    // the rest waits for frames. A hidden tab draws nothing ahead of its turn.
    if (document.visibilityState !== "hidden") drawBatch();
    scheduleDraw();
    scheduleRefresh();
  }

  // New badges are drawn in animation frames, a few milliseconds' worth per frame: a slice's
  // answer may name a hundred people, and the page's own frames come first.
  const DRAW_MS = 6;
  const toDraw = [];
  const latest = new Map(); // identity -> the last summary the server gave on this page
  const forgotten = new Set(); // identities the server said the user asked it to forget
  let drawScheduled = false;

  let pendingDraw = null;
  let watchingVisibility = false;

  function scheduleDraw() {
    if (drawScheduled || !toDraw.length) return;
    drawScheduled = true;
    let done = false;
    const run = () => {
      if (done) return;
      done = true;
      drawScheduled = false;
      pendingDraw = null;
      drawSome();
    };
    pendingDraw = run;
    // A hidden tab has no frames; its badges are still drawn, just not ahead of the visible ones.
    if (document.visibilityState === "hidden") setTimeout(run, 250);
    else requestAnimationFrame(run);
    if (!watchingVisibility) {
      watchingVisibility = true;
      // A tab hidden while its frame was awaited would not get it until shown again.
      document.addEventListener("visibilitychange", () => {
        if (pendingDraw && document.visibilityState === "hidden") setTimeout(pendingDraw, 250);
      });
    }
  }

  const drawSome = timed(function draw() {
    const t0 = performance.now();
    drawBatch();
    state.stats.drawMs += performance.now() - t0;
    scheduleDraw();
  });

  function drawBatch() {
    const t0 = performance.now();
    let i = 0;
    while (i < toDraw.length && performance.now() - t0 < DRAW_MS) {
      for (const end = Math.min(toDraw.length, i + 8); i < end; i++) {
        const [el, identity, name] = toDraw[i];
        // A person new to the page gets their first badge drawn with their score.
        if (el.isConnected) attach(el, identity, latest.get(identity), name);
      }
    }
    toDraw.splice(0, i);
    state.people = Badges.peopleCount();
  }

  async function fetchScores(ids) {
    for (let i = 0; i < ids.length; i += 400) {
      const chunk = ids.slice(i, i + 400);
      let r = null;
      let error = null;
      try {
        r = await send({ type: "scores", ids: chunk });
      } catch (e) {
        error = e;
      }
      const ok = timed(function scores() {
        if (error) {
          showError(error, chunk);
          return false;
        }
        const gone = new Set(r.forgotten || []);
        for (const id of chunk) {
          if (gone.has(id)) continue;
          forgotten.delete(id); // let back in, if they were forgotten: update() shows them again
          const summary = r.scores[id] || null;
          latest.set(id, summary);
          Badges.update(id, summary);
        }
        hideForgotten(r.forgotten);
        state.error = null;
        return true;
      })();
      if (!ok) return;
    }
    state.people = Badges.peopleCount();
  }

  // Later captures change earlier people's scores (a new reply raises its parent's author), so
  // once a burst of captures settles, every person on the page is asked for again, once.
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(timed(function refresh() {
      prune();
      fetchScores(Badges.identities());
    }), REFRESH_DELAY);
  }

  // Scores change while the user is away from the page: a person forgotten, identities linked or
  // a site weight set on the dashboard, captures in other tabs. Coming back to the tab, or to its
  // window, asks for everyone on the page again, so no badge shows a score the server no longer
  // gives. Throttled: switching back and forth quickly asks once. Untrusted events count too (the
  // page can fire these itself): the most a page gets from that is one score request every two
  // seconds, whose answers change nothing it can see (a forgotten person's pill is hidden inside
  // its closed root, its host left in place).
  const RETURN_REFRESH_MS = 2000;
  let lastReturn = -Infinity;
  let returning = false;
  const onReturn = timed(function returned() {
    if (document.visibilityState === "hidden" || !state.enabled || !adapter || returning) return;
    const now = performance.now();
    if (now - lastReturn < RETURN_REFRESH_MS) return;
    lastReturn = now;
    prune();
    const ids = Badges.identities();
    if (!ids.length) return;
    returning = true; // one round at a time: a slow server must not have them pile up
    fetchScores(ids).finally(() => {
      returning = false;
    });
  });
  document.addEventListener("visibilitychange", onReturn);
  window.addEventListener("focus", onReturn);

  function showError(e, ids) {
    state.error = e.message;
    if (e.kind === "offline") Badges.setState(ids, "offline", `Cloutlens: the local server is not running (start it with: ${state.serve})`);
    else if (e.kind === "unpaired") Badges.setState(ids, "unpaired", "Cloutlens: not paired with your server yet: click the Cloutlens toolbar icon to pair");
    else if (e.kind === "busy") Badges.setState(ids, "queued", "Cloutlens: the server is busy; the scores come back by themselves");
    else Badges.setState(ids, "offline", `Cloutlens: ${e.message}`);
  }

  // ---- lifecycle

  function tryStart() {
    if (adapter) return true;
    const a = Extract.pickAdapter(adapters, document, location.href);
    if (!a) return false;
    useAdapter(a);
    if (!containerObserver) containerObserver = new MutationObserver(onMutations);
    if (!io) io = new IntersectionObserver(onIntersect, { rootMargin: NEAR_SCREEN });
    if (!itemSelector) {
      // Only page-level data (JSON-LD): one whole-document read.
      ready.push(document.documentElement);
    } else if (scan(document) === 0) {
      // The adapter knows the host but the comments are not there yet.
      adapter = null;
      state.adapter = null;
      return false;
    }
    scheduleSlice();
    return true;
  }

  // Single-page apps change the address without a load: the new page gets a fresh capture
  // (its own url and post), and comments kept from the old view are not processed again.
  function checkNavigation() {
    const key = pageKey();
    if (key === state.url) return;
    sendOutbox(); // what the old address showed goes with its own page record
    state.url = key;
    pageCache = {};
    sent = new Set();
    state.items = 0;
    prune();
    if (adapter && itemSelector && scan(document) === 0) watchForLateComments();
    if (!adapter && !tryStart()) watchForLateComments();
  }

  function stop() {
    if (containerObserver) containerObserver.disconnect();
    if (nameObserver) nameObserver.disconnect();
    named = new WeakMap();
    nameIn = new WeakMap();
    if (io) io.disconnect();
    stopLateWatch();
    containerObserver = null;
    io = null;
    adapter = null;
    state.adapter = null;
    ready = [];
    outbox = null; // a site turned off sends nothing more
    toDraw.length = 0;
    latest.clear();
    forgotten.clear();
    processed = new WeakSet();
    watched = new WeakSet();
    lists = new WeakSet();
    sent = new Set();
    pageCache = {};
    state.items = 0;
    state.people = 0;
    Badges.removeAll();
  }

  async function start() {
    const cfg = await loadConfig();
    if (!cfg.enabled) return;
    if (!adapters) adapters = (await send({ type: "adapters" })).adapters;
    if (!timed(tryStart)() && (!inFrame || hostHasAdapter())) watchForLateComments();
  }

  // With scripts in every frame, ad and video frames must cost next to nothing: a frame is
  // watched for comments rendered late only if an adapter names its host (Disqus renders its
  // thread after load); any other frame is read once, at start, and left alone.
  const NO_MARKUP = { querySelector: () => null, querySelectorAll: () => [] };
  function hostHasAdapter() {
    return Extract.pickAdapter(adapters, NO_MARKUP, location.href) !== null;
  }

  if (window.navigation && typeof window.navigation.addEventListener === "function") {
    window.navigation.addEventListener("navigatesuccess", () => setTimeout(timed(checkNavigation), 0));
  }
  window.addEventListener("popstate", () => setTimeout(timed(checkNavigation), 0));

  // The popup asks what happened on this page, and tells us when the user changes a setting;
  // tests read the closed-root badges the same way.
  chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
    if (sender.id !== chrome.runtime.id || !msg) return false;
    if (msg.type === "page-state") {
      // Every frame with this script hears the question and the first answer wins, so the top
      // page answers, and a frame only when asked for by a part of its address (msg.url).
      if (msg.url ? !state.url.includes(msg.url) : inFrame) return false;
      // "light" skips reading every badge: a thousand of them make a slow answer.
      // people: everyone with a badge here, scored or not ("?" and "–" badges included; the
      // count used to follow successful score look-ups only, and read "0 of 0" beside them).
      sendResponse({ ...state, people: Badges.peopleCount(), stats: { ...state.stats, remembered: latest.size }, counts: Badges.counts(),
        badges: msg.light ? [] : Badges.read() });
    } else if (msg.type === "server-back") {
      // The server answers again, paired (queued captures, if any, are in): the badges that said
      // it was down or not paired get their scores. View-only pages too: they sent nothing, but
      // their badges waited all the same. `waiting`: nothing was sent, so no score moved and
      // only the badges still waiting ask.
      if (state.enabled) {
        state.queued = 0;
        const ids = msg.waiting ? Badges.waiting() : Badges.identities();
        if (ids.length) fetchScores(ids);
      }
    } else if (msg.type === "config-changed") {
      stop();
      start().then(() => sendResponse({ ...state }), (e) => {
        state.error = e.message;
        sendResponse({ ...state });
      });
      return true;
    }
    return false;
  });

  start().catch((e) => {
    state.error = e.message;
  });
})();
