"""A small hand-written data set for the dashboard tests."""
from __future__ import annotations

from helpers import capture, comment_item, post_item

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_TEXT = "<script>alert(2)</script> and <b>bold</b>"
LONG_NAME = "W" * 90  # one word as wide as three screens: it must wrap, not widen the page
HOSTILE_REPLY = "This is awful, the worst and most stupid post. I hate it, terrible garbage."


def blog_page():
    """A post by Martin with comments from five people, a reply thread, and a hostile name."""
    items = [post_item(at="2026-11-01T08:00:00Z", text="Klout is dead, long live blog comments")]
    for n, who in enumerate(["anna", "bob", "carl", "dana", "eve"], 1):
        items.append(comment_item(f"comment-{n}", who, at=f"2026-11-0{n + 1}T09:00:00Z",
                                  text=f"comment by {who}", url=f"https://blog.example/klout#comment-{n}"))
    items.append(comment_item("comment-6", "martinwaxman", parent="comment-1", at="2026-11-03T10:00:00Z",
                              text="thanks Anna"))
    items.append(comment_item("comment-7", "bob", parent="comment-1", at="2026-11-04T10:00:00Z",
                              text="agreed with anna", url="javascript:alert(3)"))
    items.append({"id": "comment-8", "kind": "comment", "parent": "post-1", "at": "2026-11-05T11:00:00Z",
                  "author": {"handle": HOSTILE_NAME, "name": HOSTILE_NAME}, "text": HOSTILE_TEXT})
    items.append(comment_item("comment-9", "troll", at="2026-11-05T12:00:00Z", text=HOSTILE_REPLY))
    items[1]["author"]["name"] = "Anna Rydne"
    items[6]["author"]["name"] = "Martin Waxman"
    return capture(items)


def news_page():
    """Anna again, on another site under the same name: a link suggestion, never automatic."""
    items = [post_item("post-9", author="anna rydne", name="Anna Rydne", at="2026-11-06T08:00:00Z",
                       text="privacy notes")]
    for n, who in enumerate(["frank", "gina", "hal"], 20):
        items.append(comment_item(f"comment-{n}", who, parent="post-9", at="2026-11-07T09:00:00Z",
                                  text="good privacy point"))
    return capture(items, url="https://news.example/item?id=9", title="privacy notes")
