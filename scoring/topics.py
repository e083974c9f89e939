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

import numpy as np

from . import model

_HASHTAG = re.compile(r"(?<![\w&])#([^\W_][\w-]{0,63})", re.UNICODE)


_EMPTY = frozenset()


class TopicIndex:
    def __init__(self, topics: dict):
        self._cache: dict[str, frozenset] = {}
        self.names: list[str] = []
        self._ids: dict[str, int] = {}
        self._user: list[tuple[int, re.Pattern]] = []
        for name in sorted(topics):
            words = [w.strip().lower() for w in (topics[name] or []) if w and w.strip()]
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
        found = {tid for tid, rx in self._user if rx.search(text)}
        if "#" in text:
            for tag in _HASHTAG.findall(text):
                found.add(self._intern("#" + tag.lower()))
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
