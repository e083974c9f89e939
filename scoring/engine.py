"""The Scorer: stored items in, scores with explanations out. See the package docstring for the API
and docs/scoring.md for the model.

Layout: interactions live in growable numpy columns (one row per item and addressee, plus one
audience row per item with reactions). Replacing an item tombstones its rows and appends new ones;
nothing is rebuilt. A read at time `at` recomputes every weight from those columns with numpy
(one pass of bincounts) and re-runs PageRank warm-started from the previous vector, so an update
costs a few dozen sparse products, not a rebuild.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import scipy.sparse as sp

from . import model
from .interactions import AUDIENCE, derive
from .items import identity as make_identity
from .topics import TopicIndex

_COLS = (("actor", np.int64), ("target", np.int64), ("kind", np.int8), ("site", np.int32),
         ("t", np.float64), ("comp", np.float64), ("amount", np.float64), ("item", np.int64),
         ("valid", np.bool_))


class _Rows:
    def __init__(self, capacity: int = 1024):
        self.n = 0
        self.cap = capacity
        for name, dt in _COLS:
            setattr(self, name, np.zeros(capacity, dtype=dt))

    def append(self, cols: dict) -> range:
        k = len(cols["actor"])
        if self.n + k > self.cap:
            new_cap = max(self.cap * 2, self.n + k)
            for name, dt in _COLS:
                arr = np.zeros(new_cap, dtype=dt)
                arr[: self.n] = getattr(self, name)[: self.n]
                setattr(self, name, arr)
            self.cap = new_cap
        start = self.n
        for name, dt in _COLS:
            getattr(self, name)[start: start + k] = np.asarray(cols[name], dtype=dt)
        self.n += k
        return range(start, start + k)


def parse_at(at) -> float:
    """Epoch seconds. Default: now, floored to the minute, so repeated reads within a minute share
    one computation (nothing in a 90-day model moves visibly within a minute)."""
    if at is None:
        now = datetime.now(timezone.utc).timestamp()
        return math.floor(now / 60.0) * 60.0
    if isinstance(at, str):
        at = datetime.fromisoformat(at.strip().replace("Z", "+00:00"))
    if isinstance(at, datetime):
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        return at.timestamp()
    return float(at)


class Scorer:
    def __init__(self, settings: dict | None = None):
        self._items: dict[tuple[str, str], dict] = {}
        self._item_idx: dict[tuple[str, str], int] = {}
        self._item_keys: list[tuple[str, str]] = []
        self._item_rows: dict[int, range | list] = {}
        self._children: dict[tuple[str, str], set] = {}
        self._authored: dict[int, int] = {}
        self._ids: dict[str, int] = {AUDIENCE: 0}
        self._names: list[str] = [AUDIENCE]
        self._sites: dict[str, int] = {}
        self._site_names: list[str] = []
        self._forgotten: set[str] = set()
        self._item_topics: dict[int, tuple] = {}
        self._rows = _Rows()
        self._pr = None  # last PageRank vector, by identity index: the warm start
        self._state = None
        self._state_at = None
        self.set_settings(settings)

    # ---------------------------------------------------------------- settings

    def set_settings(self, settings: dict | None) -> None:
        settings = dict(settings or {})
        self.settings = settings
        self.site_weights = {str(k).lower(): float(v) for k, v in (settings.get("site_weights") or {}).items()}
        self.horizon = float(settings.get("horizon_days") or model.HORIZON_DAYS)
        self.topics = TopicIndex(settings.get("topics") or {})
        self.links = {str(k).lower(): str(v).lower() for k, v in (settings.get("links") or {}).items()}
        for name in list(self.links) + list(self.links.values()):
            self._intern(name)
        self._state = None
        if hasattr(self, "_item_topics"):
            for key, idx in self._item_idx.items():
                self._set_item_topics(key, idx)

    def _set_item_topics(self, key, idx) -> None:
        item = self._items.get(key)
        self._item_topics.pop(idx, None)
        if item is None:
            return
        parent = self._items.get((key[0], item["parent"])) if item.get("parent") else None
        found = self.topics.item_topics(item, parent)
        if found:
            self._item_topics[idx] = found

    # ---------------------------------------------------------------- interning

    def _intern(self, name: str) -> int:
        i = self._ids.get(name)
        if i is None:
            i = self._ids[name] = len(self._names)
            self._names.append(name)
        return i

    def _site(self, site: str) -> int:
        i = self._sites.get(site)
        if i is None:
            i = self._sites[site] = len(self._site_names)
            self._site_names.append(site)
        return i

    # ---------------------------------------------------------------- updates

    def add(self, items) -> set[str]:
        touched: set[int] = set()
        redo: list[tuple[str, str]] = []
        for item in items:
            key = (item["site"], item["id"])
            old = self._items.get(key)
            if old == item:
                continue
            self._items[key] = item
            if old is not None and old.get("parent") != item.get("parent") and old.get("parent"):
                self._children.get((key[0], old["parent"]), set()).discard(key)
            if item.get("parent"):
                self._children.setdefault((key[0], item["parent"]), set()).add(key)
            redo.append(key)
            # children depend on this item's author, kind and (for topics) text
            redo.extend(sorted(self._children.get(key, ())))
        cols = {name: [] for name, _ in _COLS}
        seen = set()
        for key in redo:
            if key in seen:
                continue
            seen.add(key)
            self._derive_into(key, cols, touched)
        self._commit(cols)
        if redo:
            self._state = None
        return {self._names[i] for i in touched if i != 0}

    def _derive_into(self, key, cols, touched) -> None:
        idx = self._item_idx.get(key)
        if idx is None:
            idx = self._item_idx[key] = len(self._item_keys)
            self._item_keys.append(key)
        self._kill(idx, touched)
        item = self._items.get(key)
        if item is None:
            return
        parent = self._items.get((key[0], item["parent"])) if item.get("parent") else None
        author, targets, units, t, comp = derive(item, parent)
        found = self.topics.item_topics(item, parent)
        if found:
            self._item_topics[idx] = found
        if author in self._forgotten:
            self._forgotten.discard(author)  # captured again: they are back
        a = self._intern(author)
        self._authored[a] = self._authored.get(a, 0) + 1
        self._item_rows[idx] = [a, []]  # author first, then pending row indices
        site = self._site(key[0])
        touched.add(a)
        pending = []
        for target, kind in targets:
            if target in self._forgotten:
                continue
            tid = self._intern(target)
            touched.add(tid)
            pending.append((a, tid, kind, 0.0, comp))
        if units > 0:
            pending.append((0, a, model.REACTION, units, 0.0))
        base = self._rows.n + len(cols["actor"])
        self._item_rows[idx][1] = list(range(base, base + len(pending)))
        for actor, target, kind, amount, c in pending:
            cols["actor"].append(actor)
            cols["target"].append(target)
            cols["kind"].append(kind)
            cols["site"].append(site)
            cols["t"].append(t)
            cols["comp"].append(c)
            cols["amount"].append(amount)
            cols["item"].append(idx)
            cols["valid"].append(True)

    def _kill(self, idx: int, touched) -> None:
        entry = self._item_rows.pop(idx, None)
        self._item_topics.pop(idx, None)
        if entry is None:
            return
        author, rows = entry
        self._authored[author] -= 1
        touched.add(author)
        rows = [r for r in rows if r < self._rows.n]
        if rows:
            self._rows.valid[rows] = False
            touched.update(int(x) for x in self._rows.target[rows])
        self._state = None

    def _commit(self, cols) -> None:
        if cols["actor"]:
            self._rows.append(cols)
            self._state = None

    def remove_identity(self, identity: str) -> set[str]:
        identity = identity.lower()
        touched: set[int] = set()
        self._forgotten.add(identity)
        site, _, handle = identity.partition(":")
        mine = [k for k, it in self._items.items() if k[0] == site and it["author"]["handle"] == handle]
        for key in mine:
            del self._items[key]
            self._derive_into(key, {name: [] for name, _ in _COLS}, touched)
        tid = self._ids.get(identity)
        if tid is not None:
            n = self._rows.n
            hit = np.nonzero(self._rows.valid[:n] & ((self._rows.target[:n] == tid) | (self._rows.actor[:n] == tid)))[0]
            if len(hit):
                touched.update(int(x) for x in self._rows.actor[hit])
                self._rows.valid[hit] = False
            touched.add(tid)
        self._state = None
        touched.discard(0)
        return {self._names[i] for i in touched}

    # ---------------------------------------------------------------- compute

    def _canon(self) -> np.ndarray:
        canon = np.arange(len(self._names), dtype=np.int64)
        for alias, target in self.links.items():
            seen = {alias}
            while target in self.links and target not in seen:
                seen.add(target)
                target = self.links[target]
            canon[self._ids[alias]] = self._ids[target]
        return canon

    def _compute(self, at: float):
        if self._state is not None and self._state_at == at:
            return self._state
        st = _compute_state(self, at)
        self._state, self._state_at = st, at
        return st

    # ---------------------------------------------------------------- reads

    def _resolve(self, identity: str):
        i = self._ids.get(identity.lower()) if isinstance(identity, str) else None
        if i is None or i == 0:
            return None
        return i

    def result(self, identity: str, at=None) -> dict | None:
        st = self._compute(parse_at(at))
        i = self._resolve(identity)
        if i is None:
            return None
        c = int(st.canon[i])
        if not st.known[c]:
            return None
        return st.result(c)

    def results(self, identities, at=None) -> dict[str, dict]:
        st = self._compute(parse_at(at))
        out = {}
        for ident in identities:
            i = self._resolve(ident)
            if i is None:
                continue
            c = int(st.canon[i])
            if st.known[c]:
                out[ident] = st.result(c)
        return out

    def ranking(self, at=None, limit=None) -> list[dict]:
        st = self._compute(parse_at(at))
        order = st.order()
        if limit is not None:
            order = order[: max(0, int(limit))]
        return [st.result(int(i)) for i in order]

    def item_contributions(self, site: str, item_id: str, at=None) -> dict:
        st = self._compute(parse_at(at))
        key = (site.lower(), item_id)
        idx = self._item_idx.get(key)
        entry = self._item_rows.get(idx) if idx is not None else None
        return st.item_contributions(key, entry[1] if entry else [])


class _State:
    """One computation at one time: per-identity arrays plus per-row contributions."""

    def __init__(self, scorer: Scorer, at: float):
        self.s = scorer
        self.at = at

    def order(self) -> np.ndarray:
        if getattr(self, "_order", None) is None:
            ids = np.nonzero(self.known & (self.canon == np.arange(len(self.canon))))[0]
            ids = ids[ids != 0]
            names = [self.s._names[i] for i in ids]
            # by score desc, then identity: a total order that does not depend on input order
            key = sorted(range(len(ids)), key=lambda j: (-int(self.score[ids[j]]), names[j]))
            self._order = ids[key]
        return self._order

    def _rows_of(self, target: int) -> np.ndarray:
        if getattr(self, "_by_target", None) is None:
            self._by_target = np.argsort(self.r_target, kind="stable")
            self._bounds = np.searchsorted(self.r_target[self._by_target], np.arange(len(self.canon) + 1))
        return self._by_target[self._bounds[target]: self._bounds[target + 1]]

    def result(self, i: int) -> dict:
        names = self.s._names
        raw = float(self.raw[i])
        pts = float(self.points[i])
        rows = self._rows_of(i)
        by_person: dict[str, float] = {}
        by_kind: dict[str, float] = {}
        by_site: dict[str, float] = {}
        by_item: dict[str, float] = {}
        if raw > 0 and len(rows):
            share = self.r_contrib[rows] * (pts / raw)
            for j, p in zip(rows.tolist(), share.tolist()):
                if p <= 0:
                    continue
                actor = names[self.r_actor[j]]
                kind = model.KIND_NAMES[self.r_kind[j]]
                site = self.s._site_names[self.r_site[j]]
                key = self.s._item_keys[self.r_item[j]]
                item = f"{key[0]}:{key[1]}"
                by_person[actor] = by_person.get(actor, 0.0) + p
                by_kind[kind] = by_kind.get(kind, 0.0) + p
                by_site[site] = by_site.get(site, 0.0) + p
                by_item[item] = by_item.get(item, 0.0) + p

        def tidy(d):
            return {k: round(v, 4) for k, v in sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))}

        return {
            "identity": names[i],
            "score": int(self.score[i]),
            "raw": round(raw, 9),
            "points": round(pts, 4),
            "trend": round(float(self.trend[i]), 2),
            "negative": {"count": int(self.neg_count[i]), "weight": round(float(self.neg_weight[i]), 4)},
            "breakdown": {"by_person": tidy(by_person), "by_kind": tidy(by_kind),
                          "by_site": tidy(by_site), "by_item": tidy(by_item)},
            "topics": self.topics_of(i),
            "interactions": int(self.n_inter[i]),
            "people": int(self.n_people[i]),
            "standing": round(float(self.standing[i]), 4),
            "view": "days" if self.day_view[i] else "people",
        }

    def topics_of(self, i: int) -> dict:
        return self.topic_scores.get(i, {})

    def item_contributions(self, key, row_ids) -> dict:
        names = self.s._names
        out = {"item": f"{key[0]}:{key[1]}", "to": {}, "rows": []}
        pos = self.pos
        for r in row_ids:
            if r >= len(pos):
                continue
            j = pos[r]
            tgt_global = int(self.s._rows.target[r])
            kind = model.KIND_NAMES[int(self.s._rows.kind[r])]
            if j < 0:
                out["rows"].append({"to": names[int(self.canon[tgt_global])], "kind": kind,
                                    "points": 0.0, "counted": False,
                                    "why": "outside the horizon, self, forgotten or weighted 0"})
                continue
            t = int(self.r_target[j])
            raw = float(self.raw[t])
            p = float(self.r_contrib[j]) * float(self.points[t]) / raw if raw > 0 else 0.0
            why = "counted"
            if self.r_hostile[j]:
                why = "hostile (shown apart, adds nothing)"
            out["rows"].append({"to": names[t], "kind": kind, "points": round(p, 4),
                                "counted": p > 0, "why": why})
            out["to"][names[t]] = round(out["to"].get(names[t], 0.0) + p, 4)
        out["total"] = round(sum(x["points"] for x in out["rows"]), 4)
        return out


def pagerank(matrix: sp.csr_matrix, leak: np.ndarray, x0: np.ndarray | None,
             damping: float = model.DAMPING, tol: float = model.PR_TOL, max_iter: int = model.PR_MAX_ITER):
    """Power iteration on a column-substochastic M (M[t, a] = share of a's mass passed to t);
    leak[a] = 1 - column sum (1 for dangling nodes) is spread uniformly, like the teleport.
    With leak = dangling indicator this is networkx's weighted pagerank. Returns (x, iterations)."""
    n = matrix.shape[0]
    if n == 0:
        return np.zeros(0), 0
    x = np.full(n, 1.0 / n) if x0 is None else x0 / x0.sum()
    for it in range(1, max_iter + 1):
        nxt = damping * (matrix @ x)
        nxt += (damping * float(leak @ x) + (1.0 - damping)) / n
        err = np.abs(nxt - x).sum()
        x = nxt
        if err < tol:
            return x, it
    return x, max_iter


def _compute_state(s: Scorer, at: float) -> _State:
    st = _State(s, at)
    R = s._rows
    n = R.n
    nid = len(s._names)
    canon = s._canon()
    st.canon = canon
    H = s.horizon

    actor = canon[R.actor[:n]]
    target = canon[R.target[:n]]
    t = R.t[:n]
    t_eff = np.where(np.isnan(t), at, t)
    age = (at - t_eff) / model.DAY
    site_w = np.array([s.site_weights.get(name, 1.0) for name in s._site_names] or [1.0])
    keep = R.valid[:n] & (age >= 0) & (age < H) & (actor != target) & (site_w[R.site[:n]] > 0)
    idx = np.nonzero(keep)[0]
    pos = np.full(n, -1, dtype=np.int64)
    pos[idx] = np.arange(len(idx))
    st.pos = pos

    a_ = actor[idx]
    tg = target[idx]
    kind = R.kind[:n][idx]
    site = R.site[:n][idx]
    comp = R.comp[:n][idx]
    amount = R.amount[:n][idx]
    age_s = age[idx]
    day = np.floor(t_eff[idx] / model.DAY).astype(np.int64)
    is_aud = kind == model.REACTION
    person = ~is_aud

    w_age = model.age_weight(age_s, H)
    w0 = np.where(is_aud, amount, model.KIND_WEIGHT[kind]) * site_w[site] * w_age
    sf = np.where(is_aud, 1.0, model.sentiment_factor(comp))
    hostile = person & (comp <= model.HOSTILE)

    # selectivity: one actor's actions on one UTC day share k/(k+V)
    dmin = int(day.min()) if len(day) else 0
    ad_key = a_ * 1_000_000 + (day - dmin)
    _, ad_inv = np.unique(ad_key, return_inverse=True)
    V = np.bincount(ad_inv, weights=np.where(person, w0, 0.0))
    sel = np.where(person, model.SELECT_K / (model.SELECT_K + V[ad_inv]), 1.0)
    c = model.snap(w0 * sf * sel)

    # pairs and their diminishing returns
    pair_key = a_ * nid + tg
    pkeys, p_inv = np.unique(pair_key, return_inverse=True)
    p_actor = pkeys // nid
    p_target = pkeys % nid
    P = np.bincount(p_inv, weights=c, minlength=len(pkeys))
    P0 = np.bincount(p_inv, weights=w0 * sf, minlength=len(pkeys))
    cap = np.where(p_actor == 0, model.AUDIENCE_CAP, model.PAIR_CAP)
    gP = model.saturate(P, cap)

    # reciprocity: what A gives T is divided by how much T gives A beyond one exchange (rings)
    rev = p_target * nid + p_actor
    rpos = np.searchsorted(pkeys, rev)
    rpos_c = np.minimum(rpos, len(pkeys) - 1)
    P_rev = np.where((rpos < len(pkeys)) & (pkeys[rpos_c] == rev) & (p_actor != 0), P0[rpos_c], 0.0)
    phi = model.RECIP_FREE / np.maximum(model.RECIP_FREE, P_rev)
    val = gP * phi

    # standing: weighted PageRank over the person-to-person pair graph. Each actor spreads its
    # mass in proportion to g(P); the part removed by reciprocity is not passed on (it joins the
    # teleport), so a closed ring cannot keep recycling its own mass.
    edge = (p_actor != 0) & (val > 0)
    ea, et = p_actor[edge], p_target[edge]
    out = np.bincount(p_actor[p_actor != 0], weights=gP[p_actor != 0], minlength=nid)
    M = sp.csr_matrix((val[edge] / out[ea], (et, ea)), shape=(nid, nid))
    with np.errstate(invalid="ignore", divide="ignore"):
        kept = np.where(out > 0, np.bincount(ea, weights=val[edge], minlength=nid) / out, 0.0)
    leak = 1.0 - kept
    x0 = None
    if s._pr is not None:
        x0 = np.full(nid, 1.0 / nid)
        m = min(len(s._pr), nid)
        x0[:m] = s._pr[:m]
    pr, iters = pagerank(M, leak, x0)
    s._pr = pr
    st.pr_iterations = iters
    base = (model.DAMPING * float(pr @ leak) + (1.0 - model.DAMPING)) / nid
    standing = np.maximum(pr / base, 1.0)
    standing[0] = 1.0
    st.standing = standing
    aw = np.minimum(standing, model.STANDING_MAX) ** model.STANDING_GAMMA

    # people view: each pair's value, split over its rows in proportion
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(P > 0, val / P, 0.0)
    r_people = model.snap(aw[a_] * c * ratio[p_inv])
    raw_p = np.bincount(tg, weights=r_people, minlength=nid)

    # days view (bursts): the people-view contributions of one target's UTC day count at most
    # kappa: DAY_CAP_MULT times the target's usual day, at least DAY_CAP_FLOOR, and at least that
    # day's strongest single contribution (one reply from someone with standing is not a burst)
    td_key = tg * 1_000_000 + (day - dmin)
    tdkeys, td_inv = np.unique(td_key, return_inverse=True)
    td_target = tdkeys // 1_000_000
    Y = np.bincount(td_inv, weights=r_people, minlength=len(tdkeys))
    usual = raw_p / (H * model.FLAT_FRACTION + H * (1 - model.FLAT_FRACTION) / 2)
    kappa = np.maximum(model.DAY_CAP_FLOOR, model.DAY_CAP_MULT * usual)
    ymax = np.zeros(len(tdkeys))
    np.maximum.at(ymax, td_inv, r_people)
    HY = np.minimum(Y, np.maximum(kappa[td_target], ymax))
    with np.errstate(invalid="ignore", divide="ignore"):
        dratio = np.where(Y > 0, HY / Y, 0.0)
    contrib = model.snap(r_people * dratio[td_inv])
    raw = np.bincount(tg, weights=contrib, minlength=nid)
    day_view = raw < raw_p

    # trend: the burst-undamped (people view) score now minus TREND_DAYS ago
    w_then = model.age_weight(age_s - model.TREND_DAYS, H)
    c_then = model.snap(np.where(is_aud, amount, model.KIND_WEIGHT[kind]) * site_w[site] * w_then * sf * sel)
    P_then = np.bincount(p_inv, weights=c_then, minlength=len(pkeys))
    g_then = model.saturate(P_then, cap)
    raw_then = np.bincount(p_target, weights=aw[p_actor] * g_then * phi, minlength=nid)
    raw_now = np.bincount(p_target, weights=aw[p_actor] * val, minlength=nid)
    trend = model.points(raw_now) - model.points(raw_then)

    pts = model.points(raw)
    st.raw, st.points, st.score = raw, pts, model.to_score(pts)
    st.trend = trend
    st.day_view = day_view
    st.neg_count = np.bincount(tg[hostile], minlength=nid)
    st.neg_weight = np.bincount(tg[hostile], weights=(w0 * sel)[hostile], minlength=nid)
    counted = person & (c > 0)
    st.n_inter = np.bincount(tg[counted], minlength=nid)
    st.n_people = np.bincount(p_target[(p_actor != 0) & (P > 0)], minlength=nid)

    known = np.zeros(nid, dtype=bool)
    for a, cnt in s._authored.items():
        if cnt > 0:
            known[canon[a]] = True
    known[tg] = True
    known[a_[person]] = True
    known[0] = False
    st.known = known

    st.r_actor, st.r_target, st.r_kind, st.r_site = a_, tg, kind, site
    st.r_item = R.item[:n][idx]
    st.r_contrib = contrib
    st.r_hostile = hostile

    st.topic_scores = s.topics.score(s, st, idx, a_, tg, c, counted, aw, nid)
    return st
