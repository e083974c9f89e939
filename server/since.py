"""What moved a score since its last daily snapshot before today, in two parts: what was captured
since, and everything else (older engagement ageing, the standing of the people who gave it, a new
scoring model). Klout's users saw "71. And then back down to 69" and "down a half-point ... what's
that mean???" with nothing to tell them (docs/klout.md); the person page and the API say which
part moved.

The first part is the score without the items first seen after the snapshot's day, estimated as
copies.score_without does (their share of the raw value through the map); the second is the
rest of the change: ageing, others' standing, and whatever changed with no new capture (an item
captured again with an edit or more reactions, an import, which keeps when its items were first
seen elsewhere, links, settings). Both are whole points, as the scores are, and add up to the
change. A capture records the new scores of the people it changes (app.py), so a day's snapshot
comes after that day's captures.
"""
from __future__ import annotations

from scoring import model

from .copies import score_without


def since_last(history: list[dict], behind: list[dict], result: dict | None, today: str,
               model_changes: list, current_model: str = model.VERSION) -> dict | None:
    """{day, then, now, count, new, rest, model} (`count`: the items first seen since), or None
    when there is no score or no snapshot before `today` (YYYY-MM-DD). `history`: [{day, score}]
    oldest first (points marked `computed` are not snapshots and are passed over); `behind`: the
    rows of behind.items_behind or ranked_behind (their `seen`); `model_changes`: [[first day,
    version], ...] as recorded. `model` is the version that took over after the snapshot's day (or the current
    one, when the record does not have it yet), or None. One that took over on the snapshot's
    own day is not named: that day's snapshot may come from either."""
    # A chart's points computed from the items (a new data dir) date items by when they were
    # written, not captured: beside what was captured since, they would count items twice.
    past = [p for p in history if p["day"] < today and not p.get("computed")]
    if result is None or not past:
        return None
    day, then = past[-1]["day"], int(past[-1]["score"])
    now = int(result["score"])
    fresh = [r for r in behind if r["seen"][:10] > day]
    without = score_without(result, sum(r["points"] for r in fresh)) if fresh else now
    model = None
    for first, version in model_changes:
        if day < first <= today:
            model = version
    if model_changes and model_changes[-1][1] != current_model:
        model = current_model  # scoring already, noted with the next snapshots written
    return {"day": day, "then": then, "now": now, "count": len(fresh), "new": now - without,
            "rest": without - then, "model": model}
