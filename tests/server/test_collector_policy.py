"""The running server keeps what it holds for the whole store out of the cyclic collector's way
(server.app._kept_from_collector): after a start, captures, and a settings change, no container
the size of the store is left where the collector walks (generations 0-2). At a million items one
such container made every full collection, every few dozen captures, a 0.1 s pause.

The start is made the worst case first: a full collection before the freeze untracks every dict
that holds only strings, numbers and tuples of them (the scorer's topics of each item, its
orphans); a capture that adds one new tuple to such a dict tracks it again, whatever its size.
"""
from __future__ import annotations

import gc
import weakref

from helpers import EXT_ORIGIN, capture, pair
from server.app import create_app
from server.contract import validate_capture
from server import storage
from server.storage import Store

LARGE = 2_000  # the store below holds 3,000 items: every store-sized container exceeds this
SHARD = 500    # and its shards (bounded) stay below it
TAGS = ["#python", "#data", "#klout", "#privacy", "#blogs"]


def large_tracked() -> list[tuple[str, int]]:
    return [(type(o).__name__, len(o)) for o in gc.get_objects()
            if isinstance(o, (dict, list, set)) and len(o) >= LARGE]


def page(no: int, parent_of_first: str | None = None) -> dict:
    """A post and 29 comments with hashtags; the first comment may answer an item stored long ago
    (or one never stored: an orphan)."""
    items = [{"id": f"p{no}", "kind": "post", "parent": None, "author": {"handle": f"author{no % 40}"},
              "at": "2026-11-20T08:00:00Z", "text": f"post {no} {TAGS[no % 5]}"}]
    for c in range(1, 30):
        items.append({"id": f"p{no}c{c}", "kind": "comment",
                      "parent": parent_of_first if c == 1 and parent_of_first else f"p{no}",
                      "author": {"handle": f"reader{(no * 7 + c) % 300}"}, "at": "2026-11-20T09:00:00Z",
                      "text": f"comment {c} {TAGS[c % 5]} {TAGS[(c + no) % 5]}"})
    return capture(items, url=f"https://blog.example/{no}")


def test_captures_and_settings_leave_no_store_sized_container_to_the_collector(tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "SHARD_ITEMS", SHARD)
    store = Store(tmp_path / "data")
    for no in range(100):  # 3,000 items, most replies to stored items are orphans of page 0's
        store.add_items(validate_capture(page(no, parent_of_first="missing-%d" % no))["items"], "2026-11-20T10:00:00Z")
    store.close()
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "TESTING": True})
    services = app.extensions["cloutlens"]
    try:
        services.wait_scores()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        assert large_tracked() == []
        client = app.test_client()
        headers = {"Authorization": f"Bearer {pair(client)}", "Origin": EXT_ORIGIN}
        for k in range(4):
            r = client.post("/api/capture", json=page(1000 + k, parent_of_first=f"p{k}c3"), headers=headers)
            assert r.status_code == 200 and r.json["scores"], r.json
            assert large_tracked() == [], f"after capture {k}"
        services.set_settings({"topics": {"comments": ["comment"]}})
        assert large_tracked() == [], "after new settings"
        r = client.post("/api/capture", json=page(2000, parent_of_first="missing-x"), headers=headers)
        assert r.status_code == 200
        assert large_tracked() == [], "after a capture with the new settings"

        # A freeze also froze whatever cycle was alive then; the daily roll-over collects them.
        class Cycle:
            pass
        cycle = Cycle()
        cycle.me = cycle
        gone = weakref.ref(cycle)
        gc.freeze()
        del cycle
        gc.collect()
        assert gone() is not None  # frozen: out of every collection's reach
        services.roll_over()
        assert gone() is None
        assert large_tracked() == [], "after the roll-over"
    finally:
        services.store.close()
        gc.unfreeze()
