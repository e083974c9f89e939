"""Comments that several throwaway accounts sent one person in the same words: what a spam run
looks like.

The scorer cannot tell a spam account's first comment from a real newcomer's (docs/klout.md). It
counts the earliest of the same words to one person only (docs/scoring.md, section 6): a run's
later copies count nothing, its first still counts as a newcomer's comment. The trace bots leave
is one text posted by account after account, each account writing nothing else. The person page
lists such groups, the copies counted 0 with them, with about what the score would be without
the run, and the user decides whether to forget the accounts. Nothing is decided for the user:
two friends seen once each can write the same birthday wish (and then only the first one's
counts).
"""
from __future__ import annotations

from collections import Counter

from scoring import model
from scoring.samewords import words_of  # the scorer's own rule reads words so

from .behind import light_rows, with_items


def copied(behind: list[dict], person: str, count_of, sole_words) -> list[dict]:
    """The groups of items counted for `person` (behind.items_behind's rows) that have the same
    words and come from at least two accounts that wrote nothing else. `count_of(account)`: how
    many stored items the account wrote, or None for an account the user linked (a person they
    know); `sole_words(account)`: the words (words_of) of everything it wrote when they are all
    the same, else None. It reads the store, so it is asked only about accounts that wrote more
    than the rows here show. The person's own items (behind a score through their reactions)
    are left out. Rows marked `uncounted` are copies the scorer counts nothing (0 points). Each
    group: the earliest copy's text as written, the accounts, how many items (`count`), how many
    of them count nothing (`uncounted`) and the points they give; most points first."""
    groups: dict[str, list[dict]] = {}
    said: dict[str, set] = {}  # each author's words in these rows: most people say several things
    rows_of: dict[str, int] = {}
    for row in behind:
        if row["author"] == person:
            continue
        words = words_of(row["item"].get("text"))
        said.setdefault(row["author"], set()).add(words)
        rows_of[row["author"]] = rows_of.get(row["author"], 0) + 1
        if words is not None:
            groups.setdefault(words, []).append(row)

    def throwaway(who, words):
        n = count_of(who)
        return n is not None and (n == rows_of[who] or sole_words(who) == words)

    found = []
    for words, rows in groups.items():
        authors = {r["author"] for r in rows if said[r["author"]] == {words}}
        if len(authors) < 2:
            continue
        accounts = {who for who in authors if throwaway(who, words)}
        if len(accounts) < 2:
            continue
        rows = sorted((r for r in rows if r["author"] in accounts), key=lambda r: (r["item"].get("at") or "", r["key"]))
        found.append({"text": rows[0]["item"]["text"], "accounts": sorted(accounts), "count": len(rows),
                      "uncounted": sum(1 for r in rows if r.get("uncounted")),
                      "points": sum(r["points"] for r in rows),
                      "first": rows[0]["item"].get("at"), "last": rows[-1]["item"].get("at")})
    found.sort(key=lambda g: (-g["points"], g["text"]))
    return found


def of_person(store, result: dict | None, behind: list[dict], identity: str, scorer) -> list[dict]:
    """copied() for a stored person (`behind`: behind.items_behind or ranked_behind of their
    result; `scorer`: the items it counts nothing as later copies join them, at 0 points), each
    group with `without`: about what the score would be without it (score_without), and
    `capped`: a day of the score was capped, and then `without` is low (see score_without).
    Accounts the user linked are people they know."""
    if not behind:
        return []
    links = store.get_config("links") or {}
    linked = set(links) | set(links.values())
    # the items of the rows that can make a group (a few where a blog has 50,000 comments) are
    # read, where the rows do not hold them (behind.ranked_behind)
    uncounted = light_rows(store, [(f"{site}:{item_id}", 0.0) for site, item_id in scorer.later_copies(identity)])
    for r in uncounted:
        r["uncounted"] = True
    behind = with_items(store, may_be_copies(behind + uncounted, identity, linked))

    def count_of(who):
        return None if who in linked else store.count_by_author(who)

    def sole_words(who):
        found = {words_of(d.get("text")) for d in store.items_by_author(who)}
        return found.pop() if len(found) == 1 else None
    groups = copied(behind, identity, count_of, sole_words)
    capped = bool(result) and result.get("view") == "days"
    for g in groups:
        g["without"] = score_without(result, g["points"])
        g["capped"] = capped
    return groups


def may_be_copies(rows: list[dict], person: str, linked: set) -> list[dict]:
    """The rows that copied() can put in a group, from their `words` hashes (behind.row_fields):
    the rows of accounts (not the person, not linked) whose rows all have the same words, when
    at least two such accounts have them. An account's rows are all kept or all left out, so
    copied() counts and compares each kept account's rows as it would among all of them; equal
    words have equal hashes, so no group is lost, and copied() checks the words themselves."""
    said: dict[str, set] = {}
    for r in rows:
        if r["author"] != person and r["author"] not in linked:
            said.setdefault(r["author"], set()).add(r["words"])
    sole = {who: next(iter(w)) for who, w in said.items() if len(w) == 1 and None not in w}
    accounts = Counter(sole.values())
    return [r for r in rows if r["author"] in sole and accounts[sole[r["author"]]] >= 2]


def score_without(result: dict, points: float) -> int:
    """About what the score would be without items giving `points` of it: the breakdown splits
    the score over the items in proportion to their raw parts, so they hold that share of the raw
    value, which goes through the fixed map again. Throwaway accounts lend no standing, so this is
    what forgetting them gives when no day of the score is capped (exact in the 12 spam worlds of
    docs/klout.md). When a day is capped (the result's view is "days"), that day's cut is shared
    by all of its items, so theirs are taken off with part of the others': without them the
    others count whole again, and the score comes out higher than this (by 2-6 points, in a
    reviewer's runs of spam on a day of real comments). For accounts that others engage it
    leaves out what their standing passed on."""
    total = sum((result.get("breakdown") or {}).get("by_item", {}).values())
    if total <= 0:
        return int(result["score"])
    share = min(max(points / total, 0.0), 1.0)
    return int(model.to_score(model.points(result["raw"] * (1.0 - share))))
