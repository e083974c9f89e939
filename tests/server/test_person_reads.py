"""The person page of someone with many items behind their score (a blog with 50,000 comments):
it read every one of them on every visit (3.4 s of a 5 s page, mostly parsing shards). It keeps
the few fields it needs of each (Store.item_fields) and reads the items of the rows it shows;
the rows, their order, the copies and what came since are the same as from the items."""
from __future__ import annotations

import pytest

from helpers import EXT_ORIGIN, capture, comment_item, pair, post_item
from server.app import create_app
from server.behind import items_behind, ranked_behind
from server.copies import of_person
from server import dashboard_data as data

ME = "blog.example:me"
SPAM = "Great article! Check out cheap deals example for more."


def _items():
    posts = [post_item(f"p{k}", author="me", name="Me", at="2026-11-01T08:00:00Z", text=f"post {k}") for k in range(3)]
    # many comments with equal points (same day, same kind): their order comes from `at`, then key
    comments = [comment_item(f"c{k:02d}", f"fan{k % 9}", parent=f"p{k % 3}",
                             at=f"2026-11-20T09:{59 - k:02d}:00Z", text=f"a comment number {k} on this fine post")
                for k in range(40)]
    # a spam run: throwaway accounts, the same words; and one account that also says other things
    comments += [comment_item(f"s{k}", f"bot{k}", parent="p0", at=f"2026-11-08T03:0{k}:00Z",
                              text=SPAM if k % 2 else SPAM.upper()) for k in range(4)]
    comments.append(comment_item("s9", "fan1", parent="p1", at="2026-11-08T03:09:00Z", text=SPAM))
    return posts + comments


@pytest.fixture
def small_shards(tmp_path, monkeypatch):
    import server.storage as storage

    monkeypatch.setattr(storage, "SHARD_ITEMS", 5)
    monkeypatch.setattr(storage, "CACHED_SHARDS", 2)
    # as in a large store: no chart points or hostile replies recomputed from all the items
    monkeypatch.setattr(data, "RECOMPUTE_MAX_ITEMS", 10)
    parsed = []
    real = storage._read_json
    monkeypatch.setattr(storage, "_read_json", lambda path: parsed.append(path.name) or real(path))
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "TESTING": True})
    client = app.test_client()
    auth = {"Authorization": f"Bearer {pair(client)}", "Origin": EXT_ORIGIN}
    r = client.post("/api/capture", json=capture(_items()), headers=auth)
    assert r.status_code == 200, r.json
    return app, client, auth, parsed


def test_rows_and_copies_from_kept_fields_are_those_from_the_items(small_shards):
    app, *_ = small_shards
    s = app.extensions["cloutlens"]
    result = s.scorer.result(ME)
    full = items_behind(s.store, result)
    light = ranked_behind(s.store, result)
    assert len(full) == len(light) > 40
    assert [r["key"] for r in light] == [r["key"] for r in full]
    assert [r["points"] for r in light] == [r["points"] for r in full]
    # ties: the order inside equal points is by `at`, as items_behind's
    assert len({r["points"] for r in full}) < len(full) / 2
    for r, f in zip(light, full):
        assert (r["author"], r["at"], r["seen"]) == (f["author"], f["item"]["at"], f["item"]["seen"])
    from_items = of_person(s.store, result, full, ME, s.scorer)
    from_fields = of_person(s.store, result, light, ME, s.scorer)
    assert from_fields == from_items
    assert [g["accounts"] for g in from_fields] == [[f"blog.example:bot{k}" for k in range(4)]]


def test_a_second_visit_parses_no_shard_of_the_comments(small_shards):
    app, client, auth, parsed = small_shards
    s = app.extensions["cloutlens"]
    first = client.get(f"/people/{ME}")
    assert first.status_code == 200
    assert "bot3" in first.get_data(as_text=True)  # the spam run is listed
    parsed.clear()
    again = client.get(f"/people/{ME}")
    assert again.get_data(as_text=True) == first.get_data(as_text=True)
    # the person's own items (what they wrote) and the copies listed are read whole; no other
    # shard is parsed again (before: every shard holding an item behind the score)
    whole = [ME] + [f"blog.example:bot{k}" for k in range(4)]
    allowed = {f"shard-{loc >> 24:05d}.json" for who in whole for loc in s.store._by_author[who]}
    assert {p for p in parsed if p.startswith("shard-")} <= allowed, parsed
    assert len(allowed) < s.store.shard_count() / 2
    # a page of the whole list reads what it shows and nothing else
    parsed.clear()
    assert client.get(f"/people/{ME}?items=0").status_code == 200


def test_a_written_shard_is_read_again(small_shards):
    app, client, auth, parsed = small_shards
    assert "bot3" in client.get(f"/people/{ME}").get_data(as_text=True)
    # a bot's comment captured again with other words: it is no longer a copy of the run's
    edited = [comment_item("s3", "bot3", parent="p0", at="2026-11-08T03:03:00Z",
                           text="Actually a rather thoughtful remark about the post itself")]
    assert client.post("/api/capture", json=capture(edited), headers=auth).status_code == 200
    page = client.get(f"/people/{ME}").get_data(as_text=True)
    assert "bot2" in page and "thoughtful remark" in page
    s = app.extensions["cloutlens"]
    groups = of_person(s.store, s.scorer.result(ME), ranked_behind(s.store, s.scorer.result(ME)), ME, s.scorer)
    assert [g["accounts"] for g in groups] == [[f"blog.example:bot{k}" for k in range(3)]]


def test_item_fields_keeps_a_bounded_number_of_shards(small_shards, monkeypatch):
    import server.storage as storage
    from server.behind import row_fields

    app, client, auth, parsed = small_shards
    store = app.extensions["cloutlens"].store
    monkeypatch.setattr(storage, "FIELDS_SHARDS", 2)
    keys = [("blog.example", f"c{k:02d}") for k in range(40)] + [("blog.example", "nope")]
    got = store.item_fields(keys, row_fields)
    assert got[-1] is None
    assert [g[0] for g in got[:-1]] == [f"blog.example:fan{k % 9}" for k in range(40)]
    assert len(store._fields[row_fields]) == 2
    assert store.item_fields(keys, row_fields) == got
