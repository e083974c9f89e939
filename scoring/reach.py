"""Reach: how many people a score stands on (docs/scoring.md, section 4, "The reach ceiling").

A target's reach counts the distinct people within REACH_STEPS (3) steps of engagement: who
engaged it, who engaged those, and one step further; each once however often, each weighted by
their widest path's narrowest presence (a pair's most recent positive row's age weight, aged as
standing is; a path is as old as its oldest step); the target itself left out. The anonymous
audience cannot be told apart from those people, so the accounts other than the author that its
largest count of one reaction on one item shows stand in for them when they are more (one
account gives one like, but may give a like, a heart and a rocket). A score is never above what
R10 raw per person within reach would give: 10 + 10 log3(reach) points. So 3 people allow 20
points, 9 allow 30, 27 allow 40, whatever standing they lend each other.

Why: standing (PageRank) cannot tell a closed group that engages only itself from friends,
because a group's members lend each other standing however few they are (property 9's
skip-cycle and two-level star). Reach does: ten accounts have at most nine others within any
number of steps of any of them. A real person's standing comes from people, and those people are
within reach of whomever that person engages, so the ceiling stays above them.

Every summand is snapped, so a reach is the same sum in any order and in any batch of targets
(property 13); a reach only grows with a positive interaction (property 1); and each summand
falls at most as fast as standing's age weight, so a silent score's ceiling falls no faster than
its score may (property 7).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import model
from .columns import index64

try:
    from . import _reach  # the per-target search in C (setup.py builds it when it can)
except ImportError:  # pragma: no cover - exercised by the tests that block it
    _reach = None

# A search goes on to SLACK times the reach a target's raw needs, so that the bound it leaves
# covers the small rises of raw that a capture's standing changes bring, without a search each time.
SLACK = 1.25
THREADED = 1000  # targets from which a C search is split over two threads
FULL = model.RATIO_PER_10 ** 9  # the people whose reach allows 100 points: 19,683


def row_presence(R, W, rows) -> np.ndarray:
    """How many people a row shows within reach of its target: for a person's positive row its
    actor, as much as its age weight (hostile rows and later copies: 0); for the audience's row
    the accounts other than the author that its item's largest count of one reaction shows,
    times its age weight; times the site's weight."""
    kind = R.kind[rows]
    aud = kind == model.REACTION
    amount = R.amount[rows]
    base = np.where(aud, amount, model.KIND_WEIGHT[kind]) * W.sw[rows]
    # aged as standing is, six times slower than scores: reach is the network a person stands in
    wg = W.wg[rows]
    age = np.divide(wg, base, out=np.zeros(len(wg)), where=base > 0)
    # one reaction of a kind per account: the largest count is that many accounts, the author
    # perhaps one of them (a site may count its author's own like or point)
    count = np.where(aud, np.maximum(R.crowd[rows] - 1.0, 0.0), 1.0)
    ok = (wg > 0) & (aud | (W.sf[rows] > 0))
    # a site weighted 2 makes each of its people count twice here too, as it does their rows
    return model.snap(np.where(ok, np.minimum(age, 1.0) * count * W.sw[rows], 0.0))


def pair_presence(g, R, W, pairs=None) -> np.ndarray:
    """Each pair's presence: its rows' largest. pairs: indexes (the pairs of those alone, in
    their order), or None for every pair."""
    if pairs is None:
        out = np.zeros(len(g.pairs))
        np.maximum.at(out, index64(g.pair_id), row_presence(R, W, slice(0, g.n)))
        return out
    rows, pos = g.members_of_each("rows_by_pair", pairs)
    out = np.zeros(len(pairs))
    np.maximum.at(out, pos, row_presence(R, W, rows))
    return out


def audience_of(g, D, targets: np.ndarray) -> np.ndarray:
    """Each target's audience presence (its largest reaction count, aged), 0 for none."""
    q, pos = g.members_of_each("pairs_by_target", targets)
    out = np.zeros(len(targets))
    np.maximum.at(out, pos, np.where(D.person[q], 0.0, D.pres[q]))
    return out


def lower_bounds(g, D, targets: np.ndarray) -> np.ndarray:
    """A bound under each target's reach: its direct engagers alone (or its audience)."""
    q, pos = g.members_of_each("pairs_by_target", targets)
    named = np.bincount(pos, weights=np.where(D.person[q], D.pres[q], 0.0), minlength=len(targets))
    return np.maximum(named, audience_of(g, D, targets))


def _engagers(g, D, people: np.ndarray):
    """(engager, presence, position in people) of the people's positive person pairs."""
    q, pos = g.members_of_each("pairs_by_target", people)
    ok = D.person[q] & (D.pres[q] > 0)
    q, pos = q[ok], pos[ok]
    return g.p_actor[q].astype(np.int64), D.pres[q], pos


def _best(key: np.ndarray, weight: np.ndarray):
    """The distinct keys, sorted, and each one's largest weight."""
    if not len(key):
        return key, weight
    order = np.argsort(key, kind="stable")
    key, weight = key[order], weight[order]
    runs = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    return key[runs], np.maximum.reduceat(weight, runs)


def reach(g, D, targets: np.ndarray, enough: np.ndarray | None = None) -> np.ndarray:
    """The reach of each of the distinct targets, exactly: the widest path (its narrowest step's
    presence) of at most REACH_STEPS steps from each person, summed over the people. Found one
    step further at a time, going on only from the people whose best path just widened. With
    `enough` (one per target), a target whose reach so far is already that much is not followed
    further: its result is then only known to be at least `enough`."""
    k = len(targets)
    if not k:
        return np.zeros(0)
    targets = np.asarray(targets, dtype=np.int64)
    audience = audience_of(g, D, targets)
    span = int(g.nid) + 1
    known_key, known_w = np.zeros(0, dtype=np.int64), np.zeros(0)
    # the frontier: (target position, person, width of the best path to them found last step)
    at, who, width = np.arange(k), targets, np.full(k, np.inf)
    for _ in range(model.REACH_STEPS):
        if not len(at):
            break
        each, which = np.unique(who, return_inverse=True)
        engager, pres, epos = _engagers(g, D, each)
        order = np.argsort(epos, kind="stable")
        engager, pres = engager[order], pres[order]
        counts = np.bincount(epos, minlength=len(each))
        starts = np.cumsum(counts) - counts
        n = counts[which]
        src = np.repeat(starts[which] - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
        via = np.repeat(np.arange(len(at)), n)
        at2, who2 = at[via], engager[src]
        w2 = np.minimum(width[via], pres[src])
        mine = who2 != targets[at2]
        key, w2 = _best(at2[mine] * span + who2[mine], w2[mine])
        # keep what widens a path known before, and go on from there
        before = np.zeros(len(key))
        if len(known_key):
            i = np.searchsorted(known_key, key)
            found = i < len(known_key)
            found[found] = known_key[i[found]] == key[found]
            before[found] = known_w[i[found]]
        wider = w2 > before
        key, w2 = key[wider], w2[wider]
        known_key, known_w = _best(np.concatenate([known_key, key]), np.concatenate([known_w, w2]))
        at, who, width = key // span, key % span, w2
        if enough is not None and len(at):
            done = np.bincount(known_key // span, weights=known_w, minlength=k) >= enough
            go = ~done[at]
            at, who, width = at[go], who[go], width[go]
    named = np.bincount(known_key // span, weights=known_w, minlength=k)
    return np.maximum(named, audience)


def _chained_bounds(g, D) -> np.ndarray:
    """A bound under every node's reach, from whole-graph sums only: its direct engagers; one
    engager f and f's own engagers (each at least as wide as the product of its two steps'
    presences, each taken at most 1); and, a step further, one engager's such bound scaled by
    its presence. Most targets a full pass would otherwise search are settled here."""
    n = g.nid
    npairs = len(D.pres)
    pa, pt = g.p_actor[:npairs], g.p_target[:npairs]
    person = D.person & (D.pres > 0)
    named = np.bincount(pt, weights=np.where(D.person, D.pres, 0.0), minlength=n)
    audience = np.zeros(n)
    np.maximum.at(audience, pt, np.where(D.person, 0.0, D.pres))
    q = np.flatnonzero(person)
    a = np.minimum(D.pres[q], 1.0)
    qa, qt = pa[q], pt[q]
    one = np.bincount(qt, weights=a, minlength=n)
    rev = g.p_rev[q]
    back = np.zeros(len(q))  # T's own presence among its engager's engagers (T is no one to itself)
    has = (rev >= 0)
    back[has] = np.where(person[rev[has]], np.minimum(D.pres[rev[has]], 1.0), 0.0)
    two = one.copy()
    np.maximum.at(two, qt, a * (1.0 + one[qa] - back))
    three = two.copy()
    np.maximum.at(three, qt, a * two[qa])
    return np.maximum(np.maximum(named, audience), three)


def reach_c(g, D, targets: np.ndarray, enough: np.ndarray) -> np.ndarray:
    """reach(g, D, targets, enough) by the C search, over the pairs-by-target index as it is kept
    (an update merges one index at most: the pairs appended since go in as a tail, by target)."""
    idx, gid = g._kept_index("pairs_by_target")
    nid = g.nid
    indptr = idx.bounds[: nid + 1]
    if len(indptr) < nid + 1:
        indptr = np.concatenate([indptr, np.full(nid + 1 - len(indptr), indptr[-1])])
    tail = np.arange(idx.n, len(gid))
    tail_order = tail[np.argsort(gid[tail], kind="stable")].astype(np.int32)
    tail_indptr = np.zeros(nid + 1, dtype=np.int64)
    np.cumsum(np.bincount(gid[tail], minlength=nid)[:nid], out=tail_indptr[1:])
    npairs = len(g.pairs)
    targets = np.asarray(targets, dtype=np.int64)
    enough = np.asarray(enough, dtype=np.float64)
    out = np.zeros(len(targets))
    pairs = (np.ascontiguousarray(indptr, dtype=np.int64), idx.order, tail_indptr, tail_order,
             g.p_actor[:npairs], D.person[:npairs], D.pres[:npairs])

    def search(part):
        these = np.ascontiguousarray(targets[part])
        found = np.zeros(len(these))
        _reach.reach(*pairs, these, np.ascontiguousarray(enough[part]), model.REACH_STEPS, found)
        out[part] = found
    # the search lets go of the GIL: a full pass's thousands of targets go to two threads, every
    # other one each (a graph's hubs, the long searches, are spread over both)
    if len(targets) >= THREADED and (os.cpu_count() or 1) > 1:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(search, (slice(0, None, 2), slice(1, None, 2))))
    else:
        search(slice(None))
    return np.maximum(out, audience_of(g, D, targets))


def ceiling(g, D, targets: np.ndarray | None, raw: np.ndarray, known: np.ndarray | None = None,
            exact: np.ndarray | None = None):
    """(points, effective raw, a bound under each reach, whether it is the reach itself) of the
    targets (None: every node) given their raw: the reach ceiling applied where it can bind.
    known, exact (given with targets): what was found before (a bound still, while no presence
    fell; the reach itself while no presence near it moved). A held target's bound is its reach. The direct engagers bound a reach from below too; a target
    above what its bound allows is searched until its reach allows SLACK times its raw or the
    search ends, and what the search found is kept."""
    raw = np.asarray(raw, dtype=float)
    every = targets is None
    if every:
        targets = np.arange(g.nid)
        bound = _chained_bounds(g, D)
        exact = np.zeros(g.nid, dtype=bool)
    else:
        bound, exact = known.copy(), exact.copy()
        may = np.flatnonzero(~exact & (raw > model.R10 * bound) & (bound < FULL))
        bound[may] = np.maximum(bound[may], lower_bounds(g, D, targets[may]))
    may = np.flatnonzero(~exact & (raw > model.R10 * bound) & (bound < FULL))
    if len(may):
        # past FULL people the ceiling is at 100 points already: no search needs to go further
        enough = np.minimum(SLACK * raw[may] / model.R10, FULL)
        found = (reach if _reach is None else reach_c)(g, D, targets[may], enough)
        bound[may] = found
        exact[may] = found < enough
    held = exact & (raw > model.R10 * bound)  # (exact: below FULL, where the ceiling is under 100)
    eff = np.where(held, model.R10 * bound, raw)
    return model.points(eff), eff, bound, exact
