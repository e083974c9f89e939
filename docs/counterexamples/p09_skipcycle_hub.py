# Property 9 again: 9 accounts in a directed skip-cycle (i -> i+1, i+2, i+3 mod 9, no reciprocity)
# that also all engage a 10th account (the hub). 1,000 interactions within the 10 accounts.
import random
from common import *
w = World(); community(w, people=600, interactions=1500, seed=9)
rng = random.Random(99)
ring = skip_cycle(w, rng)
for i in range(30):
    w.engage(f"reader{i}", "organic", ago(0.05 + rng.random() * 60))
s = Scorer(); s.add(w.items)
org = s.result(f"{SITE}:organic", at=NOW)
rs = [s.result(f"{SITE}:{r}", at=NOW) for r in ring]
print("organic", org["score"], "raw", round(org["raw"], 2))
print("ring scores", [r["score"] for r in rs], "standings", [round(r["standing"], 2) for r in rs])
print("hub raw", round(rs[0]["raw"], 2), "-> hub beats organic:", rs[0]["score"] > org["score"])
