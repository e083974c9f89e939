"""The JSON API: capture, scores, status, and errors that name the field."""
from __future__ import annotations

import copy

import pytest

from helpers import capture, comment_item, post_item

PAGE = capture([post_item(), comment_item("comment-1", "anna"), comment_item("comment-2", "Bob"),
                comment_item("comment-3", "anna", parent="comment-2", text="thanks @bob")])


def test_status_always_answers_with_version_path_and_counts(client, app):
    r = client.get("/api/status")
    assert r.status_code == 200
    body = r.json
    assert body["name"] == "cloutlens" and body["contract"] == 1
    assert body["data_dir"] == str(app.extensions["cloutlens"].store.data_dir)
    assert body["items"] == 0 and body["paired"] is False


def test_status_says_paired_with_a_valid_token(client, auth):
    assert client.get("/api/status", headers=auth).json["paired"] is True


def test_capture_stores_items_and_answers_with_scores(client, app, auth):
    r = client.post("/api/capture", json=PAGE, headers=auth)
    assert r.status_code == 200, r.json
    assert r.json["stored"] == {"added": 4, "updated": 0, "unchanged": 0}
    assert r.json["authors"] == {"post-1": "blog.example:martinwaxman", "comment-1": "blog.example:anna",
                                 "comment-2": "blog.example:bob", "comment-3": "blog.example:anna"}
    scores = r.json["scores"]
    assert set(scores) == {"blog.example:martinwaxman", "blog.example:anna", "blog.example:bob"}
    for s in scores.values():
        assert 1 <= s["score"] <= 100
    # The post's author was engaged with by two people; the commenters less or not at all.
    assert scores["blog.example:martinwaxman"]["score"] > 1
    assert scores["blog.example:martinwaxman"]["score"] >= scores["blog.example:anna"]["score"]


def test_a_capture_of_replies_to_people_not_in_it_is_scored(client, auth):
    """The scores of those a capture replies to (not its authors) are read for their snapshots:
    with three of them engaged by different amounts that read failed, and the capture answered
    500 "scoring failed" (a Hacker News thread captured in slices, two of its badges)."""
    first = [post_item("p")] + [comment_item(f"c{n}", f"writer{n}", parent="p", at=f"2026-11-0{n}T09:00:00Z")
                                for n in (1, 2, 3)]
    assert client.post("/api/capture", json=capture(first), headers=auth).status_code == 200
    # writer n: n readers, so no reader's share of one writer equals one of the writer before
    replies = [comment_item(f"r{n}-{k}", f"reader{n}-{k}", parent=f"c{n}", at=f"2026-11-1{k}T09:00:00Z")
               for n in (1, 2, 3) for k in range(n)]
    r = client.post("/api/capture", json=capture(replies), headers=auth)
    assert r.status_code == 200, r.json
    assert set(r.json["scores"]) == {f"blog.example:reader{n}-{k}" for n in (1, 2, 3) for k in range(n)}


def test_the_closed_group_of_a_summary_is_read_under_the_lock(client, app, auth, monkeypatch):
    """A summary's closed group computes the scorer's state when a capture has changed it, so it
    must be read under the services lock. It was read while the answer was built, after the lock
    was let go: a real server with four threads capturing and reading at once answered 500 (an
    IndexError in the scorer's update, the rows of another thread's capture half in) to captures,
    score look-ups and the people list."""
    from scoring import Scorer
    s = app.extensions["cloutlens"]
    held = []
    real = Scorer.closed_group

    def checked(self, identity, *args, **kwargs):
        held.append(s.lock._is_owned())
        return real(self, identity, *args, **kwargs)
    monkeypatch.setattr(Scorer, "closed_group", checked)
    assert client.post("/api/capture", json=PAGE, headers=auth).status_code == 200
    assert client.get("/api/scores?id=blog.example:anna&id=blog.example:bob", headers=auth).status_code == 200
    assert client.get("/api/people", headers=auth).status_code == 200
    assert client.get("/api/people/blog.example:anna", headers=auth).status_code == 200
    assert held and all(held), held


def test_capturing_the_same_page_twice_stores_nothing_new(client, app, auth):
    first = client.post("/api/capture", json=PAGE, headers=auth).json
    second = client.post("/api/capture", json=PAGE, headers=auth).json
    assert second["stored"] == {"added": 0, "updated": 0, "unchanged": 4}
    assert first["scores"] == second["scores"]
    assert app.extensions["cloutlens"].store.count_items() == 4


def test_grown_reaction_counts_update_the_item(client, app, auth):
    client.post("/api/capture", json=PAGE, headers=auth)
    again = copy.deepcopy(PAGE)
    again["items"][1]["reactions"] = {"like": 7}
    r = client.post("/api/capture", json=again, headers=auth).json
    assert r["stored"] == {"added": 0, "updated": 1, "unchanged": 3}
    assert app.extensions["cloutlens"].store.count_items() == 4


def test_scores_lookup_for_many_identities(client, auth):
    client.post("/api/capture", json=PAGE, headers=auth)
    r = client.get("/api/scores?id=blog.example:anna&id=blog.example:martinwaxman&id=blog.example:nobody", headers=auth)
    assert r.status_code == 200
    assert r.json["scores"]["blog.example:nobody"] is None
    assert r.json["scores"]["blog.example:anna"]["identity"] == "blog.example:anna"


@pytest.mark.parametrize("query,field", [("", "id"), ("id=nocolon", "id[0]"), ("id=a:b&id=:x", "id[1]")])
def test_scores_lookup_names_the_bad_id(client, auth, query, field):
    r = client.get(f"/api/scores?{query}", headers=auth)
    assert r.status_code == 400 and r.json["field"] == field


def _broken(mutate):
    cap = copy.deepcopy(PAGE)
    mutate(cap)
    return cap


BAD = [
    (lambda c: c.update(v=2), "v"),
    (lambda c: c.pop("page"), "page"),
    (lambda c: c["page"].update(url="javascript:alert(1)"), "page.url"),
    (lambda c: c["page"].update(site="news.ycombinator.com"), "page.site"),
    (lambda c: c.update(items=[]), "items"),
    (lambda c: c["items"][2].update(kind="tweet"), "items[2].kind"),
    (lambda c: c["items"][2]["author"].update(handle=""), "items[2].author.handle"),
    (lambda c: c["items"][3].update(at="last tuesday"), "items[3].at"),
    (lambda c: c["items"][3].update(reactions={"like": -1}), "items[3].reactions.like"),
    (lambda c: c["items"][3].update(mentions="bob"), "items[3].mentions"),
    (lambda c: c["items"][1].update(text="x" * 5000), "items[1].text"),
    (lambda c: c["items"][1].update(extra=1), "items[1]"),
    (lambda c: c["items"][2].update(id="comment-1"), "items[2].id"),
]


@pytest.mark.parametrize("mutate,field", BAD)
def test_bad_capture_names_the_field_and_stores_nothing(client, app, auth, mutate, field):
    r = client.post("/api/capture", json=_broken(mutate), headers=auth)
    assert r.status_code == 400, r.json
    assert r.json["error"] == "invalid"
    assert r.json["field"] == field
    assert app.extensions["cloutlens"].store.count_items() == 0


def test_invalid_json_is_a_clear_400(client, app, auth):
    r = client.post("/api/capture", data=b'{"v": 1, "page": ', headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json["field"] == "body"


def test_a_value_nested_too_deeply_is_named_not_a_crash(client, app, auth):
    # ~980 deep parses, but describing it made the validator recurse past Python's limit: a 500
    deep = "[" * 980 + "1" + "]" * 980
    body = ('{"v": 1, "page": {"url": "https://blog.example/p", "title": "t"}, "items": [{"id": "c1", '
            '"kind": "comment", "author": {"handle": "bob"}, "text": "hi", "reactions": {"likes": %s}}]}' % deep)
    r = client.post("/api/capture", data=body, headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400, r.get_data(as_text=True)[:200]
    assert (r.json["field"], r.json["message"]) == ("items[0].reactions.likes", "is nested too deeply")
    assert app.extensions["cloutlens"].store.count_items() == 0


def test_invalid_utf8_is_a_clear_400(client, auth):
    r = client.post("/api/capture", data=b'{"v": 1, "x": "\xff\xfe"}', headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400


def test_error_messages_never_echo_the_value(client, auth):
    payload = "<script>alert(1)</script>" * 10
    r = client.post("/api/capture", json=_broken(lambda c: c["items"][2]["author"].update(handle=payload)), headers=auth)
    assert r.status_code == 400
    assert "<script>" not in r.get_data(as_text=True)


def test_unknown_endpoint_is_json_404(client, auth):
    r = client.get("/api/nothing", headers=auth)
    assert r.status_code == 404 and r.json["error"] == "not_found"


def test_a_scorer_failure_after_the_write_says_the_capture_was_stored(client, app, auth, monkeypatch):
    scorer = app.extensions["cloutlens"].scorer

    def broken(*_a, **_k):
        raise ValueError("simulated scorer bug")
    monkeypatch.setattr(scorer, "results", broken)
    r = client.post("/api/capture", json=PAGE, headers=auth)
    assert r.status_code == 500 and r.json["error"] == "scoring_failed" and "were stored" in r.json["message"]
    assert app.extensions["cloutlens"].store.count_items() == 4
