"""Sites not in the corpus, on fixture pages written for the project (tests/fixtures/pages/).

Each test states what a reader of the page sees: who wrote what, who answered whom, the counts.
"""
from __future__ import annotations

from jsonschema import Draft202012Validator

from adapter_support import fixture_html
from scoring.items import ITEM_SCHEMA
from server.contract import validate_capture
from server.extract import extract_html

DISQUS_FRAME = ("https://disqus.com/embed/comments/?base=default&f=coastaltrails&t_i=2188"
                "&t_u=https%3A%2F%2Fcoastaltrails.example%2F2024%2Fcliff-walk%2F&t_d=Cliff%20walk")
_items = Draft202012Validator(ITEM_SCHEMA)


def run(name, url=None, adapter=None):
    capture, used = extract_html(fixture_html(name), url=url)
    assert used == adapter
    for it in capture["items"]:
        assert not list(_items.iter_errors(it)), it
    validate_capture(capture)
    return capture


def shape(capture):
    """(id, kind, parent, handle) for each item: the reply structure at a glance."""
    return [(i["id"], i["kind"], i["parent"], i["author"]["handle"]) for i in capture["items"]]


def by_id(capture):
    return {i["id"]: i for i in capture["items"]}


def test_reddit_old():
    cap = run("reddit-old.html", adapter="reddit")
    assert cap["page"]["site"] == "reddit.com"
    assert shape(cap) == [
        ("t3_1abcde", "post", None, "fernwhisperer"),
        ("t1_kx1001", "comment", "t3_1abcde", "MossyMarta"),
        ("t1_kx1002", "comment", "t1_kx1001", "fernwhisperer"),
        # kx1003 is deleted: not an item, but its reply still answers it
        ("t1_kx1004", "comment", "t1_kx1003", "Quiet_Cactus"),
        ("t1_kx2001", "comment", "t3_1abcde", "pothos_pete"),
    ]
    items = by_id(cap)
    assert items["t3_1abcde"]["reactions"] == {"points": 1843}
    assert items["t1_kx1001"]["reactions"] == {"points": 1202}  # the unvoted score, not 1.2k
    assert items["t1_kx1001"]["mentions"] == ["fernwhisperer"]
    assert items["t1_kx2001"]["mentions"] == ["MossyMarta"]
    assert items["t1_kx1001"]["text"] == ("A ZZ plant. It lived through two moves and a month with no light at all.\n"
                                          "Ask /u/fernwhisperer about the hallway one, though.")
    assert items["t1_kx1002"]["at"] == "2024-03-05T10:30:00Z"
    # the sidebar's moderator list is not a comment
    assert "AutoModerator" not in {h for *_, h in shape(cap)}


def test_reddit_shreddit():
    cap = run("reddit-shreddit.html", adapter="reddit")
    assert shape(cap) == [
        ("t3_1qq7zz", "post", None, "night_owl_nia"),
        ("t1_m4aa01", "comment", "t3_1qq7zz", "DawnPatrolDan"),
        ("t1_m4aa03", "comment", "t1_m4aa02", "sleepy_sam"),
        ("t1_m4bb01", "comment", "t3_1qq7zz", "Lavender-Lou"),
    ]
    items = by_id(cap)
    assert items["t1_m4bb01"]["reactions"] == {"points": 3100}
    assert items["t1_m4aa01"]["mentions"] == ["night_owl_nia"]
    assert items["t1_m4aa03"]["text"] == "Whoever that was, they were right <script>alert(1)</script>"
    assert items["t3_1qq7zz"]["at"] == "2025-01-14T21:03:11Z"


def test_github_classic_pull_request():
    cap = run("github-pr-classic.html", adapter="github")
    pr = "orchard-tools/harvest/pull/412"
    assert shape(cap) == [
        (pr, "post", None, "lindqvist-a"),
        ("issuecomment-2290001", "comment", pr, "okafor-b"),
        ("discussion_r1770001", "comment", pr, "okafor-b"),
        ("discussion_r1770002", "comment", pr, "dependabot"),
    ]
    items = by_id(cap)
    assert items[pr]["reactions"] == {"+1": 5, "heart": 2}
    assert items[pr]["mentions"] == ["okafor-b"]
    assert items["issuecomment-2290001"]["reactions"] == {"rocket": 1100}
    assert items["issuecomment-2290001"]["mentions"] == ["lindqvist-a"]
    assert items["discussion_r1770001"]["text"] == "Nit: max_delay reads better than cap."


def test_disqus_frame():
    cap = run("disqus.html", url=DISQUS_FRAME, adapter="disqus")
    thread = "https://coastaltrails.example/2024/cliff-walk/"
    assert cap["page"]["site"] == "disqus.com"
    assert shape(cap) == [
        ("post-6120000101", "comment", thread, "tidepoolmara"),
        ("post-6120000202", "comment", "post-6120000101", "Guest Walker"),
        ("post-6120000303", "comment", "post-6120000202", "coastaltrails"),
        ("post-6120000404", "comment", thread, "gullwatcher"),
    ]
    items = by_id(cap)
    assert items["post-6120000101"]["author"]["name"] == "Mara Tidepool"
    assert items["post-6120000404"]["reactions"] == {"like": 1200}
    assert "reactions" not in items["post-6120000202"]  # an empty count is not zero
    assert items["post-6120000404"]["text"] == "Puffins at the north end in June.\nBring binoculars."
    assert all("Reply" not in i["text"] for i in cap["items"])


def test_mastodon_thread():
    cap = run("mastodon.html", adapter="mastodon")
    post = "status-113000000000000001"
    assert shape(cap) == [
        (post, "post", None, "adafern"),
        ("status-113000000000000002", "comment", post, "bramble"),
    ]
    items = by_id(cap)
    assert items[post]["author"]["name"] == "Ada Fern"
    assert items[post]["reactions"] == {"like": 1500, "boost": 12}
    assert items[post]["mentions"] == ["lin@fosstodon.org"]  # the status it answers, by mention
    assert items["status-113000000000000002"]["mentions"] == ["adafern", "lin@fosstodon.org"]
    assert items["status-113000000000000002"]["reactions"] == {"like": 9, "boost": 2}
    assert "openscience" not in items[post].get("mentions", [])  # hashtags are not people


def test_youtube_comments():
    cap = run("youtube.html", adapter="youtube")
    video = "video-Qx3dStone01"
    assert shape(cap) == [
        (video, "post", None, "StoneAndSlope"),
        ("UgzHal001AaBbCc", "comment", video, "hedgelayer_hal"),
        ("UgzHal001AaBbCc.9zReplyA1", "comment", "UgzHal001AaBbCc", "StoneAndSlope"),
        ("UgzHal001AaBbCc.9zReplyB2", "comment", "UgzHal001AaBbCc", "drystone-dee"),
        ("UgwQuinn002XyZ", "comment", video, "QuarryQuinn"),
    ]
    items = by_id(cap)
    assert items[video]["reactions"] == {"like": 3912}
    assert items["UgzHal001AaBbCc"]["reactions"] == {"like": 1200}
    assert "reactions" not in items["UgzHal001AaBbCc.9zReplyB2"]
    assert items["UgzHal001AaBbCc.9zReplyA1"]["mentions"] == ["hedgelayer_hal"]
    assert "Read more" not in items["UgzHal001AaBbCc"]["text"]


def test_x_status_page():
    cap = run("x.html", adapter="x")
    post = "1840000000000000001"
    assert shape(cap) == [
        (post, "post", None, "rosaquill"),
        ("1840000000000000002", "comment", post, "inkwell_ivo"),
        ("1840000000000000003", "comment", post, "spamcoin_deals"),
    ]
    items = by_id(cap)
    assert items[post]["reactions"] == {"like": 230, "repost": 15}
    assert items[post]["mentions"] == ["inkwell_ivo"]
    assert items[post]["text"] == "Printing a zine on a risograph this weekend. Two colours, 40 copies. Thanks @inkwell_ivo for the drum!"
    assert items["1840000000000000002"]["reactions"] == {"like": 1412, "repost": 0}
    assert items["1840000000000000002"]["author"]["name"] == "Ivo 🖋 Inkwell"
    # markup in a display name stays text
    assert items["1840000000000000003"]["author"]["name"] == "Free Crypto <img src=x onerror=alert(1)>"


def test_discourse_topic():
    cap = run("discourse.html", adapter="discourse")
    assert cap["page"]["site"] == "forum.homelab.example"
    assert shape(cap) == [
        ("topic-4821", "post", None, "ravi_k"),
        ("post-30009", "comment", "topic-4821", "mel_nas"),
        ("post-30015", "comment", "topic-4821", "ravi_k"),
    ]
    items = by_id(cap)
    assert items["topic-4821"]["author"]["name"] == "Ravi Kapoor"
    assert items["topic-4821"]["reactions"] == {"like": 7}
    assert items["topic-4821"]["at"] == "2025-02-11T19:30:00Z"  # from data-time in milliseconds
    assert items["post-30015"]["mentions"] == ["mel_nas"]  # a group mention (@admins) is not a person
    assert items["post-30009"]["text"] == "Restic to a Pi at my sister's. Encrypted, so she can't read it."


def test_substack_comments():
    cap = run("substack.html", adapter="substack")
    post = "slowkitchen.substack.com/p/why-we-stopped-using-timers"
    assert cap["page"]["site"] == "substack.com"
    assert shape(cap) == [
        (post, "post", None, "junoparr"),
        ("comment-90000001", "comment", post, "5550001"),
        ("comment-90000002", "comment", "comment-90000001", "1230099"),
        ("comment-90000003", "comment", post, "7770042"),
    ]
    items = by_id(cap)
    assert items["comment-90000001"]["author"] == {
        "handle": "5550001", "name": "Tom Bellweather", "url": "https://substack.com/profile/5550001-tom-bellweather"}
    assert items["comment-90000001"]["reactions"] == {"like": 23}
    assert items["comment-90000002"]["author"]["name"] == "Juno Parr"  # the "Author" badge is not in the name


def test_generic_microdata():
    cap = run("generic-microdata.html", adapter="generic")
    post = "url:/notes/fermenting-hot-sauce"
    # the theme's element ids are the page's own: under the post's id, they are the site's
    c881, c884, c890 = (f"{post}#c-{n}" for n in (881, 884, 890))
    assert shape(cap) == [
        (post, "post", None, "Priya Chen"),
        (c881, "comment", post, "Sam Fields"),
        (c884, "comment", c881, "Priya Chen"),
        (c890, "comment", post, "anonymous coward"),
    ]
    items = by_id(cap)
    assert items[c881]["at"] == "2025-06-02T12:30:00Z"
    assert items[c881]["reactions"] == {"like": 6}
    assert items[c881]["text"] == "Do you weigh the peppers with or without stems?"


def test_generic_microformats():
    cap = run("generic-microformats.html", adapter="generic")
    post = "url:/2025/03/bikeshedding-ssg/"
    w1201, w1207 = f"{post}#wm-1201", f"{post}#wm-1207"
    assert shape(cap) == [
        (post, "post", None, "Theo Marsh"),
        (w1201, "comment", post, "Inès Duarte"),
        (w1207, "comment", w1201, "Theo Marsh"),
        ("https://mastodon.example/@kw/114000000000000042", "comment", post, "K. Wren"),  # a permalink: global
    ]
    assert by_id(cap)[w1201]["author"]["url"] == "https://ines.example/"


def test_generic_json_ld():
    cap = run("generic-jsonld.html", adapter="generic")
    post = "url:/ask/storing-old-photographs"
    c1 = "ld:https://archivist.example/ask/storing-old-photographs#c1"
    rows = shape(cap)
    assert rows[:3] == [
        (post, "post", None, "Hannah Vogt"),
        (c1, "comment", post, "Olu Bankole"),
        ("ld:https://archivist.example/ask/storing-old-photographs#c2", "comment", c1, "Hannah Vogt"),
    ]
    # no @id: a stable id from the author and text, the same on every extraction
    guest = cap["items"][3]
    assert guest["id"].startswith("h-") and guest["parent"] == post
    assert guest["author"]["handle"] == "Guest <b>bold</b>"
    assert guest["text"] == "Scan them first. Then worry."
    assert guest["at"] == "2025-05-21T00:00:00Z"
    assert by_id(cap)[c1]["reactions"] == {"like": 31}
    again, _ = extract_html(fixture_html("generic-jsonld.html"))
    assert again["items"][3]["id"] == guest["id"]


def test_wordpress_hostile_content():
    cap = run("wordpress-hostile.html", adapter="wordpress")
    assert shape(cap) == [
        ("post-777", "post", None, "Wren Ashby"),
        ("comment-9001", "comment", "post-777", "<img src=x onerror=alert(1)> Mallory"),
        ("comment-9002", "comment", "comment-9001", "Wren Ashby"),
        ("comment-9003", "comment", "comment-9002", "evil Reversed"),  # bidi overrides dropped
        ("comment-9004", "comment", "comment-9003", "Spaced Out"),
        ("comment-9005", "comment", "comment-9004", "Rel Ative"),
        # 9006 has an empty author and 9007 is a pingback: neither is a person's comment
    ]
    items = by_id(cap)
    mallory = items["comment-9001"]
    assert "url" not in mallory["author"]  # javascript: links are dropped
    assert mallory["text"] == "Nice post\nSecond paragraph with\u200b zero width and tabs."
    assert "at" not in items["comment-9003"]  # February 30th is not a date
    # "@Wren" names the one author whose name starts with it; "@Mallory" the one whose name ends
    # with it (a surname: her name's markup is only text), "@zz" is too short to guess from,
    # "@Nobody" is no one here
    assert items["comment-9003"]["mentions"] == ["Wren Ashby", "<img src=x onerror=alert(1)> Mallory"]
    long = items["comment-9004"]["text"]
    # 1,995 letters, three astral emoji, then more: the cap counts code points, as Python and JSON
    # Schema do, so the emoji survive whole (the conformance test holds the JS engine to the same)
    assert len(long) == 2000 and long[1995:1998] == "\U0001F600" * 3 and long.endswith("ta")
    assert items["comment-9005"]["author"]["url"] == "https://gardennotes.example/relative/me"
    assert items["post-777"]["author"]["url"] == "https://gardennotes.example/author/wren/"
