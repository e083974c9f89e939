"""Dynamic pages in real Chromium: an infinite-scroll thread that keeps rewriting its own text,
replies that arrive under comments from earlier loads, and single-page-app navigation. Checked by
what the content script did (each comment handled once, off-screen comments left for later,
captures batched) and by what the real server stored (every comment, with the right parent)."""
from __future__ import annotations

import time

import pytest

from ext_steps import pair_in_options, stored_items, wait_state

pytestmark = pytest.mark.browser

TOTAL = 200
URL = f"http://blog.example/extension-infinite.html?total={TOTAL}&step=40"


def page_tree(page) -> dict:
    """Each comment's parent as the page's nesting says."""
    return page.evaluate(
        """() => {
            const out = {};
            const post = 'post-' + /postid-(\\d+)/.exec(document.body.className)[1];
            for (const li of document.querySelectorAll('li.comment')) {
                const up = li.parentElement.closest('li.comment');
                out[li.id] = up ? up.id : post;
            }
            return out;
        }"""
    )


def settle(worker, part, key="items", quiet=0.6, timeout=15.0) -> dict:
    """The state once `key` has stopped changing for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        s = wait_state(worker, part, lambda s: s[key] > 0)
        if last is None or s[key] != last[key]:
            last, since = s, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return s
        time.sleep(0.1)
    return last


def test_infinite_scroll_spa_navigation_and_no_reprocessing(browser, live_server):
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto(URL)

    # Off-screen work waits: all 40 loaded comments are known, only those near the screen are read.
    first = settle(worker, "extension-infinite")
    assert first["stats"]["commentsSeen"] == 40
    assert 1 < first["items"] < 41, first["items"]

    # Scroll like a reader until the thread ends, then back up: replies that arrived under
    # comments already scrolled past are read only once the reader comes back to them.
    for _ in range(200):
        page.mouse.wheel(0, 1200)
        page.wait_for_timeout(30)
        if page.evaluate("() => window.__made === %d && scrollY + innerHeight >= document.body.scrollHeight - 2" % TOTAL):
            break
    for _ in range(200):
        page.mouse.wheel(0, -1200)
        page.wait_for_timeout(30)
        if page.evaluate("() => scrollY === 0"):
            break
    # Captured and answered: a badge is scored only once the server has stored its capture.
    done = wait_state(worker, "extension-infinite", lambda s: s["items"] == TOTAL + 1 and len(s["badges"]) == TOTAL + 1
                      and all(b["state"] == "scored" for b in s["badges"]), timeout=45, what="every comment captured")
    stats = done["stats"]
    # The page rewrote every comment's text each second meanwhile: nothing was handled twice.
    time.sleep(1.2)
    done = wait_state(worker, "extension-infinite", lambda s: True)
    assert done["stats"]["commentsSeen"] == TOTAL
    assert done["items"] == TOTAL + 1
    assert len(done["badges"]) == TOTAL + 1, "one badge per name, the byline included"
    assert done["stats"]["captures"] == stats["captures"], "no capture after the last comment"
    assert done["stats"]["captures"] <= TOTAL // 10, "captures are batched, not one per comment"
    hosts = page.evaluate(
        """() => [...document.querySelectorAll('.fn')].map(fn => {
            let n = 0;
            for (let e = fn.nextElementSibling; e && e.tagName === 'SPAN' && !e.className && !e.childNodes.length; e = e.nextElementSibling) n++;
            return n;
        })"""
    )
    assert hosts == [1] * (TOTAL + 1), "exactly one badge after every name"

    # The server has every comment, each with the parent the page's nesting gives it, including
    # replies that arrived in a later load than the comment they answer.
    tree = page_tree(page)
    stored = {d["id"]: d for d in stored_items(live_server.data_dir)}
    assert {i: stored[i]["parent"] for i in tree} == tree
    assert stored["post-8001"]["author"]["handle"] == "olga owner"

    # Single-page navigation: a new address and thread in the same document.
    page.evaluate("() => scrollTo(0, 0)")
    page.click("#next-thread")
    # Clicking scrolled down to the link, and badges far from the screen are repainted only when
    # they come near: the reader goes back up to the new post's byline.
    page.evaluate("() => scrollTo(0, 0)")
    second = wait_state(worker, "thread=2", lambda s: any(b["identity"] == "blog.example:pete poster" and b["state"] == "scored"
                                                          for b in s["badges"]), what="second thread captured")
    assert all(b["connected"] for b in second["badges"]), "badges of the replaced thread are let go"
    stored = {d["id"]: d for d in stored_items(live_server.data_dir)}
    assert stored["post-8002"]["author"]["handle"] == "pete poster"
    new = [i for i in page_tree(page) if i in stored]
    assert new and all(stored[i]["parent"] == p for i, p in page_tree(page).items() if i in stored)
