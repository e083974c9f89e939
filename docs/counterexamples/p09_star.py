# Property 9: "10 accounts that only engage each other, 1,000 times, all end below an identity
# with 30 organic repliers, and at most 30". Same world as test_p09 (community 600/1500 seed 9).
import random
from common import *
def run(shape):
    w = World(); community(w, people=600, interactions=1500, seed=9)
    rng = random.Random(99)
    ring = [f"ring{i}" for i in range(10)]
    for k in range(1000):
        if shape == "star":            # 9 accounts engage only ring0 (ring0 engages nobody)
            a, b = ring[1 + k % 9], ring[0]
        elif shape == "star+thanks":   # ... and ring0 thanks each of them once
            if k < 9: a, b = ring[0], ring[1 + k]
            else: a, b = ring[1 + k % 9], ring[0]
        elif shape == "two hubs":      # 8 accounts engage ring0 and ring1 alternately
            a, b = ring[2 + k % 8], ring[k // 8 % 2]
        w.engage(a, b, ago(0.05 + rng.random() * 60))
    for i in range(30):
        w.engage(f"reader{i}", "organic", ago(0.05 + rng.random() * 60))
    s = Scorer(); s.add(w.items)
    org = s.result(f"{SITE}:organic", at=NOW)["score"]
    rs = [s.result(f"{SITE}:{r}", at=NOW) for r in ring]
    print(f"{shape:12s} organic {org}; ring scores {[r['score'] for r in rs]}; max {max(r['score'] for r in rs)} (must be <= 30)")
for shape in ("star", "star+thanks", "two hubs"):
    run(shape)
