"""One Chromium per test module, for running extension/extract.js on the pages the Python
engine reads. (Not per session: Playwright's sync API allows one instance at a time in a thread,
and other suites start their own.)"""
from __future__ import annotations

import os

import pytest

from adapter_support import CHROMIUM, EXTRACT_JS


@pytest.fixture(scope="module")
def chromium():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


_RUN = """([src, adapters, url, name]) => {
  (0, eval)(src);
  const E = globalThis.CloutlensExtract;
  const a = name ? adapters.find((x) => x.name === name) : E.pickAdapter(adapters, document, url);
  if (!a) return {name: null, capture: null, names: []};
  const t0 = performance.now();
  const r = E.extract(document, a, url);
  const ms = performance.now() - t0;
  return {name: a.name, capture: r.capture, ms,
          names: r.names.map((n) => [n.itemId, n.handle, n.element.textContent.replace(/\\s+/g, " ").trim()])};
}"""


@pytest.fixture(scope="module")
def js_page(chromium):
    # Page scripts stay off: saved pages carry ad and tracking scripts that would rewrite the DOM
    # (document.write) and differ from run to run. extract.js is evaluated through the DevTools
    # protocol, which works with page scripts disabled.
    ctx = chromium.new_context(java_script_enabled=False)
    ctx.route("**/*", lambda route: route.abort())
    page = ctx.new_page()
    yield page
    ctx.close()


@pytest.fixture(scope="module")
def run_js(js_page):
    from server.extract import load_adapters

    src = EXTRACT_JS.read_text(encoding="utf-8")
    adapters = load_adapters()

    def run(html: str, url: str | None = None, adapter: str | None = None) -> dict:
        js_page.set_content(html, wait_until="domcontentloaded")
        return js_page.evaluate(_RUN, [src, adapters, url, adapter])

    return run

