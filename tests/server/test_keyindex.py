"""The store's compact index answers exactly as the dict it replaced: look-ups, updates, removals,
keys added after the arrays were built, colliding hashes, any text in a key; and a store that uses
it finds every item on disk, by key and by author, after a clean restart, a crash, a forget and a
rebuild from the shards, and from a checkpoint in the form the versions before wrote."""
from __future__ import annotations

import json
import random
import zlib

import numpy as np
import orjson
import pytest

import scoring.keyindex as keyindex
import server.storage as storage
from server.contract import validate_capture
from scoring.keyindex import KeyIndex
from server.storage import INDEX_CHECKPOINT, Store
from helpers import capture, comment_item, post_item

SEEN = "2026-11-21T12:00:00Z"
ODD = ["", "a", "\x1f", "site\x1fid", "é", "ß\x1fü", "日本\x1f語", "\x00\x1fnul", "\ud800\x1flone", "😀\x1f😀",
       "a" * 300, "news.example\x1fp1c2"]


def replay(index: KeyIndex, rng: random.Random, steps: int, keys: list[str]) -> dict:
    """Random sets, overwrites, pops and look-ups on index and on a dict; every answer compared."""
    ref: dict[str, int] = dict(index.items())
    for _ in range(steps):
        key = rng.choice(keys)
        op = rng.random()
        if op < 0.45:
            loc = rng.randrange(1 << 40)
            index[key] = loc
            ref[key] = loc
        elif op < 0.65:
            assert index.pop(key, "none") == ref.pop(key, "none")
        elif op < 0.8:
            some = rng.sample(keys, 20)
            assert index.get_many(some) == [ref.get(k) for k in some]
        else:
            assert index.get(key) == ref.get(key)
            assert (key in index) == (key in ref)
        assert len(index) == len(ref)
    assert sorted(index.items()) == sorted(ref.items())
    return ref


@pytest.mark.parametrize("collide", [False, True])
def test_the_index_answers_as_a_dict_would(monkeypatch, collide):
    if collide:  # most keys share a hash with others: every match must be confirmed byte for byte
        monkeypatch.setattr(keyindex, "_hash", lambda raw: len(raw) % 7)
        monkeypatch.setattr(keyindex, "_hashes", lambda raws, lens: lens % 7)
    monkeypatch.setattr(KeyIndex, "FOLD_AT", 50)  # keys added later are folded in again and again
    rng = random.Random(5)
    keys = ODD + [f"s{rng.randrange(5)}.example\x1fp{i}c{rng.randrange(30)}" for i in range(600)]
    start = {k: rng.randrange(1 << 40) for k in keys[::3]}
    index = KeyIndex(start)
    assert index.to_dict() == start
    ref = replay(index, rng, 5000, keys)
    assert KeyIndex(ref).to_dict() == ref  # built again from what it holds
    assert KeyIndex.from_state(index.state()).to_dict() == ref == index.to_dict()  # saved and loaded
    assert len(index.state()["blob"]) == sum(len(k.encode("utf-8", "surrogatepass")) for k in ref)


def test_an_empty_index_and_clear():
    index = KeyIndex()
    assert index.get("x") is None and len(index) == 0 and list(index.items()) == []
    index["x"] = 3
    index.clear()
    assert index.get("x") is None and len(index) == 0
    with pytest.raises(KeyError):
        index["x"]


def test_a_million_keys_take_a_fraction_of_a_dicts_memory():
    keys = [f"site{i % 20}.example\x1fp{i // 200}c{i % 200}" for i in range(200_000)]
    index = KeyIndex(dict(zip(keys, range(len(keys)))))
    assert index.nbytes() < 60 * len(keys)  # the dict: ~140 bytes a key, strings and ints included
    assert index.get(keys[12_345]) == 12_345 and index.get("site1.example\x1fnot-there") is None


# -- the store over it ------------------------------------------------------------------------

def page(n: int, people=("anna", "bob", "carol")) -> list[dict]:
    comments = [comment_item(f"c{n}-{i}", who) for i, who in enumerate(people)]
    return validate_capture(capture([post_item()] + comments, url=f"https://blog.example/p{n}"))["items"]


def on_disk(data_dir) -> dict:
    """Every item in the shard files, read with nothing but json: by key and by author."""
    by_key, by_author = {}, {}
    for path in sorted((data_dir / "items").glob("shard-*.json")):
        for doc in json.loads(path.read_text())["items"].values():
            by_key[(doc["site"], doc["id"])] = doc
            by_author.setdefault(f"{doc['site']}:{doc['author']['handle']}", set()).add(doc["id"])
    return {"by_key": by_key, "by_author": by_author}


def answers(store: Store, data_dir) -> None:
    """The store finds every item on disk by key and by author, and nothing else."""
    disk = on_disk(data_dir)
    assert store.count_items() == len(disk["by_key"])
    for (site, item_id), doc in disk["by_key"].items():
        assert store.get_item(site, item_id) == doc
    assert store.get_item("blog.example", "never-stored") is None
    assert sorted(store.authors()) == sorted(disk["by_author"])
    for who, ids in disk["by_author"].items():
        assert sorted(d["id"] for d in store.items_by_author(who)) == sorted(ids)


@pytest.fixture
def small(monkeypatch):
    monkeypatch.setattr(storage, "SHARD_ITEMS", 5)
    monkeypatch.setattr(storage, "CACHED_SHARDS", 2)
    monkeypatch.setattr(KeyIndex, "FOLD_AT", 4)


def test_the_store_finds_every_item_after_restarts_crashes_and_forgets(tmp_path, small):
    store = Store(tmp_path)
    for n in range(6):
        store.add_items(page(n), SEEN)
    store.add_items(page(2, people=("dave", "bob", "carol")), SEEN)  # an item changes author
    answers(store, tmp_path)
    store.close()

    store = Store(tmp_path)  # from the checkpoint
    assert store.index_from_checkpoint["shards_read"] == 0
    answers(store, tmp_path)
    for n in range(6, 9):
        store.add_items(page(n), SEEN)
    assert len(store.remove_author("blog.example:bob")) == 9  # c2-0 went from anna to dave
    store._lock_file.close()  # a crash: no checkpoint since the forget (it was deleted)

    store = Store(tmp_path)  # every shard read again
    assert store.index_from_checkpoint is None
    answers(store, tmp_path)
    assert store.add_items(page(1), SEEN)["added"] == 1  # bob's comment is new again, the rest known
    store.close()

    store = Store(tmp_path)
    assert store.index_from_checkpoint["shards_read"] == 0
    store.add_items(page(20), SEEN)
    store._lock_file.close()  # a crash after the checkpoint: the shard written since is read again
    store = Store(tmp_path)
    assert store.index_from_checkpoint["shards_read"] >= 1
    answers(store, tmp_path)
    assert store.add_items(page(20), SEEN)["unchanged"] == 4
    store.close()


def test_the_index_checkpoint_holds_every_key_and_author(tmp_path, small):
    store = Store(tmp_path)
    for n in range(4):
        store.add_items(page(n), SEEN)
    store.close()
    saved = storage.read_index_checkpoint(tmp_path)
    disk = on_disk(tmp_path)
    assert sorted(k for k, _ in saved["loc"].items()) == sorted(f"{s}\x1f{i}" for s, i in disk["by_key"])
    for key, loc in saved["loc"].items():
        shard = json.loads((tmp_path / "items" / f"shard-{loc >> 24:05d}.json").read_text())["items"]
        doc = shard[str(loc & (1 << 24) - 1)]
        assert f"{doc['site']}\x1f{doc['id']}" == key
    assert {a: len(locs) for a, locs in saved["by_author"].items()} == {a: len(ids) for a, ids in disk["by_author"].items()}


def test_a_checkpoint_of_the_versions_before_is_read_and_replaced(tmp_path, small):
    """The JSON checkpoint the versions before wrote (keys by author): used as it is, once."""
    store = Store(tmp_path)
    for n in range(4):
        store.add_items(page(n), SEEN)
    loc = store._loc.to_dict()
    key_of = {v: k for k, v in loc.items()}
    body = orjson.dumps({"version": 1, "shards": store.shard_stamps(),
                         "sizes": {str(k): v for k, v in store._shard_sizes.items()}, "loc": loc,
                         "by_author": {a: [key_of[v] for v in locs] for a, locs in store._by_author.items()},
                         "names": store.names()})
    store._lock_file.close()
    (tmp_path / INDEX_CHECKPOINT).unlink(missing_ok=True)
    (tmp_path / "checkpoints").mkdir(exist_ok=True)
    (tmp_path / storage.INDEX_CHECKPOINT_V1).write_bytes(body + b"\n#crc32 " + b"%08x" % zlib.crc32(body))
    store = Store(tmp_path)
    assert store.index_from_checkpoint == {"shards_read": 0, "shards": len(store.shard_stamps())}
    answers(store, tmp_path)
    store.close()
    assert (tmp_path / INDEX_CHECKPOINT).exists() and not (tmp_path / storage.INDEX_CHECKPOINT_V1).exists()


def test_a_build_hashes_keys_as_a_look_up_does():
    raws = [keyindex._raw(k) for k in ODD + ["s.example\x1fp1", "é\x1f\ud800", ""]]
    lens = np.fromiter(map(len, raws), dtype=np.int64)
    assert keyindex._hashes(raws, lens).tolist() == [keyindex._hash(r) for r in raws]
