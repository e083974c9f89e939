# Property 1 through standing (second audit, 6 December 2026): X's only engagement is one reply to
# Y, `old` days ago; Y (engaged by X and two busy accounts) has replied to T twenty times. X then
# replies to T once. X passes all its standing along the faint old reply and the new one takes
# half of it from Y: T lost up to 8.5 points with the ceiling's first rise, 5.9 now, 3.5 without it.
from common import *
for old in (0, 300, 1000, 2000):
    w = World()
    w.post_of("t")
    w.engage("x", "y", ago(old + 0.5))
    for b in ("b1", "b2"):
        w.engage(b, "y", ago(5))
        for i in range(30):
            w.engage(b, f"other-{b}-{i}", ago(6 + i))
    for d in range(20):
        w.engage("y", "t", ago(1 + 3 * d))
    before, y0 = res(w.items, "t"), res(w.items, "y")["standing"]
    w.engage("x", "t", ago(2), "Great post, thanks!")
    after, y1 = res(w.items, "t"), res(w.items, "y")["standing"]
    print(f"X->Y {old:4d} days ago: Y lends {y0:.3f} -> {y1:.3f}; "
          f"T {before['points']:.2f} -> {after['points']:.2f} ({after['points'] - before['points']:+.2f})")
