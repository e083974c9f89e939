"""Everything that depends on standing, kept from one read to the next: pair values, standing,
the people view, the days view and the raw score of every identity (docs/scoring.md, 2-4).

A full pass computes it all with vector operations over every row and pair. After a capture an
update follows what changed: the capture's rows change their actor-days' selectivity and their
pairs' sums (weights.py); those pairs change their actors' shares of standing; standing changes
are pushed out from there (standing.py) until every residual is below STANDING_TOL; pairs whose
weight can have moved are re-weighed, and only their targets' rows and days are recomputed. The
per-identity sums are snapped sums updated by differences, so they equal a full pass's bit for bit
given the same standings; standings agree with a full pass to STANDING_TOL, and a standing is
passed on to pair weights once it has moved by more than STANDING_STALE (absolute) since it was
last passed on, so the two differ by at most that much.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import model
from .columns import EMPTY, distinct, grow, index64
from .reach import ceiling, pair_presence
from .standing import push, solve

_PAIR_F = ("gP", "g0", "phi", "val", "share", "aw", "ceil", "pv", "pc", "sw", "pres")
_NODE_F = (("out", 0.0), ("s", 1.0), ("r", 0.0), ("su", 1.0), ("raw_p", 0.0), ("raw", 0.0), ("eff", 0.0), ("reach_lb", 0.0), ("points", 1.0))


def _add(total: np.ndarray, idx: np.ndarray, delta) -> None:
    np.add.at(total, index64(idx), delta)


def _cat(*parts, size: int = 0) -> np.ndarray:
    """The distinct values of all parts, sorted. With size (an upper bound of the values) and many
    values, through a mask instead of a sort."""
    parts = [np.asarray(p, dtype=np.int64) for p in parts if len(p)]
    if not parts:
        return EMPTY
    total = sum(map(len, parts))
    if size and total * 8 > size:
        mask = np.zeros(size, dtype=bool)
        for p in parts:
            mask[p] = True
        return np.nonzero(mask)[0]
    return distinct(np.concatenate(parts))


def _reciprocated(rev: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Positions of the people's pairs whose reverse pair exists: what depends on the reverse is
    gathered for those alone (most pairs have none: 1,240 of 1.09M in the 1M bench)."""
    return np.nonzero((rev >= 0) & person)[0]


class Derived:
    """Pair arrays gP, g0, phi, val, share, aw, ceil, pv, engaged; node arrays out, s (standing), r (its
    residual), su (standing as pair weights last used it), k_in (distinct engagers), raw_p
    (people view), raw, points, score; target-day arrays B (what the day alone adds), bmax,
    dratio (the share of B over the cap); row arrays r_people, r_burst (the row's part of B),
    b_pd (its pair-day's part of B), contrib. bmax is kept for the days above DAY_CAP_FLOOR only
    (the only ones it can cap)."""

    def __init__(self, scorer, g, W, warm: "Derived | None" = None):
        self.horizon = scorer.horizon
        nid, npairs, ntd = g.nid, len(g.pairs), len(g.td)
        pa, pt = g.p_actor, g.p_target
        self.person = pa != 0
        self.cap = np.where(self.person, model.PAIR_CAP, model.AUDIENCE_CAP)
        for name in _PAIR_F:
            setattr(self, name, np.zeros(npairs))
        self.engaged = np.zeros(npairs, dtype=bool)
        every = slice(None)
        self._gains(g, W, every)
        self.out = np.bincount(pa, weights=np.where(self.person, self.g0, 0.0), minlength=nid)
        self._shares(g, every)
        s0 = None
        if warm is not None and len(warm.s) <= nid:
            s0 = np.ones(nid)
            s0[: len(warm.s)] = warm.s
        self.s, self.r, self.iterations = solve(self._matrix(g), s0)
        self.su = self.s.copy()
        self.k_in = np.bincount(pt[self.engaged], minlength=nid)
        self._pair_weights(g, every)
        self.raw_p = np.bincount(pt, weights=self.pv, minlength=nid)
        pid = index64(g.pair_id)  # converted once, for the gathers and sums by pair
        self.r_people = model.snap(W.c * self._ratio(W, pid))
        self.r_burst, self.b_pd = self._alone(g, W, every, g.pair_days())
        self.B = np.bincount(index64(g.td_id), weights=self.r_burst, minlength=ntd)
        self.bmax = np.zeros(ntd)
        by_day = g.index("rows_by_day")
        b = by_day.bounds
        full = np.nonzero(b[:-1] < b[1:])[0]
        if len(full):
            self.bmax[full] = np.maximum.reduceat(self.b_pd[by_day.order], b[full])
        self.dratio = np.zeros(ntd)
        self.dratio[:] = self._day_ratio(g, every)
        self.contrib = self._contrib(g, slice(None))
        self.raw = np.bincount(index64(g.ct), weights=self.contrib, minlength=nid)
        self.pc = np.bincount(pid, weights=self.contrib, minlength=npairs)
        self.mark = np.zeros(g.n, dtype=bool)
        self.pd_sum = np.zeros(len(g.pd))
        self.rows_of = scorer._rows
        self.pres = pair_presence(g, self.rows_of, W)
        self.points, self.eff, self.reach_lb, self.reach_exact = ceiling(g, self, None, self.raw)
        self.score = model.to_score(self.points)
        self.pushed = self.stale = 0

    # ------------------------------------------------------------ the formulas, on any subset

    def _gains(self, g, W, p):
        """Diminishing returns and reciprocity (section 2): what a pair is worth, before standing."""
        cap = self.cap[p]
        self.gP[p] = model.saturate(W.P[p], cap)
        self.g0[p] = model.snap(model.saturate(W.P0[p], cap))
        rev = g.p_rev[p]
        person = self.person[p]
        at = _reciprocated(rev, person)
        P_rev = np.zeros(len(rev))
        P_rev[at] = W.P0[rev[at]]
        self.phi[p] = model.RECIP_FREE / np.maximum(model.RECIP_FREE, P_rev)
        self.val[p] = self.gP[p] * self.phi[p]
        self.engaged[p] = person & (self.g0[p] > 0)  # standing's view: it outlasts the score's
        P, Pu = W.P[p], W.Pu[p]
        self.sw[p] = np.divide(P, Pu, out=np.ones(len(P)), where=Pu > 0)

    def _shares(self, g, p):
        """Each actor's standing goes out in proportion to g(P0); the part reciprocity removes is
        not passed on (section 3). Needs the actors' `out` to be current."""
        o = self.out[g.p_actor[p]]
        ok = self.person[p] & (o > 0)
        self.share[p] = np.where(ok, self.g0[p] * self.phi[p] / np.where(ok, o, 1.0), 0.0)

    def _pair_weights(self, g, p):
        """A's standing as it weighs what A gives T: without T's own echo, scaled by A's distinct
        engagers (T left out), squared and capped (section 3); and the ceiling on what the pair
        is worth when A lends no standing (section 2)."""
        pa, pt, rev = g.p_actor[p], g.p_target[p], g.p_rev[p]
        person = self.person[p]
        at = _reciprocated(rev, person)
        r = rev[at]
        echo = np.zeros(len(rev))
        echo[at] = model.DAMPING * self.share[r] * self.su[pt[at]]
        s_pair = np.maximum(self.su[pa] - echo, 1.0)
        k_pair = self.k_in[pa]
        k_pair[at] -= self.engaged[r]
        s_pair = 1.0 + (s_pair - 1.0) * np.minimum(1.0, k_pair / model.STANDING_PEOPLE)
        self.aw[p] = np.where(person, model.standing_weight(s_pair), 1.0)
        # a site weighted 0.25 makes a pair at its ceiling worth a quarter too, not as much as ever
        self.ceil[p] = np.where(person, model.pair_ceiling(s_pair) * self.sw[p], np.inf)
        self.pv[p] = model.snap(self.aw[p] * np.minimum(self.gP[p], self.ceil[p]) * self.phi[p])

    def _worth(self, p, P):
        """What pairs p would be worth with sums P instead of their own (the trend's sums of a week
        ago, a topic's share): the pair curve, the ceiling, reciprocity and standing as they are."""
        return self.aw[p] * np.minimum(model.saturate(P, self.cap[p]), self.ceil[p]) * self.phi[p]

    def _ratio(self, W, pid):
        """Each pair's weighted value per unit of its rows' contributions (its rows' share)."""
        P = W.P[pid]
        return np.divide(self.pv[pid], P, out=np.zeros(len(P)), where=P > 0)

    def _alone(self, g, W, rows: np.ndarray | slice, pair_day: np.ndarray | None = None):
        """What each row's day alone adds to its pair (section 4), for rows that are all the rows
        of their pairs: b = aw * phi * (g(P) - g(P - c_pd)), c_pd being the pair's sum on that
        day, split over the pair-day's rows in proportion to c. Returns (the row's part, its
        pair-day's b; pair_day: the rows' pair-day groups when the caller has them). A row added
        to a pair raises its own day's b by exactly what it adds to the pair's value and lowers
        the pair's other days' b (g is concave): so capping days on b can never make a positive
        interaction lower its target's score. rows: indexes, or a slice of every row (with
        pair_day)."""
        if not isinstance(rows, slice):
            rows = np.asarray(rows, dtype=np.int64)
        c = W.c[rows]
        if not len(c):
            return np.zeros(0), np.zeros(0)
        pid = index64(g.pair_id[rows])
        # c is snapped: the pair-day sums are exact in any order
        if pair_day is not None:
            pair_day = index64(pair_day)
            cpd = np.bincount(pair_day, weights=c)[pair_day]
        else:  # a few rows: summed by their kept pair-day ids in a scratch array, cleared after
            pd = index64(g.pair_days()[rows])
            grow(self, "pd_sum", len(g.pd), 0.0)
            np.add.at(self.pd_sum, pd, c)
            cpd = self.pd_sum[pd]
            self.pd_sum[pd] = 0.0
        cap, P, gP, top = self.cap[pid], W.P[pid], self.gP[pid], self.ceil[pid]
        # g(P) - g(P - c) = cap * exp(-P/cap) * expm1(c/cap): no cancellation when c << P
        alone = cap * np.exp(-P / cap) * np.expm1(np.minimum(cpd, P) / cap)
        # under a ceiling the pair's value is min(g, top): what the day adds is what it adds below it
        alone = np.where(gP <= top, alone, np.maximum(top - (gP - alone), 0.0))
        worth = np.minimum(gP, top)
        unit = np.divide(self.pv[pid], worth, out=np.zeros(len(c)), where=worth > 0)
        b_pd = model.snap(unit * alone)
        part = model.snap(np.divide(b_pd * c, cpd, out=np.zeros(len(c)), where=cpd > 0))
        return np.minimum(part, self.r_people[rows]), b_pd

    def _day_ratio(self, g, d):
        """Days view (section 4): what a target's day alone adds counts at most kappa; the share
        of it over kappa is taken off that day's rows."""
        usual = self.raw_p[g.td_target[d]] / model.effective_days(self.horizon)
        kappa = np.maximum(np.maximum(model.DAY_CAP_FLOOR, model.DAY_CAP_MULT * usual), self.bmax[d])
        B = self.B[d]
        return np.divide(np.maximum(B - kappa, 0.0), B, out=np.zeros(len(B)), where=B > 0)

    def _contrib(self, g, rows):
        return model.snap(self.r_people[rows] - self.r_burst[rows] * self.dratio[index64(g.td_id[rows])])

    def _matrix(self, g):
        """M[target, actor] = share, at the CSR positions of the structure, plus the pairs added
        since the structure was built."""
        nid = g.nid
        indptr = g.csr_indptr
        if len(indptr) != nid + 1:
            indptr = np.concatenate([indptr, np.full(nid + 1 - len(indptr), indptr[-1])])
        mats = [sp.csr_matrix((self.share[g.csr_order], g.csr_indices, indptr), shape=(nid, nid))]
        extra = np.arange(g.csr_pairs, len(g.pairs))
        extra = extra[self.person[extra]]
        if len(extra):
            mats.append(sp.csr_matrix((self.share[extra], (g.p_target[extra], g.p_actor[extra])), shape=(nid, nid)))
        return mats

    # ------------------------------------------------------------ local update

    def _grow(self, g, W):
        nid, npairs, ntd, n = g.nid, len(g.pairs), len(g.td), g.n
        old = len(self.gP)
        if npairs > old:
            person = g.p_actor[old:npairs] != 0
            grow(self, "person", npairs, False)
            self.person[old:] = person
            grow(self, "cap", npairs, model.PAIR_CAP)
            self.cap[old:] = np.where(person, model.PAIR_CAP, model.AUDIENCE_CAP)
            for name in _PAIR_F:
                grow(self, name, npairs, 0.0)
            grow(self, "engaged", npairs, False)
        for name, fill in _NODE_F:
            grow(self, name, nid, fill)
        grow(self, "k_in", nid, 0)
        grow(self, "reach_exact", nid, False)
        grow(self, "score", nid, 1)
        for name in ("B", "bmax", "dratio"):
            grow(self, name, ntd, 0.0)
        for name in ("r_people", "r_burst", "b_pd", "contrib"):
            grow(self, name, n, 0.0)
        grow(self, "mark", n, False)

    def update(self, g, W) -> None:
        """Follow the rows and pairs W's last update changed through to every raw score."""
        self._grow(g, W)
        Pc, Rc = W.pairs, W.rows
        if not len(Pc) and not len(Rc):
            return
        pa, pt, prev = g.p_actor, g.p_target, g.p_rev
        rev = prev[Pc]
        P2 = _cat(Pc, rev[rev >= 0])  # a pair's reciprocity discount depends on its reverse's P0
        engaged_before = self.engaged[P2].copy()
        self._gains(g, W, P2)
        flips = P2[self.engaged[P2] != engaged_before]

        # shares: the actors of changed pairs re-split their standing over all their pairs
        actors = distinct(pa[Pc])
        actors = actors[actors != 0]
        mine = g.members("pairs_by_actor", actors, sort=False)
        self.out[actors] = 0.0
        _add(self.out, pa[mine], self.g0[mine])
        actors = _cat(actors, pa[P2])
        actors = actors[actors != 0]
        ps = g.members("pairs_by_actor", actors)
        before = self.share[ps].copy()
        self._shares(g, ps)
        dsh = self.share[ps] - before
        moved = dsh != 0
        ps, dsh = ps[moved], dsh[moved]

        # standing: the residual the new shares leave at the old standing, pushed out
        _add(self.r, pt[ps], model.DAMPING * dsh * self.s[pa[ps]])

        def out_pairs(nodes):
            q = g.members("pairs_by_actor", nodes, sort=False)
            return q, pa[q]

        pushed = push(self.s, self.r, out_pairs, pt, self.share, pt[ps])
        # absolute, not relative: the echo subtracts one large standing from another, so a relative
        # threshold let a lent standing near 1 drift by STANDING_STALE times a standing of 1,000
        stale = pushed[np.abs(self.s[pushed] - self.su[pushed]) > model.STANDING_STALE]
        self.su[stale] = self.s[stale]
        self.pushed, self.stale = len(pushed), len(stale)
        if len(flips):
            _add(self.k_in, pt[flips], np.where(self.engaged[flips], 1, -1))

        # pair weights: what changed value, what an actor with a new standing or engager count
        # gives, what a changed share echoes, what a target with a new standing echoes (A -> T
        # has an echo only if T -> A exists: the reverses of T's own pairs)
        rps = prev[ps]
        mine = g.members("pairs_by_actor", _cat(stale, pt[flips]), sort=False)
        back = prev[g.members("pairs_by_actor", stale, sort=False)]
        pw = _cat(P2, rps[rps >= 0], mine, back[back >= 0])
        before = self.pv[pw].copy()
        self._pair_weights(g, pw)
        dpv = self.pv[pw] - before
        moved = dpv != 0
        pw, dpv = pw[moved], dpv[moved]
        _add(self.raw_p, pt[pw], dpv)
        usual_moved = distinct(pt[pw])

        # rows: the people view of every row whose pair's value or sum moved, then their days
        # (the rows of distinct pairs are distinct, and every row in Rc belongs to a pair in Pc)
        rows = g.members("rows_by_pair", _cat(pw, Pc), sort=False)
        self.r_people[rows] = model.snap(W.c[rows] * self._ratio(W, index64(g.pair_id[rows])))
        before = self.r_burst[rows].copy()
        self.r_burst[rows], self.b_pd[rows] = self._alone(g, W, rows)
        r_td = index64(g.td_id[rows])
        _add(self.B, r_td, self.r_burst[rows] - before)
        days = _cat(r_td, size=len(g.td))
        # a day's strongest pair-day only matters once the day is above DAY_CAP_FLOOR (below it
        # the day is never capped): bmax is kept for those days only
        heavy = days[self.B[days] > model.DAY_CAP_FLOOR]
        in_days = g.members("rows_by_day", heavy, sort=False)
        self.bmax[heavy] = 0.0
        np.maximum.at(self.bmax, index64(g.td_id[in_days]), self.b_pd[in_days])
        # a new usual day moves the cap of those targets' days, but a day below DAY_CAP_FLOOR is
        # never capped whatever the cap, nor is a day whose strongest pair is all it adds (kappa is
        # never below that pair's b): most days of a sparse graph have one pair
        heavy = g.members("days_by_target", usual_moved, sort=False)
        B = self.B[heavy]
        days = _cat(days, heavy[(B > model.DAY_CAP_FLOOR) & (B > self.bmax[heavy])])
        before = self.dratio[days].copy()
        self.dratio[days] = self._day_ratio(g, days)
        capped = days[self.dratio[days] != before]
        if len(capped):
            more = g.members("rows_by_day", capped, sort=False)
            self.mark[rows] = True  # a scratch mask: the rows already taken, cleared at once
            more = more[~self.mark[more]]
            self.mark[rows] = False
            rows = np.concatenate([rows, more])
        before = self.contrib[rows].copy()
        self.contrib[rows] = self._contrib(g, rows)
        r_ct = index64(g.ct[rows])
        dc = self.contrib[rows] - before
        _add(self.raw, r_ct, dc)
        _add(self.pc, g.pair_id[rows], dc)
        # reach (reach.py): a pair's presence moves its target's reach and, a step further each
        # time, the reach of everyone that target engages, up to REACH_STEPS steps. A reach that
        # only grew leaves a target's ceiling where it was, or higher: only those it held, and
        # those whose raw moved, are looked at again, from the bounds found before. A presence
        # that fell (a removed or edited item) voids the bounds of everyone it reaches.
        before = self.pres[Pc].copy()
        self.pres[Pc] = pair_presence(g, self.rows_of, W, Pc)
        fell = bool((self.pres[Pc] < before).any())
        near = reached = distinct(pt[Pc[self.pres[Pc] != before]])
        for _ in range(model.REACH_STEPS - 1):
            on = g.members("pairs_by_actor", near[near != 0], sort=False)
            near = _cat(pt[on[self.person[on] & (self.pres[on] > 0)]], size=g.nid)
            reached = _cat(reached, near, size=g.nid)
        self.reach_exact[reached] = False
        if fell:
            self.reach_lb[reached] = 0.0
        else:
            reached = reached[self.eff[reached] < self.raw[reached]]
        targets = _cat(r_ct, usual_moved, reached, size=g.nid)
        (self.points[targets], self.eff[targets], self.reach_lb[targets],
         self.reach_exact[targets]) = ceiling(g, self, targets, self.raw[targets], self.reach_lb[targets],
                                              self.reach_exact[targets])
        self.score[targets] = model.to_score(self.points[targets])

    # ------------------------------------------------------------ what a read needs

    def standing_shown(self, i):
        """What an identity lends, as shown in results: the distinct-people rule, nobody left out."""
        return 1.0 + (self.su[i] - 1.0) * np.minimum(1.0, self.k_in[i] / model.STANDING_PEOPLE)

    def facts(self, g, W, targets: np.ndarray, rows: np.ndarray, pos: np.ndarray, q: np.ndarray,
              qpos: np.ndarray) -> dict:
        """For distinct targets, given their rows and pairs with each one's target position:
        hostile count and weight, counted interactions, distinct people and trend, in the
        targets' order."""
        k = len(targets)
        hk = W.hostile[rows] & (W.w0[rows] > 0)  # within the scores' age limit
        hostile = rows[hk]
        counted = W.person[rows] & (W.c[rows] > 0)
        then = np.bincount(qpos, weights=self._worth(q, W.P_then[q]), minlength=k)
        return {
            "neg_count": np.bincount(pos[hk], minlength=k),
            "neg_weight": np.bincount(pos[hk], weights=W.w0[hostile] * W.sel[hostile], minlength=k),
            "n_inter": np.bincount(pos[counted], minlength=k),
            "n_people": np.bincount(qpos[self.person[q] & (W.P[q] > 0)], minlength=k),
            "trend": model.points(self.raw_p[targets]) - model.points(then),
        }

    def topics(self, g, W, targets: np.ndarray) -> dict[int, dict[int, int]]:
        """Topic scores of the targets: the people view restricted to each topic's rows, shown
        with enough evidence (property 12)."""
        e = g.members("topic_entries_by_target", distinct(targets))
        if not len(e):
            return {}
        te_row = g.te_row[e]
        counted = W.person[te_row] & (W.c[te_row] > 0)
        tp, inv = np.unique(g.te_tp[e], return_inverse=True)
        Pt = np.bincount(inv, weights=W.c[te_row] * counted, minlength=len(tp))
        tpair = g.tp_pair[tp]
        tval = self._worth(tpair, Pt)
        key = g.tp_topic[tp] * g.nid + g.p_target[tpair]
        keys, kinv = np.unique(key, return_inverse=True)
        traw = np.bincount(kinv, weights=tval, minlength=len(keys))
        tpeople = np.bincount(kinv, weights=(Pt > 0), minlength=len(keys))
        tn = np.bincount(kinv[inv], weights=counted, minlength=len(keys))
        ok = (tn >= model.TOPIC_MIN_INTERACTIONS) & (tpeople >= model.TOPIC_MIN_PEOPLE)
        out: dict[int, dict[int, int]] = {}
        shown = keys % g.nid
        # A topic is part of what the person receives: never more than their score, which the
        # days view may have capped (a birthday burst tagged #birthday) while this people view is not.
        scores = np.minimum(model.to_score(model.points(traw[ok])), self.score[shown[ok]])
        for t, topic, sc in zip(shown[ok].tolist(), (keys // g.nid)[ok].tolist(), scores.tolist()):
            out.setdefault(t, {})[topic] = sc
        return out
