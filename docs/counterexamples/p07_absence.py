# Property 7: "7 silent days move the score by less than 1 point, 30 silent days by at most 5".
# test_p07 uses only a uniform history from a pool of 40 regulars (saturated pairs). Here: one-off
# commenters (unsaturated), uniform, and with a busier stretch 50-60 days ago (a popular post).
import random
from common import *
from datetime import timedelta
def show(name, w, who="t"):
    p = [res(w.items, who, at=NOW + timedelta(days=d))["points"] for d in (0, 7, 30)]
    print(f"{name:45s} now {p[0]:.2f}  +7 silent days {p[1]-p[0]:+.2f}  +30 silent days {p[2]-p[0]:+.2f}")
rng = random.Random(1)
def history(per_day, days=89):
    """One new person per comment; per_day(d) comments on the day d days ago."""
    w = World(); n = 0
    for d in range(days):
        for _ in range(per_day(d)):
            w.engage(f"one{n}", "t", ago(d + rng.random())); n += 1
    return w
show("uniform, one new person a day", history(lambda d: 1))
show("one new person a day for the last 60 days", history(lambda d: 1, days=60))
show("a post 52-60 days ago drew 2 comments/day for 8 days, else 1 per 4 days",
     history(lambda d: (2 if 52 <= d < 60 else 0) + (d % 4 == 0)))
show("busier month 30-60 days ago (3/day), else 1 per 3 days",
     history(lambda d: (3 if 30 <= d < 60 else 0) + (d % 3 == 0)))
show("4 comments/day 53-60 days ago, else 1 per 5 days",
     history(lambda d: (4 if 53 <= d < 60 else 0) + (d % 5 == 0)))
