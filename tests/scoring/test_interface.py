"""The Scorer's interface as the server and the CLI use it, the derivation rules, the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import Scorer, score_items
from scoring.items import ContractError, normalize_item
from scoring.sentiment import compound, item_sentiment, vader_compound

from synth import NOW, SITE, World, ago, community, iso, need_compiled

ROOT = Path(__file__).resolve().parents[2]


def ident(h, site=SITE):
    return f"{site}:{h}"


def test_interactions_are_derived_as_documented():
    w = World()
    post = w.post("martin", ago(10), "My Klout score")
    c1 = w.comment("gini", post, ago(9), "Ha! @martin @belllindsay", mentions=["martin", "belllindsay"])
    w.comment("belllindsay", c1, ago(8), "We'll save you")
    w.comment("orphan", "not-stored-yet", ago(8), "replying to something we never saw")
    w.comment("toplevel", None, ago(8), "a comment with no known parent")
    s = Scorer()
    s.add(w.items)
    m = s.result(ident("martin"), at=NOW)
    # gini's comment on martin's post that also mentions martin is one comment, not two
    assert m["interactions"] == 1 and m["breakdown"]["by_kind"].keys() == {"comment"}
    assert s.result(ident("gini"), at=NOW)["breakdown"]["by_kind"].keys() == {"reply"}
    assert s.result(ident("belllindsay"), at=NOW)["breakdown"]["by_kind"].keys() == {"mention"}
    assert s.result(ident("orphan"), at=NOW)["score"] == 1
    assert s.result(ident("nobody"), at=NOW) is None
    # the parent arrives later: the waiting reply now addresses its author
    late = normalize_item({"id": "not-stored-yet", "kind": "comment", "parent": post,
                           "author": {"handle": "late"}, "at": iso(ago(9)), "text": "x"}, SITE)
    changed = s.add([late])
    assert ident("late") in changed
    assert s.result(ident("late"), at=NOW)["interactions"] == 1


def test_upsert_identical_is_noop_and_changed_replaces():
    w = World()
    post = w.post("anna", ago(5), "A post")
    w.comment("bob", post, ago(4), "Nice", reactions={"like": 2})
    s = Scorer()
    s.add(w.items)
    before = s.result(ident("bob"), at=NOW)
    assert s.add([dict(it) for it in w.items]) == set()
    grown = dict(w.items[-1], reactions={"like": 200})
    assert ident("bob") in s.add([grown])
    after = s.result(ident("bob"), at=NOW)
    assert after["raw"] > before["raw"]
    fresh = Scorer()
    fresh.add(w.items[:-1] + [grown])
    assert fresh.result(ident("bob"), at=NOW)["raw"] == pytest.approx(after["raw"], rel=1e-9)


def test_remove_identity_forgets_authored_and_addressed():
    w = World()
    for i in range(5):
        w.engage(f"fan{i}", "target", ago(i + 1))
        w.engage("target", f"fan{i}", ago(i + 1))
    s = Scorer()
    s.add(w.items)
    assert s.result(ident("fan0"), at=NOW)["score"] > 1
    affected = s.remove_identity(ident("target"))
    assert ident("fan0") in affected
    assert s.result(ident("target"), at=NOW) is None
    assert s.result(ident("fan0"), at=NOW)["interactions"] == 0
    assert all(r["identity"] != ident("target") for r in s.ranking(at=NOW))


def test_settings_links_topics_and_ranking_order():
    w = World()
    for i in range(4):
        w.engage(f"p{i}", "alias", ago(i + 1))
    w.engage("x", "canon", ago(6), site="news.ycombinator.com")  # a day of its own: no burst
    s = Scorer()
    s.add(w.items)
    a = s.result(ident("alias"), at=NOW)["raw"]
    s.set_settings({"links": {ident("alias"): "news.ycombinator.com:canon"}})
    merged = s.result("news.ycombinator.com:canon", at=NOW)
    assert merged["raw"] > a
    assert s.result(ident("alias"), at=NOW)["identity"] == "news.ycombinator.com:canon"
    ranking = s.ranking(at=NOW)
    keys = [(-r["score"], r["identity"]) for r in ranking]
    assert keys == sorted(keys)
    assert len(s.ranking(at=NOW, limit=2)) == 2
    assert set(s.results([ident("p0"), "nope:nobody"], at=NOW)) == {ident("p0")}


def test_at_accepts_datetime_and_iso_string_and_defaults_to_now():
    w = World()
    w.engage("a", "b", ago(1))
    s = Scorer()
    s.add(w.items)
    assert s.result(ident("b"), at=NOW) == s.result(ident("b"), at=iso(NOW))
    assert s.result(ident("b"))["score"] >= 1  # now: the item is in the past either way


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80) | st.sampled_from(["not good", "I hate this", ":)", "great!!", "no", "😀 ok"]))
def test_sentiment_short_cut_agrees_with_vader(text):
    assert compound(text) == vader_compound(text)


def test_stored_sentiment_is_used_and_clamped(monkeypatch):
    w = World()
    post = w.post("target", ago(10))
    cid = w.comment("critic", post, ago(2), "Noted.")
    assert compound("Noted.") == 0.0
    s = Scorer()
    s.add(w.items)
    assert s.result(ident("target"), at=NOW)["negative"]["count"] == 0
    # the server stored the compound at capture: neutral text, hostile value counts as hostile
    stored = [dict(it, sentiment=-0.9) if it["id"] == cid else it for it in w.items]
    s = Scorer()
    s.add(stored)
    r = s.result(ident("target"), at=NOW)
    assert r["negative"]["count"] == 1 and r["score"] == 1
    # a value read from disk is clamped to VADER's range; non-numbers fall back to the text
    assert item_sentiment({"text": "Noted.", "sentiment": -7.5}) == -1.0
    assert item_sentiment({"text": "Noted.", "sentiment": 3}) == 1.0
    assert item_sentiment({"text": "Great post!", "sentiment": "bad"}) == compound("Great post!")
    assert item_sentiment({"text": "Great post!", "sentiment": True}) == compound("Great post!")
    assert item_sentiment({"text": "Great post!", "sentiment": float("nan")}) == compound("Great post!")
    clamped = [dict(it, sentiment=-42.0) if it["id"] == cid else it for it in w.items]
    s2 = Scorer()
    s2.add(clamped)
    assert s2.result(ident("target"), at=NOW)["negative"] == r["negative"]
    # a stored value that is not finite counts as its text, also where every item has a value
    # (read in C, and in Python, which once clamped an infinity to -1 there)
    from scoring import fields
    for compiled in (fields._itemread, None):
        monkeypatch.setattr(fields, "_itemread", compiled)
        for bad in (float("-inf"), float("nan")):
            s3 = Scorer()
            s3.add([dict(it, sentiment=bad if it["id"] == cid else 0.0) for it in w.items])
            assert s3.result(ident("target"), at=NOW)["negative"]["count"] == 0


ODD_IDS = ["x" * 9, "\u00fc-post", "p\u00e9", "p\u00e9\u2603", "y" * 60]


def _id_world(odd_ids) -> list[dict]:
    """Ids that stress finding parents by id: other sites' copies of an id, ids of many lengths,
    non-ASCII ids, a parent id that is a prefix of a stored one or one character longer, missing
    parents, and an item captured twice."""
    w = World()
    for i in range(30):
        post = w.post(f"a{i % 7}", ago(20 + i))
        c = w.comment(f"b{i % 5}", post, ago(10), "Nice #topic")
        w.comment(f"a{i % 3}", c, ago(5), "thanks")
        w.comment(f"c{i}", f"missing-{i}", ago(3), "orphan")
        w.comment(f"d{i}", post, ago(2), "same id on another site", site="other.example")
    # a comment on another site whose parent id exists only on the first site: not its parent
    w.comment("e", post, ago(1), "cross-site", site="third.example")
    for i, pid in enumerate(odd_ids):
        w.items.append(normalize_item({"id": pid, "kind": "post", "author": {"handle": f"long{i}"},
                                       "at": "2026-11-01T00:00:00Z", "text": "a post"}, SITE))
        for j, parent in enumerate([pid, pid + "z", pid[:-1], "x" * 8]):
            w.items.append(normalize_item({"id": f"{pid}-r{j}", "kind": "comment", "parent": parent,
                                           "author": {"handle": f"fan{j}"}, "at": "2026-11-02T00:00:00Z",
                                           "text": "reply"}, SITE))
    w.items.append(dict(w.items[3], reactions={"like": 4}))  # captured again, changed
    return w.items


@pytest.mark.parametrize("join_min, weak_hash, table", [(0, False, "c"), (0, False, "numpy"), (0, True, "numpy"),
                                                         (10**9, False, "numpy")])
@pytest.mark.parametrize("odd_ids", [ODD_IDS, ODD_IDS + ["z" * 70], ODD_IDS + ["n\x00"]],
                         ids=["short", "long", "nul"])
def test_parents_found_in_a_batch_agree_with_the_store_lookup(monkeypatch, join_min, weak_hash, table, odd_ids):
    """A first load finds parents inside the batch (from JOIN_MIN items on in the compiled table,
    or as words in numpy; or through a dict: small batches, ids longer than the words hold, a
    NUL, a hash shared by two different ids); adding the items one at a time finds them in the
    store instead."""
    from scoring import derive
    items = _id_world(odd_ids)
    monkeypatch.setattr(derive, "JOIN_MIN", join_min)
    if table == "c":
        need_compiled(derive._idtable, "scoring._idtable")
    else:
        monkeypatch.setattr(derive, "_idtable", None)
    if weak_hash:  # every id shares its hash with others: matches must be confirmed word by word
        monkeypatch.setattr(derive, "_fold", lambda rows, sites: rows[:, 0] & np.uint64(3))
    batch = Scorer()
    batch.add(items)
    one_by_one = Scorer()
    for it in reversed(items[:-1]):  # children before their parents: orphans, adopted later
        one_by_one.add([it])
    one_by_one.add(items[-1:])  # and the second copy last, as in the batch
    one_by_one._struct = one_by_one._weights = one_by_one._derived = None  # a full pass, not updates
    one_by_one._dirty = True
    assert batch.ranking(at=NOW) == one_by_one.ranking(at=NOW)
    assert len(batch._item_keys) == len(items) - 1
    assert batch.item_contributions(SITE, items[3]["id"], at=NOW)["to"]  # the second copy counts
    counted = {it["id"] for it in items if "-r" in it["id"]
               and batch.item_contributions(SITE, it["id"], at=NOW)["to"]}
    # each post's own reply, and the one whose parent is another odd id ("p\u00e9")
    assert counted == {f"{pid}-r0" for pid in odd_ids} | {"p\u00e9\u2603-r2"}


def test_clients_cannot_send_sentiment():
    raw = {"id": "x", "kind": "post", "author": {"handle": "a"}, "text": "hi", "sentiment": 0.9}
    with pytest.raises(ContractError) as e:
        normalize_item(raw, SITE)
    assert "sentiment" in str(e.value)
    del raw["sentiment"]
    assert "sentiment" not in normalize_item(raw, SITE)


def _near_valid_items():
    """A valid item with one field (or one author field, reaction or mention) set to each value at
    or just past a limit of the contract, or of another type, or left out."""
    texts = ["", "a", "a" * 32, "a" * 33, "a" * 40, "a" * 41, "a" * 100, "a" * 101, "a" * 200, "a" * 201,
             "a" * 256, "a" * 257, "a" * 260, "a" * 261, "a" * 2048, "a" * 2049, "a" * 4000, "a" * 4001,
             "news.ycombinator.com", "News.Example", "x.example:8080", "x.example\n", "-x.example", "post",
             "\U0001F600" * 32, "\U0001F600" * 33, "\u00e9" * 100, "\u00e9" * 101]  # lengths in characters
    values = [None, True, False, -1, 0, 3, 10**9, 10**9 + 1, 2.0, [], ["a"], {}, {"like": 1}] + texts
    base = {"id": "c1", "kind": "comment", "parent": "p1", "author": {"handle": "ann", "name": "Ann", "url": None},
            "at": "2026-11-01T00:00:00Z", "text": "hi", "url": None, "reactions": {"like": 2},
            "mentions": ["bob"], "site": "blog.example"}

    def copy():
        return {k: (dict(x) if isinstance(x, dict) else list(x) if isinstance(x, list) else x)
                for k, x in base.items()}

    for key in list(base) + ["extra"]:
        raw = copy()
        raw.pop(key, None)
        yield raw
        for v in values:
            raw = copy()
            raw[key] = v
            yield raw
    for v in values:
        for key in ("handle", "name", "url", "x"):
            raw = copy()
            raw["author"][key] = v
            yield raw
        raw = copy()
        raw["mentions"].append(v)
        yield raw
        raw = copy()
        raw["reactions"]["like"] = v
        yield raw
        if isinstance(v, str):
            raw = copy()
            raw["reactions"][v] = 1
            yield raw
    raw = copy()
    raw["reactions"] = {f"r{i}": 1 for i in range(21)}
    yield raw
    raw = copy()
    raw["mentions"] = [f"m{i}" for i in range(51)]
    yield raw


def test_the_quick_contract_check_never_passes_what_the_schema_refuses():
    from scoring.items import _item_validator, _quick

    passed = 0
    for raw in _near_valid_items():
        if _quick.is_valid(raw):
            passed += 1
            assert not list(_item_validator.iter_errors(raw)), raw
    assert passed > 100  # and it does pass the valid ones


def test_the_quick_contract_check_passes_items_as_captured():
    from scoring.items import _quick

    w = World()
    community(w, people=20, interactions=50)
    w.comment("a", None, ago(1), "hi @b", mentions=["b"], reactions={"like": 3, "heart": 0})
    raws = [{k: v for k, v in it.items() if k != "site"} for it in w.items]
    assert all(map(_quick.is_valid, raws))
    assert not _quick.is_valid(dict(raws[0], reactions={"like": True}))  # a bool is no count


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=__import__("datetime").datetime(1980, 1, 1),
                    max_value=__import__("datetime").datetime(2300, 12, 31)))
def test_canonical_times_are_kept_as_they_are(dt):
    from scoring.items import parse_time

    text = dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        got = parse_time(text, "at")
    except ContractError as e:
        assert not 1990 <= dt.year <= 2200 and "out of range" in str(e)
        return
    assert got == text == parse_time(text.replace("Z", "+00:00"), "at")  # the long way round


# ------------------------------------------------------------------------------- CLI

def write_jsonl(path: Path, lines: list) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


def sample_lines():
    lines = [{"site": SITE, "id": "post", "kind": "post", "parent": None, "author": {"handle": "Martin"},
              "at": "2026-11-01T10:00:00Z", "text": "My #klout score"}]
    for i in range(4):
        lines.append({"site": SITE, "id": f"c{i}", "kind": "comment", "parent": "post",
                      "author": {"handle": f"reader{i}"}, "at": f"2026-11-0{i + 2}T10:00:00Z", "text": "Great post!"})
    return lines


def test_cli_score_json_and_table(tmp_path):
    from server.cli import main

    f = write_jsonl(tmp_path / "items.jsonl", sample_lines())
    res = CliRunner().invoke(main, ["score", str(f), "--at", "2026-11-22T00:00:00Z", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [d["score"] for d in data] == sorted((d["score"] for d in data), reverse=True)
    top = data[0]
    assert top["identity"] == f"{SITE}:martin"
    for key in ("identity", "score", "trend", "negative", "breakdown", "topics"):
        assert key in top
    assert 1 < top["score"] <= 100
    assert top["topics"] == {"#klout": top["topics"]["#klout"]}  # 4 interactions, 4 people
    table = CliRunner().invoke(main, ["score", str(f), "--at", "2026-11-22T00:00:00Z"])
    assert table.exit_code == 0 and f"{SITE}:martin" in table.output and "score" in table.output


def test_cli_reports_bad_lines_and_scores_the_rest(tmp_path):
    from server.cli import main

    lines = sample_lines()
    lines.insert(2, "{not json")
    lines.insert(3, {"site": SITE, "id": "bad", "kind": "comment", "author": {"name": "no handle"}})
    lines.insert(4, {"id": "nosite", "kind": "post", "author": {"handle": "x"}})
    f = write_jsonl(tmp_path / "items.jsonl", lines)
    res = CliRunner().invoke(main, ["score", str(f), "--at", "2026-11-22T00:00:00Z", "--json"])
    assert res.exit_code == 0
    assert "line 3" in res.stderr and "JSON" in res.stderr
    assert "line 4.author" in res.stderr and "handle" in res.stderr
    assert "line 5.site" in res.stderr
    data = json.loads(res.stdout)
    assert data[0]["identity"] == f"{SITE}:martin" and data[0]["score"] > 1
    # the tally comes last, where a user who scrolled past the errors looks
    assert res.stderr.rstrip().splitlines()[-1] == f"scored {len(lines) - 3:,} items; 3 lines skipped (listed above)"


def test_cli_help_shows_a_line_of_the_format(tmp_path):
    from server.cli import main

    res = CliRunner().invoke(main, ["score", "--help"])
    assert res.exit_code == 0
    sample = next(line for line in res.output.splitlines() if line.strip().startswith('{"site"'))
    rest = res.output[res.output.index(sample):].split("kind:")[0]
    assert json.loads(" ".join(x.strip() for x in rest.splitlines()))["kind"] == "comment"  # a line that parses


def test_cli_names_a_field_nested_too_deeply_and_scores_the_rest(tmp_path):
    """A value nested ~900 deep parses (under the JSON reader's limit) but made the validator's
    message recurse past Python's limit: the command stopped with a traceback."""
    from server.cli import main

    deep = "[" * 900 + "1" + "]" * 900
    lines = sample_lines()
    lines.insert(1, '{"site": "%s", "id": "d1", "kind": "comment", "author": {"handle": "deep"}, '
                    '"at": "2026-11-02T10:00:00Z", "text": "hi", "reactions": {"likes": %s}}' % (SITE, deep))
    lines.insert(2, '{"site": "%s", "id": "d2", "kind": "comment", "author": {"handle": "deep"}, '
                    '"at": "2026-11-02T10:00:00Z", "text": %s}' % (SITE, deep))
    f = write_jsonl(tmp_path / "items.jsonl", lines)
    res = CliRunner().invoke(main, ["score", str(f), "--at", "2026-11-22T00:00:00Z", "--json"])
    assert res.exit_code == 0, res.output
    assert "line 2.reactions.likes: is nested too deeply" in res.stderr
    assert "line 3.text: is nested too deeply" in res.stderr
    data = json.loads(res.stdout)
    assert data[0]["identity"] == f"{SITE}:martin" and data[0]["interactions"] == 4
    assert f"{SITE}:deep" not in {d["identity"] for d in data}


def test_cli_says_when_lines_repeat_an_item_and_counts_it_once(tmp_path):
    from server.cli import main

    lines = sample_lines()
    again = dict(lines[1], reactions={"likes": 3})
    lines += [again, lines[2], lines[2]]
    f = write_jsonl(tmp_path / "items.jsonl", lines)
    res = CliRunner().invoke(main, ["score", str(f), "--at", "2026-11-22T00:00:00Z", "--json"])
    assert res.exit_code == 0, res.output
    assert "note: 3 lines repeat an item of another line" in res.stderr
    once = CliRunner().invoke(main, ["score", str(write_jsonl(tmp_path / "once.jsonl", sample_lines()[:1] + [again]
                                                              + sample_lines()[2:])),
                                     "--at", "2026-11-22T00:00:00Z", "--json"])
    assert "note:" not in once.stderr
    assert json.loads(res.stdout) == json.loads(once.stdout)  # the copy with the reactions counts


def test_cli_fails_when_no_line_can_be_scored(tmp_path):
    from server.cli import main

    f = write_jsonl(tmp_path / "items.jsonl", ["{not json", {"id": "nosite", "kind": "post", "author": {"handle": "x"}}])
    res = CliRunner().invoke(main, ["score", str(f), "--json"])
    assert res.exit_code == 1
    assert "line 1: not valid JSON" in res.stderr and "line 2.site" in res.stderr
    assert "no line could be scored (2 skipped)" in res.stderr and res.stdout == ""
    empty = CliRunner().invoke(main, ["score", str(write_jsonl(tmp_path / "empty.jsonl", [])), "--json"])
    assert empty.exit_code == 0 and json.loads(empty.stdout) == []  # nothing asked, nothing wrong


def test_cli_at_makes_results_reproducible_and_input_order_free(tmp_path):
    from server.cli import main

    lines = sample_lines()
    f1 = write_jsonl(tmp_path / "a.jsonl", lines)
    f2 = write_jsonl(tmp_path / "b.jsonl", list(reversed(lines)))
    args = ["--at", "2026-11-22T00:00:00Z", "--json"]
    r1 = CliRunner().invoke(main, ["score", str(f1)] + args).output
    r2 = CliRunner().invoke(main, ["score", str(f2)] + args).output
    assert r1 == r2
    first = json.loads(r1)[0]
    later = CliRunner().invoke(main, ["score", str(f1), "--at", "2027-06-01T00:00:00Z", "--json"]).output
    assert 1 < json.loads(later)[0]["score"] < first["score"]  # six months older, still counted
    gone = CliRunner().invoke(main, ["score", str(f1), "--at", "2030-01-01T00:00:00Z", "--json"]).output
    assert json.loads(gone)[0]["score"] == 1  # past the age limit (1,066 days at a 90-day horizon)


def test_cli_real_subprocess(tmp_path):
    f = write_jsonl(tmp_path / "items.jsonl", sample_lines())
    proc = subprocess.run([sys.executable, "-m", "server.cli", "score", str(f), "--at", "2026-11-22T00:00:00Z",
                           "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["identity"] == f"{SITE}:martin"


def test_default_now_counts_a_capture_from_a_second_ago():
    from datetime import datetime, timedelta, timezone

    just_now = datetime.now(timezone.utc) - timedelta(seconds=1)
    w = World()
    post = w.post("host", just_now - timedelta(days=1))
    w.comment("guest", post, just_now, "Great post")
    s = Scorer()
    s.add(w.items)
    assert s.result(ident("host"))["interactions"] == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.datetimes(min_value=__import__("datetime").datetime(1990, 1, 1),
                             max_value=__import__("datetime").datetime(2199, 12, 31)), min_size=1, max_size=5))
def test_fast_timestamp_reader_agrees_with_fromisoformat(dts):
    from datetime import timezone

    from scoring.fields import epochs

    texts = [d.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ") for d in dts]
    want = [d.replace(microsecond=0, tzinfo=timezone.utc).timestamp() for d in dts]
    assert epochs(texts).tolist() == want
    assert epochs([texts[0].replace("Z", "+00:00")]).tolist() == want[:1]  # other forms: slow path


def test_empty_scorer_answers_everything():
    s = Scorer()
    assert s.remove_identity("blog.example:nobody") == set()
    assert s.add([]) == set()
    assert s.result("blog.example:nobody", at=NOW) is None
    assert s.results(["blog.example:nobody"], at=NOW) == {}
    assert s.ranking(at=NOW) == []
    assert s.item_contributions("blog.example", "x", at=NOW)["to"] == {}
    assert score_items([], at=NOW) == []
    # and forgetting someone unknown in a populated scorer changes nothing
    w = World()
    w.engage("a", "b", ago(1))
    s.add(w.items)
    before = s.ranking(at=NOW)
    s.remove_identity("blog.example:nobody")
    assert s.ranking(at=NOW) == before


def test_results_for_a_badge_keep_the_top_people_and_still_add_up():
    w = World()
    for k, who in enumerate(["a", "b", "c", "d", "e", "f", "g"]):
        for _ in range(k + 1):
            w.engage(who, "host", ago(1 + k))
    s = Scorer()
    s.add(w.items)
    full = s.result(ident("host"), at=NOW)
    badge = s.results([ident("host")], at=NOW, people=3)[ident("host")]
    assert list(badge["breakdown"]["by_person"]) == list(full["breakdown"]["by_person"])[:3]
    assert "by_item" not in badge["breakdown"] and len(full["breakdown"]["by_item"]) == 28
    for part in ("by_kind", "by_site"):
        assert badge["breakdown"][part] == full["breakdown"][part]
        assert sum(badge["breakdown"][part].values()) == pytest.approx(badge["points"], abs=1e-3)
    assert {k: v for k, v in badge.items() if k != "breakdown"} == {k: v for k, v in full.items() if k != "breakdown"}


def test_view_says_days_only_when_a_day_was_capped():
    """A result's view is "days" when the burst cap took something off. raw and the people view
    are sums of differently rounded parts: with no day capped they still differ by a few grid
    units, which once read as a capped day in about half of these worlds."""
    for k in range(20):
        w = World()
        for i in range(60 + k):
            w.engage(f"fan{i % (7 + k % 5)}", "t", ago(0.5 + i * 1.37))
        if k % 2:  # and a birthday on some of them: a day that is capped
            for i in range(40):
                w.engage(f"friend{i}", "t", ago(2.2 + i / 1000))
        s = Scorer()
        s.add(w.items)
        r = s.result(ident("t"), at=NOW)
        D, g = s._derived, s._struct
        capped = bool((D.dratio[g.td_target == s._ids[ident("t")]] > 0).any())
        assert capped == bool(k % 2)
        assert r["view"] == ("days" if capped else "people")


def test_rows_past_the_scores_age_limit_count_for_standing_only():
    """A reply five years old is past the scores' age limit (1,066 days at a 90-day horizon) but
    within standing's (six times longer): it adds no points, no negative count, and says why."""
    w = World()
    old = w.engage("fan", "t", ago(5 * 365))
    rude = w.engage("troll", "t", ago(5 * 365), "You are an idiot and this is garbage.")
    w.engage("reader", "t", ago(3))
    s = Scorer()
    s.add(w.items)
    r = s.result(ident("t"), at=NOW)
    assert r["negative"]["count"] == 0
    assert set(r["breakdown"]["by_person"]) == {ident("reader")}
    for cid in (old, rude):
        rows = s.item_contributions(SITE, cid, at=NOW)["rows"]
        assert rows and all(not x["counted"] and x["why"].startswith("not counted: outside the horizon") for x in rows)
    assert s._derived.g0[s._struct.p_actor == s._ids[ident("fan")]].sum() > 0  # standing still has it


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_a_time_whose_offset_leaves_the_calendar_is_out_of_range_not_a_crash(value):
    """A capture got a 500 and `cloutlens score` stopped on the whole file: the offset overflowed
    datetime before the range was checked."""
    from scoring.items import ContractError, parse_time
    with pytest.raises(ContractError, match="out of range"):
        parse_time(value, "items[2].at")


def test_a_name_two_sites_spell_alike_is_one_identity():
    # a site may carry a port and a handle a ':': ("h.example:8080", "bob") and ("h.example",
    # "8080:bob") are one name, and so one identity, however the items come in
    def item(site, i, handle, parent=None):
        return normalize_item({"id": i, "kind": "comment" if parent else "post", "parent": parent,
                               "author": {"handle": handle}, "at": iso(ago(3)), "text": "hi"}, site)

    items = [item("h.example", "p1", "8080:bob"), item("h.example:8080", "p2", "bob"),
             item("h.example", "c1", "carol", "p1"), item("h.example:8080", "c2", "dave", "p2")]
    whole, streamed, added = Scorer(), Scorer(), Scorer()
    whole.add(items)
    streamed.load_stream([items[:1], items[1:]])
    added.add(items[:1])
    added.add(items[1:])
    for s in (whole, streamed, added):
        assert len(set(s._names)) == len(s._names) == len(s._ids)
        assert s._item.author[0] == s._item.author[1]
    assert whole.scores(at=NOW) == streamed.scores(at=NOW) == added.scores(at=NOW)
    assert whole.scores(at=NOW)["h.example:8080:bob"] > whole.scores(at=NOW)["h.example:carol"]


def test_engager_weights_say_what_one_reply_of_each_counts_beside_a_newcomers():
    """The dashboard's "weight of a reply": for each engager of T, one plain reply to T (their only
    action that day) gives T that many times what a newcomer's reply gives."""
    w = World()
    # engagers of rising standing: hub k is engaged by k distinct people, hub 5's fans by others too
    for k in range(6):
        for j in range(k):
            w.engage(f"fan{k}_{j}", f"hub{k}", ago(20 + j))
            if k == 5:
                for m in range(3):
                    w.engage(f"fanfan{j}_{m}", f"fan{k}_{j}", ago(30 + m))
        w.engage(f"hub{k}", "t", ago(2 + k))  # a day each: no day of t is capped
    w.engage("newcomer", "t", ago(9))
    s = Scorer()
    s.add(w.items)
    weights = s.engager_weights(ident("t"), at=NOW)
    gave = s.result(ident("t"), at=NOW)["breakdown"]["by_person"]
    assert set(weights) == set(gave) == {ident("newcomer")} | {ident(f"hub{k}") for k in range(6)}
    assert weights[ident("newcomer")] == weights[ident("hub0")] == 1.0
    # t's 37 people within three steps hold its score (the reach ceiling), which scales every
    # engager's part alike: the parts are rounded to 4 places, so the ratios hold to that
    result = s.result(ident("t"), at=NOW)
    assert result["view"] == "reach" and result["reach"] == 37
    assert sum(gave.values()) == pytest.approx(result["points"], abs=1e-3)
    for who, weight in weights.items():
        assert gave[who] == pytest.approx(weight * gave[ident("newcomer")], abs=1e-4 * (1 + weight))
    ladder = [weights[ident(f"hub{k}")] for k in range(6)]
    assert ladder == sorted(ladder) and ladder[5] > ladder[3] > 5  # property 4's five times, and more
    assert s.engager_weights(ident("newcomer"), at=NOW) == {}  # engaged by nobody
    assert s.engager_weights("nowhere:nobody", at=NOW) == {}


def test_results_with_people_0_give_scores_and_no_engagers():
    """A capture's server asks people=0 for the scores of those it replies to: the tie rule of the
    top-N cut read the entry before each result's first, and with no entry left the scoring
    failed (two of 125 badges of a Hacker News thread captured in slices said "scores failed")."""
    w = World()
    # one engager each, giving three different amounts: nothing ties with the entry read before
    for n, t in enumerate(("t1", "t2", "t3"), 1):
        for day in range(n):
            w.engage(f"fan{n}", t, ago(3 + day))
    w.engage("b", "t1", ago(9))
    w.engage("b", "t1", ago(10))
    w.engage("b", "t1", ago(11))
    w.engage("b", "t1", ago(12))
    s = Scorer()
    s.add(w.items)
    who = [ident(t) for t in ("t1", "t2", "t3")]
    full = s.results(who, at=NOW)
    for people in (0, 1, 2):
        cut = s.results(who, at=NOW, people=people)
        assert {i: r["score"] for i, r in cut.items()} == {i: r["score"] for i, r in full.items()}
        for i in who:
            mine = full[i]["breakdown"]["by_person"]
            top = sorted(mine.values(), reverse=True)[:people]
            kept = cut[i]["breakdown"]["by_person"]
            assert len(kept) >= min(people, len(mine)) and all(mine[p] >= min(top, default=0) for p in kept)
            assert people or kept == {}
