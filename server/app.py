"""The Flask application factory and the services one app holds: store, scorer, pairing."""
from __future__ import annotations

import gc
import os
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import platformdirs
from flask import Flask, render_template, request
from flask_cors import CORS
from werkzeug.exceptions import BadRequest as BadRequestError, NotFound

from scoring import Scorer, checkpoint
from scoring.items import author_identity, normal_identity

from .busy import RETRY_AFTER, Busy, Turns
from .pairing import Pairing
from .security import EXTENSION_ORIGIN, check_request, error, set_security_headers
from .storage import HISTORY_FLUSH_SECONDS, SCORER_CHECKPOINT, Store, StoreError, atomic_write, log, release_free_memory

VERSION = "0.1.0"
DEFAULT_PORT = 7317
# The id Chromium gives the unpacked extension, pinned by the "key" in extension/manifest.json.
CHROME_EXTENSION_ID = "jhakphlhhpjolcmccdpcphdmfpghfgdo"
MAX_BODY = 2 * 1024 * 1024
# How long a capture right after a start waits for the scorer before it is answered without
# scores: the extension gives up on a request after 5 s (and then queues the capture).
CAPTURE_WAITS_FOR_SCORES = 2.0
SECONDS_A_DAY = 86400
COMPACT_AT = 0.1  # the nightly computation drops tombstoned rows once they are a tenth of all
BADGE_PEOPLE = 5  # the top engagers a capture's answer names per author (what a hovercard shows)
SNAPSHOT_WAIT = 0.5  # seconds a score snapshot waits for the lock: captures' writes take milliseconds


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("cloutlens", appauthor=False))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class _Collector:
    """Keeps what the server holds for the whole store out of the cyclic collector's way, by
    freezing it (gc.freeze, like what the start loaded): a full collection comes every few dozen
    captures, and one that walks a million entries is a 0.1 s pause in the middle of a capture
    (four of 88-145 ms in 300 captures at 1M, before this). At the end of the scorer's work for a
    capture, it freezes when one of these brought such objects into the collector's sight:
    - many new objects at once (the first capture after a start builds lookups over every item:
      ~600k small containers at 1M, then 0.37 s and 0.25 s of young collections);
    - one of the scorer's large dicts that the collector had untracked (it held only strings,
      numbers and tuples of them) and that one new entry tracked again (`Scorer.large_dicts`);
    - the captured items themselves, piling up in the store's shards: every EVERY items;
    - a rebuild (compaction, new settings, a forget): `always=True`.
    A freeze also freezes the small cycles alive at that moment (a request's own), which would
    then never be collected: sweep() collects everything once a day, then freezes again."""
    LARGE = 100_000
    EVERY = 4_000

    def __init__(self):
        self.stored = 0

    @contextmanager
    def kept(self, scorer: Scorer, stored: int = 0, always: bool = False):
        was = gc.isenabled()
        gc.disable()
        untracked = [d for d in scorer.large_dicts() if not gc.is_tracked(d)]
        try:
            yield
        finally:
            self.stored += stored
            if (always or self.stored >= self.EVERY or gc.get_count()[0] > self.LARGE
                    or any(map(gc.is_tracked, untracked))):
                gc.freeze()
                self.stored = 0
            if was:
                gc.enable()

    def sweep(self):
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.stored = 0


class _StoredItems:
    """The scorer's view of stored items it was not handed (the children it re-derives when a
    parent arrives late, every text when topics change): read from the store, with the mentions
    of forgotten people left out as everywhere else the scorer is given items. The store has
    already written, and hands the scorer only, what changed: no comparison needed here."""

    dedupes = False

    def __init__(self, services: "Services"):
        self._services = services

    def get(self, key):
        doc = self._services.store.get_item(*key)
        return self._services.for_scorer([doc])[0] if doc is not None else None

    def values(self):
        return self._services.for_scorer(list(self._services.store.iter_items()))


class ScoringFailed(RuntimeError):
    """A capture was stored durably, then computing its scores failed."""


def _read_identities_anew(store):
    """The forgotten, the user's own identities and the links, as identities are read now: how a
    handle or a site is read changed (control characters, one Unicode form, a leading @, www.), and
    a forgotten person's new captures, read the new way, would not match the old entry and come
    back. Written only if something changed; an entry that names nobody now is kept as it was."""
    def anew(i):
        return normal_identity(i) or i
    forgotten = store.get_config("forgotten") or []
    own = store.get_config("own_identities") or []
    links = store.get_config("links") or {}
    changes = {}
    if (f := sorted({anew(i) for i in forgotten})) != forgotten:
        changes["forgotten"] = f
    if (o := list(dict.fromkeys(anew(i) for i in own))) != own:
        changes["own_identities"] = o
    read = {anew(a): anew(c) for a, c in links.items()}
    if (lk := {a: c for a, c in read.items() if a != c}) != links:
        changes["links"] = lk
    if changes:
        store.set_configs(changes)


class Services:
    """What the views share. One lock orders store writes and scorer updates together, so the
    scores served always match what is on disk.

    Start: the store opens (its index from its checkpoint, every shard written since parsed and
    checked, so a damaged one still stops the start) before the server listens; the scorer's
    first load and full computation may then run in the background (`background=True`, what
    `cloutlens serve` does), so a large store answers status and stores captures at once. The
    scorer loads from its checkpoint (checkpoints/scorer.bin) when that still describes the
    store, taking in the shards written since; otherwise from every stored item. It is saved
    again once loaded that way, every night after the new day's computation, and at close. Until that is done `scores_ready` is False and says so honestly:
    /api/status reports "scores": "loading", score look-ups wait briefly and then answer 503
    "scoring", captures are stored (durably, as always) and answered without scores, and anything
    else that reads `scorer` waits for it. Items stored meanwhile are handed to the new scorer
    before it is published, so it matches the disk when it becomes visible.
    """

    def __init__(self, store: Store, announce=None, background: bool = False):
        self.store = store
        self.lock = threading.RLock()
        # Requests take the lock through turns.turn() (a bounded wait, then Busy); long tasks name
        # themselves with turns.doing() for the busy answers (server/busy.py).
        self.turns = Turns(self.lock)
        self.collector = _Collector()
        self._queue_lock = threading.Lock()
        self._queue: list[dict] = []
        self.pairing = Pairing(store, announce)
        self._scorer: Scorer | None = None
        self._ready = threading.Event()
        self._pending_lock = threading.Lock()
        self._pending: list[dict] | None = []  # stored while the scorer loads; None once loaded
        self.load_error: BaseException | None = None
        self.load_seconds: float | None = None
        _read_identities_anew(store)
        self._gone = frozenset(store.get_config("forgotten") or ())
        self.cleared = 0  # delete-alls so far: a long import stops at one (server/exchange.py)
        # The imports under way (one object each; set.add and discard are atomic): two may store
        # their files in turns, and only the last to finish may remove import.unfinished.
        self.importing: set = set()
        self.loaded_from: str | None = None
        self._checkpoint_lock = threading.Lock()
        # Ends the background loops: a server in a test process (or one that failed to listen)
        # is closed while the process goes on, and its loops then wrote to a closed store.
        self.stopped = threading.Event()
        if background:
            threading.Thread(target=self._load_scorer, name="cloutlens-scoring", daemon=True).start()
            threading.Thread(target=self._roll_over_daily, name="cloutlens-new-day", daemon=True).start()
            threading.Thread(target=self._flush_history_often, name="cloutlens-history", daemon=True).start()
        else:
            self._load_scorer()
            if self.load_error is not None:
                raise self.load_error

    def _scorer_from_checkpoint(self) -> Scorer | None:
        """The scorer saved beside the store, brought up to date with the shards written since;
        None when there is none or it no longer describes the store (items were removed since, or
        someone forgotten), and then the caller loads every item."""
        try:
            data = (self.store.data_dir / SCORER_CHECKPOINT).read_bytes()
        except OSError:
            return None
        got = checkpoint.loads(data, settings=self.scorer_settings(), items=_StoredItems(self))
        del data
        if got is None:
            return None
        scorer, stamp = got
        now = self.store.fingerprint()
        if (not isinstance(stamp, dict) or stamp.get("removals") != now["removals"]
                or stamp.get("forgotten") != sorted(self._gone)
                or not set(stamp.get("shards") or {}) <= set(now["shards"])):
            return None
        if stamp["shards"] and all(now["shards"][no] != st for no, st in stamp["shards"].items()):
            # Not one shard as the checkpoint saw it: a copied or restored data dir (a copy
            # changes every stamp). Giving every item to the scorer again would cost more than a
            # load from items and leave a tombstone for each of its rows.
            return None
        changed = [int(no) for no, st in now["shards"].items() if stamp["shards"].get(no) != st]
        if changed:
            scorer.add(self.for_scorer(self.store.items_in_shards(changed)))
        self.loaded_from = f"checkpoint ({len(changed)} of {len(now['shards'])} shards read again)"
        return scorer

    def save_checkpoint(self) -> bool:
        """Save the scorer beside the store (derived data: a failure only costs the next start)."""
        if not self.scores_ready:
            return False
        with self._checkpoint_lock, self.lock:
            state = checkpoint.capture(self._scorer, self._checkpoint_stamp())
        return self._write_checkpoint(state)

    def _checkpoint_stamp(self) -> dict:
        return dict(self.store.fingerprint(), forgotten=sorted(self._gone))

    def _write_checkpoint(self, state) -> bool:
        with self._checkpoint_lock:  # one save at a time: the newest state is written last
            try:
                path = self.store.data_dir / SCORER_CHECKPOINT
                path.parent.mkdir(exist_ok=True)
                atomic_write(path, checkpoint.encode(state))
                return True
            except OSError:
                return False

    def close(self):
        """Stop: save the scorer and the store's index for a quick next start, close the store."""
        self.stopped.set()
        try:
            self.save_checkpoint()
        finally:
            self.store.close()

    def _load_scorer(self):
        t0 = time.perf_counter()
        try:
            scorer = self._scorer_from_checkpoint()
            if scorer is None:
                self.loaded_from = "items"
                scorer = Scorer(settings=self.scorer_settings(), items=_StoredItems(self))
                # shard by shard: each shard's dicts go once read, before the rows are derived
                scorer.load_stream(self.for_scorer(docs) for docs in self.store.iter_shards())
            elif scorer.dead_share() > COMPACT_AT:
                scorer.compact()  # the shards read again replaced their items' rows
            # The first full computation and the indexes updates use, here rather than in the
            # first capture's answer.
            scorer.prepare()
            save = not (self.loaded_from or "").startswith("checkpoint (0 ")
            state = None
            while True:
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                if batch:
                    scorer.add(self.for_scorer(batch))
                    continue
                # Published with no capture between the store's state and the scorer's: a
                # capture writes the store under self.lock before it queues its items here.
                with self.lock, self._pending_lock:
                    if self._pending:
                        continue
                    if save:  # taken now, written after the scores are served
                        state = checkpoint.capture(scorer, self._checkpoint_stamp())
                    self._pending = None
                    self._scorer = scorer
                    break
            self.load_seconds = time.perf_counter() - t0
        except BaseException as exc:  # reported by status and by every read of the scorer
            self.load_error = exc
            return
        finally:
            # What start loaded lives as long as the server: keep the collector from rescanning it
            # on every full collection (a pause that grows with the store). No collect() first: it
            # would scan all of it once, for nothing (items hold no cycles).
            gc.freeze()
            release_free_memory()
            self._ready.set()
        if state is not None:
            self._write_checkpoint(state)  # the next start, even after a crash, starts from here
            del state
            release_free_memory()

    def _flush_history_often(self):
        """The day's score snapshots to disk once a minute, here rather than in a capture's answer.
        A failed flush keeps them for the next one (and close() flushes once more), and says so
        once until one succeeds."""
        failed = None
        while not self.stopped.wait(HISTORY_FLUSH_SECONDS):
            try:
                self.store.flush_history()
            except Exception as exc:  # a full disk: the scores stay in memory for the next try
                if str(exc) != failed:
                    log.warning("score history not written, will try again: %s", exc)
                failed = str(exc)
            else:
                failed = None

    def _roll_over_daily(self):
        while not self.stopped.wait(SECONDS_A_DAY - time.time() % SECONDS_A_DAY + 1):
            self.roll_over()

    def roll_over(self):
        """Scores are as of the end of the current UTC day (scoring.engine.parse_at), so the
        first read of a new day re-weighs every row for the day's ageing (about a second at a
        million rows). `serve` does it here, just after midnight UTC, rather than in the first
        capture of the day."""
        if self.wait_scores(timeout=0):
            with self.lock, self.turns.doing("the new day's scores"):
                with self.collector.kept(self.scorer):  # sweep() below freezes it all anyway
                    if self.scorer.dead_share() > COMPACT_AT:
                        self.scorer.compact()  # rows of replaced items pile up: drop them with the rest
                    self.scorer.prepare()
                self.collector.sweep()  # the day's frozen cycles collected (a second at 1M, at night)
            self.save_checkpoint()

    @property
    def forgotten(self) -> frozenset:
        """The identities the user asked to forget, as of now (replaced whole, never changed in
        place: readable without the lock)."""
        return self._gone

    @property
    def scores_ready(self) -> bool:
        return self._ready.is_set() and self.load_error is None

    def wait_scores(self, timeout: float | None = None) -> bool:
        """True once the scorer is loaded (False after timeout); raises if loading failed."""
        if not self._ready.wait(timeout):
            return False
        if self.load_error is not None:
            raise RuntimeError(f"the scorer could not load the stored items: {self.load_error!r}")
        return True

    @property
    def scorer(self) -> Scorer:
        self.wait_scores()
        return self._scorer

    @scorer.setter
    def scorer(self, value: Scorer):
        self.wait_scores()
        self._scorer = value

    def scorer_settings(self) -> dict:
        settings = dict(self.store.get_config("settings") or {})
        settings["links"] = dict(self.store.get_config("links") or {})
        return settings

    def capture(self, capture: dict) -> dict:
        """Store a capture durably and score it. Captures that arrive while another is being
        written wait, and the next writer stores them all in one write (a group commit): with
        several tabs or clients, each fsync then serves many captures. While the scorer is still
        loading after a start, the capture is stored all the same and answered with no scores
        (`"scoring": true`); the loading scorer takes its items before it is published."""
        self._ready.wait(CAPTURE_WAITS_FOR_SCORES)
        entry = {"items": capture["items"], "seen": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "done": False, "result": None, "error": None, "written": threading.Event()}
        with self._queue_lock:
            self._queue.append(entry)
        while not entry["done"]:
            try:
                with self.turns.turn():
                    if not entry["done"]:
                        self._write_queued()
            except Busy:
                # Answered busy only if no writer has taken it yet: one that has holds the
                # lock briefly to store it, and this entry is done with that write.
                if self._withdraw(entry):
                    raise
                entry["written"].wait()  # taken by that writer: its answer, without asking again
        if entry["error"] is not None:
            raise entry["error"]
        return entry["result"]

    def _write_queued(self):
        """Store and score every queued capture in one write (a group commit); under the lock."""
        with self._queue_lock:
            group, self._queue = self._queue, []
        if self._gone:
            # The user asked to forget them: what they write later is not kept either.
            # Read under the lock: a forget that ran while this capture waited counts.
            gone = self._gone
            for e in group:
                e["items"] = [it for it in e["items"] if author_identity(it) not in gone]
        try:
            results = self.store.add_batches([(e["items"], e["seen"]) for e in group])
        except BaseException as exc:  # the whole group failed: none of it is stored
            for e in group:
                e["error"], e["done"] = exc, True
                e["written"].set()
            return
        try:
            changed = [doc for r in results for doc in r["items"]]
            with self._pending_lock:
                deferred = self._pending is not None
                if deferred:
                    self._pending.extend(changed)
            if deferred:
                for r in results:
                    r["scores"], r["scoring"], r["groups"] = {}, True, {}
            else:
                scorer = self.scorer
                with self.collector.kept(scorer, stored=len(changed)):
                    touched = scorer.add(self.for_scorer(changed)) if changed else set()
                    # One scoring pass answers the whole group (the scorer recomputes after
                    # an add), for the group's authors only.
                    authors = [sorted({author_identity(it) for it in e["items"]}) for e in group]
                    named = {a for names in authors for a in names}
                    scores = scorer.results(sorted(named), people=BADGE_PEOPLE)
                    # here, under the lock: the answer's summaries are built after it is let go
                    groups = scorer.closed_groups(scores.values())
                    # The others whose scores the group changed (those it replies to or
                    # mentions): their day's snapshot then comes after today's captures, which
                    # is what "since the last snapshot" counts from (since.py).
                    others = sorted({scorer.links.get(t, t) for t in touched} - named)
                    moved = {i: r["score"] for i, r in scorer.results(others, people=0).items()} if others else {}
                    for r, names in zip(results, authors):
                        r["scores"] = {a: scores.get(a) for a in names}
                        r["moved"] = moved
                        r["groups"] = groups
        except Exception as exc:
            # Stored and durable, but not scored: say so, never "nothing was stored".
            for e in group:
                e["error"] = ScoringFailed(exc)
        else:
            for e, r in zip(group, results):
                e["result"] = r
        finally:
            for e in group:
                e["done"] = True
                e["written"].set()

    def _withdraw(self, entry: dict) -> bool:
        """Takes a capture out of the queue unless a writer has taken it already."""
        with self._queue_lock:
            for n, queued in enumerate(self._queue):
                if queued is entry:
                    del self._queue[n]
                    return True
        return False

    def snapshot(self, scores: dict[str, int]):
        """Today's scores of the people just shown, for their history chart. Under the lock, and
        never for someone forgotten: the scores were read before, and a forget may have run since.
        Left out while a long task keeps the lock: the answer is computed already (a capture's
        may have waited its 2 s for the lock once), and the next capture or view of these people
        records the day's score."""
        if scores:
            try:
                with self.turns.turn(SNAPSHOT_WAIT):
                    gone = self._gone
                    kept = {i: v for i, v in scores.items() if i not in gone} if gone else scores
                    if kept:
                        self.store.record_scores(utcnow().strftime("%Y-%m-%d"), kept)
            except Busy:
                pass

    def set_settings(self, settings: dict):
        with self.lock, self.turns.doing("scoring everything again with new settings"), \
                self.collector.kept(self.scorer, always=True):
            self.store.set_config("settings", settings)
            self.scorer.set_settings(self.scorer_settings())

    def set_links(self, links: dict):
        with self.lock, self.turns.doing("scoring everything again with new links"), \
                self.collector.kept(self.scorer, always=True):
            self.store.set_config("links", links)
            self.scorer.set_settings(self.scorer_settings())

    def forget(self, identity: str) -> dict:
        """Every item the person wrote, their links and their history, gone from disk and scores.

        Others' items stay (they are others' record), but their mentions of the person no longer
        score them: the identity is kept in the config's "forgotten" list, and those mentions are
        left out of what the scorer is given, now and at every later start. What the person
        writes is not stored again, from pages or imports, until the user lets them be captured
        again (`remember`). A crash midway is finished by the next start (Store.forget's journal).

        Identities the user linked are one person (the dashboard shows their items together):
        forgetting any of them forgets all of them, or the others would stay with what they wrote."""
        group = self.linked_with(identity)
        return {"forgotten": identity, "identities": group, "items_removed": self.forget_many(group)}

    def linked_with(self, identity: str) -> list[str]:
        """The identities of the person `identity` belongs to (itself included), sorted."""
        links = self.store.get_config("links") or {}  # alias -> canonical, one level (no chains)
        canon = links.get(identity, identity)
        return sorted([canon] + [a for a, c in links.items() if c == canon])

    def forget_many(self, identities) -> int:
        """forget() for many people at once (an import's list): one compaction, one checkpoint.
        Returns the number of items removed."""
        identities = sorted(set(identities))
        if not identities:
            return 0
        with self.lock, self.turns.doing("forgetting " + ("a person" if len(identities) == 1 else f"{len(identities)} people")):
            links = self.store.get_config("links") or {}
            removed = self.store.forget(identities)
            kept = self.store.get_config("links") or {}
            self._gone = frozenset(self.store.get_config("forgotten") or ())
            scorer = self.scorer
            with self.collector.kept(scorer, always=True):
                if kept != links:
                    scorer.set_settings(self.scorer_settings())
                for identity in identities:
                    scorer.remove_identity(identity)
                scorer.compact()  # not even tombstones of their rows stay
            # the saved scorer still holds them: gone now, saved again without them
            try:
                os.unlink(self.store.data_dir / SCORER_CHECKPOINT)
            except FileNotFoundError:
                pass
        threading.Thread(target=self._recompute_and_save, name="cloutlens-checkpoint", daemon=True).start()
        return removed

    def remember(self, identity: str) -> bool:
        """Take someone off the forgotten list: pages and imports store what they write again,
        and others' mentions of them count again. Those mentions were left out of what the
        scorer holds, so it is built again from the store (a few seconds at a million items,
        with captures waiting: a rare, deliberate act). False if they were not forgotten."""
        with self.lock, self.turns.doing("scoring everything again for someone remembered"):
            gone = list(self.store.get_config("forgotten") or [])
            if identity not in gone:
                return False
            gone.remove(identity)
            self.store.set_config("forgotten", gone)
            self._gone = frozenset(gone)
            scorer = Scorer(settings=self.scorer_settings(), items=_StoredItems(self))
            scorer.load_stream(self.for_scorer(docs) for docs in self.store.iter_shards())
            scorer.prepare()
            self.scorer = scorer
        threading.Thread(target=self.save_checkpoint, name="cloutlens-checkpoint", daemon=True).start()
        return True

    def let_captures_in(self, timeout: float = 1.0):
        """For a long task that takes the lock in turns (an import's batches): the lock is not
        fair, and released then taken again at once it stays with that task. Captures waiting
        for it are let through first (their queue empties once one of them writes), and anyone
        else gets a moment."""
        deadline = time.monotonic() + timeout
        time.sleep(0.002)
        while self._queue and time.monotonic() < deadline:
            time.sleep(0.002)

    def _recompute_and_save(self):
        with self.lock, self.turns.doing("scoring everything again after a forget"), \
                self.collector.kept(self.scorer, always=True):
            self.scorer.prepare()
        self.save_checkpoint()

    def delete_all(self) -> int:
        """Every item, snapshot, link, setting and forgotten identity in one durable change
        (Store.clear); pairing stays, so the extension keeps working. Returns the items deleted."""
        with self.lock, self.turns.doing("deleting everything"):
            self.wait_scores()
            removed = self.store.clear({"settings": {}, "links": {}, "own_identities": [], "forgotten": []})
            self.cleared += 1
            self._gone = frozenset()
            self._scorer = Scorer(settings=self.scorer_settings(), items=_StoredItems(self))
        return removed

    def for_scorer(self, items: list[dict]) -> list[dict]:
        """Items as the scorer is given them: mentions of forgotten people left out (copies; the
        stored items keep them)."""
        gone = self._gone
        if not gone:
            return items
        out = []
        for it in items:
            ms = it.get("mentions")
            if ms:
                site = it["site"]
                kept = [m for m in ms if site + ":" + m not in gone]
                if len(kept) != len(ms):
                    it = dict(it, mentions=kept)
            out.append(it)
        return out


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        DATA_DIR=str(default_data_dir()),
        PORT=None,  # the port we serve on; the Host check uses it once known
        EXTENSION_ORIGINS=[f"chrome-extension://{CHROME_EXTENSION_ID}"],
        MAX_CONTENT_LENGTH=MAX_BODY,
        SECRET_KEY=None,  # the store's form key (kept across restarts) unless a test gives one
        ANNOUNCE=None,
        BACKGROUND_SCORING=False,  # `cloutlens serve` sets it: listen before the first scoring is done
    )
    app.config.update(config or {})
    app.json.sort_keys = False

    store = Store(app.config["DATA_DIR"])
    try:
        app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or store.form_key()
        app.extensions["cloutlens"] = Services(store, app.config["ANNOUNCE"], app.config["BACKGROUND_SCORING"])
    except BaseException:
        store.close()
        raise

    app.before_request(check_request)
    app.after_request(set_security_headers)
    # The exact origins are enforced in check_request; flask-cors only writes the headers, and
    # only ever for extension origins (a pairing extension's id is not known in advance).
    CORS(app, resources={r"/api/*": {"origins": [EXTENSION_ORIGIN]}},
         allow_headers=["Authorization", "Content-Type"], methods=["GET", "POST", "PUT", "DELETE"], max_age=600)

    from .api import api
    from .dashboard import dashboard
    app.register_blueprint(api)
    app.register_blueprint(dashboard)

    # The API and the extension read JSON errors; a person at the dashboard reads a page in its
    # layout, which says what happened and what to do (a default or JSON body told them nothing).
    def for_people() -> bool:
        return not request.path.startswith(("/api/", "/static/"))

    def page(status: int, title: str, message: str):
        return render_template("error.html", title=title, message=message), status

    @app.errorhandler(413)
    def too_large(_e):
        if for_people():
            return page(413, "Too large", f"What was sent is over {MAX_BODY // (1 << 20)} MB; nothing was stored. "
                        "An export that large can be imported with `cloutlens import FILE` while the server is stopped.")
        return error(413, "too_large", f"the body must be at most {MAX_BODY} bytes", "body")

    @app.errorhandler(404)
    def not_found(e):
        if for_people():
            said = e.description if e.description != NotFound.description else "There is no such page."
            return page(404, "Not found", said)
        return error(404, "not_found", "no such endpoint or record")

    @app.errorhandler(405)
    def bad_method(_e):
        if for_people():
            return page(405, "Not here", "This address is not a page: it takes a form. Go back and use the form.")
        return error(405, "bad_method", "this endpoint does not take that method")

    @app.errorhandler(400)
    def bad_form(e):
        if for_people():
            said = e.description if e.description != BadRequestError.description else \
                "The form was incomplete or not understood; nothing was changed. Go back and try again."
            return page(400, "Not done", said)
        return error(400, "bad_request", "the request was not understood")

    @app.errorhandler(Busy)
    def busy(exc):
        # A long task holds the services lock (server/busy.py): nothing was done, so asking again
        # is safe; the extension keeps a capture so answered in its queue and sends it later.
        if for_people():
            again = ("This page reloads by itself in a few seconds." if request.method == "GET"
                     else "Nothing was changed: go back and send the form again in a few seconds.")
            resp = app.make_response(page(503, "The server is busy",
                                          f"The server is busy with {exc.task or 'other requests'}. {again}"))
            if request.method == "GET":
                resp.headers["Refresh"] = str(RETRY_AFTER)
        else:
            resp = error(503, "busy", str(exc), task=exc.task)
        resp.headers["Retry-After"] = str(RETRY_AFTER)
        return resp

    @app.errorhandler(StoreError)
    @app.errorhandler(OSError)
    def data_dir_gone(exc):
        # API routes have their own handlers (api.py); this is the dashboard's
        app.logger.error("dashboard request failed on the data dir: %s", exc)
        return page(503, "The data directory cannot be read",
                    f"{exc}. Nothing was changed. Run `cloutlens doctor` to see what is wrong with it.")

    @app.errorhandler(500)
    def failed(_e):
        if for_people():
            return page(500, "Something failed", "The server failed on this page; nothing was changed. "
                        "The server's log has the details.")
        return error(500, "internal", "the server failed on this request; nothing was stored")

    return app
