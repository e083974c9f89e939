"""The PageRank the benchmark compares with networkx, and the standing solver the scorer uses."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import model
from scoring.standing import pagerank, solve


def _graph(seed: int, n: int, m: int):
    rng = np.random.default_rng(seed)
    a, t, w = rng.integers(0, n, m), rng.integers(0, n, m), rng.random(m) + 0.01
    keep = a != t
    a, t, w = a[keep], t[keep], w[keep]
    out = np.bincount(a, weights=w, minlength=n)
    # duplicate edges add up in the matrix, as in networkx's DiGraph where the last one wins:
    # give networkx the summed weights
    M = sp.csr_matrix((w / out[a], (t, a)), shape=(n, n))
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    summed: dict = {}
    for x, y, z in zip(a.tolist(), t.tolist(), w.tolist()):
        summed[(x, y)] = summed.get((x, y), 0.0) + z
    G.add_weighted_edges_from((x, y, z) for (x, y), z in summed.items())
    return M, G


@pytest.mark.parametrize("n,m", [(5, 8), (60, 150), (1000, 2500), (3000, 4000)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pagerank_equals_networkx_with_dangling_nodes(n, m, seed):
    """Sparse graphs with many dangling nodes (no out-links), both at a tight tolerance: the
    iteration that skips convergence checks must stop where networkx's L1 criterion stops."""
    M, G = _graph(seed, n, m)
    tol = 1e-12
    ours, it = pagerank(M, None, damping=model.DAMPING, tol=tol, max_iter=10_000)
    theirs = nx.pagerank(G, alpha=model.DAMPING, weight="weight", tol=tol / n, max_iter=10_000)
    theirs = np.array([theirs[i] for i in range(n)])
    assert ours.sum() == pytest.approx(1.0)
    assert np.abs(ours - theirs).sum() < 1e-10
    assert it < 60


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 200))
def test_solve_leaves_every_residual_below_its_tolerance(seed, n):
    M, _ = _graph(seed, n, 3 * n)
    s, r, _ = solve(M)
    assert np.all(np.abs(1 + model.DAMPING * (M @ s) - s) < model.STANDING_TOL * 1.01)
    assert np.all(s >= 1.0)
    assert np.isfinite(r).all() and np.abs(r).max() < model.STANDING_TOL
