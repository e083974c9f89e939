"""The item contract (v1): what a capture or a JSON Lines file holds, and how it is checked.

One JSON Schema serves the server's edge, the offline `cloutlens score` reader and the OpenAPI
document, so the three can never disagree about what a valid item is. Errors name the field in
the form `items[3].author.handle`, because the person reading them is fixing an adapter.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from jsonschema import Draft202012Validator

CONTRACT_VERSION = 1
KINDS = ("post", "comment")
TEXT_MAX = 4000  # the extension caps at 2,000; the margin is for other producers
HANDLE_MAX = 100

# A site is a host name: what an identity is scoped by (`news.ycombinator.com:pg`).
SITE_PATTERN = r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?$"

AUTHOR_SCHEMA = {
    "type": "object",
    "required": ["handle"],
    "additionalProperties": False,
    "properties": {
        "handle": {"type": "string", "minLength": 1, "maxLength": HANDLE_MAX},
        "name": {"type": "string", "maxLength": 200},
        "url": {"type": ["string", "null"], "maxLength": 2048},
    },
}

ITEM_SCHEMA = {
    "type": "object",
    "required": ["id", "kind", "author"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 256},
        "kind": {"enum": list(KINDS)},
        "parent": {"type": ["string", "null"], "minLength": 1, "maxLength": 256},
        "author": AUTHOR_SCHEMA,
        "at": {"type": ["string", "null"], "maxLength": 40},
        "text": {"type": "string", "maxLength": TEXT_MAX},
        "url": {"type": ["string", "null"], "maxLength": 2048},
        "reactions": {
            "type": "object",
            "maxProperties": 20,
            "propertyNames": {"minLength": 1, "maxLength": 32},
            "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 1_000_000_000},
        },
        "mentions": {
            "type": "array",
            "maxItems": 50,
            "items": {"type": "string", "minLength": 1, "maxLength": HANDLE_MAX},
        },
        # Only in the offline JSON Lines form; a capture names the site once, in `page`.
        "site": {"type": "string", "pattern": SITE_PATTERN, "maxLength": 260},
    },
}

_item_validator = Draft202012Validator(ITEM_SCHEMA)
_ITEM_KEYS = frozenset(ITEM_SCHEMA["properties"])
_AUTHOR_KEYS = frozenset(AUTHOR_SCHEMA["properties"])
_SITE_RE = re.compile(SITE_PATTERN)
_CANONICAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


class ContractError(ValueError):
    """Bad input, with the dotted path of the field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def field_path(prefix: str, path) -> str:
    out = prefix
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(error) -> str:
    """A short message that never echoes the (possibly huge, possibly hostile) value."""
    v, arg = error.validator, error.validator_value
    if v == "required":
        missing = [k for k in arg if k not in (error.instance or {})]
        return f"is missing required field {missing[0]!r}" if missing else "is missing a field"
    if v == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"has unknown field {extra[0][:40]!r}" if extra else "has an unknown field"
    if v == "type":
        want = arg if isinstance(arg, str) else " or ".join(arg)
        return f"must be of type {want}"
    if v == "maxLength":
        return f"must be at most {arg} characters"
    if v == "minLength":
        return "must not be empty" if arg == 1 else f"must be at least {arg} characters"
    if v == "maxItems":
        return f"must have at most {arg} entries"
    if v == "minItems":
        return f"must have at least {arg} entries"
    if v == "maxProperties":
        return f"must have at most {arg} keys"
    if v == "enum":
        return "must be one of " + ", ".join(map(repr, arg))
    if v == "const":
        return f"must be {arg!r}"
    if v in ("minimum", "maximum"):
        return f"must be {'>=' if v == 'minimum' else '<='} {arg}"
    if v == "pattern":
        return "has an invalid format"
    return f"is invalid ({v})"


def first_error(validator, instance, prefix: str) -> ContractError | None:
    # Deepest-first, then path order: the most specific field is the useful one.
    errors = sorted(validator.iter_errors(instance), key=lambda e: (-len(e.path), list(map(str, e.path))))
    if not errors:
        return None
    e = errors[0]
    path = list(e.path)
    if e.validator == "propertyNames":
        return ContractError(field_path(prefix, path), "has an invalid key")
    return ContractError(field_path(prefix, path), _describe(e))


def plainly_valid(raw) -> bool:
    """True only if `raw` passes ITEM_SCHEMA, checked the way nearly every item is shaped (exact
    types, lengths and keys) in a few microseconds; jsonschema takes a hundred. False is no
    verdict: the caller then asks jsonschema, which decides and names the field at fault."""
    if type(raw) is not dict or not _ITEM_KEYS.issuperset(raw) or "author" not in raw:
        return False
    v = raw.get("id")
    if type(v) is not str or not 0 < len(v) <= 256 or raw.get("kind") not in KINDS:
        return False
    v = raw.get("parent")
    if v is not None and (type(v) is not str or not 0 < len(v) <= 256):
        return False
    a = raw["author"]
    if type(a) is not dict or not _AUTHOR_KEYS.issuperset(a):
        return False
    v = a.get("handle")
    if type(v) is not str or not 0 < len(v) <= HANDLE_MAX:
        return False
    if "name" in a and (type(a["name"]) is not str or len(a["name"]) > 200):
        return False
    for holder, key, most in ((a, "url", 2048), (raw, "url", 2048), (raw, "at", 40)):
        v = holder.get(key)
        if v is not None and (type(v) is not str or len(v) > most):
            return False
    if "text" in raw and (type(raw["text"]) is not str or len(raw["text"]) > TEXT_MAX):
        return False
    if "reactions" in raw:
        r = raw["reactions"]
        if type(r) is not dict or len(r) > 20:
            return False
        for k, n in r.items():
            if type(k) is not str or not 0 < len(k) <= 32 or type(n) is not int or not 0 <= n <= 1_000_000_000:
                return False
    if "mentions" in raw:
        m = raw["mentions"]
        if type(m) is not list or len(m) > 50:
            return False
        for h in m:
            if type(h) is not str or not 0 < len(h) <= HANDLE_MAX:
                return False
    if "site" in raw:
        v = raw["site"]
        if type(v) is not str or len(v) > 260 or not _SITE_RE.search(v):
            return False
    return True


def parse_time(value: str, field: str) -> str:
    """ISO 8601 in, canonical UTC `YYYY-MM-DDTHH:MM:SSZ` out; a naive time is taken as UTC."""
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ContractError(field, "must be an ISO 8601 date-time") from None
    if _CANONICAL_TIME.fullmatch(value):
        # already the canonical form (as every stored item is): the parse checked the calendar,
        # and formatting it again would give back the same text
        if not 1990 <= dt.year <= 2200:
            raise ContractError(field, "is out of range")
        return value
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    dt = dt.astimezone(timezone.utc)
    if not 1990 <= dt.year <= 2200:
        raise ContractError(field, "is out of range")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


_HANDLE_SPACE = re.compile(r"\s+")
_KIND = {k: k for k in KINDS}
# Normalized handles and sites by what was given, so that a file's million items share one string
# per person and per site: the scorer hashes and compares each of them per item, and a string
# already seen is found at once. Bounded, like the sentiment cache.
_HANDLES: dict[str, str] = {}
_SITES: dict[str, str] = {}
_MEMO_MAX = 200_000


def _memo(memo: dict, key: str, value: str) -> str:
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    memo[key] = value
    return value


def normalize_handle(handle: str) -> str:
    out = _HANDLES.get(handle)
    if out is None:
        out = _memo(_HANDLES, handle, _HANDLE_SPACE.sub(" ", handle.strip()).lower())
    return out


def normalize_item(raw: dict, site: str, prefix: str = "") -> dict:
    """Validate one item and return it in the stored form. Raises ContractError."""
    err = None if plainly_valid(raw) else first_error(_item_validator, raw, prefix)
    if err:
        raise err
    handle = normalize_handle(raw["author"]["handle"])
    if not handle:
        raise ContractError(field_path(prefix, ["author", "handle"]), "must not be blank")
    item = {
        "site": site,
        "id": raw["id"],
        "kind": _KIND[raw["kind"]],
        "parent": raw.get("parent"),
        "author": {
            "handle": handle,
            "name": (raw["author"].get("name") or raw["author"]["handle"]).strip()[:200],
            "url": raw["author"].get("url"),
        },
        "at": parse_time(raw["at"], field_path(prefix, ["at"])) if raw.get("at") else None,
        "text": raw.get("text", ""),
        "url": raw.get("url"),
        "reactions": dict(raw.get("reactions") or {}),
        "mentions": sorted({normalize_handle(m) for m in raw.get("mentions", []) if m.strip()}),
    }
    if item["kind"] == "post" and item["parent"]:
        raise ContractError(field_path(prefix, ["parent"]), "must be null for a post")
    if item["parent"] == item["id"]:
        raise ContractError(field_path(prefix, ["parent"]), "must not be the item itself")
    return item


def normalize_line(raw, lineno: int) -> dict:
    """One line of the offline JSON Lines form: an item that carries its own `site`."""
    prefix = f"line {lineno}"
    if not isinstance(raw, dict):
        raise ContractError(prefix, "must be a JSON object")
    if "site" not in raw:
        raise ContractError(f"{prefix}.site", "is missing (each line names its site)")
    site = raw["site"]
    known = _SITES.get(site) if isinstance(site, str) else None
    if known is None:
        if not isinstance(site, str) or not re.match(SITE_PATTERN, site.lower()):
            raise ContractError(f"{prefix}.site", "must be a host name such as news.ycombinator.com")
        known = _memo(_SITES, site, site.lower())
    return normalize_item(raw, known, prefix)


def identity(site: str, handle: str) -> str:
    return f"{site}:{handle}"


def author_identity(item: dict) -> str:
    return identity(item["site"], item["author"]["handle"])
