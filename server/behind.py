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
    pos = key.find(":")
    while pos > 0:
        site, item_id = key[:pos], key[pos + 1:]
        if _SITE.match(site):
            found = store.get_item(site, item_id)
            if found:
                return found
        pos = key.find(":", pos + 1)
    return None


def items_behind(store, result: dict | None) -> list[dict]:
    """Every stored item the score counts, with the points it gave (the breakdown's by_item)."""
    by_item = ((result or {}).get("breakdown") or {}).get("by_item") or {}
    rows = []
    for key, pts in by_item.items():
        item = find_item(store, key)
        if item is None:
            continue
        rows.append({"key": key, "item": item, "points": float(pts),
                     "author": f"{item['site']}:{item['author']['handle']}"})
    rows.sort(key=lambda r: (-r["points"], r["item"].get("at") or "", r["key"]))
    return rows
