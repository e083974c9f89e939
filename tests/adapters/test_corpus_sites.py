"""Hacker News, Reddit, Stack Exchange and GitHub on real captured pages.

Counts were read off each page. Reply structure is checked against an oracle the adapter does not
read: HN's "parent" links, Stack Exchange's per-post comment containers, reddit's thread layout.
"""
from __future__ import annotations

import re
from collections import Counter

import pytest

from adapter_support import CORPUS, corpus_html
from server.contract import validate_capture
from server.extract import extract_html

pytestmark = pytest.mark.corpus

NAV_WORDS = {"reply", "parent", "next", "prev", "permalink", "share", "edit", "flag", "hide", "report",
             "save", "context", "link", "antworten", "[–]", "[-]", "follow", "says:", "sagt:", "more"}


def by_id(capture):
    return {i["id"]: i for i in capture["items"]}


@pytest.mark.parametrize("rel", sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.glob("*/*.html"))
                         if CORPUS.exists() else [])
def test_no_navigation_taken_for_authors(rel):
    capture, adapter = extract_html(corpus_html(rel))
    assert adapter is not None
    validate_capture(capture)
    for it in capture["items"]:
        for field in (it["author"]["handle"], it["author"]["name"]):
            assert field.strip().lower() not in NAV_WORDS, (it["id"], field)
            assert "\n" not in field and len(field) <= 100
        assert it["text"] == it["text"].strip()


def test_hackernews_item_page():
    html = corpus_html("hackernews/item-48350598.html")
    capture, adapter = extract_html(html)
    assert adapter == "hackernews"
    # No canonical link in a saved HN page: the address is rebuilt from the story's id.
    assert capture["page"]["url"] == "https://news.ycombinator.com/item?id=48350598"
    assert capture["page"]["site"] == "news.ycombinator.com"
    items = by_id(capture)
    post = items["48350598"]
    assert post["kind"] == "post" and post["parent"] is None
    assert post["author"]["handle"] == "thcipriani"
    assert post["reactions"] == {"points": 148}
    assert post["text"] == "Chuwi Minibook X"
    comments = [i for i in capture["items"] if i["kind"] == "comment"]
    rows = re.findall(r'<tr class="athing comtr" id="(\d+)"', html)
    assert len(rows) == 124 and len(comments) == 124
    # Oracle: each reply row carries a "parent" link to the comment it answers.
    for row_id in rows:
        row = html[html.index(f'id="{row_id}"'):]
        row = row[: row.index('class="reply"')]
        m = re.search(r'<a href="#(\d+)" class="clicky" aria-hidden="true">parent</a>', row)
        assert items[row_id]["parent"] == (m.group(1) if m else "48350598"), row_id
    first = items["48351450"]
    assert first["author"] == {"handle": "winter_blue", "name": "winter_blue",
                               "url": "https://news.ycombinator.com/user?id=winter_blue"}
    assert first["at"] == "2026-06-01T00:51:16Z"
    assert first["text"].endswith("that's 4 to 5 years old.")
    assert "reply" not in first["text"]
    assert sum(1 for c in comments if c["parent"] == "48350598") == html.count('indent="0"')


def test_reddit_2019_redesign():
    capture, adapter = extract_html(corpus_html("reddit/reddit-2019-askreddit.html"))
    assert adapter == "reddit"
    assert capture["page"]["site"] == "reddit.com"  # www.reddit.com and old.reddit.com are one site
    items = by_id(capture)
    # 15 comments on the page; 5 are deleted (no author link) and are not items.
    assert len(items) == 10
    assert all(i["kind"] == "comment" for i in items.values())
    replies = {"t1_ehwn1nt": "t1_ehwamnx", "t1_ehx88ol": "t1_ehwha24", "t1_ehwubbo": "t1_ehwdvkc",
               "t1_ehwt27q": "t1_ehwgryj"}
    for cid, it in items.items():
        assert it["parent"] == replies.get(cid, "t3_axtih6"), cid
    first = items["t1_ehwfe48"]
    assert first["author"]["handle"] == "TheEngLife"
    assert first["reactions"] == {"points": 364}
    assert first["text"].startswith("A Miele canister vacuum.")
    assert "level 1" not in first["text"] and "ago" not in first["text"]
    assert items["t1_ehwamnx"]["reactions"] == {"points": 2900}  # "2.9k"


def test_stackexchange_question_page():
    html = corpus_html("stackexchange/german-se-ausgeraubt.html")
    capture, adapter = extract_html(html)
    assert adapter == "stackexchange"
    items = by_id(capture)
    kinds = Counter(i["id"].split("-")[0] for i in capture["items"])
    assert kinds == {"question": 1, "answer": 6, "comment": 14}
    q = items["question-10376"]
    assert q["kind"] == "post" and q["author"] == {
        "handle": "5105", "name": "user5105", "url": "https://german.stackexchange.com/users/5105/user5105"}
    assert q["at"] == "2014-02-06T20:37:20Z"
    # Oracle: comments sit in a container named after the post they belong to.
    containers = list(re.finditer(r'id="comments-(\d+)"', html))
    for n, m in enumerate(containers):
        end = containers[n + 1].start() if n + 1 < len(containers) else len(html)
        for cid in re.findall(r'data-comment-id="(\d+)"', html[m.end():end]):
            post = m.group(1)
            want = "question-10376" if post == "10376" else f"answer-{post}"
            assert items[f"comment-{cid}"]["parent"] == want
    for a in (i for i in capture["items"] if i["id"].startswith("answer-")):
        assert a["parent"] == "question-10376"
        assert a["author"]["handle"].isdigit()
    accepted = items["answer-10381"]
    assert accepted["author"]["name"] == "Earthliŋ" and accepted["reactions"] == {"votes": 22}
    # "@TonyM" and "@user5105:" name commenters by display name; they resolve to their user ids
    assert items["comment-133304"]["mentions"] == ["29246"]  # Tony M
    assert items["comment-26522"]["mentions"] == ["5105"]  # user5105
    assert sum(1 for i in capture["items"] if i.get("mentions")) == 3
    c = items["comment-26550"]
    assert c["author"]["name"] == "Vogel612" and c["reactions"] == {"votes": 1}
    assert c["text"].startswith("maybe ausgeraubt is a bad example")
    assert c["at"] == "2014-02-07T10:53:03Z"


def test_github_issue_new_viewer():
    capture, adapter = extract_html(corpus_html("github/github-issue-56.html"))
    assert adapter == "github"
    items = capture["items"]
    post = items[0]
    assert post["id"] == "kepano/defuddle/issues/56" and post["kind"] == "post"
    assert post["author"]["handle"] == "jmorrell"
    comments = items[1:]
    assert [c["author"]["handle"] for c in comments] == [
        "jmorrell", "masylum", "nbbaier", "nbbaier", "masylum", "nbbaier"]
    assert all(c["parent"] == post["id"] and c["id"].startswith("issuecomment-") for c in comments)
    assert by_id(capture)["issuecomment-2981017870"]["mentions"] == ["masylum"]
    assert "jmorrell" in by_id(capture)["issuecomment-2953511555"]["mentions"]
    assert all(c["at"].startswith("2025-") for c in comments)
