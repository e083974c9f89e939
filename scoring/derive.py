"""Batch derivation of interaction rows from items' fields (the rules are in interactions.py).

A million items go through here on a full rescore. Their fields were read out of their dicts
once (fields.py); here everything is numpy over those columns: finding parents, interning
identities, building and ordering the rows, inheriting topics.
"""
from __future__ import annotations

from itertools import repeat

import numpy as np

from . import model
from .columns import run_starts, unique_inverse
from .fields import topic_set_code
from .keyindex import item_key

try:
    from . import _idtable  # the same finding in C (setup.py builds it when it can)
except ImportError:
    _idtable = None

JOIN_MIN = 10_000  # batches at least this big find items by id in C or numpy (tests lower it)


class Ids:
    """The ids of a batch's items with their sites: finds an item of the batch by (site, id).

    A batch of JOIN_MIN items or more holds each id as a row of 64-bit words (the string's own
    characters, zero padded) with a hash of the row mixed with the site, sorted: finding a million
    parents is a sort and a search in numpy, and each match is confirmed by comparing every word,
    so it is exact. A dict of a million (site, id) keys and a million look-ups in it cost more
    (each chases pointers to strings scattered in memory). Ids that do not fit (not strings, a
    NUL, longer than MAX_CHARS characters) and small batches go through a dict. With the compiled
    table (_idtable.c) a batch of str ids goes into a hash table in C instead: three times faster
    than the words at a million items, and for ids of any length."""

    MAX_CHARS = 64

    def __init__(self, sites: list, ids: list, site_ids: np.ndarray):
        self.sites, self.ids, self.site_ids = sites, ids, site_ids
        self.rows = self.table = None
        self._dict = None
        # exact lists only: _idtable.build raises on any other (a list subclass too)
        if len(ids) >= JOIN_MIN and _idtable is not None and type(ids) is list:
            self.site32 = np.ascontiguousarray(site_ids, dtype=np.int32)
            self.table = np.full(1 << (2 * len(ids) - 1).bit_length(), -1, dtype=np.int64)
            self._repeated = _idtable.build(ids, self.site32, self.table)
            if self._repeated is None:
                self.table = None
        if len(ids) >= JOIN_MIN and self.table is None:
            self.rows, self.dtype, _ = _words(ids)
        if self.rows is not None:
            self.hash = _fold(self.rows, site_ids)
            self.order = np.argsort(self.hash)
            self.sorted = self.hash[self.order]

    def repeated(self) -> bool:
        """Whether some (site, id) appears more than once."""
        if self.table is not None:
            return self._repeated
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
        found = None
        if self.table is not None:
            found = np.empty(len(keys), dtype=np.int64)
            if not _idtable.find(self.ids, self.site32, self.table, keys, np.ascontiguousarray(key_sites, np.int32),
                                 found):
                found = None  # a key that is not a str: the dict decides
        elif self.rows is not None:
            found = self._find_rows(keys, key_sites)
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


def derive_batch(scorer, ids: Ids, item_idx: np.ndarray, f, alone: bool = False) -> Batch:
    """Rows for the items whose Fields are `f` (their ids and sites in `ids`, their item indexes
    `item_idx`). Parents outside the batch are read from the scorer's item columns, never from
    item dicts; `alone`: nothing else is stored (a first load), so a parent not in the batch is
    not stored."""
    n = len(f)
    parents = f.parents
    site_ids = ids.site_ids
    authors = scorer._intern_handles(site_ids, f.hcode, f.handle_of)

    # parent rows: a comment on a known post or comment. Parents in this batch (all of them on a
    # first load) are found by position; others through the scorer's item index and columns.
    is_comment = f.comment
    cand = np.nonzero(is_comment & f.has_parent)[0]
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
    m_item = np.repeat(np.arange(n, dtype=np.int64), f.m_count)
    m_target = scorer._intern_codes(f.m_code, f.mention_of)

    r_item = np.concatenate([pi, m_item])
    r_target = np.concatenate([p_target, m_target])
    r_kind = np.concatenate([p_kind, np.full(len(m_item), model.MENTION, dtype=np.int8)])
    ok = authors[r_item] != r_target
    if scorer._forgotten_ids:
        ok &= ~np.isin(r_target, np.fromiter(scorer._forgotten_ids, dtype=np.int64))
    r_item, r_target, r_kind = r_item[ok], r_target[ok], r_kind[ok]

    # reactions: one audience row per item with any
    units = f.units
    a_item = np.nonzero(units > 0)[0]

    # Every row in one sort of one int64 key: by item, then addressee (the audience row last),
    # then kind, so the first row of each (item, addressee) is its strongest kind and the only
    # one kept. (Items and identities both stay far below 2**29: the key cannot overflow.)
    nid = len(scorer._names)
    slot = nid + 1
    key = np.sort(np.concatenate([(r_item * slot + r_target) * 4 + r_kind,
                                  (a_item * slot + nid) * 4 + model.REACTION]))
    pair = key >> 2
    key = key[run_starts(pair)]
    pair = key >> 2
    it_sorted = pair // slot
    kind = (key & 3).astype(np.int8)
    is_aud = kind == model.REACTION
    who = authors[it_sorted]

    t_item, comp_item = f.t, f.comp
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
        "fp": np.where(is_aud, np.uint64(0), f.fp[it_sorted]),
        "crowd": np.where(is_aud, f.crowds[it_sorted], 0.0),
    }
    counts = np.bincount(it_sorted, minlength=n)
    own, tops = _topics(scorer, f, pos, out_parents)
    out = Batch()
    out.cols, out.counts, out.authors, out.topics, out.own = cols, counts, authors, tops, own
    out.parent, out.comment, out.orphans = parent_idx, is_comment, orphans
    return out


def _topics(scorer, f, pos: np.ndarray, out_parents: dict):
    """({position: topics of its own text}, {position: sorted topic ids, own and its parent's})
    for a batch, from each item's topic-set code (the per-item work is numpy over the codes)."""
    sets, code_of = f.tsets, f.code_of
    own_code = f.tcode
    on = np.nonzero(own_code)[0]
    own = dict(zip(on.tolist(), map(sets.__getitem__, own_code[on].tolist())))
    heir = np.where(pos >= 0, own_code[np.maximum(pos, 0)], 0)
    own_of = scorer._own_topics
    for i, p in out_parents.items():
        found = own_of.get(p)
        if found:
            heir[i] = topic_set_code(sets, code_of, found)
    both = own_code * len(sets) + heir
    on = np.nonzero(both)[0]
    combos, which = unique_inverse(both[on])
    k = len(sets)
    as_tuple = [tuple(sorted(sets[c // k] | sets[c % k])) for c in combos.tolist()]
    return own, dict(zip(on.tolist(), map(as_tuple.__getitem__, which.tolist())))
