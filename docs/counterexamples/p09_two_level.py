# Property 9 (second audit, 6 December 2026): a two-level star. Feeders engage only lieutenants,
# lieutenants engage only the star: 10 accounts, 1,000 interactions, the test's community around
# them. The lieutenants' standing comes from the feeders, so the ceiling for actors who lend no
# standing does not apply to them.
import random
from common import *
for n_lt in (2, 3, 4, 5):
    w = World()
    community(w, people=600, interactions=1500, seed=9)
    rng = random.Random(99)
    ring = [f"ring{i}" for i in range(10)]
    star, lts, feeders = ring[0], ring[1:1 + n_lt], ring[1 + n_lt:]
    for k in range(1000):
        j = k // 2
        a, b = (lts[j % n_lt], star) if k % 2 == 0 else (feeders[j % len(feeders)], lts[j // len(feeders) % n_lt])
        w.engage(a, b, ago(0.05 + rng.random() * 60))
    for i in range(30):
        w.engage(f"reader{i}", "organic", ago(0.05 + rng.random() * 60))
    s = Scorer(); s.add(w.items)
    star_r, lt_r = s.result(f"{SITE}:{star}", at=NOW), s.result(f"{SITE}:{lts[0]}", at=NOW)
    print(f"{n_lt} lieutenants: star {star_r['score']}, lieutenant lends {lt_r['standing']:.2f}, "
          f"organic {s.result(f'{SITE}:organic', at=NOW)['score']} (must be above every ring member, and 30 at most)")
