"""Site permissions in real Chromium. Nothing is granted at install; a site the browser has not
granted gets no content script (no badges, nothing captured); a granted site gets a registered
content script that runs in all frames (a Disqus iframe included); removing the permission
unregisters it and the open page lets go at once; a site under a wider grant is switched off in
the settings and back on, starting the open page without a reload. The grant itself is the
browser's prompt, which headless Chromium cannot answer: these tests grant the way conftest.py
explains (a user's earlier answer, kept in the profile), and check that the click asks for it."""
from __future__ import annotations

import json
import time

import pytest

from e2e.conftest import EXTENSION, site_script_id, wait_registered
from ext_steps import (THREAD_URL, WP_URL, ext_url, frames_running, no_content_script, open_popup, pair_in_options,
                       press_toolbar_button, registered, scored, stored_items, wait_state)

pytestmark = pytest.mark.browser

NEWS_URL = "http://news.example/extension-thread.html"


def test_install_asks_for_the_local_server_only():
    m = json.loads((EXTENSION / "manifest.json").read_text())
    assert m["host_permissions"] == ["http://127.0.0.1/*", "http://localhost/*"]
    assert m["optional_host_permissions"] == ["*://*/*"]
    assert "content_scripts" not in m, "a static content script would ask for its sites at install"
    assert set(m["permissions"]) == {"storage", "alarms", "scripting", "activeTab"}


def test_only_granted_sites_get_the_content_script(extension_browsers, live_server):
    ctx, worker = extension_browsers.start(granted=("blog.example",))
    wait_registered(worker, ["blog.example"])
    pair_in_options(ctx, live_server)

    # The granted site: one registration, for exactly its pattern, in every frame, kept across
    # restarts; plus the local server's demo pages.
    scripts = registered(worker)
    assert set(scripts) == {site_script_id("blog.example"), "local-demo"}
    blog = scripts[site_script_id("blog.example")]
    assert blog["matches"] == ["*://blog.example/*"]
    assert blog["allFrames"] is True and blog["persistAcrossSessions"] is True
    assert blog["js"] == ["extract.js", "badge.js", "content.js"]
    assert sorted(worker.evaluate("() => chrome.permissions.getAll()")["origins"]) == [
        "*://blog.example/*", "http://127.0.0.1/*", "http://localhost/*"]

    # A site never granted: no content script, no badges, nothing captured; the extension cannot
    # even read the tab's address.
    news = ctx.new_page()
    news.goto(NEWS_URL)
    assert no_content_script(worker, "news.example")
    assert worker.evaluate("async () => (await chrome.tabs.query({})).filter((t) => (t.url || '').includes('news.example')).length") == 0
    assert stored_items(live_server.data_dir) == []

    # The granted site: badges and captures.
    page = ctx.new_page()
    page.goto(THREAD_URL)
    s = wait_state(worker, "blog.example/extension-thread", scored(8))
    assert s["enabled"] and s["capture"]
    assert len(stored_items(live_server.data_dir)) == 8

    # The popup, after a click on the toolbar button on each tab.
    page.bring_to_front()
    press_toolbar_button(ctx, page)
    popup = open_popup(ctx)
    popup.wait_for_selector("#page-state:has-text('7 comments captured')")
    assert popup.locator("#site-toggle").is_checked()
    assert popup.locator("#site-toggle-text").text_content() == "Cloutlens on blog.example"
    popup.close()

    news.bring_to_front()
    press_toolbar_button(ctx, news)
    popup = open_popup(ctx)
    popup.wait_for_selector("#page-state:text-is('Cloutlens is not turned on for news.example.')")
    assert not popup.locator("#site-toggle").is_checked()
    assert "asks your browser to let Cloutlens read news.example" in popup.locator("#site-msg").text_content()
    # The click goes to the browser's prompt (which nobody answers here): nothing is granted by it.
    popup.locator("#site-toggle").check()
    popup.wait_for_selector("#site-msg:has-text(\"Waiting for your browser's answer about news.example\")")
    assert not worker.evaluate("() => chrome.permissions.contains({origins: ['*://news.example/*']})")
    assert set(registered(worker)) == {site_script_id("blog.example"), "local-demo"}
    assert len(stored_items(live_server.data_dir)) == 8


def test_removing_a_site_unregisters_it_and_a_new_grant_registers_it_again(extension_browsers, live_server):
    ctx, worker = extension_browsers.start(granted=("blog.example", "news.example"))
    wait_registered(worker, ["blog.example", "news.example"])
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto(WP_URL)
    wait_state(worker, "wordpress-post", scored(6))
    stored = len(stored_items(live_server.data_dir))

    # Options lists the granted sites; Remove gives one back to the browser.
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.wait_for_selector("li.granted[data-host='news.example']")
    opts.locator("li.granted[data-host='blog.example'] button").click()
    opts.wait_for_selector("#sites-msg:has-text('no longer reads blog.example')")
    assert opts.locator("li.granted[data-host='blog.example']").count() == 0
    wait_registered(worker, ["news.example"])
    assert not worker.evaluate("() => chrome.permissions.contains({origins: ['*://blog.example/*']})")

    # The open page lets go of its badges at once; a new load gets no content script at all.
    off = wait_state(worker, "wordpress-post", lambda s: not s["enabled"] and not s["badges"], what="badges removed")
    assert off["reason"] == "not turned on for this site"
    page.goto(THREAD_URL)
    assert no_content_script(worker, "extension-thread")
    assert len(stored_items(live_server.data_dir)) == stored
    # The other site still works.
    news = ctx.new_page()
    news.goto(NEWS_URL)
    wait_state(worker, "news.example", scored(8))
    opts.close()

    # The user grants blog.example again (a restart of the same profile with the grant): the
    # worker registers it at start, and pages there get badges again.
    ctx, worker = extension_browsers.restart_granting(ctx, ("blog.example",))
    wait_registered(worker, ["blog.example", "news.example"])
    page = ctx.new_page()
    page.goto(THREAD_URL)
    wait_state(worker, "blog.example/extension-thread", scored(8))
    assert len(stored_items(live_server.data_dir)) > stored


def test_disqus_in_an_iframe(extension_browsers, live_server):
    # Only the blog granted: the embedded Disqus frame gets nothing, and the popup offers it.
    ctx, worker = extension_browsers.start(granted=("blog.example",))
    wait_registered(worker, ["blog.example"])
    page = ctx.new_page()
    page.goto(WP_URL)
    page.evaluate("""() => new Promise((done) => {
        const f = document.createElement('iframe');
        f.src = 'http://disqus.com/extension-thread.html';
        f.onload = done;
        document.body.append(f);
    })""")
    assert frames_running(worker, "wordpress-post") == {"blog.example": True}
    press_toolbar_button(ctx, page)
    popup = open_popup(ctx)
    offer = popup.wait_for_selector("#embed-button:visible")
    assert offer.text_content().startswith("Turn on disqus.com too")
    popup.close()

    # With disqus.com granted as well, the registered script runs inside the iframe too, and an
    # iframe added to an open page gets it as well.
    ctx, worker = extension_browsers.restart_granting(ctx, ("blog.example", "disqus.com"))
    wait_registered(worker, ["blog.example", "disqus.com"])
    assert registered(worker)[site_script_id("disqus.com")]["allFrames"] is True
    page = ctx.new_page()
    page.goto(WP_URL)
    wait_state(worker, "wordpress-post", lambda s: s["adapter"] is not None)
    page.evaluate("""() => new Promise((done) => {
        const f = document.createElement('iframe');
        f.src = 'http://disqus.com/extension-thread.html';
        f.onload = done;
        document.body.append(f);
    })""")
    deadline = time.monotonic() + 15
    while frames_running(worker, "wordpress-post") != {"blog.example": True, "disqus.com": True}:
        assert time.monotonic() < deadline, frames_running(worker, "wordpress-post")
        time.sleep(0.2)
    press_toolbar_button(ctx, page)
    popup = open_popup(ctx)
    popup.wait_for_selector("#page-state:has-text('comments captured')")
    assert popup.locator("#embed").is_hidden(), "nothing left to offer"


def test_a_site_under_a_wider_grant_is_switched_off_and_on_without_a_prompt(extension_browsers, live_server):
    # "*.example" granted (as a grant made in the browser's settings could be): the popup cannot
    # remove blog.example's part of it, so off is remembered in the settings; on needs no prompt
    # (the browser already grants it), and the open page starts again at once.
    ctx, worker = extension_browsers.start(granted=("*.example",))
    wait_registered(worker, ["*.example"])
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto(WP_URL)
    wait_state(worker, "wordpress-post", scored(6))

    popup = open_popup(ctx)
    popup.wait_for_selector("#page-state:has-text('comments captured')")
    popup.locator("#site-toggle").uncheck()
    popup.wait_for_selector("#site-msg:has-text('off for blog.example')")
    off = wait_state(worker, "wordpress-post", lambda s: not s["enabled"] and not s["badges"], what="badges removed")
    assert off["reason"] == "turned off for this site"
    assert worker.evaluate("() => chrome.permissions.contains({origins: ['*://blog.example/*']})"), "the wider grant stays"
    popup.close()

    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.wait_for_selector("li.site[data-host='blog.example']")
    assert opts.locator("li.granted[data-host='*.example']").count() == 1
    opts.close()

    popup = open_popup(ctx)
    popup.wait_for_selector("#page-state:has-text('turned off for this site')")
    popup.locator("#site-toggle").check()
    popup.wait_for_selector("#site-msg:text-is('Cloutlens is on for blog.example.')")
    on = wait_state(worker, "wordpress-post", scored(6), what="badges back without a reload")
    assert on["enabled"] and on["reason"] == ""
