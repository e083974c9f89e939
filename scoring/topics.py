"""Per-topic scores: user topics (keywords) and hashtags, with an evidence threshold (property 12).

An interaction is on a topic when the item carrying it, or the item it answers, matches the topic:
a reply to a post about Django is about Django even if the reply only says "great point".
A topic score is the same people-view formula restricted to that topic's interactions (standing,
selectivity and pair caps included), and it is shown only with at least TOPIC_MIN_INTERACTIONS
counted interactions from at least TOPIC_MIN_PEOPLE distinct people. Reactions are not topic
evidence (they have no actor).
"""
from __future__ import annotations

import re
import unicodedata

# A tag starts after a space or punctuation, never inside a word, an entity (&#39;) or an address
# (example.com/#comments), with a letter or digit.
_TAG_START = re.compile(r"(?<![\w&/])#(?=[^\W_])")
TAG_MAX = 64
# Python's \w leaves out the vowel signs of Indic scripts and other combining marks, which would
# cut #हिमालय to #ह; they belong to the tag.
_MARKS = {"Mn", "Mc"}


_EMPTY = frozenset()


def hashtags(text: str) -> list[str]:
    """The hashtags of a text as topic names: `#` and the tag in one Unicode form, case-folded,
    without a trailing dash. Not a tag: digits alone (#1), one longer than TAG_MAX characters."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    out = []
    for m in _TAG_START.finditer(text):
        start = end = m.end()
        while end < len(text) and (text[end].isalnum() or text[end] in "_-"
                                   or unicodedata.category(text[end]) in _MARKS):
            end += 1
        tag = text[start:end].rstrip("-")
        if tag and len(tag) <= TAG_MAX and not tag.isdigit():
            out.append("#" + tag.casefold())
    return out


class TopicIndex:
    def __init__(self, topics: dict):
        self._cache: dict[str, frozenset] = {}
        self.names: list[str] = []
        self._ids: dict[str, int] = {}
        self._user: list[tuple[int, re.Pattern]] = []
        for name in sorted(topics):
            words = [unicodedata.normalize("NFC", w.strip()).lower() for w in (topics[name] or []) if w and w.strip()]
            if not words:
                continue
            alt = "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))
            self._user.append((self._intern(str(name)), re.compile(rf"(?<!\w)(?:{alt})(?!\w)", re.I)))
        self.has_keywords = bool(self._user)

    def _intern(self, name: str) -> int:
        i = self._ids.get(name)
        if i is None:
            i = self._ids[name] = len(self.names)
            self.names.append(name)
        return i

    def match(self, text: str | None) -> frozenset:
        if not text:
            return _EMPTY
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        said = text if text.isascii() else unicodedata.normalize("NFC", text)
        found = {tid for tid, rx in self._user if rx.search(said)}
        if "#" in text:
            for tag in hashtags(said):
                found.add(self._intern(tag))
        found = frozenset(found) if found else _EMPTY
        if len(self._cache) > 200_000:
            self._cache.clear()
        self._cache[text] = found
        return found

    def item_topics(self, item: dict, parent: dict | None) -> tuple[int, ...]:
        found = self.match(item.get("text"))
        if parent is not None:
            more = self.match(parent.get("text"))
            if more:
                found = found | more
        return tuple(sorted(found)) if found else ()
