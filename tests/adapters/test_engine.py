"""The rule helpers both engines share (numbers, times, URLs, text, ids), checked on a table: the
Python results against the expected values, and extension/extract.js (under node) against Python.
Adapter choice is checked in Chromium, since it needs a DOM."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from bs4 import BeautifulSoup

from adapter_support import CORPUS, EXTRACT_JS, FIXTURES, fixture_html, read_page
from server import extract as engine
from server.extract import (clean, extract_html, hash64, load_adapters, parse_count, parse_date_text, parse_html, parse_time,
                            pick_adapter, resolve_url, same_tree, site_of)

COUNTS = [
    ("1.2k", 1200), ("1.2K likes", 1200), ("3,456 points", 3456), ("12", 12), ("1.5M", 1500000),
    ("2.9k", 2900), ("1.1k", 1100), ("9,120 views", 9120), ("0", 0), ("12 members", 12),
    ("no votes", None), ("", None), ("364", 364), ("52.1k", 52100), ("2 000 000 000 000", None),
    ("99999999999", None),
    # thousands set apart by spaces, as French and others print them (was 1)
    ("1 234", 1234), ("1\u202f234 J'aime", 1234), ("12\u00a0345 vues", 12345), ("5 2024", 5),
    # a score below zero is no count of reactions (a downvoted answer's -1 was one upvote)
    ("-1", 0), ("\u22123", 0), ("score -7", 0),
]
TIMES = [
    ("2019-08-03T04:11:57+00:00", "2019-08-03T04:11:57Z"),
    ("2020-10-22T17:17:43+08:00", "2020-10-22T09:17:43Z"),
    ("2014-02-06 20:37:20Z", "2014-02-06T20:37:20Z"),
    ("2014-02-07 10:53:03Z, License: CC BY-SA 3.0", "2014-02-07T10:53:03Z"),
    ("2026-06-01T00:51:16 1780275076", "2026-06-01T00:51:16Z"),
    ("2025-01-14T21:03:11.000000+0000", "2025-01-14T21:03:11Z"),
    ("2025-03-10T20:00:00-05:30", "2025-03-11T01:30:00Z"),
    ("1739302200000", "2025-02-11T19:30:00Z"),
    ("1780268390", "2026-05-31T22:59:50Z"),
    ("2024-02-29", "2024-02-29T00:00:00Z"),
    ("2023-02-29", None), ("2025-02-30T00:00:00Z", None), ("2025-13-01", None),
    ("1980-01-01", None), ("yesterday", None), ("Feb 7, 2014 at 10:53", None), ("", None),
]
BASE = "https://blog.example/2025/07/post/?p=1#c"
URLS = [
    ("javascript:alert(1)", BASE, None), ("JavaScript:alert(1)", BASE, None), ("mailto:a@b.c", BASE, None),
    ("data:text/html,x", BASE, None), ("//cdn.example/a.png", BASE, "https://cdn.example/a.png"),
    ("/u/x", BASE, "https://blog.example/u/x"), ("/a/../b/./c", BASE, "https://blog.example/b/c"),
    ("?page=2", BASE, "https://blog.example/2025/07/post/?page=2"),
    ("#comment-5", BASE, "https://blog.example/2025/07/post/?p=1#comment-5"),
    ("../other/", BASE, "https://blog.example/2025/07/other/"),
    ("reply", BASE, "https://blog.example/2025/07/post/reply"),
    ("  https://x.example/a b  ", None, "https://x.example/a b"),
    ("https://web.archive.org/web/20160330101229/http://muffinrezept.net/x/", None, "http://muffinrezept.net/x/"),
    ("relative/only", None, None), ("https://ok.example/\n\tpath", None, "https://ok.example/path"),
    ("", BASE, None),
]
# Dates as blog themes print them: the corpus's three forms, other languages, and what must give
# nothing (either way round, impossible, relative, no year, a reply link's text).
DATE_TEXTS = [
    ("14/04/2020 at 3:00 pm", "2020-04-14T15:00:00Z"), ("8. April 2019 @ 11:38", "2019-04-08T11:38:00Z"),
    ("Juli 30, 2013 um 2:33 pm", "2013-07-30T14:33:00Z"), ("04.05.2020 14:07", "2020-05-04T14:07:00Z"),
    ("12 d\u00e9cembre 2021 \u00e0 15h30", "2021-12-12T15:30:00Z"), ("March 3rd, 2021 at 12:05 am", "2021-03-03T00:05:00Z"),
    ("12. M\u00e4rz 2022", "2022-03-12T00:00:00Z"), ("2019/04/08", "2019-04-08T00:00:00Z"),
    ("8 de abril de 2019 a las 9:05", "2019-04-08T09:05:00Z"), ("11/25/2021 12:00 PM", "2021-11-25T12:00:00Z"),
    ("5 ao\u00fbt 2020", "2020-08-05T00:00:00Z"), ("01.02.99", "1999-02-01T00:00:00Z"), ("1.2.03", "2003-02-01T00:00:00Z"), ("04/05/2020", None), ("29/02/2021", None),
    ("13/13/2020", None), ("3 days ago", None), ("April 8", None), ("Antworten", None), ("", None),
    ("25:00 1 May 2020", None), ("1 May 2020 13:00 pm", None), ("x" * 81, None),
]
SITES = [("https://www.Reddit.com/r/x", "reddit.com"), ("http://127.0.0.1:5000/x", "127.0.0.1"),
         ("https://user@news.ycombinator.com/item", "news.ycombinator.com"), ("file:///x.html", ""), (None, "")]
CLEANS = ["\u202eevil\u202c  name", " a\u00a0\u00a0b\u2003c \n", "tab\there", "\x1b[31mred\x1b[0m", "\ufeffbom"]
HASHES = ["", "Mallory\nhello", "Inès 😀 \U0001F600 ünïcode", "x" * 500]


def test_python_helpers():
    assert [parse_count(s) for s, _ in COUNTS] == [n for _, n in COUNTS]
    assert [parse_time(s) for s, _ in TIMES] == [t for _, t in TIMES]
    assert [parse_date_text(s) for s, _ in DATE_TEXTS] == [t for _, t in DATE_TEXTS]
    assert [resolve_url(h, b) for h, b, _ in URLS] == [u for *_, u in URLS]
    assert [site_of(u) for u, _ in SITES] == [s for _, s in SITES]
    assert [clean(s) for s in CLEANS] == ["evil name", "a b c", "tab here", "[31mred[0m", "bom"]
    assert len({hash64(s) for s in HASHES}) == len(HASHES)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_js_helpers_match_python():
    table = {
        "counts": [s for s, _ in COUNTS], "times": [s for s, _ in TIMES], "dates": [s for s, _ in DATE_TEXTS],
        "urls": [[h, b] for h, b, _ in URLS], "sites": [u for u, _ in SITES],
        "cleans": CLEANS, "hashes": HASHES,
    }
    script = """
const E = require(process.argv[1]);
const t = JSON.parse(require("fs").readFileSync(0, "utf8"));
const I = E._internal;
console.log(JSON.stringify({
  counts: t.counts.map(I.parseCount), times: t.times.map(I.parseTime), dates: t.dates.map(I.parseDateText),
  urls: t.urls.map(([h, b]) => I.resolveUrl(h, b)), sites: t.sites.map(I.siteOf),
  cleans: t.cleans.map(I.clean), hashes: t.hashes.map(I.hash64),
}));
"""
    out = subprocess.run(["node", "-e", script, str(EXTRACT_JS)], input=json.dumps(table), text=True,
                         capture_output=True, check=True, timeout=60)
    js = json.loads(out.stdout)
    assert js["counts"] == [parse_count(s) for s in table["counts"]]
    assert js["times"] == [parse_time(s) for s in table["times"]]
    assert js["dates"] == [parse_date_text(s) for s in table["dates"]]
    assert js["urls"] == [resolve_url(h, b) for h, b in table["urls"]]
    assert js["sites"] == [site_of(u) for u in table["sites"]]
    assert js["cleans"] == [clean(s) for s in CLEANS]
    assert js["hashes"] == [hash64(s) for s in HASHES]


def test_adapter_files_are_well_formed():
    adapters = load_adapters()
    names = [a["name"] for a in adapters]
    assert len(names) == len(set(names))
    assert names[-1] == "generic"  # the fallback is tried last
    for a in adapters:
        assert isinstance(a.get("hosts"), list) and a.get("detect"), a["name"]
        for spec in a.get("items", []):
            assert spec["select"] and spec.get("kind", "comment") == "comment"
            assert spec.get("parent", {"by": "nesting"})["by"] in ("nesting", "depth", "ref", "none")


def pick(html, url):
    a = pick_adapter(load_adapters(), parse_html(html), url)
    return a and a["name"]


def test_pick_adapter_by_host_by_markup_and_never_across_hosts():
    empty = "<html><head><title>x</title></head><body></body></html>"
    # A known host wins before its comments have rendered (single-page apps).
    assert pick(empty, "https://x.com/someone/status/1") == "x"
    assert pick(empty, "https://old.reddit.com/r/x/") == "reddit"
    assert pick(empty, "https://blog.example/") is None
    hn_markup = '<table><tr class="athing comtr" id="1"><td><a class="hnuser" href="user?id=a">a</a></td></tr></table>'
    # Markup that only a host-bound adapter knows is not trusted on another host...
    assert pick(hn_markup, "https://blog.example/post") is None
    # ...but identifies a saved page that does not say where it came from.
    assert pick(hn_markup, None) == "hackernews"
    # Markup-only adapters (WordPress) and custom-domain sites (Substack) are found on any host.
    assert pick(fixture_html("wordpress-hostile.html"), "https://other.example/p") == "wordpress"
    assert pick(fixture_html("substack.html"), "https://www.customdomain.example/p/x") == "substack"


def test_extract_html_with_named_adapter_and_unknown_page():
    cap, used = extract_html(fixture_html("wordpress-hostile.html"), adapter_name="generic")
    assert used == "generic" and cap["items"] == []
    cap, used = extract_html("<p>nothing here</p>", url="https://blog.example/a")
    assert used is None and cap["items"] == [] and cap["page"]["site"] == "blog.example"


@pytest.mark.browser
def test_js_pick_adapter_by_host(run_js):
    empty = "<html><head><title>x</title></head><body></body></html>"
    assert run_js(empty, "https://x.com/a/status/1")["name"] == "x"
    assert run_js(empty, "https://blog.example/")["name"] is None
    hn_markup = '<table><tr class="athing comtr" id="1"><td><a class="hnuser" href="user?id=a">a</a></td></tr></table>'
    assert run_js(hn_markup, "https://blog.example/post")["name"] is None
    assert run_js(hn_markup, None)["name"] == "hackernews"


# parse_html builds the tree itself (bs4's builder is the slow half of an import); the tree must be
# the one bs4 builds, node for node, field for field, whether the page comes as bytes or text.
PAGES = sorted(CORPUS.glob("*/*.html")) + sorted(FIXTURES.glob("*.html"))


@pytest.mark.parametrize("path", PAGES, ids=[p.name for p in PAGES])
def test_parse_html_builds_the_tree_bs4_builds(path):
    assert engine._builder_ok()  # not silently falling back to bs4
    raw = path.read_bytes()
    for html in (raw, read_page(path)):
        assert same_tree(parse_html(html), BeautifulSoup(html, "lxml", multi_valued_attributes=None))


@pytest.mark.parametrize("html", [
    b"", b"plain text", "caf\u00e9 <b>x</b>".encode("cp1252"), b"\xef\xbb\xbf<p>bom</p>",
    "<p>\u00e9t\u00e9</p>".encode("utf-16"), b"<p>a<p>b</div></span><table><td>c", b"<pre>\n\n x</pre>  \n ",
    b"<html><head><meta http-equiv=content-type content='text/html; charset=iso-8859-1'></head>\xe9",
    "\ufeff<p>text with a BOM</p>", "<svg><foreignObject><p>x</p></foreignObject></svg><math><mi>y</mi></math>",
])
def test_parse_html_odd_inputs(html):
    assert same_tree(parse_html(html), BeautifulSoup(html, "lxml", multi_valued_attributes=None))


def test_same_tree_notices_a_difference():
    a, b = parse_html(b"<p class=x>one</p><p>two</p>"), parse_html(b"<p class=x>one</p><p>two</p>")
    assert same_tree(a, b)
    b.find_all("p")[1].string.replace_with("zwei")
    assert not same_tree(a, b)


def test_a_thumbs_down_is_no_reaction_to_count():
    # 40 thumbs down on a pull request scored as 40 more reactions of approval
    html = fixture_html("github-pr-classic.html")
    heart = '<button type="submit" name="input[content]" value="HEART react"'
    down = ('<button type="submit" name="input[content]" value="THUMBS_DOWN react" class="social-reaction-summary-item '
            'js-reaction-group-button btn-link"><g-emoji alias="-1">&#128078;</g-emoji>'
            '<span class="js-discussion-reaction-group-count">40</span></button>')
    assert heart in html
    capture, _ = extract_html(html.replace(heart, down + heart, 1))
    reactions = [i["reactions"] for i in capture["items"] if i.get("reactions")]
    assert reactions and all("-1" not in r and 40 not in r.values() for r in reactions)


def _wordpress_thread(*names: str) -> str:
    def comment(n, name):
        return (f'<li id="comment-{n}" class="comment depth-1"><article id="div-comment-{n}" class="comment-body">'
                f'<footer class="comment-meta"><div class="comment-author vcard"><b class="fn">{name}</b> '
                f'<span class="says">says:</span></div></footer><div class="comment-content"><p>Thoughts {n}</p>'
                '</div></article></li>')
    return ('<html><head><link rel="canonical" href="https://blog.example/p"></head><body><ol class="comment-list">'
            + "".join(comment(n, name) for n, name in enumerate(names, 1)) + '</ol></body></html>')


@pytest.mark.browser
def test_a_name_the_server_would_read_as_nothing_is_nobody_in_both_engines(run_js):
    # "@ @" or a zero-width space and an at sign: the server refused the whole capture over it
    from server.contract import validate_capture
    html = _wordpress_thread("@ @", "Bob", "\u200b@", "@\u00ad@")
    capture, _ = extract_html(html)
    assert [i["author"]["handle"] for i in capture["items"]] == ["Bob"]
    assert run_js(html)["capture"] == capture
    assert validate_capture(capture)["items"][0]["author"]["handle"] == "bob"


def test_an_anonymous_wordpress_commenter_is_nobody():
    # every nameless commenter of a blog merged into one person, "anonymous"
    html = _wordpress_thread("Anonymous", "Bob", "anonymous")
    capture, adapter = extract_html(html)
    assert adapter == "wordpress"
    assert [i["author"]["handle"].lower() for i in capture["items"] if i["kind"] == "comment"] == ["bob"]


@pytest.mark.parametrize("text,order", [
    ("posted 14/04/2020, then 09/06/2020", "dmy"), ("12/25/2020 and 01/02/2021", "mdy"),
    ("09/06/2020 only", None), ("14/04/2020 and 12/25/2020", None),  # none either way, or both
    ("8.6.2020 and 2020-06-09", None),  # dots are day first anyway; a year first says nothing
])
def test_a_page_says_which_way_round_it_prints_dates(text, order):
    assert engine.page_date_order(text) == order
    assert parse_date_text("09/06/2020", order) == {"dmy": "2020-06-09T00:00:00Z", "mdy": "2020-09-06T00:00:00Z",
                                                    None: None}[order]


def test_a_page_address_over_the_contracts_length_is_named_without_its_query_in_both_engines(run_js):
    # tracking parameters made a blog post's address 3,000 characters long: the server refused
    # every capture of the page
    from server.contract import validate_capture
    html = _wordpress_thread("Bob", "Cat")
    url = "https://blog.example/2026/post/?utm_source=" + "a" * 3000
    capture, _ = extract_html(html, url=url)
    assert capture["page"]["url"] == "https://blog.example/2026/post/"
    assert run_js(html, url)["capture"] == capture
    assert validate_capture(capture)["page"]["url"] == "https://blog.example/2026/post/"
