"""A scorer saved and loaded again scores exactly as before, keeps updating correctly, and a damaged
or changed-settings checkpoint is either refused or re-derived, never half used."""
from __future__ import annotations

import pytest

from scoring import Scorer, checkpoint
from scoring.engine import ItemsInMemory

from synth import NOW, SITE, World, ago, community


def ranked(s: Scorer):
    return [(r["identity"], r["score"], r["raw"], r["trend"], r["topics"], r["breakdown"]) for r in s.ranking(at=NOW)]


def copy_of(items):
    """A source of its own for the loaded scorer (the original one keeps adding to its own)."""
    src = ItemsInMemory()
    src.put({(it["site"], it["id"]): it for it in items})
    return src


def world():
    w = World()
    names = community(w, people=60, interactions=400, seed=3)
    w.comment(names[1], w.post_of(names[2]), ago(2), "On #python again", reactions={"like": 4})
    w.comment(names[3], "c-not-captured-yet", ago(1), "Replying to something we have not seen")
    return w, names


def test_a_loaded_checkpoint_scores_and_updates_like_the_scorer_it_came_from():
    w, names = world()
    s = Scorer()
    s.add(w.items)
    s.prepare(at=NOW)
    data = checkpoint.dumps(s, {"stamp": 7})
    back, stamp = checkpoint.loads(data, items=copy_of(w.items))
    assert stamp == {"stamp": 7}
    assert ranked(back) == ranked(s)
    # both go on the same way: new comments, and the parent the orphan was waiting for
    before = len(w.items)
    w.comment(names[5], w.post_of(names[1]), ago(0.5), "Great #python post")
    w.comment(names[2], w.post_of(names[3]), ago(0.2), "Thanks")
    new = w.items[before:]
    for sc in (s, back):
        sc.add(new)
    fresh = Scorer()
    fresh.add(w.items)
    assert [(r[0], r[1]) for r in ranked(back)] == [(r[0], r[1]) for r in ranked(fresh)]
    assert ranked(back) == ranked(s)


def test_damage_of_any_byte_is_refused():
    w, _ = world()
    s = Scorer()
    s.add(w.items)
    s.prepare(at=NOW)
    data = checkpoint.dumps(s, None)
    assert checkpoint.loads(data[: len(data) // 2]) is None
    for at in (len(data) // 3, len(data) // 2, len(data) - 100):
        bad = bytearray(data)
        bad[at] ^= 0x41
        assert checkpoint.loads(bytes(bad), items=s._source) is None
    assert checkpoint.loads(b"not a checkpoint") is None


def test_a_checkpoint_of_another_version_is_refused(monkeypatch):
    # one from before hashtags were read whole holds the old, cut tags: the start reads the items
    w, _ = world()
    s = Scorer()
    s.add(w.items)
    monkeypatch.setattr(checkpoint, "VERSION", checkpoint.VERSION - 1)
    old = checkpoint.dumps(s, None)
    monkeypatch.undo()
    assert checkpoint.loads(old, items=copy_of(w.items)) is None
    assert checkpoint.loads(checkpoint.dumps(s, None), items=copy_of(w.items)) is not None


def test_a_checkpoint_of_another_model_version_is_refused(monkeypatch):
    # its rows hold what that model made of each item (a reaction's amount, say)
    from scoring import model
    w, _ = world()
    s = Scorer()
    s.add(w.items)
    monkeypatch.setattr(model, "VERSION", "2000-01-01")
    other = checkpoint.dumps(s, None)
    monkeypatch.undo()
    assert checkpoint.loads(other, items=copy_of(w.items)) is None
    assert checkpoint.loads(checkpoint.dumps(s, None), items=copy_of(w.items)) is not None


def test_other_settings_at_load_are_applied():
    w, names = world()
    s = Scorer()
    s.add(w.items)
    s.prepare(at=NOW)
    data = checkpoint.dumps(s, None)
    settings = {"topics": {"thanks": ["thanks"]}, "links": {f"{SITE}:{names[4]}": f"{SITE}:{names[6]}"}}
    back, _ = checkpoint.loads(data, settings=settings, items=s._source)
    fresh = Scorer(settings=settings)
    fresh.add(w.items)
    assert ranked(back) == ranked(fresh)


@pytest.mark.parametrize("forget", [False, True])
def test_forgotten_people_stay_forgotten(forget):
    w, names = world()
    s = Scorer()
    s.add(w.items)
    if forget:
        s.remove_identity(f"{SITE}:{names[0]}")
    s.prepare(at=NOW)
    back, _ = checkpoint.loads(checkpoint.dumps(s, None), items=s._source)
    assert ranked(back) == ranked(s)
