# Property 6: "a day with 50 times the usual engagement raises the long-run score by at most 3 points".
# Target with a quiet steady history: one comment from a new person every `every` days.
from common import *
for every in (2, 3, 5, 9, 15, 30):
    w = World()
    days = [d for d in range(2, 89, every)]
    for i, d in enumerate(days):
        w.engage(f"reg{i}", "quiet", ago(d + 0.3))
    usual = len(days) / 89.0            # comments per day
    burst = max(1, round(50 * usual))    # 50 times the usual day
    before = res(w.items, "quiet")
    for i in range(burst):
        w.engage(f"friend{i}", "quiet", ago(1.5 + i / 500), "Happy birthday!")  # one UTC day
    after = res(w.items, "quiet")
    print(f"usual {usual:.3f}/day ({len(days)} in 89 d), burst {burst} replies in a day: "
          f"points {before['points']:.2f} -> {after['points']:.2f} (+{after['points']-before['points']:.2f}), "
          f"score {before['score']} -> {after['score']}")
