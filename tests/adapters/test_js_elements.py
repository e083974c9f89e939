"""extract.js's `elements` option, as the content script uses it on live pages: extracting a page
a few comments at a time gives the same items as extracting it whole (the items the Python engine
gives, by the conformance test), with the same parents, on every fixture and corpus page.

Mentions written as "@Display Name" resolve only against authors already extracted, so a slice
may know fewer of them than the whole page: there, slices must give a subset, never another name.
"""
from __future__ import annotations

import pytest

from adapter_support import CORPUS, FIXTURES, read_page
from test_conformance import CORPUS_PAGES, FIXTURE_PAGES, FIXTURE_URLS

_SLICES = """([adapters, url, size, reverse, useCache]) => {
  const E = globalThis.CloutlensExtract;
  const a = E.pickAdapter(adapters, document, url);
  const whole = E.extract(document, a, url);
  const specs = Array.isArray(a.items) ? a.items : a.items ? [a.items] : [];
  const sel = specs.map((s) => s.select).filter(Boolean).join(", ");
  const els = sel ? [...document.querySelectorAll(sel)] : [];
  const chunks = [];
  for (let i = 0; i < els.length; i += size) chunks.push(els.slice(i, i + size));
  if (reverse) chunks.reverse();
  const cache = useCache ? {} : undefined;
  const items = new Map();
  const names = new Map();
  let page = null;
  for (const chunk of chunks) {
    const r = E.extract(document, a, {url, elements: chunk, cache});
    page = r.capture.page;
    for (const it of r.capture.items) if (!items.has(it.id)) items.set(it.id, it);
    for (const n of r.names) if (!names.has(n.itemId)) names.set(n.itemId, [n.itemId, n.handle, n.element.textContent]);
  }
  const byName = specs.some((s) => [].concat(s.mentions || []).some((m) => m.byName));
  return {
    adapter: a.name, byName, page, wholePage: whole.capture.page, chunks: chunks.length,
    whole: whole.capture.items, sliced: [...items.values()],
    wholeNames: whole.names.map((n) => [n.itemId, n.handle, n.element.textContent]), slicedNames: [...names.values()],
  };
}"""


def check(js_page, adapters, html, url, size, reverse, use_cache):
    js_page.set_content(html, wait_until="domcontentloaded")
    js_page.evaluate("(src) => { (0, eval)(src); }", EXTRACT_SRC)
    r = js_page.evaluate(_SLICES, [adapters, url, size, reverse, use_cache])
    assert r["page"] == r["wholePage"] or r["chunks"] == 0
    whole = {i["id"]: i for i in r["whole"]}
    sliced = {i["id"]: i for i in r["sliced"]}
    # JSON-LD comments (generic adapter) come with the first call; every other item with its slice.
    assert set(sliced) == set(whole) or r["chunks"] == 0, (set(whole) ^ set(sliced))
    for i, item in sliced.items():
        expect = dict(whole[i])
        got = dict(item)
        if r["byName"]:
            assert set(got.pop("mentions", [])) <= set(expect.pop("mentions", [])), i
        assert got == expect, i
    assert sorted(r["slicedNames"]) == sorted(r["wholeNames"]) or r["chunks"] == 0


EXTRACT_SRC = None


@pytest.fixture(scope="module")
def adapters():
    global EXTRACT_SRC
    from adapter_support import EXTRACT_JS
    from server.extract import load_adapters
    EXTRACT_SRC = EXTRACT_JS.read_text(encoding="utf-8")
    return load_adapters()


@pytest.mark.browser
@pytest.mark.parametrize("name", FIXTURE_PAGES)
@pytest.mark.parametrize("size,reverse,use_cache", [(1, False, False), (3, True, True), (40, False, True)])
def test_fixture_pages_in_slices(js_page, adapters, name, size, reverse, use_cache):
    check(js_page, adapters, read_page(FIXTURES / name), FIXTURE_URLS.get(name), size, reverse, use_cache)


@pytest.mark.browser
@pytest.mark.corpus
@pytest.mark.parametrize("rel", CORPUS_PAGES or [pytest.param("", marks=pytest.mark.skip(
    reason="../shared/corpus is not beside the checkout"))])
def test_corpus_pages_in_slices(js_page, adapters, rel):
    check(js_page, adapters, read_page(CORPUS / rel), None, 7, True, True)


# Text read through textContent where nothing inside changes it, and walked where something does:
# names with links and inline markup, a <br>, a skipped part, a script, a leaf block.
TEXT_PAGE = """<!DOCTYPE html><html><head><title>t</title></head><body class="postid-5">
<ol class="comment-list">
<li id="comment-1" class="comment"><article class="comment-body"><footer>
 <div class="comment-author"><b class="fn"><a class="url" href="https://a.example/"><em>Ann</em>  Able</a></b>
 <span class="says">says:</span></div></footer>
 <div class="comment-content"><p>One <i>two</i><br>three</p><p>four<script>no()</script> five</p><div>six</div></div>
 <ol class="children">
 <li id="comment-2" class="comment"><article class="comment-body">
  <div class="comment-author"><cite class="fn">Bo<span class="says"> says</span> Brown</cite></div>
  <div class="comment-content">plain <span>inline</span>&nbsp;text<div class="reply"><a>Reply</a></div></div>
 </article></li></ol></article></li>
<li id="comment-3" class="comment"><div class="comment-author"><span class="fn">Cy<br>Cole</span></div>
 <div class="comment-content"><p>@Ann one<button>Like</button> two<svg><text>x</text></svg></p></div></li>
</ol></body></html>"""


@pytest.mark.browser
def test_text_read_natively_equals_the_walk(run_js):
    from test_conformance import compare
    compare(run_js, TEXT_PAGE, "https://blog.example/p/")
    js = run_js(TEXT_PAGE, "https://blog.example/p/")
    names = {i["id"]: i["author"]["name"] for i in js["capture"]["items"]}
    assert names == {"comment-1": "Ann Able", "comment-2": "Bo Brown", "comment-3": "Cy Cole"}
    text = {i["id"]: i["text"] for i in js["capture"]["items"]}
    assert text["comment-1"] == "One two\nthree\nfour five\nsix"
