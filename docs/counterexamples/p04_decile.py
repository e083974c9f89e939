# Property 4: "a reply from a top-decile identity counts at least 5 times one from an identity with
# no history". test_p04 checks the weakest top-decile member *by standing* in one world (seed 4),
# and for the top decile *by score* only the median. Here: other seeds / densities, and the weakest
# top-decile member by score.
import numpy as np
from common import *
def check(people, inter, seed):
    w = World(); names = community(w, people=people, interactions=inter, seed=seed)
    s = Scorer(); s.add(w.items)
    res = [r for r in s.results([f"{SITE}:{n}" for n in names], at=NOW).values()]
    out = []
    for key in ("standing", "score"):
        srt = sorted(res, key=lambda r: (r[key], r["standing"]))
        top = srt[int(len(srt) * 0.9):]
        weakest = min(top, key=lambda r: r["standing"])["identity"].split(":")[1]
        w2 = World(); w2.items = list(w.items); w2._posts = dict(w._posts); w2._n = w._n
        w2.engage(weakest, "target_a", ago(1)); w2.engage("brand_new_account", "target_b", ago(1))
        s2 = Scorer(); s2.add(w2.items)
        a, b = s2.result(f"{SITE}:target_a", at=NOW)["raw"], s2.result(f"{SITE}:target_b", at=NOW)["raw"]
        out.append(f"top decile by {key}: weakest {weakest} ratio {a/b:.2f}")
    print(f"people {people} interactions {inter} seed {seed}: " + "; ".join(out))
for args in [(1000, 2500, 4), (1000, 2500, 5), (1000, 2500, 7), (1000, 1500, 4), (1000, 5000, 4), (300, 2500, 4), (1000, 10000, 4)]:
    check(*args)
