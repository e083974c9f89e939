"""The dashboard's people list built from plain scores, with breakdowns only for the rows shown."""
from __future__ import annotations

import pytest

from helpers import capture, comment_item, post_item
from server import dashboard_data as data


@pytest.fixture
def people(app, client, auth):
    client.put("/api/settings", json={"topics": {"privacy": ["privacy"]}}, headers=auth)
    for n in range(6):
        site = "blog.example" if n % 2 else "news.example"
        items = [post_item(f"p{n}", author=f"host{n % 3}", name=f"Host {n % 3}", text="about privacy")]
        items += [comment_item(f"c{n}-{k}", f"user{(n * 7 + k) % 11}", parent=f"p{n}",
                               text="privacy matters" if k % 2 else "great post") for k in range(8)]
        r = client.post("/api/capture", json=capture(items, url=f"https://{site}/post/{n}"), headers=auth)
        assert r.status_code == 200
    return app.extensions["cloutlens"]


def _ids(rows):
    return [r["identity"] for r in rows]


def test_people_page_matches_the_ranking_without_building_it(people, monkeypatch):
    s = people
    ranking = s.scorer.ranking()
    monkeypatch.setattr(s.scorer, "ranking", lambda *a, **k: pytest.fail("full ranking built"))
    out = data.people_page(s, page_size=5)
    assert _ids(out["rows"]) == _ids(ranking[:5]) and out["rows"] == ranking[:5]
    assert out["total"] == out["everyone"] == len(ranking) and out["pages"] == -(-len(ranking) // 5)
    last = data.people_page(s, page=99, page_size=5)
    assert last["page"] == last["pages"] and _ids(last["rows"]) == _ids(ranking[last["first"]:])
    assert out["sites"] == sorted({data.site_of(r["identity"]) for r in ranking})
    assert "privacy" in out["topics"]

    news = data.people_page(s, site="news.example", page_size=100)
    assert _ids(news["rows"]) == [r["identity"] for r in ranking if r["identity"].startswith("news.example:")]
    found = data.people_page(s, q="HOST 1", page_size=100)
    assert _ids(found["rows"]) == [r["identity"] for r in ranking if s.store.names()[r["identity"]] == "Host 1"]
    top = ranking[0]["score"]
    ranged = data.people_page(s, lo=top, hi=top, page_size=100)
    assert _ids(ranged["rows"]) == [r["identity"] for r in ranking if r["score"] == top]


@pytest.mark.parametrize("sort", ["trend", "interactions", "people", "name"])
def test_people_page_sorts_and_filters_by_topic_like_the_full_results(people, sort):
    s = people
    ranking = s.scorer.ranking()
    names = s.store.names()
    keys = {"name": lambda r: (names.get(r["identity"], r["identity"]).casefold(), r["identity"]),
            **data.RESULT_SORTS}
    out = data.people_page(s, sort=sort, page_size=100)
    assert _ids(out["rows"]) == _ids(sorted(ranking, key=keys[sort]))
    on_topic = data.people_page(s, topic="privacy", sort=sort, page_size=100)
    expected = [r for r in sorted(ranking, key=keys[sort]) if "privacy" in data.topic_names(r)]
    assert expected and _ids(on_topic["rows"]) == _ids(expected)


def test_a_chart_has_no_day_twice_and_none_after_today(app, client, auth):
    """A person first seen today: their history was 13 points over "one day" ending tomorrow,
    with one date label drawn five times over itself."""
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    items = [post_item("p1", author="host", at=now), comment_item("c1", "ann", parent="p1", at=now)]
    assert client.post("/api/capture", json=capture(items), headers=auth).status_code == 200
    s = app.extensions["cloutlens"]
    points = data.history(s, "blog.example:host")
    today = now[:10]
    assert points and [p["day"] for p in points] == sorted({p["day"] for p in points}) and points[-1]["day"] <= today
    labels = [t["label"] for t in data.line_chart(points)["xticks"]]
    assert len(labels) == len(set(labels))
    # a short span: distinct labels, in order, the last one the last day
    short = [{"day": d, "score": 10 + n} for n, d in enumerate(("2026-11-01", "2026-11-02", "2026-11-03"))]
    chart = data.line_chart(short)
    assert [t["label"] for t in chart["xticks"]] == ["Nov 01", "Nov 02", "Nov 03"]
    assert chart["xticks"][-1]["x"] == chart["dots"][-1]["x"]


def test_whom_a_person_engages_reads_each_shard_of_parents_once(tmp_path, monkeypatch):
    # The person page's "whom they engage" looked up each reply's parent one at a time: with the
    # parents spread over more shards than the cache holds, every look-up parsed a shard again
    # (10,000 replies took over three minutes). They are read together now, in store order.
    import server.storage as storage
    from server.contract import validate_capture
    from server.storage import Store

    monkeypatch.setattr(storage, "SHARD_ITEMS", 5)
    monkeypatch.setattr(storage, "CACHED_SHARDS", 2)
    store = Store(tmp_path)
    posts = [post_item("p0", author="host", name="Host")]
    posts += [comment_item(f"c{k}", f"fan{k % 4}", parent="p0") for k in range(30)]
    store.add_items(validate_capture(capture(posts))["items"], "2026-11-21T12:00:00Z")
    # replies in an order that jumps between the parents' shards, and a mention
    mine = [comment_item(f"r{k}", "me", parent=f"c{k}") for k in (7 * j % 30 for j in range(30))]
    mine.append(comment_item("m1", "me", parent=None, mentions=["host"]))
    store.add_items(validate_capture(capture(mine))["items"], "2026-11-21T12:00:00Z")
    parsed = []
    real = storage._read_json
    monkeypatch.setattr(storage, "_read_json", lambda path: parsed.append(path.name) or real(path))
    authored = store.items_by_author("blog.example:me")
    parsed.clear()
    got = data.engages_with(store, authored)
    assert got == [(f"blog.example:fan{k}", 8 if k < 2 else 7) for k in range(4)] + [("blog.example:host", 1)]
    assert len(parsed) == len(set(parsed))
    store.close()
