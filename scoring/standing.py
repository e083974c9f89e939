"""Standing: weighted PageRank, solved in the form that lets one capture update it locally.

PageRank with damping d, uniform teleport, and the mass a node does not pass on (dangling or
removed by reciprocity) spread uniformly is  x = d M x + c 1,  c = (d leak.x + 1 - d) / n, where
M[t, a] is the share of a's mass passed to t (columns sum to at most 1). c is also the PageRank
of a node nobody links to, so standing relative to that node, s = x / c, solves

    s = 1 + d M s

with no global normalisation: s = (I - d M)^-1 1, and x = s / sum(s). A change to a few columns
of M (one actor's shares) changes s mostly near that actor, so an update can push the change
out from where it happened (Gauss-Southwell residual pushing) instead of iterating over the
whole graph. Both ways keep the residual r = 1 + d M s - s below `tol` at every node, which
bounds the relative error of every s by tol, since (I - d M)^-1 |r| <= tol (I - d M)^-1 1 = tol s.
"""
from __future__ import annotations

import math

import numpy as np

from . import model
from .columns import EMPTY, distinct


def solve(matrices, s0: np.ndarray | None = None, damping: float = model.DAMPING,
          tol: float = model.STANDING_TOL, max_iter: int = model.PR_MAX_ITER):
    """s = 1 + d M s by power iteration (M given as one sparse matrix or a list whose sum it is).
    Returns (s, r, iterations) with r = 1 + d M s - s, the residual of the returned s, every
    entry below tol."""
    mats = matrices if isinstance(matrices, (list, tuple)) else [matrices]
    n = mats[0].shape[0]
    s = np.ones(n) if s0 is None else s0.copy()
    for it in range(1, max_iter + 1):
        nxt = _step(mats, s, damping)
        r = nxt - s
        if n == 0 or float(np.abs(r).max()) < tol:
            return s, r, it
        s = nxt
    return s, _step(mats, s, damping) - s, max_iter


def _step(mats, s, damping):
    nxt = mats[0] @ s
    for extra in mats[1:]:
        nxt += extra @ s
    nxt *= damping
    nxt += 1.0
    return nxt


def pagerank(matrix, x0: np.ndarray | None = None, damping: float = model.DAMPING,
             tol: float = 1e-10, max_iter: int = model.PR_MAX_ITER):
    """PageRank x = s / sum(s) of a column-substochastic M (networkx's weighted pagerank when the
    missing column mass is the dangling nodes'), by the same iteration as `solve`, stopped when
    the L1 change of x is below tol (networkx's criterion). Returns (x, iterations)."""
    n = matrix.shape[0]
    if n == 0:
        return np.zeros(0), 0
    s = np.ones(n) if x0 is None else x0 * (n / x0.sum())
    check = 1
    for it in range(1, max_iter + 1):
        before, s = s, _step([matrix], s, damping)
        if it < check and it < max_iter:
            continue
        x = s / s.sum()
        err = float(np.abs(x - before / before.sum()).sum())
        if err < tol:
            return x, it
        # The change shrinks by about d a step (M's columns sum to at most 1), so the steps until
        # it can be below tol need no check: at small sizes the checks cost more than the steps.
        check = it + max(1, int(math.log(tol / err) / math.log(damping)) - 1)
    return x, max_iter


def push(s: np.ndarray, r: np.ndarray, out_pairs, p_target: np.ndarray, share: np.ndarray,
         start: np.ndarray, damping: float = model.DAMPING, tol: float = model.STANDING_TOL) -> np.ndarray:
    """Bring every residual back below tol after M changed near `start` (the nodes whose residual
    the change raised). Pushing a node moves its residual into s and passes d * share of it on to
    each node it engages. s and r are updated in place; returns the nodes whose s changed.

    out_pairs(nodes) gives the pairs whose actor is one of nodes (sorted distinct nodes)."""
    pushed = []
    pushing = np.zeros(len(s))  # what each node of this round pushes, by node: no search per pair
    act = distinct(start)
    act = act[np.abs(r[act]) >= tol]
    while len(act):
        ra = r[act]
        s[act] += ra
        pushing[act] = ra
        r[act] = 0.0
        pushed.append(act)
        q, q_actor = out_pairs(act)
        w = damping * share[q] * pushing[q_actor]
        tgt = p_target[q]
        nz = w != 0
        tgt, w = tgt[nz], w[nz]
        np.add.at(r, tgt, w)
        act = distinct(tgt[np.abs(r[tgt]) >= tol])
    return distinct(np.concatenate(pushed)) if pushed else EMPTY
