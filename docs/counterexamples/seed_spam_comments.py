"""The seeds' spam complaint (docs/klout.md): "I started getting several spammy comments on my
blog. And then I got an email that my Klout score went up." Spam accounts are newcomers, each
counting as one, so a few of them in a day lift a blogger's score. Over three communities (400
people, 3,000 interactions), for bloggers near 12, 20, 30 and 40 points.

What the dashboard then lists (server/copies.py, the person page's "same words from several
accounts") is printed for the run of 5: the accounts it finds, the points they give, and the score
it says forgetting them leaves (which should be the score before the run)."""
from common import SITE, World, ago, community, res
from server.copies import copied, score_without, words_of


def sole(texts):
    found = {words_of(t) for t in texts}
    return found.pop() if len(found) == 1 else None

SPAM = "Great article! Check out cheap-deals.example for more."

for seed in (1, 2, 3):
    w = World()
    community(w, people=400, interactions=3000, seed=seed)
    base = list(w.items)
    picked = {}
    for handle in sorted({i["author"]["handle"] for i in base}):
        r = res(base, handle)
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
            r = res(w2.items, handle)
            lifted.append(f"{n} -> {r['score']}")
            if n == 5:
                by_key = {f"{i['site']}:{i['id']}": i for i in w2.items}
                behind = [{"key": k, "item": by_key[k], "points": p, "author": f"{SITE}:{by_key[k]['author']['handle']}"}
                          for k, p in r["breakdown"]["by_item"].items()]
                wrote = {}
                for i in w2.items:
                    wrote.setdefault(f"{SITE}:{i['author']['handle']}", []).append(i["text"])
                found = copied(behind, f"{SITE}:{handle}", lambda who: len(wrote[who]), lambda who: sole(wrote[who]))
                listed = "; listed: " + ", ".join(
                    f"{len(g['accounts'])} accounts, {g['points']:.1f} points, without them about "
                    f"{score_without(r, g['points'])}" for g in found)
        print(f"community {seed}: {handle} at {before}: spam comments in one day " + ", ".join(lifted) + listed)
