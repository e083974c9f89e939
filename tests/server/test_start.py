"""Start on a large store: the server answers while the scorer's first load runs in the background,
and says honestly that scores are not ready yet."""
from __future__ import annotations

import threading

import pytest

import server.app as app_module
from helpers import EXT_ORIGIN, capture, comment_item, pair, post_item
from server.app import create_app

PAGE = capture([post_item(), comment_item("comment-1", "anna"), comment_item("comment-2", "bob")])
LATER = capture([comment_item("comment-9", "carol", parent="comment-1")])


@pytest.fixture
def gated(monkeypatch):
    """A scorer whose first load waits until the test opens the gate."""
    gate = threading.Event()

    class SlowScorer(app_module.Scorer):
        loads = 0

        def _first_waits(self):
            SlowScorer.loads += 1
            if SlowScorer.loads == 1:
                assert gate.wait(30)

        def add(self, items):
            self._first_waits()
            return super().add(items)

        def load_stream(self, batches):  # a start with no checkpoint
            self._first_waits()
            return super().load_stream(batches)
    monkeypatch.setattr(app_module, "Scorer", SlowScorer)
    return gate


def _app(path, background):
    return create_app({"DATA_DIR": str(path), "TESTING": True, "BACKGROUND_SCORING": background})


def _start_loading(path, gate):
    """A start with no scorer checkpoint, so the scorer loads every stored item, held at the gate."""
    (path / app_module.SCORER_CHECKPOINT).unlink()
    gate.clear()
    app_module.Scorer.loads = 0
    return _app(path, background=True)


def test_status_and_captures_answer_while_scores_load_then_scores_include_them(tmp_path, gated, monkeypatch):
    monkeypatch.setattr(app_module, "CAPTURE_WAITS_FOR_SCORES", 0.05)
    monkeypatch.setattr("server.api.SCORES_WAIT", 0.05)
    gated.set()
    first = _app(tmp_path, background=False)
    c = first.test_client()
    auth = {"Authorization": f"Bearer {pair(c)}", "Origin": EXT_ORIGIN}
    assert c.post("/api/capture", json=PAGE, headers=auth).status_code == 200
    expected = c.post("/api/capture", json=LATER, headers=auth).json["scores"]
    first.extensions["cloutlens"].store.close()
    # The same data dir without LATER, started again with a scorer that takes its time.
    other = tmp_path / "again"
    second = _app(other, background=False)
    c2 = second.test_client()
    auth2 = {"Authorization": f"Bearer {pair(c2)}", "Origin": EXT_ORIGIN}
    c2.post("/api/capture", json=PAGE, headers=auth2)
    second.extensions["cloutlens"].store.close()

    app = _start_loading(other, gated)
    try:
        s = app.extensions["cloutlens"]
        c = app.test_client()
        status = c.get("/api/status", headers=auth2).json
        assert status["scores"] == "loading" and status["items"] == 3 and status["paired"] is True
        r = c.get("/api/scores?id=blog.example:anna", headers=auth2)
        assert r.status_code == 503 and r.json["error"] == "scoring" and r.json["field"] == "scores"
        assert c.get("/api/people", headers=auth2).status_code == 503
        r = c.post("/api/capture", json=LATER, headers=auth2)
        assert r.status_code == 200 and r.json["scoring"] is True and r.json["scores"] == {}
        assert r.json["stored"] == {"added": 1, "updated": 0, "unchanged": 0}
        assert s.store.count_items() == 4  # durable before the answer, scores or not
        gated.set()
        assert s.wait_scores(30)
        assert c.get("/api/status", headers=auth2).json["scores"] == "ready"
        # The capture stored during the load counts, exactly as if the scorer had been ready.
        got = c.post("/api/scores", json={"ids": sorted(expected)}, headers=auth2).json["scores"]
        assert {k: v["score"] for k, v in got.items()} == {k: v["score"] for k, v in expected.items()}
        again = c.post("/api/capture", json=LATER, headers=auth2).json
        assert "scoring" not in again and again["scores"] == expected
    finally:
        gated.set()
        app.extensions["cloutlens"].store.close()


def test_the_dashboard_opened_while_scores_load_says_so_and_holds_nothing_up(tmp_path, gated, monkeypatch):
    """The banner points at the dashboard at once. Its pages read the scorer under the services
    lock, which the load needs to publish: a page that waited there hung the server for good."""
    monkeypatch.setattr("server.dashboard.SCORES_WAIT", 0.05, raising=False)
    gated.set()
    first = _app(tmp_path, background=False)
    c = first.test_client()
    auth = {"Authorization": f"Bearer {pair(c)}", "Origin": EXT_ORIGIN}
    assert c.post("/api/capture", json=PAGE, headers=auth).status_code == 200
    first.extensions["cloutlens"].store.close()
    app = _start_loading(tmp_path, gated)
    try:
        c = app.test_client()
        answers = {}

        def open_pages():
            answers["/"] = c.get("/")
            answers["/pair"] = c.get("/pair")
        opener = threading.Thread(target=open_pages, daemon=True)
        opener.start()
        opener.join(10)
        assert not opener.is_alive(), "a dashboard page waited for the scores with no end"
        assert answers["/"].status_code == 503 and answers["/"].headers["Refresh"] == "5"
        assert b"Scores are loading" in answers["/"].data
        assert answers["/pair"].status_code == 200  # pairing works meanwhile
        gated.set()
        assert app.extensions["cloutlens"].wait_scores(30)  # the load was not held up
        assert c.get("/").status_code == 200
    finally:
        gated.set()
        app.extensions["cloutlens"].store.close()


def test_a_failed_load_is_reported_not_hidden(tmp_path, monkeypatch):
    class Broken(app_module.Scorer):
        def load_stream(self, batches):
            raise MemoryError("simulated")
    monkeypatch.setattr(app_module, "Scorer", Broken)
    app = _app(tmp_path, background=True)
    try:
        s = app.extensions["cloutlens"]
        s._ready.wait(10)
        c = app.test_client()
        assert c.get("/api/status").json["scores"] == "failed"
        with pytest.raises(RuntimeError, match="could not load"):
            s.wait_scores(1)
    finally:
        app.extensions["cloutlens"].store.close()


def test_status_does_not_compute_a_ranking(client, auth, monkeypatch):
    client.post("/api/capture", json=PAGE, headers=auth)
    scorer = client.application.extensions["cloutlens"].scorer
    for name in ("ranking", "results", "result", "scores"):
        monkeypatch.setattr(scorer, name, lambda *a, **k: pytest.fail("status asked the scorer"))
    assert client.get("/api/status", headers=auth).json["scores"] == "ready"


def test_the_new_day_is_computed_ahead_of_the_first_read(client, auth, monkeypatch):
    """Scores are as of the end of the UTC day; roll_over (run by `serve` just after midnight)
    re-weighs every row then, so the day's first capture or look-up does not."""
    client.post("/api/capture", json=PAGE, headers=auth)
    services = client.application.extensions["cloutlens"]
    services.scorer.scores(at="2026-01-01T00:00:00Z")  # what was computed last: another day
    services.roll_over()
    monkeypatch.setattr("scoring.engine.Weights", lambda *a, **k: pytest.fail("a read re-weighed every row"))
    r = client.get("/api/scores?id=blog.example:anna", headers=auth)
    assert r.status_code == 200 and r.json["scores"]["blog.example:anna"]["score"] >= 1
    assert client.post("/api/capture", json=LATER, headers=auth).status_code == 200


def test_a_served_store_writes_the_days_snapshots_from_its_own_thread(tmp_path, monkeypatch):
    """A capture's answer only records the scores it shows; the server's history thread writes
    them (here every 0.05 s instead of every minute)."""
    monkeypatch.setattr(app_module, "HISTORY_FLUSH_SECONDS", 0.05)
    app = _app(tmp_path, background=True)
    try:
        services = app.extensions["cloutlens"]
        services.wait_scores(10)
        c = app.test_client()
        auth = {"Authorization": f"Bearer {pair(c)}", "Origin": EXT_ORIGIN}
        flushes = []
        real = services.store.flush_history
        monkeypatch.setattr(services.store, "flush_history", lambda: flushes.append(threading.current_thread().name) or real())
        assert c.post("/api/capture", json=PAGE, headers=auth).status_code == 200
        for _ in range(200):
            if list((tmp_path / "history").glob("????-??-??.json")):
                break
            threading.Event().wait(0.02)
        days = list((tmp_path / "history").glob("????-??-??.json"))
        assert len(days) == 1 and "blog.example:anna" in days[0].read_text()
        assert flushes and set(flushes) == {"cloutlens-history"}  # never the request's thread
    finally:
        app.extensions["cloutlens"].store.close()


def test_closing_the_services_ends_their_background_loops(tmp_path):
    """A server closed while its process goes on (a test, a demo whose port was taken) kept its
    daily roll-over and history loops: at midnight the roll-over read a data dir already deleted."""
    before = set(threading.enumerate())
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "BACKGROUND_SCORING": True})
    services = app.extensions["cloutlens"]
    loops = [t for t in set(threading.enumerate()) - before if t.name in ("cloutlens-new-day", "cloutlens-history")]
    assert len(loops) == 2
    services.wait_scores(timeout=30)
    services.close()
    for t in loops:
        t.join(timeout=5)
    assert not any(t.is_alive() for t in loops)
