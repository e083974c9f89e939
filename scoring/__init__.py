"""Cloutlens scoring: items in, scores and explanations out. Imports neither Flask nor TinyDB.

The interface (the server, the CLI, the tests and the benchmark all use exactly this)::

    from scoring import Scorer
    s = Scorer(settings=None)
    # settings, all optional:
    #   {"site_weights": {"news.ycombinator.com": 1.0, ...},   # default 1.0 per site; 0 ignores a site
    #    "topics": {"python": ["python", "django"], ...},      # user topics by keywords (hashtags are automatic)
    #    "horizon_days": 90,                                  # age decay: flat for a third, then e^-1 per horizon
    #    "links": {"site:alias": "site:canonical", ...}}       # user-made links across sites, never guessed
    s.add(items) -> set[str]
        # items in the stored form of scoring.items.normalize_item. Upsert by (site, id): an
        # identical item is a no-op, a changed one replaces the old one. An item whose "at" is None
        # is undated and counts as happening at the scoring time. Returns the identities whose
        # scores changed directly (authors and addressees of the items added or re-derived);
        # through standing, other scores may move by small amounts.
    s.load_stream(batches) -> set[str]
        # a first load from an iterable of item lists, each list's dicts free to go once read:
        # exactly what add() of all of them gives. A scorer given a store (items=) goes on as
        # after add() (a server's first start streams its shards so); one without keeps no
        # items, and then refuses add and remove_identity (`cloutlens score` streams a file so)
    s.remove_identity(identity) -> set[str]
        # forget: drops every item the identity authored and every interaction addressed to it
    s.set_settings(settings) -> None               # re-scores lazily on the next read
    s.prepare(at=None) -> None                     # computes everything and builds the indexes
                                                   # updates use (a long-running server, at start)
    s.result(identity, at=None) -> dict | None     # None if unknown; `at` a datetime or ISO string,
                                                   # default the end of the current UTC day
    s.results(identities, at=None, people=None) -> dict[str, dict]   # unknown ones omitted;
        # people=N: by_person only the top N, no by_item (a badge's needs, cheap for a hub)
    s.ranking(at=None, limit=None) -> list[dict]        # by score desc, ties by identity
    s.ranking_order(at=None) -> ndarray                 # the ids of ranking(), in its order, and
    s.explain_ranked(ids) -> list[dict]                 # the results of any part of it (so a
    s.ranking_blocks(at=None, block=10_000)             # ranking can be explained a block at a time)
    s.item_contributions(site, item_id, at=None) -> dict   # what one item gave, to whom

    score_items(items, at=None, settings=None) -> list[dict]   # a full recompute, sorted like ranking

A result: {"identity": "site:handle", "score": 1..100, "raw": float, "points": float (the unrounded
score), "trend": float (points), "negative": {"count", "weight"}, "breakdown": {"by_person",
"by_kind", "by_site", "by_item"}, "topics": {name: score}, "interactions": int, "people": int,
"standing": float, "view": "people" | "days" | "reach", "reach": people within three steps when they
hold the score (the reach ceiling), else None}. "raw" is what the score maps from (held to R10 times
the reach under the ceiling). Each by_* sums to "points" (the unrounded score),
so to the score within rounding; an identity with nothing counted has score 1 and empty breakdowns.
The model and its formulas: docs/scoring.md.
"""
from .engine import Scorer


def score_items(items, at=None, settings=None) -> list[dict]:
    s = Scorer(settings=settings)
    s.add(items)
    return s.ranking(at=at)


__all__ = ["Scorer", "score_items"]
