"""Disqus in its own frame, in real Chromium against the real server: a blog page on blog.example
embeds Disqus's comment frame from disqus.com; the content script runs inside that frame, reads
the thread there, and the server stores every comment with the parent the thread gives it, on
site disqus.com (Disqus handles are Disqus-wide), with a scored badge next to every name in the
frame.

The browser fixture grants disqus.com with the test sites, and the worker registers the content
script in all frames. The frame is served at its real https address by Playwright's request
interception (the page server speaks plain http), with the Disqus fixture page the adapter tests
use, read in place.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ext_steps import open_popup, pair_in_options, press_toolbar_button, stored_items

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
FRAME_PAGE = ROOT / "tests" / "fixtures" / "pages" / "disqus.html"
BLOG_URL = "http://blog.example/disqus-blog.html"
FRAME_URL = ("https://disqus.com/embed/comments/?base=default&f=coastaltrails&t_i=2188"
             "&t_u=http%3A%2F%2Fblog.example%2Fdisqus-blog.html&t_d=Cliff%20walk")
COMMENTS = 4  # tidepoolmara, a guest, coastaltrails (a reply to the reply), gullwatcher


def frame_state(worker, timeout=30.0, ok=lambda s: True):
    """The content script of the Disqus frame: a page-state question naming the frame's address,
    which only that frame answers."""
    import time
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = worker.evaluate(
            """async () => {
                for (const t of await chrome.tabs.query({})) {
                    try {
                        const s = await chrome.tabs.sendMessage(t.id, {type: "page-state", url: "disqus.com/embed/comments"});
                        if (s) return s;
                    } catch (e) { /* no content script in that tab */ }
                }
                return null;
            }"""
        )
        if last and ok(last):
            return last
        time.sleep(0.25)
    raise AssertionError(f"Disqus frame state not reached; last: {json.dumps(last)[:3000]}")


def expected_items():
    from server.extract import extract_html
    capture = extract_html(FRAME_PAGE.read_text(encoding="utf-8"), FRAME_URL)[0]
    return capture["items"]


def test_disqus_thread_in_its_frame_is_captured_with_parents_and_badges(browser, live_server):
    ctx, worker = browser
    served = []

    def disqus(route):
        served.append(route.request.url)
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=FRAME_PAGE.read_bytes())

    ctx.route(re.compile(r"^https://disqus\.com/embed/comments/"), disqus)
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto(BLOG_URL)
    page.wait_for_load_state()
    assert served, "the blog page loaded the Disqus frame"

    state = frame_state(worker, ok=lambda s: s["counts"]["scored"] >= COMMENTS)
    assert state["frame"] is True
    assert state["adapter"] == "disqus"
    assert state["items"] == COMMENTS
    badges = state["badges"]
    assert len(badges) == COMMENTS and all(b["state"] == "scored" and b["connected"] for b in badges)
    assert all(b["identity"].startswith("disqus.com:") for b in badges), "Disqus identities are Disqus-wide"
    assert {b["identity"] for b in badges} >= {"disqus.com:tidepoolmara", "disqus.com:coastaltrails", "disqus.com:gullwatcher"}

    # The server has the thread: every comment, on site disqus.com, the top-level ones answering
    # the discussed page (the frame's t_u) and each reply its parent, exactly as the Python engine
    # reads the same frame document.
    stored = {d["id"]: d for d in stored_items(live_server.data_dir) if d["site"] == "disqus.com"}
    expect = {i["id"]: i for i in expected_items()}
    assert len(expect) == COMMENTS
    assert {i: stored[i]["parent"] for i in expect} == {i: e["parent"] for i, e in expect.items()}
    assert stored["post-6120000303"]["parent"] == "post-6120000202"
    assert stored["post-6120000101"]["parent"] == "http://blog.example/disqus-blog.html"
    assert {stored[i]["author"]["handle"] for i in expect} == {e["author"]["handle"].lower() for e in expect.values()}

    # The blog page itself has no comments and draws nothing; its own answer says so.
    top = worker.evaluate(
        """async () => {
            const [t] = await chrome.tabs.query({url: "http://blog.example/*"});
            return chrome.tabs.sendMessage(t.id, {type: "page-state"});
        }"""
    )
    assert top["frame"] is False and top["counts"]["badges"] == 0


def test_the_popup_counts_what_the_disqus_frame_captured(browser, live_server):
    ctx, worker = browser
    ctx.route(re.compile(r"^https://disqus\.com/embed/comments/"),
              lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8",
                                          body=FRAME_PAGE.read_bytes()))
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto(BLOG_URL)
    frame_state(worker, ok=lambda s: s["counts"]["scored"] >= COMMENTS)
    page.bring_to_front()
    press_toolbar_button(ctx, page)
    popup = open_popup(ctx)
    # The blog page itself found no comments; the frame's own counts are shown beside it.
    popup.wait_for_selector(f"#frames-state:has-text('{COMMENTS} comments captured from disqus.com in this page;')")
    assert "No comments recognised on this page." in popup.locator("#page-state").text_content()
    assert popup.locator("#embed").is_hidden()  # disqus.com is already on: nothing to offer
