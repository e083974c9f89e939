"""Comments that several throwaway accounts sent one person in the same words: what a spam run
looks like.

The scorer cannot tell a spam account's first comment from a real newcomer's (docs/klout.md), so
a few spam comments in a day lift a blogger's score. What can be seen is the trace bots leave: one
text posted by account after account, each account writing nothing else. The person page lists
such groups among the items behind a score, with the points they give, and the user decides
whether to forget the accounts. Nothing is decided for the user: two friends seen once each can
write the same birthday wish.
"""
from __future__ import annotations

import functools
import re

from scoring import model

# Texts of fewer words are too common to mean anything when two people write them ("Thank you so
# much!", "Happy birthday to you!"); from five words on, the same words from two accounts that
# wrote nothing else are rare by chance.
MIN_WORDS = 5

_WORD = re.compile(r"\w+")


def words_of(text) -> str | None:
    """A text's words, casefolded and joined by single spaces (so that case, punctuation and
    spacing do not tell copies apart), or None when it has fewer than MIN_WORDS."""
    if not isinstance(text, str):
        return None
    words = _WORD.findall(text.casefold())
    return " ".join(words) if len(words) >= MIN_WORDS else None


def copied(behind: list[dict], person: str, sole_words) -> list[dict]:
    """The groups of items counted for `person` (behind.items_behind's rows) that have the same
    words and come from at least two accounts that wrote nothing else. `sole_words(account)`: the
    words (words_of) of everything the account wrote when they are all the same, else None (and
    None for an account the user linked: a person they know). The person's own items (behind a
    score through their reactions) are left out. Each group: the earliest copy's text as written,
    the accounts, how many items (`count`) and the points they give; most points first."""
    groups: dict[str, list[dict]] = {}
    said: dict[str, set] = {}  # each author's words in these rows: most people say several things
    for row in behind:
        if row["author"] == person:
            continue
        words = words_of(row["item"].get("text"))
        said.setdefault(row["author"], set()).add(words)
        if words is not None:
            groups.setdefault(words, []).append(row)
    found = []
    for words, rows in groups.items():
        authors = {r["author"] for r in rows if said[r["author"]] == {words}}
        if len(authors) < 2:
            continue
        # only now the store: everything else these accounts wrote
        throwaway = {who for who in authors if sole_words(who) == words}
        if len(throwaway) < 2:
            continue
        rows = sorted((r for r in rows if r["author"] in throwaway), key=lambda r: (r["item"].get("at") or "", r["key"]))
        found.append({"text": rows[0]["item"]["text"], "accounts": sorted(throwaway), "count": len(rows),
                      "points": sum(r["points"] for r in rows),
                      "first": rows[0]["item"].get("at"), "last": rows[-1]["item"].get("at")})
    found.sort(key=lambda g: (-g["points"], g["text"]))
    return found


def of_person(store, result: dict | None, behind: list[dict], identity: str) -> list[dict]:
    """copied() for a stored person (`behind`: behind.items_behind of their result), each group
    with `without`: about what the score would be without it. Accounts the user linked are
    people they know."""
    if not behind:
        return []
    links = store.get_config("links") or {}
    linked = set(links) | set(links.values())

    @functools.cache
    def sole_words(who):
        if who in linked:
            return None
        found = {words_of(d.get("text")) for d in store.items_by_author(who)}
        return found.pop() if len(found) == 1 else None
    groups = copied(behind, identity, sole_words)
    for g in groups:
        g["without"] = score_without(result, g["points"])
    return groups


def score_without(result: dict, points: float) -> int:
    """About what the score would be without items giving `points` of it: the breakdown splits
    the score over the items in proportion to their raw parts, so they hold that share of the raw
    value, which goes through the fixed map again. Throwaway accounts lend no standing, so this is
    what forgetting them gives (to within a point in the seeds' spam worlds: docs/klout.md);
    for accounts that others engage it leaves out what their standing passed on."""
    total = sum((result.get("breakdown") or {}).get("by_item", {}).values())
    if total <= 0:
        return int(result["score"])
    share = min(max(points / total, 0.0), 1.0)
    return int(model.to_score(model.points(result["raw"] * (1.0 - share))))
