"""Loading a batch in chunks (the offline `cloutlens score` streams its file so) gives exactly what
one load of the whole batch gives: the same identities, rows, scores and explanations."""
from __future__ import annotations

import io
import json
import random

import orjson
import pytest

from scoring import Scorer, score_items
from scoring.cli_score import load, output, score_stream

from synth import NOW, SITE, World, ago, community, need_compiled

OTHER = "news.example"


def _world() -> list[dict]:
    """A community on two sites with what chunk borders can split: replies whose parent comes
    later in the file (the file is shuffled), mentions (some of people known only by them), one
    handle on both sites, reactions, hashtags on posts that replies inherit, self-replies, items
    captured twice (the same, and changed: more reactions, another text, another author), and
    comments whose parent is never captured."""
    w = World()
    community(w, people=60, interactions=500, seed=3)
    community(w, people=30, interactions=200, seed=4, prefix="q")
    rng = random.Random(5)
    for i in range(40):
        site = SITE if i % 2 else OTHER
        post = w.post(f"p{i % 13:04d}", ago(30 + i % 40), text=f"About #topic{i % 4} and more", site=site,
                      reactions={"like": i % 7})
        c = w.comment(f"q{i % 11:04d}", post, ago(1 + i % 50), "Great #topic0 point", site=site,
                      mentions=[f"p{(i * 7) % 60:04d}", f"mentioned-only-{i % 5}"], reactions={"up": i})
        w.comment(f"p{i % 13:04d}", c, ago(0.5 + i % 30), "You are an idiot and wrong." if i % 9 == 0 else "thanks",
                  site=site)
        w.comment(f"q{i % 11:04d}", c, ago(2), "me again", site=site)  # a reply to one's own comment
        w.comment(f"r{i}", f"never-captured-{i}", ago(3), "orphan for good", site=site)
    items = w.items
    rng.shuffle(items)
    again = [dict(it) for it in rng.sample(items, 30)]  # captured again, the same
    changed = []
    for k, it in enumerate(rng.sample(items, 30)):
        if k % 3 == 0:
            changed.append(dict(it, reactions={"like": 40 + k}))
        elif k % 3 == 1:
            changed.append(dict(it, text="now about #other things"))
        else:
            changed.append(dict(it, author={"handle": f"impostor{k}", "name": "x", "url": None}))
    out = items + again + changed
    rng.shuffle(out)
    return out


def _ranking_json(ranking) -> str:
    return json.dumps(ranking, sort_keys=True)


@pytest.mark.parametrize("join_min, table", [(0, "c"), (0, "numpy"), (10**9, "numpy")])
def test_chunked_load_equals_one_batch(monkeypatch, join_min, table):
    from scoring import derive
    monkeypatch.setattr(derive, "JOIN_MIN", join_min)  # parents found in C, as words in numpy, or by a dict
    if table == "c":
        need_compiled(derive._idtable, "scoring._idtable")
    else:
        monkeypatch.setattr(derive, "_idtable", None)
    items = _world()
    settings = {"topics": {"greatness": ["great"]}}
    whole = Scorer(settings=settings)
    whole.add(items)
    want = _ranking_json(whole.ranking(at=NOW))
    assert '"#topic0"' in want and '"greatness"' in want and "mentioned-only-1" in want
    for size in (1, 7, 100, len(items)):
        s = Scorer(settings=settings)
        s.load_stream(items[i: i + size] for i in range(0, len(items), size))
        assert _ranking_json(s.ranking(at=NOW)) == want, size
        assert s._names == whole._names  # identities numbered alike, however the batch was cut
        assert s.item_contributions(SITE, items[0]["id"], at=NOW) == whole.item_contributions(
            SITE, items[0]["id"], at=NOW)


def test_successive_adds_equal_one_batch_of_what_they_leave_stored():
    """What a server does with captures over time: adds of batches (replies before their parents,
    copies of items already stored) end where one batch of the items they leave stored ends. Over
    time the later copy of an item replaces the earlier (a count can fall, a text be edited);
    copies within one batch have no order, and test_p13 covers them."""
    items = _world()
    latest = list({(it["site"], it["id"]): it for it in items}.values())
    want = _ranking_json(score_items(latest, at=NOW))
    for size in (13, 200):
        s = Scorer()
        for i in range(0, len(items), size):
            s.add(items[i: i + size])
        assert _ranking_json(s.ranking(at=NOW)) == want, size


def test_a_streamed_scorer_refuses_changes():
    items = _world()
    s = Scorer()
    s.load_stream([items[:50], items[50:]])
    with pytest.raises(RuntimeError):
        s.add([dict(items[0], reactions={"like": 99})])
    with pytest.raises(RuntimeError):
        s.load_stream([items])  # a first load only


def test_score_stream_reads_in_chunks_with_line_numbers():
    items = _world()[:300]
    lines = [orjson.dumps(dict(it)) for it in items]
    lines.insert(5, b"{not json")
    lines.insert(120, orjson.dumps({"site": SITE, "id": "x", "kind": "comment", "author": {"name": "no handle"}}))
    lines.insert(250, b"")
    lines.insert(251, orjson.dumps({"id": "nosite", "kind": "post", "author": {"handle": "x"}}))
    blob = b"\n".join(lines) + b"\n"
    want = _ranking_json(score_items(items, at=NOW))
    for chunk in (1, 16, 1000):
        ranking, errors = score_stream(io.BytesIO(blob), NOW, chunk=chunk)
        assert _ranking_json(ranking) == want
        assert [e.split(":")[0] for e in errors] == ["line 6", "line 121.author.handle", "line 252.site"]


@pytest.mark.parametrize("child", ["none", "forked", "fails"])
def test_output_is_explained_a_block_at_a_time_and_equals_the_whole_ranking(monkeypatch, child):
    from scoring import cli_score
    from scoring.forked import Forked

    if child != "none":  # a forked child explains the second half (or fails, and it is done here)
        monkeypatch.setattr(cli_score, "FORK_RESULTS", 0)
    made = []

    class Recorded(Forked):
        def result(self):
            made.append(super().result() is not None)
            return self.out if made[-1] else None

    monkeypatch.setattr(cli_score, "Forked", Recorded)
    if child == "fails":
        monkeypatch.setattr(cli_score, "Forked", lambda work: Recorded(lambda out: 1 / 0))
    items = _world()
    blob = b"".join(orjson.dumps(it) + b"\n" for it in items)
    ranking = score_items(items, at=NOW)
    s, _ = load(io.BytesIO(blob), chunk=50)
    assert [r for part in s.ranking_blocks(at=NOW, block=7) for r in part] == ranking
    for block in (1, 7, 10_000):
        assert "".join(output(s, NOW, True, block)) == json.dumps(ranking, ensure_ascii=False)
        table = "".join(output(s, NOW, False, block)).splitlines()
        assert len(table) == 2 + len(ranking) and table[0].split() == [
            "identity", "score", "trend", "negative", "people", "interactions", "top", "topics"]
        width = max(len(r["identity"]) for r in ranking)
        assert [line[:width].rstrip() for line in table[2:]] == [r["identity"] for r in ranking]
        assert [int(line[width:].split()[0]) for line in table[2:]] == [r["score"] for r in ranking]
    # the child's halves were used (JSON and table, three block sizes), or it failed every time
    assert made == {"none": [], "forked": [True] * 6, "fails": [False] * 6}[child]


def _file_with_errors(tmp_path, items):
    lines = [orjson.dumps(dict(it)) for it in items]
    lines.insert(3, b"{not json")
    lines.insert(len(lines) // 2 + 7, orjson.dumps({"site": SITE, "id": "x", "kind": "comment",
                                                      "author": {"name": "no handle"}}))
    lines.insert(len(lines) - 5, b"")
    lines.insert(len(lines) - 4, orjson.dumps({"id": "nosite", "kind": "post", "author": {"handle": "x"}}))
    path = tmp_path / "items.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize("child_fails", [False, True])
def test_a_file_read_on_two_cores_gives_what_one_reader_gives(tmp_path, monkeypatch, child_fails):
    from scoring import forked_read
    from scoring.cli_score import load_file

    items = _world()
    path = _file_with_errors(tmp_path, items)
    with open(path, "rb") as fh:
        one, want_errors = load(fh, chunk=40)
    want = _ranking_json(one.ranking(at=NOW))
    monkeypatch.setattr(forked_read, "SPLIT_MIN", 0)
    if child_fails:  # the child dies: this process reads the child's part itself
        monkeypatch.setattr(forked_read, "_with_sentiment", lambda items: 1 / 0)
    handed = []
    real = forked_read.SplitRead._handed_over
    monkeypatch.setattr(forked_read.SplitRead, "_handed_over",
                        lambda self, out: handed.append(1) or real(self, out))
    for share in (0.0, 0.3, 0.5, 0.97):
        monkeypatch.setattr(forked_read, "FIRST_SHARE", share)
        s, errors = load_file(str(path), chunk=40)
        assert _ranking_json(s.ranking(at=NOW)) == want, share
        assert errors == want_errors
    assert len(handed) == (0 if child_fails else 4)  # the child's items were used, or it failed
    assert len(want_errors) == 3 and want_errors[0].startswith("line 4:")


def test_line_starts_for_the_split():
    from scoring.forked_read import _line_start, lines_before

    blob = b"ab\n\ncdef\ng\n"
    starts = [0, 3, 4, 9, 11]
    fh = io.BytesIO(blob)
    for offset in range(len(blob) + 1):
        assert _line_start(fh, offset) == min(s for s in starts if s >= offset)
    assert [lines_before(fh, s) for s in starts] == [0, 1, 2, 3, 4]
