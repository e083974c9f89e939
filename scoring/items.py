"""The item contract (v1): what a capture or a JSON Lines file holds, and how it is checked.

One JSON Schema serves the server's edge, the offline `cloutlens score` reader and the OpenAPI
document, so the three can never disagree about what a valid item is. Errors name the field in
the form `items[3].author.handle`, because the person reading them is fixing an adapter.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone

import idna
import jsonschema_rs
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
# The same schema compiled, for a yes/no answer in about 3 us (jsonschema's walk takes a hundred).
# Only its "yes" is taken: anything it refuses goes to jsonschema, whose verdict and error naming
# the field stand (Rust's regex and Python's can differ at the edges, say on a trailing newline).
_quick = jsonschema_rs.Draft202012Validator(ITEM_SCHEMA)
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
        return "is missing a field"
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


NESTING_MAX = 32  # no field of the contract is half as deep; a deeper value is refused by its path


def _too_deep(instance) -> list | None:
    """The field holding a value nested deeper than NESTING_MAX, found without recursion: its
    path down to the first list of lists (the contract has none), at most 6 steps."""
    stack = [(instance, [])]
    while stack:
        value, path = stack.pop()
        if len(path) > NESTING_MAX:
            nested = [i for i in range(len(path) - 1) if isinstance(path[i], int) and isinstance(path[i + 1], int)]
            return path[:min(nested[:1] + [6])]
        if isinstance(value, dict):
            stack.extend((v, path + [k]) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, path + [i]) for i, v in enumerate(value))
    return None


def is_valid(validator, instance) -> bool:
    """The compiled check, with a value nested past the validator's recursion called invalid
    (first_error then names it) rather than a crash."""
    try:
        return validator.is_valid(instance)
    except RecursionError:
        return False


def first_error(validator, instance, prefix: str) -> ContractError | None:
    deep = _too_deep(instance)
    if deep is not None:
        return ContractError(field_path(prefix, deep), "is nested too deeply")
    # Deepest-first, then path order: the most specific field is the useful one.
    errors = sorted(validator.iter_errors(instance), key=lambda e: (-len(e.path), list(map(str, e.path))))
    if not errors:
        return None
    e = errors[0]
    path = list(e.path)
    if e.validator == "propertyNames":
        return ContractError(field_path(prefix, path), "has an invalid key")
    if e.validator == "required" and isinstance(e.instance, dict):
        # the field is the one that is missing, so that a client can point at it
        missing = [k for k in e.validator_value if k not in e.instance]
        if missing:
            return ContractError(field_path(prefix, path + [missing[0]]), "is required")
    return ContractError(field_path(prefix, path), _describe(e))


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
    if not 1990 <= dt.year <= 2200:  # before the offset: 9999-12-31T23:59-05:00 overflows a datetime
        raise ContractError(field, "is out of range")
    dt = dt.astimezone(timezone.utc)
    if not 1990 <= dt.year <= 2200:
        raise ContractError(field, "is out of range")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


_HANDLE_SPACE = re.compile(r"\s+")
# Characters that show nothing (zero-width spaces and joiners, direction marks and overrides, soft
# hyphens): "Zé\u200bro" and "Zéro" look the same, so they must be the same person, not an
# impostor beside them. Control characters too: a terminal acts on them (`cloutlens score` prints
# handles), and none is part of a name; \t \n \v \f \r stay spaces. Removed from handles only;
# texts and display names keep them (emoji sequences are joined with U+200D).
# extension/badge.js identityGuess() removes the same set.
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f"
                        "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
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
    """A handle as the person it names: without invisible characters, one Unicode form (Zoë typed
    as one character or as e and a combining mark is one person), without the @ that mentions and
    some sites print before it, spaces collapsed, lower case."""
    out = _HANDLES.get(handle)
    if out is None:
        h = _INVISIBLE.sub("", handle)
        if not h.isascii():
            h = unicodedata.normalize("NFC", h)
        h = h.strip().removeprefix("@").strip()
        out = _memo(_HANDLES, handle, _HANDLE_SPACE.sub(" ", h).lower())
    return out


def normalize_item(raw: dict, site: str, prefix: str = "", checked: bool = False) -> dict:
    """Validate one item and return it in the stored form. Raises ContractError. checked: the
    compiled check already said yes (to a whole capture at once)."""
    err = None if checked or is_valid(_quick, raw) else first_error(_item_validator, raw, prefix)
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
        "at": parse_time(raw["at"], f"{prefix}.at" if prefix else "at") if raw.get("at") else None,
        "text": raw.get("text", ""),
        "url": raw.get("url"),
        "reactions": dict(raw.get("reactions") or {}),
        "mentions": sorted({h for h in map(normalize_handle, raw.get("mentions", [])) if h}),
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
        raise ContractError(f"{prefix}.site", "is missing (each item names its site)")
    site = raw["site"]
    known = _SITES.get(site) if isinstance(site, str) else None
    if known is None:
        known = site_name(site) if isinstance(site, str) else None
        if known is None:
            raise ContractError(f"{prefix}.site", "must be a host name such as news.ycombinator.com")
        known = _memo(_SITES, site, known)
    if known != site:
        raw = dict(raw, site=known)  # the schema checks the site's stored form
    return normalize_item(raw, known, prefix)


def site_name(host: str) -> str | None:
    """A host as the site it names, as a captured page's address gives it: lower case, without
    `www.` or a fully qualified name's trailing dot, non-ASCII names in their ASCII form as
    browsers give it (UTS 46, not the standard library's IDNA 2003, which made `straße.de`
    `strasse.de` where a browser sends `xn--strae-oqa.de`); None for what is no site name
    (`ex_ample.com`, `a%40b.com`, an IP v6 address)."""
    if len(host) > 260:  # no host name is longer (253): never encode a long text as one
        return None
    host = host.lower().rstrip(".")
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return None
    site = host.removeprefix("www.")
    return site if re.fullmatch(SITE_PATTERN, site) else None


def identity(site: str, handle: str) -> str:
    return f"{site}:{handle}"


def normal_identity(value: str) -> str | None:
    """`site:handle` as a capture of that person is stored (site_name, normalize_handle); None for
    what names nobody."""
    site, sep, handle = value.partition(":")
    site = site_name(site) if sep else None
    handle = normalize_handle(handle) if site else ""
    return identity(site, handle) if handle else None


def author_identity(item: dict) -> str:
    return identity(item["site"], item["author"]["handle"])
