"""The seeds' spam complaint (docs/klout.md): "I started getting several spammy comments on my
blog. And then I got an email that my Klout score went up." Spam accounts are newcomers. Before
model 2026-12-08 each counted as one, so 5 in a day lifted a blogger's score from about 20 to 28.
Since then the scorer counts the same words to one person once, for the account that sent them
first (docs/scoring.md, section 6): the run's first comment lifts the score as one newcomer's
comment does (about 1-6 points), and every further copy lifts nothing, so 1, 3, 5 and 10 spam
comments give the same score. Over three communities (400 people, 3,000 interactions), for
bloggers near 12, 20, 30 and 40 points.

What the dashboard then lists (server/copies.py, the person page's "same words from several
accounts") is printed for the run of 5: the accounts it finds, how many of their items count
nothing already, the points they give, and the score it says forgetting them leaves (which should
be the score before the run)."""
from common import NOW, SITE, World, ago, community
from scoring import Scorer
from scoring.samewords import words_of
from server.copies import copied, score_without


def sole(texts):
    found = {words_of(t) for t in texts}
    return found.pop() if len(found) == 1 else None

SPAM = "Great article! Check out cheap-deals.example for more."

for seed in (1, 2, 3):
    w = World()
    community(w, people=400, interactions=3000, seed=seed)
    base = list(w.items)
    picked = {}
    s = Scorer()
    s.add(base)
    for handle in sorted({i["author"]["handle"] for i in base}):
        r = s.result(f"{SITE}:{handle}", at=NOW)
        if r is None:
            continue
        for want in (12, 20, 30, 40):
            if want not in picked and abs(r["score"] - want) <= 1:
                picked[want] = (handle, r["score"])
    for want, (handle, before) in sorted(picked.items()):
        lifted, listed = [], ""
        for n in (1, 3, 5, 10):
            w2 = World()
            w2.items, w2._posts, w2._n = list(base), dict(w._posts), w._n
            post = w2.post_of(handle)
            for k in range(n):
                w2.comment(f"spambot{k}", post, ago(0.5), text=SPAM)
            s2 = Scorer()
            s2.add(w2.items)
            r = s2.result(f"{SITE}:{handle}", at=NOW)
            lifted.append(f"{n} -> {r['score']}")
            if n == 5:
                by_key = {f"{i['site']}:{i['id']}": i for i in w2.items}
                behind = [{"key": k, "item": by_key[k], "points": p, "author": f"{SITE}:{by_key[k]['author']['handle']}"}
                          for k, p in r["breakdown"]["by_item"].items()]
                # the copies counted nothing join them at 0 points, as the person page adds them
                behind += [{"key": f"{site}:{i}", "item": by_key[f"{site}:{i}"], "points": 0.0, "uncounted": True,
                            "author": f"{SITE}:{by_key[f'{site}:{i}']['author']['handle']}"}
                           for site, i in s2.later_copies(f"{SITE}:{handle}", at=NOW)]
                wrote = {}
                for i in w2.items:
                    wrote.setdefault(f"{SITE}:{i['author']['handle']}", []).append(i["text"])
                found = copied(behind, f"{SITE}:{handle}", lambda who: len(wrote[who]), lambda who: sole(wrote[who]))
                listed = "; listed: " + ", ".join(
                    f"{len(g['accounts'])} accounts, {g['uncounted']} items counted 0, {g['points']:.1f} points, "
                    f"without them about "
                    f"{score_without(r, g['points'])}" for g in found)
        print(f"community {seed}: {handle} at {before}: spam comments in one day " + ", ".join(lifted) + listed)
