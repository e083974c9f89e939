"""VADER compound polarity, cached.

VADER is the costliest per-item step there is: every new comment a capture brings is scored once
(the store keeps the value), so at 199 comments a page it is a large share of a capture. The
compound comes from scoring.vader, an evaluator of VADER's rules that gives vaderSentiment's own
value bit for bit at about a sixth of its cost (tests/scoring/test_vader.py); a text with no
lexicon word (or emoji, which VADER translates into words) is 0.0 after one pass over its words.
"""
from __future__ import annotations

import math

from . import vader

_cache: dict[str, float] = {}
_CACHE_MAX = 200_000


def compound(text: str | None) -> float:
    if not text:
        return 0.0
    hit = _cache.get(text)
    if hit is not None:
        return hit
    value = vader.compound(text)
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()  # a bounded cache; clearing is rare and keeps memory flat
    _cache[text] = value
    return value


def item_sentiment(item: dict) -> float:
    """The compound of a stored item: the server computes it once at capture and stores it as
    `sentiment` (scoring a million items must not re-run VADER); a stored value comes from disk,
    so anything that is not a finite number is ignored and the rest is clamped to VADER's range."""
    v = item.get("sentiment")
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return min(1.0, max(-1.0, float(v)))
    return compound(item.get("text"))


def vader_compound(text: str) -> float:
    """vaderSentiment's own evaluator (for tests)."""
    return vader.ANALYZER.polarity_scores(text)["compound"]
