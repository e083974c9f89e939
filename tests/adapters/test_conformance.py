"""Both engines, one page, the same items: extension/extract.js in real Chromium against
server/extract.py, on every corpus page and every fixture page.

Pages are listed from the folders, so a new fixture is covered without touching this file.
"""
from __future__ import annotations

import pytest

from adapter_support import CORPUS, FIXTURES, dump, read_page
from server.extract import extract, load_adapters, parse_html, pick_adapter

CORPUS_PAGES = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.glob("*/*.html")) if CORPUS.exists() else []
FIXTURE_PAGES = sorted(p.name for p in FIXTURES.glob("*.html"))
# Pages whose address is not in the markup (a frame's document) get it as the extension would.
FIXTURE_URLS = {
    "disqus.html": "https://disqus.com/embed/comments/?base=default&f=coastaltrails&t_i=2188"
                   "&t_u=https%3A%2F%2Fcoastaltrails.example%2F2024%2Fcliff-walk%2F&t_d=Cliff%20walk",
}


def python_side(html: str, url=None):
    adapters = load_adapters()
    soup = parse_html(html)
    adapter = pick_adapter(adapters, soup, url)
    assert adapter is not None, "no adapter picked"
    capture, names = extract(soup, adapter, url)
    names = [[n["itemId"], n["handle"], " ".join(n["element"].get_text().split())] for n in names]
    return adapter["name"], capture, names


def compare(run_js, html, url=None):
    name, capture, names = python_side(html, url)
    js = run_js(html, url)
    assert js["name"] == name
    assert capture["items"], "the page should yield items"
    if js["capture"] != capture:
        # Show the first differing item rather than two walls of JSON.
        for a, b in zip(js["capture"]["items"], capture["items"]):
            assert dump(a) == dump(b)
        assert js["capture"]["page"] == capture["page"]
        assert len(js["capture"]["items"]) == len(capture["items"])
    # The badge anchors: same items, same handles, the same element (compared by its text).
    assert js["names"] == names


@pytest.mark.browser
@pytest.mark.corpus
@pytest.mark.parametrize("rel", CORPUS_PAGES or [pytest.param("", marks=pytest.mark.skip(
    reason="../shared/corpus is not beside the checkout"))])
def test_corpus_conformance(run_js, rel):
    compare(run_js, read_page(CORPUS / rel))


@pytest.mark.browser
@pytest.mark.parametrize("name", FIXTURE_PAGES or [pytest.param("", marks=pytest.mark.skip(reason="no fixtures yet"))])
def test_fixture_conformance(run_js, name):
    compare(run_js, read_page(FIXTURES / name), FIXTURE_URLS.get(name))

