"""The dashboard's pages and forms through Flask's test client, over data captured by the API."""
from __future__ import annotations

import io
from urllib.parse import quote

import orjson
import pytest
from bs4 import BeautifulSoup
from flask import url_for
from werkzeug.datastructures import MultiDict

from helpers import capture, comment_item, post_item
from dash_data import HOSTILE_NAME, HOSTILE_REPLY, HOSTILE_TEXT
from scoring import model
from server.dashboard import csrf_token, times

MARTIN = "blog.example:martinwaxman"


def soup(resp) -> BeautifulSoup:
    assert resp.status_code == 200, resp.data[:500]
    return BeautifulSoup(resp.data, "lxml")


def token(client) -> str:
    with client.application.test_request_context():
        return csrf_token()


def services(client):
    return client.application.extensions["cloutlens"]


def person_path(identity: str) -> str:
    return "/people/" + quote(identity, safe="")


def href(client, identity: str) -> str:
    with client.application.test_request_context():
        return url_for("dashboard.person", identity=identity)


def test_overview_shows_top_people_recent_captures_and_volume(seeded):
    page = soup(seeded.get("/"))
    top = [a["href"] for a in page.select("section.top a.person")]
    ranking = services(seeded).scorer.ranking(limit=10)
    assert top == [href(seeded, r["identity"]) for r in ranking]
    names = services(seeded).store.names()
    assert [a.get_text() for a in page.select("section.top a.person")] == [names[r["identity"]] for r in ranking]
    volume = {tr.select("td")[0].get_text(): int(tr.select("td")[1].get_text())
              for tr in page.select("section.volume table tbody tr")}
    assert volume == {"blog.example": 10, "news.example": 4}
    assert len(page.select("section.recent li")) == 14
    # each site's bar is its share of the largest (10 and 4 items: 100 and 40)
    assert [r["width"] for r in page.select("section.volume svg.bar rect")] == ["100.0", "40.0"]


def test_own_identity_on_the_overview_with_its_history_chart(seeded):
    r = seeded.post("/settings", data={"csrf": token(seeded), "own": MARTIN, "site_weights": "",
                                       "topics": "", "horizon_days": "90"})
    assert r.status_code == 303
    page = soup(seeded.get("/"))
    card = page.select_one("section.mine article.own")
    assert card.select_one("a.person").get_text() == "Martin Waxman"
    score = services(seeded).scorer.result(MARTIN)["score"]
    assert card.select_one(".score").get_text() == str(score)
    assert card.select_one("svg.line-chart polyline.line")["points"].count(",") >= 2


def test_an_own_identity_with_nothing_stored_is_kept_but_flagged(seeded):
    r = seeded.post("/settings", data={"csrf": token(seeded), "own": f"{MARTIN}\nblog.example:martinwaxmann",
                                       "site_weights": "", "topics": "", "horizon_days": "90"}, follow_redirects=True)
    errors = [f.get_text() for f in soup(r).select(".flash.error")]
    assert errors == ["Nothing by or about blog.example:martinwaxmann is stored yet: check the spelling, "
                      "or capture a page where you wrote."]
    assert services(seeded).store.get_config("own_identities") == [MARTIN, "blog.example:martinwaxmann"]
    cards = soup(seeded.get("/")).select("section.mine article.own")
    typo = cards[1]
    assert typo.select_one("a.person") is None  # its page would be a 404
    assert typo.select_one("h3").get_text() == "blog.example:martinwaxmann"
    assert "check its spelling in Settings" in typo.get_text() and typo.select_one("a")["href"].endswith("/settings")


def test_people_list_searches_filters_and_sorts(seeded):
    everyone = soup(seeded.get("/people"))
    ranked = [r["identity"] for r in services(seeded).scorer.ranking()]
    # The default order is the scorer's ranking.
    assert [a["href"] for a in everyone.select("#people a.person")] == [href(seeded, i) for i in ranked]
    scores = [int(s.get_text()) for s in everyone.select("#people .score")]
    assert scores == sorted(scores, reverse=True)

    found = soup(seeded.get("/people?q=rydne"))
    names = [a.get_text() for a in found.select("#people a.person")]
    assert names and all(n == "Anna Rydne" for n in names)

    news = soup(seeded.get("/people?site=news.example"))
    expected = [href(seeded, i) for i in ranked if i.startswith("news.example:")]
    assert expected and [a["href"] for a in news.select("#people a.person")] == expected

    top = services(seeded).scorer.ranking()[0]["score"]
    ranged = soup(seeded.get(f"/people?min={top}&max={top}"))
    assert [int(s.get_text()) for s in ranged.select("#people .score")] == [top] * len(ranged.select("#people .score"))
    assert len(ranged.select("#people .score")) < len(scores)

    by_name = soup(seeded.get("/people?sort=name"))
    labels = [a.get_text().casefold() for a in by_name.select("#people a.person")]
    assert labels == sorted(labels)


def test_person_page_says_what_a_reply_from_each_engager_weighs(seeded, auth):
    """Their score is what they receive, the weight what their reply gives (property 4's standing):
    the page shows the weight beside the score, for each engager and for the person."""
    # Anna, engaged by five people, replies to a newcomer's post: her reply weighs more than Lee's
    items = [comment_item(f"w-fan-{k}", who, parent="comment-1", at=f"2026-11-1{k}T09:00:00Z",
                          text=f"Anna, point {k} is a good one") for k, who in enumerate(["ivy", "jon", "kim"])]
    items += [post_item("w-post", author="newbie", name="Newbie", at="2026-11-20T08:00:00Z", text="My first post"),
              comment_item("w-anna", "anna", parent="w-post", at="2026-11-21T09:00:00Z", text="Welcome, well said."),
              comment_item("w-lee", "lee", parent="w-post", at="2026-11-22T09:00:00Z", text="Nice first post.")]
    items[3 + 1]["author"]["name"] = "Anna Rydne"
    assert seeded.post("/api/capture", json=capture(items), headers=auth).status_code == 200
    s = services(seeded)
    weights = s.scorer.engager_weights("blog.example:newbie")
    page = soup(seeded.get(person_path("blog.example:newbie")))
    shown = {tr.select_one("a.person").get_text(): tr.select_one("td.weight").get_text()
             for tr in page.select("#engaged-by tbody tr")}
    assert weights == {"blog.example:anna": weights["blog.example:anna"], "blog.example:lee": 1.0}
    assert weights["blog.example:anna"] > 3
    assert shown == {"Anna Rydne": times(weights["blog.example:anna"]), "Lee": "\u00d71"}
    assert "weight of a reply is how many times one reply from them" in page.select_one("#weight-note").get_text()
    anna = s.scorer.result("blog.example:anna")
    said = " ".join(soup(seeded.get(person_path("blog.example:anna"))).select_one(".summary .meta").get_text().split())
    assert f"A reply from Anna Rydne counts {times(model.reply_weight(anna['standing']))} beside one" in said


def test_person_page_shows_score_breakdown_items_and_who_engages(seeded):
    result = services(seeded).scorer.result(MARTIN)
    page = soup(seeded.get(person_path(MARTIN)))
    assert page.select_one("#person-name").get_text() == "Martin Waxman"
    assert page.select_one(".summary .score").get_text() == str(result["score"])
    # counts are written as words are, never "interaction(s)"
    summary = " ".join(page.select_one(".summary").get_text().split())
    people = "1 person" if result["people"] == 1 else f"{result['people']} people"
    assert f"{result['interactions']} interactions from {people}" in summary and "(s)" not in summary
    kinds = {tr.th.get_text() for tr in page.select("#by-kind tr") if tr.th}
    assert kinds == set(result["breakdown"]["by_kind"])
    # Every item behind the score is listed, and their points add up to the score (property 11).
    rows = page.select("#items tbody tr")
    assert len(rows) == len(result["breakdown"]["by_item"])
    total = sum(float(tr.select_one("td.num").get_text()) for tr in rows)
    assert total == pytest.approx(result["score"], abs=0.05 * len(rows) + 0.5)
    # Links go only to web addresses: the javascript: URL captured with comment-7 is not a link.
    hrefs = [a["href"] for a in page.select("#items a.seen")]
    assert hrefs and all(h.startswith("https://blog.example/") for h in hrefs)
    engaged = {a.get_text() for a in page.select("#engaged-by a.person")}
    assert {"Anna Rydne", "Bob", "Carl"} <= engaged
    # Martin replied to Anna: he engages her.
    assert [a.get_text() for a in page.select("#engages a.person")] == ["Anna Rydne"]
    assert page.select("svg.line-chart polyline.line")
    # the chart's numbers as text for those who cannot see it, every day of it (over 60 days the
    # drawing labels only the last), and a way past the navigation
    rows = page.select(".chart-data tbody tr")
    assert rows and rows[-1].select("td")[1].get_text() == str(result["score"])
    assert page.select_one("a.skip")["href"] == "#main" and page.select_one("main#main")
    assert page.select_one("#negative .neg-count").get_text() == str(result["negative"]["count"])


def test_topic_scores_are_scores_and_a_cut_list_says_what_the_rest_gives(seeded, monkeypatch):
    import server.dashboard as dashboard
    seeded.post("/settings", data={"csrf": token(seeded), "own": "", "site_weights": "",
                                   "topics": "klout: klout, influence", "horizon_days": "90"})
    result = services(seeded).scorer.result(MARTIN)
    monkeypatch.setattr(dashboard, "ITEMS_SHOWN", 2)
    page = soup(seeded.get(person_path(MARTIN)))
    topics = {tr.th.get_text(): tr.td.get_text() for tr in page.select("#by-topic tr") if tr.th}
    # a topic's score is on the 1-100 scale of its own, not points of the score beside it
    assert topics == {k: str(v) for k, v in result["topics"].items()}
    assert "not parts of the score" in page.select_one("#by-topic caption").get_text()
    rows = page.select("#items tbody tr")
    listed = sum(float(tr.select_one("td.num").get_text()) for tr in rows)
    said = page.select_one(".behind .meta").get_text()
    assert len(rows) == 2 and "the 2 largest are listed" in said
    rest = float(said.split("give ")[1].split(" points")[0])
    assert listed + rest == pytest.approx(result["points"], abs=0.05)


def test_hostile_replies_are_shown_apart_and_add_nothing(seeded):
    result = services(seeded).scorer.result(MARTIN)
    page = soup(seeded.get(person_path(MARTIN)))
    assert result["negative"]["count"] == 1
    assert page.select_one("#negative .neg-count").get_text() == "1"
    listed = page.select("#hostile li")
    assert len(listed) == 1 and HOSTILE_REPLY in listed[0].get_text()
    assert HOSTILE_REPLY not in page.select_one("#items").get_text()
    assert "blog.example:troll" not in result["breakdown"]["by_person"]


def test_this_is_me_marks_an_own_identity(seeded):
    r = seeded.post("/settings/own", data={"csrf": token(seeded), "identity": "blog.example:anna"})
    assert r.status_code == 303 and r.headers["Location"].endswith(href(seeded, "blog.example:anna"))
    assert services(seeded).store.get_config("own_identities") == ["blog.example:anna"]
    assert "blog.example:anna is one of your identities" in seeded.get(r.headers["Location"]).get_data(as_text=True)
    assert soup(seeded.get("/")).select_one("section.mine a.person").get_text() == "Anna Rydne"
    r = seeded.post("/settings/own", data={"csrf": token(seeded), "identity": "blog.example:anna"}, follow_redirects=True)
    assert services(seeded).store.get_config("own_identities") == []
    assert "blog.example:anna is no longer one of your identities" in r.get_data(as_text=True)


def test_unknown_person_is_404(seeded):
    assert seeded.get(person_path("blog.example:nobody")).status_code == 404


def test_captured_markup_is_shown_as_text_everywhere(seeded):
    ident = f"blog.example:{HOSTILE_NAME}"
    for path in ("/", "/people", "/people?q=img", person_path(ident), person_path(MARTIN), "/data"):
        resp = seeded.get(path)
        assert resp.status_code == 200, path
        html = resp.get_data(as_text=True)
        assert "<img src=x" not in html and "<script>alert" not in html, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, path
    page = soup(seeded.get(person_path(ident)))
    assert page.select_one("#person-name").get_text() == HOSTILE_NAME
    assert HOSTILE_TEXT in page.get_text()


def test_forms_refuse_a_missing_or_wrong_csrf_token(seeded):
    before = services(seeded).store.count_items()
    for path, data in (("/settings", {"horizon_days": "30"}), ("/data/forget", {"identity": MARTIN}),
                       ("/data/delete-all", {"confirm": "delete everything"})):
        assert seeded.post(path, data=data).status_code == 400
        assert seeded.post(path, data=dict(data, csrf="0" * 64)).status_code == 400
    assert services(seeded).store.count_items() == before


def test_other_origins_and_hosts_are_refused(seeded):
    before = services(seeded).store.count_items()
    evil = {"Origin": "https://evil.example"}
    assert seeded.get("/", headers=evil).status_code == 403
    assert seeded.get(person_path(MARTIN), headers=evil).status_code == 403
    r = seeded.post("/data/delete-all", data={"csrf": token(seeded), "confirm": "delete everything"}, headers=evil)
    assert r.status_code == 403
    r = seeded.post("/data/delete-all", data={"csrf": token(seeded), "confirm": "delete everything"},
                    headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    assert seeded.get("/", headers={"Host": "evil.example"}).status_code == 403
    assert services(seeded).store.count_items() == before


def test_settings_change_rescores_at_once(seeded):
    before = services(seeded).scorer.result(MARTIN)["score"]
    r = seeded.post("/settings", data={"csrf": token(seeded), "own": "", "site_weights": "blog.example = 0",
                                       "topics": "privacy: privacy, tracking", "horizon_days": "120"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/settings")
    assert services(seeded).store.get_config("settings") == {
        "site_weights": {"blog.example": 0.0}, "topics": {"privacy": ["privacy", "tracking"]}, "horizon_days": 120}
    after = services(seeded).scorer.result(MARTIN)
    assert after is None or after["score"] < before
    page = soup(seeded.get("/settings"))
    assert page.select_one("#site_weights").get_text().strip() == "blog.example = 0"
    assert [c.get_text() for c in page.select("#sites-seen code")] == ["blog.example", "news.example"]
    assert "Settings saved" in page.get_text()


def test_settings_errors_name_the_field_and_change_nothing(seeded):
    r = seeded.post("/settings", data={"csrf": token(seeded), "own": "", "site_weights": "blog.example = 99",
                                       "topics": "", "horizon_days": "90"})
    assert r.status_code == 400
    assert "site_weights" in BeautifulSoup(r.data, "lxml").select_one(".field-error").get_text()
    r = seeded.post("/settings", data={"csrf": token(seeded), "own": "no colon here", "site_weights": "",
                                       "topics": "", "horizon_days": "5"})
    assert r.status_code == 400
    # every field at fault says so at once (only the first did), tied to its field for a screen reader
    page = BeautifulSoup(r.data, "lxml")
    assert {e["id"] for e in page.select(".field-error")} == {"own-error", "horizon_days-error"}
    for field in ("own", "horizon_days"):
        tag = page.select_one(f"#{field}")
        assert tag["aria-invalid"] == "true" and tag["aria-describedby"] == f"{field}-error"
    assert not page.select_one("#topics").has_attr("aria-invalid")
    assert services(seeded).store.get_config("settings") in (None, {})


def test_link_suggestion_then_link_and_unlink(seeded):
    page = soup(seeded.get("/data"))
    suggestion = page.select_one(".suggestions li")
    ids = [i["value"] for i in suggestion.select("input[name=canonical], input[name=alias]")]
    assert sorted(ids) == ["blog.example:anna", "news.example:anna rydne"]
    assert services(seeded).store.get_config("links") in (None, {})  # suggested, not applied

    r = seeded.post("/data/link", data={"csrf": token(seeded), "canonical": "blog.example:anna",
                                        "alias": "news.example:anna rydne"})
    assert r.status_code == 303
    assert services(seeded).store.get_config("links") == {"news.example:anna rydne": "blog.example:anna"}
    # The alias's page is the person's page now.
    r = seeded.get(person_path("news.example:anna rydne"))
    assert r.status_code == 302 and r.headers["Location"].endswith(href(seeded, "blog.example:anna"))
    merged = soup(seeded.get(person_path("blog.example:anna")))
    assert "news.example:anna rydne" in merged.select_one("#aliases").get_text()
    assert "news.example" in {tr.th.get_text() for tr in merged.select("#by-site tr") if tr.th}

    r = seeded.post("/data/unlink", data={"csrf": token(seeded), "alias": "news.example:anna rydne"},
                    follow_redirects=True)
    assert "Unlinked news.example:anna rydne" in r.get_data(as_text=True)
    assert services(seeded).store.get_config("links") == {}
    # unlinked again from a page opened before (another tab): said, not a 404
    r = seeded.post("/data/unlink", data={"csrf": token(seeded), "alias": "news.example:anna rydne"},
                    follow_redirects=True)
    said = " ".join(f.get_text() for f in soup(r).select(".flash"))
    assert "news.example:anna rydne is not linked to anyone" in said


def test_linking_to_an_alias_names_the_person_it_joined(seeded):
    seeded.post("/data/link", data={"csrf": token(seeded), "canonical": "blog.example:anna",
                                    "alias": "news.example:anna rydne"})
    r = seeded.post("/data/link", data={"csrf": token(seeded), "canonical": "news.example:anna rydne",
                                        "alias": "blog.example:bob"}, follow_redirects=True)
    said = " ".join(f.get_text() for f in soup(r).select(".flash"))
    assert "Linked blog.example:bob to blog.example:anna" in said
    assert services(seeded).store.get_config("links")["blog.example:bob"] == "blog.example:anna"


def test_a_refused_link_or_forget_gives_back_what_was_typed(seeded):
    r = seeded.post("/data/link", data={"csrf": token(seeded), "canonical": "blog.example:anna",
                                        "alias": "news.example:nobodi"})
    assert r.headers["Location"].endswith("#link-form")
    form = soup(seeded.get(r.headers["Location"])).select_one("#link-form")
    assert form.select_one("input[name=alias]")["value"] == "news.example:nobodi"
    assert form.select_one("input[name=canonical]")["value"] == "blog.example:anna"
    r = seeded.post("/data/forget", data={"csrf": token(seeded), "identity": "blog.example:<b>bob"})
    form = soup(seeded.get(r.headers["Location"])).select_one("#forget-form")
    assert form.select_one("input[name=identity]")["value"] == "blog.example:<b>bob"  # as text, in an attribute
    assert form.select_one("b") is None and not form.select(".linked-group")


def test_link_suggestions_come_a_page_at_a_time(client, auth):
    # Martin and 45 people who each wrote on two sites under the same name: 46 suggestions
    for url in ("https://blog.example/p", "https://news.example/p"):
        items = [post_item(at="2026-11-01T08:00:00Z")] + [
            comment_item(f"c{n}", f"twin{n:02d}", text="hello") for n in range(45)]
        r = client.post("/api/capture", json=capture(items, url=url), headers=auth)
        assert r.status_code == 200, r.json
    first = soup(client.get("/data"))
    assert len(first.select(".suggestions li")) == 30
    pager = first.select_one("#more-suggestions")
    assert "1-30 of 46" in pager.get_text() and [a.get_text() for a in pager.select("a")] == ["Next 30"]
    second = soup(client.get(pager.a["href"]))
    assert len(second.select(".suggestions li")) == 16
    pager = second.select_one("#more-suggestions")
    assert "31-46 of 46" in pager.get_text() and [a.get_text() for a in pager.select("a")] == ["Previous"]
    shown = {li.select_one("input[name=canonical]")["value"] for page in (first, second) for li in page.select(".suggestions li")}
    assert len(shown) == 46


def test_link_refuses_unknown_identities(seeded):
    r = seeded.post("/data/link", data={"csrf": token(seeded), "canonical": "blog.example:anna",
                                        "alias": "news.example:nobody"}, follow_redirects=True)
    assert "Nobody by the identity news.example:nobody" in r.get_data(as_text=True)
    assert services(seeded).store.get_config("links") in (None, {})


def test_forget_a_person(seeded):
    s = services(seeded)
    r = seeded.post("/data/forget", data={"csrf": token(seeded), "identity": "blog.example:bob"})
    assert r.status_code == 303 and len(s.store.items_by_author("blog.example:bob")) == 2
    r = seeded.post("/data/forget", data={"csrf": token(seeded), "identity": "blog.example:bob", "sure": "yes"})
    assert r.status_code == 303
    assert s.store.items_by_author("blog.example:bob") == []
    assert "blog.example:bob" not in {r["identity"] for r in s.scorer.ranking()}
    assert seeded.get(person_path("blog.example:bob")).status_code == 404
    assert "Forgot blog.example:bob: 2 items" in seeded.get("/data").get_data(as_text=True)


def form_fields(form) -> MultiDict:
    """What a browser posts for `form` with every checkbox ticked."""
    return MultiDict([(i["name"], i.get("value", "")) for i in form.select("input[name]")])


def test_forgetting_a_linked_person_forgets_every_identity_and_says_so(seeded):
    s = services(seeded)
    seeded.post("/data/link", data={"csrf": token(seeded), "canonical": "blog.example:anna",
                                    "alias": "news.example:anna rydne"})
    page = soup(seeded.get(person_path("blog.example:anna")))
    assert "under every identity linked here (blog.example:anna, news.example:anna rydne)" in page.get_text()
    fields = form_fields(page.select_one("form.danger"))
    assert sorted(fields.getlist("linked")) == ["blog.example:anna", "news.example:anna rydne"]
    r = seeded.post("/data/forget", data=fields)
    assert r.status_code == 303
    assert s.store.items_by_author("blog.example:anna") == s.store.items_by_author("news.example:anna rydne") == []
    assert "Forgot blog.example:anna and the identities linked to them (news.example:anna rydne)" in \
        seeded.get("/data").get_data(as_text=True)


def test_forget_typed_on_the_data_page_lists_the_linked_identities_before_it_deletes_them(seeded):
    s = services(seeded)
    seeded.post("/data/link", data={"csrf": token(seeded), "canonical": "blog.example:anna",
                                    "alias": "news.example:anna rydne"})
    before = s.store.count_items()
    r = seeded.post("/data/forget", data={"csrf": token(seeded), "identity": "news.example:anna rydne", "sure": "yes"})
    assert r.status_code == 303 and r.headers["Location"].endswith("#forget-form")
    assert s.store.count_items() == before  # typed one identity: the others were not on screen yet
    page = soup(seeded.get(r.headers["Location"]))
    said = " ".join(f.get_text() for f in page.select(".flash"))
    assert "news.example:anna rydne is linked to blog.example:anna" in said and "all 2 wrote" in said
    form = page.select_one("#forget-form")
    assert form.select_one("input[name=identity]")["value"] == "news.example:anna rydne"
    assert "Forgotten together: blog.example:anna, news.example:anna rydne." in form.get_text()
    r = seeded.post("/data/forget", data=form_fields(form))
    assert r.status_code == 303
    assert s.store.items_by_author("blog.example:anna") == s.store.items_by_author("news.example:anna rydne") == []
    assert s.store.count_items() < before


def test_forget_asks_again_when_the_links_changed_after_the_form_was_shown(seeded):
    s = services(seeded)
    seeded.post("/data/link", data={"csrf": token(seeded), "canonical": "blog.example:anna",
                                    "alias": "news.example:anna rydne"})
    fields = form_fields(soup(seeded.get(person_path("blog.example:anna"))).select_one("form.danger"))
    seeded.post("/data/link", data={"csrf": token(seeded), "canonical": "blog.example:anna", "alias": "blog.example:bob"})
    seeded.post("/data/forget", data=fields)
    assert len(s.store.items_by_author("blog.example:bob")) == 2  # not on the form: kept
    assert s.store.items_by_author("blog.example:anna")


def test_export_then_delete_all_then_import_restores_everything(seeded):
    s = services(seeded)
    seeded.post("/data/link", data={"csrf": token(seeded), "canonical": "blog.example:anna",
                                    "alias": "news.example:anna rydne"})
    scores = {r["identity"]: r["score"] for r in s.scorer.ranking()}
    r = seeded.post("/data/export", data={"csrf": token(seeded)})
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    exported = orjson.loads(r.data)
    assert len(exported["items"]) == 14 and "token" not in r.get_data(as_text=True).lower()

    refused = seeded.post("/data/delete-all", data={"csrf": token(seeded), "confirm": "yes"})
    assert refused.status_code == 303 and s.store.count_items() == 14
    r = seeded.post("/data/delete-all", data={"csrf": token(seeded), "confirm": "delete everything"})
    assert r.status_code == 303
    assert s.store.count_items() == 0 and s.scorer.ranking() == []
    assert "Nothing captured yet" in seeded.get("/").get_data(as_text=True)

    r = seeded.post("/data/import", data={"csrf": token(seeded), "file": (io.BytesIO(orjson.dumps(exported)), "export.json")},
                    content_type="multipart/form-data")
    assert r.status_code == 303
    assert s.store.count_items() == 14
    assert {r["identity"]: r["score"] for r in s.scorer.ranking()} == scores
    assert s.store.get_config("links") == {"news.example:anna rydne": "blog.example:anna"}
    # a file that forgets someone here says so where the user reads the outcome
    theirs = dict(exported, items=[], forgotten=["blog.example:carl"])
    r = seeded.post("/data/import", data={"csrf": token(seeded), "file": (io.BytesIO(orjson.dumps(theirs)), "x.json")},
                    content_type="multipart/form-data", follow_redirects=True)
    said = " ".join(f.get_text() for f in soup(r).select(".flash"))
    assert "1 person was forgotten here (blog.example:carl)" in said and "of theirs deleted" in said


def test_import_refuses_a_bad_file_and_stores_nothing(seeded):
    s = services(seeded)
    bad = {"cloutlens_export": 1, "items": [{"site": "blog.example", "id": "x", "kind": "comment"}]}
    r = seeded.post("/data/import", data={"csrf": token(seeded), "file": (io.BytesIO(orjson.dumps(bad)), "bad.json")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert "Import refused" in r.get_data(as_text=True) and "items[0]" in r.get_data(as_text=True)
    assert s.store.count_items() == 14


def test_import_reads_an_upload_with_its_items_first_and_refuses_a_bad_last_item(seeded):
    """An upload is read from werkzeug's temporary file as a stream, in any key order, and
    checked to its last item before anything is stored."""
    s = services(seeded)
    exported = orjson.loads(seeded.post("/data/export", data={"csrf": token(seeded)}).data)
    items = [dict(it, id=f"again-{n}-{it['id']}") for n in range(150) for it in exported["items"]]  # over 500 KB
    body = b'{"items": ' + orjson.dumps(items) + b', "cloutlens_export": 1, "forgotten": []}'
    assert len(body) > 500 * 1024
    bad = b'{"items": ' + orjson.dumps(items[:-1] + [dict(items[-1], kind="tweet")]) + b', "cloutlens_export": 1}'
    r = seeded.post("/data/import", data={"csrf": token(seeded), "file": (io.BytesIO(bad), "bad.json")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert f"items[{len(items) - 1}].kind" in r.get_data(as_text=True) and s.store.count_items() == 14
    r = seeded.post("/data/import", data={"csrf": token(seeded), "file": (io.BytesIO(body), "export.json")},
                    content_type="multipart/form-data", follow_redirects=True)
    said = " ".join(f.get_text() for f in soup(r).select(".flash"))
    assert f"Imported: {len(items):,} new items" in said and s.store.count_items() == 14 + len(items)
    r = seeded.post("/data/import", data={"csrf": token(seeded), "file": (io.BytesIO(b'{"items": [' + b"[" * 3000), "x.json")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert "That file is not JSON." in r.get_data(as_text=True)


def test_a_form_opened_before_a_restart_still_posts(tmp_path):
    """The forms' key lives in the data dir (the user's only): a restart kept open pages working,
    where a key made at every start turned their next click into a bare "Bad Request"."""
    from server.app import create_app
    first = create_app({"DATA_DIR": str(tmp_path / "data"), "TESTING": True})
    old = token(first.test_client())
    first.extensions["cloutlens"].store.close()
    again = create_app({"DATA_DIR": str(tmp_path / "data"), "TESTING": True})
    try:
        r = again.test_client().post("/settings", data={"csrf": old, "horizon_days": "60", "topics": "",
                                                        "site_weights": "", "own": ""})
        assert r.status_code == 303, r.get_data(as_text=True)[:300]
        assert (tmp_path / "data" / "form.key").stat().st_mode & 0o077 == 0
    finally:
        again.extensions["cloutlens"].store.close()


def test_errors_on_dashboard_pages_are_pages_that_say_what_to_do(seeded, auth):
    r = seeded.post("/settings", data={"csrf": "stale", "horizon_days": "60"})
    page = BeautifulSoup(r.get_data(as_text=True), "html.parser")
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert "reload the page and try again" in page.select_one("#error-message").get_text()
    assert page.select_one("header.top nav")  # in the dashboard's layout, with its way back
    r = seeded.get(person_path("blog.example:ghost"))
    assert r.status_code == 404 and "Nobody by the identity blog.example:ghost is stored." in r.get_data(as_text=True)
    assert seeded.get("/no/such/page").mimetype == "text/html"
    assert seeded.get("/data/forget").status_code == 405 and "takes a form" in seeded.get("/data/forget").get_data(as_text=True)
    # The API keeps answering JSON, which is what the extension reads.
    assert seeded.get("/api/no-such-endpoint", headers=auth).json["error"] == "not_found"


def test_a_data_dir_gone_under_a_running_server_is_explained(seeded):
    """Deleted or unmounted under a running server: a page that says so and what to run, not a
    bare "Internal Server Error"."""
    import shutil
    data_dir = services(seeded).store.data_dir
    shutil.move(data_dir, data_dir.with_name("moved"))
    try:
        for path in ("/", person_path("blog.example:anna")):
            r = seeded.get(path)
            text = BeautifulSoup(r.get_data(as_text=True), "html.parser").select_one("#error-message").get_text()
            assert r.status_code == 503 and "Run `cloutlens doctor`" in text and "No such file or directory" in text
    finally:
        shutil.move(data_dir.with_name("moved"), data_dir)


def test_a_person_with_only_reactions_says_where_the_score_comes_from(client, auth):
    """Reactions come from the anonymous audience, not people: "0 interactions from 0 people"
    beside a score of 13 read as a fault."""
    from helpers import capture, post_item
    page = capture([post_item("p1", author="quiet", name="Quiet", at="2026-11-20T09:00:00Z",
                              reactions={"like": 40})])
    assert client.post("/api/capture", json=page, headers=auth).status_code == 200
    text = " ".join(client.get(person_path("blog.example:quiet")).get_data(as_text=True).split())
    assert "0 interactions from 0 people, and reactions (likes, votes) from the audience:" in text


def test_odd_handles_link_to_their_own_page_and_are_found_as_the_api_finds_them(client, auth):
    """A handle "x/../../settings" linked to the settings page (the browser resolved the dot
    segments url_for left); www., @ and doubled spaces found the person in the API, not here."""
    from urllib.parse import urljoin

    from helpers import capture, comment_item, post_item
    odd = "x/../../settings"
    page = capture([post_item(author="maya lindqvist", name="Maya Lindqvist"),
                    comment_item("c1", odd, text="first"), comment_item("c2", "bob", text="second")])
    assert client.post("/api/capture", json=page, headers=auth).status_code == 200
    maya = soup(client.get(person_path("blog.example:maya lindqvist")))
    target = next(a["href"] for a in maya.select("a.person") if a.get_text() == odd.title())
    resolved = urljoin("http://127.0.0.1/people/blog.example:maya%20lindqvist", target)  # as a browser does
    assert resolved.startswith("http://127.0.0.1/people/blog.example:x")
    assert soup(client.get(resolved[len("http://127.0.0.1"):])).select_one("#person-name").get_text() == odd.title()
    for given in ("www.blog.example:@maya lindqvist", "Blog.Example:maya  lindqvist", "blog.example:maya\u200b lindqvist"):
        assert soup(client.get(person_path(given))).select_one("#person-name").get_text() == "Maya Lindqvist"
    # linking by hand reads both fields the same way
    r = client.post("/data/link", data={"csrf": token(client), "alias": "www.blog.example:@Bob",
                                         "canonical": "blog.example:maya lindqvist"})
    assert r.status_code == 303
    assert services(client).store.get_config("links") == {"blog.example:bob": "blog.example:maya lindqvist"}


def test_captured_names_are_isolated_from_the_words_around_them(client, auth):
    from helpers import capture, comment_item, post_item
    rlo = "\u202eevil"
    page = capture([post_item(author=rlo, name=rlo), comment_item("c1", "ann"), comment_item("c2", "bob")])
    assert client.post("/api/capture", json=page, headers=auth).status_code == 200
    html = soup(client.get("/people"))
    ident = services(client).store.names()
    person = next(i for i, n in ident.items() if "evil" in i)
    page = soup(client.get(person_path(person)))
    for h2 in page.select("h2"):
        if "evil" in h2.get_text():
            assert h2.select_one("bdi") is not None and "evil" in h2.select_one("bdi").get_text()
    css = client.get("/static/dashboard.css").get_data(as_text=True)
    assert "unicode-bidi: isolate" in css and html.select("a.person")


def test_a_history_chart_marks_the_day_the_scoring_model_changed(seeded, auth, monkeypatch):
    from scoring import model
    store = services(seeded).store
    first = model.VERSION
    for day, score in (("2026-11-01", 30), ("2026-11-02", 31)):
        store.record_scores(day, {MARTIN: score})
    store.flush_history()
    page = soup(seeded.get(person_path(MARTIN)))
    assert page.select("section.history svg.line-chart polyline.line")
    assert not page.select("line.model-mark") and not page.select(".model-change")  # one model so far

    monkeypatch.setattr(model, "VERSION", "2099-01-01")
    for day, score in (("2026-11-03", 38), ("2026-11-04", 38)):
        store.record_scores(day, {MARTIN: score})
    store.flush_history()
    page = soup(seeded.get(person_path(MARTIN)))
    marks = page.select("section.history svg.line-chart line.model-mark")
    assert len(marks) == 1 and marks[0].select_one("title").get_text() == "2026-11-03: scoring model 2099-01-01"
    dots = {d.select_one("title").get_text().split(":")[0]: float(d["cx"]) for d in page.select("circle.dot")}
    assert dots["2026-11-02"] < float(marks[0]["x1"]) == dots["2026-11-03"]
    note = page.select_one("section.history .model-change").get_text(" ", strip=True)
    assert f"changed on 2026-11-03 (dashed line), from {first} to 2099-01-01" in note
    assert services(seeded).store.model_changes() == [("2026-11-01", first), ("2026-11-03", "2099-01-01")]
    # a models.json that is not dates in order counts as none: no mark, and the page still shows
    (store.history_dir / "models.json").write_bytes(b'{"changes": [["2026-11-01", "a"], ["2026-11-31", "b"]]}')
    page = soup(seeded.get(person_path(MARTIN)))
    assert page.select("section.history polyline.line") and not page.select("line.model-mark")
    (store.history_dir / "models.json").write_bytes(
        orjson.dumps({"changes": [["2026-11-01", first], ["2026-11-03", "2099-01-01"]]}))
    assert "scoring model 2099-01-01" in page.select_one("body > footer").get_text()
    r = seeded.get("/api/people/" + quote(MARTIN, safe=""), headers=auth)
    assert r.status_code == 200 and r.json["model_changes"] == [["2026-11-01", first], ["2026-11-03", "2099-01-01"]]
    assert seeded.get("/api/status", headers=auth).json["model"] == "2099-01-01"


def test_the_first_version_recorded_marks_nothing(seeded):
    # snapshots from before versions were recorded may be the same model: an upgrade to the
    # first release that records them is no change to mark
    store = services(seeded).store
    for day, score in (("2026-11-01", 30), ("2026-11-02", 31)):
        store.record_scores(day, {MARTIN: score})
    store.flush_history()
    (store.history_dir / "models.json").unlink()  # as a store written before models.json
    store.record_scores("2026-11-03", {MARTIN: 32})
    store.flush_history()
    assert [day for day, _ in store.model_changes()] == ["2026-11-03"]
    page = soup(seeded.get(person_path(MARTIN)))
    assert page.select("section.history polyline.line")
    assert not page.select("line.model-mark") and not page.select(".model-change")


def test_an_import_says_how_many_daily_snapshots_it_added(seeded):
    s = services(seeded)
    doc = {"cloutlens_export": 1, "items": [], "models": [["2026-10-01", "2026-12-07"]],
           "history": [{"day": "2026-10-01", "scores": {MARTIN: 33, "blog.example:anna rydne": 12}},
                       {"day": "2026-10-02", "scores": {MARTIN: 34}}]}
    r = seeded.post("/data/import", data={"csrf": token(seeded), "file": (io.BytesIO(orjson.dumps(doc)), "old.json")},
                    content_type="multipart/form-data", follow_redirects=True)
    said = " ".join(f.get_text() for f in soup(r).select(".flash"))
    assert "3 daily score snapshots added to the history charts" in said
    assert s.store.history(MARTIN)[:2] == [{"day": "2026-10-01", "score": 33}, {"day": "2026-10-02", "score": 34}]
    page = soup(seeded.get(person_path(MARTIN)))
    assert [d.select_one("title").get_text() for d in page.select("section.history circle.dot")][:2] == \
        ["2026-10-01: 33", "2026-10-02: 34"]


@pytest.mark.parametrize("value, shown, kind", [(0.04, "0.0", "flat"), (-0.04, "0.0", "flat"), (0.05, "+0.1", "up"),
                                                (-0.06, "-0.1", "down"), (3.0, "+3.0", "up")])
def test_a_trend_is_coloured_as_it_reads(client, value, shown, kind):
    # 0.05 reads +0.1: it must not be coloured as no change
    with client.application.test_request_context():
        trend = client.application.jinja_env.get_template("_macros.html").module.trend
        span = BeautifulSoup(str(trend(value)), "lxml").span
    assert (span.get_text(), span["class"]) == (shown, ["trend", kind])


def test_and_n_more_under_who_engages_links_to_everyone_who_does(client, auth, monkeypatch):
    # 45 people comment on Martin's post: the page lists 30, and "and 15 more" was dead text
    items = [post_item(at="2026-11-01T08:00:00Z")] + [
        comment_item(f"c{n}", f"fan{n:02d}", text="hello") for n in range(45)]
    assert client.post("/api/capture", json=capture(items), headers=auth).status_code == 200
    first = soup(client.get(person_path(MARTIN)))
    assert len(first.select("#engaged-by tbody tr")) == 30
    more = first.select_one("#more-engagers a")
    assert more.get_text() == "and 15 more" and more["href"].endswith("#engagers")
    assert first.select_one("section#engagers #engaged-by")
    everyone = soup(client.get(more["href"]))
    rows = everyone.select("#engaged-by tbody tr")
    engagers = services(client).scorer.result(MARTIN)["breakdown"]["by_person"]
    assert {a.get_text() for a in everyone.select("#engaged-by a.person")} == {f"Fan{n:02d}" for n in range(45)}
    assert len(rows) == len(engagers) == 45 and all(tr.select_one(".score") for tr in rows)
    pager = everyone.select_one("#more-engagers")
    assert "1-45 of 45" in pager.get_text() and [a.get_text() for a in pager.select("a")] == ["Only the top 30"]
    # a very long list comes a page at a time
    monkeypatch.setattr("server.dashboard.LIST_PAGE", 20)
    second = soup(client.get(person_path(MARTIN) + "?engaged=20"))
    assert len(second.select("#engaged-by tbody tr")) == 20
    pager = second.select_one("#more-engagers")
    assert "21-40 of 45" in pager.get_text()
    assert [a.get_text() for a in pager.select("a")] == ["Previous 20", "Next 20", "Only the top 30"]
    last = soup(client.get(pager.select("a")[1]["href"]))
    assert len(last.select("#engaged-by tbody tr")) == 5 and "41-45 of 45" in last.select_one("#more-engagers").get_text()
    # a list that fits says nothing more
    assert not soup(client.get(person_path("blog.example:fan00"))).select("#more-engagers")


def many_fans(client, auth, fans=45):
    """Martin's post with a comment from each of `fans` people, an hour apart, and his reply to each."""
    items = [post_item(at="2026-11-01T08:00:00Z")]
    for n in range(fans):
        at = f"2026-11-{2 + n // 24:02d}T{n % 24:02d}:00:00Z"
        items += [comment_item(f"c{n}", f"fan{n:02d}", text="hello", at=at),
                  comment_item(f"r{n}", "martinwaxman", parent=f"c{n}", text=f"thanks {n}", at=at.replace(":00:00", ":30:00"))]
    assert client.post("/api/capture", json=capture(items), headers=auth).status_code == 200


def test_whom_a_person_engages_says_how_many_and_links_to_them_all(client, auth, monkeypatch):
    # Martin replies to 45 people: the list stopped at 30 without saying so
    many_fans(client, auth)
    first = soup(client.get(person_path(MARTIN)))
    assert len(first.select("#engages tbody tr")) == 30
    assert "45 people" in first.select_one("#engaging .meta").get_text()
    more = first.select_one("#more-engaging a")
    assert more.get_text() == "and 15 more" and more["href"].endswith("?engages=0#engaging")
    everyone = soup(client.get(more["href"]))
    assert {a.get_text() for a in everyone.select("#engages a.person")} == {f"Fan{n:02d}" for n in range(45)}
    assert all(tr.select_one(".score") for tr in everyone.select("#engages tbody tr"))
    assert [a.get_text() for a in everyone.select("#more-engaging a")] == ["Only the top 30"]
    monkeypatch.setattr("server.dashboard.LIST_PAGE", 20)
    second = soup(client.get(person_path(MARTIN) + "?engages=20"))
    assert len(second.select("#engages tbody tr")) == 20 and "21-40 of 45" in second.select_one("#more-engaging").get_text()
    assert [a.get_text() for a in second.select("#more-engaging a")] == ["Previous 20", "Next 20", "Only the top 30"]
    # the other lists stay as they are
    assert len(second.select("#engaged-by tbody tr")) == 30


def test_what_a_person_wrote_links_to_all_of_it_newest_first(client, auth, monkeypatch):
    many_fans(client, auth)
    first = soup(client.get(person_path(MARTIN)))
    assert len(first.select("#wrote tbody tr")) == 30
    assert "46 items stored; the latest 30 shown" in first.select_one("#written .meta").get_text()
    more = first.select_one("#more-written a")
    assert more.get_text() == "and 16 more" and more["href"].endswith("?wrote=0#written")
    everyone = soup(client.get(more["href"]))
    days = [t["datetime"] for t in everyone.select("#wrote tbody time")]
    assert len(days) == 46 and days == sorted(days, reverse=True)
    assert [a.get_text() for a in everyone.select("#more-written a")] == ["Only the latest 30"]
    monkeypatch.setattr("server.dashboard.LIST_PAGE", 20)
    second = soup(client.get(person_path(MARTIN) + "?wrote=20"))
    assert [t["datetime"] for t in second.select("#wrote tbody time")] == days[20:40]
    assert "21-40 of 46" in second.select_one("#more-written").get_text()
    # each row still says what it gave to whom
    assert all(tr.select_one(".gave") for tr in second.select("#wrote tbody tr"))


def test_every_item_behind_the_score_links_to_the_rest_and_each_page_adds_up(client, auth, monkeypatch):
    many_fans(client, auth)
    monkeypatch.setattr("server.dashboard.ITEMS_SHOWN", 10)
    result = services(client).scorer.result(MARTIN)
    total = len(result["breakdown"]["by_item"])
    first = soup(client.get(person_path(MARTIN)))
    assert len(first.select("#items tbody tr")) == 10
    more = first.select_one("#more-behind a")
    assert more.get_text() == f"and {total - 10} more" and more["href"].endswith("?items=0#behind")
    monkeypatch.setattr("server.dashboard.LIST_PAGE", 20)
    pages, said, start = [], [], 0
    while start is not None:
        page = soup(client.get(person_path(MARTIN) + f"?items={start}"))
        listed = [float(tr.select_one("td.num").get_text()) for tr in page.select("#items tbody tr")]
        said.append(" ".join(page.select_one("#behind-sum").get_text().split()))
        # what is listed and what the page says of the others add up to the score, on every page
        others = [float(part.split(" points")[0]) for part in said[-1].split("give ")[1:]]
        assert sum(listed) + sum(others) == pytest.approx(result["points"], abs=0.05 + 0.005 * len(listed))
        pages.append(listed)
        nxt = [a for a in page.select("#more-behind a") if a.get_text().startswith("Next")]
        start = start + 20 if nxt else None
    assert [len(p) for p in pages] == [20, 20, total - 40]
    everything = [x for p in pages for x in p]
    assert everything == sorted(everything, reverse=True)
    assert "numbers 1-20, largest first, are listed, the 25 smaller give" in said[0]
    assert "numbers 21-40, largest first, are listed, the 20 larger give" in said[1]
    assert "the 40 larger give" in said[2] and "smaller" not in said[2]


@pytest.mark.parametrize("typed", ["anna  rydne", "  anna rydne ", "anna\trydne", "Anna \u00a0 Rydne"])
def test_a_search_with_extra_spaces_finds_what_the_one_space_search_finds(seeded, typed):
    single = soup(seeded.get("/people?q=anna rydne"))
    expected = [a["href"] for a in single.select("#people a.person")]
    assert expected
    page = soup(seeded.get("/people", query_string={"q": typed}))
    assert [a["href"] for a in page.select("#people a.person")] == expected
    assert page.select_one("form.filters input[name=q]")["value"].casefold() == "anna rydne"


def test_a_name_stored_with_several_spaces_is_found_with_one(client, auth):
    items = [post_item(at="2026-11-01T08:00:00Z"),
             {**comment_item("c1", "lb", text="hi"), "author": {"handle": "lb", "name": "Lena   Berg"}}]
    assert client.post("/api/capture", json=capture(items), headers=auth).status_code == 200
    assert services(client).store.names()["blog.example:lb"] == "Lena   Berg"
    for typed in ("lena berg", "lena  berg", "Lena   Berg"):
        page = soup(client.get("/people", query_string={"q": typed}))
        assert [a.get_text() for a in page.select("#people a.person")] == ["Lena   Berg"], typed


def test_a_history_of_one_day_says_so_instead_of_drawing_a_lone_dot(client, auth):
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    items = [post_item("p1", author="host", name="Host", at=now), comment_item("c1", "ann", parent="p1", at=now)]
    assert client.post("/api/capture", json=capture(items), headers=auth).status_code == 200
    score = services(client).scorer.result("blog.example:host")["score"]
    page = soup(client.get(person_path("blog.example:host")))
    history = page.select_one("section.history")
    assert not history.select("svg")
    said = " ".join(history.select_one("p.one-day").get_text().split())
    assert said == f"Score history: one day so far, {now[:10]}, with a score of {score}. " \
                   "The line is drawn from the second day on."
    # on the overview's card too
    r = client.post("/settings", data={"csrf": token(client), "own": "blog.example:host", "site_weights": "",
                                       "topics": "", "horizon_days": "90"})
    assert r.status_code == 303
    card = soup(client.get("/")).select_one("section.mine article.own")
    assert not card.select("svg.line-chart")
    assert " ".join(card.select_one("p.one-day").get_text().split()).startswith(
        f"Score history of Host: one day so far, {now[:10]}, with a score of {score}.")


def test_a_count_is_written_with_its_noun_in_the_right_number():
    from server.wording import counted

    assert [counted(n, "item") for n in (0, 1, 2, 8648)] == ["0 items", "1 item", "2 items", "8,648 items"]
    assert [counted(n, "person", "people") for n in (1, 1_250_000)] == ["1 person", "1,250,000 people"]
