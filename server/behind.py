"""The stored items behind a person's score: the scorer's breakdown names them by key, the store
holds them. Read by the dashboard's person page and the API's person answer."""
from __future__ import annotations

import re
import sys

from scoring.items import SITE_PATTERN
from scoring.samewords import words_of

_SITE = re.compile(SITE_PATTERN)


def find_item(store, key) -> dict | None:
    """The stored item a scorer item key names. Keys are `site:id`; sites may hold a port, so
    every split that gives a valid site is tried."""
    if isinstance(key, (list, tuple)) and len(key) == 2:
        return store.get_item(key[0], key[1])
    if not isinstance(key, str):
        return None
    for sep in ("\x1f", "|", "/"):
        if sep in key:
            site, _, item_id = key.partition(sep)
            found = store.get_item(site, item_id)
            if found:
                return found
    for site, item_id in _site_splits(key):
        found = store.get_item(site, item_id)
        if found:
            return found
    return None


# What the overview and the API read on every answer: the items behind a score only when they
# lie in at most this many of the store's shards (a shard not in the cache is parsed, ~25 ms);
# the person page reads them wherever they are.
EVERY_ANSWER_SHARDS = 12


def items_behind(store, result: dict | None, max_shards: int | None = None) -> list[dict] | None:
    """Every stored item the score counts, with the points it gave (the breakdown's by_item) and
    its row fields (row_fields), or None when they lie in more than `max_shards` shards."""
    by_item = ((result or {}).get("breakdown") or {}).get("by_item") or {}
    keys = list(by_item)
    items = _read_keys(store, keys, lambda pairs: store.get_items(pairs, max_shards=max_shards))
    if items is None:
        return None
    rows = [dict(_row(key, float(by_item[key]), row_fields(item)), item=item)
            for key, item in zip(keys, items) if item is not None]
    rows.sort(key=lambda r: (-r["points"], r["at"], r["key"]))
    return rows


def ranked_behind(store, result: dict | None) -> list[dict]:
    """items_behind's rows, in its order, without the items: the fields the person page needs of
    all of them, read with Store.item_fields, which keeps them. The page reads the items of the
    rows it shows (with_items)."""
    by_item = ((result or {}).get("breakdown") or {}).get("by_item") or {}
    rows = light_rows(store, [(k, float(by_item[k])) for k in by_item])
    rows.sort(key=lambda r: (-r["points"], r["at"], r["key"]))
    return rows


def light_rows(store, keyed: list[tuple[str, float]]) -> list[dict]:
    """Rows {key, points, author, at, seen, words} of (key, points) pairs whose item is stored."""
    got = _read_keys(store, [k for k, _ in keyed], lambda pairs: store.item_fields(pairs, row_fields), row_fields)
    return [_row(key, points, fields) for (key, points), fields in zip(keyed, got) if fields is not None]


def _row(key: str, points: float, fields: tuple) -> dict:
    author, at, seen, words = fields
    return {"key": key, "points": points, "author": author, "at": at, "seen": seen, "words": words}


def row_fields(item: dict) -> tuple:
    """What the person page needs of every item behind a score (Store.item_fields keeps it):
    the author, when it was written and first seen, and a hash of its words (copies.py groups
    by them; equal words give equal hashes, and the groups found are checked on the words)."""
    words = words_of(item.get("text"))
    # interned: an author's name and a capture's time recur across items, kept for each
    return (sys.intern(f"{item['site']}:{item['author']['handle']}"), _interned(item.get("at") or ""),
            sys.intern(str(item.get("seen") or "")), None if words is None else hash(words))


def _interned(value):
    return sys.intern(value) if type(value) is str else value


# What the person page shows of an item's text: up to 160 characters (truncate(160), which
# reads no further than that when the text is longer than 165), so shown_fields keeps 200.
SHOWN_TEXT = 200


def shown_fields(item: dict) -> dict:
    """What the person page shows of an item behind the score (Store.item_fields keeps it for
    the items shown: the next visit reads no shard for them)."""
    text = item.get("text")
    return {"kind": item.get("kind"), "site": item["site"], "at": item.get("at"), "url": item.get("url"),
            "text": text[:SHOWN_TEXT] if isinstance(text, str) else text}


def with_items(store, rows: list[dict], fields=None) -> list[dict]:
    """The rows with their stored items (`item`), read together, or with fields(item) of them,
    kept by Store.item_fields (shown_fields: what a page shows); rows that have one keep it, and
    a row whose item is gone since is left out."""
    need = [r for r in rows if "item" not in r]
    keys = [r["key"] for r in need]
    if fields is None:
        got = _read_keys(store, keys, store.get_items)
    else:
        got = _read_keys(store, keys, lambda pairs: store.item_fields(pairs, fields), fields)
    for r, item in zip(need, got):
        r["item"] = item
    return [r for r in rows if r["item"] is not None]


def _read_keys(store, keys: list, read, fields=None) -> list | None:
    """The stored item (or fields(item)) each scorer key names, None for one not stored; None in
    place of the list when `read` gives None (Store.get_items past its max_shards). `read` reads
    the keys' (site, id) pairs together, in the order the store holds them; a key whose first
    site-shaped split names no item (a site with a port) is looked up alone."""
    split = [_first_split(k) for k in keys]
    found = read([p for p in split if p is not None])
    if found is None:
        return None
    got = iter(found)
    out = []
    for key, pair in zip(keys, split):
        value = next(got) if pair is not None else None
        if value is None:
            item = find_item(store, key)
            value = item if item is None or fields is None else fields(item)
        out.append(value)
    return out


def _first_split(key) -> tuple[str, str] | None:
    return next(_site_splits(key), None) if isinstance(key, str) else None


def _site_splits(key: str):
    """(site, id) for each ':' in the key that ends a valid site, first to last."""
    pos = key.find(":")
    while pos > 0:
        if _SITE.match(key[:pos]):
            yield key[:pos], key[pos + 1:]
        pos = key.find(":", pos + 1)
