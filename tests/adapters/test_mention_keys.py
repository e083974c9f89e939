"""Handles that are also the names of an object's built-in members ("constructor", "__proto__",
...) are handles like any other: both engines keep them as mentions, whether a mention is a link
(GitHub) or a name in the text resolved against the page's authors (WordPress). extract.js once
kept its "already seen" mentions as keys of a plain {}, where these names count as seen before
they ever are, and dropped them where server/extract.py kept them."""
from __future__ import annotations

import pytest

from adapter_support import FIXTURES, read_page
from test_conformance import compare, python_side

HANDLES = ["constructor", "toString", "valueOf", "hasOwnProperty", "__proto__"]
PR = "orchard-tools/harvest/pull/412"
MALLORY = "<img src=x onerror=alert(1)> Mallory"  # the page's "@Mallory", by her surname


def mentions(capture: dict) -> dict:
    return {i["id"]: i["mentions"] for i in capture["items"] if i.get("mentions")}


def github_page(handle: str) -> str:
    # okafor-b, whom the pull request's description mentions, becomes `handle` everywhere.
    html = read_page(FIXTURES / "github-pr-classic.html")
    for old in ("/users/okafor-b/", "https://github.com/okafor-b", "@okafor-b"):
        html = html.replace(old, old.replace("okafor-b", handle))
    return html


def wordpress_page(handle: str) -> str:
    # An author named `handle`, and a comment that names them with an "@".
    html = read_page(FIXTURES / "wordpress-hostile.html")
    assert html.count("Rel Ative") == 1 and html.count("@Wren an impossible") == 1
    return html.replace("Rel Ative", handle).replace("@Wren an impossible", f"@Wren and @{handle}, an impossible")


@pytest.mark.browser
@pytest.mark.parametrize("handle", HANDLES)
def test_a_linked_mention_named_like_a_built_in_is_kept_by_both_engines(run_js, handle):
    html = github_page(handle)
    _, capture, _ = python_side(html)
    assert mentions(capture)[PR] == [handle]
    compare(run_js, html)
    assert mentions(run_js(html)["capture"])[PR] == [handle]


@pytest.mark.browser
@pytest.mark.parametrize("handle", HANDLES)
def test_a_mention_by_name_named_like_a_built_in_is_kept_by_both_engines(run_js, handle):
    html = wordpress_page(handle)
    _, capture, _ = python_side(html)
    assert mentions(capture)["comment-9003"] == ["Wren Ashby", handle, MALLORY]
    compare(run_js, html)
    assert mentions(run_js(html)["capture"])["comment-9003"] == ["Wren Ashby", handle, MALLORY]
