"""Checkpoints: the store's index and the scorer saved beside the items so that a start reads what
changed since instead of everything. They are derived data: a start that uses them must give
what a start from the items gives, after a clean stop, after a crash (no checkpoint written since
the last captures), after a forget, with a damaged checkpoint; and nothing forgotten lives on in
them."""
from __future__ import annotations

import pytest

import server.app as app_module
import server.storage as storage
from helpers import EXT_ORIGIN, capture, comment_item, pair, post_item
from server.app import create_app
from scoring import checkpoint
from server.storage import INDEX_CHECKPOINT, Store


@pytest.fixture(autouse=True)
def small_shards(monkeypatch):
    monkeypatch.setattr(storage, "SHARD_ITEMS", 4)  # several shards from a few pages


def page(n: int, people=("anna", "bob", "carol", "dave")):
    items = [post_item(f"post-{n}", author="host")]
    items += [comment_item(f"c{n}-{k}", who, parent=f"post-{n}" if k == 0 else f"c{n}-{k - 1}",
                           text=f"Thanks #python {k}") for k, who in enumerate(people)]
    return capture(items, url=f"https://blog.example/p{n}")


def start(path):
    app = create_app({"DATA_DIR": str(path), "TESTING": True})
    client = app.test_client()
    services = app.extensions["cloutlens"]
    return app, client, services


def captured(path, pages):
    """A server started on path that has captured pages 0..pages-1 (each answered 200)."""
    app, client, services = start(path)
    auth = {"Authorization": f"Bearer {pair(client)}", "Origin": EXT_ORIGIN}
    for n in range(pages):
        assert client.post("/api/capture", json=page(n), headers=auth).status_code == 200
    return client, services, auth


def everyone(services):
    return [(r["identity"], r["score"], r["raw"], r["topics"]) for r in services.scorer.ranking()]


def reference(tmp_path, path):
    """What a start from the items alone gives for the same data dir contents."""
    import shutil
    copy = tmp_path / "reference"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(path, copy, ignore=shutil.ignore_patterns(".lock", "checkpoints"))
    app, _, services = start(copy)
    try:
        assert services.loaded_from == "items"
        return everyone(services), services.store.count_items(), sorted(services.store.authors())
    finally:
        services.close()


def test_a_clean_stop_starts_again_from_the_checkpoints(tmp_path):
    data = tmp_path / "data"
    client, services, auth = captured(data, 5)
    before = everyone(services)
    services.close()
    app, client, services = start(data)
    try:
        assert services.loaded_from == "checkpoint (0 of 7 shards read again)"
        assert services.store.index_from_checkpoint == {"shards_read": 0, "shards": 7}
        assert everyone(services) == before == reference(tmp_path, data)[0]
        # and it goes on like any scorer: a capture after the start
        assert client.post("/api/capture", json=page(9), headers=auth).status_code == 200
        after = everyone(services)
    finally:
        services.close()
    assert after == reference(tmp_path, data)[0]


def test_after_a_crash_the_shards_written_since_are_read_again(tmp_path):
    data = tmp_path / "data"
    client, services, auth = captured(data, 3)
    services.close()
    app, client, services = start(data)
    for n in range(3, 6):  # captured, then the process dies: no checkpoint of these
        client.post("/api/capture", json=page(n), headers=auth)
    client.post("/api/capture", json=page(1, people=("erin", "bob", "carol", "dave")), headers=auth)  # an edit
    services.store._lock_file.close()  # what a killed process leaves: the files as they are
    app, client, services = start(data)
    try:
        assert services.loaded_from.startswith("checkpoint (") and not services.loaded_from.startswith("checkpoint (0 ")
        assert services.store.index_from_checkpoint["shards_read"] > 0
        ref = reference(tmp_path, data)
        assert everyone(services) == ref[0]
        assert services.store.count_items() == ref[1] and sorted(services.store.authors()) == ref[2]
        # the items read again replaced their rows; the tombstones went before the scores did
        assert services.scorer.dead_share() <= app_module.COMPACT_AT
    finally:
        services.close()


def test_a_copied_data_dir_starts_from_its_items(tmp_path):
    """A copy (a backup restored, a new disk) changes every shard's stamp: its checkpoint would
    have every item given again, each row twice, so the start loads from the items instead."""
    import shutil
    data = tmp_path / "data"
    client, services, auth = captured(data, 5)
    before = everyone(services)
    services.close()
    copy = tmp_path / "copy"
    shutil.copytree(data, copy, ignore=shutil.ignore_patterns(".lock"))
    app, client, services = start(copy)
    try:
        assert services.loaded_from == "items"
        assert services.scorer.dead_share() == 0
        assert everyone(services) == before
    finally:
        services.close()


def test_a_first_start_streams_the_shards_and_then_takes_changes(tmp_path):
    """A start with no checkpoint gives the scorer the shards one at a time (each shard's dicts
    go once read): it must give what one add of every stored item gives, and then take captures
    that change items of early shards (whose items only the store holds) and a forget."""
    import shutil
    from scoring import Scorer
    data = tmp_path / "data"
    client, services, auth = captured(data, 5)
    services.close()
    shutil.rmtree(data / "checkpoints")
    app, client, services = start(data)
    try:
        assert services.loaded_from == "items" and services.store.shard_count() > 3
        whole = Scorer(settings=services.scorer_settings())
        whole.add(services.store.all_items())
        assert everyone(services) == [(r["identity"], r["score"], r["raw"], r["topics"]) for r in whole.ranking()]
        edited = page(0)
        edited["items"][2]["text"] = "No longer about python"
        edited["items"].append(comment_item("late", "erin", parent="c0-0", text="Late #python reply"))
        assert client.post("/api/capture", json=edited, headers=auth).status_code == 200
        assert client.delete("/api/people/blog.example:carol", headers=auth).status_code == 200
        after = everyone(services)
    finally:
        services.close()
    assert "blog.example:erin" in {r[0] for r in after} and "blog.example:carol" not in {r[0] for r in after}
    assert after == reference(tmp_path, data)[0]


def test_a_forgotten_person_is_in_no_checkpoint_and_a_start_after_it_is_right(tmp_path):
    data = tmp_path / "data"
    client, services, auth = captured(data, 3)
    services.close()
    app, client, services = start(data)
    assert services.loaded_from.startswith("checkpoint")
    r = client.delete("/api/people/blog.example:bob", headers=auth)
    assert r.status_code == 200, r.json
    assert not (data / INDEX_CHECKPOINT).exists()
    # the scorer's checkpoint is written again in the background, without bob
    for t in list(threading_enumerate()):
        if t.name == "cloutlens-checkpoint":
            t.join(30)
    saved, _ = checkpoint.loads((data / app_module.SCORER_CHECKPOINT).read_bytes())
    bob = saved._ids["blog.example:bob"]  # the identity itself stays listed: it is the forgotten list
    rows = saved._rows
    assert not ((rows.actor[: rows.n] == bob) | (rows.target[: rows.n] == bob)).any()
    assert not {"c0-1", "c1-1", "c2-1"} & {k[1] for k in saved._item_keys}  # bob's comments
    services.store._lock_file.close()  # a crash right after
    app, client, services = start(data)
    try:
        assert "blog.example:bob" not in {r[0] for r in everyone(services)}
        assert everyone(services) == reference(tmp_path, data)[0]
    finally:
        services.close()
    assert b"c0-1" not in (data / INDEX_CHECKPOINT).read_bytes()  # nor their items in the index


def test_damaged_checkpoints_are_ignored_not_trusted(tmp_path):
    data = tmp_path / "data"
    client, services, auth = captured(data, 3)
    before = everyone(services)
    services.close()
    for name in (INDEX_CHECKPOINT, app_module.SCORER_CHECKPOINT):
        path = data / name
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0x5A
        path.write_bytes(bytes(raw))
    app, client, services = start(data)
    try:
        assert services.loaded_from == "items" and services.store.index_from_checkpoint is None
        assert everyone(services) == before
    finally:
        services.close()


def test_delete_all_removes_the_checkpoints(tmp_path):
    data = tmp_path / "data"
    app, client, services = start(data)
    auth = {"Authorization": f"Bearer {pair(client)}", "Origin": EXT_ORIGIN}
    client.post("/api/capture", json=page(0), headers=auth)
    services.save_checkpoint()
    services.store.save_index()
    assert (data / app_module.SCORER_CHECKPOINT).exists()
    services.delete_all()
    assert not (data / "checkpoints").exists()
    services.close()
    again = Store(data)
    assert again.count_items() == 0
    again.close()


def threading_enumerate():
    import threading
    return threading.enumerate()
