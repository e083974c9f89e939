"""Unpairing from Options ends the pairing on the server too: the old token stops working there,
not only in the browser (a copied token would otherwise stay valid for ever)."""
from __future__ import annotations

import pytest

from e2e.ext_steps import ext_url, pair_in_options, token_of, token_status

pytestmark = pytest.mark.browser


def test_unpair_in_options_revokes_the_token_on_the_server(browser, live_server):
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    token = token_of(worker)
    assert token and token_status(live_server, token) == 200
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.click("#unpair")
    opts.wait_for_selector("#pair-msg:has-text('no longer accepts the token')")
    assert token_of(worker) is None
    assert token_status(live_server, token) == 401
    dash = ctx.new_page()
    dash.goto(f"{live_server.url}/pair")
    assert dash.locator("li.client").count() == 0
