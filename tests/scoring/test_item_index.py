"""A server's scorer holds a million items for as long as it runs, and Python's cyclic collector
must not walk them: a full collection comes every few dozen captures, and one over a container of
a million entries takes about 0.1 s, in the middle of a capture (measured at 1M: four such pauses
of 88-145 ms in 300 captures, from the item index alone).

A server freezes what its start loaded (gc.freeze). What can still bring a large container back
into the collector's sight is a container the collector had untracked (a dict holding only
strings, numbers and tuples of them) that a capture makes tracked again by adding one new tuple
to it: it then joins the youngest generation, whatever its size. The item index was such a dict
of (site, id) tuples; it is a KeyIndex now (arrays, and a dict of strings for recent keys). This
test loads a scorer as a server does, lets a full collection untrack what it can, freezes, then
captures with no topics (the dicts of topics and orphans are the server's to freeze again:
tests/server/test_collector_policy.py), and looks for large containers among the collector's.
"""
from __future__ import annotations

import gc

import pytest

from scoring import Scorer

from synth import NOW, World, ago, community

LARGE = 2_000  # the world below stores ~3,000 items: every store-sized container exceeds this


def large_tracked() -> list[tuple[str, int]]:
    found = []
    for o in gc.get_objects():  # generations 0-2: what the collector walks (not the frozen)
        if isinstance(o, (dict, list, set)) and len(o) >= LARGE:
            found.append((type(o).__name__, len(o)))
    return found


@pytest.fixture
def frozen_after():
    yield
    gc.unfreeze()


def test_captures_do_not_bring_the_item_index_back_to_the_collector(frozen_after):
    w = World()
    names = community(w, people=300, interactions=3_000, seed=5)
    for k in range(0, len(names), 3):
        w.engage(names[k], names[(k + 1) % len(names)], ago(3), "More on #python and data")
    s = Scorer()
    s.add(w.items)
    s.prepare(at=NOW)  # what a server builds before its first capture
    gc.collect()  # a full collection during the start untracks what holds no tracked object
    gc.freeze()   # and the start freezes what it loaded
    assert large_tracked() == []
    for k in range(5):  # captures: new items, some answering items stored long ago, some topical
        before = len(w.items)
        parent = w.items[(37 * k) % before]["id"]
        w.comment(names[k], parent, ago(0.1), "Thanks, #python data for all")
        w.engage(names[k + 7], names[k + 11], ago(0.1))
        s.add(w.items[before:])
        s.results([f"{w.site}:{names[k]}", f"{w.site}:{names[k + 11]}"], at=NOW)
        assert large_tracked() == [], f"after capture {k}"
