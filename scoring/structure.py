"""How rows group: pairs (actor -> target), actor-days, target-days and topic pairs, and the member
indexes that let an update find what one capture touched without scanning everything.

Built once, then extended in place while rows are only appended; rebuilt when the identity links
change (they change which rows share a pair) or when most rows are new.
"""
from __future__ import annotations

import itertools

import numpy as np

from . import model
from .columns import Groups, Members, append, sort_order

DAYS = 1 << 20  # day slots per identity in group keys (days since 1970 stay far below)
KEY = 1 << 31   # identity slots in pair keys: actor * KEY + target
_TOPIC_SLOT = 1 << 40  # topic pairs keyed by topic * _TOPIC_SLOT + pair


class Structure:
    """Group ids of every row, the pairs' actors, targets and reverse pairs, and (built on first
    use) the member indexes."""

    _merges_left = 1  # index merges this update may still do (_kept_index)
    pd = None  # the pair-day groups, once _days() or pair_days() has built them

    def __init__(self, scorer):
        R = scorer._rows
        n = R.n
        self.n, self.nid = n, len(scorer._names)
        self.links = dict(scorer.links)
        self.canon = scorer._canon()
        ca, ct, pk, adk, tdk = _row_keys(self.canon if self.links else None, R, 0, n)
        self.ca, self.ct = ca.astype(np.int32), ct.astype(np.int32)
        self.pairs = Groups(pk, like=ca * self.nid + ct)  # (actor, target) in fewer bits
        del ca, ct
        self.pair_id = self.pairs.inv
        del pk
        self.ad = Groups(adk)
        self.ad_id = self.ad.inv
        del adk
        self.pairs.inv = self.ad.inv = None  # held as pair_id, ad_id
        self._index = {}
        self._days(tdk)
        del tdk
        self._csr(self._pair_arrays(0))
        self.td_target = self.td.keys() // DAYS
        self._topics(scorer, 0, n, fresh=True)

    # ------------------------------------------------------------ extending

    def extend(self, scorer) -> None:
        R = scorer._rows
        lo, hi = self.n, R.n
        nid = len(scorer._names)
        if nid != self.nid:
            self.canon = np.concatenate([self.canon, np.arange(self.nid, nid, dtype=np.int64)])
            self.nid = nid
        ca, ct, pk, adk, tdk = _row_keys(self.canon if self.links else None, R, lo, hi)
        append(self, "ca", ca)
        append(self, "ct", ct)
        npairs, ntd = len(self.pairs), len(self.td)
        append(self, "pair_id", self.pairs.ids(pk))
        append(self, "ad_id", self.ad.ids(adk))
        append(self, "td_id", self.td.ids(tdk))
        if self.pd is not None:
            append(self, "pd_id", self.pd.ids(_pair_day_keys(self.td_id[lo:hi], self.pair_id[lo:hi])))
        if len(self.pairs) > npairs:
            self._pair_arrays(npairs)
        if len(self.td) > ntd:
            append(self, "td_target", self.td.keys_from(ntd) // DAYS)
        self.n = hi
        self._topics(scorer, lo, hi, fresh=False)
        self._merges_left = 1

    def _pair_arrays(self, first_new: int) -> np.ndarray | None:
        """Actor, target and reverse pair of every pair; only pairs from first_new on are new.
        From 0, returns the pairs in (target, actor) order."""
        if first_new == 0:
            keys = self.pairs.keys()
            pa = self.p_actor = keys // KEY
            pt = self.p_target = keys % KEY
            # a pair and its reverse are the only pairs between their two identities: sorted by
            # the two, unordered, they are neighbours (no search for each pair's reverse key)
            order, key = sort_order(np.minimum(pa, pt) * self.nid + np.maximum(pa, pt))
            two = np.nonzero(key[1:] == key[:-1])[0]
            self.p_rev = np.full(len(keys), -1, dtype=np.int64)
            self.p_rev[order[two]] = order[two + 1]
            self.p_rev[order[two + 1]] = order[two]
            own = np.nonzero(pa == pt)[0]  # an identity's pair with itself is its own reverse
            self.p_rev[own] = own
            return sort_order(pt * self.nid + pa)[0]  # distinct keys: exactly this order
        new = self.pairs.keys_from(first_new)
        na, nt = new // KEY, new % KEY
        append(self, "p_actor", na)
        append(self, "p_target", nt)
        rev = self.pairs.lookup(nt * KEY + na)
        append(self, "p_rev", rev)
        hit = rev >= 0
        self.p_rev[rev[hit]] = np.arange(first_new, first_new + len(new))[hit]  # their reverses now point back

    def _days(self, tdk: np.ndarray) -> None:
        """Target-day ids and, by the same sort, the pair-days (pair_days()): rows sorted by target,
        day and actor are in target-day order and, within a target-day, in pair order (a target's
        pairs are numbered in their actors' order). One key holds the three unless identities
        number millions; then the pair-days wait for their own sort."""
        nid = max(self.nid, 1)
        if not len(tdk) or max(-int(tdk.min()), int(tdk.max())) >= (1 << 62) // nid:
            self.td = Groups(tdk)
            self.td_id = self.td.inv
            self.td.inv = None
            return
        order, key = sort_order(tdk * nid + self.ca)
        self.td, ids = Groups.of_sorted(key // nid)
        del key
        self.td_id = np.empty(len(order), dtype=np.int32)
        self.td_id[order] = ids
        self._pair_days_of(order, _pair_day_keys(ids, self.pair_id[order]))

    def _csr(self, by_target: np.ndarray) -> None:
        """Positions of the standing matrix M[target, actor] in CSR form, fixed for the pairs that
        exist now (pairs added later go into a second, small matrix). by_target: every pair, in
        (target, actor) order."""
        pa, pt = self.p_actor, self.p_target
        order = by_target[pa[by_target] != 0]
        self.csr_pairs = len(pa)
        self.csr_order = order
        self.csr_indices = pa[order].astype(np.int32)
        self.csr_indptr = np.concatenate(([0], np.cumsum(np.bincount(pt[order], minlength=self.nid)))).astype(np.int64)

    def _topics(self, scorer, lo: int, hi: int, fresh: bool) -> None:
        """(row, topic) entries for rows whose item is on a topic, grouped by (topic, pair)."""
        items = scorer._item_topics
        R = scorer._rows
        r_item = R.item[lo:hi]
        if fresh and items:
            topical = np.isin(r_item, np.fromiter(items, dtype=np.int64, count=len(items)))
            rows = np.nonzero(topical)[0] + lo
        elif items:  # a few new rows: look their items up
            rows = np.array([lo + j for j, it in enumerate(r_item.tolist()) if it in items], dtype=np.int64)
        else:
            rows = np.zeros(0, dtype=np.int64)
        rows = rows[R.kind[rows] != model.REACTION]
        per_row = list(map(items.__getitem__, R.item[rows].tolist()))
        e_row = np.repeat(rows, np.fromiter(map(len, per_row), dtype=np.int64, count=len(per_row)))
        e_topic = np.fromiter(itertools.chain.from_iterable(per_row), dtype=np.int64, count=len(e_row))
        tp_key = e_topic * _TOPIC_SLOT + self.pair_id[e_row]
        if fresh:
            self.te_row, self.te_topic = e_row, e_topic
            self.tp = Groups(tp_key)
            self.te_tp = self.tp.inv
            self.tp.inv = None
            keys = self.tp.keys()
            self.tp_topic = keys // _TOPIC_SLOT
            self.tp_pair = keys % _TOPIC_SLOT
            return
        ntp = len(self.tp)
        append(self, "te_row", e_row)
        append(self, "te_topic", e_topic)
        append(self, "te_tp", self.tp.ids(tp_key))
        if len(self.tp) > ntp:
            keys = self.tp.keys_from(ntp)
            append(self, "tp_topic", keys // _TOPIC_SLOT)
            append(self, "tp_pair", keys % _TOPIC_SLOT)

    # ------------------------------------------------------------ member indexes

    def members(self, what: str, groups: np.ndarray, sort: bool = True) -> np.ndarray:
        """Sorted indexes of the members of `groups`, for `what` one of
        rows_by_pair, rows_by_target, rows_by_actor, rows_by_actor_day, rows_by_day (target-days),
        pairs_by_actor, pairs_by_target, days_by_target, topic_entries_by_target."""
        idx, gid = self._kept_index(what)
        return idx.of(groups, gid, sort)

    def _kept_index(self, what: str) -> tuple[Members, np.ndarray]:
        """The index of `what` for a look-up, its appended members merged in when they are many.
        A merge copies the whole index (3-7 ms at a million rows), and the row indexes, which grow
        together, all came due in the same capture: every tenth capture at 1M paid ~22 ms more. So
        an update merges one index at most (another only once its tail is twice MERGE_AT), and
        the merges spread over successive captures."""
        gid, ngroups = self._gid(what)
        idx = self._index.get(what)
        if idx is None:
            idx = self._index[what] = Members(gid, ngroups)
        else:
            tail = len(gid) - idx.n
            if tail > Members.MERGE_AT and (self._merges_left > 0 or tail > 2 * Members.MERGE_AT):
                self._merges_left -= 1
                idx.merge(gid)
        return idx, gid

    def pair_days(self) -> np.ndarray:
        """The pair-day id of every row (numbered in order of target-day, then pair). Built with the
        target-days (_days) or by the first full pass, and kept from then on (extend() gives
        appended rows theirs), so that an update sums its rows' pair-days by id instead of sorting
        them again. The same sort orders rows by target-day: it becomes the rows_by_day index if
        there is none."""
        if self.pd is None:
            key = _pair_day_keys(self.td_id, self.pair_id)
            self._pair_days_of(*sort_order(key))  # a day's rows may come in any order
        return self.pd_id

    def _pair_days_of(self, order: np.ndarray, keys: np.ndarray) -> None:
        """The pair-day groups, given the rows in pair-day order and their keys in that order."""
        self.pd, ids = Groups.of_sorted(keys)
        self.pd_id = np.empty(len(keys), dtype=np.int32)
        self.pd_id[order] = ids
        if "rows_by_day" not in self._index:
            self._index["rows_by_day"] = Members(self.td_id, len(self.td), order)

    def members_of_each(self, what: str, groups: np.ndarray):
        """(members, position in groups of each one's group): see Members.of_each."""
        idx, gid = self._kept_index(what)
        return idx.of_each(groups, gid)

    def index(self, what: str) -> Members:
        """The member index itself, with every member merged into its sorted order."""
        gid, ngroups = self._gid(what)
        idx = self._index.get(what)
        if idx is None:
            idx = self._index[what] = Members(gid, ngroups)
        elif idx.n < len(gid) or len(idx.bounds) - 1 < ngroups:
            idx.merge(gid, ngroups)
        return idx

    def _gid(self, what: str):
        if what == "rows_by_pair":
            return self.pair_id, len(self.pairs)
        if what == "rows_by_target":
            return self.ct, self.nid
        if what == "rows_by_actor":
            return self.ca, self.nid
        if what == "rows_by_actor_day":
            return self.ad_id, len(self.ad)
        if what == "rows_by_day":
            return self.td_id, len(self.td)
        if what == "pairs_by_actor":
            return self.p_actor, self.nid
        if what == "pairs_by_target":
            return self.p_target, self.nid
        if what == "days_by_target":
            return self.td_target, self.nid
        if what == "topic_entries_by_target":
            return self.ct[self.te_row], self.nid
        raise KeyError(what)


def structure(scorer, old: Structure | None) -> Structure:
    """The scorer's structure, extended when rows were only appended, rebuilt otherwise."""
    R = scorer._rows
    if old is not None and old.n == R.n and old.nid == len(scorer._names):
        return old
    if old is None or old.links != scorer.links or R.n - old.n > max(50_000, old.n // 4):
        return Structure(scorer)
    old.extend(scorer)
    return old


def _pair_day_keys(td_id, pair_id):
    """Pair-day keys ordered by target-day, then pair (pair ids stay below KEY)."""
    return td_id.astype(np.int64) * KEY + pair_id


def _row_keys(canon, R, lo, hi):
    """canon: None when every identity is its own canonical one (no links)."""
    if canon is None:
        ca, ct = R.actor[lo:hi].astype(np.int64), R.target[lo:hi].astype(np.int64)
    else:
        ca, ct = canon[R.actor[lo:hi]], canon[R.target[lo:hi]]
    t = R.t[lo:hi]
    day = np.where(np.isnan(t), -1, np.floor(np.nan_to_num(t) / model.DAY)).astype(np.int64) + 1  # 0: undated
    return ca, ct, ca * KEY + ct, ca * DAYS + day, ct * DAYS + day
