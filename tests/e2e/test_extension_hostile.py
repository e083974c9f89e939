"""Pages that fight the extension, in real Chromium: names and texts a page's script writes that
no HTML parser makes (lone surrogates) next to markup and object-member names."""
from __future__ import annotations

import pytest

from ext_steps import pair_in_options, scored, stored_items, wait_state

pytestmark = pytest.mark.browser

HOSTILE_URL = "http://blog.example/extension-hostile-names.html"


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
