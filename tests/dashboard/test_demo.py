"""Demo mode: a deterministic synthetic data set with its known cases, served with demo pages
that the WordPress adapter reads as the same items the dashboard shows."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest
from bs4 import BeautifulSoup

from scoring.items import normalize_item
from server import demo
from server.app import create_app
from scoring.samewords import words_of
from server.extract import extract_html

END = datetime(2026, 11, 20, tzinfo=timezone.utc)
SMALL = {"end": END, "days": 70, "people": 80}


def test_the_data_set_is_deterministic_for_a_seed():
    first = demo.build(seed=3, **SMALL)
    assert first == demo.build(seed=3, **SMALL)
    assert first != demo.build(seed=4, **SMALL)
    assert all(i["at"] <= "2026-11-20T23:59:59Z" for i in first)


def test_the_data_set_has_its_cases():
    items = demo.build(seed=3, **SMALL)
    by_key = {(i["site"], i["id"]): i for i in items}
    people = {(i["site"], i["author"]["handle"]) for i in items}
    assert len(people) >= 80 and len({i["site"] for i in items}) == len(demo.SITES)
    days = {i["at"][:10] for i in items}
    assert len(days) >= 60

    # Birthday: one day with 50 replies to one post by Maya.
    bday = [i for i in items if i["kind"] == "post" and i["author"]["name"] == demo.BIRTHDAY
            and "year older" in i["text"]][0]
    wishes = [i for i in items if i["parent"] == bday["id"] and i["site"] == bday["site"]]
    assert len(wishes) == 50 and len({w["at"][:10] for w in wishes}) == 1

    # The ring: ten accounts whose thousand comments all answer each other.
    ring = {i["author"]["handle"] for i in items if i["author"]["handle"].startswith("growth hacker")}
    assert len(ring) == 10
    ring_comments = [i for i in items if i["author"]["handle"] in ring and i["kind"] == "comment"]
    assert len(ring_comments) == 1000
    assert all(by_key[(c["site"], c["parent"])]["author"]["handle"] in ring for c in ring_comments)

    # A spam run: throwaway accounts, one comment each, the same words on one post of the owner's.
    spam = [i for i in items if i["author"]["name"] in demo.SPAMMERS]
    assert len(spam) == len(demo.SPAMMERS) == len({i["author"]["handle"] for i in spam}) >= 2
    assert len({(i["site"], i["parent"]) for i in spam}) == 1
    assert by_key[(spam[0]["site"], spam[0]["parent"])]["author"]["name"] == demo.OWNER
    assert len({words_of(i["text"]) for i in spam} - {None}) == 1 and len({i["text"] for i in spam}) == 2

    # Someone on two sites under one name: what link suggestions are for.
    sites_of = {}
    for site, handle in people:
        sites_of.setdefault(handle, set()).add(site)
    assert any(len(s) > 1 for s in sites_of.values())


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    app = create_app({"DATA_DIR": str(tmp_path_factory.mktemp("demo")), "TESTING": True, "DEMO": True})
    made = demo.populate(app.extensions["cloutlens"], seed=3, history_days=30, **SMALL)
    yield app, made
    app.extensions["cloutlens"].store.close()


def test_populate_writes_items_settings_and_daily_history(demo_app):
    app, made = demo_app
    s = app.extensions["cloutlens"]
    assert s.store.count_items() == made["items"] == len(demo.build(seed=3, **SMALL))
    owner = f"{demo.DEMO_BLOG}:{demo.OWNER.lower()}"
    assert s.store.get_config("own_identities") == [owner]
    assert set(s.store.get_config("settings")["topics"]) == set(demo.TOPICS)
    history = s.store.history(owner)
    assert len(history) == 31 and history[-1]["day"] == "2026-11-20"
    assert history[-1]["score"] == s.scorer.result(owner, at="2026-11-20T23:59:59Z")["score"]


def test_demo_mode_reuses_a_demo_data_dir_and_refuses_real_data(demo_app, app):
    count = demo_app[0].extensions["cloutlens"].store.count_items()
    assert demo.prepare(demo_app[0].extensions["cloutlens"]) is None
    assert demo_app[0].extensions["cloutlens"].store.count_items() == count
    real = app.extensions["cloutlens"]
    real.store.add_items([normalize_item({"id": "p", "kind": "post", "author": {"handle": "me"}}, "blog.example")],
                         "2026-11-20T00:00:00Z")
    with pytest.raises(demo.NotDemoData):
        demo.prepare(real)
    assert real.store.count_items() == 1


@pytest.mark.parametrize("key, value", [("clients", {"abc": {"origin": "chrome-extension://x"}}),
                                        ("settings", {"topics": {"rust": ["rust"]}}),
                                        ("own_identities", ["news.ycombinator.com:me"]),
                                        ("links", {"a.example:x": "b.example:x"}), ("forgotten", ["a.example:y"])])
def test_demo_mode_refuses_a_data_dir_with_a_users_setup_and_no_items(app, key, value):
    # a demo written there replaced the user's settings and own identities, and kept their pairing
    real = app.extensions["cloutlens"]
    real.store.set_config(key, value)
    with pytest.raises(demo.NotDemoData):
        demo.prepare(real)
    assert real.store.get_config(key) == value and real.store.count_items() == 0
    assert real.store.get_config("demo") is None


def test_demo_pages_carry_the_stored_items_for_the_wordpress_adapter(demo_app):
    app, _ = demo_app
    s = app.extensions["cloutlens"]
    client = app.test_client()
    index = client.get("/demo/", headers={"Host": "localhost"})
    assert index.status_code == 200
    posts = demo.demo_posts(s.store)
    busiest = max(posts, key=lambda p: p["comments"])
    assert busiest["comments"] >= 5
    page = client.get(f"/demo/{busiest['number']}", headers={"Host": "localhost"})
    assert page.status_code == 200
    capture, adapter = extract_html(page.get_data(as_text=True), url=f"http://localhost/demo/{busiest['number']}")
    assert adapter == "wordpress" and capture["page"]["site"] == demo.DEMO_BLOG
    stored = [i for i in s.store.iter_items() if i["site"] == demo.DEMO_BLOG
              and (i["id"] == f"post-{busiest['number']}" or _thread_of(s.store, i) == f"post-{busiest['number']}")]
    got = {(i["id"], i["author"]["handle"].lower(), i.get("parent")) for i in capture["items"]}
    want = {(i["id"], i["author"]["handle"], i["parent"]) for i in stored}
    assert got == want
    assert busiest["comments"] == len(capture["items"]) - 1
    # the index counts every comment a post's page shows, replies to replies too
    under = Counter(_thread_of(s.store, i) for i in s.store.iter_items()
                    if i["site"] == demo.DEMO_BLOG and i["kind"] == "comment")
    assert {p["number"]: p["comments"] for p in posts} == {p["number"]: under[f"post-{p['number']}"] for p in posts}


def _thread_of(store, item):
    while item and item.get("parent"):
        parent = store.get_item(item["site"], item["parent"])
        if parent is None:
            return item["parent"]
        item = parent
    return item["id"] if item else None


def test_demo_pages_move_to_localhost_and_exist_only_in_demo_mode(demo_app, app):
    demo_client = demo_app[0].test_client()
    r = demo_client.get("/demo/", headers={"Host": "127.0.0.1:7317"})
    assert r.status_code == 302 and r.headers["Location"] == "http://localhost:7317/demo/"
    assert app.test_client().get("/demo/").status_code == 404


def test_the_demo_dashboard_renders_everyone(demo_app):
    app, made = demo_app
    client = app.test_client()
    people = client.get("/people").get_data(as_text=True)
    assert f"of {len(app.extensions['cloutlens'].scorer.ranking()):,} people" in people
    overview = client.get("/").get_data(as_text=True)
    assert demo.OWNER in overview and "Demo mode" in overview
    chart = BeautifulSoup(overview, "lxml").select_one("section.mine figure.chart")
    assert int(chart["data-points"]) == 31


def test_the_demo_data_set_exports_and_imports_back(demo_app, tmp_path):
    """Data > Export, then import the file: refused ("links: is not a setting"), the demo kept
    `links` among its settings and every reader handed it on."""
    import json

    from server.app import create_app
    from server.exchange import export_chunks, import_document
    app, made = demo_app
    s = app.extensions["cloutlens"]
    doc = json.loads(b"".join(export_chunks(s)))
    assert set(doc["settings"]) == {"site_weights", "topics", "horizon_days"}
    other = create_app({"DATA_DIR": str(tmp_path / "other"), "TESTING": True})
    try:
        got = import_document(other.extensions["cloutlens"], doc)
        assert got["items"]["added"] == made["items"]
    finally:
        other.extensions["cloutlens"].store.close()
    # a store the demo wrote before this keeps the key: it is read past everywhere
    with s.lock:
        s.store.set_config("settings", dict(s.store.get_config("settings"), links=[]))
    assert "links" not in json.loads(b"".join(export_chunks(s)))["settings"]


def test_a_demo_build_stopped_part_way_is_built_again_not_taken_for_real_data(app, monkeypatch):
    # A stop during the build's seconds left items and no demo mark in a dir given by --data-dir:
    # the next `cloutlens demo` there refused it as real data, and the user had to clear it.
    from functools import partial

    s = app.extensions["cloutlens"]
    monkeypatch.setattr(demo, "populate", partial(demo.populate, seed=3, history_days=3, **SMALL))
    record = s.store.record_scores

    def stopped(*a, **k):
        raise KeyboardInterrupt  # what SIGTERM raises in `cloutlens demo`

    monkeypatch.setattr(s.store, "record_scores", stopped)
    with pytest.raises(KeyboardInterrupt):
        demo.prepare(s)
    assert s.store.count_items() > 0 and s.store.get_config("demo") == {"building": True}
    monkeypatch.setattr(s.store, "record_scores", record)
    made = demo.prepare(s)
    assert s.store.count_items() == made["items"] == len(demo.build(seed=3, **SMALL))
    assert s.store.get_config("demo") == {"seed": 3, "end": "2026-11-20"}
    assert len(s.store.history(f"{demo.DEMO_BLOG}:{demo.OWNER.lower()}")) == 4
    assert demo.prepare(s) is None  # complete now: used as it is
