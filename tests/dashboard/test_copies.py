"""The person page's "same words from several accounts": a spam run made visible and forgotten in
one go (the seeds' spam complaint, docs/klout.md). Through the real API, store and scorer."""
from __future__ import annotations

import pytest

from scoring import model
from helpers import capture, comment_item
from scoring.samewords import MIN_WORDS, words_of
from server.copies import copied, score_without
from test_pages import MARTIN, href, person_path, services, soup, token

SPAM = "Great article! Check out <b>cheap-deals</b>.example for more."
BOTS = [f"spambot{k}" for k in range(5)]


def spam_page(bots=BOTS, at="2026-11-08T03:{:02d}:00Z"):
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


def test_words_of_counts_each_letter_of_scripts_written_without_spaces():
    # A Chinese or Japanese comment is one run of letters: each counts as a word, so a copied
    # five-letter thanks is a copy, a four-letter one too short, and a changed letter another text.
    assert words_of("谢谢你的分享！") == "谢 谢 你 的 分 享" == words_of("谢谢 你的分享")
    assert words_of("谢谢分享") is None
    assert words_of("素晴らしい記事です") != words_of("素晴らしい記事でした")
    # mixed with Latin words, each keeps its own rule
    assert words_of("Cloutlensは最高") is None and words_of("Cloutlensは最高です") == "cloutlens は 最 高 で す"


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
    count = lambda who: len(wrote[who])  # noqa: E731
    (g,) = copied(behind, "s:me", count, sole)
    # the friend wrote other things, the person's own items are theirs, s:c is one account
    assert g["accounts"] == ["s:a", "s:b"] and g["count"] == 3 and g["points"] == 1.75
    assert g["text"] == SAME.upper() + "!" and g["first"] < g["last"]  # the earliest copy, as written
    # an account the user linked (texts_of gives None) is someone they know
    assert copied(behind, "s:me", lambda who: None if who == "s:b" else count(who), sole) == []
    # accounts whose every item is behind the score are not read again
    asked = []
    copied(behind, "s:me", count, lambda who: asked.append(who) or sole(who))
    assert asked == ["s:friend"]


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
    # the seeds' complaint, answered: carl said it first, so the scorer counts no bot's copy
    # (docs/scoring.md, section 6); the page still lists the run, to forget it
    assert result["score"] == before
    assert sorted(s.store.get_item(*k)["author"]["handle"] for k in s.scorer.later_copies(MARTIN)) == BOTS
    page = soup(client.get(person_path(MARTIN)))
    groups = page.select("section#copies form.copy-group")
    assert len(groups) == 1
    form = groups[0]
    assert SPAM in form.select_one("q").get_text()  # shown as text, never as markup
    assert form.select_one("q b") is None
    ticked = [i["value"] for i in form.select("input[name=identity][checked]")]
    assert ticked == sorted(f"blog.example:{b}" for b in BOTS)
    assert result["view"] == "people"  # no day capped: the estimate is exact here
    assert f"{len(BOTS)} items from {len(BOTS)} accounts, 2026-11-08. " \
        f"They lift the score by less than a point. The score counts these words once a week, for the account that sent them first: " \
        f"{len(BOTS)} of these count nothing already." in " ".join(form.get_text().split())
    # the scorer's rule since model 2026-12-09 (docs/scoring.md, section 6): the same words count
    # again a week later, so "once" alone told the user more than the scorer does
    intro = page.select_one("section#copies > p.meta").get_text()
    assert "The score counts the same words to one person once a week, for the account that sent them first" in intro

    data = {"csrf": token(client), "back": MARTIN, "identity": ticked}
    r = client.post("/data/forget-copies", data=data)  # not confirmed: nothing happens
    assert r.status_code == 303 and s.store.count_items() == 15 + len(BOTS)
    r = client.post("/data/forget-copies", data=dict(data, sure="yes"))
    assert r.status_code == 303 and r.headers["Location"].endswith(href(client, MARTIN))
    assert s.store.count_items() == 15 and s.store.items_by_author("blog.example:carl")
    assert s.scorer.result(MARTIN)["score"] == before
    assert all(s.store.items_by_author(i) == [] for i in ticked)
    after = client.get(person_path(MARTIN)).get_data(as_text=True)
    assert f"Forgot {len(BOTS)} accounts" in after and 'id="copies"' not in after
    # forgotten: the same run captured again is not stored
    assert sorted(s.store.get_config("forgotten")) == ticked
    assert client.post("/api/capture", json=spam_page(), headers=auth).status_code == 200
    assert s.store.count_items() == 15 and s.scorer.result(MARTIN)["score"] == before


def test_forgetting_copies_takes_only_accounts_listed_now_and_forgets_nobody_else(spammed):
    client, _ = spammed
    s = services(client)
    bots = [f"blog.example:{b}" for b in BOTS]
    for extra in ("blog.example:nobody-here", "blog.example:anna", MARTIN):  # unknown, a real person, the person
        data = {"csrf": token(client), "back": MARTIN, "sure": "yes", "identity": bots[:2] + [extra]}
        r = client.post("/data/forget-copies", data=data, follow_redirects=True)
        assert f"{extra} is not among the accounts listed for {MARTIN} now; nothing was forgotten" in \
            r.get_data(as_text=True)
    assert not s.store.get_config("forgotten") and s.store.count_items() == 15 + len(BOTS)
    r = client.post("/data/forget-copies", data={"csrf": token(client), "back": MARTIN, "sure": "yes"},
                    follow_redirects=True)
    assert "Tick the accounts to forget" in r.get_data(as_text=True)
    assert client.post("/data/forget-copies", data=dict(data, csrf="0" * 64)).status_code == 400
    assert s.store.count_items() == 15 + len(BOTS)


def test_a_linked_account_is_someone_you_know_never_listed_nor_forgotten_through_the_link(spammed):
    """The form was opened, then the user linked one of the accounts to Martin: posting the old
    form forgets nothing (it would have taken Martin with the link)."""
    client, before = spammed
    s = services(client)
    bots = [f"blog.example:{b}" for b in BOTS]
    r = client.post("/data/link", data={"csrf": token(client), "canonical": MARTIN, "alias": bots[0]})
    assert r.status_code == 303 and s.store.get_config("links") == {bots[0]: MARTIN}
    form = soup(client.get(person_path(MARTIN))).select_one("section#copies form.copy-group")
    assert [i["value"] for i in form.select("input[name=identity]")] == bots[1:]
    data = {"csrf": token(client), "back": MARTIN, "sure": "yes", "identity": bots}
    r = client.post("/data/forget-copies", data=data, follow_redirects=True)
    assert "is not among the accounts listed" in r.get_data(as_text=True)
    assert not s.store.get_config("forgotten") and s.store.items_by_author(MARTIN)
    r = client.post("/data/forget-copies", data=dict(data, identity=bots[1:]))
    assert sorted(s.store.get_config("forgotten")) == bots[1:] and s.store.items_by_author(MARTIN)
    assert s.store.get_config("links") == {bots[0]: MARTIN}


def test_a_long_run_is_named_in_short_after_forgetting(client, auth):
    from dash_data import blog_page
    assert client.post("/api/capture", json=blog_page(), headers=auth).status_code == 200
    many = [f"bot{k:03d}" for k in range(40)]
    assert client.post("/api/capture", json=spam_page(many), headers=auth).status_code == 200
    listed = [f"blog.example:{b}" for b in many]
    r = client.post("/data/forget-copies", data={"csrf": token(client), "back": MARTIN, "sure": "yes",
                                                 "identity": listed}, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert f"Forgot 40 accounts ({', '.join(listed[:5])} and 35 more): 40 items deleted" in text
    assert len(r.headers.get("Set-Cookie", "")) < 1000


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
    # carl wrote the words first, so the bots' copies count nothing: "about {before}" beside a score
    # of {before} read as a mistake
    assert "possibly spam: they lift this score by less than a point." in note.get_text()
    assert note.select_one("a")["href"] == href(client, MARTIN) + "#copies"


def test_the_api_person_answer_carries_the_copies(spammed, auth):
    client, before = spammed
    answer = client.get(f"/api/people/{MARTIN}", headers=auth).json
    (g,) = answer["copies"]
    assert g["accounts"] == sorted(f"blog.example:{b}" for b in BOTS) and g["count"] == len(BOTS)
    assert g["text"] == SPAM and g["without"] == before and g["first"] <= g["last"]
    assert client.get("/api/people/blog.example:anna", headers=auth).json["copies"] == []


def test_short_words_are_no_copies_and_a_group_of_two_is_listed_but_not_ticked(seeded, auth):
    # three people's three words to Martin: common, not a trace
    short = [comment_item(f"short-{k}", who, text="good point, thanks") for k, who in enumerate(["ivy", "jon", "kim"])]
    pair = [comment_item(f"pair-{k}", who, text="Have a great day, happy birthday") for k, who in enumerate(["lu", "mo"])]
    assert seeded.post("/api/capture", json=capture(short + pair), headers=auth).status_code == 200
    (form,) = soup(seeded.get(person_path(MARTIN))).select("section#copies form.copy-group")
    assert "happy birthday" in form.select_one("q").get_text()
    assert [i["value"] for i in form.select("input[name=identity]")] == ["blog.example:lu", "blog.example:mo"]
    assert form.select("input[name=identity][checked]") == []


def test_spam_on_a_day_of_real_comments_says_the_estimate_is_low(seeded, auth):
    """A capped day's cut falls on its real comments too: without the spam they count whole, so
    the score after forgetting is at least the estimate, and the page says "or more"."""
    s = services(seeded)
    day = "2026-11-08T0{}:30:00Z"
    # (a run's copies after its first count nothing, so the day is capped by real comments)
    real = [comment_item(f"real-{k}", who, at=day.format(k % 10), text=f"my own words, number {k}, on this")
            for k, who in enumerate(["ivy", "jon", "kim", "lee", "max", "ned", "oz", "pat", "quin", "rae", "sol",
                                     "tom"])]
    assert seeded.post("/api/capture", json=capture(real), headers=auth).status_code == 200
    bots = [f"bot{k:02d}" for k in range(10)]
    assert seeded.post("/api/capture", json=spam_page(bots), headers=auth).status_code == 200
    assert s.scorer.result(MARTIN)["view"] == "days"
    form = soup(seeded.get(person_path(MARTIN))).select_one("section#copies form.copy-group")
    text = " ".join(form.get_text().split())
    # the run's first copy, the one that counts, shares a capped day: less than a point of the score
    assert "They do not lift the score: the day they came is capped" in text
    estimate = s.scorer.result(MARTIN)["score"]
    r = seeded.post("/data/forget-copies", data={"csrf": token(seeded), "back": MARTIN, "sure": "yes",
                                                "identity": [f"blog.example:{b}" for b in bots]})
    assert r.status_code == 303 and s.scorer.result(MARTIN)["score"] >= estimate


def test_the_api_leaves_copies_and_since_out_when_the_items_are_spread_over_many_shards(spammed, auth, monkeypatch):
    import server.api
    client, _ = spammed
    monkeypatch.setattr(server.api, "EVERY_ANSWER_SHARDS", 0)
    answer = client.get(f"/api/people/{MARTIN}", headers=auth).json
    assert answer["copies"] is None and answer["since"] is None and answer["result"]["score"] > 1
    # the person page reads them wherever they are
    assert soup(client.get(person_path(MARTIN))).select("section#copies form.copy-group")


@pytest.mark.parametrize("without, capped, said", [
    (20, False, "without them the score would be about 20"),
    (20, True, "without them the score would be about 20 or more (the day they came is capped"),
    (26, False, "they lift the score by less than a point"),
    (26, True, "they do not lift the score: the day they came is capped"),
])
def test_what_a_group_of_copies_is_said_to_lift(app, without, capped, said):
    """copies.score_without beside the score it is taken from: "about 26" beside a score of 26 read
    as a mistake, so less than a point is said in words, and with a capped day, that they do not
    lift it."""
    with app.app_context():
        macros = app.jinja_env.get_template("_macros.html").module
        assert str(macros.without_copies(without, 26, capped, "the score")).startswith(said)
