"""A JSON object with arrays too long to hold in memory, read from a file in passes.

orjson parses a whole document into Python objects at about ten times the file's size (a 48 MB
export peaked at 506 MB). `scan` reads the file once, to the end, keeping only the object's other
members and what type each long member is; `elements` then yields an array's elements one at a
time, as often as the caller needs them. Both read with ijson (its C backend, yajl), in 64 KB chunks.

yajl is laxer than orjson, which reads every other body this server takes, in two ways that
`scan` makes up for, so that a file is refused where the same JSON sent as a body would be:
- nesting: orjson stops at 1024 levels; ijson has no limit and keeps every open level's path,
  so 20,000 nested `[` (a 20 KB file) took a gigabyte. `scan` counts levels itself and stops
  first; `elements` is only ever run on a file `scan` passed.
- a lone UTF-16 surrogate escape: yajl turns `"\\ud800"` into `"?"` where orjson refuses it.
  (A lone low one makes ijson raise; a high one followed by anything but a low one, yajl pairs
  into a wrong character.) The raw bytes are searched for them as they are read.
ijson refuses what orjson refuses otherwise (invalid UTF-8, NaN, leading zeros, a BOM, trailing
data), except integers outside -2**63 < n < 2**63 (orjson reads those up to 2**64 - 1 as
integers and larger ones as floats; ijson refuses them all), which no export field can hold.
- a very long string: yajl lexes a token that spans reads again from its start at every read,
  so one long string costs time quadratic in its length (16 MB of escaped backslashes: minutes).
  A string is refused once it has run past MAX_STRING at the end of a read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from itertools import accumulate, takewhile
from operator import itemgetter, lt

import ijson

MAX_DEPTH = 1024  # orjson's
CHUNK = 64 * 1024

_OPEN = frozenset(("start_map", "start_array"))
_CLOSE = frozenset(("end_map", "end_array"))
_DELTA = {"start_map": 1, "start_array": 1, "end_map": -1, "end_array": -1, "map_key": 0, "string": 0,
          "number": 0, "boolean": 0, "null": 0}
# `\uD800`-`\uDBFF` not followed by `\uDC00`-`\uDFFF`, and not itself escaped: an odd run of
# backslashes before the `u` (`\\ud800` is a backslash and the text "ud800").
_LONE_HIGH = re.compile(rb"(?<!\\)(?:\\\\)*\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})")
_ANY_HIGH = re.compile(rb"\\u[dD][89abAB]")  # a literal start: searched at memchr speed
_LOOKAHEAD = 6  # the length of the low surrogate's escape


class NotJSON(ValueError):
    """The file is not JSON as the server reads JSON; the message quotes nothing from it."""


MAX_STRING = 1 << 20  # no string of an export comes near it (an item's text: 4,000 characters)
_ESCAPE = re.compile(rb"\\.", re.S)


class _Surrogates:
    """A file read through, refusing lone surrogate escapes. A match that reaches the end of
    what has been read may still pair with the next chunk: the tail is searched again with it.
    Also refuses a string longer than MAX_STRING: yajl lexes a token that spans reads again from
    its start at every read, so one long string costs time quadratic in its length."""

    def __init__(self, fh):
        self.fh, self.tail, self.carry, self.run = fh, b"", b"", 0

    def _strings(self, chunk: bytes):
        data = self.carry + chunk
        odd = (len(data) - len(data.rstrip(b"\\"))) % 2
        self.carry = b"\\" if odd else b""
        plain = _ESCAPE.sub(b"_", data[:-1] if odd else data)  # an escape as one byte: every quote left is a real one
        q = plain.rfind(b'"')
        self.run = len(plain) - q - 1 if q >= 0 else self.run + len(plain)
        if self.run > MAX_STRING:
            raise NotJSON(f"not valid JSON for an export: a string longer than {MAX_STRING // 2**20} MB")

    def read(self, n: int) -> bytes:
        chunk = self.fh.read(n)
        self._strings(chunk)
        buf = self.tail + chunk
        # The full pattern is slow (a try at every byte): run only where a high escape is.
        for m in _LONE_HIGH.finditer(buf) if _ANY_HIGH.search(buf) else ():
            if chunk and m.end() + _LOOKAHEAD > len(buf):
                break
            raise NotJSON("not valid JSON: a lone UTF-16 surrogate escape (\\ud800-\\udbff without its pair)")
        # Kept from a point no backslash precedes, so that the search sees a whole run of them;
        # only the run's parity matters, so a long run is kept as one backslash or none (a run
        # kept whole made every read copy and search it again: quadratic in the run's length).
        keep = max(0, len(buf) - 2 * _LOOKAHEAD)
        head = buf[:keep]
        run = keep - len(head.rstrip(b"\\"))
        self.tail = b"\\" * (run % 2) + buf[keep:]
        return chunk


@dataclass
class Scan:
    is_object: bool = False
    members: dict = field(default_factory=dict)  # the top level's members but the long ones
    repeated: str | None = None                   # the first top-level key given twice
    long_kinds: dict = field(default_factory=dict)  # the JSON type of each long member present
    long_kind: str | None = None                    # that of the first long member asked for


_KIND = {"start_map": "object", "start_array": "array", "string": "string", "number": "number",
         "boolean": "boolean", "null": "null"}


def _not_json(exc: Exception) -> NotJSON:
    # yajl's message goes on with the bytes around the error: hostile text, never echoed.
    text = exc.args[0] if exc.args else ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    first = str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__
    if isinstance(exc, UnicodeDecodeError):
        first = "a string is not valid UTF-8 (a lone surrogate escape?)"
    return NotJSON(f"not valid JSON: {first[:120]}")


def _too_deep() -> NotJSON:
    return NotJSON(f"not valid JSON: nested deeper than {MAX_DEPTH} levels")


def _deepest(events) -> int:
    """Reads the events of the long value, just opened, to its end: the deepest level they reach.
    They are most of the file, so they are only counted, by itertools in C: a Python loop over
    them took a second for 50 MB. basic_parse keeps no path, so a deep nest costs no memory
    before it is measured."""
    depths = accumulate(map(_DELTA.__getitem__, map(itemgetter(0), events)), initial=2)
    return max(takewhile(partial(lt, 1), depths))


def scan(fh, long_key: str, *more_long_keys: str) -> Scan:
    """Read the whole file once: JSON as orjson takes it, or NotJSON. A top level that is no
    object is read to the end all the same, so that a syntax error is still the one reported.
    The long members (long_key and more_long_keys) are only measured, never kept."""
    long_keys = {long_key, *more_long_keys}
    out = Scan()
    seen: set[str] = set()
    depth, key, builder = 0, None, None
    fh.seek(0)
    try:
        events = iter(ijson.basic_parse(_Surrogates(fh), buf_size=CHUNK, use_float=True))
        for event, value in events:
            before = depth
            if event in _OPEN:
                depth += 1
                if depth > MAX_DEPTH:
                    raise _too_deep()
            elif event in _CLOSE:
                depth -= 1
            if builder is not None:
                builder.event(event, value)
                if depth == 1:
                    out.members[key], builder = builder.value, None
            elif before == 0:
                out.is_object = event == "start_map"
            elif before != 1 or not out.is_object or event == "end_map":
                pass
            elif event == "map_key":
                if value in seen and out.repeated is None:
                    out.repeated = value
                key = value
                seen.add(key)
            elif key in long_keys:
                out.long_kinds[key] = _KIND[event]
                if key == long_key:
                    out.long_kind = _KIND[event]
                if event in _OPEN and _deepest(events) > MAX_DEPTH:
                    raise _too_deep()
                depth = 1
            elif event in _OPEN:
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
            else:
                out.members[key] = value
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise _not_json(exc) from None
    return out


def elements(fh, long_key: str):
    """The elements of the top level's `long_key` array, one at a time, from the file's start.
    Only for a file `scan` passed (ijson's own path-keeping is unbounded in depth)."""
    fh.seek(0)
    try:
        yield from ijson.items(fh, f"{long_key}.item", buf_size=CHUNK, use_float=True)
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise _not_json(exc) from None
