"""The person page's "closed group behind the score": a ring whose members engage only one another
and the hub (property 9's skip-cycle, whose hub the reach ceiling now holds) made visible and
forgotten in one go, and the hold itself said. Through the real API, store and scorer."""
from __future__ import annotations

from helpers import capture, comment_item, post_item
from test_pages import person_path, services, soup, token

HUB = "blog.example:hub"
RING = [f"ring{k}" for k in range(5)]


def ring_pages():
    """Five accounts, each with a post, that engage the hub and the next two of them, every day
    for a week: each member is engaged by two others, and by nobody outside."""
    items = [post_item("hub-post", author="hub", name="Hub", at="2026-11-01T08:00:00Z")]
    items += [post_item(f"post-{m}", author=m, name=m.title(), at="2026-11-01T08:00:00Z") for m in RING]
    for day in range(7):
        for k, m in enumerate(RING):
            for j, target in enumerate(("hub-post", f"post-{RING[(k + 1) % 5]}", f"post-{RING[(k + 2) % 5]}")):
                items.append(comment_item(f"c-{m}-{day}-{j}", m, parent=target, at=f"2026-11-1{day}T0{j}:{k}0:00Z",
                                          text=f"great one, {day} {j}"))
    return capture(items)


def readers_page():
    """A blogger whose six readers nobody engages: no closed group (their standing is nobody's)."""
    items = [post_item("blogger-post", author="blogger", name="Blogger", at="2026-11-01T08:00:00Z")]
    items += [comment_item(f"r-{k}", f"reader{k}", parent="blogger-post", at=f"2026-11-0{k + 2}T09:00:00Z")
              for k in range(6)]
    return capture(items)


def forget(client, accounts, back=HUB, sure="yes"):
    return client.post("/data/forget-group", data={"csrf": token(client), "back": back, "sure": sure,
                                                   "identity": accounts})


def test_a_ring_behind_a_score_is_listed_and_forgotten_in_one_go(client, auth):
    for page in (ring_pages(), readers_page()):
        assert client.post("/api/capture", json=page, headers=auth).status_code == 200
    s = services(client)
    before = s.scorer.result(HUB)["score"]
    section = soup(client.get(person_path(HUB))).select_one("section#group")
    assert section is not None
    text = " ".join(section.get_text().split())
    assert "one closed group of 5 accounts, with 105 interactions among them" in text
    ticked = sorted(i["value"] for i in section.select("input[name=identity][checked]"))
    assert ticked == [f"blog.example:{m}" for m in RING]
    assert all("(21 within the group)" in li.get_text() for li in section.select("li"))
    # readers whom nobody engages are no such group; nor is a member's own page (they engage the hub)
    assert soup(client.get(person_path("blog.example:blogger"))).select_one("section#group") is None
    assert soup(client.get(person_path("blog.example:ring0"))).select_one("section#group") is None
    # the API says the same
    group = client.get(f"/api/people/{HUB}", headers=auth).json["group"]
    assert group == {"accounts": {f"blog.example:{m}": 21 for m in RING}, "interactions": 105}

    # an account outside the group refuses the whole form
    r = forget(client, ticked + ["blog.example:reader0"])
    assert r.status_code == 303 and s.scorer.result(HUB)["score"] == before
    assert "is not among the accounts listed" in soup(client.get(person_path(HUB))).select_one(".flash").get_text()
    assert forget(client, ticked, sure="").status_code == 303 and s.scorer.result(HUB)["score"] == before

    r = forget(client, ticked)
    assert r.status_code == 303 and r.headers["Location"].endswith("/people/blog.example:hub")
    after = s.scorer.result(HUB)  # the hub's own post is still stored: known, nobody behind it
    assert after["score"] == 1 < before and after["interactions"] == 0
    assert s.scorer.closed_group(HUB) is None  # not the answer kept from before the change
    assert soup(client.get(person_path(HUB))).select_one("section#group") is None
    assert sorted(s.forgotten) >= ticked
    assert s.scorer.result("blog.example:blogger")["people"] == 6


def test_a_linked_account_of_the_group_is_not_offered_nor_taken(client, auth):
    assert client.post("/api/capture", json=ring_pages(), headers=auth).status_code == 200
    r = client.post("/api/links", json={"alias": "news.example:ring0", "canonical": "blog.example:ring0"},
                    headers=auth)
    assert r.status_code == 201, r.json
    section = soup(client.get(person_path(HUB))).select_one("section#group")
    box = section.select_one("input[value='blog.example:ring0']")
    assert box.has_attr("disabled") and not box.has_attr("checked")
    r = forget(client, ["blog.example:ring0", "blog.example:ring1"])
    assert r.status_code == 303 and services(client).scorer.result("blog.example:ring1") is not None


def test_one_captured_thread_is_no_closed_group(seeded):
    """Martin's readers engage Martin, who answers Anna: the shape of a two-level star, closed as
    far as anything captured shows, but a comment or two each, not a ring's hundred."""
    s = services(seeded)
    anna = s.scorer.result("blog.example:anna")
    assert anna["people"] >= 2 and s.scorer.closed_group("blog.example:anna") is None
    assert s.scorer.closed_group("blog.example:anna", per_account=1) is not None  # the shape is there
    assert soup(seeded.get(person_path("blog.example:anna"))).select_one("section#group") is None


def test_a_score_held_by_its_reach_says_so_on_the_page_and_in_the_api(client, auth):
    """The hub's five ring members are all it has within three steps: the reach ceiling holds its
    score at what five people allow (10 + 10 log3 5 = 24.6), and its page, its badge summary and
    its result say so; the blogger's six readers lend nothing, so nothing holds that score."""
    for page in (ring_pages(), readers_page()):
        assert client.post("/api/capture", json=page, headers=auth).status_code == 200
    result = services(client).scorer.result(HUB)
    assert result["view"] == "reach" and result["reach"] == 5 and result["score"] == 25
    held = soup(client.get(person_path(HUB))).select_one("#held-by-reach")
    assert held is not None
    text = " ".join(held.parent.get_text().split())
    assert "Held here by their reach: 5 people within three steps of engagement" in text
    summary = client.get(f"/api/scores?id={HUB}&id=blog.example:blogger", headers=auth).json["scores"]
    assert summary[HUB]["reach"] == 5 and summary["blog.example:blogger"]["reach"] is None
    assert soup(client.get(person_path("blog.example:blogger"))).select_one("#held-by-reach") is None
