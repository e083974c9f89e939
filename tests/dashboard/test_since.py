"""What moved a score since its last snapshot (server/since.py): what was captured since, and the
rest. Through the real API, store and scorer; the first captures are dated two days back by
setting the server's clock for them."""
from __future__ import annotations

from datetime import timedelta

import pytest

import server.app
from dash_data import blog_page
from helpers import capture, comment_item
from server.since import since_last
from test_pages import MARTIN, person_path, services, soup, token


def test_since_last_needs_a_score_and_a_snapshot_before_today():
    result = {"score": 20, "raw": 1.65, "breakdown": {"by_item": {"a": 20.0}}}
    row = {"key": "a", "author": "s:a", "points": 20.0, "seen": "2026-12-01T10:00:00Z"}  # (behind.py's row)
    assert since_last([], [row], result, "2026-12-07", []) is None
    assert since_last([{"day": "2026-12-07", "score": 3}], [row], result, "2026-12-07", []) is None
    assert since_last([{"day": "2026-12-05", "score": 3}], [row], None, "2026-12-07", []) is None
    # a chart point computed from the items is not a snapshot
    assert since_last([{"day": "2026-12-05", "score": 3, "computed": True}], [row], result, "2026-12-07", []) is None
    got = since_last([{"day": "2026-12-04", "score": 18}, {"day": "2026-12-05", "score": 19},
                      {"day": "2026-12-07", "score": 20}], [row], result, "2026-12-07",
                     [["2026-11-01", "old"], ["2026-12-05", "same day"], ["2026-12-06", "new"]], current_model="new")
    # the snapshot's own day and before are not "since"; nor is a model that took over that day
    assert got == {"day": "2026-12-05", "then": 19, "now": 20, "count": 0, "new": 0, "rest": 1, "model": "new"}
    # a model the record does not have yet (an upgrade before its first snapshots are written)
    got = since_last([{"day": "2026-12-05", "score": 19}], [row], result, "2026-12-07", [["2026-11-01", "old"]],
                     current_model="newer")
    assert got["model"] == "newer"
    assert since_last([{"day": "2026-12-05", "score": 19}], [row], result, "2026-12-07", [],
                      current_model="newer")["model"] is None  # nothing recorded: nothing to compare
    # seen on the snapshot's own day: in that day's snapshot already, not "since"
    same_day = dict(row, seen="2026-12-05T23:59:59Z")
    assert since_last([{"day": "2026-12-05", "score": 1}], [same_day], result, "2026-12-07", [])["count"] == 0
    fresh = dict(row, seen="2026-12-06T00:00:00Z")
    got = since_last([{"day": "2026-12-05", "score": 1}], [fresh], result, "2026-12-07", [])
    assert got["count"] == 1 and got["new"] == 19 and got["rest"] == 0  # all of it came since


@pytest.fixture
def earlier(client, auth, monkeypatch):
    """The blog page captured two days ago, and yesterday's snapshot of Martin's score then."""
    now = server.app.utcnow()
    monkeypatch.setattr(server.app, "utcnow", lambda: now - timedelta(days=2))
    assert client.post("/api/capture", json=blog_page(), headers=auth).status_code == 200
    monkeypatch.setattr(server.app, "utcnow", lambda: now)
    s = services(client)
    then = s.scorer.result(MARTIN)["score"]
    yesterday = (now - timedelta(days=1)).strftime("%Y-%m-%d")
    s.store.record_scores(yesterday, {MARTIN: then})
    return client, then, yesterday


def test_new_comments_show_as_what_came_since_and_the_parts_add_up(earlier, auth):
    client, then, yesterday = earlier
    s = services(client)
    fresh = [comment_item(f"new-{k}", who, text=f"a new comment by {who}") for k, who in enumerate(["ivy", "jon", "kim"])]
    assert client.post("/api/capture", json=capture(fresh), headers=auth).status_code == 200
    now = s.scorer.result(MARTIN)["score"]
    assert now > then
    since = client.get(f"/api/people/{MARTIN}", headers=auth).json["since"]
    assert since["day"] == yesterday and since["then"] == then and since["now"] == now and since["count"] == 3
    assert since["new"] == now - then and since["rest"] == 0  # the estimate, exact here
    line = soup(client.get(person_path(MARTIN))).select_one("section.summary p.since").get_text()
    rest = f"; {since['rest']:+d} from everything else" if since["rest"] else ""
    assert line.startswith(f"Since {yesterday} ({then}): {since['new']:+d} from 3 items captured since{rest}")


def test_a_score_that_moved_with_nothing_new_says_so(earlier, auth):
    client, then, yesterday = earlier
    s = services(client)
    s.store.record_scores(yesterday, {MARTIN: then + 2})  # as if older engagement had aged since
    since = client.get(f"/api/people/{MARTIN}", headers=auth).json["since"]
    assert since == {"day": yesterday, "then": then + 2, "now": then, "count": 0, "new": 0, "rest": -2, "model": None}
    line = soup(client.get(person_path(MARTIN))).select_one("section.summary p.since").get_text()
    assert line == (f"Since {yesterday} ({then + 2}): nothing new captured; -2 from everything else (ageing, "
                    "others' standing, edits, imports, links, people forgotten or settings).")


def test_the_overview_says_it_on_your_own_card(earlier):
    client, then, yesterday = earlier
    client.post("/settings", data={"csrf": token(client), "own": MARTIN, "site_weights": "", "topics": "",
                                   "horizon_days": "90"})
    line = soup(client.get("/")).select_one("section.mine p.since").get_text()
    assert line == f"Since {yesterday} ({then}): nothing new captured."


def test_no_line_without_a_snapshot_the_chart_points_computed_from_items_do_not_count(seeded):
    page = soup(seeded.get(person_path(MARTIN)))
    assert page.select_one("figure.chart") is not None  # the chart is drawn from computed points
    assert page.select_one("p.since") is None


def test_a_capture_records_the_new_score_of_those_it_answers_so_its_day_is_not_counted_twice(earlier, auth,
                                                                                               monkeypatch):
    """Comments to Martin captured late yesterday, on a page that does not show him: the capture
    records his new score for yesterday, so today nothing counts as new and nothing is left over."""
    client, then, yesterday = earlier
    s = services(client)
    late = server.app.utcnow().replace(hour=23, minute=0) - timedelta(days=1)
    monkeypatch.setattr(server.app, "utcnow", lambda: late)
    fresh = [comment_item(f"late-{k}", who, text=f"late words from {who}") for k, who in enumerate(["lu", "mo"])]
    r = client.post("/api/capture", json=capture(fresh), headers=auth)
    assert r.status_code == 200 and MARTIN not in r.json["scores"]
    monkeypatch.undo()
    now = s.scorer.result(MARTIN)["score"]
    assert now > then and s.store.history(MARTIN)[-1] == {"day": yesterday, "score": now}
    since = client.get(f"/api/people/{MARTIN}", headers=auth).json["since"]
    assert since == {"day": yesterday, "then": now, "now": now, "count": 0, "new": 0, "rest": 0, "model": None}
