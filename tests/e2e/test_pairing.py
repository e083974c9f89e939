"""Pairing in real Chromium, from the popup and from Options: one pending request per extension
(a second start shows the code already waiting, so the code the user approves is the one the
extension waits for), Pair hidden and Cancel offered while it waits, and Unpair only when there
is a token, saying why when the server could not revoke it."""
from __future__ import annotations

import socket
import time
import urllib.request

import pytest

from e2e.conftest import LiveServer
from ext_steps import ext_url, open_popup, pair_in_options, set_server, token_of, token_status

pytestmark = pytest.mark.browser


def pending_codes(ctx, live_server) -> list[str]:
    """The codes the dashboard's /pair page offers to approve."""
    dash = ctx.new_page()
    dash.goto(f"{live_server.url}/pair")
    codes = [c.strip() for c in dash.locator("li.request").all_text_contents()]
    dash.close()
    return codes


def test_pairing_started_in_the_popup_and_in_options_is_one_request(browser, live_server):
    ctx, worker = browser
    set_server(ctx, live_server.url)
    popup = open_popup(ctx)
    popup.click("#pair-button")
    code = popup.wait_for_selector("#pair-code:not([hidden])").text_content()
    assert not popup.locator("#pair-button").is_visible()

    # Options, opened while the popup's code waits: the same code, no second "Pair with server",
    # and the same after a reload.
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    for _ in range(2):
        opts.wait_for_selector("#pair-state:has-text('waiting for you to approve the code below')")
        assert opts.locator("#pair-code").text_content() == code
        assert not opts.locator("#pair-button").is_visible()
        assert opts.locator("#pair-cancel").is_visible()
        assert not opts.locator("#unpair").is_visible(), "no token yet: nothing to unpair"
        opts.reload()

    # Starting again anyway (a second popup, a page that still showed the button) reuses it.
    again = opts.evaluate("() => chrome.runtime.sendMessage({type: 'pair-start'})")
    assert again["ok"] and again["result"]["code"] == code and again["result"]["reused"] is True
    popup2 = open_popup(ctx)
    assert popup2.wait_for_selector("#pair-code:not([hidden])").text_content() == code
    assert not popup2.locator("#pair-button").is_visible()
    popup2.close()
    assert len([c for c in pending_codes(ctx, live_server) if code in c]) == 1
    assert len(pending_codes(ctx, live_server)) == 1, "one approvable code, not one per click"

    # The user approves the code the popup showed: both pages end up paired, the token works.
    dash = ctx.new_page()
    dash.goto(f"{live_server.url}/pair")
    dash.locator("li.request", has_text=code).locator("button.approve").click()
    dash.wait_for_load_state()
    opts.wait_for_selector("#pair-state:text-is('Paired with the server.')", timeout=20000)
    popup.wait_for_selector("#server-state:has-text('Paired')", timeout=20000)
    token = token_of(worker)
    assert token and token_status(live_server, token) == 200
    assert not opts.locator("#pair-msg").text_content().startswith("Pairing "), "no 'expired' from the second poller"
    dash.goto(f"{live_server.url}/pair")
    assert dash.locator("li.client").count() == 1, "no paired client whose token nobody holds"
    assert opts.locator("#unpair").is_visible() and not opts.locator("#pair-cancel").is_visible()


def test_a_pending_pairing_is_cancelled_not_unpaired(browser, live_server):
    ctx, worker = browser
    set_server(ctx, live_server.url)
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.click("#pair-button")
    code = opts.wait_for_selector("#pair-code:not([hidden])").text_content()
    first = worker.evaluate("async () => (await chrome.storage.local.get('pairing')).pairing.request")
    assert not opts.locator("#unpair").is_visible()

    listed = lambda: urllib.request.urlopen(f"{live_server.url}/pair", timeout=10).read().decode()  # noqa: E731
    assert code in listed()
    opts.click("#pair-cancel")
    msg = opts.wait_for_selector("#pair-msg:has-text('Pairing cancelled')").text_content()
    # withdrawn on the server too: the code can no longer be approved into a token nobody holds
    assert code in msg and "withdrawn from the server's pairing page" in msg
    assert code not in listed()
    assert "could not be reached" not in msg and "Token deleted" not in msg
    assert worker.evaluate("async () => (await chrome.storage.local.get('pairing')).pairing") is None
    opts.wait_for_selector("#pair-state:text-is('Not paired.')")
    assert opts.locator("#pair-button").is_visible()
    assert not opts.locator("#pair-cancel").is_visible() and not opts.locator("#unpair").is_visible()
    assert not opts.locator("#pair-code").is_visible()
    opts.wait_for_timeout(1500)  # a poll after the cancel must not report "Pairing none"
    assert "Pairing none" not in opts.locator("body").inner_text()

    # Pair again: a new request, which the extension then waits for.
    opts.click("#pair-button")
    opts.wait_for_selector("#pair-code:not([hidden])")
    assert worker.evaluate("async () => (await chrome.storage.local.get('pairing')).pairing.request") != first

    # With no token, the worker says so rather than blaming the server.
    r = opts.evaluate("() => chrome.runtime.sendMessage({type: 'unpair'})")
    assert r["ok"] and r["result"] == {"revoked": False, "reason": "no-token"}


def test_unpair_says_when_the_server_could_not_be_reached(browser, live_server):
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.wait_for_selector("#unpair:visible")
    assert not opts.locator("#pair-cancel").is_visible()
    live_server.stop()
    opts.click("#unpair")
    opts.wait_for_selector("#pair-msg:has-text('the server could not be reached: revoke it on its pairing page')")
    assert token_of(worker) is None
    assert not opts.locator("#unpair").is_visible()


def test_a_late_answer_from_the_old_server_does_not_undo_the_pairing_shown(browser, live_server):
    """Options opened while the saved server hangs: its status call answers (timed out) only after
    the user has saved the right server, paired and approved. That late answer must not replace
    what the page shows; it once said "not running" and stopped polling, and the page never said
    paired (a CI run's failure)."""
    ctx, worker = browser
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)  # connections are accepted by the kernel and never answered
    try:
        set_server(ctx, f"http://127.0.0.1:{hung.getsockname()[1]}")
        opened = time.monotonic()
        pair_in_options(ctx, live_server, keep_open=True)
        opts = next(p for p in ctx.pages if p.url.endswith("options.html"))
        # past the worker's 5 s request timeout, with room: the late answer has come by now
        time.sleep(max(0.0, opened + 7.0 - time.monotonic()))
        assert opts.text_content("#pair-state") == "Paired with the server."
        assert opts.locator("#unpair").is_visible()
        assert token_status(live_server, token_of(worker)) == 200
    finally:
        hung.close()


def test_options_notices_the_server_once_it_is_started(browser, tmp_path):
    """The page said "not running, start it with ..."; the user starts it: the page sees it
    without a reload."""
    ctx, worker = browser
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    set_server(ctx, f"http://127.0.0.1:{port}")
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.wait_for_selector("#pair-state:has-text('is not running')")
    server = LiveServer(tmp_path / "data", port=port)
    try:
        opts.wait_for_selector("#pair-state:text-is('Not paired.')", timeout=15000)
        assert opts.locator("#pair-button").is_visible()
    finally:
        server.stop()
