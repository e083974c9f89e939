"""The capture envelope (contract v1) at the server's edge: `{"v": 1, "page": {...}, "items": [...]}`.

The item rules live in scoring.items, shared with the offline reader; this adds the page and the
envelope, and checks the whole capture before anything is stored.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import jsonschema_rs
from jsonschema import Draft202012Validator

from scoring.items import (CONTRACT_VERSION, ITEM_SCHEMA, SITE_PATTERN, ContractError, field_path,
                           first_error, normalize_handle, normalize_item, parse_time)

MAX_ITEMS = 2000

PAGE_SCHEMA = {
    "type": "object",
    "required": ["url"],
    "additionalProperties": False,
    "properties": {
        "url": {"type": "string", "minLength": 1, "maxLength": 2048},
        "title": {"type": "string", "maxLength": 500},
        "site": {"type": "string", "pattern": SITE_PATTERN, "maxLength": 260},
    },
}

CAPTURE_SCHEMA = {
    "type": "object",
    "required": ["v", "page", "items"],
    "additionalProperties": False,
    "properties": {
        "v": {"const": CONTRACT_VERSION},
        "page": PAGE_SCHEMA,
        # Items are checked one by one below, so that their errors name `items[N]`.
        "items": {"type": "array", "minItems": 1, "maxItems": MAX_ITEMS},
    },
}
_envelope = Draft202012Validator(CAPTURE_SCHEMA)
# The whole capture, items included, for a fast yes/no check with a compiled validator (~10x
# faster on the valid captures that are the norm). Only a "yes" is taken from it: anything it
# refuses goes through jsonschema, whose answer (and error naming the field) stands.
_whole = jsonschema_rs.Draft202012Validator(
    dict(CAPTURE_SCHEMA, properties=dict(CAPTURE_SCHEMA["properties"], items=dict(
        CAPTURE_SCHEMA["properties"]["items"], items=ITEM_SCHEMA))))


def site_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ContractError("page.url", "must be an http(s) URL")
    host = parts.hostname.lower()
    return host.removeprefix("www.")


def validate_capture(obj) -> dict:
    """Check a whole capture; return it with normalized items. Raises ContractError."""
    if not isinstance(obj, dict):
        raise ContractError("", "the body must be a JSON object")
    err = first_error(_envelope, obj, "")
    if err:
        raise err
    page = obj["page"]
    url_site = site_of(page["url"])
    site = (page.get("site") or url_site).lower()
    # A capture may name a parent domain (old.reddit.com -> reddit.com), never another site.
    if site != url_site and not url_site.endswith("." + site):
        raise ContractError("page.site", "must be the page's host or a parent domain of it")
    if _whole.is_valid(obj):
        items = [_normalize_valid(raw, site, i) for i, raw in enumerate(obj["items"])]
    else:
        items = [normalize_item(raw, site, f"items[{i}]") for i, raw in enumerate(obj["items"])]
    seen = set()
    for i, item in enumerate(items):
        if item["id"] in seen:
            raise ContractError(f"items[{i}].id", "is repeated in this capture")
        seen.add(item["id"])
    return {"v": CONTRACT_VERSION, "page": {"url": page["url"], "title": page.get("title", ""), "site": site},
            "items": items}



# An item of the offline / export form, which names its own site.
_line = jsonschema_rs.Draft202012Validator(dict(ITEM_SCHEMA, required=ITEM_SCHEMA["required"] + ["site"]))


def normalize_listed_item(raw, n: int) -> dict:
    """One item of an export's `items` array, in the stored form; errors name `items[N].field`.
    The compiled check first, as for captures; anything it refuses goes through normalize_line."""
    from scoring.items import normalize_line
    if isinstance(raw, dict) and _line.is_valid(raw):
        return _normalize_valid(raw, raw["site"], n)
    try:
        return normalize_line(raw, n)
    except ContractError as exc:
        # normalize_line names lines (`line 3.author`); an export names array entries.
        raise ContractError(exc.field.replace(f"line {n}", f"items[{n}]", 1), exc.message) from None


def _normalize_valid(raw: dict, site: str, i: int) -> dict:
    """normalize_item for an item the schema already accepted: the same stored form, without
    walking the schema again (jsonschema's walk was a quarter of a capture's CPU time). A test
    holds the two equal; any check that fails here is left to normalize_item, which raises."""
    author = raw["author"]
    handle = normalize_handle(author["handle"])
    kind, parent = raw["kind"], raw.get("parent")
    if not handle or (kind == "post" and parent) or parent == raw["id"]:
        return normalize_item(raw, site, f"items[{i}]")
    return {
        "site": site,
        "id": raw["id"],
        "kind": kind,
        "parent": parent,
        "author": {"handle": handle, "name": (author.get("name") or author["handle"]).strip()[:200],
                   "url": author.get("url")},
        "at": parse_time(raw["at"], field_path(f"items[{i}]", ["at"])) if raw.get("at") else None,
        "text": raw.get("text", ""),
        "url": raw.get("url"),
        "reactions": dict(raw.get("reactions") or {}),
        "mentions": sorted({normalize_handle(m) for m in raw.get("mentions", []) if m.strip()}),
    }
