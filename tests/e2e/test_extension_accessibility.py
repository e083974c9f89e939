"""The popup and the options page as a keyboard and a screen reader meet them, in real Chromium
with the real extension: axe-core (a devDependency, from node_modules) finds nothing, and pairing
by keyboard keeps the focus on the page (the button pressed goes away) and reads the code out
(it shows in a live region that was there from the start)."""
from __future__ import annotations

import pytest

from ext_steps import ext_url, set_server
from helpers import AXE, axe_violations

pytestmark = pytest.mark.browser

def test_axe_finds_nothing_in_the_popup_and_options(browser, live_server):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run `npm ci` (it is a devDependency)")
    ctx, worker = browser
    set_server(ctx, live_server.url)
    found = {}
    for scheme in ("light", "dark"):
        for name in ("popup.html", "options.html"):
            page = ctx.new_page()
            page.emulate_media(color_scheme=scheme)
            page.goto(ext_url(name))
            page.wait_for_selector("#pair-button:visible")
            found[f"{name} {scheme}"] = axe_violations(page)
            page.close()
    assert {k: v for k, v in found.items() if v} == {}


def live(page, selector) -> bool:
    return page.evaluate(f"""() => Boolean(document.querySelector({selector!r}).closest('[role=status], [aria-live]'))""")


@pytest.mark.parametrize("where, next_focus", [("popup.html", "pair-link"), ("options.html", "pair-cancel")])
def test_pairing_by_keyboard_keeps_the_focus_and_reads_the_code_out(browser, live_server, where, next_focus):
    ctx, worker = browser
    set_server(ctx, live_server.url)
    page = ctx.new_page()
    page.goto(ext_url(where))
    page.wait_for_selector("#pair-button:visible")
    page.focus("#pair-button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#pair-code:visible")
    # the button pressed is gone: the focus went on to what follows, not to the page's top
    page.wait_for_function(f"document.activeElement.id === {next_focus!r}")
    assert live(page, "#pair-code") and live(page, "#pair-help")
    page.close()
