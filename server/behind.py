"""The stored items behind a person's score: the scorer's breakdown names them by key, the store
holds them. Read by the dashboard's person page and the API's person answer."""
from __future__ import annotations

import re

from scoring.items import SITE_PATTERN

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
    """Every stored item the score counts, with the points it gave (the breakdown's by_item), or
    None when they lie in more than `max_shards` shards. The keys are read together, in the
    order the store holds them (Store.get_items); a key whose first site-shaped split names no
    item (a site with a port) is looked up alone."""
    by_item = ((result or {}).get("breakdown") or {}).get("by_item") or {}
    keys = list(by_item)
    split = [_first_split(k) for k in keys]
    found = store.get_items([p for p in split if p is not None], max_shards=max_shards)
    if found is None:
        return None
    got = iter(found)
    rows = []
    for key, pair in zip(keys, split):
        item = next(got) if pair is not None else None
        if item is None:
            item = find_item(store, key)
        if item is None:
            continue
        rows.append({"key": key, "item": item, "points": float(by_item[key]),
                     "author": f"{item['site']}:{item['author']['handle']}"})
    rows.sort(key=lambda r: (-r["points"], r["item"].get("at") or "", r["key"]))
    return rows


def _first_split(key) -> tuple[str, str] | None:
    return next(_site_splits(key), None) if isinstance(key, str) else None


def _site_splits(key: str):
    """(site, id) for each ':' in the key that ends a valid site, first to last."""
    pos = key.find(":")
    while pos > 0:
        if _SITE.match(key[:pos]):
            yield key[:pos], key[pos + 1:]
        pos = key.find(":", pos + 1)
