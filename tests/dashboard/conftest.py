"""Dashboard fixtures: the hand-written data set captured through the real API; for the browser
tests, a real `cloutlens serve --demo` over it and Debian's Chromium, one of each per module."""
from __future__ import annotations

import pytest

from dash_data import blog_page, news_page
from dash_server import DemoServer, write_data
from e2e.conftest import CHROMIUM, require_chromium


@pytest.fixture
def seeded(client, auth):
    for page in (blog_page(), news_page()):
        r = client.post("/api/capture", json=page, headers=auth)
        assert r.status_code == 200, r.json
    return client


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    data_dir = tmp_path_factory.mktemp("dash") / "data"
    write_data(data_dir)
    srv = DemoServer(data_dir)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def chromium():
    require_chromium()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()
