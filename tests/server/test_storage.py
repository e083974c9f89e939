"""The store: durable, atomic writes over bounded shards, upserts by (site, id), and a damaged file
never overwritten."""
from __future__ import annotations

import errno
import json
import os

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import server.storage as storage
from scoring import score_items
from server.contract import validate_capture
from server.storage import Store, StoreError
from helpers import capture, comment_item, post_item

SEEN = "2026-11-21T12:00:00Z"


def items(n=3, prefix="comment", url="https://blog.example/2026/11/klout"):
    return validate_capture(capture([post_item()] + [comment_item(f"{prefix}-{i}", f"p{i}") for i in range(n)],
                                    url=url))["items"]


def on_disk(data_dir) -> list[dict]:
    """Every item in the shard files, read with nothing but json."""
    docs = []
    for path in sorted((data_dir / "items").glob("shard-*.json")):
        docs.extend(json.loads(path.read_text())["items"].values())
    return docs


@pytest.fixture
def small_shards(monkeypatch):
    monkeypatch.setattr(storage, "SHARD_ITEMS", 5)
    monkeypatch.setattr(storage, "CACHED_SHARDS", 2)


def test_added_items_are_on_disk_when_add_returns(tmp_path):
    store = Store(tmp_path)
    out = store.add_items(items(), SEEN)
    assert out["added"] == 4
    assert {d["id"] for d in on_disk(tmp_path)} == {"post-1", "comment-0", "comment-1", "comment-2"}
    store.close()


def test_reopen_keeps_everything_and_the_index(tmp_path):
    store = Store(tmp_path)
    store.add_items(items(), SEEN)
    store.close()
    again = Store(tmp_path)
    assert again.count_items() == 4
    assert again.add_items(items(), SEEN)["added"] == 0
    again.close()


def test_undated_items_take_first_seen_time_and_keep_it(tmp_path):
    store = Store(tmp_path)
    store.add_items(items(0), SEEN)
    out = store.add_items(items(0), "2026-11-22T12:00:00Z")
    assert out["unchanged"] == 1
    assert store.all_items()[0]["at"] == SEEN
    store.close()
    again = Store(tmp_path)
    assert again.add_items(items(0), "2026-11-23T12:00:00Z")["unchanged"] == 1
    again.close()


def test_undated_replies_take_the_date_of_what_they_answer_in_the_same_capture(tmp_path):
    """A 2020 thread whose comments print their dates only as text, opened today: its replies
    are dated by the nearest dated item above them, not all today (a burst that never was)."""
    store = Store(tmp_path)
    thread = [post_item(at="2020-04-12T15:45:01Z"), comment_item("c1", "ann", at=None),
              comment_item("c2", "bob", parent="c1", at=None), comment_item("c3", "cat", parent="c2"),
              comment_item("c4", "dan", parent="c3", at=None), comment_item("c5", "eve", parent="gone", at=None)]
    stored = store.add_items(validate_capture(capture(thread))["items"], SEEN)["items"]
    at = {d["id"]: d["at"] for d in stored}
    assert at == {"post-1": "2020-04-12T15:45:01Z", "c1": "2020-04-12T15:45:01Z", "c2": "2020-04-12T15:45:01Z",
                  "c3": "2026-11-20T09:14:00Z", "c4": "2026-11-20T09:14:00Z", "c5": SEEN}
    assert {d["seen"] for d in stored} == {SEEN}
    # A reply that appears later, its thread not in the capture: it is new since, first seen now.
    later = store.add_items(validate_capture(capture([comment_item("c6", "fay", parent="c1", at=None)]))["items"],
                            "2026-11-25T08:00:00Z")["items"]
    assert later[0]["at"] == "2026-11-25T08:00:00Z"
    store.close()


def test_changed_item_is_updated_in_place_across_restarts(tmp_path):
    store = Store(tmp_path)
    store.add_items(items(2), SEEN)
    store.close()
    store = Store(tmp_path)
    changed = items(2)
    changed[1]["reactions"] = {"like": 9}
    out = store.add_items(changed, "2026-11-22T00:00:00Z")
    assert (out["added"], out["updated"], out["unchanged"]) == (0, 1, 2)
    assert out["items"][0]["seen"] == SEEN  # first seen stays
    store.close()
    docs = {d["id"]: d for d in on_disk(tmp_path)}
    assert len(docs) == 3 and docs["comment-0"]["reactions"] == {"like": 9}


def test_an_item_twice_in_one_batch_is_reported_once_as_its_last_version(tmp_path):
    """An import file may hold an item twice (by different authors even): the store keeps the
    last, and hands the scorer that one alone; handed both, the scorer credited the first."""
    store = Store(tmp_path)
    stored = items(1)
    twice = [stored[0], stored[1], dict(stored[1], author={"handle": "bob", "name": "Bob", "url": None}),
             dict(stored[1], author={"handle": "carl", "name": "Carl", "url": None}, text="third")]
    out = store.add_items(twice, SEEN)
    assert (out["added"], out["updated"], out["unchanged"]) == (2, 0, 2)
    assert [(d["id"], d["author"]["handle"]) for d in out["items"]] == [("post-1", "martinwaxman"), ("comment-0", "carl")]
    # stored before: the second and third versions are one update, the last
    again = [dict(twice[3], text="fourth"), dict(twice[3], author={"handle": "dan", "name": "Dan", "url": None})]
    out = store.add_items(again, SEEN)
    assert (out["added"], out["updated"], out["unchanged"]) == (0, 1, 1)
    assert [d["author"]["handle"] for d in out["items"]] == ["dan"]
    # two captures of one group commit: as if stored one after the other
    first, second = store.add_batches([([dict(twice[1], id="n")], SEEN), ([dict(twice[2], id="n")], SEEN)])
    assert [d["author"]["handle"] for d in first["items"]] == ["p0"] and first["added"] == 1
    assert [d["author"]["handle"] for d in second["items"]] == ["bob"] and second["updated"] == 1
    assert {(d["id"], d["author"]["handle"]) for d in on_disk(tmp_path)} == {
        ("post-1", "martinwaxman"), ("comment-0", "dan"), ("n", "bob")}
    assert store.items_by_author("blog.example:carl") == [] and len(store.items_by_author("blog.example:dan")) == 1
    store.close()


def test_a_second_process_cannot_open_the_same_dir(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(StoreError, match="in use"):
        Store(tmp_path)
    store.close()


def test_items_spread_over_bounded_shards_and_reopen(tmp_path, small_shards):
    store = Store(tmp_path)
    for page in range(6):
        store.add_items(items(3, url=f"https://blog.example/p{page}", prefix=f"c{page}"), SEEN)
    # post-1 is the same item on every page of the site: 1 + 6 * 3 items.
    assert store.count_items() == 19
    sizes = [len(json.loads(p.read_text())["items"]) for p in sorted((tmp_path / "items").glob("shard-*.json"))]
    assert len(sizes) == 4 and max(sizes) <= 5 and sum(sizes) == 19
    store.close()
    again = Store(tmp_path)
    assert again.count_items() == 19
    assert sorted(d["id"] for d in again.all_items()) == sorted(d["id"] for d in on_disk(tmp_path))
    # An item in an old, evicted shard is still found, compared and updated where it lives.
    old = items(3, url="https://blog.example/p0", prefix="c0")
    old[2]["text"] = "edited"
    out = again.add_items(old, SEEN)
    assert (out["added"], out["updated"]) == (0, 1)
    assert again.get_item("blog.example", "c0-1")["text"] == "edited"
    again.close()
    assert len(on_disk(tmp_path)) == 19


def test_many_items_read_in_store_order_come_back_in_the_order_asked(tmp_path, small_shards, monkeypatch):
    store = Store(tmp_path)
    store.add_items(items(22), SEEN)  # five shards of at most 5, two parsed at a time
    keys = [("blog.example", f"comment-{k}") for k in (21, 0, 13, 5, 20, 1)] + [("blog.example", "nope")]
    parsed = []
    real = store._shard
    monkeypatch.setattr(store, "_shard", lambda no: parsed.append(no) or real(no))
    got = store.get_items(keys)
    assert [d and d["id"] for d in got] == [k[1] for k in keys[:-1]] + [None]
    assert got == [store.get_item(*k) for k in keys]
    assert parsed[:6] == sorted(parsed[:6])  # by where they are stored, not as asked
    assert store.count_by_author("blog.example:martinwaxman") == 1 and store.count_by_author("nobody") == 0
    parsed.clear()
    assert store.get_items(keys, max_shards=3) is None and parsed == []  # in four shards: nothing read
    assert store.get_items(keys, max_shards=4) == got
    store.close()


def test_a_large_batch_splits_over_shards_in_one_commit(tmp_path, small_shards):
    store = Store(tmp_path)
    out = store.add_items(items(22), SEEN)
    assert out["added"] == 23 and store.shard_count() == 5
    store.close()
    assert len(on_disk(tmp_path)) == 23
    assert not (tmp_path / "commit.journal").exists()


def test_damaged_shard_is_kept_and_refused(tmp_path):
    store = Store(tmp_path)
    store.add_items(items(), SEEN)
    store.close()
    shard = tmp_path / "items" / "shard-00000.json"
    shard.write_text('{"items": {"1": {"site": "a"')
    with pytest.raises(StoreError, match="damaged") as exc:
        Store(tmp_path)
    assert "shard-00000.json" in str(exc.value)
    copies = list((tmp_path / "items").glob("shard-00000.json.damaged-*"))
    assert len(copies) == 1
    assert shard.read_text() == copies[0].read_text() == '{"items": {"1": {"site": "a"'


MALFORMED_SHARDS = ['{"items": {"1": {"site": "blog.example"}}}', '{"items": {"1": 5}}', '{"items": [1]}',
                    '{"items": {"x": {"site": "a", "id": "b", "author": {"handle": "c", "name": "C"}}}}',
                    '{"items": {"1": {"site": 5, "id": "b", "author": {"handle": "c", "name": "C"}}}}',
                    '{"items": {"1": {"site": "a", "id": "b", "author": {"handle": "c"}}}}']


@pytest.mark.parametrize("text", MALFORMED_SHARDS)
def test_a_shard_of_valid_json_but_no_items_is_damaged_too(tmp_path, text):
    """Hand-edited or written by something else: refused as damaged JSON is, not a traceback."""
    Store(tmp_path).close()
    shard = tmp_path / "items" / "shard-00000.json"
    shard.parent.mkdir(exist_ok=True)
    shard.write_text(text)
    with pytest.raises(StoreError, match="shard-00000.json is damaged") as exc:
        Store(tmp_path)
    assert "item" in str(exc.value).split("damaged (", 1)[1]  # says what is wrong
    assert [c.read_text() for c in shard.parent.glob("shard-00000.json.damaged-*")] == [text]


def test_damaged_config_is_kept_and_refused(tmp_path):
    (tmp_path / "config.json").write_bytes(b"\x00\x00garbage")
    with pytest.raises(StoreError, match="config.json is damaged"):
        Store(tmp_path)
    assert (tmp_path / "config.json").read_bytes() == b"\x00\x00garbage"


def fail_fsync_after(monkeypatch, n):
    """fsync works n times, then the disk is full."""
    calls = {"n": 0}
    real = os.fsync

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] > n:
            raise OSError(28, "No space left on device")
        return real(fd)
    monkeypatch.setattr(os, "fsync", fsync)


def test_failed_write_leaves_the_old_file_and_memory_consistent(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.add_items(items(1), SEEN)
    shard = tmp_path / "items" / "shard-00000.json"
    before = shard.read_bytes()

    fail_fsync_after(monkeypatch, 0)
    more = validate_capture(capture([comment_item("comment-9", "zed")]))["items"]
    with pytest.raises(OSError):
        store.add_items(more, SEEN)
    monkeypatch.undo()
    assert shard.read_bytes() == before
    assert store.count_items() == 2
    assert not list((tmp_path / "items").glob(".*.tmp"))
    # and the store still works afterwards
    assert store.add_items(more, SEEN)["added"] == 1
    assert store.count_items() == 3
    store.close()
    assert len(on_disk(tmp_path)) == 3


@pytest.mark.parametrize("fsyncs_ok", [0, 1, 2, 3])
def test_disk_full_during_a_multi_shard_change_stores_none_of_it(tmp_path, monkeypatch, small_shards, fsyncs_ok):
    store = Store(tmp_path)
    store.add_items(items(2), SEEN)  # 3 items in shard 0
    before = sorted((p.name, p.read_bytes()) for p in (tmp_path / "items").iterdir())
    batch = items(2)
    batch[1]["text"] = "an update to shard 0"
    batch += validate_capture(capture([comment_item(f"new-{i}", "zed") for i in range(8)]))["items"]

    fail_fsync_after(monkeypatch, fsyncs_ok)
    with pytest.raises(OSError):
        store.add_items(batch, SEEN)
    monkeypatch.undo()
    assert sorted((p.name, p.read_bytes()) for p in (tmp_path / "items").iterdir()) == before
    assert store.count_items() == 3
    assert store.get_item("blog.example", "comment-0")["text"] == "comment comment-0"
    out = store.add_items(batch, SEEN)
    assert (out["added"], out["updated"]) == (8, 1)
    store.close()
    assert len(on_disk(tmp_path)) == 11


def test_a_crash_after_the_commit_journal_is_finished_at_start(tmp_path, monkeypatch, small_shards):
    store = Store(tmp_path)
    store.add_items(items(2), SEEN)
    batch = validate_capture(capture([comment_item(f"new-{i}", "zed") for i in range(8)]))["items"]

    real_replace = os.replace

    def crash(src, dst):  # the process dies once the journal is down, before any shard's rename
        if os.path.basename(dst).startswith("shard-"):
            raise SystemExit("killed")
        return real_replace(src, dst)
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(SystemExit):
        store.add_items(batch, SEEN)
    monkeypatch.undo()
    assert (tmp_path / "commit.journal").exists()
    store._lock_file.close()

    again = Store(tmp_path)
    assert again.count_items() == 11
    assert not (tmp_path / "commit.journal").exists()
    assert not list((tmp_path / "items").glob(".*.tmp"))
    again.close()


def test_temp_files_without_a_journal_are_dropped_at_start(tmp_path):
    store = Store(tmp_path)
    store.add_items(items(1), SEEN)
    store.close()
    stray = tmp_path / "items" / ".shard-00001.json.123.456.tmp"
    stray.write_bytes(orjson.dumps({"items": {"1": {"site": "x"}}}))
    # a checkpoint save cut short by a kill: as large as the scorer, and never used
    (tmp_path / "checkpoints").mkdir(exist_ok=True)
    cut = tmp_path / "checkpoints" / ".scorer.bin.123.456.tmp"
    cut.write_bytes(b"CLOUTLENS-SCORER-CHECKPOINT\n" + b"x" * 1000)
    from click.testing import CliRunner

    from server.cli import main
    assert "2 temp files of unacknowledged writes" in CliRunner().invoke(main, ["doctor", "--data-dir", str(tmp_path)]).output
    again = Store(tmp_path)
    assert not stray.exists() and not cut.exists() and again.count_items() == 2
    again.close()


def test_single_file_store_from_before_sharding_is_migrated(tmp_path):
    docs = {str(i + 1): dict(d, seen=SEEN, at=d["at"] or SEEN) for i, d in enumerate(items(2))}
    (tmp_path / "items.json").write_bytes(orjson.dumps({"items": docs}))
    store = Store(tmp_path)
    assert store.count_items() == 3
    assert store.add_items(items(2), SEEN)["unchanged"] == 3
    store.close()
    assert (tmp_path / "items.json.migrated").exists() and not (tmp_path / "items.json").exists()


def test_remove_author_deletes_every_item_they_wrote(tmp_path, small_shards):
    store = Store(tmp_path)
    for page in range(3):
        store.add_items(items(3, url=f"https://blog.example/p{page}", prefix=f"c{page}"), SEEN)
    assert len(store.items_by_author("blog.example:p1")) == 3
    removed = store.remove_author("blog.example:p1")
    assert sorted(d["id"] for d in removed) == ["c0-1", "c1-1", "c2-1"]
    assert store.items_by_author("blog.example:p1") == []
    assert store.count_items() == 7
    store.close()
    assert not [d for d in on_disk(tmp_path) if d["author"]["handle"] == "p1"]
    again = Store(tmp_path)
    assert again.count_items() == 7 and "blog.example:p1" not in again.authors()
    again.close()


def test_config_survives_reopen_and_is_written_atomically(tmp_path):
    store = Store(tmp_path)
    store.set_configs({"settings": {"horizon_days": 90}, "links": {"a:x": "b:y"}})
    store.close()
    again = Store(tmp_path)
    assert again.get_config("settings") == {"horizon_days": 90}
    assert again.get_config("links") == {"a:x": "b:y"}
    again.close()


def test_daily_snapshots_are_kept_per_identity(tmp_path):
    store = Store(tmp_path)
    store.record_scores("2026-10-31", {"blog.example:anna": 20, "blog.example:bob": 11})
    store.record_scores("2026-11-01", {"blog.example:anna": 22})
    assert store.history("blog.example:anna") == [{"day": "2026-10-31", "score": 20},
                                                  {"day": "2026-11-01", "score": 22}]
    store.close()
    again = Store(tmp_path)
    assert again.history("blog.example:anna")[-1] == {"day": "2026-11-01", "score": 22}
    again.forget_history("blog.example:anna")
    assert again.history("blog.example:anna") == []
    assert again.history("blog.example:bob") == [{"day": "2026-10-31", "score": 11}]
    again.close()


def test_snapshots_are_written_a_day_a_file_by_flush_only_and_month_files_still_count(tmp_path):
    (tmp_path / "history").mkdir()
    # the layout before day files: a month a file
    (tmp_path / "history" / "2026-10.json").write_bytes(orjson.dumps(
        {"2026-10-30": {"blog.example:anna": 18, "blog.example:bob": 9}}))
    store = Store(tmp_path)
    store.record_scores("2026-10-31", {"blog.example:anna": 20})
    store.record_scores("2026-11-01", {"blog.example:anna": 22, "blog.example:bob": 12})
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == ["2026-10.json"]  # not in a capture
    store.flush_history()
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == ["2026-10-31.json", "2026-10.json",
                                                                        "2026-11-01.json", "models.json"]
    assert orjson.loads((tmp_path / "history" / "2026-11-01.json").read_bytes()) == \
        {"blog.example:anna": 22, "blog.example:bob": 12}
    store.record_scores("2026-11-01", {"blog.example:anna": 23})
    store.flush_history()  # only the day with news is rewritten, and keeps the rest of the day
    assert orjson.loads((tmp_path / "history" / "2026-11-01.json").read_bytes()) == \
        {"blog.example:anna": 23, "blog.example:bob": 12}
    assert store.history("blog.example:anna") == [{"day": "2026-10-30", "score": 18},
                                                  {"day": "2026-10-31", "score": 20},
                                                  {"day": "2026-11-01", "score": 23}]
    store.forget_history("blog.example:anna")
    assert store.history("blog.example:anna") == []
    assert store.history("blog.example:bob") == [{"day": "2026-10-30", "score": 9}, {"day": "2026-11-01", "score": 12}]
    assert b"anna" not in b"".join(p.read_bytes() for p in (tmp_path / "history").iterdir())
    store.close()


# identities with the characters that could fool a search of a day file's bytes: quotes,
# backslashes, commas, braces, colons, digits, non-ASCII; and one inside another
_ident = st.text(alphabet='ab:",\\{}1-é\u2028', min_size=1, max_size=8).map(lambda h: "s:" + h)


@settings(max_examples=300, deadline=None)
@given(day=st.dictionaries(_ident, st.integers(1, 100), max_size=8), asked=st.lists(_ident, max_size=4))
def test_a_day_file_searched_for_a_key_gives_what_parsing_it_gives(tmp_path_factory, day, asked):
    # keys that hold an asked identity whole after a quote (written '\\"'): not that identity
    day.update({'s:"' + a: 7 for a in asked})
    path = tmp_path_factory.mktemp("h") / "2026-11-01.json"
    path.write_bytes(orjson.dumps(day))
    for identity in list(day) + asked + ["x" + k for k in day] + [k + "x" for k in day]:
        assert storage._score_in_day_file(path, orjson.dumps(identity) + b":") == day.get(identity)


def test_a_damaged_history_file_is_set_aside_once_and_the_rest_still_shows(tmp_path, caplog):
    store = Store(tmp_path)
    store.record_scores("2026-10-31", {"blog.example:anna": 20})
    store.record_scores("2026-11-01", {"blog.example:anna": 22})
    store.flush_history()
    (tmp_path / "history" / "2026-10-31.json").write_bytes(b'{"blog.example:anna":2')  # cut short
    assert store.history("blog.example:anna") == [{"day": "2026-11-01", "score": 22}]
    store.record_scores("2026-10-31", {"blog.example:bob": 5})
    store.flush_history()  # the day starts again: a chart loses a point, nothing stops
    assert store.history("blog.example:bob") == [{"day": "2026-10-31", "score": 5}]
    assert store.history("blog.example:anna") == [{"day": "2026-11-01", "score": 22}]
    kept = [p.name for p in (tmp_path / "history").iterdir() if ".damaged-" in p.name]
    assert len(kept) == 1 and kept[0].startswith("2026-10-31.json.damaged-")
    assert "2026-10-31.json was damaged" in caplog.text
    store.close()


def test_unusable_data_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the data dir"):
        Store(blocker / "data")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only dirs")
def test_read_only_data_dir_is_a_clear_error(tmp_path):
    store = Store(tmp_path / "data")
    store.add_items(items(), SEEN)
    store.close()
    os.chmod(tmp_path / "data", 0o500)
    try:
        with pytest.raises(StoreError, match="not writable"):
            Store(tmp_path / "data")
    finally:
        os.chmod(tmp_path / "data", 0o700)
    assert len(on_disk(tmp_path / "data")) == 4


def test_a_group_of_captures_is_stored_as_if_one_after_the_other(tmp_path):
    store = Store(tmp_path)
    store.add_items(items(1), SEEN)  # post-1, comment-0 already stored
    again = items(2)                # the same page, now with comment-1
    edited = items(2)
    edited[2]["text"] = "edited in the second tab"
    out = store.add_batches([(again, SEEN), (edited, "2026-11-22T00:00:00Z"), (items(2), SEEN)])
    assert [(r["added"], r["updated"], r["unchanged"]) for r in out] == [(1, 0, 2), (0, 1, 2), (0, 1, 2)]
    # The last capture wins, and the item is stored once with its first-seen time.
    assert store.count_items() == 3
    assert store.get_item("blog.example", "comment-1")["text"] == "comment comment-1"
    assert store.get_item("blog.example", "comment-1")["seen"] == SEEN
    store.close()
    assert sorted(d["id"] for d in on_disk(tmp_path)) == ["comment-0", "comment-1", "post-1"]


def test_a_failed_group_stores_none_of_its_captures(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.add_items(items(1), SEEN)
    changed = items(1)
    changed[1]["reactions"] = {"like": 3}
    fresh = validate_capture(capture([comment_item("other-1", "zed")], url="https://blog.example/2"))["items"]
    fail_fsync_after(monkeypatch, 0)
    with pytest.raises(OSError):
        store.add_batches([(changed, SEEN), (fresh, SEEN)])
    monkeypatch.undo()
    assert store.count_items() == 2
    assert store.get_item("blog.example", "comment-0")["reactions"] == {}
    assert [(r["added"], r["updated"]) for r in store.add_batches([(changed, SEEN), (fresh, SEEN)])] == [(0, 1), (1, 0)]
    store.close()


def test_a_rename_that_fails_midway_stops_writes_until_the_restart_finishes_it(tmp_path, monkeypatch, small_shards):
    store = Store(tmp_path)
    store.add_items(items(2), SEEN)
    batch = validate_capture(capture([comment_item(f"new-{i}", "zed") for i in range(8)]))["items"]
    real_replace = os.replace
    done = []

    def flaky(src, dst):  # the first shard's rename works, the second fails
        if os.path.basename(dst).startswith("shard-"):
            if done:
                raise OSError(5, "Input/output error")
            done.append(dst)
        return real_replace(src, dst)
    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(StoreError, match="restart"):
        store.add_items(batch, SEEN)
    monkeypatch.undo()
    with pytest.raises(StoreError, match="restart"):
        store.add_items(items(3), SEEN)
    store.close()
    again = Store(tmp_path)
    assert again.count_items() == 11
    assert len(on_disk(tmp_path)) == 11
    again.close()


# -- each item's sentiment, computed once ---------------------------------------------------------

HOSTILE = "You are an idiot and this is garbage."


@pytest.fixture
def vader_calls(monkeypatch):
    """The texts the store runs VADER on."""
    calls = []
    real = storage.compound

    def counting(text):
        calls.append(text)
        return real(text)
    monkeypatch.setattr(storage, "compound", counting)
    return calls


def test_each_new_item_is_stored_with_its_sentiment(tmp_path):
    from scoring.sentiment import compound
    store = Store(tmp_path)
    page = items(2)
    page[1]["text"] = HOSTILE
    store.add_items(page, SEEN)
    store.close()
    docs = {d["id"]: d for d in on_disk(tmp_path)}
    assert docs["comment-0"]["sentiment"] == compound(HOSTILE) <= -0.5
    for d in docs.values():
        assert d["sentiment"] == compound(d["text"]) and isinstance(d["sentiment"], float)


def test_sentiment_is_computed_only_for_new_or_edited_text(tmp_path, vader_calls):
    store = Store(tmp_path)
    store.add_items(items(2), SEEN)
    assert len(vader_calls) == 3
    vader_calls.clear()
    store.add_items(items(2), SEEN)  # unchanged re-capture
    grown = items(2)
    grown[1]["reactions"] = {"like": 4}  # updated, same text
    assert store.add_items(grown, SEEN)["updated"] == 1
    assert vader_calls == []
    store.close()
    store = Store(tmp_path)  # a restart neither: the values are on disk
    edited = items(2)
    edited[1]["text"] = HOSTILE
    assert store.add_items(edited, SEEN)["updated"] == 1
    assert vader_calls == [HOSTILE]
    assert store.get_item("blog.example", "comment-0")["sentiment"] <= -0.5
    store.close()


def test_a_client_cannot_choose_the_sentiment_stored(tmp_path):
    store = Store(tmp_path)
    page = items(1)
    page[1] = dict(page[1], text=HOSTILE, sentiment=0.9)  # past validation only by a bug or an import
    store.add_items(page, SEEN)
    assert store.get_item("blog.example", "comment-0")["sentiment"] <= -0.5
    store.close()


def _strip_sentiment(data_dir, value=None):
    for path in (data_dir / "items").glob("shard-*.json"):
        data = json.loads(path.read_text())
        for d in data["items"].values():
            d.pop("sentiment")
            if value is not None:
                d["sentiment"] = value
        path.write_text(json.dumps(data))


@pytest.mark.parametrize("bad", [None, "0.5", True, 7.0, -3])
def test_items_stored_without_sentiment_get_it_once_at_start(tmp_path, small_shards, vader_calls, bad):
    store = Store(tmp_path)
    for page in range(3):
        store.add_items(items(3, url=f"https://blog.example/p{page}", prefix=f"c{page}"), SEEN)
    store.close()
    expected = {d["id"]: d["sentiment"] for d in on_disk(tmp_path)}
    _strip_sentiment(tmp_path, bad)  # a data dir from before the field, or edited by hand
    vader_calls.clear()
    store = Store(tmp_path)
    assert len(vader_calls) == len(expected) == store.sentiment_migrated
    assert {d["id"]: d["sentiment"] for d in store.all_items()} == expected
    store.close()
    assert {d["id"]: d["sentiment"] for d in on_disk(tmp_path)} == expected
    assert not list((tmp_path / "items").glob(".*.tmp"))
    vader_calls.clear()
    again = Store(tmp_path)
    assert vader_calls == [] and again.sentiment_migrated == 0
    again.close()


def test_a_failed_migration_write_still_starts_and_leaves_the_shard_as_it_was(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.add_items(items(2), SEEN)
    n = store.count_items()
    store.close()
    _strip_sentiment(tmp_path)
    before = {p.name: p.read_bytes() for p in (tmp_path / "items").glob("shard-*.json")}

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(storage, "atomic_write", full)
    store = Store(tmp_path)
    assert store.sentiment_migrated == 0 and store.count_items() == n
    unmigrated = score_items(store.all_items(), at=SEEN)  # the scorer computes what is missing
    store.close()
    assert {p.name: p.read_bytes() for p in (tmp_path / "items").glob("shard-*.json")} == before
    monkeypatch.undo()
    again = Store(tmp_path)  # the next start finishes the job
    assert again.sentiment_migrated == n
    assert score_items(again.all_items(), at=SEEN) == unmigrated
    again.close()


# -- delete everything --------------------------------------------------------------------------


def _filled(tmp_path):
    store = Store(tmp_path)
    for page in range(3):
        store.add_items(items(3, url=f"https://blog.example/p{page}", prefix=f"c{page}"), SEEN)
    store.record_scores("2026-11-21", {"blog.example:p1": 30})
    store.flush_history()
    store.set_configs({"clients": ["hash"], "settings": {"horizon_days": 30}})
    return store


def test_clear_deletes_every_item_and_snapshot_and_keeps_tokens(tmp_path, small_shards):
    store = _filled(tmp_path)
    assert store.clear({"settings": {}}) == 10
    assert store.count_items() == 0 and store.authors() == [] and store.history("blog.example:p1") == []
    assert store.get_config("clients") == ["hash"] and store.get_config("settings") == {}
    assert store.add_items(items(1), SEEN)["added"] == 2  # and the store works on
    store.close()
    assert len(on_disk(tmp_path)) == 2 and not list((tmp_path / "history").iterdir())
    # the index's checkpoint is written again by close(), of the items there are now
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "checkpoints", "config.json", "history", "items"]
    again = Store(tmp_path)
    assert again.count_items() == 2 and again.get_config("clients") == ["hash"]
    again.close()


def test_a_clear_cut_off_after_its_journal_is_finished_at_start(tmp_path, monkeypatch, small_shards):
    store = _filled(tmp_path)
    real = storage.shutil.rmtree

    def crash(path, *a, **k):
        raise OSError(errno.EIO, "Input/output error")  # the process dies here, say
    monkeypatch.setattr(storage.shutil, "rmtree", crash)
    with pytest.raises(StoreError, match="restart"):
        store.clear({"settings": {}})
    with pytest.raises(StoreError, match="restart"):
        store.add_items(items(1), SEEN)  # no writes over a half-done change
    store.close()
    monkeypatch.setattr(storage.shutil, "rmtree", real)
    again = Store(tmp_path)
    assert again.count_items() == 0 and again.get_config("settings") == {}
    assert again.get_config("clients") == ["hash"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "config.json", "history", "items"]
    again.close()


def test_a_clear_that_cannot_write_its_journal_changes_nothing(tmp_path, monkeypatch, small_shards):
    store = _filled(tmp_path)
    before = sorted(d["id"] for d in on_disk(tmp_path))

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(storage, "atomic_write", full)
    with pytest.raises(OSError):
        store.clear()
    monkeypatch.undo()
    assert store.count_items() == 10
    store.close()
    assert sorted(d["id"] for d in on_disk(tmp_path)) == before


def test_snapshots_note_the_model_version_they_were_scored_by(tmp_path, monkeypatch):
    from scoring import model
    store = Store(tmp_path)
    assert store.model_changes() == []
    store.record_scores("2026-11-01", {"blog.example:anna": 20})
    store.record_scores("2026-11-02", {"blog.example:anna": 21})
    store.flush_history()
    assert store.model_changes() == [("2026-11-01", model.VERSION)]
    store.record_scores("2026-11-03", {"blog.example:anna": 21})
    store.flush_history()  # the same model: nothing new
    assert store.model_changes() == [("2026-11-01", model.VERSION)]
    first = model.VERSION
    monkeypatch.setattr(model, "VERSION", "2099-01-01")
    store.record_scores("2026-11-04", {"blog.example:anna": 30})
    store.flush_history()
    store.close()
    again = Store(tmp_path)
    assert again.model_changes() == [("2026-11-01", first), ("2026-11-04", "2099-01-01")]
    # the clock went back: the change is dated with the last one, and the versions before stay
    monkeypatch.setattr(model, "VERSION", "2099-02-02")
    again.record_scores("2026-11-02", {"blog.example:anna": 22})
    again.flush_history()
    assert again.model_changes() == [("2026-11-01", first), ("2026-11-04", "2099-01-01"),
                                     ("2026-11-04", "2099-02-02")]
    # derived data: a damaged file, or one whose days are not dates in order, counts as none
    for damaged in (b"{not json", b'{"changes": [["2026-11-31", "x"]]}', b'{"changes": [["20261101", "x"]]}',
                    b'{"changes": [["2026-11-02", "x"], ["2026-11-01", "y"]]}', b'{"changes": [["2026-11-01"]]}',
                    b'{"changes": [[1, "x"]]}', b'{"changes": "2026-11-01"}', b'{"changes": [["2026-11-01", 7]]}'):
        (tmp_path / "history" / "models.json").write_bytes(damaged)
        assert again.model_changes() == [], damaged
    assert again.history("blog.example:anna")[-1] == {"day": "2026-11-04", "score": 30}
    again.close()


def test_a_day_is_never_written_before_its_model_version(tmp_path, monkeypatch):
    store = Store(tmp_path)

    def full_disk(day):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(store, "_note_model", full_disk)
    store.record_scores("2026-11-01", {"blog.example:anna": 20})
    with pytest.raises(OSError):
        store.flush_history()
    assert not (tmp_path / "history" / "2026-11-01.json").exists()
    monkeypatch.undo()
    store.flush_history()  # kept for the next flush, version first
    assert store.history("blog.example:anna") == [{"day": "2026-11-01", "score": 20}]
    assert [day for day, _ in store.model_changes()] == ["2026-11-01"]
    store.close()
