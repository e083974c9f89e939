"""Batch derivation of interaction rows from stored items (the rules are in interactions.py).

A million items go through here on a full rescore. CPython pays for every bytecode run per item,
so each item is touched by C-level iteration only (itemgetter, map, zip, dict look-ups through
bound methods) to pull its fields into columns once; everything after that is numpy. Python-level
loops run only over the items that need them (mentions, reactions, hashtags, unseen texts).
"""
from __future__ import annotations

from datetime import datetime
from itertools import compress, repeat
from operator import eq, itemgetter, methodcaller

import numpy as np

from . import model
from .sentiment import compound, item_sentiment

JOIN_MIN = 50_000  # batches at least this big find parents by a hash join (tests lower it)
_FIELDS = ("kind", "parent", "author", "at", "text", "mentions", "reactions")
_GET_HANDLE = itemgetter("handle")
_GET_ID = itemgetter("id")
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


def _batch_parents(scorer, its, sites, site_ids, parents, is_comment, item_idx) -> np.ndarray:
    """Position in this batch of each comment's parent, -1 when it is not in the batch."""
    n = len(its)
    pos = np.full(n, -1, dtype=np.int64)
    if n < JOIN_MIN:
        # few items: the store's index, then the batch position of what it names
        glob = np.fromiter(map(scorer._item_idx.get, zip(sites, parents), repeat(-1)), dtype=np.int64, count=n)
        cand = np.nonzero(is_comment & (glob >= 0))[0]
        srt = np.argsort(item_idx, kind="stable")
        at = np.minimum(np.searchsorted(item_idx[srt], glob[cand]), n - 1)
        hit = item_idx[srt][at] == glob[cand]
        pos[cand[hit]] = srt[at[hit]]
        return pos
    # many items: a join on (site, string hash) in numpy, each match confirmed by comparing the
    # ids themselves (a hash collision only sends that comment to the store look-up). Random
    # look-ups in a dict of a million tuple keys cost several times this.
    ids = list(map(_GET_ID, its))
    mix = site_ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    h_id = np.fromiter(map(hash, ids), dtype=np.int64, count=n).view(np.uint64) ^ mix
    cand = np.nonzero(is_comment)[0]
    c_par = [parents[i] for i in cand.tolist()]
    h_par = np.fromiter(map(hash, c_par), dtype=np.int64, count=len(c_par)).view(np.uint64) ^ mix[cand]
    srt = np.argsort(h_id, kind="stable")
    at = np.minimum(np.searchsorted(h_id[srt], h_par), n - 1)
    j = srt[at]
    hit = (h_id[j] == h_par) & (site_ids[j] == site_ids[cand])
    hj = j[hit]
    same = np.fromiter(map(eq, map(ids.__getitem__, hj.tolist()), compress(c_par, hit.tolist())),
                       dtype=bool, count=len(hj)) if len(hj) else np.zeros(0, dtype=bool)
    pos[cand[hit][same]] = hj[same]
    return pos


class Batch:
    """What derive_batch gives for a batch of items: `cols` (the rows, grouped by item in batch
    order), `counts` (rows per item), `authors` (author ids), `topics` ({position: topic ids, own
    and inherited}), `own` ({position: topics of its own text}), `parent` (item index of each
    item's parent, -1 when it has none stored), `comment` (is it a comment) and `orphans`
    (positions of comments whose parent is not stored yet)."""


def derive_batch(scorer, keys: list, item_idx: np.ndarray, its: list) -> Batch:
    """Rows for the items `its` (whose keys are `keys` and item indexes `item_idx`). Parents
    outside the batch are read from the scorer's item columns, never from item dicts."""
    n = len(its)
    kinds, parents, authors_d, ats, texts, mentions, reactions = _fields(its)
    sites = list(map(itemgetter(0), keys))
    site_ids = scorer._site_array(sites)
    authors = scorer._intern_handles(site_ids, list(map(_GET_HANDLE, authors_d)))

    # parent rows: a comment on a known post or comment. Parents in this batch (all of them on a
    # first load) are found by position; others through the scorer's item index and columns.
    is_comment = np.fromiter(map("comment".__eq__, kinds), dtype=bool, count=n)
    pos = _batch_parents(scorer, its, sites, site_ids, parents, is_comment, item_idx)
    parent_idx = np.where(pos >= 0, item_idx[np.maximum(pos, 0)], -1)
    outside = np.nonzero(is_comment & (pos < 0))[0]
    pi = np.nonzero(pos >= 0)[0]
    p_target = authors[pos[pi]]
    p_kind = is_comment[pos[pi]].astype(np.int8)  # COMMENT 0 (on a post), REPLY 1 (on a comment)
    out_parents = {}  # position -> item index of a parent outside the batch
    orphans = []  # comments whose parent is not stored (yet): re-derived when it arrives
    if len(outside):
        get = scorer._item_idx.get
        alive = scorer._item.author
        o_i = []
        for i in outside.tolist():
            p = get((sites[i], parents[i])) if parents[i] else None
            if p is None or alive[p] < 0:
                if parents[i]:
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
    m_at = [i for i, ms in enumerate(mentions) if ms]
    m_names = [sites[i] + ":" + m for i in m_at for m in mentions[i]]
    m_item = np.repeat(np.asarray(m_at, dtype=np.int64),
                       np.fromiter(map(len, map(mentions.__getitem__, m_at)), dtype=np.int64, count=len(m_at)))
    m_target = scorer._intern_array(m_names)

    r_item = np.concatenate([pi, np.asarray(m_item, dtype=np.int64)])
    r_target = np.concatenate([p_target, m_target])
    r_kind = np.concatenate([p_kind, np.full(len(m_item), model.MENTION, dtype=np.int8)])
    r_actor = authors[r_item]
    ok = r_actor != r_target
    if scorer._forgotten_ids:
        ok &= ~np.isin(r_target, np.fromiter(scorer._forgotten_ids, dtype=np.int64))
    r_item, r_target, r_kind, r_actor = r_item[ok], r_target[ok], r_kind[ok], r_actor[ok]
    # one row per (item, addressee), the strongest kind (lowest code) winning
    order = np.lexsort((r_kind, r_target, r_item))
    r_item, r_target, r_kind, r_actor = r_item[order], r_target[order], r_kind[order], r_actor[order]
    first = np.ones(len(r_item), dtype=bool)
    first[1:] = (r_item[1:] != r_item[:-1]) | (r_target[1:] != r_target[:-1])
    r_item, r_target, r_kind, r_actor = r_item[first], r_target[first], r_kind[first], r_actor[first]

    # reactions: one audience row per item with any
    a_list = [i for i, r in enumerate(reactions) if r]
    totals = _totals([reactions[i] for i in a_list])
    a_item = np.asarray(a_list, dtype=np.int64)[totals > 0]
    units = np.minimum(model.REACTION_ITEM_CAP, model.REACTION_UNIT * np.log2(1.0 + totals[totals > 0]))

    t_item = epochs(ats)
    sp_idx = r_item[np.concatenate(([True], r_item[1:] != r_item[:-1]))] if len(r_item) else r_item  # sorted
    comp_item = np.zeros(n)
    comp_item[sp_idx] = _sentiments(its, texts, sp_idx.tolist())

    all_item = np.concatenate([r_item, a_item])
    order = np.argsort(all_item, kind="stable")
    n_person = len(r_item)
    is_aud = order >= n_person
    cols = {
        "actor": np.concatenate([r_actor, np.zeros(len(a_item), dtype=np.int64)])[order],
        "target": np.concatenate([r_target, authors[a_item]])[order],
        "kind": np.concatenate([r_kind, np.full(len(a_item), model.REACTION, dtype=np.int8)])[order],
        "amount": np.concatenate([np.zeros(n_person), units])[order],
    }
    it_sorted = all_item[order]
    cols["site"] = site_ids[it_sorted]
    cols["t"] = t_item[it_sorted]
    cols["comp"] = np.where(is_aud, 0.0, comp_item[it_sorted])
    cols["item"] = item_idx[it_sorted]
    cols["valid"] = np.ones(len(order), dtype=bool)
    counts = np.bincount(it_sorted, minlength=n)

    # topics: an item's own text, plus its parent's. With no user topics only hashtags can match,
    # and a text without '#' has none: most texts are skipped without a call.
    match = scorer.topics.match
    if scorer.topics.has_keywords:
        memo = dict.fromkeys(texts)
        for t in memo:
            memo[t] = match(t)
        own = {i: f for i, f in enumerate(map(memo.__getitem__, texts)) if f}
    else:
        tagged = [i for i, t in enumerate(texts) if t and "#" in t]
        memo = dict.fromkeys(map(texts.__getitem__, tagged))
        for t in memo:
            memo[t] = match(t)
        own = {i: f for i, f in zip(tagged, map(memo.__getitem__, map(texts.__getitem__, tagged))) if f}
    tops = {}
    if own or out_parents:
        inherit = {}
        if own:
            on_topic = np.zeros(n, dtype=bool)
            on_topic[list(own)] = True
            heirs = np.nonzero((pos >= 0) & on_topic[np.maximum(pos, 0)])[0]
            for i, p in zip(heirs.tolist(), pos[heirs].tolist()):
                inherit[i] = own[p]
        own_of = scorer._own_topics
        for i, p in out_parents.items():
            f = own_of.get(p)
            if f:
                inherit[i] = f
        empty = frozenset()
        as_tuple: dict = {}  # few distinct topic sets: sort each once
        for i in sorted(set(own) | set(inherit)):
            pair = (own.get(i, empty), inherit.get(i, empty))
            t = as_tuple.get(pair)
            if t is None:
                t = as_tuple[pair] = tuple(sorted(pair[0] | pair[1]))
            tops[i] = t
    out = Batch()
    out.cols, out.counts, out.authors, out.topics, out.own = cols, counts, authors, tops, own
    out.parent, out.comment, out.orphans = parent_idx, is_comment, orphans
    return out


def _totals(reactions: list) -> np.ndarray:
    """Sum of each reactions dict's positive integer counts; sum() and min() run in C when every
    count is a valid integer, which the contract guarantees for stored items."""
    vals = list(map(methodcaller("values"), reactions))
    try:
        sums = list(map(sum, vals))
        valid = set(map(type, sums)) <= {int} and min(map(min, vals), default=0) >= 0
    except TypeError:
        valid = False
    if not valid:
        sums = list(map(_total, reactions))
    return np.array(sums, dtype=np.float64)


def _total(reactions) -> int:
    if not reactions:
        return 0
    return sum(v for v in reactions.values() if isinstance(v, int) and v > 0)
