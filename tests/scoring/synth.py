"""Synthetic worlds for the scoring tests: items built the way the extension would capture them."""
from __future__ import annotations

import os
import random
from datetime import datetime, timedelta, timezone

import pytest

from scoring.items import normalize_item

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)
SITE = "blog.example"


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


class World:
    """Items for a set of people. `engage(a, b, when)` = a comments on b's post (one post per
    person and site), the commonest interaction the extension captures."""

    def __init__(self, site: str = SITE):
        self.site = site
        self.items: list[dict] = []
        self._posts: dict[tuple[str, str], str] = {}
        self._n = 0

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n}"

    def post(self, author: str, when: datetime | None = None, text: str = "A post.", site: str | None = None,
             reactions: dict | None = None) -> str:
        site = site or self.site
        pid = self._id("post")
        raw = {"id": pid, "kind": "post", "parent": None, "author": {"handle": author},
               "at": iso(when or ago(100)), "text": text}
        if reactions:
            raw["reactions"] = reactions
        self.items.append(normalize_item(raw, site))
        return pid

    def post_of(self, author: str, site: str | None = None) -> str:
        site = site or self.site
        key = (site, author)
        if key not in self._posts:
            self._posts[key] = self.post(author, ago(100), site=site)
        return self._posts[key]

    def comment(self, author: str, parent: str | None, when: datetime, text: str = "Good point, thanks.",
                mentions=(), site: str | None = None, reactions: dict | None = None) -> str:
        cid = self._id("c")
        raw = {"id": cid, "kind": "comment", "parent": parent, "author": {"handle": author},
               "at": iso(when), "text": text, "mentions": list(mentions)}
        if reactions:
            raw["reactions"] = reactions
        self.items.append(normalize_item(raw, site or self.site))
        return cid

    def engage(self, actor: str, target: str, when: datetime, text: str = "Good point, thanks.",
               site: str | None = None) -> str:
        return self.comment(actor, self.post_of(target, site), when, text, site=site)


def community(world: World, people: int = 200, interactions: int = 1500, days: float = 88.0,
              seed: int = 1, prefix: str = "p") -> list[str]:
    """A power-law community: targets drawn by Pareto popularity, actors by Pareto activity."""
    rng = random.Random(seed)
    names = [f"{prefix}{i:04d}" for i in range(people)]
    pop = [rng.paretovariate(1.2) for _ in names]
    act = [rng.paretovariate(1.5) for _ in names]
    for _ in range(interactions):
        t = rng.choices(names, weights=pop)[0]
        a = rng.choices(names, weights=act)[0]
        if a == t:
            continue
        world.engage(a, t, ago(rng.uniform(0.01, days)))
    return names


def need_compiled(module, what: str) -> None:
    """Skip (saying why) a test of a C module the install could not build; CI builds them."""
    if module is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI builds {what} (setup.py), and it did not import", pytrace=False)
        pytest.skip(f"{what} is not built (no C compiler or Python headers at install)")
