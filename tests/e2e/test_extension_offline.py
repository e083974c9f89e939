"""The offline queue in real Chromium: with the server unreachable, badges say so and captures
wait in extension storage; when it is back, they are sent once each, in order, however many
flushes are triggered at the same time. A counting proxy in front of the real server sees every
request the extension makes."""
from __future__ import annotations

import http.client
import http.server
import json
import threading
import time

import pytest

from ext_steps import THREAD_URL, WP_URL, ext_url, pair_in_options, set_server, stored_items, wait_state

pytestmark = pytest.mark.browser


class CountingProxy:
    """Forwards to the live server and records each capture request's item ids."""

    def __init__(self, target_port: int, port: int = 0):
        self.target_port = target_port
        self.captures: list[list[str]] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "POST" and self.path == "/api/capture":
                    proxy.captures.append([it["id"] for it in json.loads(body)["items"]])
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                headers["Host"] = f"127.0.0.1:{proxy.target_port}"
                conn = http.client.HTTPConnection("127.0.0.1", proxy.target_port, timeout=10)
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_OPTIONS = _forward

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def queue_summary(worker) -> dict:
    return worker.evaluate(
        """async () => {
            const q = (await chrome.storage.local.get('queue')).queue || {entries: [], dropped: 0};
            return {captures: q.entries.length, items: q.entries.reduce((n, e) => n + e.items, 0), dropped: q.dropped};
        }"""
    )


def test_captures_wait_while_the_server_is_down_and_are_sent_once(browser, live_server):
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    proxy = CountingProxy(live_server.port)
    set_server(ctx, proxy.url)
    port = proxy.port
    proxy.stop()  # the server is "down" as far as the extension can tell

    page = ctx.new_page()
    page.goto(WP_URL)
    down = wait_state(worker, "wordpress-post", lambda s: len(s["badges"]) == 6 and all(b["state"] == "offline" for b in s["badges"]))
    assert all("not running" in b["label"] and "wait in the queue" in b["label"] for b in down["badges"])
    page.goto(THREAD_URL)
    wait_state(worker, "extension-thread", lambda s: len(s["badges"]) == 8 and all(b["state"] == "offline" for b in s["badges"]))
    assert queue_summary(worker) == {"captures": 2, "items": 14, "dropped": 0}
    assert stored_items(live_server.data_dir) == []

    popup = ctx.new_page()
    popup.goto(ext_url("popup.html"))
    popup.wait_for_selector("#queue-state:has-text('14 comments and posts wait to be sent to the server')")
    popup.close()

    # Back on the same address. Three flushes at once must still send each capture once.
    proxy = CountingProxy(live_server.port, port)
    try:
        opts = ctx.new_page()
        opts.goto(ext_url("options.html"))
        results = opts.evaluate(
            """() => Promise.all([1, 2, 3].map(() => chrome.runtime.sendMessage({type: 'flush'})))"""
        )
        assert all(r["ok"] for r in results), results
        assert queue_summary(worker) == {"captures": 0, "items": 0, "dropped": 0}
        assert len(proxy.captures) == 2, proxy.captures
        sent = [i for c in proxy.captures for i in c]
        assert len(sent) == len(set(sent)) == 14
        assert proxy.captures[0][0] == "post-4242", "the oldest capture goes first"
        assert len(stored_items(live_server.data_dir)) == 14

        # The open page's "server not running" badges now show scores, without a reload.
        wait_state(worker, "extension-thread", lambda s: len(s["badges"]) == 8 and all(b["state"] == "scored" for b in s["badges"]),
                   what="badges rescored after the flush")

        # Nothing left: another flush sends nothing.
        opts.evaluate("() => chrome.runtime.sendMessage({type: 'flush'})")
        time.sleep(0.3)
        assert len(proxy.captures) == 2
    finally:
        proxy.stop()


def view_only(ctx):
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.check("#view-only")
    opts.wait_for_selector("#behaviour-msg:has-text('view-only')")
    opts.close()


def all_in(state, n):
    return lambda s: len(s["badges"]) == n and all(b["state"] == state for b in s["badges"])


def scored_thread(browser, live_server):
    """Paired, with the thread's eight badges scored: (context, worker, page)."""
    ctx, worker = browser
    pair_in_options(ctx, live_server)
    page = ctx.new_page()
    page.goto(THREAD_URL)
    wait_state(worker, "extension-thread", all_in("scored", 8))
    return ctx, worker, page


def test_view_only_badges_get_their_scores_once_paired_again(browser, live_server):
    """A view-only page sends nothing, so no flush of queued captures wakes it: pairing must."""
    ctx, worker, page = scored_thread(browser, live_server)
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.click("#unpair")
    opts.wait_for_selector("#pair-msg:has-text('no longer accepts the token')")
    opts.close()
    view_only(ctx)

    page.reload()
    wait_state(worker, "extension-thread", all_in("unpaired", 8), what="'?' badges while not paired")
    pair_in_options(ctx, live_server)
    # Without a reload: the "?" badges now show scores.
    s = wait_state(worker, "extension-thread", all_in("scored", 8), timeout=15, what="badges rescored after pairing")
    assert s["capture"] is False and s["stats"]["captures"] == 0


def test_view_only_badges_get_their_scores_when_the_server_is_back(browser, live_server):
    ctx, worker, page = scored_thread(browser, live_server)
    view_only(ctx)
    proxy = CountingProxy(live_server.port)
    set_server(ctx, proxy.url)
    port = proxy.port
    proxy.stop()

    page.reload()
    wait_state(worker, "extension-thread", all_in("offline", 8), what="'–' badges while the server is down")
    assert queue_summary(worker)["captures"] == 0, "view-only: nothing waits to be sent"

    proxy = CountingProxy(live_server.port, port)
    try:
        # The user opens the toolbar popup (the worker also looks every minute by itself): it
        # finds the server back, and the page's badges show scores without a reload.
        popup = ctx.new_page()
        popup.goto(ext_url("popup.html"))
        popup.wait_for_selector("#server-state:has-text('Paired')")
        wait_state(worker, "extension-thread", all_in("scored", 8), timeout=15, what="badges rescored once the server is back")
        assert proxy.captures == []
    finally:
        proxy.stop()
