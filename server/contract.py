"""The capture envelope (contract v1) at the server's edge: `{"v": 1, "page": {...}, "items": [...]}`.

The item rules live in scoring.items, shared with the offline reader; this adds the page and the
envelope, and checks the whole capture before anything is stored.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import jsonschema_rs
from jsonschema import Draft202012Validator

from scoring.items import (CONTRACT_VERSION, ITEM_SCHEMA, ContractError, first_error, is_valid,
                           normalize_item, normalize_line, site_name)

MAX_ITEMS = 2000

PAGE_SCHEMA = {
    "type": "object",
    "required": ["url"],
    "additionalProperties": False,
    "properties": {
        "url": {"type": "string", "minLength": 1, "maxLength": 2048},
        "title": {"type": "string", "maxLength": 500},
        "site": {"type": "string", "maxLength": 260},  # normalised as the address's host is
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
# The whole capture, items included, compiled: one call says yes to the valid captures that are
# the norm (cheaper than a call per item). As for items, only its "yes" is taken.
_whole = jsonschema_rs.Draft202012Validator(
    dict(CAPTURE_SCHEMA, properties=dict(CAPTURE_SCHEMA["properties"], items=dict(
        CAPTURE_SCHEMA["properties"]["items"], items=ITEM_SCHEMA))))


def site_of(url: str) -> str:
    """The site a page's address names: its host, lower case, without `www.` or the trailing dot
    of a fully qualified name, non-ASCII names in their ASCII (IDNA) form as browsers give them.
    A host that is no site name (an IP v6 address, `ex_ample.com`, `a%40b.com`) is refused:
    identities stored under it could never be looked up, forgotten or imported again."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ContractError("page.url", "must be an http(s) URL")
    site = site_name(parts.hostname)
    if site is None:
        raise ContractError("page.url", "must have a host name of letters, digits, dots and dashes")
    return site


def validate_capture(obj) -> dict:
    """Check a whole capture; return it with normalized items. Raises ContractError."""
    if not isinstance(obj, dict):
        raise ContractError("", "the body must be a JSON object")
    err = first_error(_envelope, obj, "")
    if err:
        raise err
    page = obj["page"]
    url_site = site_of(page["url"])
    site = url_site
    if page.get("site"):
        site = site_name(page["site"])
        if site is None:
            raise ContractError("page.site", "must be a host name such as reddit.com")
    # A capture may name a parent domain (old.reddit.com -> reddit.com), never another site.
    if site != url_site and not url_site.endswith("." + site):
        raise ContractError("page.site", "must be the page's host or a parent domain of it")
    checked = is_valid(_whole, obj)
    items = [normalize_item(raw, site, f"items[{i}]", checked) for i, raw in enumerate(obj["items"])]
    seen = set()
    for i, item in enumerate(items):
        if item["id"] in seen:
            raise ContractError(f"items[{i}].id", "is repeated in this capture")
        seen.add(item["id"])
    return {"v": CONTRACT_VERSION, "page": {"url": page["url"], "title": page.get("title", ""), "site": site},
            "items": items}


def normalize_listed_item(raw, n: int) -> dict:
    """One item of an export's `items` array, in the stored form; errors name `items[N].field`."""
    try:
        return normalize_line(raw, n)
    except ContractError as exc:
        # normalize_line names lines (`line 3.author`); an export names array entries.
        raise ContractError(exc.field.replace(f"line {n}", f"items[{n}]", 1), exc.message) from None
