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


class TopicIndex:
    def __init__(self, topics: dict):
        self.names: list[str] = []
        self._ids: dict[str, int] = {}
        self._user: list[tuple[int, re.Pattern]] = []
        for name in sorted(topics):
            words = [w.strip().lower() for w in (topics[name] or []) if w and w.strip()]
            if not words:
                continue
            alt = "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))
            self._user.append((self._intern(str(name)), re.compile(rf"(?<!\w)(?:{alt})(?!\w)", re.I)))

    def _intern(self, name: str) -> int:
        i = self._ids.get(name)
        if i is None:
            i = self._ids[name] = len(self.names)
            self.names.append(name)
        return i

    def match(self, text: str | None) -> set[int]:
        if not text:
            return set()
        found = {tid for tid, rx in self._user if rx.search(text)}
        for tag in _HASHTAG.findall(text):
            found.add(self._intern("#" + tag.lower()))
        return found

    def item_topics(self, item: dict, parent: dict | None) -> tuple[int, ...]:
        found = self.match(item.get("text"))
        if parent is not None:
            found |= self.match(parent.get("text"))
        return tuple(sorted(found))

    def score(self, scorer, st, idx, actor, target, c, counted, aw, nid) -> dict[int, dict]:
        item_topics = scorer._item_topics
        if not item_topics or not len(idx):
            return {}
        r_item = scorer._rows.item[idx]
        rows = np.nonzero(counted)[0]
        e_item = np.fromiter((k for k, ts in item_topics.items() for _ in ts), dtype=np.int64)
        e_topic = np.fromiter((t for _, ts in item_topics.items() for t in ts), dtype=np.int64)
        order = np.argsort(e_item, kind="stable")
        e_item, e_topic = e_item[order], e_topic[order]
        n_items = max(int(r_item.max()) + 1, int(e_item.max()) + 1)
        per_item = np.bincount(e_item, minlength=n_items)
        start = np.concatenate(([0], np.cumsum(per_item)[:-1]))
        k = per_item[r_item[rows]]
        rep = np.repeat(rows, k)
        if not len(rep):
            return {}
        within = np.arange(len(rep)) - np.repeat(np.cumsum(k) - k, k)
        topic = e_topic[start[r_item[rep]] + within]
        ntop = len(self.names)
        # (topic, actor, target) pairs, then (topic, target) totals
        key = (topic * nid + actor[rep]) * nid + target[rep]
        keys, inv = np.unique(key, return_inverse=True)
        P = np.bincount(inv, weights=c[rep], minlength=len(keys))
        k_topic = keys // (nid * nid)
        k_actor = (keys // nid) % nid
        k_target = keys % nid
        val = aw[k_actor] * model.saturate(P, model.PAIR_CAP)
        tt = k_topic * nid + k_target
        tkeys, tinv = np.unique(tt, return_inverse=True)
        raw = np.bincount(tinv, weights=val, minlength=len(tkeys))
        people = np.bincount(tinv, minlength=len(tkeys))
        tt_rows = topic * nid + target[rep]
        n_inter = np.bincount(np.searchsorted(tkeys, tt_rows), minlength=len(tkeys))
        ok = (n_inter >= model.TOPIC_MIN_INTERACTIONS) & (people >= model.TOPIC_MIN_PEOPLE)
        scores = model.to_score(model.points(raw))
        out: dict[int, dict] = {}
        for tk, sc, good in zip(tkeys.tolist(), scores.tolist(), ok.tolist()):
            if good:
                out.setdefault(tk % nid, {})[self.names[tk // nid]] = int(sc)
        return {i: dict(sorted(d.items())) for i, d in out.items()}
