"""The pill and its card as a user meets them: a dot badge can be seen and hovered, Escape closes
a card opened by the pointer, a card does not hang over other comments once its pill has scrolled
away nor lie over its own pill in a short window, each badge is one Tab stop, the user's own
identity is titled as theirs, and a score made of likes alone is not called "nothing counted"."""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import datetime, timezone

import pytest

from ext_steps import THREAD_URL, api_scores, ext_url, pair_in_options, scored, token_of, wait_state

pytestmark = pytest.mark.browser

NAMES = 8  # the post's byline and seven comments
BOB = "#div-comment-201 .fn + span"


def open_cards(s) -> list[str]:
    return [b["identity"] for b in s["badges"] if b["cardOpen"]]


IS_BADGE = ("() => document.activeElement && document.activeElement.tagName === 'SPAN'"
            " && !document.activeElement.childNodes.length")


def tab_to_badge(page):
    """Tab through the page until focus is in a badge (the page sees only its host element)."""
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(IS_BADGE):
            return
    raise AssertionError("no badge is reachable with the keyboard")


def same_focus(page) -> bool:
    return page.evaluate("document.activeElement === window.__held")


def hold_focus(page):
    page.evaluate("window.__held = document.activeElement")


def scored_thread(browser, live_server):
    """Paired, on the test thread with every badge scored: (context, worker, page)."""
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto(THREAD_URL)
    wait_state(worker, "extension-thread", scored(NAMES))
    return ctx, worker, page


def hover(page, selector):
    box = page.locator(selector).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_a_dot_badge_is_drawn_and_opens_its_card_on_hover(browser, live_server):
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.select_option("#badge-style", "dot")
    opts.wait_for_selector("#behaviour-msg:has-text('dot badges')")
    page = ctx.new_page()
    page.goto(THREAD_URL)
    s = wait_state(worker, "extension-thread", scored(NAMES))
    assert {b["style"] for b in s["badges"]} == {"dot"}
    # the dot once measured its size in its own font's em, which is 0: nothing to see or hover
    assert all(b["pillBox"]["width"] >= 20 and b["pillBox"]["height"] >= 20 for b in s["badges"]), s["badges"][0]["pillBox"]
    hover(page, BOB)
    opened = wait_state(worker, "extension-thread", lambda s: open_cards(s), what="the dot's card open")
    assert open_cards(opened) == ["blog.example:bob builder"]


def test_escape_closes_a_card_opened_by_the_pointer(browser, live_server):
    ctx, worker, page = scored_thread(browser, live_server)
    hover(page, BOB)
    wait_state(worker, "extension-thread", lambda s: open_cards(s), what="card open")
    page.keyboard.press("Escape")  # focus is on the page, not in the badge
    wait_state(worker, "extension-thread", lambda s: not open_cards(s), what="card closed by Escape")


def test_an_open_card_waits_unseen_while_its_pill_is_scrolled_away(browser, live_server):
    ctx, worker, page = scored_thread(browser, live_server)
    page.evaluate("document.body.style.paddingBottom = '4000px'")
    tab_to_badge(page)
    s = wait_state(worker, "extension-thread", lambda s: open_cards(s), what="card open by focus")
    assert [b["cardVisibility"] for b in s["badges"] if b["cardOpen"]] == ["visible"]
    focused = open_cards(s)
    page.mouse.wheel(0, 3000)
    gone = wait_state(worker, "extension-thread",
                      lambda s: [b["cardVisibility"] for b in s["badges"] if b["cardOpen"]] == ["hidden"],
                      what="the card hidden while its pill is out of the window")
    assert open_cards(gone) == focused  # still open: focus is on its pill
    page.mouse.wheel(0, -3000)
    wait_state(worker, "extension-thread",
               lambda s: [b["cardVisibility"] for b in s["badges"] if b["cardOpen"]] == ["visible"],
               what="the card back with its pill")


def test_each_badge_is_one_tab_stop_and_enter_leads_into_its_card(browser, live_server):
    ctx, worker, page = scored_thread(browser, live_server)
    tab_to_badge(page)
    hold_focus(page)
    first = open_cards(wait_state(worker, "extension-thread", lambda s: open_cards(s), what="card open by focus"))
    # Tab leaves the badge: the card's link is not a stop of its own
    page.keyboard.press("Tab")
    assert not same_focus(page), "Tab stayed in the badge (its card's link took a stop)"
    page.keyboard.press("Shift+Tab")
    assert same_focus(page)
    page.keyboard.press("Enter")  # into the card, as the pill's label says
    page.keyboard.press("Tab")    # then its link
    assert same_focus(page), "after Enter, Tab reaches the card's link"
    s = wait_state(worker, "extension-thread", lambda s: True)
    assert open_cards(s) == first


def test_the_users_own_identity_is_titled_as_theirs(browser, live_server):
    ctx, worker, page = scored_thread(browser, live_server)
    dash = ctx.new_page()
    dash.goto(f"{live_server.url}/people/{urllib.parse.quote('blog.example:bob builder', safe='')}")
    dash.click("button:has-text('This is me')")
    dash.wait_for_selector("text=is one of your identities")
    page.bring_to_front()
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # back to the page: asked again
    hover(page, BOB)
    s = wait_state(worker, "extension-thread",
                   lambda s: any(b["cardOpen"] and b["title"].startswith("You (") for b in s["badges"]),
                   what="Bob's card titled as the user's")
    mine = next(b for b in s["badges"] if b["cardOpen"])
    assert mine["title"] == f"You (Bob Builder): {mine['text']} of 100"
    others = {b["title"] for b in s["badges"] if b["identity"] != "blog.example:bob builder"}
    assert not [t for t in others if t.startswith("You")]


def test_a_card_taller_than_the_room_beside_its_pill_does_not_cover_it(browser, live_server):
    """At 375 px a card is tall: with its pill mid-window neither side held it, and the card,
    pushed back inside the window, lay over the pill it belongs to (and the pill's focus ring)."""
    ctx, worker, page = scored_thread(browser, live_server)
    page.set_viewport_size({"width": 375, "height": 420})
    page.evaluate("document.body.style.padding = '700px 0'")
    page.evaluate("""(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                                scrollBy(0, r.top - innerHeight / 2); }""", BOB)
    hover(page, BOB)
    s = wait_state(worker, "extension-thread", lambda s: open_cards(s), what="Bob's card open")
    bob = next(b for b in s["badges"] if b["cardOpen"])
    card, pill = bob["cardBox"], bob["pillBox"]
    assert card["bottom"] <= pill["top"] or card["top"] >= pill["bottom"], (card, pill)
    assert card["top"] >= 4 and card["bottom"] <= 420 - 4, card
    assert card["scrollHeight"] > card["clientHeight"] and card["overflowY"] == "auto", \
        "cut to the room beside its pill, the card scrolls"


def post_capture(live_server, token: str, capture: dict):
    req = urllib.request.Request(f"{live_server.url}/api/capture", data=json.dumps(capture).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def test_a_score_from_likes_alone_is_not_called_nothing_counted(browser, live_server):
    """Likes and votes count but are no one person's interaction (the summary's `interactions` is
    0): Fay, liked 40 times elsewhere and answered by nobody, was drawn on the pale band of a score
    nothing counted towards, her card saying "1 is where everyone starts" beside her points."""
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    post_capture(live_server, token_of(worker), {"v": 1, "page": {
        "url": "http://blog.example/another-post.html", "title": "Another post", "site": "blog.example"},
        "items": [{"id": "another-post#comment-1", "kind": "comment", "parent": "another-post",
                   "author": {"handle": "Fay Friendly", "name": "Fay Friendly"}, "at": now,
                   "text": "My grandmother's recipe, for everyone.", "reactions": {"like": 40}}]})
    page = ctx.new_page()
    page.goto(THREAD_URL)
    s = wait_state(worker, "extension-thread", scored(NAMES))
    fay = next(b for b in s["badges"] if b["identity"] == "blog.example:fay friendly")
    api = api_scores(live_server, token_of(worker), [fay["identity"]])[fay["identity"]]
    assert api["interactions"] == 0 and api["by_kind"].get("reaction", 0) > 0 and api["score"] > 1, api
    assert fay["text"] == str(api["score"])
    assert fay["band"] != "0", "drawn on the pale band of a score nothing counted towards"
    assert "nothing counted" not in fay["label"], fay["label"]
    assert "Nothing counted yet" not in fay["card"] and "where everyone starts" not in fay["card"], fay["card"]
    assert "likes and votes only, no reply or mention yet" in fay["card"], fay["card"]
    assert fay["sections"]["Top people"][0].startswith("the audience (likes and votes): ")


def test_a_score_from_a_closed_group_says_so_on_its_card(browser, live_server):
    """Five accounts that engage only one another and Fay, a week of it: her card says that her
    score comes from a closed group (property 9's rings, seen where the score is), and that what
    five people allow is what holds it (the reach ceiling)."""
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    ring = [f"Ring {k}" for k in range(5)]
    items = [{"id": "another-post#comment-1", "kind": "comment", "parent": "another-post",
              "author": {"handle": "Fay Friendly", "name": "Fay Friendly"}, "at": f"{day}T00:00:00Z",
              "text": "My grandmother's recipe, for everyone."}]
    items += [{"id": f"ring-post-{k}", "kind": "comment", "parent": "another-post", "author": {"handle": m, "name": m},
               "at": f"{day}T00:00:00Z", "text": f"my own note {k}"} for k, m in enumerate(ring)]
    for k, m in enumerate(ring):
        for j, parent in enumerate(("another-post#comment-1", f"ring-post-{(k + 1) % 5}", f"ring-post-{(k + 2) % 5}")):
            for n in range(2):
                items.append({"id": f"ring-{k}-{j}-{n}", "kind": "comment", "parent": parent,
                              "author": {"handle": m, "name": m}, "at": f"{day}T00:0{n}:00Z", "text": f"so true {j} {n}"})
    post_capture(live_server, token_of(worker), {"v": 1, "page": {
        "url": "http://blog.example/another-post.html", "title": "Another post", "site": "blog.example"},
        "items": items})
    page = ctx.new_page()
    page.goto(THREAD_URL)
    s = wait_state(worker, "extension-thread", scored(NAMES))
    fay = next(b for b in s["badges"] if b["identity"] == "blog.example:fay friendly")
    api = api_scores(live_server, token_of(worker), [fay["identity"]])[fay["identity"]]
    assert api["group"] == {"accounts": 5, "interactions": 30}, api
    assert ("Their score comes from a closed group: 5 accounts that nobody else engages and that engage "
            "nobody else but them (30 interactions).") in fay["card"], fay["card"]
    # and nobody else on the thread has one
    assert [b["identity"] for b in s["badges"] if "closed group" in b["card"]] == [fay["identity"]]
    # the five are all she has within three steps: the reach ceiling holds her score, and says so
    assert api["reach"] == 5, api
    assert "Held here by their reach: 5 people within three steps of them" in fay["card"], fay["card"]


GENESIS_URL = "http://blog.example/genesis-post.html"
# A Genesis theme's byline (flawlessfood-olive.html in the corpus): the author's name is a span
# inside the link to their author page.
GENESIS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Focaccia</title></head>
<body class="single postid-7101"><article id="post-7101" class="post">
<header class="entry-header"><h1 class="entry-title">Olive focaccia</h1>
<p class="entry-meta">By <span class="entry-author"><a href="http://blog.example/author/kay/" class="entry-author-link"
 rel="author"><span class="entry-author-name">Kay Baker</span></a></span></p></header></article>
<div id="comments"><ol class="comment-list"><li id="comment-1" class="comment depth-1">
<article id="div-comment-1" class="comment-body"><footer class="comment-meta"><div class="comment-author vcard">
<b class="fn">Lou Reader</b> <span class="says">says:</span></div><div class="comment-metadata">
<time datetime="2026-11-20T09:00:00+00:00">Nov 20</time></div></footer>
<div class="comment-content"><p>Baked it twice, lovely bread.</p></div></article></li></ol></div></body></html>"""


def test_a_pill_on_a_name_inside_a_link_is_put_after_the_link(browser, live_server):
    """Inside the byline's link, a click on Kay's pill followed the link to her author page."""
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.route(GENESIS_URL, lambda route: route.fulfill(status=200, content_type="text/html", body=GENESIS_PAGE))
    page.goto(GENESIS_URL)
    wait_state(worker, "genesis-post", scored(2))
    link = "a.entry-author-link"
    # the page sees where the host is (never what is in it): right after the link, not inside it
    assert page.evaluate(f"document.querySelector('{link}').children.length") == 1
    assert page.evaluate(f"document.querySelector('{link}').nextElementSibling.tagName") == "SPAN"
    hover(page, f"{link} + span")
    s = wait_state(worker, "genesis-post", lambda s: open_cards(s), what="Kay's card open")
    assert open_cards(s) == ["blog.example:kay baker"]
    page.locator(f"{link} + span").click()
    page.wait_for_timeout(500)
    assert page.url == GENESIS_URL, "a click on the pill left the page"
