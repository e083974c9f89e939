"""Export everything as one JSON document, and import it back.

    {"cloutlens_export": 1, "exported_at": "...", "settings": {...}, "links": {...},
     "own_identities": [...], "forgotten": [...], "items": [...]}

Tokens and paired origins are never exported: a copy of the export must not let anyone talk to
this server. Import checks the whole document before storing anything, then adds items in
batches by (site, id), so importing the same file twice changes nothing.

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

import orjson

from scoring.items import ContractError, author_identity, parse_time

from .contract import normalize_listed_item

EXPORT_VERSION = 1
IMPORT_MAX = 512 * 1024 * 1024  # a few years of browsing, about 400 bytes an item
IMPORT_BATCH = 10_000


def export_chunks(services):
    """The export as a stream of bytes, a shard at a time, so a million items never sit in memory
    as one string. Items are read under the lock one shard at a time: a capture landing during
    the export may or may not be in it, never half of it. The head is read at once, in the
    request, so that a busy lock is answered Busy rather than failing a download begun."""
    from .api import stored_settings
    from .app import utcnow
    store = services.store
    with services.turn():
        head = {"cloutlens_export": EXPORT_VERSION,
                "exported_at": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "settings": stored_settings(store),
                "links": store.get_config("links") or {},
                "own_identities": store.get_config("own_identities") or [],
                "forgotten": store.get_config("forgotten") or []}
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
    yield b"]}"


def _identity_list(doc, name: str, check_identity) -> list[str]:
    value = doc.get(name, [])
    if not isinstance(value, list) or len(value) > 100_000:
        raise ContractError(name, "must be an array of at most 100,000 identities")
    return sorted({check_identity(v, f"{name}[{n}]") for n, v in enumerate(value)})


def check_document(doc) -> tuple[list[tuple[dict, str]], dict, dict, list[str], list[str]]:
    """Validate a whole export. Returns ((item, seen) pairs, settings, links, own identities,
    forgotten identities); raises ContractError. The document's items are let go as they are
    read (doc["items"] holds None after): a parsed export and its checked copy side by side
    were most of an import's memory, twelve times the file's size."""
    from .api import BadRequest, check_identity, validate_settings
    if not isinstance(doc, dict):
        raise ContractError("", "the body must be a JSON object")
    if doc.get("cloutlens_export") != EXPORT_VERSION:
        raise ContractError("cloutlens_export", f"must be {EXPORT_VERSION} (is this a Cloutlens export?)")
    unknown = sorted(set(doc) - {"cloutlens_export", "exported_at", "settings", "links", "items",
                                 "own_identities", "forgotten"})
    if unknown:
        raise ContractError(unknown[0][:40], "is not a field of an export")
    exported_at = doc.get("exported_at")
    if exported_at is not None:
        if not isinstance(exported_at, str) or len(exported_at) > 40:
            raise ContractError("exported_at", "must be an ISO 8601 date-time")
        parse_time(exported_at, "exported_at")
    items = doc.get("items", [])
    if not isinstance(items, list):
        raise ContractError("items", "must be an array")
    out = []
    for n, raw in enumerate(items):
        field = f"items[{n}]"
        if not isinstance(raw, dict):
            raise ContractError(field, "must be a JSON object")
        items[n] = None
        raw.pop("sentiment", None)  # derived data: the store computes it from the text
        seen = raw.pop("seen", None)
        if seen is not None:
            if not isinstance(seen, str) or len(seen) > 40:
                raise ContractError(f"{field}.seen", "must be an ISO 8601 date-time")
            seen = parse_time(seen, f"{field}.seen")
        out.append((normalize_listed_item(raw, n), seen))
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
    return out, settings, clean_links, own, forgotten


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


def import_document(services, doc, checked=None) -> dict:
    """Store a whole export; `checked` is check_document(doc) when the caller has it already.

    The services lock is taken for each batch of items, not for the whole import: at a million
    items that is minutes, during which no capture would be stored. Requests that wait for a
    batch meanwhile give up after a while (server/busy.py); the import never does: only its first
    turn may answer Busy, before anything is stored."""
    items, settings, links, own, forgotten = checked or check_document(doc)
    with services.doing("an import"):
        return _store_document(services, items, settings, links, own, forgotten)


def _store_document(services, items, settings, links, own, forgotten) -> dict:
    from .api import stored_settings
    from .app import utcnow
    now = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    totals = {"added": 0, "updated": 0, "unchanged": 0}
    store = services.store
    with services.turn():  # Busy here, before anything is stored; later turns are waited for
        # links that cannot be kept stop the import before anything is stored
        here_gone = set(store.get_config("forgotten") or ())
        if links:
            merged_links(store.get_config("links") or {}, links, set(forgotten) | here_gone)
        # Forgotten first, so that the items added next never score them through mentions.
        removed = services.forget_many(set(forgotten) - here_gone)
    # Items keep the time they were first seen, so undated ones do not look new. Nobody
    # forgotten comes back through a file: not those the file forgot (it still holds their
    # items), nor those forgotten here since it was made (an old backup), nor those forgotten
    # while it is imported (the list is read again for each batch).
    left_out = 0
    for start in range(0, len(items), IMPORT_BATCH):
        with services.lock:
            gone = set(store.get_config("forgotten") or ())
            batch = [dict(item, seen=seen) if seen else item for item, seen in items[start:start + IMPORT_BATCH]
                     if not gone or author_identity(item) not in gone]
            left_out += min(IMPORT_BATCH, len(items) - start) - len(batch)
            stored = store.add_items(batch, now)
            for k in totals:
                totals[k] += stored[k]
            if stored["items"]:
                services.scorer.add(services.for_scorer(stored["items"]))
        services.let_captures_in()
    with services.lock:
        all_gone = set(store.get_config("forgotten") or ())
        if settings:
            merged = stored_settings(store)
            merged.update(settings)
            services.set_settings(merged)
        if links:
            services.set_links(merged_links(store.get_config("links") or {}, links, all_gone))
        if own:  # nobody forgotten becomes one of the user's own identities either
            mine = (set(store.get_config("own_identities") or ()) | set(own)) - all_gone
            store.set_config("own_identities", sorted(mine))
    return {"items": totals, "settings": sorted(settings), "links": len(links), "forgotten": len(forgotten),
            "forgotten_here": sorted(set(forgotten) - here_gone), "items_removed": removed,
            "own_identities": len(own), "left_out": left_out}
