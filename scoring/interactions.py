"""Interactions derived from stored items.

One item yields at most one interaction per addressee (its strongest kind wins: a reply that also
@-mentions the person it replies to is one reply, not a reply plus a mention):

- a comment whose parent is a known post addresses the post's author (kind "comment");
- a comment whose parent is a known comment addresses that comment's author (kind "reply");
- a comment whose parent is null or not (yet) stored addresses nobody: there is no author to
  credit. It is re-derived when the parent arrives;
- each mention addresses `site:handle` of the mentioned person (kind "mention");
- reactions ("like": 12, ...) are an anonymous audience signal for the item's author, one row with
  a capped weight (model.reaction_units), credited to the pseudo-actor "(audience)".

Self-interactions are dropped here (same identity) and again after identity links are applied.
"""
from __future__ import annotations

from datetime import datetime

from . import model
from .items import identity
from .sentiment import item_sentiment

AUDIENCE = "(audience)"


def epoch(at: str | None) -> float:
    if not at:
        return float("nan")  # undated: scored as if it happened at the scoring time
    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


def derive(item: dict, parent: dict | None):
    """(author, [(target, kind)], reaction_units, t, compound) for one stored item."""
    site = item["site"]
    author = identity(site, item["author"]["handle"])
    targets: dict[str, int] = {}
    if item["kind"] == "comment" and parent is not None:
        kind = model.COMMENT if parent["kind"] == "post" else model.REPLY
        targets[identity(site, parent["author"]["handle"])] = kind
    for m in item.get("mentions") or ():
        targets.setdefault(identity(site, m), model.MENTION)
    targets.pop(author, None)
    reactions = item.get("reactions") or {}
    total = sum(v for v in reactions.values() if isinstance(v, int) and v > 0)
    units = model.reaction_units(total) if total else 0.0
    comp = item_sentiment(item) if targets else 0.0
    return author, sorted(targets.items()), units, epoch(item.get("at")), comp
