"""Growable numpy columns, group ids and group member indexes: the storage the scorer computes on.

Rows (interactions) and pairs are only ever appended (a replaced item tombstones its rows), so
every index here is built once by sorting and then extended with what was appended since.
"""
from __future__ import annotations

import numpy as np

# identity and item ids fit in 32 bits (keys built from them are computed in 64)
ROW_COLS = (("actor", np.int32), ("target", np.int32), ("kind", np.int8), ("site", np.int32),
            ("t", np.float64), ("comp", np.float64), ("amount", np.float64), ("item", np.int32),
            ("valid", np.bool_), ("fp", np.uint64),  # fp: the item's words (samewords.py), 0 for none
            ("crowd", np.float64))  # an audience row's largest count of one reaction (reach.py)
EMPTY = np.zeros(0, dtype=np.int64)


class Rows:
    """One row per (item, addressee) plus one audience row per item with reactions."""

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self.cap = capacity
        for name, dt in ROW_COLS:
            setattr(self, name, np.zeros(capacity, dtype=dt))

    def append(self, cols: dict) -> int:
        k = len(cols["actor"])
        if self.n + k > self.cap:
            self.reserve(k)
        start = self.n
        for name, dt in ROW_COLS:
            getattr(self, name)[start: start + k] = cols[name]
        self.n += k
        return start


    def reserve(self, k: int = 0) -> None:
        """Room for k more rows and 1/8 headroom (memory is the limit, not copies)."""
        new_cap = self.n + max(k, self.n // 8, 1024)
        for name, dt in ROW_COLS:
            arr = np.zeros(new_cap, dtype=dt)
            arr[: self.n] = getattr(self, name)[: self.n]
            setattr(self, name, arr)
        self.cap = new_cap


class ItemCols:
    """Per stored item, by item index: its first row, how many rows (0: none or killed), its
    author (-1 when the item is gone), whether it is a comment, and its parent's item index (-1:
    none stored). What a new item needs of its parent is read here, not from item dicts."""

    _FILL = (("start", 0), ("count", 0), ("author", -1), ("kind", 0), ("parent", -1))

    def __init__(self):
        self.n = 0
        self.start = np.zeros(0, dtype=np.int64)
        self.count = np.zeros(0, dtype=np.int32)
        self.author = np.zeros(0, dtype=np.int32)
        self.kind = np.zeros(0, dtype=np.int8)
        self.parent = np.zeros(0, dtype=np.int32)

    def grow(self, k: int) -> None:
        if self.n + k > len(self.start):
            cap = self.n + max(k, self.n // 8, 1024)
            for name, fill in self._FILL:
                old = getattr(self, name)
                new = np.full(cap, fill, dtype=old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        self.n += k


def index64(idx: np.ndarray) -> np.ndarray:
    """An index as int64: numpy's gathers and add.at by int32 indexes (group ids and member
    indexes are kept as int32, for memory) are 1.5-2x slower than by int64, far more than the
    conversion costs."""
    return idx.astype(np.int64, copy=False)


def _marked(x: np.ndarray):
    """The distinct values of integers x, sorted, and the size of the table they were marked in;
    None when they are not few non-negative values (a table more than 8 times len(x)). Marking
    costs two passes over x, a sort of a million costs ten."""
    if not len(x) or x.dtype.kind not in "iu" or x.min() < 0:
        return None
    top = int(x.max()) + 1
    if top > 8 * len(x):
        return None
    seen = np.zeros(top, dtype=bool)
    seen[x] = True
    return np.flatnonzero(seen).astype(x.dtype, copy=False), top


def distinct(x: np.ndarray) -> np.ndarray:
    """np.unique(x), by marking or by sorting: numpy's own np.unique without return_inverse
    takes a hash-table path that is about ten times slower on a million integers."""
    marked = _marked(x)
    if marked is not None:
        return marked[0]
    x = np.sort(x)
    return x[run_starts(x)]


def run_starts(x: np.ndarray) -> np.ndarray:
    """Where each run of equal values begins (in sorted values: each distinct value's first)."""
    first = np.empty(len(x), dtype=bool)
    first[:1] = True
    np.not_equal(x[1:], x[:-1], out=first[1:])
    return first


def unique_inverse(x: np.ndarray):
    """np.unique(x, return_inverse=True) for a 1-d array, by marking when it can (_marked)."""
    marked = _marked(x)
    if marked is None:
        return np.unique(x, return_inverse=True)
    u, top = marked
    where = np.empty(top, dtype=np.int64)
    where[u] = np.arange(len(u))
    return u, where[x]


def append(owner, name: str, values) -> None:
    """owner.name += values, amortised: the array is a view of a larger buffer, so an update that
    appends a few entries copies a few entries, not the million before them."""
    bufs = owner.__dict__.setdefault("_bufs", {})
    cur = getattr(owner, name)
    n, k = len(cur), len(values)
    buf = bufs.get(name)
    vdt = np.asarray(values).dtype
    dtype = cur.dtype if vdt.kind == cur.dtype.kind else np.result_type(cur.dtype, vdt)
    if buf is None or cur.base is not buf or len(buf) < n + k or buf.dtype != dtype:
        buf = np.empty(n + max(k, n // 8, 1024), dtype=dtype)  # 1/8 headroom: memory is the limit
        buf[:n] = cur
        bufs[name] = buf
    buf[n: n + k] = values
    setattr(owner, name, buf[: n + k])


def reserve(owner, skip=()) -> None:
    """Give every 1-D array of owner (but those in skip) room to grow, now rather than at the
    first append (each is copied once: a second at a million rows, memory included)."""
    for name, value in list(vars(owner).items()):
        if isinstance(value, np.ndarray) and value.ndim == 1 and name not in skip:
            append(owner, name, value[:0])


def grow(owner, name: str, size: int, fill) -> None:
    """Extend owner.name to size entries of fill (amortised like append)."""
    cur = getattr(owner, name)
    if len(cur) < size:
        append(owner, name, np.full(size - len(cur), fill, dtype=cur.dtype))


def sort_order(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, keys[order]) of int64 keys, equal keys in any order. When a key and its index fit
    in one int64 together, a sort of the keys with the index in their low bits: numpy sorts
    values three times faster than it argsorts them."""
    keys = np.asarray(keys, dtype=np.int64)
    n = len(keys)
    bits = max(n - 1, 1).bit_length()
    if n and int(keys.min()) >= 0 and int(keys.max()) < 1 << (63 - bits):
        packed = np.sort((keys << bits) | np.arange(n))
        return packed & ((1 << bits) - 1), packed >> bits
    order = np.argsort(keys)
    return order, keys[order]


class Groups:
    """Ids for int64 keys: a sorted main array plus keys added since."""

    def __init__(self, keys: np.ndarray, like: np.ndarray | None = None):
        """like: keys that order and tie as keys do, in fewer bits (for sort_order's fast path)."""
        order, srt = sort_order(keys if like is None else like)
        first = run_starts(srt)
        self.main = srt[first] if like is None else keys[order[first]]
        self.inv = np.empty(len(keys), dtype=np.int32)
        self.inv[order] = np.cumsum(first, dtype=np.int32) - 1
        self.extra: dict[int, int] = {}
        self.extra_keys: list[int] = []

    @classmethod
    def of_sorted(cls, keys: np.ndarray) -> tuple["Groups", np.ndarray]:
        """Groups of keys that are already sorted, and the id of each key (no second sort)."""
        first = run_starts(keys)
        groups = cls.__new__(cls)
        groups.main, groups.inv, groups.extra, groups.extra_keys = keys[first], None, {}, []
        return groups, np.cumsum(first) - 1

    def __len__(self):
        return len(self.main) + len(self.extra_keys)

    def ids(self, keys: np.ndarray) -> np.ndarray:
        """Ids of keys, new keys getting new ids."""
        out = self.lookup(keys)
        miss = np.nonzero(out < 0)[0]
        if len(miss):
            new, inv = np.unique(keys[miss], return_inverse=True)
            first = len(self)
            out[miss] = first + inv
            new = new.tolist()
            self.extra.update(zip(new, range(first, first + len(new))))
            self.extra_keys.extend(new)
        return out

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Ids of keys, -1 for unknown ones."""
        main = self.main
        if len(keys) > 100_000:  # many keys: look them up in sorted order (cache-friendly)
            order = np.argsort(keys)
            pos = np.empty(len(keys), dtype=np.int64)
            pos[order] = np.searchsorted(main, keys[order])
        else:
            pos = np.searchsorted(main, keys)
        posc = np.minimum(pos, max(len(main) - 1, 0))
        found = (pos < len(main)) & (main[posc] == keys) if len(main) else np.zeros(len(keys), bool)
        out = np.where(found, posc, -1).astype(np.int64)
        if self.extra:
            miss = np.nonzero(~found)[0]
            get = self.extra.get
            out[miss] = [get(k, -1) for k in keys[miss].tolist()]
        return out

    def keys(self) -> np.ndarray:
        if not self.extra_keys:
            return self.main
        return np.concatenate([self.main, np.asarray(self.extra_keys, dtype=np.int64)])

    def keys_from(self, first: int) -> np.ndarray:
        """The keys of ids first, first + 1, ... (cheap when those are all recent)."""
        if first < len(self.main):
            return self.keys()[first:]
        return np.asarray(self.extra_keys[first - len(self.main):], dtype=np.int64)


def ranges(order: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """order[lo[0]:hi[0]] + order[lo[1]:hi[1]] + ..., without a Python loop."""
    lens = hi - lo
    total = int(lens.sum())
    if total == 0:
        return EMPTY
    shift = np.repeat(lo - (np.cumsum(lens) - lens), lens)
    return order[shift + np.arange(total)]


class Members:
    """The members (rows, pairs or days) of each group, as a sorted index: when built, an order
    by group id (a stable argsort of the ids, or one a caller's own sort already gave), then
    members appended since are merged in batches (a merge is a copy, not a sort; its owner
    decides when). Group ids of members never change: members are only appended."""

    MERGE_AT = 4096  # members appended before they are merged into the sorted order

    def __init__(self, gid: np.ndarray, ngroups: int, order: np.ndarray | None = None):
        """order: the members already sorted by group (in any order within a group)."""
        if order is None:
            order = np.argsort(gid, kind="stable")
        self.order = order.astype(np.int32)
        self.bounds = np.concatenate(([0], np.cumsum(np.bincount(gid, minlength=ngroups)[:ngroups])))
        self.n = len(gid)
        self._tail = None  # (members then, their group ids sorted, their indexes in that order)

    def of(self, groups: np.ndarray, gid: np.ndarray, sort: bool = True) -> np.ndarray:
        """Member indexes of the given distinct groups (sorted unless sort=False); gid is every
        member's group id, including members appended since the index was built."""
        groups = np.asarray(groups, dtype=np.int64)
        ng = len(self.bounds) - 1
        old = groups[groups < ng]
        out = index64(ranges(self.order, self.bounds[old], self.bounds[old + 1]))
        if len(gid) > self.n:
            if self._tail is None or self._tail[0] != len(gid):
                t_gid = gid[self.n:]
                t_order = np.argsort(t_gid, kind="stable")
                self._tail = (len(gid), t_gid[t_order], t_order + self.n)
            _, t_sorted, t_order = self._tail
            tail = ranges(t_order, np.searchsorted(t_sorted, groups, "left"),
                          np.searchsorted(t_sorted, groups, "right"))
            if len(tail):
                out = np.concatenate([out, tail])
        return np.sort(out) if sort else out

    def of_each(self, groups: np.ndarray, gid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(members, position in groups of each member's group) for distinct groups, in no
        particular order: no sort, no search for the group of each member."""
        groups = np.asarray(groups, dtype=np.int64)
        ng = len(self.bounds) - 1
        at = np.nonzero(groups < ng)[0]
        old = groups[at]
        lo, hi = self.bounds[old], self.bounds[old + 1]
        out = index64(ranges(self.order, lo, hi))
        where = np.repeat(at, hi - lo)
        if len(gid) > self.n:
            tail = self.n + np.nonzero(np.isin(gid[self.n:], groups))[0]
            if len(tail):
                order = np.argsort(groups)
                tail_at = order[np.searchsorted(groups[order], gid[tail])]
                out = np.concatenate([out, tail])
                where = np.concatenate([where, tail_at])
        return out, where

    def merge(self, gid: np.ndarray, ngroups: int = 0) -> None:
        """Merge the members appended since into the sorted order (and make room for ngroups)."""
        new = np.arange(self.n, len(gid))
        g_new = gid[self.n:].astype(np.int64)
        srt = np.argsort(g_new, kind="stable")
        new, g_new = new[srt], g_new[srt]
        ng = max(len(self.bounds) - 1, int(g_new[-1]) + 1 if len(g_new) else 0, ngroups)
        if ng > len(self.bounds) - 1:
            self.bounds = np.concatenate([self.bounds, np.full(ng - len(self.bounds) + 1, self.bounds[-1])])
        # after each group's existing members, so every group stays in member order
        self.order = np.insert(self.order, self.bounds[g_new + 1], new.astype(np.int32))
        self.bounds = self.bounds + np.concatenate(([0], np.cumsum(np.bincount(g_new, minlength=ng))))
        self.n = len(gid)
        self._tail = None
