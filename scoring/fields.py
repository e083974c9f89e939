"""What derivation needs of each item, read out of its dict once, as columns (derive.py joins them).

A batch can be read in chunks (the offline scorer streams a file this way): each chunk's dicts can
go once read, and the chunks' columns put together equal the columns of the whole batch read at
once. Names are numbered by their first appearance in the whole stream, exactly as one read
would number them, so the identities a batch creates, and their order, do not depend on how it
was cut.

CPython pays for every bytecode run per item, so each item is touched by C-level iteration only
(itemgetter, map, zip, dict look-ups through bound methods); Python-level loops run only over the
items that need them (mentions, reactions, hashtags, unseen texts).
"""
from __future__ import annotations

from datetime import datetime
from itertools import chain, compress, count, repeat
from operator import add, contains, eq, itemgetter, methodcaller

import numpy as np

from . import model
from .columns import ranges
from .samewords import ASK, fingerprints
from .sentiment import compound, item_sentiment

try:
    from . import _itemread  # the per-item reading in C (setup.py builds it when it can)
except ImportError:
    _itemread = None

_FIELDS = ("site", "id", "kind", "parent", "author", "at", "text", "mentions", "reactions")
_GET_HANDLE = itemgetter("handle")
_GET_AT = itemgetter("at")
_SLICE = 1 << 16
# Items from which the compiled reader reads a batch on two cores: more than the offline scorer's
# chunks (cli_score.CHUNK), which it reads while its forked child parses on the other core (there
# a split made the load slower in 3 of 4 paired runs); a server's shards are smaller still.
SPLIT_MIN = 100_000
_GET_SENTIMENT = methodcaller("get", "sentiment")


class Fields:
    """Per item, by position: `sites`, `ids`, `parents` (lists of str, a parent None when it has
    none), `site_ids`, `comment`, `has_parent`, `t` (epoch seconds, NaN undated), `comp` (sentiment, set for the
    items that can address a person: comments with a parent, items with mentions), `units` (its
    reactions' weight, 0 for none), `crowds` (its largest count of one reaction: so many accounts
    reacted, the author perhaps among them; reach.py), `hcode` (its author's handle, numbered by first appearance),
    `tcode` (the code of its own text's topic set), `m_count` (mentions), `fp` (the fingerprint of
    its text's words, samewords.py, set like `comp`; 0 for none); and flat `m_code` (each
    mention's `site:handle`, numbered by first appearance). `handle_of`, `mention_of` and `tsets`
    turn the numbers back into handles, names and topic sets."""

    def __len__(self) -> int:
        return len(self.ids)

    def handle(self, j: int) -> str:
        return self.handle_of[int(self.hcode[j])]

    def chosen_copies(self) -> list[int]:
        """For an item given more than once in a batch, the position of one copy, in the place of
        its first: the one that holds the most (reactions, then the latest date, then everything
        else that scores), not the last one given, so that a shuffled batch scores the same
        (property 13; copies captured at different times hold different counts). Copies equal in
        all of that score the same, whichever is taken. Every other item's own position."""
        keys = list(zip(self.sites, self.ids))
        place = dict(zip(keys, range(len(keys))))
        if len(place) == len(keys):
            return list(place.values())
        copies: dict = {}
        for j, key in enumerate(keys):
            copies.setdefault(key, []).append(j)
        ends = np.cumsum(self.m_count).tolist()
        for key, js in copies.items():
            if len(js) > 1:
                place[key] = max(js, key=lambda j: self._copy_rank(j, ends[j]))
        return list(place.values())

    def _copy_rank(self, j: int, end: int) -> tuple:
        t = float(self.t[j])
        mentions = sorted(map(self.mention_of.__getitem__, self.m_code[end - int(self.m_count[j]): end].tolist()))
        return (float(self.units[j]), float(self.crowds[j]), -np.inf if np.isnan(t) else t, float(self.comp[j]), bool(self.comment[j]),
                self.parents[j] or "", self.handle(j), sorted(self.tsets[int(self.tcode[j])]), mentions,
                int(self.fp[j]))

    def take(self, pos: list) -> "Fields":
        """The items at pos, in that order, numbered again by first appearance among them."""
        f = Fields()
        p = np.asarray(pos, dtype=np.int64)
        for name in ("sites", "ids", "parents"):
            setattr(f, name, list(map(getattr(self, name).__getitem__, pos)))
        for name in ("site_ids", "comment", "has_parent", "t", "comp", "units", "crowds", "tcode", "m_count", "fp"):
            setattr(f, name, getattr(self, name)[p])
        f.tsets, f.code_of = self.tsets, self.code_of
        f.hcode, f.handle_of = _renumber(self.hcode[p], self.handle_of)
        ends = np.cumsum(self.m_count)
        flat = ranges(np.arange(len(self.m_code)), (ends - self.m_count)[p], ends[p])
        f.m_code, f.mention_of = _renumber(self.m_code[flat], self.mention_of)
        return f


def _renumber(codes: np.ndarray, name_of: dict):
    """Codes as positions of first appearance in `codes`, and their names."""
    if not len(codes):
        return codes, {}
    uniq, first = np.unique(codes, return_index=True)
    new = np.empty(int(uniq[-1]) + 1, dtype=np.int64)
    new[uniq] = first
    return new[codes], dict(zip(first.tolist(), map(name_of.__getitem__, uniq.tolist())))


class Reader:
    """Reads batches of stored-form items into Fields for one scorer (its sites and topics), one
    chunk after another; fields() puts the chunks together."""

    def __init__(self, scorer):
        self.scorer = scorer
        self.parts: list[Fields] = []
        self.n = self.nm = 0
        self.handle_first: dict[str, int] = {}
        self.mention_first: dict[str, int] = {}
        self.tsets = [frozenset()]
        self.code_of = {self.tsets[0]: 0}

    def read(self, its: list) -> None:
        self.parts.append(self._read(its))

    def fields(self) -> Fields:
        if not self.parts:
            self.read([])
        parts = self.parts
        if len(parts) == 1:
            f = parts[0]
        else:
            f = Fields()
            for name in ("sites", "ids", "parents"):
                setattr(f, name, list(chain.from_iterable(getattr(p, name) for p in parts)))
            for name in ("site_ids", "comment", "has_parent", "t", "comp", "units", "crowds", "tcode", "m_count",
                         "hcode", "m_code", "fp"):
                setattr(f, name, np.concatenate([getattr(p, name) for p in parts]))
        self.parts = []
        f.handle_of = dict(zip(self.handle_first.values(), self.handle_first))
        f.mention_of = dict(zip(self.mention_first.values(), self.mention_first))
        f.tsets, f.code_of = self.tsets, self.code_of
        return f

    def _read(self, its: list) -> Fields:
        n = len(its)
        f = Fields()
        # exact lists only: _itemread.read raises on any other (a list subclass too), where the
        # Python reading takes it
        got = self._read_compiled(its, f) if _itemread is not None and type(its) is list else None
        compiled = got is not None
        texts, mentions, stored, hashes = got or self._read_python(its, f)

        m_at = np.flatnonzero(f.m_count)
        owner = np.repeat(m_at, f.m_count[m_at]).tolist()  # each mention's item
        names = list(map(add, map(add, map(f.sites.__getitem__, owner), repeat(":")), chain.from_iterable(mentions)))
        f.m_code = np.fromiter(map(self.mention_first.setdefault, names, count(self.nm)), dtype=np.int64,
                               count=len(names))

        # the sentiment of every item that may address a person (a comment with a parent, an item
        # with mentions): more than end up with a row to a person, but known before the parents
        # are found, which may be in a later chunk
        f.comp = np.zeros(n)
        speaks = f.comment & f.has_parent
        speaks[m_at] = True
        idx = np.flatnonzero(speaks)
        f.comp[idx] = _sentiments(its, stored, texts, idx)

        # the fingerprint of the same items' words: the compiled reading gives it for ASCII texts
        # and asks for the rest
        if not compiled:
            f.fp = np.zeros(n, dtype=np.uint64)
        else:
            idx = np.flatnonzero(f.fp == ASK)
        f.fp[idx] = fingerprints(list(map(texts.__getitem__, idx.tolist())))

        f.tcode = self._topic_codes(texts, hashes)
        self.n += n
        self.nm += len(names)
        return f

    def _read_compiled(self, its: list, f: Fields):
        """_read_python's work done by _itemread.c: (texts, mentions of the items with any,
        stored, whether each text holds a '#'), or None when an item is not of the stored form
        (nothing is set then that _read_python does not set the same way)."""
        n = len(its)
        site_ids, comment, hcode = np.empty(n, dtype=np.int32), np.empty(n, dtype=bool), np.empty(n, dtype=np.int64)
        t, has_parent, m_count, totals = np.empty(n), np.empty(n, dtype=bool), np.empty(n, dtype=np.int64), np.empty(n)
        hashes, stored, fp, crowds = np.empty(n, dtype=bool), np.empty(n), np.empty(n, dtype=np.uint64), np.empty(n)
        new_sites: dict = {}
        # Two cores only while every handle and site numbered so far came through the compiled
        # reader (exact strs): a key the Python reading numbered may compare with Python code,
        # which must not run while the second core's share waits, borrowed (_itemread.c).
        split_min = SPLIT_MIN if not self.scorer._odd_keys else -1
        got = _itemread.read(its, self.handle_first, self.n, self.scorer._sites, new_sites, site_ids, comment, hcode,
                             t, has_parent, m_count, totals, hashes, stored, fp, crowds, split_min)
        if got is None:
            return None
        if new_sites:
            codes = np.asarray(self.scorer._site_many(new_sites), dtype=np.int32)
            new = site_ids < 0
            site_ids[new] = codes[-1 - site_ids[new]]
        f.sites, f.ids, f.parents, texts, mentions, dates_read = got
        f.site_ids, f.comment, f.hcode, f.has_parent, f.m_count, f.fp = site_ids, comment, hcode, has_parent, m_count, fp
        f.t = t if dates_read else epochs(map(_GET_AT, its))
        f.units, f.crowds = _units(totals), crowds
        return texts, mentions, stored, hashes

    def _read_python(self, its: list, f: Fields):
        """Sets the columns _read_compiled sets, in Python (for any batch), and gives what it gives
        (whether each text holds a '#' not known: None)."""
        n = len(its)
        self.scorer._odd_keys = True
        (sites, ids, kinds, parents, authors_d, ats, texts, mentions, reactions), stored = _columns(its)
        f.sites, f.ids, f.parents = sites, ids, parents
        f.site_ids = self.scorer._site_array(sites)
        f.comment = np.fromiter(map(eq, kinds, repeat("comment")), dtype=bool, count=n)  # False for a non-str
        f.hcode = np.fromiter(map(self.handle_first.setdefault, map(_GET_HANDLE, authors_d), count(self.n)),
                              dtype=np.int64, count=n)
        f.t = epochs(ats)
        m_at = list(compress(range(n), mentions))
        f.m_count = np.zeros(n, dtype=np.int64)
        f.m_count[m_at] = np.fromiter(map(len, map(mentions.__getitem__, m_at)), dtype=np.int64, count=len(m_at))
        a_list = list(compress(range(n), reactions))
        totals, f.crowds = np.zeros(n), np.zeros(n)
        given = list(map(reactions.__getitem__, a_list))
        totals[a_list] = _totals(given)
        f.crowds[a_list] = _crowds(given)
        f.units = _units(totals)
        f.has_parent = np.zeros(n, dtype=bool)
        f.has_parent[list(compress(range(n), parents))] = True
        return texts, list(map(mentions.__getitem__, m_at)), stored, None

    def _topic_codes(self, texts: list, hashes: np.ndarray | None = None) -> np.ndarray:
        """The code of each text's topic set. Sets are few and shared: each distinct set gets a
        code once. With no user topics only hashtags can match, and a text without '#' has none:
        most texts are never matched (`hashes`: which texts hold a '#', when known)."""
        n = len(texts)
        topics = self.scorer.topics
        if topics.has_keywords:
            at, some = range(n), texts
        elif hashes is not None:
            at = np.nonzero(hashes)[0].tolist()
            some = list(map(texts.__getitem__, at))
        else:
            try:
                at = list(compress(range(n), map(contains, texts, repeat("#"))))
            except TypeError:  # a text that is not a string (only from producers that skip the contract)
                at = [i for i, t in enumerate(texts) if isinstance(t, str) and "#" in t]
            some = list(map(texts.__getitem__, at))
        memo = dict.fromkeys(some)
        for t in memo:
            memo[t] = topic_set_code(self.tsets, self.code_of, topics.match(t))
        out = np.zeros(n, dtype=np.int64)
        out[at] = np.fromiter(map(memo.__getitem__, some), dtype=np.int64, count=len(some))
        return out


def topic_set_code(tsets: list, code_of: dict, found: frozenset) -> int:
    """The code of a topic set among `tsets` (code_of: its inverse), a new one for a new set."""
    c = code_of.get(found)
    if c is None:
        c = code_of[found] = len(tsets)
        tsets.append(found)
    return c


def read_items(scorer, its: list) -> Fields:
    r = Reader(scorer)
    r.read(its)
    return r.fields()


def _columns(its: list):
    """The columns of _FIELDS, and the stored sentiments (None when no item has one). Each dict
    is read once for all its fields (a million dicts do not fit in any cache: reading them a
    field at a time missed it nine times per item), a slice of items at a time so that the tuples
    read are never many. A slice whose items have no sentiment key is read again for it."""
    get_all, get = itemgetter(*_FIELDS, "sentiment"), itemgetter(*_FIELDS)
    cols = [[] for _ in range(len(_FIELDS) + 1)]
    some = False
    try:
        for lo in range(0, len(its), _SLICE):
            part = its[lo: lo + _SLICE]
            try:
                got = zip(*map(get_all, part))
                some = True
            except KeyError:
                got = chain(zip(*map(get, part)), [list(map(_GET_SENTIMENT, part))])
            for col, values in zip(cols, got):
                col.extend(values)
    except KeyError:  # the stored form always has every key; other producers may not
        fields = _FIELDS + ("sentiment",)
        cols = [list(c) for c in zip(*([it.get(f) for f in fields] for it in its))] or [[] for _ in fields]
    stored = cols.pop()
    if not some and not any(v is not None for v in stored):
        stored = None
    return cols, stored


def epochs(ats) -> np.ndarray:
    """ISO `...Z` strings (or None) to epoch seconds (NaN for undated)."""
    ats = list(ats)
    out = np.full(len(ats), np.nan)
    dated = [i for i, a in enumerate(ats) if a] if None in ats or "" in ats else None
    texts = ats if dated is None else [ats[i] for i in dated]
    if not texts:
        return out
    fast = _canonical_epochs(texts)
    if fast is None:
        fast = [datetime.fromisoformat(a.replace("Z", "+00:00")).timestamp() for a in texts]
    if dated is None:
        out[:] = fast
    else:
        out[dated] = fast
    return out


def _canonical_epochs(texts: list):
    """The stored form is always `YYYY-MM-DDTHH:MM:SSZ` (items.parse_time): numpy's own ISO reader
    takes the first 19 characters in C. None if any text has another form."""
    try:
        raw = np.array(texts, dtype="S21")  # one byte more than the form, to catch longer texts
    except (UnicodeEncodeError, ValueError):
        return None
    b = raw.view(np.uint8).reshape(len(texts), 21)
    if not (np.all(b[:, 19] == ord("Z")) and np.all(b[:, 20] == 0) and np.all(b[:, 10] == ord("T"))):
        return None
    try:
        secs = np.ascontiguousarray(b[:, :19]).view("S19").ravel().astype("datetime64[s]")
    except ValueError:
        return None
    return secs.astype(np.int64).astype(np.float64)


def _sentiments(its: list, stored, texts: list, idx: np.ndarray):
    """Compound of the items at idx: the stored value when the server put one there (a finite
    number, clamped to VADER's range), else VADER once per distinct text. `stored`: every item's
    stored value, as a list (None where it has none) or, from the compiled reading, as floats
    (NaN where it has none); None when no item has one."""
    if stored is None:
        vals = np.full(len(idx), np.nan)
    elif isinstance(stored, np.ndarray):
        vals = stored[idx]
    else:
        picked = list(map(stored.__getitem__, idx.tolist()))
        if not set(map(type, picked)) <= {float, type(None)}:
            return [item_sentiment(its[i]) for i in idx.tolist()]
        vals = np.array(picked, dtype=np.float64)  # None becomes NaN
    out = np.clip(vals, -1.0, 1.0)
    todo = np.flatnonzero(~np.isfinite(vals))
    if len(todo):
        sp_texts = list(map(texts.__getitem__, (idx if len(todo) == len(idx) else idx[todo]).tolist()))
        memo = dict.fromkeys(sp_texts)
        for t in memo:
            memo[t] = compound(t)
        out[todo] = list(map(memo.__getitem__, sp_texts))
    return out


def _totals(reactions: list) -> np.ndarray:
    """Sum of each reactions dict's positive integer counts. Every count of every dict goes into
    one numpy array and is summed per dict there, when all are integers in the contract's range
    (as stored items' are); anything else is summed dict by dict."""
    try:
        flat = list(chain.from_iterable(map(dict.values, reactions)))
        if set(map(type, flat)) <= {int, bool}:
            vals = np.array(flat, dtype=np.int64)
            if not len(vals) or (vals.min() >= 0 and vals.max() <= 1 << 40):
                per = np.fromiter(map(len, reactions), dtype=np.int64, count=len(reactions))
                return np.bincount(np.repeat(np.arange(len(reactions)), per), weights=vals,
                                   minlength=len(reactions)).astype(np.float64)
    except (TypeError, OverflowError):
        pass
    return np.array(list(map(_total, reactions)), dtype=np.float64)


def _crowds(reactions: list) -> np.ndarray:
    """Each reactions dict's largest positive integer count (0 for none): one account gives one
    reaction of a kind, so that many accounts at least reacted, where a total may count one
    account's like, heart and rocket three times."""
    return np.array([max((v for v in r.values() if isinstance(v, int) and v > 0), default=0) for r in reactions],
                    dtype=np.float64)


def _units(totals: np.ndarray) -> np.ndarray:
    """Each item's reactions' weight from its total count (0 for none)."""
    units = np.zeros(len(totals))
    some = totals > 0
    units[some] = np.minimum(model.REACTION_ITEM_CAP, model.REACTION_UNIT * np.log2(1.0 + totals[some]))
    return units


def _total(reactions) -> int:
    if not reactions:
        return 0
    return sum(v for v in reactions.values() if isinstance(v, int) and v > 0)
