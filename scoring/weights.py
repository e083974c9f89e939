"""The weights that do not depend on standing, at one scoring time: per row kind, site, age,
sentiment and selectivity; per pair the sums P (with selectivity), P0 (without) and P_then
(as of TREND_DAYS ago). docs/scoring.md, section 2.

Kept from one read to the next while the scoring time and settings stay the same: appended and
tombstoned rows change only their actor-days' selectivity and their pairs' sums, which are
updated by differences. Every summand is snapped to a 2**-32 grid, so the sums so updated are
bit for bit what a full pass gives.
"""
from __future__ import annotations

import numpy as np

from . import model, samewords
from .columns import EMPTY, append, distinct, index64

_BASE = ("keep", "hostile", "person", "w0", "w_then", "wg", "sf", "vol", "sw")  # what _row_base gives
_ZEROED = ("w0", "w_then", "wg", "vol")  # what a tombstoned row or a later copy weighs: nothing, anywhere


class Weights:
    """Row arrays keep, hostile, person, w0, w_then, wg, sf, vol, sw (site weight), sel, c, c_then,
    wgsf, cu (c without its site weight), later (a later copy of another actor's words to the
    same target, samewords.py: its w0, w_then, wg and vol are 0); actor-day volume V; pair sums
    P, P0, P_then and Pu (P without site weights: P / Pu is the pair's site weight, which scales
    its ceiling). After an
    update, `rows` are the rows whose c changed and `pairs` the pairs whose sums may have (None
    after a full pass: everything changed)."""

    def __init__(self, scorer, g, at: float, sig):
        self.sig = sig
        n = g.n
        site_w = _site_weights(scorer)
        (self.keep, self.hostile, self.person, self.w0, self.w_then, self.wg, self.sf,
         self.vol, self.sw) = _row_base(scorer, g, at, slice(0, n), site_w)
        self.later = np.zeros(n, dtype=bool)
        # samewords.candidates over every row, as one mask (not a gather of a million indexes)
        cand = np.flatnonzero(self.keep & self.person & ~self.hostile & (scorer._rows.fp[:n] != 0))
        self.later[cand] = samewords.later_copies(scorer, g, at, cand)
        for name in _ZEROED:
            getattr(self, name)[self.later] = 0.0
        ad, pid = index64(g.ad_id), index64(g.pair_id)  # converted once, not by each call
        self.V = np.bincount(ad, weights=self.vol, minlength=len(g.ad))
        self.sel = np.where(self.person, model.SELECT_K / (model.SELECT_K + self.V[ad]), 1.0)
        self.c = model.snap(self.w0 * self.sf * self.sel)
        self.c_then = model.snap(self.w_then * self.sf * self.sel)
        self.wgsf = model.snap(self.wg * self.sf)
        npairs = len(g.pairs)
        self.P = np.bincount(pid, weights=self.c, minlength=npairs)
        if (site_w == 1.0).all():  # then cu is c, bit for bit (_unweighted), and Pu is P
            self.cu, self.Pu = self.c.copy(), self.P.copy()
        else:
            self.cu = _unweighted(self.c, self.sw)
            self.Pu = np.bincount(pid, weights=self.cu, minlength=npairs)
        self.P0 = np.bincount(pid, weights=self.wgsf, minlength=npairs)
        self.P_then = np.bincount(pid, weights=self.c_then, minlength=npairs)
        self.n = n
        self.rows = self.pairs = None

    def update(self, scorer, g, at: float, killed: np.ndarray) -> None:
        """Take in the rows appended since (self.n .. g.n) and the rows tombstoned (killed)."""
        lo, n = self.n, g.n
        killed = killed[killed < lo]
        if lo == n and not len(killed):
            self.rows, self.pairs = EMPTY, EMPTY
            return
        parts = _row_base(scorer, g, at, slice(lo, n), _site_weights(scorer))
        for name, part in zip(_BASE, parts):
            append(self, name, part)
        for name, fill in (("c", 0.0), ("c_then", 0.0), ("sel", 1.0), ("wgsf", 0.0), ("cu", 0.0), ("later", False)):
            append(self, name, np.full(n - lo, fill))
        if len(killed):
            self.keep[killed] = False
            self.later[killed] = False
            for name in _ZEROED:
                getattr(self, name)[killed] = 0.0
        changed = np.concatenate([killed, np.arange(lo, n)])
        changed = np.concatenate([changed, self._copies(scorer, g, at, changed, lo)])
        old_wgsf = self.wgsf[changed]
        self.wgsf[changed] = model.snap(self.wg[changed] * self.sf[changed])
        # selectivity: every row of a person's actor-day that gained or lost a row is re-weighed
        # (the audience's rows all have selectivity 1: only the changed ones move)
        groups = distinct(g.ad_id[changed[self.person[changed]]])
        append(self, "V", np.zeros(len(g.ad) - len(self.V)))
        rows = distinct(np.concatenate([g.members("rows_by_actor_day", groups, sort=False), changed]))
        self.V[groups] = 0.0
        np.add.at(self.V, g.ad_id[rows], self.vol[rows])
        sel = np.where(self.person[rows], model.SELECT_K / (model.SELECT_K + self.V[g.ad_id[rows]]), 1.0)
        c_new = model.snap(self.w0[rows] * self.sf[rows] * sel)
        ct_new = model.snap(self.w_then[rows] * self.sf[rows] * sel)
        npairs = len(g.pairs)
        for name in ("P", "P0", "P_then", "Pu"):
            append(self, name, np.zeros(npairs - len(getattr(self, name))))
        pid = g.pair_id
        cu_new = _unweighted(c_new, self.sw[rows])
        _add_by_pair(self.P, pid[rows], c_new - self.c[rows])
        _add_by_pair(self.Pu, pid[rows], cu_new - self.cu[rows])
        self.cu[rows] = cu_new
        _add_by_pair(self.P_then, pid[rows], ct_new - self.c_then[rows])
        _add_by_pair(self.P0, pid[changed], self.wgsf[changed] - old_wgsf)
        self.sel[rows], self.c[rows], self.c_then[rows] = sel, c_new, ct_new
        self.n = n
        self.rows = rows
        self.pairs = distinct(pid[rows])

    def _copies(self, scorer, g, at: float, changed: np.ndarray, lo: int) -> np.ndarray:
        """The copy rule again for the (target, fingerprint) groups of the changed rows: new rows
        that are later copies weigh nothing, and older rows whose standing in their group flipped
        (a new earliest copy, the counted copy's item replaced or edited to other words) are
        weighed again, either way, like a tombstoned row. Returns those older rows."""
        rows = samewords.groups_of(scorer, g, changed)
        if not len(rows):
            return EMPTY
        cand = samewords.candidates(scorer, self, rows)
        later = samewords.later_copies(scorer, g, at, cand)
        old = cand < lo
        was = self.later[cand]
        self.later[cand] = later
        for name in _ZEROED:  # (new rows, not later yet, were appended weighed as counted)
            getattr(self, name)[cand[later & ~was]] = 0.0
        to_zero = cand[old & later & ~was]
        to_count = cand[old & ~later & was]
        if len(to_count):
            base = dict(zip(_BASE, _row_base(scorer, g, at, to_count, _site_weights(scorer))))
            for name in _ZEROED:
                getattr(self, name)[to_count] = base[name]
        return np.concatenate([to_zero, to_count])


def _unweighted(c: np.ndarray, sw: np.ndarray) -> np.ndarray:
    # with every site at the default weight 1 this is c itself, bit for bit
    return model.snap(np.divide(c, sw, out=np.zeros(len(c)), where=sw > 0))


def _add_by_pair(total: np.ndarray, pid: np.ndarray, delta: np.ndarray) -> None:
    np.add.at(total, pid, delta)


def signature(scorer, at: float):
    """What a Weights depends on beyond the rows: when it changes, everything is recomputed."""
    return (at, scorer.horizon, tuple(_site_weights(scorer).tolist()), frozenset(scorer._forgotten_ids))


def _site_weights(scorer) -> np.ndarray:
    return np.array([scorer.site_weights.get(name, 1.0) for name in scorer._site_names] or [1.0])


def _row_base(s, g, at: float, rows, site_w: np.ndarray):
    """The base weights (_BASE) of `rows` (a slice or an index array), before the copy rule."""
    R = s._rows
    kind = R.kind[rows]
    t = R.t[rows]
    age = (at - np.where(np.isnan(t), at, t)) / model.DAY
    sw = site_w[R.site[rows]]
    is_aud = kind == model.REACTION
    ca, ct = g.ca[rows], g.ct[rows]
    # kept while standing still counts it; scores stop counting it sooner (w0 is 0 past their limit)
    keep = R.valid[rows] & (age >= 0) & (age < model.age_limit(s.horizon * model.STANDING_AGE_MULT))
    keep &= (ca != ct) & (sw > 0)
    if s._forgotten_ids:
        # by account, not by linked person: forgetting an account that is linked later (or one
        # never seen) must leave the other accounts' rows as a fresh scorer would
        gone = np.fromiter(s._forgotten_ids, dtype=np.int64)
        keep &= ~np.isin(R.target[rows], gone) & ~np.isin(R.actor[rows], gone)
    comp = R.comp[rows]
    bw = np.where(is_aud, R.amount[rows], model.KIND_WEIGHT[kind]) * sw
    w0 = model.snap(bw * model.age_weight(age, s.horizon) * keep)
    w_then = model.snap(bw * model.age_weight(age - model.TREND_DAYS, s.horizon) * keep)
    wg = model.snap(bw * model.age_weight(age, s.horizon * model.STANDING_AGE_MULT) * keep)
    sf = np.where(is_aud, 1.0, model.sentiment_factor(comp))
    hostile = ~is_aud & (comp <= model.HOSTILE)
    vol = np.where(is_aud | hostile, 0.0, w0)  # hostile actions are ignored, volume included
    return keep, hostile, ~is_aud, w0, w_then, wg, sf, vol, sw
