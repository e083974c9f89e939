"""When each identity's earliest stored item was written: how long a person has been around,
which is what their usual day is measured over (the days view, docs/scoring.md section 4).

Only a person's own items count, never the interactions addressed to them: a reply to someone
must not change how long they have been around, or a new reply could lower the cap on their
other days (property 1). Undated items are left out.

Kept up to date as items come and go, not recomputed: `n` counts the items at exactly the
earliest time, so replacing an item (an upsert kills and re-adds it) does not force a search; only
an identity whose last earliest item is gone is searched again, over the item columns."""
from __future__ import annotations

import numpy as np

from .columns import distinct


class FirstSeen:
    def __init__(self, size: int = 1024):
        self.first = np.full(size, np.inf)
        self.n = np.zeros(size, dtype=np.int64)
        self.moved: set[int] = set()  # identities whose earliest time changed since taken
        self._lost: set[int] = set()  # identities whose earliest item is gone: search again

    def grow(self, size: int) -> None:
        if size > len(self.first):
            k = max(size, 2 * len(self.first))
            self.first = np.concatenate([self.first, np.full(k - len(self.first), np.inf)])
            self.n = np.concatenate([self.n, np.zeros(k - len(self.n), dtype=np.int64)])

    def note(self, authors: np.ndarray, t: np.ndarray) -> None:
        dated = ~np.isnan(t)
        authors, t = authors[dated].astype(np.int64), t[dated]
        if not len(authors):
            return
        before = self.first[authors]
        np.minimum.at(self.first, authors, t)
        moved = distinct(authors[self.first[authors] < before])
        self.n[moved] = 0
        np.add.at(self.n, authors[t == self.first[authors]], 1)
        self.moved.update(moved.tolist())

    def drop(self, author: int, t: float) -> None:
        if t == self.first[author]:
            self.n[author] -= 1
            if self.n[author] == 0:
                self._lost.add(author)

    def settle(self, item_author: np.ndarray, item_t: np.ndarray) -> None:
        """Search again for those whose earliest item went (item columns: live items' authors, -1
        for gone, and their times)."""
        lost = [a for a in self._lost if self.n[a] == 0]
        self._lost.clear()
        if not lost:
            return
        lost = np.asarray(sorted(lost), dtype=np.int64)
        mine = np.isin(item_author, lost) & ~np.isnan(item_t)
        self.first[lost] = np.inf
        self.note(item_author[mine], item_t[mine])
        self.moved.update(lost.tolist())

    def rebuild(self, item_author: np.ndarray, item_t: np.ndarray, size: int) -> None:
        self.__init__(max(size, 1024))
        live = item_author >= 0
        self.note(item_author[live], item_t[live])
        self.moved.clear()

    def take_moved(self) -> np.ndarray:
        out = np.asarray(sorted(self.moved), dtype=np.int64)
        self.moved.clear()
        return out
