"""Export everything as one JSON document, and import it back.

    {"cloutlens_export": 1, "exported_at": "...", "settings": {...}, "links": {...},
     "own_identities": [...], "models": [[day, version], ...],
     "items": [...], "history": [{"day": "YYYY-MM-DD", "scores": {identity: score}}, ...],
     "forgotten": [...]}

Tokens and paired origins are never exported: a copy of the export must not let anyone talk to
this server. Import checks the whole document before storing anything, then adds items in
batches by (site, id), so importing the same file twice changes nothing. It reads the file as a
stream (server/jsonstream.py): once for its head, once to check its items, once to store them, a
batch at a time; a parsed document took ten times the file's size in memory (a 48 MB export
peaked at 506 MB).

The daily score snapshots travel too (`history`, with `models`: the first day each scoring model
version scored them), so that a move keeps the history charts: the scorer could recompute any
past day, but not as those days' models scored them, and not quickly for a large store. An
import adds a day's snapshots only for identities this store has none of that day, so it never
overwrites what this machine recorded, and importing a file twice adds nothing.

The people the user forgot travel with the export: an import forgets them here too (their items
in this store go, others' mentions of them stop counting), so a move to another machine does not
bring back someone the user asked to forget.

Each stored item's `sentiment` (the VADER compound the server computed at capture) is left out of
the export: it is derived from the text, an export stays in the capture contract's item form
(which an import before the field existed also reads), and an import must not take a hostile
reply's sentiment from a file anyway. Import drops the field if a file has it and the store
computes it again.
"""
from __future__ import annotations

import io
import os
from array import array
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass
from itertools import islice

import numpy as np
import orjson

from scoring.items import ContractError, author_identity, parse_time

from . import jsonstream
from .contract import normalize_listed_item
from .storage import IMPORT_UNFINISHED, _unlink, atomic_write, is_day

EXPORT_VERSION = 1
IMPORT_MAX = 1024 * 1024 * 1024  # a few years of browsing (about 400 bytes an item) and their history
IMPORT_BATCH = 10_000
HISTORY_MAX_DAYS = 20 * 366        # twenty years of daily snapshots
HISTORY_FIRST_DAY = "2000-01-01"   # a history's days lie between this and tomorrow
HISTORY_BATCH = 50                # days merged under one hold of the lock


def export_chunks(services):
    """The export as a stream of bytes, a shard at a time, so a million items never sit in memory
    as one string. Items are read under the lock one shard at a time, from the shards there were
    when it began: a capture landing during the export may or may not be in it, and one whose
    items span two shards (the last one filling up, or updates of old items) may be in it in
    part; the next export has it whole. The head is read at once, in the
    request, so that a busy lock is answered Busy rather than failing a download begun. The
    forgotten list comes last (an import reads members wherever they are)."""
    from .api import stored_settings
    from .app import utcnow
    store = services.store
    with services.turns.turn():
        head = {"cloutlens_export": EXPORT_VERSION,
                "exported_at": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "settings": stored_settings(store),
                "links": store.get_config("links") or {},
                "own_identities": store.get_config("own_identities") or []}
        store.flush_history()  # so that the model version of the days not yet written is noted too
        head["models"] = [list(c) for c in store.model_changes()]
    return _export_items(store, head)


def _export_items(store, head):
    yield orjson.dumps(head)[:-1] + b', "items": ['
    first = True
    batch = []
    for doc in store.iter_items():
        if "sentiment" in doc:
            doc = {k: v for k, v in doc.items() if k != "sentiment"}
        batch.append(doc)
        if len(batch) >= 1000:
            yield (b"" if first else b",") + orjson.dumps(batch)[1:-1]
            first, batch = False, []
    if batch:
        yield (b"" if first else b",") + orjson.dumps(batch)[1:-1]
    yield b'], "history": ['
    for n, (day, scores) in enumerate(store.history_days()):  # a day at a time
        yield (b"," if n else b"") + orjson.dumps({"day": day, "scores": scores})
    # Last, as it is once every item and day has gone out: someone forgotten while the export
    # streamed may be in the items already sent, and an import leaves out whoever this names.
    yield b'], "forgotten": ' + orjson.dumps(store.get_config("forgotten") or []) + b"}"


def _identity_list(doc, name: str, check_identity) -> list[str]:
    value = doc.get(name, [])
    if not isinstance(value, list) or len(value) > 100_000:
        raise ContractError(name, "must be an array of at most 100,000 identities")
    return sorted({check_identity(v, f"{name}[{n}]") for n, v in enumerate(value)})


@dataclass
class Checked:
    """What check_export found: the file's items are read again to be stored, not kept."""
    items: int
    settings: dict
    links: dict
    own: list[str]
    forgotten: list[str]
    stamp: tuple | None  # the file's size and time, so that one changed since is not stored
    models: list = ()     # [(first day, scoring model version)]
    history_days: int = 0

    def changed(self, fh) -> bool:
        return self.stamp is not None and _stamp(fh) != self.stamp


def _stamp(fh):
    # Only a file on disk can change under the import (the command line's); uploads are ours.
    if not isinstance(fh, (io.BufferedReader, io.BufferedRandom)):
        return None
    st = os.fstat(fh.fileno())
    return st.st_size, st.st_mtime_ns


def _checked_items(fh):
    """(item, seen) for each item of the file, in the stored form; raises ContractError naming
    `items[N]`."""
    for n, raw in enumerate(jsonstream.elements(fh, "items")):
        field = f"items[{n}]"
        if not isinstance(raw, dict):
            raise ContractError(field, "must be a JSON object")
        raw.pop("sentiment", None)  # derived data: the store computes it from the text
        seen = raw.pop("seen", None)
        if seen is not None:
            if not isinstance(seen, str) or len(seen) > 40:
                raise ContractError(f"{field}.seen", "must be an ISO 8601 date-time")
            seen = parse_time(seen, f"{field}.seen")
        yield normalize_listed_item(raw, n), seen


def _day(value, field: str) -> str:
    """A history's day: no day a chart could not show (a chart reads the last year's day files,
    so days in the future would hide every real one)."""
    if not is_day(value):
        raise ContractError(field, "must be a day, YYYY-MM-DD")
    last = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%d")
    if not HISTORY_FIRST_DAY <= value <= last:
        raise ContractError(field, f"must be a day from {HISTORY_FIRST_DAY} to {last}")
    return value


def _checked_models(value) -> list[tuple[str, str]]:
    if not isinstance(value, list) or len(value) > HISTORY_MAX_DAYS:
        raise ContractError("models", f"must be an array of at most {HISTORY_MAX_DAYS:,} [day, version] pairs")
    out = []
    for n, pair in enumerate(value):
        if not isinstance(pair, list) or len(pair) != 2:
            raise ContractError(f"models[{n}]", "must be a [day, version] pair")
        day = _day(pair[0], f"models[{n}][0]")
        if not isinstance(pair[1], str) or not 0 < len(pair[1]) <= 40 or not pair[1].isprintable():
            raise ContractError(f"models[{n}][1]", "must be a model version (at most 40 characters)")
        if out and day < out[-1][0]:
            raise ContractError(f"models[{n}][0]", "must not be before the day of the pair before it")
        out.append((day, pair[1]))
    return out


def _checked_history(fh, check_identity):
    """(day, {identity: score}) for each day of the file's history, checked; raises
    ContractError naming `history[N]...`."""
    from .api import BadRequest
    days = set()
    for n, raw in enumerate(jsonstream.elements(fh, "history")):
        field = f"history[{n}]"
        if n >= HISTORY_MAX_DAYS:
            raise ContractError("history", f"must hold at most {HISTORY_MAX_DAYS:,} days")
        if not isinstance(raw, dict) or set(raw) != {"day", "scores"}:
            raise ContractError(field, 'must be {"day": "YYYY-MM-DD", "scores": {identity: score}}')
        day = _day(raw["day"], f"{field}.day")
        if day in days:
            raise ContractError(f"{field}.day", "is given twice")
        days.add(day)
        scores = raw["scores"]
        if not isinstance(scores, dict):
            raise ContractError(f"{field}.scores", "must be an object of identity: score")
        clean = {}
        for ident, score in scores.items():
            try:
                key = check_identity(ident, f"{field}.scores")
            except BadRequest as exc:
                raise ContractError(exc.field, f"{exc.message} (a key: {ident[:60]!r})") from None
            if type(score) is not int or not 1 <= score <= 100:
                raise ContractError(f"{field}.scores.{key[:60]}", "must be a whole score from 1 to 100")
            clean[key] = score
        yield day, clean


def _refuse_repeated(fh, keys: array):
    """An item given twice (the same site and id) is refused, naming the second, as a capture
    refuses it: stored, the last one won and was counted "unchanged", whichever the file meant.
    Only when two hashes match are the items read again, to compare the keys themselves."""
    hashes = np.sort(np.frombuffer(keys, dtype=np.int64))
    suspects = set(hashes[1:][hashes[1:] == hashes[:-1]].tolist())
    if not suspects:
        return
    first: dict[tuple, int] = {}
    for n, (item, _seen) in enumerate(_checked_items(fh)):
        key = (item["site"], item["id"])
        if hash(key) in suspects:
            if key in first:
                raise ContractError(f"items[{n}].id", f"is given twice in this file (first as items[{first[key]}])")
            first[key] = n


def check_export(fh, each=None) -> Checked:
    """Validate a whole export read from a binary file (seekable), keeping none of its items:
    `each(item)` sees each one checked. Raises jsonstream.NotJSON (a ValueError) or
    ContractError. Members are checked in the order a parsed document was, whatever order
    the file has them in (another tool may write `items` first)."""
    from .api import BadRequest, check_identity, validate_settings
    stamp = _stamp(fh)
    head = jsonstream.scan(fh, "items", "history")
    if not head.is_object:
        raise ContractError("", "the body must be a JSON object")
    doc = head.members
    if doc.get("cloutlens_export") != EXPORT_VERSION:
        raise ContractError("cloutlens_export", f"must be {EXPORT_VERSION} (is this a Cloutlens export?)")
    unknown = sorted(set(doc) - {"cloutlens_export", "exported_at", "settings", "links", "items",
                                 "own_identities", "forgotten", "models", "history"})
    if unknown:
        raise ContractError(unknown[0][:40], "is not a field of an export")
    if head.repeated is not None:
        # a parser keeps one of them, a stream would read both: neither is what the file meant
        raise ContractError(head.repeated[:40], "is given twice")
    exported_at = doc.get("exported_at")
    if exported_at is not None:
        if not isinstance(exported_at, str) or len(exported_at) > 40:
            raise ContractError("exported_at", "must be an ISO 8601 date-time")
        parse_time(exported_at, "exported_at")
    for long in ("items", "history"):
        if head.long_kinds.get(long) not in (None, "array"):
            raise ContractError(long, "must be an array")
    count = 0
    if head.long_kind:
        keys = array("q")  # a hash of each item's (site, id): 8 MB at a million items
        for item, _seen in _checked_items(fh):
            count += 1
            keys.append(hash((item["site"], item["id"])))
            if each is not None:
                each(item)
        _refuse_repeated(fh, keys)
    models = _checked_models(doc.get("models", []))
    history_days = sum(1 for _ in _checked_history(fh, check_identity)) if "history" in head.long_kinds else 0
    settings = doc.get("settings", {})
    if not isinstance(settings, dict):
        raise ContractError("settings", "must be an object")
    links = doc.get("links", {})
    if not isinstance(links, dict):
        raise ContractError("links", "must be an object")
    try:
        settings = validate_settings(settings)
        clean_links = {}
        for alias, canonical in links.items():
            field = f"links.{alias[:60]}"
            clean_links[check_identity(alias, field)] = check_identity(canonical, field)
        own = _identity_list(doc, "own_identities", check_identity)
        forgotten = _identity_list(doc, "forgotten", check_identity)
    except BadRequest as exc:
        field = exc.field if exc.field.startswith(("links", "own_identities", "forgotten")) else f"settings.{exc.field}"
        raise ContractError(field, exc.message) from None
    return Checked(count, settings, clean_links, own, forgotten, stamp, models, history_days)


def merged_links(current: dict, incoming: dict, forgotten) -> dict:
    """The links after an import: the file's over the current ones, none naming a forgotten
    person. Raises ContractError unless the result keeps the rules of POST /api/links (each alias
    points at a canonical identity that is no alias itself; nobody is linked to themselves), so
    that a crafted file cannot make a loop of links the dashboard would follow forever."""
    gone = set(forgotten)
    links = {a: c for a, c in {**current, **incoming}.items() if a not in gone and c not in gone}
    for alias, canonical in sorted(links.items()):
        field = f"links.{alias[:60]}"
        if alias == canonical:
            raise ContractError(field, "links an identity to itself")
        if canonical in links:
            raise ContractError(field, f"points at {canonical[:60]}, which is itself linked to {links[canonical][:60]}")
    return links


class DeletedMeanwhile(Exception):
    """Everything was deleted while an import stored its file: the rest of it is not stored."""


class ImportIncomplete(Exception):
    """An import failed after it began to store. What it stored stays: the file's forgotten
    people, settings and links, and `totals` of its items. Imports are idempotent, so the same
    file again finishes the job. (Unless everything was deleted meanwhile: then nothing of it
    stays.)"""

    def __init__(self, totals: dict, cause: BaseException):
        self.totals, self.cause = dict(totals), cause
        done = self.totals["added"] + self.totals["updated"] + self.totals["unchanged"]
        if isinstance(cause, DeletedMeanwhile):
            super().__init__("all data was deleted while the file was being imported: the import stopped there, "
                             "and nothing of it was kept (import the file again to store it)")
            return
        super().__init__(f"the import stopped after its forgotten people, settings and links and {done} of its "
                         f"items were stored ({cause}); import the same file again to finish it")


def import_document(services, doc) -> dict:
    """Store an export given as parsed JSON (tests, scripts): as import_export takes a file."""
    return import_export(services, io.BytesIO(orjson.dumps(doc)))


def import_export(services, fh, checked: Checked | None = None) -> dict:
    """Store a whole export read from a binary file (seekable); `checked` is check_export(fh)
    when the caller has it already. Nothing is stored unless the whole file passed: its items
    are read a second time, IMPORT_BATCH at a time, to be stored.

    The services lock is taken for each batch of items, not for the whole import: at a million
    items that is minutes, during which no capture would be stored. Requests that wait for a
    batch meanwhile give up after a while (server/busy.py); the import never does: only its first
    turn may answer Busy, before anything is stored."""
    checked = checked or check_export(fh)
    if checked.changed(fh):
        raise ContractError("", "the file changed while it was being checked; nothing was stored")
    me = object()  # in services.importing from the writing of import.unfinished until it is done storing
    try:
        with services.turns.doing("an import"):
            return _store_export(services, fh, checked, me)
    finally:
        services.importing.discard(me)


def _store_export(services, fh, checked: Checked, me: object) -> dict:
    from .api import stored_settings
    from .app import utcnow
    settings, links, own, forgotten = checked.settings, checked.links, checked.own, checked.forgotten
    now = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    totals = {"added": 0, "updated": 0, "unchanged": 0}
    store = services.store
    with services.turns.turn():  # Busy here, before anything is stored; later turns are waited for
        # a delete-all between two batches stops the import: "delete everything" is not undone
        # by the rest of a file
        cleared = services.cleared
        # links that cannot be kept stop the import before anything is stored
        here_gone = set(store.get_config("forgotten") or ())
        # as forgetting anyone forgets the identities linked to them here: one person
        to_forget = {i for f in set(forgotten) - here_gone for i in services.linked_with(f)} - here_gone
        if links:
            merged_links(store.get_config("links") or {}, links, set(forgotten) | here_gone)
        # Written before anything is stored, removed once all of it is: a crash midway (the
        # answer lost with the server) leaves it, and the next start says an import did not finish.
        atomic_write(store.data_dir / IMPORT_UNFINISHED, orjson.dumps({"started": now, "items": checked.items}))
        services.importing.add(me)
        try:
            # Forgotten first, so that the items added next never score them through mentions.
            removed = services.forget_many(to_forget)
            # Settings and links next, before the items: set after them, they had the scorer
            # rescore every item the file brought (a 125,000-item file's import peaked there,
            # 426 MB). The items are scored as they come instead. Links to anyone forgotten while
            # the items are stored go with them, as forgetting takes a person's links.
            if settings:
                merged = stored_settings(store)
                merged.update(settings)
                services.set_settings(merged)
            if links:
                gone_now = set(store.get_config("forgotten") or ())
                services.set_links(merged_links(store.get_config("links") or {}, links, gone_now))
        except BaseException as exc:
            raise ImportIncomplete(totals, exc) from exc
    try:
        left_out = _store_items(services, fh, checked, totals, now, cleared)
        if own:  # nobody forgotten becomes one of the user's own identities either
            with services.lock:
                _not_cleared(services, cleared)
                mine = (set(store.get_config("own_identities") or ()) | set(own)) - set(store.get_config("forgotten") or ())
                store.set_config("own_identities", sorted(mine))
        snapshots = _store_history(services, fh, checked, cleared)
        with services.lock:
            # Another import may still be storing its file (two tabs): the mark is its too, and
            # goes when the last of them is done (else a crash now would leave part of it unsaid).
            # This one leaves the set here, under the lock, not at its answer: one finishing in
            # between saw it still storing, and neither removed the mark.
            services.importing.discard(me)
            if not services.importing:
                _unlink(store.data_dir / IMPORT_UNFINISHED)
                store.unfinished_import = None
    except BaseException as exc:
        raise ImportIncomplete(totals, exc) from exc
    return {"items": totals, "settings": sorted(settings), "links": len(links), "forgotten": len(forgotten),
            "forgotten_here": sorted(to_forget), "items_removed": removed,
            "own_identities": len(own), "left_out": left_out,
            "history": {"days": checked.history_days, "snapshots_added": snapshots}}


def _not_cleared(services, cleared: int):
    if services.cleared != cleared:
        raise DeletedMeanwhile()


def _store_history(services, fh, checked: Checked, cleared: int) -> int:
    """The file's daily snapshots, HISTORY_BATCH days under each hold of the lock, and the model
    versions that scored them. Only what this store has no snapshot of (merge_history); nobody
    forgotten here or in the file comes back (the list is read again for each batch). Returns
    how many snapshots were added."""
    from .api import check_identity
    store = services.store
    added = 0
    if checked.models:  # first: a day on disk is never without its version
        with services.lock:
            _not_cleared(services, cleared)
            store.merge_model_changes(checked.models)
    days = _checked_history(fh, check_identity) if checked.history_days else iter(())
    while batch := list(islice(days, HISTORY_BATCH)):
        if checked.changed(fh):
            raise ContractError("", "the file changed while it was being imported")
        with services.lock:
            _not_cleared(services, cleared)
            gone = set(store.get_config("forgotten") or ()) | set(checked.forgotten)
            for day, scores in batch:
                added += store.merge_history(day, {i: s for i, s in scores.items() if i not in gone})
        services.let_captures_in()
    return added


def _store_items(services, fh, checked: Checked, totals: dict, now: str, cleared: int) -> int:
    """The file's items, a batch at a time, each under the lock; `totals` counts what is stored
    as it goes. Returns how many were left out.

    Items keep the time they were first seen, so undated ones do not look new. Nobody forgotten
    comes back through a file: not those the file forgot (it still holds their items), nor those
    forgotten here since it was made (an old backup), nor those forgotten while it is imported
    (the list is read again for each batch)."""
    store = services.store
    left_out = 0
    items = _checked_items(fh) if checked.items else iter(())
    while batch := list(islice(items, IMPORT_BATCH)):
        if checked.changed(fh):
            raise ContractError("", "the file changed while it was being imported")
        with services.lock:
            _not_cleared(services, cleared)
            gone = set(store.get_config("forgotten") or ())
            kept = [dict(item, seen=seen) if seen else item for item, seen in batch
                    if not gone or author_identity(item) not in gone]
            left_out += len(batch) - len(kept)
            stored = store.add_items(kept, now)
            for k in totals:
                totals[k] += stored[k]
            if stored["items"]:
                services.scorer.add(services.for_scorer(stored["items"]))
        services.let_captures_in()
    return left_out
