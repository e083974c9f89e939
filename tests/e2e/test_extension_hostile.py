"""Pages that fight the extension, in real Chromium: names and texts a page's script writes that
no HTML parser makes (lone surrogates) next to markup and object-member names, comments a
framework draws again after they were read or recycles for other comments, a theme's rules for
spans, and comments loaded in new sections."""
from __future__ import annotations

import time

import pytest

from ext_steps import pair_in_options, scored, stored_items, wait_state

pytestmark = pytest.mark.browser

HOSTILE_URL = "http://blog.example/extension-hostile-names.html"
REDRAWN_URL = "http://blog.example/extension-rerender.html"

# The badge hosts after each name, as the page sees them: empty spans.
BADGES_PER_NAME = """() => [...document.querySelectorAll('.fn')].map(f => {
    let n = 0;
    for (let x = f.nextSibling; x; x = x.nextSibling)
        if (x.nodeName === 'SPAN' && !x.attributes.length && !x.childNodes.length) n++;
    return [f.textContent, n];
})"""


def test_a_lone_surrogate_in_one_name_does_not_lose_the_batch(browser, live_server):
    """A lone surrogate made the capture invalid JSON: the server refused the whole batch, every
    comment of the page with it, and every badge said the server failed."""
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto(HOSTILE_URL)
    s = wait_state(worker, "extension-hostile-names", scored(9), what="every badge scored")
    assert s["error"] is None
    by_id = {it["id"]: it for it in stored_items(live_server.data_dir)}
    assert {f"comment-{300 + i}" for i in range(8)} <= set(by_id), sorted(by_id)
    assert by_id["comment-305"]["author"]["name"] == "lone \ufffd surrogate"
    assert "\U0001F600 \ufffd" in by_id["comment-305"]["text"], "a pair is kept, a lone half replaced"
    identities = {b["identity"] for b in s["badges"]}
    assert {"blog.example:__proto__", "blog.example:constructor", "blog.example:<img src=x onerror=alert(1)>",
            "blog.example:lone \ufffd surrogate"} <= identities
    assert page.evaluate("window.__ran") == []


def badges_per_name(page) -> dict[str, int]:
    return dict(page.evaluate(BADGES_PER_NAME))


def settled(worker, ok, what):
    return wait_state(worker, "extension-rerender", ok, what=what)


def redrawn_page(browser, live_server):
    """Paired, on the page that draws its comments again, with its five badges scored."""
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto(REDRAWN_URL)
    settled(worker, scored(5), "every badge scored")
    return worker, page


def test_comments_drawn_again_keep_one_badge_each(browser, live_server):
    worker, page = redrawn_page(browser, live_server)
    names = ["Ann Author", "Bob Builder", "Cat Critic", "Dan Doer", "Eve Early"]
    assert badges_per_name(page) == dict.fromkeys(names, 1)

    # Same <li>, new inside: its name lost its badge for good.
    page.evaluate("redrawInside()")
    s = settled(worker, lambda s: s["counts"]["badges"] == 5 and all(b["connected"] for b in s["badges"]),
                "Bob's badge drawn again")
    assert badges_per_name(page) == dict.fromkeys(names, 1)
    assert all(b["state"] == "scored" for b in s["badges"])

    # Fresh nodes for the whole list: a badge each, and the thrown-away ones let go (they stayed
    # counted, and held, until a capture that never came).
    page.evaluate("redrawAll()")
    s = settled(worker, lambda s: s["counts"]["badges"] == 5 and all(b["connected"] for b in s["badges"]),
                "old badges let go")
    assert badges_per_name(page) == dict.fromkeys(names, 1)
    time.sleep(1)
    s = settled(worker, lambda s: True, "state")
    assert s["counts"] == {"people": 5, "badges": 5, "scored": 5, "scoredPeople": 5}
    assert s["items"] == 5, "nothing captured twice"


def test_a_recycled_comment_element_is_read_again_with_its_new_name(browser, live_server):
    """Frameworks that recycle elements write another comment into the same nodes. The badge
    there showed the old person's score beside the new name, and the new comment, in an element
    already read, was never captured."""
    worker, page = redrawn_page(browser, live_server)
    page.evaluate("recycle()")
    s = settled(worker, lambda s: any(b["identity"] == "blog.example:zed zebra" and b["state"] == "scored"
                                      for b in s["badges"]), "Zed's badge scored")
    assert "blog.example:cat critic" not in {b["identity"] for b in s["badges"]}, "Cat's badge beside Zed's name"
    assert badges_per_name(page) == {"Ann Author": 1, "Bob Builder": 1, "Zed Zebra": 1, "Dan Doer": 1, "Eve Early": 1}
    by_id = {it["id"]: it for it in stored_items(live_server.data_dir)}
    assert by_id["comment-499"]["author"]["name"] == "Zed Zebra"
    assert by_id["comment-499"]["parent"] == "post-9200"


def test_a_pooled_name_renamed_off_the_page_leaves_the_person_shown_again(browser, live_server):
    """A framework's pool renames an element it took out of the page. Its badge, let go when it
    left, was taken away once more, and with it the record of whoever had that identity: a
    person shown again in another comment since lost their record while their badge stayed,
    uncounted and never refreshed."""
    worker, page = redrawn_page(browser, live_server)
    page.evaluate("takeOutBob()")
    settled(worker, lambda s: s["counts"]["people"] == 4, "Bob's badge let go")
    page.evaluate("bobAgain()")
    settled(worker, lambda s: s["counts"]["people"] == 5 and scored(5)(s), "Bob back and scored")
    page.evaluate("renamePooled()")
    time.sleep(1)
    s = settled(worker, lambda s: True, "state")
    assert s["counts"]["people"] == 5 and s["counts"]["badges"] == 5, s["counts"]
    assert "blog.example:bob builder" in {b["identity"] for b in s["badges"]}


def test_a_themes_rules_for_spans_do_not_move_a_pill_and_a_hidden_comment_hides_it(browser, live_server):
    """A page's rules for the host element beat :host's normal ones: a theme's rule for every
    byline span threw a pill 300 px wide to the far side of the page, or to the page's corner.
    And `all: initial` made the host visible whatever its comment was: a reply hidden with
    `visibility: hidden` showed its pill, floating beside no name."""
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto("http://blog.example/extension-theme-css.html")
    s = wait_state(worker, "extension-theme-css", scored(5), what="every badge scored")
    shown = {b["identity"]: b["visibility"] for b in s["badges"]}
    assert shown["blog.example:hal hidden"] == "hidden"
    assert {v for k, v in shown.items() if k != "blog.example:hal hidden"} == {"visible"}
    hosts = page.evaluate("""() => [...document.querySelectorAll('.fn')].map(f => {
        const h = f.nextElementSibling, a = f.getBoundingClientRect(), b = h.getBoundingClientRect();
        return {name: f.textContent, display: getComputedStyle(h).display, width: Math.round(b.width),
                gap: Math.round(b.left - a.right), middle: Math.abs((a.top + a.bottom) / 2 - (b.top + b.bottom) / 2)};
    })""")
    by_name = {h["name"]: h for h in hosts}
    assert {h["display"] for h in hosts} == {"inline-block"}
    assert len({h["width"] for h in hosts}) == 1, hosts
    for name in ("Bob Builder", "Cat Critic"):
        # just after the name, on its line (Dan's whole byline is positioned by the theme, pill too)
        assert 0 <= by_name[name]["gap"] <= 8 and by_name[name]["middle"] < 4, by_name[name]


def test_comments_loaded_in_a_new_section_several_levels_up_are_captured(browser, live_server):
    """Only the first list and its parent were watched: a "load more" adding a new section with
    its own list beside the first one went unseen (6 of 9 comments here)."""
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto("http://blog.example/extension-sections.html")
    wait_state(worker, "extension-sections", scored(4), what="the first section scored")
    page.evaluate("more(); more()")
    s = wait_state(worker, "extension-sections", scored(10), what="every section scored")
    assert s["items"] == 10
    ids = {it["id"] for it in stored_items(live_server.data_dir)}
    assert {f"comment-{600 + i}" for i in range(9)} <= ids


def test_a_page_focusing_a_badge_host_opens_no_card(browser, live_server):
    """A page's focus() gives trusted focus events: with a tabindex of the page's, the host itself
    took focus and its card opened, though only the user's own input should open one."""
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto("http://blog.example/extension-thread.html")
    wait_state(worker, "extension-thread", scored(8), what="every badge scored")
    focused = page.evaluate("""() => {
        const host = document.querySelector('#div-comment-201 .fn').nextElementSibling;
        host.tabIndex = 0;
        host.focus();
        const other = document.querySelector('#div-comment-204 .fn').nextElementSibling;
        other.setAttribute('contenteditable', '');
        other.focus();
        return document.activeElement === other;
    }""")
    assert focused, "the page moved focus onto the hosts"
    time.sleep(0.5)
    s = wait_state(worker, "extension-thread", lambda s: True)
    assert not [b["identity"] for b in s["badges"] if b["cardOpen"]]
    # The user's own Tab still opens a card.
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("Tab")
    wait_state(worker, "extension-thread", lambda s: any(b["cardOpen"] for b in s["badges"]), what="card opened by Tab")


def test_an_app_going_from_thread_to_thread_keeps_only_the_scores_of_the_people_shown(browser, live_server):
    """The content script kept the last summary of every person of every thread an app without
    reloads went through, for the whole session."""
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto("http://blog.example/extension-spa.html")
    wait_state(worker, "extension-spa", scored(6), what="thread 1 scored")
    for n in range(2, 7):
        page.evaluate(f"go({n})")
        s = wait_state(worker, f"thread={n}", lambda s: s["counts"]["scored"] == 6 and s["counts"]["badges"] == 6,
                       what=f"thread {n} scored")
    time.sleep(2)  # the refresh after the last capture
    s = wait_state(worker, "thread=6", lambda s: True)
    assert s["counts"]["people"] == 6
    assert s["stats"]["remembered"] <= 6, s["stats"]["remembered"]
    assert len({it["id"] for it in stored_items(live_server.data_dir)}) == 6 * 6


def test_a_gathering_over_the_servers_body_limit_goes_in_parts(browser, live_server):
    """400 comments of 2,000 emoji made one capture of over 2 MB: the server refused it whole, and
    those comments were lost, their badges never scored."""
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto("http://blog.example/extension-long-comments.html")
    s = wait_state(worker, "extension-long-comments", scored(451), timeout=60, what="every badge scored")
    assert s["error"] is None
    ids = {it["id"] for it in stored_items(live_server.data_dir)}
    assert {f"comment-{7000 + i}" for i in range(450)} <= ids
