"""Batch derivation of interaction rows from stored items (the rules are in interactions.py).

A million items go through here on a full rescore, so the per-item Python work is a handful of
list comprehensions; pairing items with parents, dropping self-interactions and de-duplicating
addressees is done with numpy.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np

from . import model
from .sentiment import item_sentiment


def epochs(ats: list) -> np.ndarray:
    """ISO `...Z` strings (or None) to epoch seconds (NaN for undated)."""
    out = np.full(len(ats), np.nan)
    dated = [i for i, a in enumerate(ats) if a]
    if not dated:
        return out
    texts = [ats[i] for i in dated]
    fast = _canonical_epochs(texts)
    if fast is not None:
        out[dated] = fast
        return out
    for i in dated:
        out[i] = datetime.fromisoformat(ats[i].replace("Z", "+00:00")).timestamp()
    return out


def _canonical_epochs(texts: list):
    """The stored form is always `YYYY-MM-DDTHH:MM:SSZ` (items.parse_time): read the digits with
    numpy (days from the civil date, Howard Hinnant's algorithm). None if any text differs."""
    try:
        raw = np.array(texts, dtype="S20")
    except (UnicodeEncodeError, ValueError):
        return None
    b = raw.view(np.uint8).reshape(len(texts), 20).astype(np.int64)
    if not (np.all(b[:, 19] == ord("Z")) and np.all(b[:, 10] == ord("T")) and np.all(b[:, 4] == ord("-"))
            and np.all(b[:, 7] == ord("-")) and np.all(b[:, 13] == ord(":")) and np.all(b[:, 16] == ord(":"))):
        return None
    d = b - ord("0")
    num = lambda lo, hi: sum(d[:, k] * 10 ** (hi - 1 - k) for k in range(lo, hi))
    y, m, day = num(0, 4), num(5, 7), num(8, 10)
    hh, mm, ss = num(11, 13), num(14, 16), num(17, 19)
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return (days * 86400 + hh * 3600 + mm * 60 + ss).astype(np.float64)


def derive_batch(scorer, keys: list, item_idx: np.ndarray):
    """Rows for the items `keys` (already stored in scorer._items). Returns (cols, rows per item,
    author ids, {position in keys: topic tuple}); rows are grouped by item, in the order of `keys`."""
    items = scorer._items
    its = [items[k] for k in keys]
    n = len(its)
    intern = scorer._intern_many
    sites = [k[0] for k in keys]
    authors = intern([s + ":" + it["author"]["handle"] for s, it in zip(sites, its)])
    site_ids = np.asarray(scorer._site_many(sites), dtype=np.int32)

    # parent rows: a comment on a known post or comment
    parents = [items.get((s, it["parent"])) if it["kind"] == "comment" and it["parent"] else None
               for s, it in zip(sites, its)]
    pi = [i for i, p in enumerate(parents) if p is not None]
    p_target = intern([sites[i] + ":" + parents[i]["author"]["handle"] for i in pi])
    p_kind = np.array([parents[i]["kind"] != "post" for i in pi], dtype=np.int8)  # COMMENT 0, REPLY 1
    pi = np.asarray(pi, dtype=np.int64)

    # mention rows
    m_item, m_names = [], []
    for i, it in enumerate(its):
        ms = it.get("mentions")
        if ms:
            for m in ms:
                m_item.append(i)
                m_names.append(sites[i] + ":" + m)
    m_target = intern(m_names)

    r_item = np.concatenate([pi, np.asarray(m_item, dtype=np.int64)])
    r_target = np.concatenate([np.asarray(p_target, dtype=np.int64), np.asarray(m_target, dtype=np.int64)])
    r_kind = np.concatenate([p_kind, np.full(len(m_item), model.MENTION, dtype=np.int8)])
    authors = np.asarray(authors, dtype=np.int64)
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
    totals = np.array([_total(it.get("reactions")) for it in its], dtype=np.float64)
    a_item = np.nonzero(totals > 0)[0]
    units = np.minimum(model.REACTION_ITEM_CAP, model.REACTION_UNIT * np.log2(1.0 + totals[a_item]))

    t_item = epochs([it.get("at") for it in its])
    speaking = np.zeros(n, dtype=bool)
    speaking[r_item] = True
    comp_item = np.zeros(n)
    sp_idx = np.nonzero(speaking)[0]
    comp_item[sp_idx] = [item_sentiment(its[i]) for i in sp_idx.tolist()]

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

    # topics: an item's own text, plus its parent's (cached by text; most texts have none)
    match = scorer.topics.match
    own = [match(it.get("text")) for it in its]
    inherited = [match(p.get("text")) if p is not None else None for p in parents]
    tops = {i: tuple(sorted(own[i] | inherited[i] if inherited[i] else own[i]))
            for i in [i for i in range(n) if own[i] or inherited[i]]}
    return cols, counts, authors, tops


def _total(reactions) -> int:
    if not reactions:
        return 0
    return sum(v for v in reactions.values() if isinstance(v, int) and v > 0)
