"""The Scorer: stored items in, scores with explanations out. See the package docstring for the API
and docs/scoring.md for the model.

Layout. Interactions live in growable numpy columns, one row per (item, addressee) plus one
audience row per item with reactions. Replacing an item tombstones its rows and appends new ones.
Rows are grouped once (pairs, actor-days, target-days, topic pairs) and the groups are extended,
not rebuilt, when rows are appended. A read at time `at` recomputes every weight with a pass of
bincounts over those groups and re-runs PageRank warm-started from the previous vector, so an
update after a capture costs a few sparse products, not a rebuild.
"""
from __future__ import annotations

import gc
import itertools
import math
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from operator import itemgetter

import numpy as np
import scipy.sparse as sp

from . import model
from .derive import derive_batch
from .interactions import AUDIENCE
from .topics import TopicIndex

# identity and item ids fit in 32 bits (keys built from them are computed in 64)
_COLS = (("actor", np.int32), ("target", np.int32), ("kind", np.int8), ("site", np.int32),
         ("t", np.float64), ("comp", np.float64), ("amount", np.float64), ("item", np.int32),
         ("valid", np.bool_))
_GET_SITE, _GET_ID = itemgetter("site"), itemgetter("id")
_DAYS = 1 << 20  # day slots per identity in group keys (days since 1970 stay far below)
_KEY = 1 << 31   # identity slots in pair keys: actor * _KEY + target


@contextmanager
def _no_gc():
    # a million small dicts make the cyclic GC rescan everything over and over; nothing here
    # creates cycles
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class _Rows:
    def __init__(self, capacity: int = 1024):
        self.n = 0
        self.cap = capacity
        for name, dt in _COLS:
            setattr(self, name, np.zeros(capacity, dtype=dt))

    def append(self, cols: dict) -> int:
        k = len(cols["actor"])
        if self.n + k > self.cap:
            new_cap = max(self.cap * 2, self.n + k)
            for name, dt in _COLS:
                arr = np.zeros(new_cap, dtype=dt)
                arr[: self.n] = getattr(self, name)[: self.n]
                setattr(self, name, arr)
            self.cap = new_cap
        start = self.n
        for name, dt in _COLS:
            getattr(self, name)[start: start + k] = cols[name]
        self.n += k
        return start


def _distinct(x: np.ndarray) -> np.ndarray:
    """np.unique(x) by sorting: numpy's own np.unique without return_inverse takes a hash-table
    path that is about ten times slower on a million integers."""
    x = np.sort(x)
    return x[np.concatenate(([True], x[1:] != x[:-1]))] if len(x) else x


def _append(owner, name: str, values) -> None:
    """owner.name += values, amortised: the array is a view of a larger buffer, so an update that
    appends a few rows copies a few rows, not the million before them."""
    bufs = owner.__dict__.setdefault("_bufs", {})
    cur = getattr(owner, name)
    n, k = len(cur), len(values)
    buf = bufs.get(name)
    vdt = np.asarray(values).dtype
    dtype = cur.dtype if vdt.kind == cur.dtype.kind else np.result_type(cur.dtype, vdt)
    if buf is None or cur.base is not buf or len(buf) < n + k or buf.dtype != dtype:
        buf = np.empty(max(n + k, 2 * n, 1024), dtype=dtype)
        buf[:n] = cur
        bufs[name] = buf
    buf[n: n + k] = values
    setattr(owner, name, buf[: n + k])


class _ItemCols:
    """Per stored item, by item index: its first row, how many rows (0: none or killed) and its
    author (-1 when the item is gone)."""

    def __init__(self):
        self.n = 0
        self.start = np.zeros(0, dtype=np.int64)
        self.count = np.zeros(0, dtype=np.int32)
        self.author = np.zeros(0, dtype=np.int32)

    def grow(self, k: int) -> None:
        if self.n + k > len(self.start):
            cap = max(self.n + k, 2 * len(self.start), 1024)
            for name, fill in (("start", 0), ("count", 0), ("author", -1)):
                old = getattr(self, name)
                new = np.full(cap, fill, dtype=old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        self.n += k


class _Groups:
    """Ids for int64 keys: a sorted main array (from np.unique) plus keys added since."""

    def __init__(self, keys: np.ndarray):
        self.main, inv = np.unique(keys, return_inverse=True)
        self.inv = inv.astype(np.int32)
        self.extra: dict[int, int] = {}
        self.extra_keys: list[int] = []

    def __len__(self):
        return len(self.main) + len(self.extra_keys)

    def ids(self, keys: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self.main, keys)
        posc = np.minimum(pos, max(len(self.main) - 1, 0))
        found = (pos < len(self.main)) & (self.main[posc] == keys) if len(self.main) else np.zeros(len(keys), bool)
        out = np.where(found, posc, -1).astype(np.int32)
        for j in np.nonzero(~found)[0].tolist():
            k = int(keys[j])
            g = self.extra.get(k)
            if g is None:
                g = self.extra[k] = len(self.main) + len(self.extra_keys)
                self.extra_keys.append(k)
            out[j] = g
        return out

    def keys(self) -> np.ndarray:
        if not self.extra_keys:
            return self.main
        return np.concatenate([self.main, np.asarray(self.extra_keys, dtype=np.int64)])


def parse_at(at) -> float:
    """Epoch seconds. Default: now, rounded up to the next whole minute, so repeated reads within a
    minute share one computation (nothing in a 90-day model moves visibly within a minute) and
    an item captured a second ago is already in the past (property 14)."""
    if at is None:
        now = datetime.now(timezone.utc).timestamp()
        return math.ceil(now / 60.0) * 60.0
    if isinstance(at, str):
        at = datetime.fromisoformat(at.strip().replace("Z", "+00:00"))
    if isinstance(at, datetime):
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        return at.timestamp()
    return float(at)


class Scorer:
    def __init__(self, settings: dict | None = None):
        self._items: dict[tuple[str, str], dict] = {}
        self._item_idx: dict[tuple[str, str], int] = {}
        self._item_keys: list[tuple[str, str]] = []
        self._item = _ItemCols()
        self._item_topics: dict[int, tuple] = {}
        self._children: dict[tuple[str, str], set] | None = None  # built on first need
        self._ids: dict[str, int] = {AUDIENCE: 0}
        self._names: list[str] = [AUDIENCE]
        self._rank = None
        self._authored = np.zeros(1024, dtype=np.int64)
        self._sites: dict[str, int] = {}
        self._site_names: list[str] = []
        self._forgotten_ids: set[int] = set()
        self._rows = _Rows()
        self._killed: list[np.ndarray] = []  # rows tombstoned since the last computation
        self._struct = None
        self._pr = None  # last PageRank vector by identity index: the warm start
        self._state = None
        self._state_at = None
        self.settings = {}
        self.links = {}
        self.set_settings(settings)

    # ---------------------------------------------------------------- settings

    def set_settings(self, settings: dict | None) -> None:
        settings = dict(settings or {})
        old_links, old_topics = self.links, self.settings.get("topics")
        self.settings = settings
        self.site_weights = {str(k).lower(): float(v) for k, v in (settings.get("site_weights") or {}).items()}
        self.horizon = float(settings.get("horizon_days") or model.HORIZON_DAYS)
        self.links = {str(k).lower(): str(v).lower() for k, v in (settings.get("links") or {}).items()}
        self._intern_many(sorted(set(self.links) | set(self.links.values())))
        if not hasattr(self, "topics") or old_topics != settings.get("topics"):
            self.topics = TopicIndex(settings.get("topics") or {})
            self._item_topics = {}
            for key, idx in self._item_idx.items():
                item = self._items.get(key)
                if item is not None:
                    parent = self._items.get((key[0], item["parent"])) if item.get("parent") else None
                    found = self.topics.item_topics(item, parent)
                    if found:
                        self._item_topics[idx] = found
            self._struct = None
        if old_links != self.links:
            self._struct = None
        self._state = None

    # ---------------------------------------------------------------- interning

    def _intern_many(self, names) -> list[int]:
        ids, nm = self._ids, self._names
        names = list(names)
        new = [k for k in dict.fromkeys(names) if k not in ids]
        if new:
            ids.update(zip(new, range(len(nm), len(nm) + len(new))))
            nm.extend(new)
        out = list(map(ids.__getitem__, names))
        if len(nm) > len(self._authored):
            grown = np.zeros(max(len(nm), 2 * len(self._authored)), dtype=np.int64)
            grown[: len(self._authored)] = self._authored
            self._authored = grown
        return out

    def _intern_array(self, names: list) -> np.ndarray:
        """Ids of many names with one dict operation per name, at C speed: each name maps to the
        position of its first appearance, numpy makes those dense, and only the distinct names
        meet the scorer's table (new ones in order of first appearance, so ids never depend on
        hashing)."""
        if not names:
            return np.zeros(0, dtype=np.int64)
        first_seen: dict = {}
        first = np.fromiter(map(first_seen.setdefault, names, itertools.count()), dtype=np.int64, count=len(names))
        uniq, inv = np.unique(first, return_inverse=True)
        gid = np.asarray(self._intern_many(list(map(names.__getitem__, uniq.tolist()))), dtype=np.int64)
        return gid[inv]

    def _site_array(self, sites: list) -> np.ndarray:
        try:  # a handful of sites, nearly always known already: one pass
            return np.fromiter(map(self._sites.__getitem__, sites), dtype=np.int32, count=len(sites))
        except KeyError:
            self._site_many(dict.fromkeys(sites))
            return np.fromiter(map(self._sites.__getitem__, sites), dtype=np.int32, count=len(sites))

    def _name_rank(self) -> np.ndarray:
        """Each identity's position in name order (ties in a ranking go by name), kept until new
        names arrive."""
        nm = self._names
        if self._rank is None or len(self._rank) != len(nm):
            rank = np.empty(len(nm), dtype=np.int64)
            rank[sorted(range(len(nm)), key=nm.__getitem__)] = np.arange(len(nm))
            self._rank = rank
        return self._rank

    def _site_many(self, sites) -> list[int]:
        out = []
        for site in sites:
            i = self._sites.get(site)
            if i is None:
                i = self._sites[site] = len(self._site_names)
                self._site_names.append(site)
            out.append(i)
        return out

    # ---------------------------------------------------------------- updates

    def _children_index(self) -> dict:
        if self._children is None:
            ch: dict[tuple[str, str], set] = {}
            for key, it in self._items.items():
                if it.get("parent"):
                    ch.setdefault((key[0], it["parent"]), set()).add(key)
            self._children = ch
        return self._children

    def add(self, items) -> set[str]:
        with _no_gc():
            return self._add(items)

    def _add(self, items) -> set[str]:
        store = self._items
        was_empty = not store
        if was_empty:
            items = items if isinstance(items, list) else list(items)
            changed = dict(zip(zip(map(_GET_SITE, items), map(_GET_ID, items)), items))
        else:
            changed: dict[tuple[str, str], dict] = {}
            for item in items:
                key = (item["site"], item["id"])
                if changed.get(key, store.get(key)) == item:
                    continue
                changed[key] = item
        if not changed:
            return set()
        touched: set[int] = set()
        redo = list(changed)
        if not was_empty:
            ch = self._children_index()
            for key, item in changed.items():
                old = store.get(key)
                if old is not None and old.get("parent") and old.get("parent") != item.get("parent"):
                    ch.get((key[0], old["parent"]), set()).discard(key)
                if item.get("parent"):
                    ch.setdefault((key[0], item["parent"]), set()).add(key)
            seen = set(changed)
            for key in list(changed):
                for child in sorted(ch.get(key, ())):
                    if child not in seen:
                        seen.add(child)
                        redo.append(child)
        if was_empty:
            self._items = changed  # the first load's dict is the store: no copy of a million entries
        else:
            store.update(changed)
        self._rederive(redo, touched)
        return {self._names[i] for i in touched if i != 0}

    def _rederive(self, keys, touched) -> None:
        if not keys:
            return
        item_idx = self._item_idx
        first_load = not item_idx
        if first_load:
            # first load: every key is new
            item_idx.update(zip(keys, range(len(keys))))
            self._item_keys.extend(keys)
            self._item.grow(len(keys))
        else:
            idxs = []
            for key in keys:
                idx = item_idx.get(key)
                if idx is None:
                    idx = item_idx[key] = len(self._item_keys)
                    self._item_keys.append(key)
                    self._item.grow(1)
                else:
                    self._kill(idx, touched)
                idxs.append(idx)
        store = self._items
        if first_load:
            idx_arr = np.arange(len(keys), dtype=np.int64)
        elif all(k in store for k in keys):
            idx_arr = np.asarray(idxs, dtype=np.int64)
        else:
            live = [(k, i) for k, i in zip(keys, idxs) if k in store]
            if not live:
                self._state = None
                return
            keys = [k for k, _ in live]
            idx_arr = np.asarray([i for _, i in live], dtype=np.int64)
        its = None
        if first_load and len(store) == len(keys):
            its = list(store.values())  # the store is this batch, in this order
        cols, counts, authors, tops = derive_batch(self, keys, idx_arr, its)
        del its
        start = self._rows.append(cols)
        per_author = np.bincount(authors)
        self._authored[: len(per_author)] += per_author
        offsets = start + np.concatenate(([0], np.cumsum(counts)[:-1]))
        self._item.start[idx_arr] = offsets
        self._item.count[idx_arr] = counts
        self._item.author[idx_arr] = authors
        if first_load:
            self._item_topics.update(tops)  # batch positions are item indexes
        else:
            for j, found in zip(idx_arr[list(tops)].tolist(), tops.values()):
                self._item_topics[j] = found
        if len(keys) < 10_000:
            touched.update(authors.tolist())
            touched.update(cols["target"].tolist())
            if self._forgotten_ids:
                self._forgotten_ids.difference_update(authors.tolist())  # captured again: back
        else:
            touched.update(_distinct(authors).tolist())
            touched.update(_distinct(cols["target"]).tolist())
            self._forgotten_ids.difference_update(_distinct(authors).tolist())
        self._state = None

    def _kill(self, idx: int, touched) -> None:
        a = int(self._item.author[idx])
        if a >= 0:
            self._authored[a] -= 1
            touched.add(a)
            self._item.author[idx] = -1
        self._item_topics.pop(idx, None)
        cnt = int(self._item.count[idx])
        if cnt:
            s = int(self._item.start[idx])
            self._rows.valid[s: s + cnt] = False
            self._killed.append(np.arange(s, s + cnt))
            touched.update(self._rows.target[s: s + cnt].tolist())
            self._item.count[idx] = 0
        self._state = None

    def remove_identity(self, identity: str) -> set[str]:
        with _no_gc():
            identity = identity.lower()
            touched: set[int] = set()
            tid = self._ids.get(identity)
            site, _, handle = identity.partition(":")
            mine = [k for k, it in self._items.items() if k[0] == site and it["author"]["handle"] == handle]
            ch = self._children_index()
            redo = []
            for key in mine:
                it = self._items.pop(key)
                if it.get("parent"):
                    ch.get((key[0], it["parent"]), set()).discard(key)
                redo.append(key)
                redo.extend(sorted(ch.get(key, ())))  # their parent is gone: re-derive
            if tid is not None:
                self._forgotten_ids.add(tid)
            seen, order = set(), []
            for k in redo:
                if k not in seen:
                    seen.add(k)
                    order.append(k)
            self._rederive(order, touched)
            if tid is not None:
                n = self._rows.n
                R = self._rows
                hit = np.nonzero(R.valid[:n] & ((R.target[:n] == tid) | (R.actor[:n] == tid)))[0]
                if len(hit):
                    touched.update(R.actor[hit].tolist())
                    R.valid[hit] = False
                    self._killed.append(hit)
                touched.add(tid)
            self._state = None
            touched.discard(0)
            return {self._names[i] for i in touched}

    # ---------------------------------------------------------------- compute

    def _canon(self) -> np.ndarray:
        canon = np.arange(len(self._names), dtype=np.int64)
        for alias, target in sorted(self.links.items()):
            seen = {alias}
            while target in self.links and target not in seen:
                seen.add(target)
                target = self.links[target]
            canon[self._ids[alias]] = self._ids[target]
        return canon

    def _compute(self, at: float):
        if self._state is not None and self._state_at == at:
            return self._state
        with _no_gc():
            self._struct = _structure(self, self._struct)
            st = _compute_state(self, self._struct, at)
        self._state, self._state_at = st, at
        return st

    def scores(self, at=None) -> dict[str, int]:
        """Every known identity's score, without the explanations (what the benchmark times)."""
        st = self._compute(parse_at(at))
        ids = st.order()
        return {self._names[i]: int(st.score[i]) for i in ids.tolist()}

    # ---------------------------------------------------------------- reads

    def _resolve(self, identity):
        i = self._ids.get(identity.lower()) if isinstance(identity, str) else None
        if i is None or i == 0:
            return None
        return i

    def result(self, identity: str, at=None) -> dict | None:
        st = self._compute(parse_at(at))
        i = self._resolve(identity)
        if i is None or i >= len(st.canon):
            return None
        c = int(st.canon[i])
        st._ensure()
        return st.result(c) if st.known[c] else None

    def results(self, identities, at=None) -> dict[str, dict]:
        st = self._compute(parse_at(at))
        st._ensure()
        out = {}
        for ident in identities:
            i = self._resolve(ident)
            if i is None or i >= len(st.canon):
                continue
            c = int(st.canon[i])
            if st.known[c]:
                out[ident] = st.result(c)
        return out

    def ranking(self, at=None, limit=None) -> list[dict]:
        st = self._compute(parse_at(at))
        order = st.order()
        if limit is not None:
            order = order[: max(0, int(limit))]
        return [st.result(int(i)) for i in order]

    def item_contributions(self, site: str, item_id: str, at=None) -> dict:
        st = self._compute(parse_at(at))
        key = (site.lower(), item_id)
        idx = self._item_idx.get(key)
        rows = []
        if idx is not None and self._item.count[idx]:
            s = int(self._item.start[idx])
            rows = list(range(s, s + int(self._item.count[idx])))
        return st.item_contributions(key, rows)


# ==================================================================== structure

class _Struct:
    pass


def _structure(s: Scorer, old: _Struct | None) -> _Struct:
    """Group ids for every row. Extended in place when rows were only appended; rebuilt when the
    identity links changed (they change which rows share a pair) or nothing exists yet."""
    R = s._rows
    n = R.n
    nid = len(s._names)
    if old is not None and old.n == n and old.nid == nid:
        return old
    if old is None or old.nid_canon_links != s.links or n - old.n > max(50_000, old.n // 4):
        return _build_structure(s)
    return _extend_structure(s, old)


def _row_keys(canon, R, lo, hi, key):
    ca = canon[R.actor[lo:hi]]
    ct = canon[R.target[lo:hi]]
    t = R.t[lo:hi]
    day = np.where(np.isnan(t), -1, np.floor(np.nan_to_num(t) / model.DAY)).astype(np.int64) + 1  # 0: undated
    return ca, ct, ca * key + ct, ca * _DAYS + day, ct * _DAYS + day


def _build_structure(s: Scorer) -> _Struct:
    R = s._rows
    n = R.n
    nid = len(s._names)
    st = _Struct()
    st.n, st.nid = n, nid
    st.nid_canon_links = dict(s.links)
    st.canon = s._canon()
    st.key_nid = _KEY
    ca, ct, pk, adk, tdk = _row_keys(st.canon, R, 0, n, _KEY)
    st.ca, st.ct = ca.astype(np.int32), ct.astype(np.int32)
    del ca, ct
    st.pairs = _Groups(pk)
    st.pair_id = st.pairs.inv
    del pk
    st.ad = _Groups(adk)
    st.ad_id = st.ad.inv
    del adk
    st.td = _Groups(tdk)
    st.td_id = st.td.inv
    del tdk
    st.td_order = np.argsort(st.td_id, kind="stable").astype(np.int32)
    st.td_main = len(st.td.main)
    st.td_starts = np.searchsorted(st.td_id[st.td_order], np.arange(st.td_main))
    st.by_target = np.argsort(st.ct, kind="stable").astype(np.int32)
    st.by_target_n = n
    st.by_target_bounds = np.searchsorted(st.ct[st.by_target], np.arange(nid + 1))
    _pair_arrays(st)
    st.csr_pairs = len(st.pairs)
    _csr_structure(st)
    _topic_structure(s, st, 0, n, None)
    return st


def _pair_arrays(st, first_new: int = 0):
    """Actor, target and reverse pair of every pair; only pairs from first_new on are new."""
    keys = st.pairs.keys()
    if first_new == 0:
        st.p_actor = keys // st.key_nid
        st.p_target = keys % st.key_nid
        st.p_rev = _lookup(st.pairs, st.p_target * st.key_nid + st.p_actor)
        return
    new = keys[first_new:]
    na, nt = new // st.key_nid, new % st.key_nid
    _append(st, "p_actor", na)
    _append(st, "p_target", nt)
    rev = _lookup(st.pairs, nt * st.key_nid + na)
    _append(st, "p_rev", rev)
    hit = rev >= 0
    st.p_rev[rev[hit]] = np.arange(first_new, len(keys))[hit]  # their reverses now point back


def _lookup(groups: _Groups, keys: np.ndarray) -> np.ndarray:
    main = groups.main
    pos = np.searchsorted(main, keys)
    posc = np.minimum(pos, max(len(main) - 1, 0))
    found = (pos < len(main)) & (main[posc] == keys) if len(main) else np.zeros(len(keys), bool)
    out = np.where(found, posc, -1)
    if groups.extra:
        for j in np.nonzero(~found)[0].tolist():
            g = groups.extra.get(int(keys[j]))
            if g is not None:
                out[j] = g
    return out


def _csr_structure(st):
    """PageRank matrix M[target, actor]: CSR positions fixed until pairs are added."""
    m = st.csr_pairs
    pa, pt = st.p_actor[:m], st.p_target[:m]
    person = pa != 0
    idx = np.nonzero(person)[0]
    order = idx[np.lexsort((pa[idx], pt[idx]))]
    st.csr_order = order
    st.csr_indices = pa[order].astype(np.int32)
    st.csr_indptr = np.concatenate(([0], np.cumsum(np.bincount(pt[order], minlength=st.nid)))).astype(np.int64)


def _extend_structure(s: Scorer, st: _Struct) -> _Struct:
    R = s._rows
    lo, hi = st.n, R.n
    nid = len(s._names)
    if nid != st.nid:
        st.canon = np.concatenate([st.canon, np.arange(st.nid, nid, dtype=np.int64)])
        st.nid = nid
    ca, ct, pk, adk, tdk = _row_keys(st.canon, R, lo, hi, st.key_nid)
    _append(st, "ca", ca)
    _append(st, "ct", ct)
    npairs_before = len(st.pairs)
    _append(st, "pair_id", st.pairs.ids(pk))
    _append(st, "ad_id", st.ad.ids(adk))
    _append(st, "td_id", st.td.ids(tdk))
    if len(st.pairs) > npairs_before:
        _pair_arrays(st, npairs_before)
    old_n = st.n
    st.n = hi
    _topic_structure(s, st, old_n, hi, st)
    return st


def _topic_structure(s, st, lo, hi, old):
    """(row, topic) entries for rows whose item is on a topic, grouped by (topic, actor, target)."""
    items = s._item_topics
    r_item = s._rows.item[lo:hi]
    if items:
        topical = np.isin(r_item, np.fromiter(items, dtype=np.int64, count=len(items)))
    else:
        topical = np.zeros(hi - lo, dtype=bool)
    rows = np.nonzero(topical)[0] + lo
    rows = rows[s._rows.kind[rows] != model.REACTION]
    per_row = list(map(items.__getitem__, s._rows.item[rows].tolist()))
    e_row = np.repeat(rows, np.fromiter(map(len, per_row), dtype=np.int64, count=len(per_row)))
    e_topic = np.fromiter(itertools.chain.from_iterable(per_row), dtype=np.int64, count=len(e_row))
    # topic pairs keyed by (topic, pair): the pair carries actor and target
    npair_slot = 1 << 40
    tp_key = e_topic * npair_slot + st.pair_id[e_row]
    if old is None or not hasattr(old, "tp"):
        st.te_row, st.te_topic = e_row, e_topic
        st.tp = _Groups(tp_key)
        st.te_tp = st.tp.inv
    else:
        st.te_row = np.concatenate([st.te_row, e_row])
        st.te_topic = np.concatenate([st.te_topic, e_topic])
        st.te_tp = np.concatenate([st.te_tp, st.tp.ids(tp_key)])
    keys = st.tp.keys()
    st.tp_topic = keys // npair_slot
    st.tp_pair = keys % npair_slot


# ==================================================================== state

class _State:
    """One computation at one time: per-identity arrays plus per-row contributions."""

    def __init__(self, scorer: Scorer, struct: _Struct, at: float):
        self.s = scorer
        self.g = struct
        self.at = at
        self._order = None
        self._topics = None
        self._lazy = None

    def _ensure(self):
        if self._lazy is not None:
            lazy, self._lazy = self._lazy, None
            lazy()

    def order(self) -> np.ndarray:
        self._ensure()
        if self._order is None:
            ids = np.nonzero(self.known & (self.canon == np.arange(len(self.canon))))[0]
            ids = ids[ids != 0]
            rank = self.s._name_rank()
            self._order = ids[np.lexsort((rank[ids], -self.score[ids]))]
        return self._order

    def _rows_of(self, target: int) -> np.ndarray:
        g = self.g
        if getattr(g, "by_target_bounds", None) is None or g.by_target_n > g.n:
            g.by_target = np.argsort(g.ct, kind="stable")
            g.by_target_n = g.n
            g.by_target_bounds = np.searchsorted(g.ct[g.by_target], np.arange(g.nid + 1))
        rows = np.zeros(0, dtype=np.int64)
        if target + 1 < len(g.by_target_bounds):
            rows = g.by_target[g.by_target_bounds[target]: g.by_target_bounds[target + 1]]
        if g.by_target_n < g.n:  # rows appended since the sort: few, scanned directly
            tail = g.by_target_n + np.nonzero(g.ct[g.by_target_n:] == target)[0]
            rows = np.concatenate([rows, tail])
        return rows

    def result(self, i: int) -> dict:
        self._ensure()
        names = self.s._names
        raw = float(self.raw[i])
        pts = float(self.points[i])
        rows = self._rows_of(i)
        rows = rows[self.contrib[rows] > 0]
        by_person: dict[str, float] = {}
        by_kind: dict[str, float] = {}
        by_site: dict[str, float] = {}
        by_item: dict[str, float] = {}
        if raw > 0 and len(rows):
            R = self.s._rows
            share = self.contrib[rows] * (pts / raw)
            keys = self.s._item_keys
            sites = self.s._site_names
            for j, p, a, k, si, it in zip(rows.tolist(), share.tolist(), self.g.ca[rows].tolist(),
                                          R.kind[rows].tolist(), R.site[rows].tolist(), R.item[rows].tolist()):
                actor = names[a]
                kind = model.KIND_NAMES[k]
                site = sites[si]
                key = keys[it]
                item = f"{key[0]}:{key[1]}"
                by_person[actor] = by_person.get(actor, 0.0) + p
                by_kind[kind] = by_kind.get(kind, 0.0) + p
                by_site[site] = by_site.get(site, 0.0) + p
                by_item[item] = by_item.get(item, 0.0) + p

        def tidy(d):
            return {k: round(v, 4) for k, v in sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))}

        return {
            "identity": names[i],
            "score": int(self.score[i]),
            "raw": round(raw, 9),
            "points": round(pts, 4),
            "trend": round(float(self.trend[i]), 2),
            "negative": {"count": int(self.neg_count[i]), "weight": round(float(self.neg_weight[i]), 4)},
            "breakdown": {"by_person": tidy(by_person), "by_kind": tidy(by_kind),
                          "by_site": tidy(by_site), "by_item": tidy(by_item)},
            "topics": self.topics_of(i),
            "interactions": int(self.n_inter[i]),
            "people": int(self.n_people[i]),
            "standing": round(float(self.standing[i]), 4),
            "view": "days" if self.day_view[i] else "people",
        }

    def topics_of(self, i: int) -> dict:
        if self._topics is None:
            self._topics = {}
            names = self.s.topics.names
            for tgt, tpc, sc in zip(self.tt_target.tolist(), self.tt_topic.tolist(), self.tt_score.tolist()):
                self._topics.setdefault(tgt, {})[names[tpc]] = sc
            self._topics = {k: dict(sorted(v.items())) for k, v in self._topics.items()}
        return self._topics.get(i, {})

    def item_contributions(self, key, row_ids) -> dict:
        names = self.s._names
        R = self.s._rows
        out = {"item": f"{key[0]}:{key[1]}", "to": {}, "rows": []}
        for r in row_ids:
            t = int(self.g.ct[r]) if r < self.g.n else int(R.target[r])
            kind = model.KIND_NAMES[int(R.kind[r])]
            p = 0.0
            raw = float(self.raw[t])
            if r < len(self.contrib) and raw > 0:
                p = float(self.contrib[r]) * float(self.points[t]) / raw
            if r < len(self.hostile) and self.hostile[r] and self.keep[r]:
                why = "hostile: shown apart, adds nothing"
            elif r >= len(self.keep) or not self.keep[r]:
                why = "not counted: outside the horizon, self, forgotten or on a site weighted 0"
            elif p > 0:
                why = "counted"
            else:
                why = "counted for nothing (capped)"
            out["rows"].append({"to": names[t], "kind": kind, "points": round(p, 4), "counted": p > 0, "why": why})
            if p > 0:
                out["to"][names[t]] = round(out["to"].get(names[t], 0.0) + p, 4)
        out["total"] = round(sum(x["points"] for x in out["rows"]), 4)
        return out


def pagerank(matrix, leak: np.ndarray, x0: np.ndarray | None, damping: float = model.DAMPING,
             tol: float = model.PR_TOL, max_iter: int = model.PR_MAX_ITER):
    """Power iteration x <- d*M@x + (d*leak.x + 1-d)/n on a column-substochastic M (M[t, a] = share
    of a's mass passed to t); leak[a] = 1 - column sum (1 for a dangling node) is spread uniformly
    like the teleport. With leak = the dangling indicator this is networkx's weighted pagerank.
    Stops when the L1 change is below tol. Returns (x, iterations)."""
    mats = matrix if isinstance(matrix, (list, tuple)) else [matrix]
    n = mats[0].shape[0]
    if n == 0:
        return np.zeros(0), 0
    x = np.full(n, 1.0 / n) if x0 is None else x0 / x0.sum()
    for it in range(1, max_iter + 1):
        nxt = mats[0] @ x
        for extra in mats[1:]:
            nxt += extra @ x
        nxt *= damping
        nxt += (damping * float(leak @ x) + (1.0 - damping)) / n
        err = float(np.abs(nxt - x).sum())
        x = nxt
        if err < tol:
            return x, it
    return x, max_iter


class _Weights:
    """Row and pair weights at one time that do not depend on standing (kind, site, age,
    sentiment, selectivity, pair sums). Updated in place when rows are appended or tombstoned at
    the same time: every summand is snapped to a 2**-32 grid, so an update by differences gives
    bit for bit what a full pass gives."""


def _row_base(s: Scorer, g: _Struct, at: float, lo: int, hi: int, site_w: np.ndarray):
    R = s._rows
    kind = R.kind[lo:hi]
    t = R.t[lo:hi]
    age = (at - np.where(np.isnan(t), at, t)) / model.DAY
    sw = site_w[R.site[lo:hi]]
    is_aud = kind == model.REACTION
    ca, ct = g.ca[lo:hi], g.ct[lo:hi]
    keep = R.valid[lo:hi] & (age >= 0) & (age < s.horizon) & (ca != ct) & (sw > 0)
    if s._forgotten_ids:
        gone = np.fromiter(s._forgotten_ids, dtype=np.int64)
        keep &= ~np.isin(ct, gone) & ~np.isin(ca, gone)
    comp = R.comp[lo:hi]
    bw = np.where(is_aud, R.amount[lo:hi], model.KIND_WEIGHT[kind]) * sw
    w0 = model.snap(bw * model.age_weight(age, s.horizon) * keep)
    w_then = model.snap(bw * model.age_weight(age - model.TREND_DAYS, s.horizon) * keep)
    sf = np.where(is_aud, 1.0, model.sentiment_factor(comp))
    hostile = ~is_aud & (comp <= model.HOSTILE)
    vol = np.where(is_aud | hostile, 0.0, w0)  # hostile actions are ignored, volume included
    return keep, hostile, ~is_aud, w0, w_then, sf, vol


def _rows_of_groups(g: _Struct, groups: np.ndarray) -> np.ndarray:
    """Rows of the given actor-day groups: from an index sorted once per structure build, plus a
    scan of the rows appended since (few)."""
    if getattr(g, "ad_order", None) is None:
        g.ad_order = np.argsort(g.ad_id, kind="stable").astype(np.int32)
        g.ad_main = len(g.ad_order)
        g.ad_bounds = np.searchsorted(g.ad_id[g.ad_order], np.arange(len(g.ad) + 1))
    old = groups[groups < len(g.ad_bounds) - 1]
    lo, hi = g.ad_bounds[old], g.ad_bounds[old + 1]
    parts = [g.ad_order[a:b] for a, b in zip(lo.tolist(), hi.tolist())]
    tail = g.ad_main + np.nonzero(np.isin(g.ad_id[g.ad_main:], groups))[0]
    return np.sort(np.concatenate(parts + [tail]))


def _weights(s: Scorer, g: _Struct, at: float) -> _Weights:
    site_w = np.array([s.site_weights.get(name, 1.0) for name in s._site_names] or [1.0])
    sig = (at, s.horizon, tuple(site_w.tolist()), frozenset(s._forgotten_ids))
    W = getattr(g, "weights", None)
    n = g.n
    killed = np.concatenate(s._killed) if s._killed else np.zeros(0, dtype=np.int64)
    s._killed = []
    if W is None or W.sig != sig or W.n > n:
        W = _Weights()
        W.sig = sig
        W.keep, W.hostile, W.person, W.w0, W.w_then, W.sf, W.vol = _row_base(s, g, at, 0, n, site_w)
        W.V = np.bincount(g.ad_id, weights=W.vol, minlength=len(g.ad))
        W.sel = np.where(W.person, model.SELECT_K / (model.SELECT_K + W.V[g.ad_id]), 1.0)
        W.c = model.snap(W.w0 * W.sf * W.sel)
        W.c_then = model.snap(W.w_then * W.sf * W.sel)
        W.w0sf = model.snap(W.w0 * W.sf)
        npairs = len(g.pairs)
        W.P = np.bincount(g.pair_id, weights=W.c, minlength=npairs)
        W.P0 = np.bincount(g.pair_id, weights=W.w0sf, minlength=npairs)
        W.P_then = np.bincount(g.pair_id, weights=W.c_then, minlength=npairs)
        W.n = n
        g.weights = W
        return W
    lo = W.n
    killed = killed[killed < lo]
    if lo == n and not len(killed):
        return W
    parts = _row_base(s, g, at, lo, n, site_w)
    for name, part in zip(("keep", "hostile", "person", "w0", "w_then", "sf", "vol"), parts):
        _append(W, name, part)
    _append(W, "c", np.zeros(n - lo))
    _append(W, "c_then", np.zeros(n - lo))
    _append(W, "sel", np.ones(n - lo))
    if len(killed):
        for name in ("keep",):
            getattr(W, name)[killed] = False
        for name in ("w0", "w_then", "vol"):
            getattr(W, name)[killed] = 0.0
    changed = np.concatenate([killed, np.arange(lo, n)])
    _append(W, "w0sf", np.zeros(n - lo))
    old_w0sf_changed = W.w0sf[changed]
    W.w0sf[changed] = model.snap(W.w0[changed] * W.sf[changed])
    groups = _distinct(g.ad_id[changed])
    _append(W, "V", np.zeros(len(g.ad) - len(W.V)))
    rows = _rows_of_groups(g, groups)
    W.V[groups] = 0.0
    np.add.at(W.V, g.ad_id[rows], W.vol[rows])
    sel = np.where(W.person[rows], model.SELECT_K / (model.SELECT_K + W.V[g.ad_id[rows]]), 1.0)
    c_new = model.snap(W.w0[rows] * W.sf[rows] * sel)
    ct_new = model.snap(W.w_then[rows] * W.sf[rows] * sel)
    npairs = len(g.pairs)
    grow = npairs - len(W.P)
    if grow:
        for name in ("P", "P0", "P_then"):
            _append(W, name, np.zeros(grow))
    pid = g.pair_id
    W.P += np.bincount(pid[rows], weights=c_new - W.c[rows], minlength=npairs)
    W.P_then += np.bincount(pid[rows], weights=ct_new - W.c_then[rows], minlength=npairs)
    W.P0 += np.bincount(pid[changed], weights=W.w0sf[changed] - old_w0sf_changed, minlength=npairs)
    W.sel[rows], W.c[rows], W.c_then[rows] = sel, c_new, ct_new
    W.n = n
    return W


def _tick(st, label):
    now = time.process_time()
    st.timings[label] = round(now - st._t, 4)
    st._t = now


def _compute_state(s: Scorer, g: _Struct, at: float) -> _State:
    st = _State(s, g, at)
    st.timings = {}
    st._t = time.process_time()
    R = s._rows
    n = g.n
    nid = g.nid
    H = s.horizon
    st.canon = g.canon
    ca, ct = g.ca, g.ct
    W = _weights(s, g, at)
    keep, hostile, person, w0, sf, sel, c = W.keep, W.hostile, W.person, W.w0, W.sf, W.sel, W.c
    st.keep, st.hostile = keep, hostile

    _tick(st, 'pairs')
    # pairs: diminishing returns, then reciprocity
    npairs = len(g.pairs)
    pid = g.pair_id
    P, P0 = W.P, W.P0
    pa, pt, prev = g.p_actor, g.p_target, g.p_rev
    cap = np.where(pa == 0, model.AUDIENCE_CAP, model.PAIR_CAP)
    gP = model.saturate(P, cap)
    P_rev = np.where((prev >= 0) & (pa != 0), P0[np.maximum(prev, 0)], 0.0)
    phi = model.RECIP_FREE / np.maximum(model.RECIP_FREE, P_rev)
    val = gP * phi

    _tick(st, 'standing')
    # standing: weighted PageRank on the person-to-person pair graph. Each actor's mass goes out in
    # proportion to g(P); the share that reciprocity removes is not passed on but joins the
    # teleport, so a closed ring cannot keep recycling its own mass.
    # The graph's weights leave selectivity out: an actor's busy day must not move standing
    # between the people it engaged that day (selectivity weighs what the actions give, above).
    person_pair = pa != 0
    g0 = model.saturate(P0, cap)
    out = np.bincount(pa[person_pair], weights=g0[person_pair], minlength=nid)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(person_pair & (out[pa] > 0), g0 * phi / out[pa], 0.0)
    del g0
    m = g.csr_pairs
    if g.csr_indptr.shape[0] != nid + 1:
        g.csr_indptr = np.concatenate([g.csr_indptr, np.full(nid + 1 - g.csr_indptr.shape[0], g.csr_indptr[-1])])
    M = getattr(g, "M", None)
    if M is None or M.shape[0] != nid:
        M = g.M = sp.csr_matrix((share[g.csr_order], g.csr_indices, g.csr_indptr), shape=(nid, nid))
    else:
        M.data[:] = share[g.csr_order]  # same positions: no rebuild, no re-validation
    if npairs > m:
        extra = np.arange(m, npairs)
        extra = extra[pa[extra] != 0]
        if len(extra):
            M = [M, sp.csr_matrix((share[extra], (pt[extra], pa[extra])), shape=(nid, nid))]
    kept = np.bincount(pa[person_pair], weights=share[person_pair], minlength=nid)
    leak = 1.0 - kept
    del out, kept
    x0 = None
    if s._pr is not None:
        x0 = np.full(nid, 1.0 / nid)
        mm = min(len(s._pr), nid)
        x0[:mm] = s._pr[:mm]
    pr, iters = pagerank(M, leak, x0)
    s._pr = pr
    st.pr_iterations = iters
    base = (model.DAMPING * float(pr @ leak) + (1.0 - model.DAMPING)) / nid
    standing = np.maximum(pr / base, 1.0)
    standing[0] = 1.0
    st.standing = standing
    _tick(st, 'What A gives T')
    # What A gives T is weighted by A's standing without the part T itself gave A directly:
    # nobody is lifted by their own echo, and engaging someone more can only help them.
    echo = np.where((prev >= 0) & person_pair, model.DAMPING * share[np.maximum(prev, 0)] * pr[pt], 0.0)
    s_pair = np.maximum((pr[pa] - echo) / base, 1.0)
    # distinct engagers of each actor, T itself left out for what A gives T (no echo here either)
    # (which pairs are worth something changes rarely between two updates: kept until it does)
    engaged = person_pair & (val > 0)
    kc = getattr(g, "k_cache", None)
    if kc is None or len(kc[0]) != len(engaged) or len(kc[1]) != nid or not np.array_equal(kc[0], engaged):
        k_in = np.bincount(pt[engaged], minlength=nid)
        k_pair = k_in[pa] - ((prev >= 0) & engaged[np.maximum(prev, 0)])
        kc = g.k_cache = (engaged, k_in, np.minimum(1.0, k_pair / model.STANDING_PEOPLE))
        del k_pair
    k_in, k_scale = kc[1], kc[2]
    s_pair = 1.0 + (s_pair - 1.0) * k_scale
    aw = np.where(person_pair, np.minimum(s_pair, model.STANDING_MAX) ** model.STANDING_GAMMA, 1.0)
    # what each identity lends, as shown in results: the same rule, nobody left out
    st.standing = 1.0 + (standing - 1.0) * np.minimum(1.0, k_in / model.STANDING_PEOPLE)
    st.standing[0] = 1.0
    del echo, s_pair, engaged, share

    _tick(st, 'people view')
    # people view: each pair's value split over its rows in proportion
    pv = aw * val
    raw_p = np.bincount(pt, weights=pv, minlength=nid)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(P > 0, pv / P, 0.0)
    r_people = model.snap(c * ratio[pid])
    del ratio, pv

    _tick(st, 'days view (bursts)')
    # days view (bursts): the contributions of one target's UTC day count at most kappa:
    # DAY_CAP_MULT times its usual day, never less than DAY_CAP_FLOOR nor than that day's strongest
    # single contribution (one reply from someone with standing is not a burst)
    ntd = len(g.td)
    Y = np.bincount(g.td_id, weights=r_people, minlength=ntd)
    if getattr(g, "td_target", None) is None or len(g.td_target) != ntd:
        g.td_target = g.td.keys() // _DAYS
    td_target = g.td_target
    usual = raw_p / (H * model.FLAT_FRACTION + H * (1 - model.FLAT_FRACTION) / 2)
    kappa = np.maximum(model.DAY_CAP_FLOOR, model.DAY_CAP_MULT * usual)
    ymax = np.zeros(ntd)
    if g.td_main and len(g.td_order):
        ymax[: g.td_main] = np.maximum.reduceat(r_people[g.td_order], g.td_starts)
        # reduceat gives the next group's first value for empty groups; empty groups have Y == 0
    if n > len(g.td_order):
        np.maximum.at(ymax, g.td_id[len(g.td_order):], r_people[len(g.td_order):])
    HY = np.minimum(Y, np.maximum(kappa[td_target], ymax))
    with np.errstate(invalid="ignore", divide="ignore"):
        dratio = np.where(Y > 0, HY / Y, 0.0)
    contrib = model.snap(r_people * dratio[g.td_id])
    raw = np.bincount(ct, weights=contrib, minlength=nid)
    st.contrib = contrib
    st.day_view = raw < raw_p - 1e-12

    _tick(st, 'trend')
    pts = model.points(raw)
    st.raw, st.points, st.score = raw, pts, model.to_score(pts)
    # counts, trend and topics are only needed when a result is read: computed then, once per state
    def extras():
        hk = hostile & keep
        st.neg_count = np.bincount(ct[hk], minlength=nid)
        st.neg_weight = np.bincount(ct[hk], weights=(w0 * sel)[hk], minlength=nid)
        counted = person & (c > 0)
        st.n_inter = np.bincount(ct[counted], minlength=nid)
        st.n_people = np.bincount(pt[person_pair & (P > 0)], minlength=nid)
        known = np.zeros(nid, dtype=bool)
        auth = s._authored[:nid]
        known[g.canon[np.nonzero(auth > 0)[0]]] = True
        known[ct[keep]] = True
        known[ca[keep & person]] = True
        known[0] = False
        st.known = known
        # trend: the burst-undamped (people view) score now minus TREND_DAYS ago
        raw_then = np.bincount(pt, weights=aw * model.saturate(W.P_then, cap) * phi, minlength=nid)
        st.trend = model.points(raw_p) - model.points(raw_then)
        # topics: the people-view formula restricted to each topic's rows
        if len(g.te_row):
            ntp = len(g.tp)
            ce = c[g.te_row] * counted[g.te_row]
            Pt = np.bincount(g.te_tp, weights=ce, minlength=ntp)
            tpair = g.tp_pair
            tval = aw[tpair] * model.saturate(Pt, model.PAIR_CAP) * phi[tpair]
            tt_key = g.tp_topic * nid + pt[tpair]
            tt_keys, tt_inv = np.unique(tt_key, return_inverse=True)
            traw = np.bincount(tt_inv, weights=tval, minlength=len(tt_keys))
            tpeople = np.bincount(tt_inv, weights=(Pt > 0), minlength=len(tt_keys))
            tn = np.bincount(tt_inv[g.te_tp], weights=counted[g.te_row], minlength=len(tt_keys))
            ok = (tn >= model.TOPIC_MIN_INTERACTIONS) & (tpeople >= model.TOPIC_MIN_PEOPLE)
            st.tt_target = (tt_keys % nid)[ok]
            st.tt_topic = (tt_keys // nid)[ok]
            st.tt_score = model.to_score(model.points(traw[ok]))
        else:
            st.tt_target = st.tt_topic = st.tt_score = np.zeros(0, dtype=np.int64)

    st._lazy = extras
    _tick(st, 'end')
    return st
