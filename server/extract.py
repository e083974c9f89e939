"""The extraction engine in Python: a site adapter (declarative JSON) applied to a saved page.

This is the twin of extension/extract.js, which does the same on live pages; the conformance test
(tests/adapters/test_conformance.py) runs both on the same pages and requires identical items, so
every rule here mirrors one there, down to the whitespace class, the URL resolution and the number
and time parsers. Change both together. The rule language is documented in docs/adapters.md.

Parsing is bs4 with lxml (html.parser turns quadratic on some real pages); CSS is soupsieve.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

import soupsieve as sv
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.dammit import EncodingDetector
from bs4.element import Comment, Doctype, PreformattedString, ProcessingInstruction
from lxml import etree

from scoring.items import normalize_handle

ADAPTER_DIR = Path(__file__).resolve().parent.parent / "extension" / "adapters"

TEXT_MAX = 2000
HANDLE_MAX = 100
NAME_MAX = 200
URL_MAX = 2048
TITLE_MAX = 500
ID_MAX = 256
MENTIONS_MAX = 50

_WS = "[\\t\\n\\u000b\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]"
_WS_RUN = re.compile(_WS + "+")
# Control characters and bidi overrides/isolates (which let a name display as something else).
_CTRL = re.compile("[\u0000-\u0008\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]")
_WS_CHARS = "\t\n\u000b\f\r \u00a0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + \
    "\u2028\u2029\u202f\u205f\u3000\ufeff"

SKIP_TAGS = frozenset("script style noscript template textarea select svg button".split())
BLOCK_TAGS = frozenset((
    "address article aside blockquote br dd details dialog div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody thead tfoot tr td th ul"
).split())


class AdapterError(ValueError):
    """An adapter file that cannot be used (bad JSON, bad selector, bad regex)."""


def clean(s: str) -> str:
    return _WS_RUN.sub(" ", _CTRL.sub("", s)).strip(_WS_CHARS)


def _text_strings(node):
    return isinstance(node, NavigableString) and not isinstance(node, PreformattedString)


def text_of(root, skip=None, block=False) -> str:
    """The text of root's text nodes; `skip(el)` says which elements to leave out."""
    kids = root.contents
    # Most names and many comments are a single text node.
    if len(kids) == 1 and _text_strings(kids[0]):
        return clean(str(kids[0]))
    lines: list[str] = []
    cur: list[str] = []

    def walk(node):
        nonlocal cur
        for c in node.contents:
            if isinstance(c, Tag):
                n = c.name
                if n in SKIP_TAGS:
                    continue
                if skip is not None and skip(c):
                    continue
                b = n in BLOCK_TAGS
                if b:
                    lines.append("".join(cur))
                    cur = []
                walk(c)
                if b:
                    lines.append("".join(cur))
                    cur = []
            elif _text_strings(c):
                cur.append(str(c))

    walk(root)
    lines.append("".join(cur))
    out = [x for x in (clean(line) for line in lines) if x]
    return ("\n" if block else " ").join(out)


@lru_cache(maxsize=None)
def _css(sel: str):
    try:
        return sv.compile(sel)
    except Exception as e:  # soupsieve raises its own SelectorSyntaxError
        raise AdapterError(f"bad CSS selector {sel!r}: {e}") from None


# ---- fast CSS queries
#
# soupsieve tests every element of the subtree against a selector; on a 200 KB page that is
# ~100 ms per query that finds nothing, and a page asks dozens. So each document gets one index
# (elements by tag, class, id and attribute name, with preorder positions), and a query tests only
# the elements that carry the key of its right-most compound (`li.comment` -> class "comment"),
# with soupsieve's own match() deciding. Results are the same as soupsieve's select(): same
# elements, document order. Selectors with no usable key fall back to a plain select().

def _split_top(sel: str, seps: str) -> list[str]:
    """Split at characters in `seps` outside (), [] and quotes."""
    out, depth, quote, cur = [], 0, "", []
    for ch in sel:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch in seps:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur))
    return out


_IDENT = re.compile(r"-?[A-Za-z_][\w-]*")


def _skip_group(s: str, i: int, close: str) -> int:
    """Index just past the bracket that closes the one at s[i]."""
    depth, quote = 0, ""
    opener = s[i]
    while i < len(s):
        ch = s[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == opener:
            depth += 1
        elif ch == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def _compound_key(c: str):
    """The most selective thing a compound selector requires: id, class, attribute name or tag.
    Pseudo-classes (and what is inside them) require nothing that can be indexed."""
    found = {}
    i = 0
    m = _IDENT.match(c)
    if m:
        found["tag"] = m.group(0).lower()
        i = m.end()
    while i < len(c):
        ch = c[i]
        if ch in ".#":
            m = _IDENT.match(c, i + 1)
            if not m:
                return None
            found.setdefault("class" if ch == "." else "id", m.group(0).lower())
            i = m.end()
        elif ch == "[":
            m = re.compile(r"\[\s*([A-Za-z_][\w:-]*)").match(c, i)
            if m:
                found.setdefault("attr", m.group(1).lower())
            i = _skip_group(c, i, "]")
        elif ch == ":":
            m = re.compile(r"::?[\w-]+").match(c, i)
            i = m.end() if m else i + 1
            if i < len(c) and c[i] == "(":
                i = _skip_group(c, i, ")")
        else:
            i += 1
    keys = tuple((kind, found[kind]) for kind in ("id", "class", "attr", "tag") if kind in found)
    return keys or None


@lru_cache(maxsize=None)
def _keys(sel: str):
    """One index key per selector in the list, or None if some selector has none (or uses
    :scope, whose meaning match() cannot reproduce)."""
    if ":scope" in sel:
        return None
    keys = []
    for part in _split_top(sel, ","):
        compounds = [c for c in _split_top(part.strip(), " >+~") if c]
        if not compounds:
            return None
        alternatives = _compound_key(compounds[-1])
        if alternatives is None:
            return None
        if alternatives not in keys:
            keys.append(alternatives)
    return tuple(keys)


# Attribute names worth indexing: those some selector needs (collected from the adapters as they
# are used). Indexing every attribute of every element would cost more than it saves.
_INDEXED_ATTRS = {"rel", "property", "type", "href", "id", "class"}
_NOTED: set[int] = set()


def _note_adapter(adapter: dict):
    if id(adapter) in _NOTED:
        return
    _NOTED.add(id(adapter))

    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k in ("sel", "select", "detect", "root", "of", "badge", "skip") and isinstance(v, str):
                    try:
                        keys = _keys(v)
                    except Exception:  # noqa: BLE001 - a bad selector is reported when used
                        keys = None
                    for alternatives in keys or ():
                        for kind, name in alternatives:
                            if kind == "attr":
                                _INDEXED_ATTRS.add(name)
                else:
                    walk(v)
        elif isinstance(o, list):
            for x in o:
                walk(x)

    walk(adapter)


class _Index:
    """A document's elements by tag, class, id and (indexed) attribute name, as lists of preorder
    positions. The parser fills it as it makes the elements; a tree from elsewhere is walked once."""

    def __init__(self, root):
        self.root = root
        self.matchers: dict[str, object] = {}
        self.found: dict[str, list] = {}
        self.members: dict[str, set] = {}
        self.memo: dict[str, object] = {}
        self.pos: dict[int, int] = {id(root): -1}
        self.els: list = []
        self.end: dict[int, int] = {}
        self.attrs = frozenset(_INDEXED_ATTRS)
        self.by: dict[str, dict[str, list[int]]] = {"tag": {}, "class": {}, "id": {}, "attr": {}}

    @classmethod
    def of_tree(cls, root):
        idx = cls(root)
        for el in root.descendants:
            if isinstance(el, Tag):
                idx.note(el)
        return idx

    def note(self, el):
        """Add el, the next element in document order."""
        n = len(self.els)
        self.els.append(el)
        self.pos[id(el)] = n
        by = self.by
        by["tag"].setdefault(el.name, []).append(n)
        for k, v in el.attrs.items():
            if k == "class":
                if isinstance(v, str):
                    # lowercased: quirks-mode pages match class and id case-insensitively,
                    # and a superset of candidates is safe (match() decides)
                    for c in v.split():
                        by["class"].setdefault(c.lower(), []).append(n)
            elif k == "id":
                if isinstance(v, str):
                    by["id"].setdefault(v.lower(), []).append(n)
            if k in self.attrs:
                by["attr"].setdefault(k, []).append(n)

    def end_of(self, el) -> int:
        """Preorder position of the last element inside `el` (its own, if it has none)."""
        i = id(el)
        e = self.end.get(i)
        if e is None:
            if el.parent is None:  # the document itself
                e = len(self.els) - 1
            else:
                last = el
                while True:
                    child = None
                    for c in reversed(last.contents):
                        if isinstance(c, Tag):
                            child = c
                            break
                    if child is None:
                        break
                    last = child
                e = self.pos[id(last)]
            self.end[i] = e
        return e

    def candidates(self, keys, base):
        lo = self.pos.get(id(base))
        if lo is None:
            return None
        chosen = []
        for alternatives in keys:
            # Any key of the compound is required, so the shortest list is the best filter
            # (`body[class*=x]`: the one body, not every element with a class).
            best = None
            for kind, name in alternatives:
                if kind == "attr" and name not in self.attrs:
                    continue  # not indexed
                n = len(self.by[kind].get(name, ()))
                if best is None or n < best[0]:
                    best = (n, kind, name)
            if best is None:
                return None  # nothing indexed: the caller falls back to a plain select()
            chosen.append(best)
        hi = self.end_of(base)
        merged: list[int] = []
        for n, kind, name in chosen:
            if n:
                positions = self.by[kind][name]
                merged.extend(positions[bisect_left(positions, lo + 1):bisect_right(positions, hi)])
        if len(chosen) > 1:
            merged = sorted(set(merged))
        els = self.els
        return [els[n] for n in merged]


_LAST_INDEX = None


def _index_of(el):
    global _LAST_INDEX
    # Queries come in runs on one document: try the last one before walking up to the root.
    idx = _LAST_INDEX
    if idx is not None:
        n = idx.pos.get(id(el))
        if n is not None and (idx.els[n] is el if n >= 0 else idx.root is el):
            return idx
    root = el
    while root.parent is not None:
        root = root.parent
    idx = root.__dict__.get("_cloutlens_index")
    if idx is None:
        idx = _Index.of_tree(root)
        root.__dict__["_cloutlens_index"] = idx
    _LAST_INDEX = idx
    return idx


try:  # one matcher per query rather than one per candidate (SoupSieve.match builds one each call)
    from soupsieve.css_match import CSSMatch as _CSSMatch
except ImportError:  # pragma: no cover - other soupsieve layouts
    _CSSMatch = None


def _matcher(pat, base):
    """A match function for `pat` on base's document, made once per document and selector: the
    tree does not change while we read it, so soupsieve's per-call caches stay valid."""
    idx = _index_of(base)
    m = idx.matchers.get(pat.pattern)
    if m is None:
        m = pat.match
        if _CSSMatch is not None:
            try:
                m = _CSSMatch(pat.selectors, idx.root, pat.namespaces, pat.flags).match
            except Exception:  # noqa: BLE001 - a different private API: use the public one
                pass
        idx.matchers[pat.pattern] = m
    return m


def _doc_matches(sel: str, el) -> list:
    """Every element of el's document that matches sel, in document order, found once."""
    idx = _index_of(el)
    got = idx.found.get(sel)
    if got is None:
        got = idx.found[sel] = q_all(sel, idx.root)
    return got


def _members(sel: str, el) -> set:
    """The ids of _doc_matches(sel, el)."""
    idx = _index_of(el)
    got = idx.members.get(sel)
    if got is None:
        got = idx.members[sel] = set(map(id, _doc_matches(sel, el)))
    return got


def _is_match(sel: str, el):
    """A test e -> bool for `sel` on el's document, for callers that test many elements."""
    if ":scope" in sel:  # what it means depends on where a query starts: no document-wide set
        return _matcher(_css(sel), el)
    members = _members(sel, el)
    return lambda e: id(e) in members


def q_closest(sel: str, el):
    """el or its nearest ancestor matching sel (soupsieve's closest())."""
    if ":scope" in sel:
        return _css(sel).closest(el)
    # Asked for every field of every item (ownership, parents): one pass over the document's
    # matches beats testing each ancestor again and again.
    members = _members(sel, el)
    cur = el
    while cur is not None and cur.parent is not None:  # the document itself is no match
        if id(cur) in members:
            return cur
        cur = cur.parent
    return None


def _matches(sel: str, base):
    """Elements under `base` matching `sel`, lazily, in document order (soupsieve's iselect())."""
    pat = _css(sel)
    keys = _keys(sel)
    if keys is not None:
        cands = _index_of(base).candidates(keys, base)
        if cands is not None:
            return filter(_matcher(pat, base), cands) if cands else iter(cands)
    return pat.iselect(base)


def q_all(sel: str, base) -> list:
    return list(_matches(sel, base))


def q_one(sel: str, base):
    return next(_matches(sel, base), None)


@lru_cache(maxsize=None)
def _re(src: str):
    try:
        return re.compile(src, re.ASCII)
    except re.error as e:
        raise AdapterError(f"bad regular expression {src!r}: {e}") from None


# ---- URLs, resolved by hand exactly as extract.js does
_ABS_HTTP = re.compile(r"^https?://", re.I)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:")
_WAYBACK = re.compile(r"^https?://web\.archive\.org/web/[0-9]+[a-z_]*/(https?://.*)$", re.I | re.S)
_SPLIT = re.compile(r"^(https?://[^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$", re.I | re.S)
_HOST = re.compile(r"^https?://(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)", re.I)


def unwrap_archive(u: str) -> str:
    m = _WAYBACK.match(u)
    return m.group(1) if m else u


def _split_url(u: str):
    m = _SPLIT.match(u)
    if not m:
        return None
    return [m.group(1), m.group(2) or "/", m.group(3) or "", m.group(4) or ""]


def _remove_dots(path: str) -> str:
    segs = path.split("/")
    out: list[str] = []
    last = len(segs) - 1
    for i, s in enumerate(segs):
        if s == ".":
            if i == last:
                out.append("")
        elif s == "..":
            if len(out) > 1:
                out.pop()
            if i == last:
                out.append("")
        else:
            out.append(s)
    return "/".join(out)


def resolve_url(href, base):
    if href is None:
        return None
    h = re.sub(r"[\t\n\r]", "", href).strip(_WS_CHARS)
    if not h:
        return None
    if _ABS_HTTP.match(h):
        out = h
    elif _SCHEME.match(h):
        return None
    else:
        b = _split_url(base) if base else None
        if not b:
            return None
        if h[:2] == "//":
            out = b[0].split("//")[0] + h
        elif h[0] == "/":
            m = re.match(r"^([^?#]*)(.*)$", h, re.S)
            out = b[0] + _remove_dots(m.group(1)) + m.group(2)
        elif h[0] == "?":
            out = b[0] + b[1] + h
        elif h[0] == "#":
            out = b[0] + b[1] + b[2] + h
        else:
            d = b[1][: b[1].rfind("/") + 1]
            m = re.match(r"^([^?#]*)(.*)$", h, re.S)
            out = b[0] + _remove_dots(d + m.group(1)) + m.group(2)
    out = unwrap_archive(out)
    return out if len(out) <= URL_MAX else None


def host_of(u) -> str:
    m = _HOST.match(u or "")
    return m.group(1).lower().rstrip(".") if m else ""  # "example.com." is example.com


def site_of(u) -> str:
    h = host_of(u)
    return h[4:] if h.startswith("www.") else h


# ---- numbers and times
# Groups of three digits may be set apart by a dot, a comma or, as French and others print them,
# a space (plain, no-break, narrow or thin): "1 234" is 1234, not 1.
_NUM = re.compile(r"([0-9]+(?:(?:[.,]|[ \u00a0\u202f\u2009](?=[0-9]{3}(?![0-9])))[0-9]+)*)"
                  r"(?:[ \u00a0]?([kKmM])(?![a-zA-Z]))?")
_MINUS = "-\u2212\u2013"  # a score below zero is no count of reactions
_NUM_HEAD = re.compile(r"^[0-9]+(?:[.,][0-9]+)?")


def parse_count(s: str):
    m = _NUM.search(s)
    if not m:
        return None
    if m.start() and s[m.start() - 1] in _MINUS:
        return 0  # a downvoted answer (-1) is not one upvote
    if m.group(2):
        f = _NUM_HEAD.match(m.group(1)).group(0).replace(",", ".", 1)
        n = math.floor(float(f) * (1e3 if m.group(2) in "kK" else 1e6) + 0.5)
    else:
        n = int(re.sub(r"[^0-9]", "", m.group(1)))
    if n < 0 or n > 1e9:
        return None
    return int(n)


_TIME = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,][0-9]+)?)?)?[ ]?"
    r"(Z|z|[+\-][0-9]{2}(?::?[0-9]{2})?)?")
_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _real_day(y: int, mo: int, d: int) -> bool:
    if mo < 1 or mo > 12 or d < 1 or d > _DAYS[mo - 1]:
        return False
    return not (mo == 2 and d == 29 and not (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)))


def _fmt_time(dt: datetime):
    if not 1990 <= dt.year <= 2200:
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s: str):
    if re.fullmatch(r"[0-9]{9,11}", s):
        return _fmt_time(_EPOCH + timedelta(seconds=int(s)))
    if re.fullmatch(r"[0-9]{12,14}", s):
        return _fmt_time(_EPOCH + timedelta(seconds=int(s) // 1000))
    m = _TIME.match(s)
    if not m:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    hh = int(m.group(4)) if m.group(4) else 0
    mi = int(m.group(5)) if m.group(5) else 0
    ss = int(m.group(6)) if m.group(6) else 0
    if not _real_day(y, mo, d):
        return None
    if hh > 23 or mi > 59 or ss > 60:
        return None
    ss = min(ss, 59)
    off = 0
    tz = m.group(7)
    if tz and tz not in ("Z", "z"):
        digits = tz[1:].replace(":", "", 1)
        oh = int(digits[:2])
        om = int(digits[2:4]) if len(digits) > 2 else 0
        if oh > 23 or om > 59:
            return None
        off = (oh * 60 + om) * (-1 if tz[0] == "-" else 1)
    if y < 1 or y > 9999:
        return None
    try:
        dt = datetime(y, mo, d, hh, mi, ss, tzinfo=timezone.utc) - timedelta(minutes=off)
    except OverflowError:
        return None
    return _fmt_time(dt)


# Dates as blog themes print them ("14/04/2020 at 3:00 pm", "8. April 2019 @ 11:38", "Juli 30,
# 2013 um 2:33 pm"), for comments that carry no machine-readable date: the site's local time, read
# as UTC (the page does not say its zone). A day and month in digits that could be either way round
# ("04/05/2020" with slashes) give nothing; with dots they are day first. Month names in English,
# German, French, Spanish, Italian, Portuguese and Dutch, without the short forms that are English
# words ("out", "set", "ago"). extract.js parseDateText is the same function: change both together.
_MONTHS = {word: n + 1 for n, names in enumerate((
        "january jan januar janv janvier enero ene gennaio gen janeiro januari",
        "february feb februar fevr fev fevrier febrero febbraio fevereiro februari",
        "march mar marz maerz mrz mars marzo marco maart mrt",
        "april apr avril avr abril abr aprile",
        "may mai mayo maggio mag maio mei",
        "june jun juni juin junio giugno giu junho",
        "july jul juli juil juillet julio luglio lug julho",
        "august aug aout agosto augustus",
        "september sep sept septembre septiembre setiembre settembre setembro",
        "october oct oktober okt octobre octubre ottobre ott outubro",
        "november nov novembre noviembre novembro",
        "december dec dezember dez decembre diciembre dic dicembre dezembro")) for word in names.split()}
_CLOCK = re.compile(r"(^|[^0-9])([0-9]{1,2})(?::|h)([0-9]{2})(?::([0-9]{2}))?(?:[ ]*([ap])\.?[ ]?m(?![a-z]))?")
_NUM_DATE = re.compile(r"(^|[^0-9])([0-9]{1,4})([./-])([0-9]{1,2})\3([0-9]{2,4})(?![0-9])")
_TOKEN = re.compile(r"[a-z]+|[0-9]+")
_MARKS = re.compile("[\u0300-\u036f]")


def page_date_order(text: str) -> str | None:
    """Which way round a page prints days and months in digits, from the dates it prints that can
    be read only one way ("14/04/2020": day first): "dmy", "mdy", or None when it prints none of
    those, or both."""
    seen = set()
    for m in _NUM_DATE.finditer(text):
        if m.group(3) == "." or len(m.group(2)) > 2 or len(m.group(5)) == 3:
            continue
        a, b = int(m.group(2)), int(m.group(4))
        if 12 < a <= 31 and 1 <= b <= 12:
            seen.add("dmy")
        elif 12 < b <= 31 and 1 <= a <= 12:
            seen.add("mdy")
    return seen.pop() if len(seen) == 1 else None


def parse_date_text(s: str, order: str | None = None):
    """order: the page's ("dmy" or "mdy", page_date_order), for a day and month in digits that
    could be either way round; without it they give nothing."""
    if not isinstance(s, str) or not s or len(s) > 80:
        return None
    t = _MARKS.sub("", unicodedata.normalize("NFD", s.lower())).replace("\u00a0", " ")
    hh = mi = ss = 0
    m = _CLOCK.search(t)
    if m:
        hh, mi, ss = int(m.group(2)), int(m.group(3)), int(m.group(4) or 0)
        if m.group(5):
            if not 1 <= hh <= 12:
                return None
            hh = hh % 12 + (12 if m.group(5) == "p" else 0)
        if hh > 23 or mi > 59 or ss > 59:
            return None
        t = t[:m.start()] + m.group(1) + " " + t[m.end():]
    m = _NUM_DATE.search(t)
    if m:
        a, b, c = m.group(2), int(m.group(4)), m.group(5)
        if len(a) == 4:
            y, mo, d = int(a), b, int(c)
        elif len(c) == 3:
            return None
        else:
            y = int(c) + (0 if len(c) == 4 else 1900 if int(c) >= 70 else 2000)
            a = int(a)
            if m.group(3) == "." or a > 12 or (order == "dmy" and b <= 12):
                d, mo = a, b
            elif b > 12 or a == b or order == "mdy":
                mo, d = a, b
            else:
                return None
    else:
        mo = y = d = None
        for tok in _TOKEN.findall(t):
            if tok[0] > "9":
                if mo is None and tok in _MONTHS:
                    mo = _MONTHS[tok]
            elif len(tok) == 4:
                y = y if y is not None else int(tok)
            elif len(tok) <= 2 and d is None:
                d = int(tok)
        if mo is None or y is None or d is None:
            return None
    if not (1990 <= y <= 2200 and _real_day(y, mo, d)):
        return None
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, mo, d, hh, mi, ss)


def hash64(s: str) -> str:
    """Two FNV-1a passes over UTF-16 code units: the same id as extract.js gives."""
    a, b = 0x811C9DC5, 0x01000193 ^ 0x5BD1E995
    data = s.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        c = data[i] | (data[i + 1] << 8)
        a = ((a ^ c) * 0x01000193) & 0xFFFFFFFF
        b = ((b ^ c) * 0x01000193) & 0xFFFFFFFF
        b = b ^ (b >> 13)
    return f"{a:08x}{b:08x}"


# ---- rules

def _as_list(r):
    if r is None:
        return []
    return r if isinstance(r, list) else [r]


def _is_owned(el, ctx, env, rule) -> bool:
    if rule.get("doc") or rule.get("own") is False or env["scope"] is None:
        return True
    # Where no item contains another (flat threads), anything inside an item is its own.
    if not env["nested"] and ctx is not env["doc"]:
        return True
    owner = q_closest(env["scope"], el)
    return owner is ctx or (owner is None and ctx is env["doc"])


def _candidates(ctx, rule, env):
    if rule.get("page"):
        return [ctx]
    sel = rule.get("sel")
    if not sel:
        return [] if ctx is env["doc"] else [ctx]
    base = env["doc"] if rule.get("doc") else ctx
    single = not rule.get("all") and not rule.get("last") and not rule.get("scan")
    if single:
        # Several fields often read the same element (name, handle, url from one link).
        memo = env["memo"]
        if memo.get(None) is not base:
            memo.clear()
            memo[None] = base
        if sel in memo:
            first = memo[sel]
        else:
            first = memo[sel] = q_one(sel, base)
        if first is None:
            return []
        if _is_owned(first, ctx, env, rule):
            return [first]
    out = []
    for el in q_all(sel, base):
        if _is_owned(el, ctx, env, rule):
            out.append(el)
            if single:
                break
    if rule.get("last") and out:
        return [out[-1]]
    return out


def _raw_value(el, rule, env) -> str:
    if rule.get("page"):
        return env["url"] or ""
    attr = rule.get("attr")
    if attr:
        a = el.get(attr) if isinstance(el, Tag) else None
        if a is None:
            return ""
        if isinstance(a, list):  # only if a caller parsed with multi-valued attributes
            a = " ".join(a)
        return clean(a)
    skip = rule.get("skip")
    # text_of asks about every element under el: HN's ".reply" once per node of every comment
    return text_of(el, _is_match(skip, el) if skip else None, rule.get("text") == "block")


def _group(m):
    if m.re.groups >= 1 and m.group(1) is not None:
        return m.group(1)
    return m.group(0)


def _decode(x: str) -> str:
    try:
        return unquote(x, errors="strict")
    except UnicodeDecodeError:
        return x


def _date_text(x: str, env):
    """A printed date; one whose day and month could be either way round is read the way the
    page's other dates show (asked of the page once, and only then)."""
    d = parse_date_text(x)
    if d is None and _NUM_DATE.search(x):
        # kept in env itself: env["memo"] is emptied whenever the element read from changes
        if "date_order" not in env:
            doc = env["doc"]
            env["date_order"] = page_date_order((getattr(doc, "body", None) or doc).get_text())
        if env["date_order"]:
            d = parse_date_text(x, env["date_order"])
    return d


def _finish(raw: str, rule, env) -> list:
    v = raw
    if rule.get("url"):
        v = resolve_url(v, env["url"])
        if not v:
            return []
    src = rule.get("re")
    if src:
        pat = _re(src)
        if rule.get("all"):
            vals = [_group(m) for m in pat.finditer(v) if m.group(0) != ""]
        else:
            m = pat.search(v)
            vals = [_group(m)] if m else []
    else:
        vals = [v]
    out = []
    for x in vals:
        if rule.get("decode"):
            x = _decode(x)
        if rule.get("num"):
            x = parse_count(x)
            if x is None:
                continue
        elif rule.get("time"):
            x = parse_time(x)
            if x is None:
                continue
        elif rule.get("dateText"):
            x = _date_text(x, env)
            if x is None:
                continue
        elif isinstance(x, str):
            # block text is already clean line by line; cleaning again would join its lines
            if rule.get("text") != "block" or src:
                x = clean(x)
            if not x:
                continue
        fmt = rule.get("fmt")
        if fmt:
            x = _formatted(fmt, x, env)
        out.append(x)
    return out


_FMT_SLOT = re.compile(r"\{post\}|\{\}")


def _formatted(fmt: str, x, env) -> str:
    """An adapter's "fmt": "{}" is the value, "{post}" the page's post id (for ids a page numbers
    on its own, such as a blog theme's "comment-1" on every post), in one pass."""
    xs = str(x)
    return _FMT_SLOT.sub(lambda m: xs if m.group() == "{}" else env.get("post_id") or "", fmt)


def _hashed_id(env, handle: str, text: str) -> str:
    """An item with no id of its own: one made of its post, author and text, so the same words by
    the same person under another post ("Thanks!") are another item."""
    return "h-" + hash64((env.get("post_id") or "") + "\n" + handle + "\n" + text)


def _one(ctx, rules, env):
    for rule in _as_list(rules):
        if "value" in rule:
            return rule["value"], None
        for el in _candidates(ctx, rule, env):
            vals = _finish(_raw_value(el, rule, env), rule, env)
            if vals:
                return vals[0], el
    return None


def _every(ctx, rules, env) -> list[str]:
    out = []
    for rule in _as_list(rules):
        rule = {**rule, "all": True}
        for el in _candidates(ctx, rule, env):
            out.extend(str(v) for v in _finish(_raw_value(el, rule, env), rule, env))
    return out


def _val(ctx, rules, env):
    r = _one(ctx, rules, env)
    return r[0] if r else None


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _build_item(ctx, spec, env, kind):
    author = spec.get("author") or {}
    name_r = _one(ctx, author.get("name"), env)
    handle_r = _one(ctx, author.get("handle"), env)
    name = str(name_r[0])[:NAME_MAX] if name_r else ""
    handle = str(handle_r[0]) if handle_r else name
    handle = re.sub(r"^@", "", handle)[:HANDLE_MAX]
    if not normalize_handle(handle):
        # nothing the server would keep ("@ @", a zero-width space): it would refuse the whole
        # capture over one commenter's name
        return None
    # placeholders such as reddit's "[deleted]" are nobody
    if author.get("ignore") and handle.lower() in author["ignore"]:
        return None
    if not name:
        name = handle
    a = {"handle": handle, "name": name}
    aurl = _val(ctx, author.get("url"), env)
    if aurl:
        a["url"] = str(aurl)
    item = {"id": None, "kind": kind, "parent": None, "author": a}
    text = _val(ctx, spec.get("text"), env)
    item["text"] = str(text)[:TEXT_MAX] if text else ""
    at = _val(ctx, spec.get("at"), env)
    if at:
        item["at"] = at
    url = _val(ctx, spec.get("url"), env)
    if url:
        item["url"] = str(url)
    if spec.get("reactions"):
        reactions = {}
        for k, r in spec["reactions"].items():
            n = _val(ctx, r, env)
            if _is_int(n):
                reactions[k] = n
        if reactions:
            item["reactions"] = reactions
    if spec.get("mentions"):
        seen = set()
        ms = []
        raws = []
        for rule in _as_list(spec["mentions"]):
            # from "text": the item's own text, already read, instead of another trip through the DOM
            if rule.get("from") == "text":
                got = [str(v) for v in _finish(item["text"], {**rule, "all": True}, env)]
            else:
                got = _every(ctx, rule, env)
            # "@Tony" in text names a person by display name: resolved once every author is known
            if rule.get("byName"):
                if got:
                    env["byName"].append((item, got))
            else:
                raws.extend(got)
        for raw in raws:
            if len(ms) >= MENTIONS_MAX:
                break
            h = re.sub(r"^@", "", raw)[:HANDLE_MAX]
            if h and h.lower() not in seen:
                seen.add(h.lower())
                ms.append(h)
        if ms:
            item["mentions"] = ms
    idv = _val(ctx, spec.get("id"), env)
    item["id"] = str(idv)[:ID_MAX] if idv else _hashed_id(env, handle, item["text"])
    badge = _one(ctx, {"sel": author["badge"]}, env) if author.get("badge") else None
    el = (badge and badge[1]) or (name_r and name_r[1]) or (handle_r and handle_r[1]) or None
    return item, el


# ---- mentions by display name (Stack Exchange's "@TonyM", a blog reply's "@Bebs")
_WS_ANY = re.compile(_WS)


def _name_key(s: str) -> str:
    return _WS_ANY.sub("", s).lower()


def _surname_key(name: str):
    """A display name's last word, when there is more than one, of 3 letters or more: on German
    blogs people write "@Holzherr" or "@Herr Holzherr" for Martin Holzherr (the adapter's regex
    drops the honorific). A single-word name is its own "surname" and is found by the whole name."""
    words = [w for w in _WS_RUN.split(name) if w]
    if len(words) < 2:
        return None
    k = words[-1].lower()
    return k if len(k) >= 3 else None


def _capitalised(s: str) -> bool:
    # Only a word written with a capital is taken for a surname: lower-case words after an "@"
    # are mostly "@all", "@admin" or a handle typed in full (found by the whole name already).
    # German capitalises nouns too, so this narrows the guess; requiring one owner narrows it more.
    return bool(s) and s[0] != s[0].lower()


def _resolve_by_name(items, pending):
    """A written name becomes the handle of the page author it names: the same name without
    spaces, or failing that the one author whose name starts with it (3+ letters) or, for a
    capitalised word, whose surname it is. Anything else, and any word two people could answer
    to, is dropped rather than guessed."""
    if not pending:
        return
    index: dict[str, str] = {}
    surnames: dict[str, list[str]] = {}
    for it in items:
        a = it["author"]
        for k in (_name_key(a["name"]), _name_key(a["handle"])):
            if k and k not in index:
                index[k] = a["handle"]
        sk = _surname_key(a["name"])
        if sk is not None:
            owners = surnames.setdefault(sk, [])
            # two owners already make the surname useless: no need to keep a third
            if not owners or (len(owners) < 2 and owners[0].lower() != a["handle"].lower()):
                owners.append(a["handle"])
    for item, vals in pending:
        ms = list(item.get("mentions") or [])
        seen = {m.lower() for m in ms}
        for v in vals:
            if len(ms) >= MENTIONS_MAX:
                break
            word = re.sub(r"^@", "", v)
            k = _name_key(word)
            h = index.get(k)
            if h is None and len(k) >= 3:
                # handles differing only in case are one identity (the server lowercases them)
                cands = [hh for kk, hh in index.items() if kk.startswith(k)]
                if _capitalised(word):
                    cands += surnames.get(k, [])
                if cands and all(c.lower() == cands[0].lower() for c in cands):
                    h = cands[0]
            if h is not None and h.lower() not in seen:
                seen.add(h.lower())
                ms.append(h)
        if ms:
            item["mentions"] = ms


def page_url(doc, url):
    if url:
        return _page_url(doc, url)
    memo = _index_of(doc).memo  # asked by pick_adapter and again by extract
    if "page_url" not in memo:
        memo["page_url"] = _page_url(doc, None)
    return memo["page_url"]


def _page_url(doc, url):
    u = url
    if not u:
        c = q_one('link[rel="canonical"][href]', doc)
        if c is not None:
            u = resolve_url(c.get("href"), None)
    if not u:
        og = q_one('meta[property="og:url"][content]', doc)
        if og is not None:
            u = resolve_url(og.get("content"), None)
    if not u:
        return None
    u = unwrap_archive(clean(u))
    return u.split("#", 1)[0]


def page_title(doc) -> str:
    t = q_one("head > title", doc) or q_one("title", doc)
    return text_of(t)[:TITLE_MAX] if t is not None else ""


def _scope_parts(adapter):
    parts = []
    post = adapter.get("post") or {}
    if post.get("root"):
        parts.append(post["root"])
    parts.extend(s["select"] for s in _as_list(adapter.get("items")) if s.get("select"))
    return ", ".join(parts)


def _nested(doc, adapter) -> bool:
    """Does any item (or the post root) contain another? extract.js asks the browser for
    `:is(S) :is(S)`; here the index's preorder intervals answer the same in one sweep."""
    scope = _scope_parts(adapter)
    try:
        els = _doc_matches(scope, doc)  # the same list ownership checks use
    except AdapterError:
        return True
    idx = _index_of(doc)
    open_end = -1
    for el in els:
        p_ = idx.pos[id(el)]
        if p_ <= open_end:
            return True
        open_end = max(open_end, idx.end_of(el))
    return False


def _scope_of(adapter):
    scope = _scope_parts(adapter)
    if not scope:
        return None
    _css(scope)  # a bad selector fails here, before any item is read
    return scope


def _record_url(u):
    """The address the capture names, within the contract's 2,048 characters (extract.js's
    recordUrl): without its query, then cut; the rules still read the whole address."""
    if not u or len(u) <= URL_MAX:
        return u
    p = _split_url(u)
    return (p[0] + p[1] if p else u)[:URL_MAX]


def _post_id_from_url(u):
    p = _split_url(u or "")
    if not p:
        return "page"
    return ("url:" + p[1] + p[2])[:ID_MAX]


def _parent_el(el):
    p = el.parent
    return p if isinstance(p, Tag) and not isinstance(p, BeautifulSoup) else None


def extract(doc, adapter: dict, url=None):
    """Apply one adapter to a parsed document. Returns (capture, names); names pairs each item
    id with the element its author's name was read from, as the JS engine does for badges."""
    _note_adapter(adapter)
    pu = page_url(doc, url)
    if not pu and adapter.get("pageUrl"):
        # A saved page without its address: some sites print enough to rebuild it (HN's item id).
        rebuilt = _val(doc, adapter["pageUrl"], {"doc": doc, "url": None, "scope": None, "memo": {}, "nested": True})
        pu = resolve_url(str(rebuilt), None) if rebuilt else None
    scope = _scope_of(adapter)
    env = {"doc": doc, "url": pu, "scope": scope, "memo": {}, "nested": True, "byName": []}
    if scope is not None:
        env["nested"] = _nested(doc, adapter)
    items: list[dict] = []
    names: list[dict] = []
    by_id: dict[str, dict] = {}
    el_id: dict[int, str] = {}

    def add(built) -> bool:
        if not built or built[0]["id"] in by_id:
            return False
        item, el = built
        by_id[item["id"]] = item
        items.append(item)
        if el is not None:
            names.append({"itemId": item["id"], "handle": item["author"]["handle"], "element": el})
        return True

    post = adapter.get("post") or {}
    post_root = q_one(post["root"], doc) if post.get("root") else None
    post_ctx = post_root if post_root is not None else doc
    post_id = _val(post_ctx, post.get("id"), env)
    post_id = str(post_id)[:ID_MAX] if post_id else _post_id_from_url(pu)
    env["post_id"] = post_id
    if post.get("author"):
        bp = _build_item(post_ctx, post, env, "post")
        if bp:
            bp[0]["id"] = post_id
            add(bp)
    if post_root is not None:
        el_id[id(post_root)] = post_id

    pending = []
    for spec in _as_list(adapter.get("items")):
        stack: list[tuple] = []
        p = spec.get("parent") or {"by": "nesting"}
        by = p.get("by")
        for el in q_all(spec["select"], doc):
            built = _build_item(el, spec, env, spec.get("kind") or "comment")
            if not built:
                # A deleted comment has no author but still has replies: they answer it, not its
                # parent, so it keeps its place in the tree without becoming an item.
                ghost = _val(el, spec.get("id"), env)
                if ghost:
                    el_id[id(el)] = str(ghost)[:ID_MAX]
                    if by == "depth":
                        gd = _val(el, p.get("depth"), env)
                        gd = gd if _is_int(gd) else 0
                        while stack and stack[-1][0] >= gd:
                            stack.pop()
                        stack.append((gd, str(ghost)[:ID_MAX]))
                continue
            if not add(built):
                continue
            it = built[0]
            el_id[id(el)] = it["id"]
            if by == "depth":
                dv = _val(el, p.get("depth"), env)
                d = dv if _is_int(dv) else 0
                while stack and stack[-1][0] >= d:
                    stack.pop()
                it["parent"] = stack[-1][1] if stack else post_id
                stack.append((d, it["id"]))
            elif by == "ref":
                ref = _val(el, p.get("ref"), env)
                it["parent"] = str(ref)[:ID_MAX] if ref else post_id
            elif by == "none":
                it["parent"] = post_id
            else:
                pending.append((it, el, p.get("of") or spec["select"]))
    for it, el, sel in pending:
        anc = _parent_el(el)
        found = None
        while anc is not None:
            anc = q_closest(sel, anc)
            if anc is None:
                break
            aid = el_id.get(id(anc))
            if aid:
                found = aid
                break
            anc = _parent_el(anc)
        it["parent"] = found or post_id
    if adapter.get("jsonld"):
        _json_ld(doc, env, post_id, add)
    _resolve_by_name(items, env["byName"])
    for it in items:
        if it["kind"] == "post":
            it["parent"] = None
        elif it["parent"] == it["id"]:
            it["parent"] = post_id

    own_site = site_of(pu)
    site = adapter.get("site") or own_site or "unknown"
    if adapter.get("site") and pu and own_site != adapter["site"] and not own_site.endswith("." + adapter["site"]):
        site = own_site
    page = {"url": _record_url(pu), "title": page_title(doc), "site": site}
    return {"v": 1, "page": page, "items": items}, names


# ---- schema.org Comment in JSON-LD (the generic adapter)

def _ld_types(o):
    t = o.get("@type")
    if isinstance(t, list):
        return [_js_str(x) for x in t]
    return [] if t is None else [_js_str(t)]


def _js_str(x) -> str:
    # String(x) as JS would print the JSON values that can occur here
    if isinstance(x, bool):
        return "true" if x else "false"
    if x is None:
        return "null"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    if isinstance(x, (dict, list)):
        return "[object Object]" if isinstance(x, dict) else ",".join(_js_str(i) for i in x)
    return str(x)


def _ld_str(v) -> str:
    return v if isinstance(v, str) else ""


def _ld_author(a):
    if isinstance(a, list):
        a = a[0] if a else None
    if isinstance(a, str):
        return {"name": a, "url": None}
    if not isinstance(a, dict):
        return None
    name = a["name"] if isinstance(a.get("name"), str) else (
        a["alternateName"] if isinstance(a.get("alternateName"), str) else "")
    url = a["url"] if isinstance(a.get("url"), str) else None
    return {"name": name, "url": url}


def _json_ld(doc, env, post_id, add):
    def visit(o, parent_id, depth):
        if depth > 40 or not isinstance(o, (dict, list)):
            return
        if isinstance(o, list):
            for x in o:
                visit(x, parent_id, depth + 1)
            return
        types = _ld_types(o)
        is_comment = "Comment" in types or "Answer" in types
        here = parent_id
        if is_comment:
            a = _ld_author(o.get("author"))
            name = clean(a["name"])[:NAME_MAX] if a else ""
            aurl = resolve_url(a["url"], env["url"]) if a and a["url"] else None
            if name:
                text = clean(_ld_str(o.get("text")))[:TEXT_MAX]
                id_src = clean(_ld_str(o.get("@id")) or _ld_str(o.get("url")))
                item = {"id": None, "kind": "comment", "parent": parent_id or post_id,
                        "author": {"handle": name[:HANDLE_MAX], "name": name}, "text": text}
                if aurl:
                    item["author"]["url"] = aurl
                at = parse_time(clean(_ld_str(o.get("dateCreated")) or _ld_str(o.get("datePublished"))))
                if at:
                    item["at"] = at
                iurl = resolve_url(_ld_str(o.get("url")), env["url"]) if o.get("url") else None
                if iurl:
                    item["url"] = iurl
                likes = o.get("upvoteCount")
                if isinstance(likes, (int, float)) and not isinstance(likes, bool) and 0 <= likes <= 1e9 \
                        and float(likes).is_integer():
                    item["reactions"] = {"like": int(likes)}
                # an @id that is not a web address ("#c1", "_:b0") names the comment within this page only
                if id_src and not _ABS_HTTP.match(id_src):
                    id_src = (post_id or "") + "#" + id_src
                item["id"] = ("ld:" + id_src)[:ID_MAX] if id_src else _hashed_id(env, item["author"]["handle"], text)
                add((item, None))
                here = item["id"]
        for key, v in o.items():
            if key in ("author", "@context"):
                continue
            if isinstance(v, (dict, list)):
                visit(v, here if is_comment else parent_id, depth + 1)

    for script in q_all('script[type="application/ld+json"]', doc):
        raw = "".join(str(s) for s in script.contents if isinstance(s, NavigableString))
        try:
            data = json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            continue
        visit(data, None, 0)


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


# ---- adapters

def load_adapters(directory: Path | None = None) -> list[dict]:
    """The adapters in the order extension/adapters/index.json lists them."""
    d = Path(directory) if directory else ADAPTER_DIR
    try:
        names = json.loads((d / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise AdapterError(f"cannot read {d / 'index.json'}: {e}") from None
    out = []
    for n in names:
        try:
            out.append(json.loads((d / n).read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            raise AdapterError(f"cannot read adapter {n}: {e}") from None
    return out


def _host_matches(host: str, patterns) -> bool:
    for p in patterns or []:
        p = re.sub(r"^\*\.", "", str(p).lower())
        if host == p or host.endswith("." + p):
            return True
    return False


def _detects(doc, adapter) -> bool:
    if not adapter.get("detect"):
        return False
    try:
        return q_one(adapter["detect"], doc) is not None
    except AdapterError:
        return False


def pick_adapter(adapters: list[dict], soup, url=None):
    for a in adapters:
        _note_adapter(a)
    host = host_of(page_url(soup, url))
    if host:
        for a in adapters:
            if a.get("hosts") and _host_matches(host, a["hosts"]):
                return a
    for a in adapters:
        markup_only = not a.get("hosts")
        # anyHost: a site that also runs on custom domains (Substack, Mastodon instances, Discourse)
        if (markup_only or not host or a.get("anyHost")) and _detects(soup, a):
            return a
    return None


# ---- parsing
#
# bs4's own lxml builder spends ~45 ms of Python per 200 KB page on bookkeeping we do not use
# (namespace maps, three copies of each attribute dict, strainer checks), ten times what lxml takes
# to parse. _Builder receives the same lxml events (same parser, same options, same encodings tried
# in the same order) and makes the same bs4 objects with the same fields, in a fraction of the
# time. A tree bs4 would not build identically is never used: _builder_ok() compares both on a
# sample once per process, and tests/adapters/test_engine.py compares them on every page we have.

class _Rejected(Exception):
    pass


class _Builder:
    """An lxml parser target that builds a bs4 tree as BeautifulSoup(..., "lxml") does."""

    def __init__(self, soup, tag_fields, string_fields):
        b = soup.builder
        self.soup = soup
        self.tag_fields = tag_fields
        self.string_fields = string_fields
        self.void = b.empty_element_tags
        self.keep_ws = b.preserve_whitespace_tags
        self.containers = b.string_containers
        self.attr_dict = b.attribute_dict_class
        self.main_types = Tag.MAIN_CONTENT_STRING_TYPES
        self.meta = b.set_up_substitutions
        self.index = _Index(soup)
        soup.__dict__["_cloutlens_index"] = self.index
        self.note = self.index.note
        self.stack = [soup]
        self.cur = soup
        self.last = None  # the element parsed most recently: next_element links run through it
        self.text: list[str] = []
        self.ws_stack: list = []
        self.container_stack: list = []

    def _link(self, node, parent):
        last = self.last
        node.previous_element = last
        if last is not None:
            last.next_element = node
        self.last = node
        kids = parent.contents
        if kids:
            prev = kids[-1]
            prev.next_sibling = node
            node.previous_sibling = prev
        kids.append(node)

    def _flush(self, cls=None):
        data = "".join(self.text)
        self.text.clear()
        if not self.ws_stack and not data.strip("\x20\x0a\x09\x0c\x0d"):
            data = "\n" if "\n" in data else " "
        if cls is None:
            cls = NavigableString
            if self.container_stack:
                cls = self.containers.get(self.container_stack[-1].name, cls)
        s = str.__new__(cls, data)
        s.__dict__.update(self.string_fields)
        s.parent = self.cur
        self._link(s, self.cur)

    def start(self, name, attrib):
        if self.text:
            self._flush()
        t = Tag.__new__(Tag)
        d = t.__dict__
        d.update(self.tag_fields)
        d["name"] = name
        # lxml passes an empty immutable mapping that is slow to copy: most tags have no attributes
        d["attrs"] = self.attr_dict(attrib) if attrib else self.attr_dict()
        d["contents"] = []
        d["parent"] = self.cur
        d["can_be_empty_element"] = name in self.void
        c = self.containers.get(name)
        d["interesting_string_types"] = {c} if c is not None else self.main_types
        if name == "meta":
            self.meta(t)
        self._link(t, self.cur)
        self.note(t)
        self.stack.append(t)
        self.cur = t
        if name in self.keep_ws:
            self.ws_stack.append(t)
        if c is not None:
            self.container_stack.append(t)

    def end(self, name):
        if self.text:
            self._flush()
        stack = self.stack
        if stack[-1].name == name and len(stack) > 1:  # lxml's events nest: almost always
            self._pop()
            return
        # bs4 pops up to the most recent open element of that name, and ignores a stray end tag
        for i in range(len(stack) - 1, 0, -1):
            if stack[i].name == name:
                while len(stack) > i:
                    self._pop()
                break

    def _pop(self):
        t = self.stack.pop()
        if self.ws_stack and self.ws_stack[-1] is t:
            self.ws_stack.pop()
        if self.container_stack and self.container_stack[-1] is t:
            self.container_stack.pop()
        self.cur = self.stack[-1]

    def data(self, data):
        self.text.append(data)

    def comment(self, text):
        if self.text:
            self._flush()
        self.text.append(text)
        self._flush(Comment)

    def doctype(self, name, pubid, system):
        if self.text:
            self._flush()
        self.text.append(Doctype._string_for_name_and_ids(name, pubid, system))
        self._flush(Doctype)

    def pi(self, target, data):
        if self.text:
            self._flush()
        self.text.append(target + " " + data)
        self._flush(ProcessingInstruction)

    def close(self):
        if self.text:
            self._flush()


def _empty_soup():
    # Attributes stay plain strings (class included), as getAttribute() gives them in the browser.
    return BeautifulSoup("", "lxml", multi_valued_attributes=None)


_FIELDS = None


def _fields():
    """The fields bs4 (this version) gives a parsed tag and string, as templates: only the links,
    name, attrs and contents differ from one node to the next."""
    global _FIELDS
    if _FIELDS is None:
        ref = BeautifulSoup("<p>x</p>", "lxml", multi_valued_attributes=None)
        tag, string = ref.p, ref.p.contents[0]
        per_node = {"name", "attrs", "contents", "parent", "previous_element", "next_element",
                    "previous_sibling", "next_sibling", "can_be_empty_element", "interesting_string_types"}
        tag_fields = {k: v for k, v in tag.__dict__.items() if k not in per_node}
        tag_fields.update(next_element=None, previous_sibling=None, next_sibling=None)
        string_fields = {k: v for k, v in string.__dict__.items() if k not in per_node}
        string_fields.update(next_element=None, previous_sibling=None, next_sibling=None)
        _FIELDS = (tag_fields, string_fields)
    return _FIELDS


def _attempts(html):
    """(markup, encoding) in the order bs4's lxml builder tries them."""
    if isinstance(html, str):
        yield (html[1:] if html[:1] == "\ufeff" else html), None
        yield html.encode("utf8"), "utf8"
        return
    detector = EncodingDetector(html, known_definite_encodings=[], user_encodings=[], is_html=True)
    for enc in detector.encodings:
        yield detector.markup, enc


def _fast_parse(html):
    tag_fields, string_fields = _fields()
    for markup, enc in _attempts(html):
        soup = _empty_soup()
        soup.original_encoding = enc
        b = _Builder(soup, tag_fields, string_fields)
        try:  # an encoding lxml does not know fails here, as in bs4, and the next one is tried
            parser = etree.HTMLParser(target=b, recover=True, huge_tree=False, encoding=enc)
            parser.feed(markup)
            parser.close()
        except (UnicodeDecodeError, LookupError, etree.ParserError):
            continue
        return soup
    raise _Rejected()


_SAMPLE = (b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>t &amp; t</title>'
           b'<script>var a = "<b>";</script><style>p{}</style></head><body class="A b" id=x>'
           b'<!-- c --><div><p>one<br>two <img src=x alt=""> \n </p><pre>  \n </pre>'
           b'<template><i>t</i></template><ruby>x<rt>y</rt></ruby><textarea> a </textarea>'
           b'<ul><li>a<li>b</ul></div><?php x ?><svg><path d="M0"/></svg>\xc3\xa9</body></html>')


_OURS = {"_cloutlens_index"}  # what this module adds to a document


def same_tree(a, b) -> bool:
    """Do two parsed documents have the same nodes, classes, fields and links?"""
    na, nb = [a, *a.descendants], [b, *b.descendants]
    if len(na) != len(nb):
        return False
    pos_a = {id(n): i for i, n in enumerate(na)}
    pos_b = {id(n): i for i, n in enumerate(nb)}
    links = ("parent", "previous_element", "next_element", "previous_sibling", "next_sibling")
    for x, y in zip(na, nb):
        if type(x) is not type(y) or x.__dict__.keys() - _OURS != y.__dict__.keys() - _OURS:
            return False
        if isinstance(x, Tag):
            if x is not a and (x.name != y.name or x.attrs != y.attrs or type(x.attrs) is not type(y.attrs)
                               or [type(v) for v in x.attrs.values()] != [type(v) for v in y.attrs.values()]):
                return False
            if [pos_a[id(c)] for c in x.contents] != [pos_b[id(c)] for c in y.contents]:
                return False
            for k, v in x.__dict__.items():
                if x is not a and k not in links and k not in ("attrs", "contents", "builder") \
                        and v != y.__dict__[k]:
                    return False
        elif str(x) != str(y):
            return False
        for k in links:
            u, v = getattr(x, k), getattr(y, k)
            if (u is None) != (v is None) or (u is not None and pos_a.get(id(u)) != pos_b.get(id(v))):
                return False
    return True


_FAST = None


def _builder_ok() -> bool:
    global _FAST
    if _FAST is None:
        try:
            _FAST = same_tree(_fast_parse(_SAMPLE), _bs4_parse(_SAMPLE))
        except Exception:  # noqa: BLE001 - any surprise from another bs4 or lxml: use bs4 itself
            _FAST = False
    return _FAST


def _bs4_parse(html) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml", multi_valued_attributes=None)


def parse_html(html) -> BeautifulSoup:
    if _builder_ok():
        try:
            return _fast_parse(html)
        except _Rejected:
            pass  # bs4 says why, in its own words
    return _bs4_parse(html)


_ADAPTERS: list[dict] | None = None


def _default_adapters() -> list[dict]:
    global _ADAPTERS
    if _ADAPTERS is None:
        _ADAPTERS = load_adapters()
    return _ADAPTERS


def extract_html(html, url: str | None = None, adapter_name: str | None = None, adapters=None):
    """Capture (contract v1) of one saved page, and the name of the adapter used (None if no
    adapter fits, with an empty item list)."""
    adapters = adapters if adapters is not None else _default_adapters()
    for a in adapters:  # before parsing, so the index the parser fills has their attributes
        _note_adapter(a)
    soup = parse_html(html)
    if adapter_name:
        matching = [a for a in adapters if a.get("name") == adapter_name]
        if not matching:
            raise AdapterError(f"no adapter named {adapter_name!r}")
        adapter = matching[0]
    else:
        adapter = pick_adapter(adapters, soup, url)
    if adapter is None:
        pu = page_url(soup, url)
        return {"v": 1, "page": {"url": _record_url(pu), "title": page_title(soup), "site": site_of(pu) or "unknown"},
                "items": []}, None
    capture, _names = extract(soup, adapter, url)
    return capture, adapter["name"]


def explain_pick(html, url, adapter_name) -> str:
    """Why extract_html chose the adapter it did, in words, for `cloutlens extract`."""
    if adapter_name is None:
        return "no adapter recognises this page"
    soup = parse_html(html)
    where = page_url(soup, url)
    host = host_of(where)
    adapter = next((a for a in _default_adapters() if a.get("name") == adapter_name), {})
    if host and adapter.get("hosts") and _host_matches(host, adapter["hosts"]):
        source = "the --url given" if url else "the page's canonical address"
        return f"picked by the host {host}, from {source}"
    return f"picked by its markup ({adapter.get('detect', '')[:60]})"
