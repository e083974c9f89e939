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
