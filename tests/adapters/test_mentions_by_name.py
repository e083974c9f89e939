"""Mentions by name ("@Holzherr", "@Herr Holzherr", "@Martin Holzherr") resolved to the commenters
of a page, from one table of cases (tests/fixtures/mentions-by-name.json) that the node tests read
too: server/extract.py on a WordPress page made of each case, then extension/extract.js on the same
pages in Chromium, which must give the same capture."""
from __future__ import annotations

import html
import json

import pytest

from adapter_support import REPO
from server.extract import extract_html
from test_conformance import compare

CASES = json.loads((REPO / "tests" / "fixtures" / "mentions-by-name.json").read_text(encoding="utf-8"))["cases"]
WRITER = "Zed"  # writes each case's text; a name that no case's mention could reach


def thread_page(authors: list[str], text: str) -> str:
    # Names and text go through html.escape: the page must show them as written, markup and all.
    def comment(n, name, body):
        return (f'<li id="comment-{n}" class="comment depth-1"><article id="div-comment-{n}" class="comment-body">'
                f'<footer class="comment-meta"><div class="comment-author vcard"><b class="fn">{html.escape(name)}</b> '
                f'<span class="says">says:</span></div></footer><div class="comment-content">'
                + "".join(f"<p>{html.escape(line)}</p>" for line in body.split("\n"))
                + '</div></article></li>')
    comments = [comment(n, name, f"Thoughts {n}") for n, name in enumerate(authors, 1)]
    comments.append(comment(len(authors) + 1, WRITER, text))
    return ('<html><head><link rel="canonical" href="https://blog.example/p"></head><body><ol class="comment-list">'
            + "".join(comments) + "</ol></body></html>")


def written_mentions(capture: dict) -> list[str]:
    last = capture["items"][-1]
    assert last["author"]["name"] == WRITER
    return last.get("mentions", [])


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
def test_mentions_by_name(case):
    capture, adapter = extract_html(thread_page(case["authors"], case["text"]))
    assert adapter == "wordpress"
    assert written_mentions(capture) == case["mentions"]


@pytest.mark.browser
def test_both_engines_resolve_mentions_by_name_alike(run_js):
    for case in CASES:
        page = thread_page(case["authors"], case["text"])
        compare(run_js, page)
        assert written_mentions(run_js(page)["capture"]) == case["mentions"], case["why"]
