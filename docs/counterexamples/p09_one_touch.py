# Property 9 beyond a closed group (third audit, 8 December 2026): the skip-cycle ring
# (p09_skipcycle_hub.py) plus ONE reply from a well-engaged outside account (a support desk that
# 200 community members wrote to) to one ring member. The desk's engagers are then within three
# steps of the hub, so the reach ceiling no longer holds it, and its score follows its standing
# again. Before the ceiling: hub 44 with no touch, 71 with the reply to ring1, 56 to ring0.
import random
from common import *
def world(touch, writers=200, to="ring1"):
    w = World(); names = community(w, people=600, interactions=1500, seed=9)
    rng = random.Random(99)
    skip_cycle(w, rng)
    for i in range(writers):
        w.engage(names[i], "desk", ago(rng.uniform(0.1, 60)))
    if touch:
        w.engage("desk", to, ago(1.0), "Thanks for reaching out, we are looking into it.")
    for i in range(30):
        w.engage(f"reader{i}", "organic", ago(0.05 + rng.random() * 60))
    return w
for touch, to in ((False, None), (True, "ring1"), (True, "ring0")):
    s = Scorer(); s.add(world(touch, to=to).items)
    rs = [s.result(f"{SITE}:ring{i}", at=NOW) for i in range(10)]
    org = s.result(f"{SITE}:organic", at=NOW)
    print(f"desk reply to {to}: organic {org['score']}; ring {[r['score'] for r in rs]} views {[r['view'][0] for r in rs]} "
          f"hub reach {rs[0]['reach']}; hub beats organic: {rs[0]['score'] > org['score']}")
