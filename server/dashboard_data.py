"""What the dashboard pages show, computed from the store and the scorer: kept apart from the views
so the pages stay thin and this can be tested without a browser.

Every function here is called with the services lock held (the views take it), so store reads and
scorer answers belong to the same moment.
"""
from __future__ import annotations

import heapq
import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask import current_app

from .api import BadRequest, check_identity, validate_settings
from .behind import row_fields

RECENT = 15
# Each past point is a full scoring run; above this many items a page would wait seconds for them.
RECOMPUTE_MAX_ITEMS = 50_000
STALE_SECONDS = 30


# -- settings the dashboard edits -----------------------------------------------------------


def own_identities(store) -> list[str]:
    return list(store.get_config("own_identities") or [])


def settings_form(current: dict, own: list[str]) -> dict:
    """The settings as the form's text fields show them (one entry a line)."""
    return {
        "own": "\n".join(own),
        "site_weights": "\n".join(f"{k} = {v:g}" for k, v in sorted(current["site_weights"].items())),
        "topics": "\n".join(f"{k}: {', '.join(v)}" for k, v in sorted(current["topics"].items())),
        "horizon_days": str(current["horizon_days"]),
    }


def _lines(text: str):
    for n, line in enumerate((text or "").replace("\r", "").split("\n"), 1):
        if line.strip() and not line.strip().startswith("#"):
            yield n, line.strip()


def parse_settings_form(form) -> tuple[dict, dict]:
    """(parsed, errors): the text fields become the API's settings document, checked by the same
    validate_settings as PUT /api/settings; errors name the field and the line to fix."""
    errors: dict[str, str] = {}
    own = []
    for n, line in _lines(form.get("own", "")):
        if "://" in line:  # a pasted profile address would be kept as the site "https"
            errors["own"] = (f"line {n}: that is an address; write the identity as site:handle, the site and the "
                             "name your comments there are signed with (e.g. news.ycombinator.com:pg)")
            break
        try:
            own.append(check_identity(line.lower(), "own"))
        except BadRequest:
            errors["own"] = f"line {n}: write an identity as site:handle (e.g. blog.example:anna rydne)"
            break
    weights = {}
    for n, line in _lines(form.get("site_weights", "")):
        site, sep, value = line.partition("=")
        try:
            weights[site.strip().lower()] = float(value) if sep else None
        except ValueError:
            weights[site.strip().lower()] = None
        if weights[site.strip().lower()] is None:
            errors["site_weights"] = f"line {n}: write site = weight, a number from 0 to 10"
            break
    topics = {}
    for n, line in _lines(form.get("topics", "")):
        name, sep, words = line.partition(":")
        kws = [w.strip() for w in words.split(",") if w.strip()]
        if not sep or not name.strip() or not kws:
            errors["topics"] = f"line {n}: write topic: keyword, keyword"
            break
        topics[name.strip().lower()] = kws
    try:
        horizon = int(form.get("horizon_days", "").strip())
    except ValueError:
        horizon = None
    doc = {"site_weights": weights, "topics": topics, "horizon_days": horizon}
    clean = {}
    # each field checked on its own, so that every field at fault says so at once
    for key, value in doc.items():
        if key in errors:
            continue
        try:
            clean.update(validate_settings({key: value}))
        except BadRequest as exc:
            errors[key] = f"{exc.field}: {exc.message}"
    return {"own": list(dict.fromkeys(own)), "settings": clean if not errors else {}}, errors


def save_settings(s, new: dict, own: list[str]):
    """Save, then re-score at once (Services.set_settings): the next page shows the new scores."""
    s.store.set_config("own_identities", own)
    s.set_settings(new)
    invalidate()


# -- identities ------------------------------------------------------------------------------

_IDENT = re.compile(r"^([a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?):(.+)$")


def split_identity(identity: str) -> tuple[str, str, str]:
    """(site, ':', handle). A site may carry a port (`localhost:8080:anna`); "host:123:x" is read
    as a port, not as a handle that starts with "123:"."""
    m = _IDENT.match(identity or "")
    if not m:
        return "", "", ""
    return m.group(1), ":", m.group(4)


def site_of(identity: str) -> str:
    return split_identity(identity)[0]


def topic_names(result: dict | None) -> list[str]:
    return [t for t, _ in topic_rows(result)]


def topic_rows(result: dict | None) -> list[tuple[str, int]]:
    """The person's topic scores (1-100) as (name, score), highest first."""
    topics = (result or {}).get("topics") or {}
    return sorted(((k, int(v)) for k, v in topics.items()), key=lambda kv: (-kv[1], kv[0]))


def shares(mapping) -> list[dict]:
    """Rows for a breakdown table: value, and its share of the largest, for the bar."""
    rows = sorted(((k, float(v)) for k, v in (mapping or {}).items()), key=lambda kv: (-kv[1], kv[0]))
    top = max((abs(v) for _, v in rows), default=0) or 1
    return [{"key": k, "value": v, "share": round(100 * abs(v) / top)} for k, v in rows]


# -- an index over the stored items (volume, recent captures) ------------------------------


@dataclass
class Index:
    count: int = 0
    by_site: dict[str, int] = field(default_factory=dict)
    recent: list[dict] = field(default_factory=list)


def _cache() -> dict:
    return current_app.extensions.setdefault("cloutlens_dashboard", {"generation": 0})


def invalidate():
    _cache()["generation"] += 1
    _cache().pop("index", None)


def index(store) -> Index:
    """Per-site volume and recent captures: one pass over the items, reused until the item count
    changes or the dashboard writes. A pass over a large store reads every shard file, so there a
    result stays in use for up to STALE_SECONDS while captures arrive."""
    cache = _cache()
    key = (store.count_items(), cache["generation"])
    hit = cache.get("index")
    if hit and (hit[0] == key or (hit[0][1] == key[1] and key[0] > RECOMPUTE_MAX_ITEMS
                                  and time.monotonic() - hit[2] < STALE_SECONDS)):
        return hit[1]
    out = Index(count=key[0])
    by_site: Counter = Counter()
    recent = []
    for n, item in enumerate(store.iter_items()):
        by_site[item["site"]] += 1
        entry = (item.get("seen") or "", item.get("at") or "", n, item)
        if len(recent) < RECENT:
            heapq.heappush(recent, entry)
        else:
            heapq.heappushpop(recent, entry)
    out.by_site = dict(by_site)
    out.recent = [e[3] for e in sorted(recent, reverse=True)]
    cache["index"] = (key, out, time.monotonic())
    return out


# -- the people list ------------------------------------------------------------------------

# Sort keys over full results; "score" and "name" need none (see people_page).
RESULT_SORTS = {
    "trend": lambda r: (-(r.get("trend") or 0), r["identity"]),
    "interactions": lambda r: (-(r.get("interactions") or 0), r["identity"]),
    "people": lambda r: (-(r.get("people") or 0), r["identity"]),
}


def known_topics(s) -> list[str]:
    """Topic names for the filter: the user's topics and the hashtags the scorer has seen. Not
    only topics someone already qualifies for: knowing those would take every person's result."""
    names = getattr(getattr(s.scorer, "topics", None), "names", None)
    if names is None:
        names = list((s.store.get_config("settings") or {}).get("topics") or {})
    return sorted(set(names))


def _found(needle: str, text: str) -> bool:
    """The needle (folded, single spaces) in the text folded, where any run of whitespace counts
    as one space: "anna rydne" finds a name captured as "Anna  Rydne" or with a no-break space.
    The text is respaced only when it has two spaces or a character that is not printable (a
    tab, a no-break space...), as few have: respacing every name made a search of 300,000 people
    4 times as slow."""
    folded = text.casefold()
    return needle in folded or (("  " in folded or not folded.isprintable())
                                and needle in " ".join(folded.split()))


def people_page(s, q: str = "", site: str = "", topic: str = "", lo: int = 1, hi: int = 100,
                sort: str = "score", page: int = 1, page_size: int = 50) -> dict:
    """The people list's inputs (rows, total, everyone, names, sites, topics, page, pages, first)
    from the scorer's plain scores, with full results (breakdowns) built for the shown rows only.
    Ordered by score, ties by identity: the scorer's ranking. A topic filter or a sort by trend,
    interactions or people needs the result of every matching person, and builds only those."""
    scores = s.scorer.scores()  # the ranking's order, no breakdowns
    names = s.store.names()
    needle = " ".join(q.casefold().split())
    ids = [i for i, sc in scores.items()
           if lo <= sc <= hi
           and (not site or site_of(i) == site)
           and (not needle or _found(needle, i) or _found(needle, names.get(i, "")))]
    full = None
    if topic or sort in RESULT_SORTS:
        got = s.scorer.results(ids)
        full = [got[i] for i in ids if i in got and (not topic or topic in topic_names(got[i]))]
        if sort in RESULT_SORTS:
            full.sort(key=RESULT_SORTS[sort])
        ids = [r["identity"] for r in full]
    if sort == "name":
        by_name = {i: n for n, i in enumerate(sorted(ids, key=lambda i: (names.get(i, i).casefold(), i)))}
        ids.sort(key=by_name.__getitem__)
        if full is not None:
            full.sort(key=lambda r: by_name[r["identity"]])
    pages = max(1, -(-len(ids) // page_size))
    page = min(max(page, 1), pages)
    first = (page - 1) * page_size
    shown = ids[first:first + page_size]
    if full is not None:
        rows = full[first:first + page_size]
    else:
        got = s.scorer.results(shown)
        rows = [got[i] for i in shown if i in got]
    return {"rows": rows, "total": len(ids), "everyone": len(scores), "names": names,
            "sites": sorted({site_of(i) for i in scores}), "topics": known_topics(s),
            "page": page, "pages": pages, "first": first}


# -- a person ------------------------------------------------------------------------------


def authored_rows(s, authored: list[dict], limit: int, start: int = 0) -> list[dict]:
    """The person's own items, newest first, from `start`, with what each gave to whom, hostile
    ones marked."""
    rows = []
    for item in sorted(authored, key=lambda d: (d.get("at") or "", d["id"]), reverse=True)[start:start + limit]:
        contrib = s.scorer.item_contributions(item["site"], item["id"]) or {}
        given = [r for r in contrib.get("rows") or [] if isinstance(r, dict)]
        rows.append({"item": item, "rows": given, "total": contrib.get("total", 0.0),
                     "hostile": any("hostile" in (r.get("why") or "") for r in given)})
    return rows


def hostile_toward(s, identity: str, authored: list[dict], limit: int = 50) -> list[dict] | None:
    """The hostile replies and mentions addressed to the person, as the scorer classed them (its
    item_contributions say "hostile"). The store has no index by parent, so this scans the items:
    only done on stores small enough for that (None otherwise)."""
    if s.store.count_items() > RECOMPUTE_MAX_ITEMS:
        return None
    mine = {(i["site"], i["id"]) for i in authored}
    site, _, handle = split_identity(identity)
    out = []
    for item in s.store.iter_items():
        if (item["site"], item.get("parent")) not in mine and not (
                item["site"] == site and handle in (item.get("mentions") or ())):
            continue
        rows = (s.scorer.item_contributions(item["site"], item["id"]) or {}).get("rows") or []
        if any(r.get("to") == identity and "hostile" in (r.get("why") or "") for r in rows):
            out.append({"item": item, "author": f"{item['site']}:{item['author']['handle']}"})
    out.sort(key=lambda r: (r["item"].get("at") or "", r["item"]["id"]), reverse=True)
    return out[:limit]


def engages_with(store, authored: list[dict]) -> list[tuple[str, int]]:
    """Whom this person replies to and mentions, from their own items. The parents are read
    together, in store order (Store.get_items): one by one, 10,000 replies spread over the
    store parsed its shards 5,000 times and took over three minutes. Only their authors are
    needed: read with Store.item_fields (behind.row_fields, which the person page keeps for the
    items behind the score, where most parents are), so a later visit parses no shard for them."""
    counts: Counter = Counter()
    me = {f"{i['site']}:{i['author']['handle']}" for i in authored}
    parents = iter(store.item_fields([(i["site"], i["parent"]) for i in authored if i.get("parent")], row_fields))
    for item in authored:
        targets = set()
        parent = next(parents) if item.get("parent") else None
        if parent:
            targets.add(parent[0])  # its author
        for m in item.get("mentions") or ():
            targets.add(f"{item['site']}:{m}")
        for t in targets - me:
            counts[t] += 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def history(s, identity: str) -> list[dict]:
    """The daily snapshots; where there are fewer than two (a new data dir), points computed from
    the stored items as of past days, so a chart never sits empty while data exists."""
    snaps = s.store.history(identity)
    if len(snaps) >= 2 or s.store.count_items() > RECOMPUTE_MAX_ITEMS:
        return [dict(p, computed=False) for p in snaps]
    items = s.store.items_by_author(identity)
    first = min((i.get("at") or "" for i in items), default="")
    today = datetime.now(timezone.utc).replace(microsecond=0)
    start = today - timedelta(days=180)
    if first:
        try:
            start = max(start, datetime.fromisoformat(first.replace("Z", "+00:00")))
        except ValueError:
            pass
    # at most 13 points on distinct days, each as of that day's end (today: as of now), from the
    # first item's day: never a day twice, never one after today
    steps = 12
    days = (today.date() - start.date()).days
    end_of = datetime.combine(start.date(), datetime.max.time().replace(microsecond=0), tzinfo=timezone.utc)
    out = []
    for offset in sorted({round(days * k / steps) for k in range(steps + 1)}):
        at = min(end_of + timedelta(days=offset), today)
        res = s.scorer.result(identity, at=at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        if res is not None:
            out.append({"day": at.strftime("%Y-%m-%d"), "score": res["score"], "computed": True})
    return out


# -- charts: SVG geometry computed here, drawn by the templates -----------------------------


def line_chart(points: list[dict], width: int = 640, height: int = 200,
               model_changes: list[tuple[str, str]] = (), label: int = 28) -> dict | None:
    """Polyline coordinates for scores 0..100 over days; None when there is nothing to draw.
    model_changes: the store's [(first day, scoring model version)]; a change with snapshots on
    both sides of it is marked, so that a step there is not read as a change in engagement.
    label: the largest size, in the chart's units, that dashboard.css draws this chart's labels
    at (on the narrowest window)."""
    if not points:
        return None
    # the margins hold labels of that size: "100" on the left (three digits of about 0.64 em in
    # DejaVu Sans, the widest of the usual system fonts' digits, right of a 6-unit gap), half a
    # label above the top score
    left, right, top, bottom = 8 + round(1.92 * label), 28, round(0.6 * label) + 1, 24
    w, h = width - left - right, height - top - bottom
    days = [datetime.strptime(p["day"], "%Y-%m-%d") for p in points]
    d0, d1 = days[0], days[-1]
    span = max((d1 - d0).days, 1)
    lo = max(0, min(p["score"] for p in points) // 10 * 10 - 10)
    hi = min(100, -(-max(p["score"] for p in points) // 10) * 10 + 10)
    if hi - lo < 20:
        hi = min(100, lo + 20)
        lo = hi - 20
    xy = []
    for d, p in zip(days, points):
        x = left + w * ((d - d0).days / span if len(points) > 1 else 0.5)
        y = top + h * (1 - (p["score"] - lo) / (hi - lo))
        xy.append((round(x, 1), round(y, 1)))
    # A "minor" label is left out where the chart is drawn small (a phone): the labels kept are
    # drawn larger there, and all of them side by side would overlap.
    yticks = [{"y": round(top + h * (1 - (v - lo) / (hi - lo)), 1), "label": v, "minor": n % 2 == 1}
              for n, v in enumerate(range(int(lo), int(hi) + 1, 10 if hi - lo <= 60 else 20))]
    xticks = []
    # up to five labels, on distinct whole days (a short span has fewer, never one twice)
    offsets = sorted({round(span * k / 4) for k in range(5)}) if len(points) > 1 else [0]
    for n, off in enumerate(offsets):
        d = d0 + timedelta(days=off)
        xticks.append({"x": round(left + w * (off / span if len(points) > 1 else 0.5), 1),
                       "label": d.strftime("%b %d"), "minor": n % 2 == 1 and n != len(offsets) - 1})
    area = (f"{xy[0][0]},{top + h} " + " ".join(f"{x},{y}" for x, y in xy) + f" {xy[-1][0]},{top + h}")
    marks = []
    # Computed points are all the current model's. The first version recorded marks nothing: the
    # snapshots before it are from before versions were recorded, maybe by the same model.
    if not any(p.get("computed") for p in points):
        for (_, before), (day, version) in zip(model_changes, model_changes[1:]):
            if points[0]["day"] < day <= points[-1]["day"]:
                off = (datetime.strptime(day, "%Y-%m-%d") - d0).days
                marks.append({"x": round(left + w * off / span, 1), "day": day, "version": version,
                              "before": before})
    last = points[-1]
    return {
        "width": width, "height": height, "left": left, "right": width - right, "top": top,
        "baseline": height - round(0.3 * label),  # the days' labels: their descenders inside too
        "bottom": top + h, "line": " ".join(f"{x},{y}" for x, y in xy), "area": area,
        "dots": [{"x": x, "y": y, "day": p["day"], "score": p["score"]} for (x, y), p in zip(xy, points)],
        "yticks": yticks, "xticks": xticks, "first": points[0], "last": last,
        "computed": any(p.get("computed") for p in points), "count": len(points), "model_marks": marks,
    }


# -- links: alias -> canonical, as Services.set_links keeps them -----------------------------


def links(store) -> dict[str, str]:
    return dict(store.get_config("links") or {})


def linked_identities(store) -> set[str]:
    """Every identity in a link the user made, either side: people they know."""
    current = links(store)
    return set(current) | set(current.values())


def canonical(store, identity: str) -> str:
    return links(store).get(identity, identity)


def aliases_of(store, identity: str) -> list[str]:
    return sorted(a for a, c in links(store).items() if c == identity)


def link_groups(store) -> list[dict]:
    groups: dict[str, list[str]] = {}
    for alias, canon in links(store).items():
        groups.setdefault(canon, []).append(alias)
    return [{"canonical": c, "aliases": sorted(a)} for c, a in sorted(groups.items())]


def link(s, alias: str, canon: str) -> str | None:
    """Link alias to canon; the same rules as POST /api/links. Returns an error to show, or None."""
    if alias == canon:
        return "Pick two different identities."
    current = links(s.store)
    if canon in current:
        canon = current[canon]  # link to the person the other identity already belongs to
    if alias in current:
        return f"{alias} is already linked to {current[alias]}; unlink it first."
    if any(c == alias for c in current.values()):
        return f"Other identities are linked to {alias}; link {canon} to it instead, or unlink them first."
    if alias == canon:
        return "Those identities are already linked."
    current[alias] = canon
    s.set_links(current)
    invalidate()
    return None


def unlink(s, alias: str) -> bool:
    current = links(s.store)
    if alias not in current:
        return False
    del current[alias]
    s.set_links(current)
    invalidate()
    return True


def _name_key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name or "").casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def link_suggestions(names: dict[str, str], current: dict[str, str]) -> list[dict]:
    """Identities on different sites with the same name or handle: offered, never applied."""
    taken = set(current) | set(current.values())
    by_key: dict[str, set[str]] = {}
    for ident, name in names.items():
        if ident in current:
            continue
        handle = split_identity(ident)[2]
        for key in {_name_key(name), _name_key(handle)}:
            if len(key) >= 4:
                by_key.setdefault(key, set()).add(ident)
    seen = set()
    out = []
    for key, ids in sorted(by_key.items()):
        if len({site_of(i) for i in ids}) < 2:
            continue
        group = tuple(sorted(ids, key=lambda i: (i not in taken, i)))
        if group in seen:
            continue
        seen.add(group)
        # The first one (already someone's canonical, or else the first by name) is kept.
        out.append({"canonical": group[0], "aliases": list(group[1:]), "reason": "same name on several sites"})
    return out


# -- delete all --------------------------------------------------------------------------


def delete_all(s) -> int:
    """Every item, snapshot, link and setting and the forgotten list, all at once; pairing stays,
    so the extension keeps working."""
    removed = s.delete_all()
    invalidate()
    return removed
