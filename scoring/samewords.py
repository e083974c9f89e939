"""Copies: the same words sent to one person from several accounts (docs/scoring.md, section 6,
"Spam runs"). Of such a run only the actor of the earliest copy in a week counts; every other
actor's copy in that week weighs nothing. This module holds what a text's words are, their 64-bit fingerprint (the C reader,
_itemread.c, computes the same one for ASCII texts), and the rule over row columns.
"""
from __future__ import annotations

import re

import numpy as np

from .model import COPY_MIN_WORDS as MIN_WORDS, COPY_WINDOW_DAYS, DAY

# Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, Japanese kana, Han):
# each of their letters counts as a word, or a whole comment would be one "word" and never reach
# MIN_WORDS. Other letters and digits make words of runs, as spaces and punctuation divide them.
_NO_SPACES = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{_NO_SPACES}]|[^\W{_NO_SPACES}]+")

# The fingerprint: the UTF-8 bytes of words_of's string, 8 at a time as little-endian words (the
# last one zero padded), each mixed in by a multiply-xorshift step, then the length. 0 means "no
# fingerprint" (under MIN_WORDS, or an item that addresses nobody) and 1 is the C reader's "not
# ASCII: Python decides", so a fingerprint that comes out below 2 is moved up by 2.
SEED = 0x9E3779B97F4A7C15
MIX = 0xBF58476D1CE4E5B9
FINAL = 0x94D049BB133111EB
NONE, ASK = 0, 1
_MASK = (1 << 64) - 1


def words_of(text) -> str | None:
    """A text's words, casefolded and joined by single spaces (so that case, punctuation and
    spacing do not tell copies apart), or None when it has fewer than MIN_WORDS."""
    if not isinstance(text, str):
        return None
    words = _WORD.findall(text.casefold())
    return " ".join(words) if len(words) >= MIN_WORDS else None


def fingerprints(texts: list) -> np.ndarray:
    """The fingerprint (uint64) of each text's words, NONE for texts without enough. Distinct
    texts are read once (many comments say the same), and the mixing runs in numpy over all of
    them at once: words_of is the cost, about 7.5 us a text."""
    out = np.zeros(len(texts), dtype=np.uint64)
    if not texts:
        return out
    memo = dict.fromkeys(texts) if all(isinstance(t, str) for t in texts) else None
    if memo is None:  # a text that is not a str (only from producers that skip the contract)
        words = list(map(words_of, texts))
        at = [j for j, w in enumerate(words) if w is not None]
        out[at] = _fold([words[j].encode() for j in at])
        return out
    distinct = list(memo)
    words = list(map(words_of, distinct))
    some = [j for j, w in enumerate(words) if w is not None]
    fp = np.zeros(len(distinct), dtype=np.uint64)
    fp[some] = _fold([words[j].encode() for j in some])
    memo.update(zip(distinct, fp.tolist()))
    return np.fromiter(map(memo.__getitem__, texts), dtype=np.uint64, count=len(texts))


def _fold(data: list) -> np.ndarray:
    """The fingerprint of each byte string, all mixed together a word position at a time."""
    n = len(data)
    if not n:
        return np.zeros(0, dtype=np.uint64)
    lens = np.fromiter(map(len, data), dtype=np.int64, count=n)
    nw = (lens + 7) // 8
    buf = b"".join(d + b"\0" * (-len(d) % 8) for d in data)
    words = np.frombuffer(buf, dtype="<u8").astype(np.uint64)
    first = np.cumsum(nw) - nw
    order = np.argsort(-nw, kind="stable")  # the longest first: a prefix of them has word j
    nw_sorted = nw[order]
    h = np.full(n, SEED, dtype=np.uint64)
    mix = np.uint64(MIX)
    for j in range(int(nw_sorted[0])):
        k = int(np.searchsorted(-nw_sorted, -j, side="left"))  # strings with more than j words
        who = order[:k]
        x = (h[who] ^ words[first[who] + j]) * mix
        h[who] = x ^ (x >> np.uint64(31))
    h ^= lens.astype(np.uint64)
    h *= np.uint64(FINAL)
    h ^= h >> np.uint64(29)
    return np.where(h < 2, h + np.uint64(2), h)


def fingerprint(text) -> int:
    """One text's fingerprint, as an int (0: none)."""
    return int(fingerprints([text])[0])


def later_copies(scorer, g, at: float, rows: np.ndarray) -> np.ndarray:
    """Which of `rows` are later copies: rows of whole (target, fingerprint) groups, those that
    count (candidates()) and only those. Within each episode of a group (_episodes) the actor of
    the earliest row (undated: at the scoring time) counts; ties of time go to the actor whose name
    comes first, so that nothing depends on the order rows were added (property 13). Every
    other actor's rows are later copies. Canonical actors and targets: linked accounts are one."""
    out = np.zeros(len(rows), dtype=bool)
    if len(rows) < 2:
        return out
    R = scorer._rows
    fp, ct, ca = R.fp[rows], g.ct[rows], g.ca[rows]
    t = R.t[rows]
    t = np.where(np.isnan(t), at, t)
    order = np.lexsort((t, ct, fp))
    fp, ct, ca, t = fp[order], ct[order], ca[order], t[order]
    start = np.empty(len(rows), dtype=bool)
    start[0] = True
    start[1:] = (fp[1:] != fp[:-1]) | (ct[1:] != ct[:-1])
    start = _episodes(start, t)
    gid = np.cumsum(start) - 1
    first = np.flatnonzero(start)
    counted = ca[first]
    # another actor at the group's earliest time: the first name decides (rare, in Python)
    tied = (t == t[first][gid]) & (ca != counted[gid])
    if tied.any():
        names = scorer._names
        for k in np.unique(gid[tied]).tolist():
            lo = int(first[k])
            at_first = np.flatnonzero((gid == k) & (t == t[lo]))
            counted[k] = min(set(ca[at_first].tolist()), key=names.__getitem__)
    out[order] = ca != counted[gid]
    return out


def _episodes(start: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The starts of each group's episodes: a group's first row starts one, and so does the first
    row more than COPY_WINDOW_DAYS after the start of the episode before it. `start` marks the
    groups' first rows of rows sorted by group, then time. Fixed windows from an episode's start,
    not chains of gaps: a phrase many people use, a week apart each, is not one long episode."""
    group = np.cumsum(start)
    start = start.copy()
    window = COPY_WINDOW_DAYS * DAY
    live = np.arange(len(t))  # rows not settled yet: from the latest start found in their group on
    while len(live):
        ep = np.maximum.accumulate(np.where(start[live], live, 0))
        beyond = t[live] > t[ep] + window
        if not beyond.any():
            break
        # a group's rows beyond its latest episode run to the group's end: the first starts the next
        first = beyond.copy()
        first[1:] &= ~beyond[:-1] | (group[live[1:]] != group[live[:-1]])
        start[live[first]] = True
        live = live[beyond]
    return start


def candidates(scorer, W, rows: np.ndarray) -> np.ndarray:
    """Of `rows`, those the rule weighs: kept person rows with a fingerprint, not hostile (those
    weigh nothing already, and each is shown apart: property 8 counts every hostile account)."""
    return rows[W.keep[rows] & W.person[rows] & ~W.hostile[rows] & (scorer._rows.fp[rows] != 0)]


def groups_of(scorer, g, rows: np.ndarray) -> np.ndarray:
    """Every row of the (target, fingerprint) groups that `rows` belong to (rows without a
    fingerprint belong to none), found through the rows-by-target index."""
    R = scorer._rows
    rows = rows[R.fp[rows] != 0]
    if not len(rows):
        return rows
    targets = np.unique(g.ct[rows])
    pool = g.members("rows_by_target", targets, sort=False)
    fps = np.unique(R.fp[rows])
    pool = pool[np.isin(R.fp[pool], fps)]
    wanted = set(zip(g.ct[rows].tolist(), R.fp[rows].tolist()))
    hit = np.fromiter(map(wanted.__contains__, zip(g.ct[pool].tolist(), R.fp[pool].tolist())), dtype=bool,
                      count=len(pool))
    return np.sort(pool[hit])
