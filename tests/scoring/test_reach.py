"""The reach ceiling (scoring/reach.py, docs/scoring.md section 4): what it counts, that its
searches (numpy, C) agree with a plain reading of the rule, and that it keeps properties 1, 7, 8
and 13 where it holds a score."""
from __future__ import annotations

import random
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import Scorer, engine, model, reach
from scoring.columns import Members

from synth import NOW, SITE, World, ago, community, need_compiled


def ident(name: str) -> str:
    return f"{SITE}:{name}"


def plain_reach(g, D, t: int) -> float:
    """The rule read plainly: every path of at most REACH_STEPS steps into t, each person's
    widest (a path is as wide as its narrowest presence), summed. Small worlds only."""
    into = defaultdict(list)
    for q in range(len(g.pairs)):
        if D.person[q] and D.pres[q] > 0:
            into[int(g.p_target[q])].append((int(g.p_actor[q]), float(D.pres[q])))
    best: dict[int, float] = {}

    def walk(u: int, width: float, steps: int) -> None:
        for p, a in into[u]:
            if p == t:
                continue
            w = min(width, a)
            best[p] = max(best.get(p, 0.0), w)
            if steps > 1:
                walk(p, w, steps - 1)
    walk(t, float("inf"), model.REACH_STEPS)
    return sum(best.values())


def ring_world(seed: int = 9, spread: float = 60.0) -> World:
    """The skip-cycle of property 9 beside a community: nine accounts each engage the next three
    and all engage the tenth."""
    w = World()
    community(w, people=300, interactions=900, seed=seed)
    rng = random.Random(seed)
    ring = [f"ring{i}" for i in range(10)]
    pairs = [(ring[1 + i], ring[0]) for i in range(9)] + \
        [(ring[1 + i], ring[1 + (i + j) % 9]) for i in range(9) for j in (1, 2, 3)]
    for k in range(400):
        a, b = pairs[k % len(pairs)]
        w.engage(a, b, ago(0.05 + rng.random() * spread))
    return w


def scored(items) -> Scorer:
    s = Scorer()
    s.add(items)
    s.scores(at=NOW)
    return s


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(4, 14), st.integers(5, 60))
def test_the_searches_give_the_rule_read_plainly(seed, people, interactions):
    rng = random.Random(seed)
    w = World()
    names = [f"u{i}" for i in range(people)]
    for _ in range(interactions):
        a, b = rng.sample(names, 2)
        # ages over a year and more: presences from 1 down to a fraction, so widths differ; some
        # comments liked, so that some audiences outnumber the people named
        w.comment(a, w.post_of(b), ago(rng.uniform(0.1, 700.0)), rng.choice(["Good point, thanks.", "You are an idiot."]),
                  reactions={"like": rng.randint(1, 60)} if rng.random() < 0.2 else None)
    s = scored(w.items)
    g, D = s._struct, s._derived
    targets = np.arange(g.nid)
    audience = [max([float(D.pres[q]) for q in range(len(g.pairs)) if not D.person[q] and g.p_target[q] == t], default=0.0)
                for t in targets]
    want = np.array([max(plain_reach(g, D, int(t)), a) for t, a in zip(targets, audience)])
    assert reach.reach(g, D, targets) == pytest.approx(want, abs=1e-9)
    if reach._reach is not None:
        assert np.array_equal(reach.reach_c(g, D, targets, np.full(len(targets), np.inf)), reach.reach(g, D, targets))
        # stopped early: both know at least `enough`, and the same exact values below it
        enough = np.asarray([rng.uniform(0.0, 6.0) for _ in targets])
        a, b = reach.reach(g, D, targets, enough), reach.reach_c(g, D, targets, enough)
        assert np.array_equal(a < enough, b < enough) and np.array_equal(a[a < enough], b[b < enough])
        assert (a[a >= enough] <= want[a >= enough] + 1e-9).all()


def test_the_c_search_on_two_threads_gives_the_same(monkeypatch):
    need_compiled(reach._reach, "scoring._reach")
    s = scored(ring_world().items)
    g, D = s._struct, s._derived
    targets = np.arange(g.nid)
    enough = np.where(targets % 3 == 0, np.inf, 4.0)
    one = reach.reach_c(g, D, targets, enough)
    monkeypatch.setattr(reach, "THREADED", 1)
    assert np.array_equal(reach.reach_c(g, D, targets, enough), one)
    assert np.array_equal(one < enough, reach.reach(g, D, targets, enough) < enough)


def test_the_c_search_is_built_in_ci():
    need_compiled(reach._reach, "scoring._reach")


def test_the_c_search_refuses_what_it_cannot_follow():
    need_compiled(reach._reach, "scoring._reach")
    ok = dict(indptr=np.array([0, 1, 1], dtype=np.int64), order=np.array([0], dtype=np.int32),
              tail_indptr=np.zeros(3, dtype=np.int64), tail_order=np.zeros(0, dtype=np.int32),
              actor=np.array([1], dtype=np.int64), person=np.array([True]), presence=np.array([1.0]),
              targets=np.array([0], dtype=np.int64), enough=np.array([np.inf]))

    def call(steps=3, **change):
        args = {**ok, **change}
        out = np.zeros(len(args["targets"]))
        reach._reach.reach(*args.values(), steps, out)
        return out
    assert call().tolist() == [1.0]
    for change, field in ((dict(actor=np.array([5], dtype=np.int64)), "actor"),
                          (dict(order=np.array([3], dtype=np.int32)), "order"),
                          (dict(targets=np.array([2], dtype=np.int64)), "targets"),
                          (dict(indptr=np.array([0, 2, 1], dtype=np.int64)), "indptr"),
                          (dict(presence=np.array([1], dtype=np.int64)), "presence"),
                          (dict(enough=np.zeros(2)), "enough"),
                          (dict(presence=np.array([np.nan])), "presence"),
                          (dict(steps=2 ** 40), "steps"), (dict(steps=-1), "steps")):
        with pytest.raises((ValueError, OverflowError), match=field):
            call(**change)


def test_a_closed_group_is_held_to_what_its_people_allow():
    s = scored(ring_world().items)
    hub = s.result(ident("ring0"), at=NOW)
    member = s.result(ident("ring1"), at=NOW)
    # nine others within three steps of the hub allow 10 + 10 log3(9) = 30 points; a member
    # has eight
    assert hub["view"] == "reach" and hub["reach"] == 9 and hub["score"] == 30
    assert member["view"] == "reach" and member["reach"] == 8 and member["score"] == 29
    assert hub["raw"] == pytest.approx(model.R10 * 9)
    # the breakdown still adds up to the score it holds
    assert sum(hub["breakdown"]["by_person"].values()) == pytest.approx(hub["points"], abs=1e-3)


def test_reach_counts_people_not_replies_nor_hostility():
    w = World()
    for i in range(3):  # three readers engage one source, which replies to t
        w.engage(f"reader{i}", "src", ago(3 + i))
    w.engage("src", "t", ago(1))
    s = scored(w.items)
    before = s.result(ident("t"), at=NOW)
    assert before["view"] == "reach" and before["reach"] == 4
    for k in range(20):  # the same people again and again: nobody new
        w.engage(f"reader{k % 3}", "src", ago(2 + k / 10))
    w.engage("troll", "t", ago(0.5), "You are an idiot and this is garbage.")
    after = scored(w.items).result(ident("t"), at=NOW)
    assert after["reach"] == 4 and after["score"] == before["score"]
    # one new person, one step further out, is one more
    w.engage("newreader", "src", ago(1))
    assert scored(w.items).result(ident("t"), at=NOW)["reach"] == 5


def test_an_audience_stands_in_for_the_people_it_cannot_name():
    def world(likes: int) -> World:
        w = World()
        for i in range(3):  # held at four people, as above
            w.engage(f"reader{i}", "src", ago(3 + i))
        w.engage("src", "t", ago(1))
        w.comment("t", w.post_of("someone"), ago(2), "My two cents on this.", reactions={"like": likes} if likes else None)
        return w
    assert scored(world(0).items).result(ident("t"), at=NOW)["view"] == "reach"
    # 40 likes on one of t's items read as 31 people (reaction_units' cap): more than the four named
    liked = scored(world(40).items).result(ident("t"), at=NOW)
    assert liked["view"] != "reach" and liked["reach"] is None


@pytest.mark.parametrize("days,most", [(7, 1.0), (30, 5.0)])
def test_a_held_score_falls_gently_when_everyone_is_silent(days, most):
    w = ring_world(spread=20.0)
    then = scored(w.items).result(ident("ring0"), at=NOW)
    assert then["view"] == "reach"
    s = Scorer()
    s.add(w.items)
    later = s.result(ident("ring0"), at=NOW + np.timedelta64(days, "D").astype("timedelta64[s]").item())
    assert 0 <= then["points"] - later["points"] < most


def test_the_python_search_gives_the_same_scores(monkeypatch):
    need_compiled(reach._reach, "scoring._reach")
    w = ring_world()
    compiled = scored(w.items).ranking(at=NOW)
    monkeypatch.setattr(reach, "_reach", None)
    plain = scored(w.items).ranking(at=NOW)
    assert [(r["identity"], r["score"], r["raw"]) for r in compiled] == \
        [(r["identity"], r["score"], r["raw"]) for r in plain]
    assert sum(r["view"] == "reach" for r in plain) >= 10


@pytest.mark.parametrize("compiled", [True, False])
def test_updates_where_the_ceiling_holds_equal_a_full_recompute(monkeypatch, compiled):
    monkeypatch.setattr(engine, "FULL_PASS_SHARE", 0)
    monkeypatch.setattr(Members, "MERGE_AT", 3)
    if not compiled:
        monkeypatch.setattr(reach, "_reach", None)
    w = ring_world(seed=4)
    inc = Scorer()
    inc.add(w.items)
    inc.scores(at=NOW)
    rng = random.Random(4)
    ring = [f"ring{i}" for i in range(10)]
    last = None
    for step in range(24):
        if step % 4 == 3 and last is not None:
            # the last newcomer's comment edited to an insult: its pair's only row stops counting,
            # so a presence falls and the bounds kept near it are void
            changed = dict(last, text="You are an idiot and this is garbage.")
            w.items[w.items.index(last)] = changed
            new, last = [changed], None
        else:
            before = len(w.items)
            a = f"new{step}" if step % 4 == 2 else rng.choice(ring + [f"p{rng.randrange(300):04d}"])
            w.engage(a, rng.choice([r for r in ring if r != a]), ago(rng.uniform(0.1, 40.0)))
            new = w.items[before:]
            last = new[-1] if a.startswith("new") else last
        inc.add(new)
        got = inc.ranking(at=NOW)
        full = scored(w.items).ranking(at=NOW)
        assert [(x["identity"], x["score"], x["view"], x["reach"]) for x in got] == \
               [(x["identity"], x["score"], x["view"], x["reach"]) for x in full]
        assert [x["raw"] for x in got] == pytest.approx([x["raw"] for x in full], rel=4 * model.STANDING_STALE)
