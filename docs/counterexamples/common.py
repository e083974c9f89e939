"""Shared by the counterexample scripts: run one from this folder, `python3 p09_star.py`."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "scoring"))
os.chdir(HERE)  # the scripts read their worlds from here

from synth import NOW, SITE, World, ago, community, iso  # noqa: E402,F401
from scoring import Scorer, score_items, model  # noqa: E402,F401


def res(items, who, at=NOW, settings=None):
    s = Scorer(settings)
    s.add(items)
    return s.result(who if ":" in who else f"{SITE}:{who}", at=at)


def skip_cycle(w, rng, interactions=1000, days=60.0):
    """Property 9's skip-cycle: nine accounts that each engage the next three (no pair
    reciprocated) and all engage a tenth, the hub (ring0). Returns the ten names."""
    ring = [f"ring{i}" for i in range(10)]
    pairs = [(ring[1 + i], ring[0]) for i in range(9)] + \
        [(ring[1 + i], ring[1 + (i + j) % 9]) for i in range(9) for j in (1, 2, 3)]
    for k in range(interactions):
        a, b = pairs[k % len(pairs)]
        w.engage(a, b, ago(0.05 + rng.random() * days))
    return ring
