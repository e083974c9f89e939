"""`cloutlens score FILE.jsonl`: read items one per line, score them with no server or database.

Bad lines are reported (line number and the field at fault) and skipped; the rest still scores.
The file is read, checked and turned into columns a chunk of CHUNK items at a time, so the parsed
items of the whole file are never in memory at once (a million of them take 1.5 GB).
"""
from __future__ import annotations

import codecs
import json
import os
from datetime import datetime, timezone

import orjson

from . import Scorer
from .forked import Forked
from .forked_read import SplitRead
from .items import ContractError, normalize_line

CHUNK = 50_000  # items read before their columns are taken and their dicts let go
BLOCK = 10_000  # results explained and written at a time
FORK_RESULTS = 40_000  # from this many results on, a forked child explains the second half


def read_chunks(stream, errors: list, chunk: int = CHUNK, first_line: int = 1):
    """Lists of at most `chunk` stored-form items, in file order; bad lines go to `errors`."""
    items = []
    for lineno, line in enumerate(stream, first_line):
        try:
            raw = orjson.loads(line)  # bytes as read: valid UTF-8 decodes the same either way
        except orjson.JSONDecodeError:
            if isinstance(line, bytes):
                line = line.decode("utf-8", errors="replace")
            if not line.strip():
                continue
            try:
                raw = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                errors.append(f"line {lineno}: not valid JSON ({str(e).split(':')[0]})")
                continue
        try:
            items.append(normalize_line(raw, lineno))
        except ContractError as e:
            errors.append(str(e))
            continue
        if len(items) >= chunk:
            yield items
            items = []
    if items:
        yield items


def load(stream, settings: dict | None = None, chunk: int = CHUNK) -> tuple[Scorer, list[str]]:
    """A scorer loaded from a JSON Lines stream a chunk at a time, and the errors."""
    errors: list[str] = []
    s = Scorer(settings=settings)
    s.load_stream(read_chunks(stream, errors, chunk))
    return s, errors


def load_file(path: str, settings: dict | None = None, chunk: int = CHUNK) -> tuple[Scorer, list[str]]:
    """load() of a file, a large one read on two cores (forked_read)."""
    errors: list[str] = []
    s = Scorer(settings=settings)
    with SplitRead(path, read_chunks, errors, chunk) as split:
        s.load_stream(split.batches())
    return s, errors


def score_stream(stream, at=None, settings: dict | None = None, chunk: int = CHUNK) -> tuple[list[dict], list[str]]:
    """(the ranking of a JSON Lines stream's items, the errors), reading it a chunk at a time."""
    s, errors = load(stream, settings, chunk)
    return s.ranking(at=at), errors


def parse_when(text: str | None) -> datetime | None:
    if text is None:
        return None
    dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _table_line(r: dict, width: int) -> str:
    topics = ", ".join(f"{k} {v}" for k, v in sorted(r["topics"].items(), key=lambda kv: (-kv[1], kv[0]))[:3])
    # a change that rounds to nothing has no sign (it printed -0.0), as on the dashboard
    trend = f"{r['trend']:>+5.1f}" if round(r["trend"], 1) else f"{0.0:>5.1f}"
    return (f"{r['identity']:<{width}}  {r['score']:>5}  {trend}  "
            f"{r['negative']['count']:>8}  {r['people']:>6}  {r['interactions']:>12}  {topics}")


def _table_head(width: int) -> str:
    head = f"{'identity':<{width}}  score  trend  negative  people  interactions  top topics"
    return head + "\n" + "-" * len(head)


def output(s: Scorer, at, as_json: bool, block: int = BLOCK):
    """The ranking as pieces of text, each block of results explained and formatted only when
    asked for: every identity's explanation at once takes more memory than the scorer. With many
    results, a forked child explains and formats the second half meanwhile (forked.py)."""
    order = s.ranking_order(at)
    parts = [order[i: i + block] for i in range(0, len(order), block)]
    if as_json:
        # the pieces of json.dumps(ranking) exactly: "[" + ", ".join(each result) + "]"
        def piece(k: int) -> str:
            return (", " if k else "") + json.dumps(s.explain_ranked(parts[k]), ensure_ascii=False)[1:-1]
        head, tail = "[", "]"
    else:
        width = max([len("identity")] + list(map(len, map(s._names.__getitem__, order.tolist()))))

        def piece(k: int) -> str:
            return "".join(["\n" + _table_line(r, width) for r in s.explain_ranked(parts[k])])
        head, tail = _table_head(width), ""
    yield head
    half = len(parts) // 2 if len(order) >= FORK_RESULTS and hasattr(os, "fork") else len(parts)
    if half == len(parts):
        yield from map(piece, range(len(parts)))
    else:
        def second_half(out) -> None:
            for k in range(half, len(parts)):
                out.write(piece(k).encode("utf-8"))

        with Forked(second_half) as child:
            yield from map(piece, range(half))
            made = child.result()
            if made is None:  # the child failed: this process makes its half
                yield from map(piece, range(half, len(parts)))
            else:
                decode = codecs.getincrementaldecoder("utf-8")().decode
                while data := made.read(1 << 20):
                    yield decode(data)
    yield tail


def run(path_or_stream, at: str | None, as_json: bool, settings: dict | None = None):
    """(an iterator over the output's pieces of text, error lines, notes, whether any item was
    read): the file is read and scored before it returns, the results are explained as the
    pieces are taken."""
    if hasattr(path_or_stream, "read"):
        s, errors = load(path_or_stream, settings)
    else:
        s, errors = load_file(path_or_stream, settings)
    notes = []
    if s.copies_dropped:
        notes.append(f"{s.copies_dropped} lines repeat an item of another line (the same site and id): "
                     "each item counts once, the copy holding the most (reactions, then the latest date)")
    return output(s, parse_when(at), as_json), errors, notes, len(s._item_keys)


def make_command():
    """The click command; server/cli.py only registers it (`main.add_command(...)`)."""
    import click

    # One line of the format where a user looks first: --help.
    @click.command("score", epilog="""\b
One item per line, for example:
{"site": "blog.example", "id": "c2", "kind": "comment", "parent": "p1",
 "author": {"handle": "anna", "name": "Anna"}, "at": "2026-11-20T09:14:00Z",
 "text": "Great post"}
kind: post or comment; optional: "reactions": {"likes": 3}, "mentions": ["bob"],
"url"; every field: docs/scoring.md, section 7 (Offline).
A bad line is skipped, named with its number and the field at fault.""")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
    @click.option("--at", "at", default=None, metavar="TIME",
                  help="Score as of this ISO time (e.g. 2026-11-22T00:00:00Z) for reproducible results.")
    @click.option("--json", "as_json", is_flag=True, help="Print a JSON array sorted by score.")
    def score(file, at, as_json):
        """Score a JSON Lines file of items (one item per line, each with its site), offline."""
        try:
            parse_when(at)
        except ValueError:
            raise click.BadParameter("must be an ISO 8601 date-time", param_hint="--at") from None
        if file == "-":
            out, errors, notes, scored = run(click.get_binary_stream("stdin"), at, as_json)
        else:
            out, errors, notes, scored = run(file, at, as_json)
        for e in errors:
            click.echo(f"skipped {e}", err=True)
        for note in notes:
            click.echo(f"note: {note}", err=True)
        if errors and not scored:
            raise click.ClickException(f"no line could be scored ({len(errors)} skipped)")
        for piece in out:
            click.echo(piece, nl=False)
        click.echo("")
        if errors:  # after the output, where a user who scrolled past the first lines looks
            click.echo(f"scored {scored:,} item{'' if scored == 1 else 's'}; {len(errors):,} "
                       f"line{'' if len(errors) == 1 else 's'} skipped (listed above)", err=True)

    return score


score_command = make_command()
