# Replays p01_worst_kept.json (found by p01_search.py + p01_climb.py): one more positive comment
# from an established actor lowers its target's score by ~7.7 points (the weakened test allows 5).
import json, collections
from common import *
evts, a, t, d = json.load(open("p01_worst_kept.json"))
w = World()
for x, y, dd in evts: w.engage(x, y, ago(dd))
w.post_of(t)
s = Scorer(); s.add(w.items); b = s.result(f"{SITE}:{t}", at=NOW)
w.engage(a, t, ago(d))
s2 = Scorer(); s2.add(w.items); af = s2.result(f"{SITE}:{t}", at=NOW)
print(f"{len(evts)} events among {sorted({e[0] for e in evts} | {e[1] for e in evts})}")
print(f"+1 comment {a} -> {t} ({d:.1f} days ago, 'Good point, thanks.')")
print(f"target {t}: points {b['points']} -> {af['points']}, score {b['score']} -> {af['score']}, raw {b['raw']:.3f} -> {af['raw']:.3f}, view {b['view']} -> {af['view']}")
print("by_person before", b["breakdown"]["by_person"]); print("by_person after ", af["breakdown"]["by_person"])
for who in sorted({e[0] for e in evts}):
    r1, r2 = s.result(f"{SITE}:{who}", at=NOW), s2.result(f"{SITE}:{who}", at=NOW)
    print(f"  {who}: standing {r1['standing']} -> {r2['standing']}")
print("pairs:", collections.Counter((x, y) for x, y, _ in evts))
