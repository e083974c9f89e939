"""Steps the extension tests share: driving the options page and popup as a user would, and
reading what the content script drew (closed shadow roots are readable only from the extension's
side, which is the point of them)."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

from server.app import CHROME_EXTENSION_ID

THREAD_URL = "http://blog.example/extension-thread.html"
WP_URL = "http://blog.example/wordpress-post.html"


def ext_url(page: str) -> str:
    return f"chrome-extension://{CHROME_EXTENSION_ID}/{page}"


def set_server(ctx, server_url: str):
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.fill("#server", server_url)
    opts.click("#server-form button[type=submit]")
    opts.wait_for_selector("#server-msg:has-text('Saved')")
    opts.close()


def pair_in_options(ctx, live_server, keep_open=False):
    """Options page: 'Pair with server' shows a code; the dashboard's /pair page lists the same
    code and the user approves it; the options page then says it is paired (and stays open with
    keep_open)."""
    opts = ctx.new_page()
    opts.goto(ext_url("options.html"))
    opts.fill("#server", live_server.url)
    opts.click("#server-form button[type=submit]")
    opts.wait_for_selector("#server-msg:has-text('Saved')")
    opts.click("#pair-button")
    code = opts.wait_for_selector("#pair-code:not([hidden])").text_content()
    dash = ctx.new_page()
    dash.goto(f"{live_server.url}/pair")
    dash.locator("li.request", has_text=code).locator("button.approve").click()
    dash.wait_for_load_state()
    try:
        opts.wait_for_selector("#pair-state:text-is('Paired with the server.')", timeout=20000)
    except Exception as exc:
        raise AssertionError(
            f"Options never said paired: state {opts.text_content('#pair-state')!r}, "
            f"message {opts.text_content('#pair-msg')!r}; the pairing page after approving: "
            f"{dash.url} {dash.text_content('body')[:400]!r}; the server's last lines: "
            f"{''.join(live_server.lines[-15:])}") from exc
    dash.close()
    if not keep_open:
        opts.close()


def states(worker) -> list[dict]:
    return worker.evaluate(
        """async () => {
            const out = [];
            for (const t of await chrome.tabs.query({})) {
                try { const s = await chrome.tabs.sendMessage(t.id, {type: "page-state"}); if (s) out.push(s); }
                catch (e) { /* no content script in that tab */ }
            }
            return out;
        }"""
    )


def wait_state(worker, url_part: str, ok, timeout=30.0, what="page state") -> dict:
    """Polls the content script of the tab whose address contains url_part until ok(state)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        for s in states(worker):
            if url_part in s.get("url", ""):
                last = s
                if ok(s):
                    return s
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached; last state: {json.dumps(last)[:3000]}")


def scored(n):
    return lambda s: sum(b["state"] == "scored" for b in s["badges"]) >= n


def stored_items(data_dir) -> list[dict]:
    docs = []
    for f in sorted((data_dir / "items").glob("shard-*.json")):
        for table in json.loads(f.read_text()).values():
            docs.extend(table.values())
    return docs


def token_of(worker) -> str:
    return worker.evaluate("async () => (await chrome.storage.local.get('token')).token")


def token_status(live_server, token: str) -> int:
    """What the server answers a private call made with this token: 200, or 401 once revoked."""
    req = urllib.request.Request(f"{live_server.url}/api/people", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def api_scores(live_server, token: str, ids: list[str]) -> dict:
    q = urllib.parse.urlencode([("id", i) for i in ids])
    req = urllib.request.Request(f"{live_server.url}/api/scores?{q}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["scores"]


def open_popup(ctx):
    """The popup as a page of its own: it describes the tab the user was on last."""
    popup = ctx.new_page()
    popup.goto(ext_url("popup.html"))
    return popup


def press_toolbar_button(ctx, page):
    """What a click on the extension's toolbar button does for `page`'s tab: the browser lends the
    extension that tab (activeTab), even on a site that is not turned on. The popup it opens is not
    reachable from Playwright; open_popup afterwards shows the same page."""
    cdp = ctx.browser.new_browser_cdp_session()
    try:
        tabs = cdp.send("Target.getTargets", {"filter": [{"type": "tab"}]})["targetInfos"]
        tab = next(t for t in tabs if t["url"] == page.url)
        cdp.send("Extensions.triggerAction", {"id": CHROME_EXTENSION_ID, "targetId": tab["targetId"]})
    finally:
        cdp.detach()


def registered(worker) -> dict[str, dict]:
    """The content scripts the worker registered, by id."""
    return {s["id"]: s for s in worker.evaluate("() => chrome.scripting.getRegisteredContentScripts()")}


def frames_running(worker, url_part: str) -> dict[str, bool]:
    """For the tab whose address contains url_part: each frame the extension may read, by host,
    and whether the content script runs in it. Frames of sites not granted are not listed."""
    return worker.evaluate(
        """async (part) => {
            const tab = (await chrome.tabs.query({})).find((t) => (t.url || "").includes(part));
            if (!tab) return null;
            const res = await chrome.scripting.executeScript({target: {tabId: tab.id, allFrames: true},
                func: () => [location.host, Boolean(globalThis.__cloutlensStarted)]});
            return Object.fromEntries(res.map((r) => r.result));
        }""",
        url_part,
    )


def no_content_script(worker, url_part: str, settle=2.0) -> bool:
    """True if, for `settle` seconds, no content script answers from a tab at url_part."""
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        if any(url_part in s.get("url", "") for s in states(worker)):
            return False
        time.sleep(0.2)
    return True
