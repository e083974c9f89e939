"""The person page's "same words from several accounts": a spam run made visible and forgotten in
one go (the seeds' spam complaint, docs/klout.md). Through the real API, store and scorer."""
from __future__ import annotations

import pytest

from scoring import model
from helpers import capture, comment_item
from server.copies import MIN_WORDS, copied, score_without, words_of
from test_pages import MARTIN, href, person_path, services, soup, token

SPAM = "Great article! Check out <b>cheap-deals</b>.example for more."
BOTS = [f"spambot{k}" for k in range(5)]


def spam_page(bots=BOTS, at="2026-11-08T03:0{}:00Z"):
    """Martin's post again, with one comment per bot, the last one in other case and spacing."""
    items = []
    for k, bot in enumerate(bots):
        text = SPAM if k < len(bots) - 1 else "GREAT article -- check out <B>cheap deals</B> example, for MORE"
        items.append(comment_item(f"spam-{k}", bot, at=at.format(k), text=text))
    return capture(items)


def test_words_of_ignores_case_punctuation_and_spacing_and_short_texts():
    assert words_of("Great   article! Check OUT this") == words_of("great article, check out. THIS") \
        == "great article check out this"
    assert words_of("Große Straße, schön gesagt, danke") == "grosse strasse schön gesagt danke"
    assert words_of("Thank you so much!") is None and MIN_WORDS == 5
    assert words_of(None) is None and words_of(["not", "a", "text", "at", "all"]) is None


def row(key, author, text, points, at="2026-11-01T00:00:00Z"):
    return {"key": key, "author": author, "points": points, "item": {"text": text, "at": at}}


SAME = "thanks for sharing this with us"


def test_copied_needs_two_throwaway_accounts_other_than_the_person():
    behind = [row("s:1", "s:a", SAME, 1.0, "2026-11-02T00:00:00Z"), row("s:2", "s:b", SAME.upper() + "!", 0.5),
              row("s:3", "s:a", SAME, 0.25), row("s:4", "s:me", SAME, 2.0), row("s:5", "s:friend", SAME, 1.0),
              row("s:6", "s:c", "another text of enough words", 1.0),
              row("s:7", "s:c", "another text of enough words", 1.0)]
    wrote = {"s:a": [SAME, SAME], "s:b": [SAME.upper() + "!"], "s:me": [SAME],
             "s:friend": [SAME, "and something of their own"], "s:c": ["another text of enough words"] * 2}
    def sole(who):
        found = {words_of(t) for t in wrote[who]}
        return found.pop() if len(found) == 1 else None
    (g,) = copied(behind, "s:me", sole)
    # the friend wrote other things, the person's own items are theirs, s:c is one account
    assert g["accounts"] == ["s:a", "s:b"] and g["count"] == 3 and g["points"] == 1.75
    assert g["text"] == SAME.upper() + "!" and g["first"] < g["last"]  # the earliest copy, as written
    # an account the user linked (texts_of gives None) is someone they know
    assert copied(behind, "s:me", lambda who: None if who == "s:b" else sole(who)) == []


def test_score_without_takes_the_items_share_of_the_raw_value_through_the_map():
    result = {"score": 28, "raw": 40.0, "breakdown": {"by_item": {"a": 10.0, "b": 18.0}}}
    assert score_without(result, 0.0) == int(model.to_score(model.points(40.0)))  # from the raw value
    assert score_without(result, 18.0) == int(model.to_score(model.points(40.0 * 10 / 28)))
    assert score_without(result, 28.0) == 1  # nothing left: the bottom of the map
    assert score_without({"score": 5, "raw": 0.0, "breakdown": {}}, 3.0) == 5


@pytest.fixture
def spammed(seeded, auth):
    s = services(seeded)
    # a seeded commenter who wrote other things says the same: a person, not a throwaway account
    carl = capture([comment_item("carl-too", "carl", at="2026-11-08T02:00:00Z", text=SPAM)])
    assert seeded.post("/api/capture", json=carl, headers=auth).status_code == 200
    before = s.scorer.result(MARTIN)["score"]
    r = seeded.post("/api/capture", json=spam_page(), headers=auth)
    assert r.status_code == 200, r.json
    return seeded, before


def test_the_person_page_lists_a_spam_run_with_its_points_and_forgets_it_in_one_go(spammed, auth):
    client, before = spammed
    s = services(client)
    result = s.scorer.result(MARTIN)
    assert result["score"] > before  # what the seeds complain of: spam lifted the score
    page = soup(client.get(person_path(MARTIN)))
    groups = page.select("section#copies form.copy-group")
    assert len(groups) == 1  # the seeded "good privacy point" (3 words, three people) is not one
    form = groups[0]
    assert SPAM in form.select_one("q").get_text()  # shown as text, never as markup
    assert form.select_one("q b") is None
    ticked = [i["value"] for i in form.select("input[name=identity][checked]")]
    assert ticked == sorted(f"blog.example:{b}" for b in BOTS)
    spam_points = sum(v for k, v in result["breakdown"]["by_item"].items() if "spam-" in k)
    assert f"{len(BOTS)} item(s) from {len(BOTS)} accounts, 2026-11-08: {spam_points:.1f} points of the score. " \
        f"Without them it would be about {before}." in " ".join(form.get_text().split())

    data = {"csrf": token(client), "back": MARTIN, "identity": ticked}
    r = client.post("/data/forget-copies", data=data)  # not confirmed: nothing happens
    assert r.status_code == 303 and s.store.count_items() == 15 + len(BOTS)
    r = client.post("/data/forget-copies", data=dict(data, sure="yes"))
    assert r.status_code == 303 and r.headers["Location"].endswith(href(client, MARTIN))
    assert s.store.count_items() == 15 and s.store.items_by_author("blog.example:carl")
    assert s.scorer.result(MARTIN)["score"] == before
    assert all(s.store.items_by_author(i) == [] for i in ticked)
    after = client.get(person_path(MARTIN)).get_data(as_text=True)
    assert f"Forgot {len(BOTS)} account(s)" in after and 'id="copies"' not in after
    # forgotten: the same run captured again is not stored
    assert sorted(s.store.get_config("forgotten")) == ticked
    assert client.post("/api/capture", json=spam_page(), headers=auth).status_code == 200
    assert s.store.count_items() == 15 and s.scorer.result(MARTIN)["score"] == before


def test_forgetting_copies_refuses_unknown_accounts_and_forgets_nobody(spammed):
    client, _ = spammed
    s = services(client)
    data = {"csrf": token(client), "back": MARTIN, "sure": "yes",
            "identity": ["blog.example:spambot0", "blog.example:nobody-here"]}
    r = client.post("/data/forget-copies", data=data, follow_redirects=True)
    assert "Nobody by the identity blog.example:nobody-here is stored; nothing was forgotten" in r.get_data(as_text=True)
    assert s.store.items_by_author("blog.example:spambot0") and not s.store.get_config("forgotten")
    r = client.post("/data/forget-copies", data={"csrf": token(client), "back": MARTIN, "sure": "yes"},
                    follow_redirects=True)
    assert "Tick the accounts to forget" in r.get_data(as_text=True)
    assert client.post("/data/forget-copies", data=dict(data, csrf="0" * 64)).status_code == 400
    assert s.store.count_items() == 15 + len(BOTS)


def test_your_own_account_among_copies_is_shown_but_not_ticked(spammed, auth):
    client, _ = spammed
    r = client.post("/settings", data={"csrf": token(client), "own": "blog.example:spambot1", "site_weights": "",
                                       "topics": "", "horizon_days": "90"})
    assert r.status_code == 303
    form = soup(client.get(person_path(MARTIN))).select_one("section#copies form.copy-group")
    ticked = {i["value"] for i in form.select("input[name=identity][checked]")}
    assert "blog.example:spambot1" not in ticked and len(ticked) == len(BOTS) - 1
    assert "you" in [t.get_text() for t in form.select(".tag")]


def test_the_overview_tells_you_when_copies_lift_your_own_score(spammed):
    client, before = spammed
    assert soup(client.get("/")).select_one("p.notice.copies") is None  # no own identity yet
    client.post("/settings", data={"csrf": token(client), "own": MARTIN, "site_weights": "", "topics": "",
                                   "horizon_days": "90"})
    note = soup(client.get("/")).select_one("section.mine p.notice.copies")
    assert note is not None and note.get_text().startswith(f"{len(BOTS)} accounts that wrote nothing else sent")
    assert f"without them this score would be about {before}." in note.get_text()
    assert note.select_one("a")["href"] == href(client, MARTIN) + "#copies"


def test_the_api_person_answer_carries_the_copies(spammed, auth):
    client, before = spammed
    answer = client.get(f"/api/people/{MARTIN}", headers=auth).json
    (g,) = answer["copies"]
    assert g["accounts"] == sorted(f"blog.example:{b}" for b in BOTS) and g["count"] == len(BOTS)
    assert g["text"] == SPAM and g["without"] == before and g["first"] <= g["last"]
    assert client.get("/api/people/blog.example:anna", headers=auth).json["copies"] == []
