"""The store: durable, atomic writes, upserts by (site, id), and a damaged file never overwritten."""
from __future__ import annotations

import json
import os

import pytest

from server.contract import validate_capture
from server.storage import Store, StoreError
from helpers import capture, comment_item, post_item

SEEN = "2026-11-21T12:00:00Z"


def items(n=3):
    return validate_capture(capture([post_item()] + [comment_item(f"comment-{i}", f"p{i}") for i in range(n)]))["items"]


def test_added_items_are_on_disk_when_add_returns(tmp_path):
    store = Store(tmp_path)
    out = store.add_items(items(), SEEN)
    assert out["added"] == 4
    on_disk = json.loads((tmp_path / "items.json").read_text())
    assert len(on_disk["items"]) == 4
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


def test_a_second_process_cannot_open_the_same_dir(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(StoreError, match="in use"):
        Store(tmp_path)
    store.close()


def test_damaged_file_is_kept_and_refused(tmp_path):
    (tmp_path / "items.json").write_text('{"items": {"1": {"site": "a"')
    with pytest.raises(StoreError, match="damaged"):
        Store(tmp_path)
    copies = list(tmp_path.glob("items.json.damaged-*"))
    assert len(copies) == 1
    assert (tmp_path / "items.json").read_text() == copies[0].read_text()


def test_failed_write_leaves_the_old_file_and_memory_consistent(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.add_items(items(1), SEEN)
    before = (tmp_path / "items.json").read_bytes()

    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    more = validate_capture(capture([comment_item("comment-9", "zed")]))["items"]
    with pytest.raises(OSError):
        store.add_items(more, SEEN)
    monkeypatch.undo()
    assert (tmp_path / "items.json").read_bytes() == before
    assert store.count_items() == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".items.json.")]
    # and the store still works afterwards
    assert store.add_items(more, SEEN)["added"] == 1
    store.close()


def test_unusable_data_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the data dir"):
        Store(blocker / "data")
