"""`cloutlens import` and `cloutlens extract`: exports and saved pages into captures, stored once."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapter_support import CORPUS, FIXTURES, REPO, corpus_path
from server.contract import validate_capture
from server.importer import (captures_from_disqus, captures_from_wxr, extract_command, import_command,
                             import_paths, read_source)
from server.storage import Store


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "data")
    yield s
    s.close()


def items_of(captures):
    return [i for c in captures for i in c["items"]]


@pytest.mark.corpus
def test_wxr_theme_unit_test_data():
    raw = corpus_path("exports/themeunittestdata.wordpress.xml").read_bytes()
    captures = captures_from_wxr(raw)
    for c in captures:
        validate_capture(c)
    comments = [i for i in items_of(captures) if i["kind"] == "comment"]
    # Oracle from the raw XML: approved comments that are not pingbacks or trackbacks.
    blocks = re.findall(rb"<wp:comment>(.*?)</wp:comment>", raw, re.S)
    assert len(blocks) == 33
    wanted = {}
    for b in blocks:
        approved = re.search(rb"<wp:comment_approved>(?:<!\[CDATA\[)?(\w*)", b).group(1)
        ctype = re.search(rb"<wp:comment_type>(?:<!\[CDATA\[)?(\w*)", b)  # absent when <wp:comment_type/>
        cid = re.search(rb"<wp:comment_id>(?:<!\[CDATA\[)?(\d+)", b).group(1).decode()
        parent = re.search(rb"<wp:comment_parent>(?:<!\[CDATA\[)?(\d+)", b).group(1).decode()
        if approved == b"1" and (ctype is None or ctype.group(1) in (b"", b"comment")):
            wanted[f"comment-{cid}"] = parent
    assert len(wanted) == 26 and len(comments) == 26
    for c in comments:
        parent = wanted[c["id"]]
        if parent != "0":
            assert c["parent"] == f"comment-{parent}"
        else:
            assert c["parent"].startswith("post-")
    assert all(c["page"]["site"] == "wpthemetestdata.wordpress.com" for c in captures)
    posts = [i for i in items_of(captures) if i["kind"] == "post"]
    # dc:creator is a login; the page shows the display name, and so does the import
    assert {p["author"]["name"] for p in posts} <= {"Theme Buster", "Theme Reviewer"}


@pytest.mark.corpus
def test_wxr_small_export_reply_chain():
    captures = captures_from_wxr(corpus_path("exports/isso-wordpress.xml").read_bytes())
    assert len(captures) == 1
    shape = [(i["id"], i["parent"], i["author"]["handle"]) for i in captures[0]["items"]]
    assert shape[:6] == [
        ("post-18", None, "Tester"),
        ("comment-2", "post-18", "Ohai"),
        ("comment-6", "post-18", "Tester"),
        ("comment-7", "comment-6", "Tester"),
        ("comment-8", "comment-7", "Tester"),
        ("comment-9", "comment-7", "Tester"),
    ]
    assert captures[0]["items"][1]["text"] == "Erster!1"
    assert captures[0]["items"][1]["at"] == "2014-01-14T17:32:12Z"


@pytest.mark.corpus
def test_disqus_export():
    captures = captures_from_disqus(corpus_path("exports/isso-disqus.xml").read_bytes())
    for c in captures:
        validate_capture(c)
        assert c["page"]["site"] == "disqus.com"
    shape = [(i["id"], i["parent"], i["author"]["handle"]) for i in items_of(captures)]
    # post 6 belongs to a thread missing from the file, post 9 is deleted
    assert shape == [
        ("post-4", "http://example.org/", "peter"),
        ("post-5", "post-4", "user"),
        ("post-11", "post-9", "user"),
        ("post-8", "http://localhost:4000/blog/2013/02/12/redacted/index.html", "EmptyUsername"),
    ]
    by_id = {i["id"]: i for i in items_of(captures)}
    assert by_id["post-5"]["text"] == "Hello, World."  # HTML in the export becomes text
    # the same thread address the Disqus adapter reads from its frame (t_u)
    assert captures[0]["page"]["url"] == "https://disqus.com/embed/comments/?f=disqusdev&t_u=http%3A%2F%2Fexample.org%2F"


@pytest.mark.corpus
def test_import_corpus_twice_adds_nothing(store):
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not beside the checkout")
    first = import_paths([CORPUS], store=store, workers=2)
    assert first.skipped == []
    assert first.added == first.items > 300
    assert store.count_items() == first.items
    second = import_paths([CORPUS], store=store, workers=1)
    assert (second.added, second.updated) == (0, 0)
    assert second.items == first.items
    assert store.count_items() == first.items
    assert first.summary()["adapters"] == {"github": 1, "hackernews": 1, "reddit": 1, "stackexchange": 1,
                                           "wordpress": 5}
    assert first.summary()["exports"] == {"disqus": 1, "wxr": 2}


def test_damaged_files_are_reported_and_skipped(tmp_path, store):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "good.html").write_bytes((FIXTURES / "wordpress-hostile.html").read_bytes())
    (pages / "truncated.xml").write_text('<?xml version="1.0"?>\n<rss xmlns:wp="http://wordpress.org/export/1.2/">'
                                         "<channel><item><wp:comment><wp:comment_id>1")
    (pages / "noise.html").write_bytes(bytes(range(256)) * 4)
    (pages / "plain.html").write_text("<html><head><title>Just text</title></head><body><p>hello</p></body></html>")
    (pages / "empty.htm").write_text("")
    report = import_paths([pages], store=store, workers=1)
    reasons = {p.rsplit("/", 1)[-1]: r for p, r in report.skipped}
    assert set(reasons) == {"truncated.xml", "noise.html", "plain.html", "empty.htm"}
    assert reasons["truncated.xml"].startswith("damaged XML")
    assert reasons["plain.html"] == "no adapter recognises this page"
    assert reasons["empty.htm"] == "empty file"
    assert report.pages == 1 and report.added == 6 and store.count_items() == 6


def test_page_without_address_needs_url(tmp_path, store):
    html = (FIXTURES / "reddit-old.html").read_text(encoding="utf-8")
    page = tmp_path / "saved.html"
    page.write_text(re.sub(r'<link rel="canonical"[^>]*>', "", html), encoding="utf-8")
    out = read_source(str(page))
    assert out.skipped and "pass --url" in out.skipped
    report = import_paths([page], store=store, url="https://old.reddit.com/r/gardening/comments/1abcde/x/")
    assert report.added == 5 and report.skipped == []


def test_export_and_page_store_one_comment(tmp_path, store):
    """A WordPress export and the blog's own page give the same ids: a comment is stored once."""
    wxr = tmp_path / "garden.xml"
    wxr.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Garden Notes</title><link>https://gardennotes.example</link>
<wp:author><wp:author_login>wren</wp:author_login><wp:author_display_name><![CDATA[Wren Ashby]]></wp:author_display_name></wp:author>
<item><title>Hostile comments test</title><link>https://gardennotes.example/2025/07/hostile/</link>
<dc:creator><![CDATA[wren]]></dc:creator><wp:post_id>777</wp:post_id><wp:post_date_gmt>2025-07-01 12:00:00</wp:post_date_gmt>
<wp:post_type>post</wp:post_type><wp:status>publish</wp:status>
<wp:comment><wp:comment_id>9002</wp:comment_id><wp:comment_author><![CDATA[Wren Ashby]]></wp:comment_author>
<wp:comment_author_url>https://gardennotes.example/author/wren/</wp:comment_author_url>
<wp:comment_date_gmt>2025-07-02 11:00:00</wp:comment_date_gmt><wp:comment_content><![CDATA[<p>Please behave.</p>]]></wp:comment_content>
<wp:comment_approved>1</wp:comment_approved><wp:comment_type><![CDATA[comment]]></wp:comment_type><wp:comment_parent>9001</wp:comment_parent></wp:comment>
<wp:comment><wp:comment_id>9100</wp:comment_id><wp:comment_author><![CDATA[Spammer]]></wp:comment_author>
<wp:comment_content>buy</wp:comment_content><wp:comment_approved>spam</wp:comment_approved><wp:comment_parent>0</wp:comment_parent></wp:comment>
</item></channel></rss>""", encoding="utf-8")
    first = import_paths([wxr], store=store)
    assert (first.added, first.items) == (2, 2)  # the post and comment-9002; spam left out
    page = import_paths([FIXTURES / "wordpress-hostile.html"], store=store)
    assert page.items == 6
    assert page.added == 4  # comment-9002 and post-777 were already there
    assert store.count_items() == 6


def test_cli_extract_and_import(tmp_path):
    runner = CliRunner()
    page = FIXTURES / "youtube.html"
    res = runner.invoke(extract_command, [str(page), "--json"])
    assert res.exit_code == 0, res.output
    out = res.stdout
    capture = json.loads(out)
    assert capture["page"]["site"] == "youtube.com" and len(capture["items"]) == 5
    assert "adapter: youtube (picked by the host www.youtube.com" in res.stderr

    res = runner.invoke(extract_command, [str(FIXTURES / "generic-microformats.html")])
    assert res.exit_code == 0
    assert "adapter: generic (picked by its markup" in res.stderr
    assert "4 items (1 post, 3 comments) by 3 people" in res.stdout
    assert "\n  url:/2025/03/bikeshedding-ssg/#wm-1201  [comment]  Inès Duarte" in res.stdout  # under the post

    data = tmp_path / "data"
    args = [str(FIXTURES / "reddit-old.html"), str(FIXTURES / "disqus.html"), "--data-dir", str(data)]
    res = runner.invoke(import_command, args)
    assert res.exit_code == 0, res.output
    assert "1 page, 5 items (added 5, updated 0), 4 people, 1 skipped" in res.stdout
    assert "disqus.html: the page does not say its address" in res.stdout
    assert "Importing" in res.stderr  # the progress bar
    res = runner.invoke(import_command, args + ["--json"])
    summary = json.loads(res.stdout)
    assert summary["added"] == 0 and summary["items"] == 5
    # someone the user forgot stays forgotten when their pages are imported, as when browsed
    store = Store(data)
    store.remove_author("reddit.com:fernwhisperer")
    store.set_config("forgotten", ["reddit.com:fernwhisperer"])
    store.close()
    summary = json.loads(runner.invoke(import_command, args + ["--json"]).stdout)
    assert summary["left_out"] == 2 and summary["people"] == 3 and summary["added"] == 0
    store = Store(data)
    assert store.items_by_author("reddit.com:fernwhisperer") == [] and store.count_items() == 3
    store.close()
    # not one file read: the report, and a failure a script can see
    res = runner.invoke(import_command, [str(FIXTURES / "disqus.html"), "--data-dir", str(data)])
    assert res.exit_code == 1 and "0 pages, 0 items" in res.stdout and "disqus.html: the page" in res.stdout


def _blog_post(n: int, commenter: str, comment_text: str) -> str:
    # what many blog themes print: the same element id on the first comment of every post
    return f"""<!doctype html><html><head><link rel="canonical" href="https://myblog.example/post-{n}"></head>
<body><article itemscope itemtype="https://schema.org/BlogPosting">
<h1 itemprop="headline">Post {n}</h1><span itemprop="author">Owner</span>
<div id="comment-1" itemscope itemtype="https://schema.org/Comment">
<span itemprop="author">{commenter}</span><p itemprop="text">{comment_text}</p></div>
<div itemscope itemtype="https://schema.org/Comment"><span itemprop="author">Fan</span><p itemprop="text">Thanks!</p></div>
</article></body></html>"""


def test_comments_a_page_numbers_on_its_own_stay_apart_across_posts(tmp_path):
    """Two posts of one blog, each with an element `comment-1` and a "Thanks!" by the same person:
    four comments, none replacing another (ids are unique by site, not by page)."""
    pages = []
    for n, who in ((1, "Commenter One"), (2, "Commenter Two")):
        pages.append(tmp_path / f"post-{n}.html")
        pages[-1].write_text(_blog_post(n, who, f"A thought on post {n}"))
    data = tmp_path / "data"
    res = CliRunner().invoke(import_command, [*map(str, pages), "--data-dir", str(data), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["items"] == 6 and summary["added"] == 6 and summary["updated"] == 0
    store = Store(data)
    try:
        comments = [d for d in store.all_items() if d["kind"] == "comment"]
    finally:
        store.close()
    assert sorted((d["parent"], d["author"]["handle"], d["text"]) for d in comments) == [
        ("url:/post-1", "commenter one", "A thought on post 1"), ("url:/post-1", "fan", "Thanks!"),
        ("url:/post-2", "commenter two", "A thought on post 2"), ("url:/post-2", "fan", "Thanks!")]


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from Linux's /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["kill", "kill-9"])
def test_a_killed_import_lets_the_data_dir_go(tmp_path, sig):
    """`kill` (or kill -9) during a parallel import: the parsing processes must not keep the data
    dir claimed, nor linger waiting for work, so `cloutlens serve` can start right after."""
    pages = tmp_path / "pages"
    pages.mkdir()
    page = (FIXTURES / "reddit-old.html").read_bytes()
    for n in range(4000):  # far more than can be parsed before the signal
        (pages / f"p{n}.html").write_bytes(page)
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "import", str(pages), "--data-dir", str(data),
                             "--workers", "2"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        parsers = _children(proc.pid)
        assert len(parsers) == 2, "the import did not start its parsers"
        time.sleep(0.5)
        proc.send_signal(sig)
        assert proc.wait(timeout=20) != 0
    finally:
        proc.kill()
    deadline = time.monotonic() + 10
    while any(_running(p) for p in parsers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(p) for p in parsers), "a parser outlived the import"
    store = Store(data)  # claims the data dir: refused while anything holds it
    try:
        assert store.count_items() <= 5  # one page's items, stored once however many copies
    finally:
        store.close()


def test_a_file_name_cannot_drive_the_terminal(tmp_path):
    # click strips escape sequences only when the output is not a terminal; on one, a file named
    # with ESC [2J would clear the screen when its skip is reported
    pages = tmp_path / "archive"
    pages.mkdir()
    (pages / "post\x1b[2J\x1b]0;owned\x07.html").write_bytes(b"\x00\x01 not a page")
    res = CliRunner().invoke(import_command, [str(pages), "--dry-run"], color=True)  # as on a terminal
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output  # nothing could be read
    assert "\x1b" not in res.output and "\x07" not in res.output
    assert "post\\x1b[2J\\x1b]0;owned\\x07.html: binary file" in res.output
