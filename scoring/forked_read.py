"""Reading a large JSON Lines file on two cores: a forked child parses, checks and scores the
sentiment of the file's second part while this process reads the first.

Parsing and checking a line costs tens of microseconds in Python and VADER a hundred or more per
distinct text: on a million lines that is most of an offline scoring, and it needs nothing from
any other line. Everything that does (numbering identities, sites and topics in order of first
appearance, finding parents) stays in this process, which takes the child's items after its own,
in file order: the scorer sees exactly the items, in exactly the order, that one reader would
give it. The child hands its items over as JSON (forked.py), with the sentiment stored in each
item that can address someone, as a server stores it. If the child fails, this process reads
the second part itself.
"""
from __future__ import annotations

import os

import orjson

from .forked import Forked
from .sentiment import compound

SPLIT_MIN = 8 << 20  # smaller files are read in one process (a fork and a hand-over cost more)
FIRST_SHARE = 0.45   # this process also takes in the child's items: it reads a little less itself


def _line_start(fh, offset: int) -> int:
    """The offset of the first line that starts at or after `offset`."""
    if offset <= 0:
        return 0
    fh.seek(offset - 1)
    fh.readline()  # the rest of the line that holds offset - 1 (nothing if that is its newline)
    return fh.tell()


def lines_before(fh, end: int) -> int:
    """How many lines start before `end` (the file's newlines before it)."""
    fh.seek(0)
    n, left = 0, end
    while left > 0:
        block = fh.read(min(left, 1 << 20))
        if not block:
            break
        n += block.count(b"\n")
        left -= len(block)
    return n


def _lines_until(fh, end: int):
    pos = 0
    for line in fh:
        if pos >= end:
            return
        pos += len(line)
        yield line


def _with_sentiment(items: list) -> list:
    for it in items:
        if (it["kind"] == "comment" and it["parent"]) or it["mentions"]:
            it["sentiment"] = compound(it["text"])
    return items


class SplitRead:
    """Batches of a file's items in file order, the second part read by a forked child; errors
    (with their line numbers) go to `errors` in line order. Use as a context manager: leaving it
    ends a child still running."""

    def __init__(self, path: str, read_chunks, errors: list, chunk: int):
        self.path, self.read_chunks, self.errors, self.chunk = path, read_chunks, errors, chunk
        self.child = None

    def __enter__(self):
        self.fh = open(self.path, "rb")
        size = os.fstat(self.fh.fileno()).st_size
        split = size >= SPLIT_MIN and hasattr(os, "fork")  # (no fork on Windows: one reader)
        self.mid = _line_start(self.fh, int(size * FIRST_SHARE)) if split else size
        if self.mid < size:
            self.child = Forked(self._read_second_part)
        return self

    def __exit__(self, *exc):
        if self.child is not None:
            self.child.__exit__(*exc)
        self.fh.close()

    def batches(self):
        self.fh.seek(0)
        yield from self.read_chunks(_lines_until(self.fh, self.mid), self.errors, self.chunk)
        if self.child is None:
            return
        out = self.child.result()
        if out is not None:
            yield from self._handed_over(out)
            return
        first = lines_before(self.fh, self.mid) + 1  # the child failed: read its part here
        self.fh.seek(self.mid)
        yield from self.read_chunks(self.fh, self.errors, self.chunk, first)

    def _handed_over(self, out):
        while True:
            head = out.read(9)
            kind, size = head[:1], int.from_bytes(head[1:], "little")
            body = out.read(size)
            if kind == b"E":
                self.errors.extend(orjson.loads(body))
                return
            yield orjson.loads(body)

    def _read_second_part(self, out) -> None:
        with open(self.path, "rb") as fh:  # its own offset: the parent's file object shares one
            first = lines_before(fh, self.mid) + 1
            fh.seek(self.mid)
            errors: list[str] = []
            for items in self.read_chunks(fh, errors, self.chunk, first):
                blob = orjson.dumps(_with_sentiment(items))
                out.write(b"I" + len(blob).to_bytes(8, "little") + blob)
        blob = orjson.dumps(errors)
        out.write(b"E" + len(blob).to_bytes(8, "little") + blob)
