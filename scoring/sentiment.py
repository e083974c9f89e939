"""VADER compound polarity, cached and short-circuited.

VADER costs ~25 us a text; a full rescore of a million interactions cannot afford that on every
text. A compound is non-zero only if some token is in VADER's lexicon (or is an emoji, which VADER
translates into words), so texts without any such token are 0.0 without running VADER. A test
checks that the short cut agrees with VADER itself.
"""
from __future__ import annotations

import math
import re

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

_analyzer = SentimentIntensityAnalyzer()
_LEXICON = frozenset(_analyzer.lexicon)
_STRIP = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_ASCII = re.compile(r"^[\x00-\x7f]*$")
_cache: dict[str, float] = {}
_CACHE_MAX = 200_000


def _may_carry_sentiment(text: str) -> bool:
    if not _ASCII.match(text):
        return True  # emoji and non-ASCII words: let VADER decide
    for token in text.lower().split():
        if token in _LEXICON or token.strip(_STRIP) in _LEXICON:
            return True
    return False


def compound(text: str | None) -> float:
    if not text:
        return 0.0
    hit = _cache.get(text)
    if hit is not None:
        return hit
    value = _analyzer.polarity_scores(text)["compound"] if _may_carry_sentiment(text) else 0.0
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
    """VADER with no short cut (for tests)."""
    return _analyzer.polarity_scores(text)["compound"]
