"""Demo mode end to end: the extension, paired with `cloutlens serve --demo`, badges the people on
the demo blog's pages with the scores the dashboard shows, and its hovercard links to their page.
A fresh install with no site granted: the demo pages are on the user's own server, reached
through the loopback permission the install asks for, with a content script of their own."""
from __future__ import annotations

import shutil
from urllib.parse import unquote

import pytest

from dash_server import DemoServer, write_data
from e2e.conftest import CHROMIUM, EXTENSION, require_chromium
from e2e.ext_steps import api_scores, pair_in_options, registered, token_of, wait_state
from server import demo
from server.storage import Store

pytestmark = pytest.mark.browser


def test_the_extension_badges_the_demo_pages(tmp_path):
    require_chromium()
    data_dir = tmp_path / "data"
    write_data(data_dir)
    store = Store(data_dir)
    try:
        posts = demo.demo_posts(store)
    finally:
        store.close()
    busiest = max(posts, key=lambda p: p["comments"])
    server = DemoServer(data_dir)
    from playwright.sync_api import sync_playwright
    try:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True,
                args=[f"--disable-extensions-except={EXTENSION}", f"--load-extension={EXTENSION}",
                      "--disable-background-networking", "--disable-component-update"])
            try:
                worker = ctx.service_workers[0] if ctx.service_workers else ctx.wait_for_event("serviceworker")
                pair_in_options(ctx, server)
                assert set(registered(worker)) == {"local-demo"}, "nothing but the demo pages is registered at install"
                before = ctx.request.get(f"{server.url}/api/status").json()["items"]
                page = ctx.new_page()
                page.goto(f"http://localhost:{server.port}/demo/{busiest['number']}")
                state = wait_state(worker, "/demo/", lambda s: sum(b["state"] == "scored" for b in s["badges"]) >= 2,
                                   timeout=45, what="scored badges on the demo page")
                badges = [b for b in state["badges"] if b["state"] == "scored"]
                # Nothing on the page was new: the demo data set already held every item of it.
                assert state["items"] >= 2
                assert ctx.request.get(f"{server.url}/api/status").json()["items"] == before
                ids = sorted({b["identity"] for b in badges})
                assert all(i.startswith(f"{demo.DEMO_BLOG}:") for i in ids)
                scores = api_scores(server, token_of(worker), ids)
                for b in badges:
                    assert scores[b["identity"]] is not None
                    assert b["text"] == str(scores[b["identity"]]["score"]), b
                # The hovercard's link opens that person's dashboard page.
                linked = next(b for b in badges if b["link"])
                assert unquote(linked["link"]).endswith("/people/" + linked["identity"])
                dash = ctx.new_page()
                assert dash.goto(linked["link"]).status == 200
            finally:
                ctx.close()
    finally:
        server.stop()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)
