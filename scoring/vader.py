"""VADER's compound score, evaluated without VADER's per-word overheads.

`compound(text)` returns exactly what `vaderSentiment`'s `polarity_scores(text)["compound"]`
returns (the same float, bit for bit: tests/scoring/test_vader.py compares them on every comment of
the shared corpus, the seeds and generated texts), at a fraction of the cost. The package's own
evaluator re-lower-cases the whole word list several times for every lexicon word (its negation
and idiom checks each rebuild it), rebuilds the text one character at a time to translate emoji,
and computes the pos/neu/neg ratios we do not use. Here each text is split, stripped and
lower-cased once, emoji are translated only when the text has any, and only the words found in the
lexicon are looked at.

The lexicon, the emoji descriptions and the rule constants are read from the installed package,
so a change of its data cannot make the two disagree silently. Its rules are followed as they
are, quirks included, because stored sentiment values must not depend on which evaluator computed
them: the emoji translation puts no space after a description, and "!" and "?" are counted after
it (two descriptions hold a "!"); a "no" before a lexicon word counts zero, unless a "no" up to
two words before it gives it its own value negated; an upper-case word in a text not all upper
case gets +/-0.733, a zero valence counting as negative; and the contrastive "but" writes each
scaled value to the *first* entry equal to it (list.index), not to its own position, which
changes results when two words share a valence.
"""
from __future__ import annotations

import math
import string

from vaderSentiment import vaderSentiment as _vs

ANALYZER = _vs.SentimentIntensityAnalyzer()  # the package's own evaluator: its data here, the reference in tests
LEXICON: dict[str, float] = ANALYZER.lexicon
EMOJI: dict[str, str] = ANALYZER.emojis
_EMOJI_CHARS = frozenset(k for k in EMOJI if len(k) == 1)  # VADER looks emoji up one character at a time

_BOOSTERS = {k: v for k, v in _vs.BOOSTER_DICT.items() if " " not in k}
# Multi-word keys can only ever match words joined with single spaces; a word holds no whitespace,
# so a joined string equals a key exactly when the tuple of words equals the key's words.
_BOOSTER_NGRAMS = {tuple(k.split(" ")): v for k, v in _vs.BOOSTER_DICT.items() if " " in k}
_SPECIAL = {tuple(k.split(" ")): v for k, v in _vs.SPECIAL_CASES.items() if " " in k}
# Every phrase VADER looks for around a word starts at one of the four words ending at it.
_PHRASE_STARTS = frozenset(k[0] for k in (*_BOOSTER_NGRAMS, *_SPECIAL))
_NEGATIONS = frozenset(_vs.NEGATE)
_PUNCT = string.punctuation
_N = _vs.N_SCALAR
_CAPS = _vs.C_INCR
_SO_THIS = ("so", "this")
_AT_VERY = ("at", "very")
_LEAST_IN_LEXICON = "least" in LEXICON


def _translate_emoji(text: str) -> str:
    out = []
    after_space = True
    for ch in text:
        desc = EMOJI.get(ch)
        if desc is not None:
            if not after_space:
                out.append(" ")
            out.append(desc)
            after_space = False
        else:
            out.append(ch)
            after_space = ch == " "
    return "".join(out)


def _negated(word: str) -> bool:
    return word in _NEGATIONS or "n't" in word


def _idioms(v, low, i, n):
    """VADER's special-case phrases around word i (i >= 3), and booster phrases before it."""
    a, b, c, d = low[i - 3], low[i - 2], low[i - 1], low[i]
    for seq in ((c, d), (b, c, d), (b, c), (a, b, c), (a, b)):
        x = _SPECIAL.get(seq)
        if x is not None:
            v = x
            break
    if n - 1 > i:
        x = _SPECIAL.get((d, low[i + 1]))
        if x is not None:
            v = x
        if n - 1 > i + 1:
            x = _SPECIAL.get((d, low[i + 1], low[i + 2]))
            if x is not None:
                v = x
    for seq in ((a, b, c), (a, b), (b, c)):
        x = _BOOSTER_NGRAMS.get(seq)
        if x is not None:
            v = v + x
    return v


def _valence(i, low, words, n, cap_diff, phrases):
    """The valence of lexicon word i in its context (VADER's sentiment_valence for a lexicon hit)."""
    w = low[i]
    v = LEXICON[w]
    if w == "no" and i != n - 1 and low[i + 1] in LEXICON:
        v = 0.0
    if ((i > 0 and low[i - 1] == "no") or (i > 1 and low[i - 2] == "no")
            or (i > 2 and low[i - 3] == "no" and low[i - 1] in ("or", "nor"))):
        v = LEXICON[w] * _N
    if cap_diff and words[i].isupper():
        v = v + _CAPS if v > 0 else v - _CAPS
    for k in (1, 2, 3):
        if i < k:
            break
        p = low[i - k]
        if p in LEXICON:
            continue
        s = 0.0
        boost = _BOOSTERS.get(p)
        if boost is not None:
            s = boost
            if v < 0:
                s *= -1
            if cap_diff and words[i - k].isupper():
                s = s + _CAPS if v > 0 else s - _CAPS
        if k == 1:
            v = v + s
            if _negated(p):
                v = v * _N
        elif k == 2:
            if s != 0:
                s = s * 0.95
            v = v + s
            if p == "never" and low[i - 1] in _SO_THIS:
                v = v * 1.25
            elif p == "without" and low[i - 1] == "doubt":
                pass
            elif _negated(p):
                v = v * _N
        else:
            if s != 0:
                s = s * 0.9
            v = v + s
            if (p == "never" and low[i - 2] in _SO_THIS) or low[i - 1] in _SO_THIS:
                v = v * 1.25
            elif p == "without" and (low[i - 2] == "doubt" or low[i - 1] == "doubt"):
                pass
            elif _negated(p):
                v = v * _N
            if phrases and (p in _PHRASE_STARTS or low[i - 2] in _PHRASE_STARTS
                            or low[i - 1] in _PHRASE_STARTS or w in _PHRASE_STARTS):
                v = _idioms(v, low, i, n)
    if not _LEAST_IN_LEXICON and i > 0 and low[i - 1] == "least":
        if i == 1 or low[i - 2] not in _AT_VERY:
            v = v * _N
    return v


def _but(low, sentiments):
    """VADER's contrastive "but": values before the first "but" halved, after it x1.5, each written
    to the first entry equal to it (as VADER's list.index does)."""
    b = low.index("but")
    for k in range(len(sentiments)):
        v = sentiments[k]
        j = sentiments.index(v)
        if j < b:
            sentiments[j] = v * 0.5
        elif j > b:
            sentiments[j] = v * 1.5


def compound(text: str) -> float:
    if not text.isascii() and not _EMOJI_CHARS.isdisjoint(text):
        text = _translate_emoji(text)
    words = []
    for raw in text.split():
        s = raw.strip(_PUNCT)
        words.append(s if len(s) > 2 else raw)
    low = [w.lower() for w in words]
    n = len(low)
    hits = [i for i in range(n) if low[i] in LEXICON]
    if not hits:
        return 0.0
    upper = sum(1 for w in words if w.isupper())
    cap_diff = 0 < upper < n
    sentiments = [0] * n
    phrases = not _PHRASE_STARTS.isdisjoint(low)
    for i in hits:
        w = low[i]
        if w in _BOOSTERS or (w == "kind" and i < n - 1 and low[i + 1] == "of"):
            continue
        sentiments[i] = _valence(i, low, words, n, cap_diff, phrases)
    if "but" in low:
        _but(low, sentiments)
    total = float(sum(sentiments))
    if total:
        bangs = text.count("!")
        emphasis = (4 if bangs > 4 else bangs) * 0.292
        asks = text.count("?")
        if asks > 1:
            emphasis = emphasis + (asks * 0.18 if asks <= 3 else 0.96)
        if total > 0:
            total += emphasis
        else:
            total -= emphasis
    score = total / math.sqrt(total * total + 15)
    if score < -1.0:
        score = -1.0
    elif score > 1.0:
        score = 1.0
    return round(score, 4)
