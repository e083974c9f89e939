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
    popup.wait_for_selector("#queue-state:has-text('14 captured items wait to be sent')")
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
