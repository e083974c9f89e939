"""The whole path, every part real: a WordPress page in Chromium, the unpacked extension, the
`cloutlens serve` process, pairing approved on the dashboard, badges next to every commenter, and
the items in the TinyDB file."""
from __future__ import annotations

import time
import urllib.parse

import pytest

from ext_steps import ext_url, pair_in_options, set_server, states, stored_items
from test_extension_badges import page_reads_nothing
from server.app import CHROME_EXTENSION_ID

pytestmark = pytest.mark.browser

POST_URL = "http://blog.example/wordpress-post.html"


def pair_through_ui(ctx, live_server):
    """Popup: 'Pair with server' shows a code; dashboard: the same code, Approve; popup: paired."""
    popup = ctx.new_page()
    popup.goto(ext_url("popup.html"))
    popup.click("#pair-button")
    code = popup.wait_for_selector("#pair-code:not([hidden])").text_content()
    assert code and len(code) == 7
    dash = ctx.new_page()
    dash.goto(f"{live_server.url}/pair")
    request = dash.locator("li.request", has_text=code)
    assert request.count() == 1, "the dashboard must show the code the extension shows"
    request.locator("button.approve").click()
    dash.wait_for_load_state()
    popup.wait_for_selector("#server-state:has-text('Paired')", timeout=10000)
    assert any(code in line for line in live_server.lines), "the terminal must show the pairing code too"
    dash.close()
    popup.close()


def wait_for_badges(worker, want: int, timeout=15.0) -> dict:
    deadline = time.monotonic() + timeout
    found = []
    while time.monotonic() < deadline:
        found = [s for s in states(worker) if s.get("adapter")]
        if found and sum(b["state"] == "scored" for b in found[0]["badges"]) >= want:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"badges did not appear: {found}")


def test_capture_score_and_badges_end_to_end(browser, live_server):
    ctx, worker = browser
    assert CHROME_EXTENSION_ID in worker.url, "the manifest key must pin the extension id"
    set_server(ctx, live_server.url)
    pair_through_ui(ctx, live_server)

    page = ctx.new_page()
    page.goto(POST_URL)
    state = wait_for_badges(worker, want=6)
    assert state["adapter"] == "wordpress"
    badges = state["badges"]
    # One badge after every comment author's name (5 comments) and the post's byline.
    assert len(badges) == 6
    assert all(b["state"] == "scored" and b["text"].isdigit() and 1 <= int(b["text"]) <= 100 for b in badges)
    assert sorted(b["identity"] for b in badges) == sorted([
        "blog.example:martin waxman", "blog.example:anna rydne", "blog.example:martin waxman",
        "blog.example:gini dietrich", 'blog.example:<img src=x onerror="window.__pwned=1">',
        "blog.example:gini dietrich",
    ])
    # One annotation per person: both of Gini's badges show the same score.
    gini = {b["text"] for b in badges if b["identity"] == "blog.example:gini dietrich"}
    assert len(gini) == 1
    for b in badges:
        assert b["label"].startswith("Cloutlens score ") and b["identity"] in b["label"]
        assert b["identity"] in b["card"]

    # Hostile names and text stayed text: nothing ran.
    assert page.evaluate("window.__pwned") is None
    # The page sees the badge hosts but none of their content, whatever it tries.
    seen_by_page = page.evaluate(
        """() => [...document.querySelectorAll('.fn')].map(fn => {
              const host = fn.nextElementSibling;
              return host && host.tagName === 'SPAN' ? {root: host.shadowRoot, text: host.textContent} : 'none';
           })"""
    )
    assert all(s != "none" and s["root"] is None and s["text"] == "" for s in seen_by_page)
    page_reads_nothing(page, badges)

    # The items are in the TinyDB file, durably, with the hostile name stored as text.
    stored = stored_items(live_server.data_dir)
    ids = {doc["id"] for doc in stored}
    assert {"comment-101", "comment-102", "comment-103", "comment-104", "comment-105"} <= ids
    replies = {doc["id"]: doc["parent"] for doc in stored}
    assert replies["comment-102"] == "comment-101"
    hostile = next(doc for doc in stored if doc["id"] == "comment-104")
    assert hostile["author"]["name"] == '<img src=x onerror="window.__pwned=1">'

    # Capturing the same page again stores nothing new.
    page.reload()
    wait_for_badges(worker, want=6)
    assert len(stored_items(live_server.data_dir)) == len(stored)


def wait_for_all(worker, state: str, timeout=15.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    badges = []
    while time.monotonic() < deadline:
        found = [s for s in states(worker) if s.get("adapter")]
        badges = found[0]["badges"] if found else []
        if badges and all(b["state"] == state for b in badges):
            return badges
        time.sleep(0.2)
    raise AssertionError(f"badges never all became {state!r}: {badges}")


def test_badges_say_plainly_when_the_server_is_down(browser, live_server):
    ctx, worker = browser
    set_server(ctx, live_server.url)
    pair_through_ui(ctx, live_server)
    live_server.stop()
    page = ctx.new_page()
    page.goto(POST_URL)
    badges = wait_for_all(worker, "offline")
    assert all("not running" in b["label"] for b in badges)
    # with the command that starts it where the extension looks (this test's server is on its own port)
    port = urllib.parse.urlsplit(live_server.url).port
    assert port != 7317 and all(f"start it with: cloutlens serve --port {port})" in b["label"] for b in badges), badges[0]["label"]


def test_unpaired_extension_gets_no_scores_and_its_captures_wait_for_pairing(browser, live_server):
    ctx, worker = browser
    set_server(ctx, live_server.url)
    page = ctx.new_page()
    page.goto(POST_URL)
    badges = wait_for_all(worker, "unpaired")
    assert stored_items(live_server.data_dir) == []
    assert "wait until then" in badges[0]["label"]
    # pairing sends what the page captured, and the open page gets its scores without a reload
    pair_in_options(ctx, live_server)
    wait_for_all(worker, "scored", timeout=30)
    assert len(stored_items(live_server.data_dir)) > 0
