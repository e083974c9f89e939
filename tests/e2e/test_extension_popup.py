"""The popup and the options page in real Chromium: server down (and how to start it), not
paired (the link to approve the code), paired with this page's counts in plain words and a link to
the dashboard; the per-site switch (off gives the site's permission back), the exclude list,
view-only mode and the badge style, each checked by what the content script then does and what the
server stores; every text readable in light and dark mode; Options' site buttons named by site."""
from __future__ import annotations

import re
import socket

import pytest

from ext_steps import (THREAD_URL, WP_URL, ext_url, no_content_script, pair_in_options, press_toolbar_button,
                       registered, scored, set_server, stored_items, wait_state)

pytestmark = pytest.mark.browser


def open_popup(ctx):
    popup = ctx.new_page()
    popup.goto(ext_url("popup.html"))
    return popup


def test_popup_says_how_to_start_a_server_that_is_down(browser, live_server):
    ctx, worker = browser
    set_server(ctx, live_server.url)
    live_server.stop()
    popup = open_popup(ctx)
    popup.wait_for_selector("#server-state:has-text('not running')")
    assert popup.locator("#server-help").is_visible()
    port = live_server.url.rsplit(":", 1)[1]
    # the command that starts a server where the extension looks for it, on this test's port; no
    # other command without it (a `python -m server.cli serve` started one on 7317)
    assert popup.locator("#server-help code").all_text_contents() == [f"cloutlens serve --port {port}"]
    assert popup.locator("#dashboard-link").is_hidden(), "no link to a dashboard that is not running"
    assert not popup.locator("#pairing").is_visible()
    # A server started on another port than the one set is set in Options: the popup says so
    # and links there, so a user whose server runs elsewhere is not stuck.
    assert "another port? Set its address in Options." in popup.locator("#server-help").text_content()
    link = popup.locator("#server-help a", has_text="Options")
    assert link.is_visible() and link.get_attribute("href") == "options.html"
    with ctx.expect_page() as opened:
        link.click()
    opts = opened.value
    opts.wait_for_selector("#pair-state:has-text('not running')", timeout=15000)
    assert opts.url == ext_url("options.html")
    said = opts.locator("#pair-state").text_content()
    assert f"start it with: cloutlens serve --port {port}." in said
    assert "another port? Enter its address under Server above" in said


def test_popup_offers_pairing_until_paired_then_reports_this_page(browser, live_server):
    ctx, worker = browser
    set_server(ctx, live_server.url)
    popup = open_popup(ctx)
    popup.wait_for_selector("#pair-button:visible")
    assert "Paired" not in popup.locator("#server-state").text_content()
    # The code is approved on the configured server's pairing page, one click away.
    popup.click("#pair-button")
    code = popup.wait_for_selector("#pair-code:not([hidden])").text_content()
    link = popup.locator("#pair-help a")
    assert link.get_attribute("href") == link.text_content() == f"{live_server.url}/pair"
    with ctx.expect_page() as opened:
        link.click()
    approve = opened.value
    approve.wait_for_load_state()
    assert approve.url == f"{live_server.url}/pair"
    popup.close()
    # Options shows the same code (one request per extension) with the same link.
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.wait_for_selector(f"#pair-code:text-is('{code}')")
    assert opts.locator("#pair-help a").get_attribute("href") == f"{live_server.url}/pair"
    # Approved on the page the link opened.
    approve.locator("li.request", has_text=code).locator("button.approve").click()
    opts.wait_for_selector("#pair-state:text-is('Paired with the server.')", timeout=20000)
    assert opts.locator("#pair-help").is_hidden()
    approve.close()
    opts.close()

    page = ctx.new_page()
    page.goto(WP_URL)
    wait_state(worker, "wordpress-post", scored(6))
    popup = open_popup(ctx)
    said = popup.wait_for_selector("#server-state:has-text('Paired')").text_content()
    assert re.fullmatch(r"Server running \(\d+ comments and posts, \d+ people\)\. Paired\.", said), said
    assert not popup.locator("#pairing").is_visible()
    text = popup.wait_for_selector("#page-state:has-text('people scored')").text_content()
    people = len({b["identity"] for b in wait_state(worker, "wordpress-post", scored(6))["badges"]})
    # Five comments (the post is captured too, but nobody counts it as a comment), in the site's
    # own name, no "items" or "adapter".
    assert text == f"5 comments captured on this WordPress page; {people} of {people} people scored."
    assert popup.locator("#site-toggle").is_checked()
    assert "blog.example" in popup.locator("#site-toggle-text").text_content()
    dash = popup.locator("a", has_text="Open dashboard")
    assert dash.get_attribute("href") == f"{live_server.url}/"
    with ctx.expect_page() as opened:
        dash.click()
    opened.value.wait_for_load_state()
    assert opened.value.url == f"{live_server.url}/"
    popup.close()

    # View-only: the comments the page has, and that none is captured.
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.check("#view-only")
    opts.wait_for_selector("#behaviour-msg:has-text('view-only')")
    page.bring_to_front()
    page.reload()
    wait_state(worker, "wordpress-post", lambda s: not s["capture"] and scored(6)(s))
    popup = open_popup(ctx)
    text = popup.wait_for_selector("#page-state:has-text('View-only')").text_content()
    assert text == f"View-only: 5 comments on this WordPress page, none captured; {people} of {people} people scored."


def test_site_switch_off_takes_the_permission_back(browser, live_server):
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto(WP_URL)
    wait_state(worker, "wordpress-post", scored(6))
    before = len(stored_items(live_server.data_dir))

    popup = open_popup(ctx)
    popup.wait_for_selector("#page-state:has-text('comments captured')")
    popup.locator("#site-toggle").uncheck()
    popup.wait_for_selector("#site-msg:has-text('off for blog.example')")
    # The open page drops its badges at once.
    off = wait_state(worker, "wordpress-post", lambda s: not s["enabled"] and not s["badges"], what="badges removed")
    assert off["reason"] == "not turned on for this site"
    assert not worker.evaluate("() => chrome.permissions.contains({origins: ['*://blog.example/*']})")
    assert "site:*://blog.example/*" not in registered(worker)
    assert "site:*://news.example/*" in registered(worker), "other sites stay on"
    popup.close()

    # Another page on the same site: no content script at all, nothing sent.
    page.goto(THREAD_URL)
    assert no_content_script(worker, "extension-thread")
    assert len(stored_items(live_server.data_dir)) == before

    # The options page no longer lists the site; the popup offers to turn it on, which is the
    # browser's prompt (headless Chromium leaves it unanswered: test_site_permissions.py grants
    # the way a user's answer does).
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.wait_for_selector("li.granted[data-host='news.example']")
    assert opts.locator("li.granted[data-host='blog.example']").count() == 0
    opts.close()
    page.bring_to_front()
    press_toolbar_button(ctx, page)
    popup = open_popup(ctx)
    popup.wait_for_selector("#page-state:has-text('not turned on for blog.example')")
    assert not popup.locator("#site-toggle").is_checked()
    popup.locator("#site-toggle").check()
    popup.wait_for_selector("#site-msg:has-text('Waiting for your browser')")


def test_exclude_list_keeps_cloutlens_off_a_site(browser, live_server):
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.fill("#exclude", "news.example\n*.blog.example\nblog.example")
    opts.click("#exclude-form button[type=submit]")
    opts.wait_for_selector("#exclude-msg:has-text('Saved: news.example, blog.example')")
    page = ctx.new_page()
    page.goto(WP_URL)
    s = wait_state(worker, "wordpress-post", lambda s: s["reason"] != "starting")
    assert s["reason"] == 'excluded by "blog.example"' and s["badges"] == []
    popup = open_popup(ctx)
    popup.wait_for_selector("#site-toggle-text:has-text('exclude list')")
    assert popup.locator("#site-toggle").is_disabled()
    assert stored_items(live_server.data_dir) == []


def test_options_keep_what_the_user_set_while_the_page_was_loading(browser, live_server):
    """The options page fills its fields once the worker answers, which waits on the server;
    whatever the user typed, ticked or chose meanwhile stays and is what gets saved."""
    ctx, worker = browser
    # A server that accepts the connection and never answers: the page's load takes the worker's
    # whole request timeout, long enough to do everything below before it ends.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        worker.evaluate("url => chrome.storage.local.set({server: url})", f"http://127.0.0.1:{silent.getsockname()[1]}")
        opts = ctx.new_page()
        opts.goto(ext_url("options.html"))
        opts.fill("#exclude", "news.example")
        opts.fill("#server", live_server.url)
        opts.check("#view-only")
        opts.wait_for_selector("#behaviour-msg:has-text('view-only')")
        opts.wait_for_selector("#pair-state:has-text('not running')", timeout=15000)
    assert opts.input_value("#exclude") == "news.example"
    assert opts.input_value("#server") == live_server.url
    assert opts.is_checked("#view-only")
    opts.click("#exclude-form button[type=submit]")
    opts.wait_for_selector("#exclude-msg:text-is('Saved: news.example')")
    opts.click("#server-form button[type=submit]")
    opts.wait_for_selector(f"#server-msg:text-is('Saved: {live_server.url}')")
    opts.wait_for_selector("#pair-state:text-is('Not paired.')")
    saved = worker.evaluate("() => chrome.storage.local.get(null)")
    assert saved["server"] == live_server.url
    assert saved["settings"]["exclude"] == ["news.example"] and saved["settings"]["viewOnly"] is True


def test_view_only_shows_badges_and_stores_nothing(browser, live_server):
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    # Captured once, normally: these people now have scores.
    page = ctx.new_page()
    page.goto(THREAD_URL)
    captured = wait_state(worker, "extension-thread", scored(8))
    stored = len(stored_items(live_server.data_dir))
    assert stored == 8

    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.check("#view-only")
    opts.wait_for_selector("#behaviour-msg:has-text('view-only')")
    opts.select_option("#badge-style", "dot")
    opts.wait_for_selector("#behaviour-msg:has-text('dot badges')")

    # A new page: badges for the known people, unknown ones say so, nothing reaches the store.
    page.goto(WP_URL)
    s = wait_state(worker, "wordpress-post", lambda s: len(s["badges"]) == 6 and all(b["state"] == "none" for b in s["badges"]))
    assert s["capture"] is False and s["items"] == 0
    # none of them was ever captured: no score, and the badge says view-only is why (7a0dfa7)
    assert all("view-only mode stores nothing" in b["label"] for b in s["badges"]), s["badges"]
    assert len(stored_items(live_server.data_dir)) == stored

    # The first page again: scores come back although nothing is sent, drawn as dots.
    page.goto(THREAD_URL)
    again = wait_state(worker, "extension-thread", scored(8))
    assert again["stats"]["captures"] == 0
    assert len(stored_items(live_server.data_dir)) == stored
    assert {b["style"] for b in again["badges"]} == {"dot"}
    assert {b["identity"]: b["text"] for b in again["badges"]} == {b["identity"]: b["text"] for b in captured["badges"]}
    assert all(b["label"].startswith("Cloutlens score ") for b in again["badges"])


def test_popup_counts_the_people_on_the_page_when_there_are_no_scores(browser, live_server):
    """Not paired, then the server down: the page shows a badge per person, each waiting, and the
    popup counts them (it said "0 of 0 people scored"), in the right number ("1 captures wait")."""
    ctx, worker = browser
    set_server(ctx, live_server.url)
    page = ctx.new_page()
    page.goto(THREAD_URL)
    s = wait_state(worker, "extension-thread", lambda s: len(s["badges"]) == 8 and all(b["state"] == "unpaired" for b in s["badges"]))
    people = len({b["identity"] for b in s["badges"]})
    assert people > 1
    popup = open_popup(ctx)
    text = popup.wait_for_selector("#page-state:has-text('people scored')").text_content()
    # Seven comments and the post were captured; what they wait for is the user, not the server.
    assert text == (f"7 comments captured on this WordPress page; 0 of {people} people scored. "
                    "1 capture waits until you pair Cloutlens with the server (above).")
    assert popup.locator("#queue-state").text_content() == "8 comments and posts wait to be sent to the server."
    popup.click("#pair-button")
    popup.wait_for_selector("#page-state:has-text('1 capture waits for you to approve the pairing code above.')")
    popup.close()

    live_server.stop()
    page.reload()
    s = wait_state(worker, "extension-thread", lambda s: len(s["badges"]) == 8 and all(b["state"] == "offline" for b in s["badges"]))
    popup = open_popup(ctx)
    popup.wait_for_selector("#server-state:has-text('not running')")
    text = popup.wait_for_selector("#page-state:has-text('people scored')").text_content()
    assert text == f"7 comments captured on this WordPress page; 0 of {people} people scored. 2 captures wait for the server."


# Every visible text of the page with its colour's contrast on what is behind it (WCAG 2's
# ratio): the nearest background an element or its parents paint, else the browser's own
# (Canvas: white, or #121212 in Chromium's dark mode). Form controls paint their own.
CONTRASTS = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = (c) => {
    const [r, g, b] = rgb(c).map((v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const probe = document.createElement("div");
  probe.style.backgroundColor = "Canvas";
  document.body.append(probe);
  const canvas = getComputedStyle(probe).backgroundColor;
  probe.remove();
  const behind = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return getComputedStyle(el).backgroundColor;
    }
    return canvas;
  };
  const texts = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest("button, select, textarea, input, script") || !el.checkVisibility()) continue;
    const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.data).join("").trim();
    if (!text) continue;
    const fg = lum(getComputedStyle(el).color), bg = lum(behind(el));
    texts.push({ el: el.id || el.tagName, text: text.slice(0, 50), color: getComputedStyle(el).color,
                 ratio: (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05) });
  }
  return { canvas, body: getComputedStyle(document.body).color, texts };
}"""


def assert_readable(page, what, instructions=()):
    for scheme, canvas in (("dark", "rgb(18, 18, 18)"), ("light", "rgb(255, 255, 255)")):
        page.emulate_media(color_scheme=scheme)
        seen = page.evaluate(CONTRASTS)
        assert seen["canvas"] == canvas, f"{what}: not in {scheme} mode"
        low = [t for t in seen["texts"] if t["ratio"] < 4.5]
        assert not low, f"{what} in {scheme} mode: text under 4.5:1: {low}"
        # Steps to follow are in the body's colour, not the faint one.
        for sel in instructions:
            assert page.locator(sel).is_visible(), f"{what}: {sel} not shown"
            assert page.eval_on_selector(sel, "e => getComputedStyle(e).color") == seen["body"], f"{what}: {sel} is faint"


def test_popup_and_options_read_in_light_and_dark_mode(browser, live_server):
    """Every text at 4.5:1 or more on the browser's background, light and dark: the faint grey
    and the server-down red were 3.9:1 and 2.9:1 on Chromium's dark #121212. How to pair and
    how to start the server are not in the faint style."""
    ctx, worker = browser
    set_server(ctx, live_server.url)
    page = ctx.new_page()
    page.goto(THREAD_URL)
    wait_state(worker, "extension-thread", lambda s: len(s["badges"]) == 8)
    popup = open_popup(ctx)
    popup.click("#pair-button")
    popup.wait_for_selector("#pair-help:visible")
    popup.wait_for_selector("#page-state:has-text('people scored')")
    assert_readable(popup, "popup, pairing", ["#pair-help"])
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.wait_for_selector("#pair-help:visible")
    assert_readable(opts, "options, pairing", ["#pair-help"])

    live_server.stop()
    popup.reload()
    popup.wait_for_selector("#server-state[data-ok=false]:has-text('not running')")
    assert_readable(popup, "popup, server down", ["#server-help"])
    opts.reload()
    opts.wait_for_selector("#pair-state:has-text('not running')", timeout=15000)
    assert_readable(opts, "options, server down", ["#pair-state"])


def test_options_names_each_sites_button_and_hides_an_empty_list(browser, live_server):
    ctx, worker = browser
    set_server(ctx, live_server.url)
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.wait_for_selector("li.granted[data-host='blog.example']")
    # Read alone (a screen reader's list of buttons), each Remove says which site it removes.
    for host in ("blog.example", "news.example"):
        assert opts.get_by_role("button", name=f"Remove {host}", exact=True).count() == 1
    assert opts.get_by_role("button", name="Remove", exact=True).count() == 0
    assert "adapter" not in opts.locator("body").inner_text()
    # No site turned off under a wider grant: the list and its heading are not shown at all
    # (they said "None." on every visit).
    off_heading = opts.get_by_text("Turned off although your browser still grants them")
    assert off_heading.is_hidden()
    assert opts.get_by_text("None.", exact=True).count() == 0

    opts.evaluate("() => chrome.runtime.sendMessage({type: 'set-settings', change: {site: {host: 'blog.example', enabled: false}}})")
    opts.reload()
    opts.wait_for_selector("li.site[data-host='blog.example']")
    assert off_heading.is_visible()
    on = opts.get_by_role("button", name="Turn blog.example back on", exact=True)
    on.click()
    opts.wait_for_selector("li.site[data-host='blog.example']", state="detached")
    assert off_heading.is_hidden()
