"""The popup on the demo blog of `cloutlens serve --demo` (the documented first run): the demo
pages run under the loopback permission the install asks for, with no grant of their own, so
the popup shows Cloutlens on there (it showed the switch off and offered the browser's prompt
beside the page's scores), and its switch turns the demo blog off and on without any prompt."""
from __future__ import annotations

import re
import urllib.request

import pytest

from e2e.conftest import LiveServer
from ext_steps import open_popup, pair_in_options, press_toolbar_button, wait_state

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_server(tmp_path):
    server = LiveServer(tmp_path / "demo-data", ("--demo",))
    yield server
    server.stop()


def test_popup_on_the_demo_blog_shows_cloutlens_on(extension_browsers, demo_server):
    ctx, worker = extension_browsers.start(granted=())  # a fresh install: no site granted
    pair_in_options(ctx, demo_server)
    with urllib.request.urlopen(f"{demo_server.url}/demo/", timeout=10) as r:
        post = re.search(r'href="/demo/(\d+)"', r.read().decode()).group(1)
    page = ctx.new_page()
    page.goto(f"http://localhost:{demo_server.port}/demo/{post}")
    wait_state(worker, "/demo/", lambda s: s["counts"]["scoredPeople"] >= 2, timeout=45, what="scored badges")

    press_toolbar_button(ctx, page)
    popup = open_popup(ctx)
    popup.wait_for_selector("#page-state:has-text('people scored')")
    assert popup.locator("#site-toggle").is_checked()
    assert not popup.locator("#site-toggle").is_disabled()
    assert "demo blog" in popup.locator("#site-toggle-text").text_content()
    assert "asks your browser" not in popup.locator("#site-msg").text_content()

    # Off: the page drops its badges; on again: they come back, and no browser prompt is asked
    # for (an unanswered prompt would leave "Waiting for your browser's answer").
    popup.locator("#site-toggle").uncheck()
    popup.wait_for_selector("#site-msg:has-text('off for localhost')")
    off = wait_state(worker, "/demo/", lambda s: not s["enabled"] and not s["badges"], what="badges removed")
    assert off["reason"] == "turned off for this site"
    assert not popup.locator("#site-toggle").is_checked()
    popup.locator("#site-toggle").check()
    popup.wait_for_selector("#site-msg:has-text('Cloutlens is on for localhost')")
    wait_state(worker, "/demo/", lambda s: s["enabled"] and s["counts"]["scoredPeople"] >= 2, what="badges back")
    assert popup.locator("#site-toggle").is_checked()
