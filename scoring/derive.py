"""Batch derivation of interaction rows from stored items (the rules are in interactions.py).

A million items go through here on a full rescore. CPython pays for every bytecode run per item,
so each item is touched by C-level iteration only (itemgetter, map, zip, dict look-ups through
bound methods) to pull its fields into columns once; everything after that is numpy. Python-level
loops run only over the items that need them (mentions, reactions, hashtags, unseen texts).
"""
from __future__ import annotations

from datetime import datetime
from itertools import chain, compress, repeat
from operator import contains, itemgetter, methodcaller

import numpy as np

from . import model
from .keyindex import item_key
from .sentiment import compound, item_sentiment

JOIN_MIN = 10_000  # batches at least this big find items by id in numpy (tests lower it)
_FIELDS = ("kind", "parent", "author", "at", "text", "mentions", "reactions")
_GET_HANDLE = itemgetter("handle")
_GET_SENTIMENT = methodcaller("get", "sentiment")


def _fields(its: list) -> list:
    """The columns of _FIELDS. The stored form always has every key; other producers may not."""
    try:
        # a column at a time: one list per field, no million intermediate tuples
        return [list(map(itemgetter(f), its)) for f in _FIELDS]
    except KeyError:
        return list(zip(*([it.get(f) for f in _FIELDS] for it in its)))


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


def _sentiments(its: list, texts: list, idx: list) -> list:
    """Compound of the items at idx: the stored value when the server put one there, else VADER
    once per distinct text."""
    stored = list(map(_GET_SENTIMENT, map(its.__getitem__, idx)))
    kinds = set(map(type, stored))
    if kinds <= {type(None)}:
        sp_texts = list(map(texts.__getitem__, idx))
        memo = dict.fromkeys(sp_texts)
        for t in memo:
            memo[t] = compound(t)
        return list(map(memo.__getitem__, sp_texts))
    if kinds <= {float}:
        vals = np.clip(np.array(stored, dtype=np.float64), -1.0, 1.0)
        bad = np.nonzero(~np.isfinite(vals))[0]
        for j in bad.tolist():
            vals[j] = compound(texts[idx[j]])
        return vals
    return [item_sentiment(its[i]) for i in idx]


class Ids:
    """The ids of a batch's items with their sites: finds an item of the batch by (site, id).

    A batch of JOIN_MIN items or more holds each id as a row of 64-bit words (the string's own
    characters, zero padded) with a hash of the row mixed with the site, sorted: finding a million
    parents is a sort and a search in numpy, and each match is confirmed by comparing every word,
    so it is exact. A dict of a million (site, id) keys and a million look-ups in it cost more
    (each chases pointers to strings scattered in memory). Ids that do not fit (not strings, a
    NUL, longer than MAX_CHARS characters) and small batches go through a dict."""

    MAX_CHARS = 64

    def __init__(self, sites: list, ids: list, site_ids: np.ndarray):
        self.sites, self.ids, self.site_ids = sites, ids, site_ids
        self.rows = None
        self._dict = None
        if len(ids) >= JOIN_MIN:
            self.rows, self.dtype, _ = _words(ids)
        if self.rows is not None:
            self.hash = _fold(self.rows, site_ids)
            self.order = np.argsort(self.hash)
            self.sorted = self.hash[self.order]

    def repeated(self) -> bool:
        """Whether some (site, id) appears more than once."""
        if self.rows is None:
            return len(self._by_key()) < len(self.ids)
        same = np.nonzero(self.sorted[1:] == self.sorted[:-1])[0]
        a, b = self.order[same], self.order[same + 1]
        equal = (self.site_ids[a] == self.site_ids[b]) & (self.rows[a] == self.rows[b]).all(axis=1)
        if equal.any():
            return True
        # ids that share a hash without being equal: then the copies of an id need not be
        # neighbours in hash order, so the dict decides
        return bool(len(equal)) and len(self._by_key()) < len(self.ids)

    def find(self, keys: list, key_sites: np.ndarray) -> np.ndarray:
        """Position of each (key_sites[j], keys[j]) in the batch, -1 where it is not there."""
        if not keys:
            return np.zeros(0, dtype=np.int64)
        found = self._find_rows(keys, key_sites) if self.rows is not None else None
        if found is None:
            where = self._by_key()
            found = np.fromiter(map(where.get, zip(key_sites.tolist(), keys), repeat(-1)),
                                dtype=np.int64, count=len(keys))
        return found

    def _by_key(self) -> dict:
        if self._dict is None:
            self._dict = dict(zip(zip(self.site_ids.tolist(), self.ids), range(len(self.ids))))
        return self._dict

    def _find_rows(self, keys: list, key_sites: np.ndarray):
        rows, _, fits = _words(keys, self.dtype)
        if rows is None:
            return None  # a key with a NUL or in a script none of the ids uses: the dict decides
        h = _fold(rows, key_sites)
        q = np.argsort(h)  # searched in sorted order: searches in random order miss the cache
        at = np.empty(len(h), dtype=np.int64)
        at[q] = np.searchsorted(self.sorted, h[q])
        at = np.minimum(at, len(self.sorted) - 1)
        j = self.order[at]
        hit = (self.sorted[at] == h) & fits
        same = hit & (self.site_ids[j] == key_sites) & (self.rows[j] == rows).all(axis=1)
        if np.any(hit & ~same):
            return None  # two different keys with one hash: the dict decides
        return np.where(same, j, -1)


def _words(strings: list, dtype: str | None = None):
    """(each string as a row of 64-bit words, their numpy string type, whether each fits) or
    Nones when they cannot be held so. With dtype (the ids' type), a string longer than it holds
    cannot be an id: it does not fit, and its row is left empty."""
    try:
        joined = "".join(strings)
    except TypeError:
        return None, None, None
    if "\x00" in joined:
        return None, None, None  # zero padding would make "a" and "a\x00" one row
    longest = max(map(len, strings))
    if dtype is None:
        if longest > Ids.MAX_CHARS:
            return None, None, None
        if joined.isascii():
            dtype = f"S{max(8, -(-longest // 8) * 8)}"
        else:
            dtype = f"U{max(2, -(-longest // 2) * 2)}"
    elif dtype[0] == "S" and not joined.isascii():
        return None, None, None
    size = int(dtype[1:])
    fits = np.ones(len(strings), dtype=bool)
    if longest > size:
        fits = np.fromiter(map(size.__ge__, map(len, strings)), dtype=bool, count=len(strings))
        strings = [x if len(x) <= size else "" for x in strings]
    arr = np.array(strings, dtype=dtype)
    return arr.view(np.uint64).reshape(len(strings), -1), dtype, fits


def _fold(rows: np.ndarray, site_ids: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of words and its site (a multiply-xorshift mix per word)."""
    h = site_ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for k in range(rows.shape[1]):
        h = (h ^ rows[:, k]) * np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(31)
    return h


class Batch:
    """What derive_batch gives for a batch of items: `cols` (the rows, grouped by item in batch
    order), `counts` (rows per item), `authors` (author ids), `topics` ({position: topic ids, own
    and inherited}), `own` ({position: topics of its own text}), `parent` (item index of each
    item's parent, -1 when it has none stored), `comment` (is it a comment) and `orphans`
    (positions of comments whose parent is not stored yet)."""


def derive_batch(scorer, ids: Ids, item_idx: np.ndarray, its: list, alone: bool = False) -> Batch:
    """Rows for the items `its` (their ids and sites in `ids`, their item indexes `item_idx`).
    Parents outside the batch are read from the scorer's item columns, never from item dicts;
    `alone`: nothing else is stored (a first load), so a parent not in the batch is not stored."""
    n = len(its)
    kinds, parents, authors_d, ats, texts, mentions, reactions = _fields(its)
    site_ids = ids.site_ids
    authors = scorer._intern_handles(site_ids, list(map(_GET_HANDLE, authors_d)))

    # parent rows: a comment on a known post or comment. Parents in this batch (all of them on a
    # first load) are found by position; others through the scorer's item index and columns.
    is_comment = np.fromiter(map("comment".__eq__, kinds), dtype=bool, count=n)
    has_parent = np.zeros(n, dtype=bool)
    has_parent[list(compress(range(n), parents))] = True
    cand = np.nonzero(is_comment & has_parent)[0]
    pos = np.full(n, -1, dtype=np.int64)
    pos[cand] = ids.find(list(map(parents.__getitem__, cand.tolist())), site_ids[cand])
    parent_idx = np.where(pos >= 0, item_idx[np.maximum(pos, 0)], -1)
    outside = cand[pos[cand] < 0]
    pi = np.nonzero(pos >= 0)[0]
    p_target = authors[pos[pi]]
    p_kind = is_comment[pos[pi]].astype(np.int8)  # COMMENT 0 (on a post), REPLY 1 (on a comment)
    out_parents = {}  # position -> item index of a parent outside the batch
    orphans = outside.tolist() if alone else []  # comments whose parent is not stored (yet)
    sites = ids.sites
    if len(outside) and not alone:
        alive = scorer._item.author
        o_i = []
        outside = outside.tolist()
        found = scorer._item_idx.get_many([item_key(sites[i], parents[i]) for i in outside])
        for i, p in zip(outside, found):
            if p is None or alive[p] < 0:
                orphans.append(i)
            else:
                out_parents[i] = p
                o_i.append(i)
        if o_i:
            o_idx = np.fromiter(map(out_parents.__getitem__, o_i), dtype=np.int64, count=len(o_i))
            parent_idx[o_i] = o_idx
            pi = np.concatenate([pi, np.asarray(o_i, dtype=np.int64)])
            p_target = np.concatenate([p_target, scorer._item.author[o_idx].astype(np.int64)])
            p_kind = np.concatenate([p_kind, scorer._item.kind[o_idx].astype(np.int8)])

    # mention rows
    m_at = list(compress(range(n), mentions))
    m_names = [sites[i] + ":" + m for i in m_at for m in mentions[i]]
    m_item = np.repeat(np.asarray(m_at, dtype=np.int64),
                       np.fromiter(map(len, map(mentions.__getitem__, m_at)), dtype=np.int64, count=len(m_at)))
    m_target = scorer._intern_array(m_names)

    r_item = np.concatenate([pi, m_item])
    r_target = np.concatenate([p_target, m_target])
    r_kind = np.concatenate([p_kind, np.full(len(m_item), model.MENTION, dtype=np.int8)])
    ok = authors[r_item] != r_target
    if scorer._forgotten_ids:
        ok &= ~np.isin(r_target, np.fromiter(scorer._forgotten_ids, dtype=np.int64))
    r_item, r_target, r_kind = r_item[ok], r_target[ok], r_kind[ok]

    # reactions: one audience row per item with any
    a_list = list(compress(range(n), reactions))
    totals = _totals(list(map(reactions.__getitem__, a_list)))
    a_item = np.asarray(a_list, dtype=np.int64)[totals > 0]
    units = np.zeros(n)
    units[a_item] = np.minimum(model.REACTION_ITEM_CAP, model.REACTION_UNIT * np.log2(1.0 + totals[totals > 0]))

    # Every row in one sort of one int64 key: by item, then addressee (the audience row last),
    # then kind, so the first row of each (item, addressee) is its strongest kind and the only
    # one kept. (Items and identities both stay far below 2**29: the key cannot overflow.)
    nid = len(scorer._names)
    slot = nid + 1
    key = np.sort(np.concatenate([(r_item * slot + r_target) * 4 + r_kind,
                                  (a_item * slot + nid) * 4 + model.REACTION]))
    pair = key >> 2
    key = key[np.concatenate(([True], pair[1:] != pair[:-1]))] if len(key) else key
    pair = key >> 2
    it_sorted = pair // slot
    kind = (key & 3).astype(np.int8)
    is_aud = kind == model.REACTION
    who = authors[it_sorted]

    t_item = epochs(ats)
    person_items = it_sorted[~is_aud]
    sp_idx = person_items[np.concatenate(([True], person_items[1:] != person_items[:-1]))] \
        if len(person_items) else person_items
    comp_item = np.zeros(n)
    comp_item[sp_idx] = _sentiments(its, texts, sp_idx.tolist())

    cols = {
        "actor": np.where(is_aud, 0, who),
        "target": np.where(is_aud, who, pair % slot),
        "kind": kind,
        "amount": np.where(is_aud, units[it_sorted], 0.0),
        "site": site_ids[it_sorted],
        "t": t_item[it_sorted],
        "comp": np.where(is_aud, 0.0, comp_item[it_sorted]),
        "item": item_idx[it_sorted],
        "valid": np.ones(len(key), dtype=bool),
    }
    counts = np.bincount(it_sorted, minlength=n)
    own, tops = _topics(scorer, texts, pos, out_parents)
    out = Batch()
    out.cols, out.counts, out.authors, out.topics, out.own = cols, counts, authors, tops, own
    out.parent, out.comment, out.orphans = parent_idx, is_comment, orphans
    return out


def _topics(scorer, texts: list, pos: np.ndarray, out_parents: dict):
    """({position: topics of its own text}, {position: sorted topic ids, own and its parent's})
    for a batch. Topic sets are few and shared: each distinct set gets a code once, and the
    per-item work is numpy over the codes. With no user topics only hashtags can match, and a
    text without '#' has none: most texts are never matched."""
    n = len(texts)
    match = scorer.topics.match
    if scorer.topics.has_keywords:
        at, some = range(n), texts
    else:
        try:
            at = list(compress(range(n), map(contains, texts, repeat("#"))))
        except TypeError:  # a text that is not a string (only from producers that skip the contract)
            at = [i for i, t in enumerate(texts) if isinstance(t, str) and "#" in t]
        some = list(map(texts.__getitem__, at))
    sets = [frozenset()]
    code_of = {sets[0]: 0}

    def code(found) -> int:
        c = code_of.get(found)
        if c is None:
            c = code_of[found] = len(sets)
            sets.append(found)
        return c

    memo = dict.fromkeys(some)
    for t in memo:
        memo[t] = code(match(t))
    own_code = np.zeros(n, dtype=np.int64)
    own_code[at] = np.fromiter(map(memo.__getitem__, some), dtype=np.int64, count=len(some))
    on = np.nonzero(own_code)[0]
    own = dict(zip(on.tolist(), map(sets.__getitem__, own_code[on].tolist())))
    heir = np.where(pos >= 0, own_code[np.maximum(pos, 0)], 0)
    own_of = scorer._own_topics
    for i, p in out_parents.items():
        found = own_of.get(p)
        if found:
            heir[i] = code(found)
    both = own_code * len(sets) + heir
    on = np.nonzero(both)[0]
    combos, which = np.unique(both[on], return_inverse=True)
    k = len(sets)
    as_tuple = [tuple(sorted(sets[c // k] | sets[c % k])) for c in combos.tolist()]
    return own, dict(zip(on.tolist(), map(as_tuple.__getitem__, which.tolist())))


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


def _total(reactions) -> int:
    if not reactions:
        return 0
    return sum(v for v in reactions.values() if isinstance(v, int) and v > 0)
