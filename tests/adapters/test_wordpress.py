"""WordPress: the core comment markup and its theme variants, on real captured pages.

Expected counts were read off the pages (li.comment elements and their depth-N classes). The reply
structure is checked against the depth classes WordPress prints, an oracle independent of the
nesting the adapter reads.
"""
from __future__ import annotations

import re

import pytest

from adapter_support import corpus_html
from scoring.items import ITEM_SCHEMA
from server.contract import validate_capture
from server.extract import extract_html

from bs4 import BeautifulSoup
from jsonschema import Draft202012Validator

_validator = Draft202012Validator(ITEM_SCHEMA)
REPLY_WORDS = {"reply", "antworten", "says:", "sagt:", "cancel reply"}


def depth_oracle(html: str) -> dict[str, tuple[str | None, int]]:
    """comment id -> (expected parent comment id or None, depth), from `depth-N` classes in
    document order: a depth-N comment answers the last comment seen at depth N-1."""
    out = {}
    last_at: dict[int, str] = {}
    # a sidebar's "recent comments" widget lists other posts' comments in the same markup
    html = re.sub(r"<aside\b[^>]*\bwidget\b.*?</aside>", "", html, flags=re.S)
    for m in re.finditer(r"<li\b[^>]*>", html):
        tag = m.group(0)
        cls = re.search(r'class="([^"]*)"', tag)
        ident = re.search(r'id="(?:li-)?(comment-\d+)"', tag)
        if not cls or not ident or "comment" not in cls.group(1).split():
            continue
        depth = int(re.search(r"depth-(\d+)", cls.group(1)).group(1))
        out[ident.group(1)] = (last_at.get(depth - 1) if depth > 1 else None, depth)
        last_at[depth] = ident.group(1)
    return out


def check_common(capture, adapter, expected_comments, post_id):
    assert adapter == "wordpress"
    items = capture["items"]
    for it in items:
        assert not list(_validator.iter_errors(it)), it
        assert it["author"]["handle"].strip().lower() not in REPLY_WORDS
        assert "<" not in it["author"]["name"]
    comments = [i for i in items if i["kind"] == "comment"]
    assert len(comments) == expected_comments
    assert len({c["id"] for c in comments}) == expected_comments
    posts = [i for i in items if i["kind"] == "post"]
    assert all(p["id"] == post_id for p in posts)
    validate_capture(capture)  # the server would accept it as is
    return comments


@pytest.mark.corpus
@pytest.mark.parametrize("page, n, post_id, post_author, depths", [
    ("lemire-json", 5, "post-17725", "Daniel Lemire", {1: 3, 2: 2}),
    ("foxyfolksy-buttercream", 80, "post-10742", "Bebs", {1: 39, 2: 37, 3: 3, 4: 1}),
    ("muffinrezept-grundrezept", 51, "post-239", None, {1: 42, 2: 8, 3: 1}),
    ("flawlessfood-olive", 24, "post-4669", "Kay", {1: 13, 2: 11}),
    # 54, not 59: five are the sidebar's excerpts of comments on other posts (aside.widget)
    ("spektrum-engelbart", 54, "post-1568", "Henning Lobin", {1: 53, 2: 1}),
])
def test_corpus_page(page, n, post_id, post_author, depths):
    html = corpus_html(f"wordpress/{page}.html")
    capture, adapter = extract_html(html)
    comments = check_common(capture, adapter, n, post_id)
    oracle = depth_oracle(html)
    assert set(oracle) == {c["id"] for c in comments}
    seen_depths: dict[int, int] = {}
    for c in comments:
        parent, depth = oracle[c["id"]]
        assert c["parent"] == (parent or post_id), c["id"]
        seen_depths[depth] = seen_depths.get(depth, 0) + 1
    assert seen_depths == depths
    posts = [i for i in capture["items"] if i["kind"] == "post"]
    if post_author:
        assert [p["author"]["name"] for p in posts] == [post_author]
    else:
        assert posts == []  # this theme prints no author for the post
    # Every comment has words, and none of them is a "Reply" link or the author line.
    for c in comments:
        assert c["text"]
        assert not re.search(r"(^|\n)(Reply|Antworten)$", c["text"]), c["id"]


@pytest.mark.corpus
def test_lemire_details():
    capture, _ = extract_html(corpus_html("wordpress/lemire-json.html"))
    assert capture["page"] == {
        "url": "https://lemire.me/blog/2019/08/02/json-parsing-simdjson-vs-json-for-modern-c/",
        "title": "JSON parsing: simdjson vs. JSON for Modern C++ – Daniel Lemire's blog",
        "site": "lemire.me",
    }
    by_id = {i["id"]: i for i in capture["items"]}
    first = by_id["comment-421882"]
    assert first["author"] == {"handle": "degski", "name": "degski", "url": "http://example.com"}
    assert first["at"] == "2019-08-03T04:11:57Z"
    assert first["url"].endswith("/json-parsing-simdjson-vs-json-for-modern-c/#comment-421882")
    # Two paragraphs stay two lines; the "degski says:" line and the Reply link are not text.
    assert first["text"].startswith("Thanks, for posting this.\nThat is well a mega difference")
    assert "says" not in first["text"] and "Reply" not in first["text"]
    assert by_id["comment-422257"]["parent"] == "comment-422240"
    assert by_id["comment-422257"]["author"]["name"] == "Daniel Lemire"


@pytest.mark.corpus
def test_time_zone_converted_to_utc():
    capture, _ = extract_html(corpus_html("wordpress/foxyfolksy-buttercream.html"))
    by_id = {i["id"]: i for i in capture["items"]}
    # <time datetime="2020-10-22T17:17:43+08:00">
    assert by_id["comment-67526"]["at"] == "2020-10-22T09:17:43Z"


@pytest.mark.corpus
@pytest.mark.parametrize("page,comment,printed,at", [
    ("flawlessfood-olive.html", "comment-1167", "14/04/2020 at 3:00 pm", "2020-04-14T15:00:00Z"),
    ("spektrum-engelbart.html", "comment-2772", "8. April 2019 @ 11:38", "2019-04-08T11:38:00Z"),
    # either way round alone; the page's "14/04/2020" says days come first (it was left undated)
    ("flawlessfood-olive.html", "comment-1788", "09/06/2020 at 1:53 pm", "2020-06-09T13:53:00Z"),
    ("muffinrezept-grundrezept.html", "comment-143", "Juli 30, 2013 um 2:33 pm", "2013-07-30T14:33:00Z"),
])
def test_dates_printed_only_as_text_are_read(page, comment, printed, at):
    """Three of the corpus's themes print a comment's date only as text (no datetime attribute):
    undated, those comments were stored as new whenever the page was first opened."""
    html = corpus_html(f"wordpress/{page}")
    shown = BeautifulSoup(html, "html.parser").select_one(f"#{comment}, #li-{comment}")
    assert printed in " ".join(shown.get_text().split()) and "datetime" not in str(shown.select_one("time") or "")
    capture, _ = extract_html(html)
    assert {i["id"]: i for i in capture["items"]}[comment]["at"] == at
    comments = [i for i in capture["items"] if i["kind"] == "comment"]
    assert sum(1 for i in comments if i.get("at")) >= 0.9 * len(comments)


@pytest.mark.corpus
def test_wayback_capture_reports_the_original_site():
    capture, _ = extract_html(corpus_html("wordpress/muffinrezept-grundrezept.html"))
    assert capture["page"]["url"] == "http://muffinrezept.net/muffin-grundrezept/"
    assert capture["page"]["site"] == "muffinrezept.net"
    by_id = {i["id"]: i for i in capture["items"]}
    assert by_id["comment-143"]["author"]["name"] == "sarah"
    assert by_id["comment-143"]["text"] == "Warum 2mal Zucker ?:-)"


@pytest.mark.corpus
def test_a_space_after_the_at_sign_still_names_a_commenter():
    # German blogs write "@ Dietmar Hilsebein": one mention was found on the page, then four
    capture, _ = extract_html(corpus_html("wordpress/spektrum-engelbart.html"))
    mentions = {i["id"]: i.get("mentions") for i in capture["items"] if i.get("mentions")}
    assert mentions["comment-2794"] == ["Dietmar Hilsebein"] and mentions["comment-2819"] == ["Henning Lobin"]
    assert mentions["comment-2814"] == ["MayaZi"]


@pytest.mark.corpus
def test_a_surname_alone_or_after_an_honorific_names_a_commenter():
    # SciLogs commenters address each other as "@Holzherr", "@ Webbaer", "@ Dr. Webbaer" or
    # "@ Herr Dietmar Hilsebein": four mentions were found on the page, now nine. Read off the
    # page: each is the only commenter of that surname (or first name, after "Herr").
    capture, _ = extract_html(corpus_html("wordpress/spektrum-engelbart.html"))
    mentions = {i["id"]: i.get("mentions") for i in capture["items"] if i.get("mentions")}
    assert mentions == {
        "comment-2783": ["Dr. Webbaer"],  # "@ Webbaer"
        "comment-2786": ["Martin Holzherr"],  # "@Holzherr/weiter unten @alle": no one is "alle"
        # "@ Hilsebein" in Dietmar Hilsebein's own comment: it names him; scoring drops self-mentions
        "comment-2792": ["Dietmar Hilsebein"],
        "comment-2794": ["Dietmar Hilsebein"],
        "comment-2797": ["Dietmar Hilsebein"],  # "@ Herr Dietmar Hilsebein"
        "comment-2799": ["Dr. Webbaer"],  # "@ Dr. Webbaer"
        "comment-2814": ["MayaZi"],
        "comment-2817": ["Ingo Herzke"],
        "comment-2819": ["Henning Lobin"],
    }
    # "@webbear" (2791) is misspelt and lower-case: no guess
    assert "comment-2791" not in mentions
