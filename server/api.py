"""The JSON API the extension and the dashboard call. The checks of server/security.py have passed
before any of these run; each view validates its own input, answers errors that name the field,
and stores nothing unless the whole request is valid. server/openapi.py describes every route.
"""
from __future__ import annotations

import orjson
from flask import Blueprint, Response, current_app, request

from scoring import model
from scoring.items import ContractError, author_identity, normal_identity, site_name

from .app import BADGE_PEOPLE as TOP_PEOPLE, ScoringFailed, utcnow
from .behind import EVERY_ANSWER_SHARDS, items_behind
from .contract import validate_capture
from .copies import of_person as copies_of
from .exchange import DeletedMeanwhile, ImportIncomplete
from .pairing import PairingFull
from .since import since_last
from .security import bearer_token, error
from .storage import StoreError, disk_full

api = Blueprint("api", __name__, url_prefix="/api")

MAX_IDS = 500
PAGE_MAX = 200
IDENTITY_MAX = 400
SCORES_WAIT = 2.0  # seconds a request waits for the scorer's first load before answering 503


class BadRequest(Exception):
    """Raised by validators; answered as a 400 naming the field."""

    def __init__(self, field: str, message: str, status: int = 400, code: str = "invalid"):
        super().__init__(message)
        self.field, self.message, self.status, self.code = field, message, status, code


@api.errorhandler(BadRequest)
def _bad_request(exc: BadRequest):
    return error(exc.status, exc.code, exc.message, exc.field)


@api.errorhandler(ContractError)
def _contract_error(exc: ContractError):
    return error(400, "invalid", exc.message, exc.field)


@api.errorhandler(OSError)
def _storage_failed(exc: OSError):
    # Nothing was acknowledged and the files on disk are the previous ones; say what to fix.
    current_app.logger.error("storage write failed: %s", exc)
    if disk_full(exc):
        return error(507, "storage_full", "the disk holding the data dir is full; nothing was stored. "
                     "Free some space and send again.")
    return error(503, "storage_unavailable", f"the data dir cannot be written ({exc.strerror or exc}); "
                 "nothing was stored. Run `cloutlens doctor`.")


@api.errorhandler(ImportIncomplete)
def _import_incomplete(exc: ImportIncomplete):
    # Not "nothing was stored": the import's head and some of its items are in. Say how far it
    # got, and that the same file again finishes it (imports are idempotent).
    current_app.logger.error("an import stopped midway: %s", exc.cause)
    if isinstance(exc.cause, OSError) and disk_full(exc.cause):
        return error(507, "import_incomplete", f"the disk holding the data dir is full: {exc}")
    if isinstance(exc.cause, DeletedMeanwhile):  # the user's own doing, not the server failing
        return error(409, "import_incomplete", str(exc))
    return error(500, "import_incomplete", str(exc))


@api.errorhandler(ScoringFailed)
def _scoring_failed(exc):
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    current_app.logger.error("scoring a stored capture failed", exc_info=cause)
    return error(500, "scoring_failed", "the items were stored, but computing their scores failed "
                 "(the server log has the details)")


@api.errorhandler(500)
def _internal(_exc):
    # Never an HTML page, never a traceback: the extension only understands JSON errors.
    return error(500, "internal", "the server failed on this request; nothing was stored")


@api.errorhandler(StoreError)
def _store_error(exc: StoreError):
    return error(503, "storage_unavailable", str(exc))


def services():
    return current_app.extensions["cloutlens"]


def json_body(expect=dict):
    """The parsed body. orjson refuses invalid UTF-8, lone surrogates and nesting past 1024 levels,
    none of which may reach the store."""
    raw = request.get_data(cache=True)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("body", "the body is not valid JSON (UTF-8, at most 1024 levels deep)",
                         code="bad_json") from None
    if expect is not None and not isinstance(data, expect):
        raise BadRequest("body", f"the body must be a JSON {'object' if expect is dict else 'array'}")
    return data


def check_identity(value, field: str) -> str:
    """`site:handle`, lowercased the way the server normalises authors."""
    if not isinstance(value, str):
        raise BadRequest(field, "must be a string like site:handle")
    # As a capture of that person is stored (www.blog.example is blog.example), or nobody matches.
    ident = normal_identity(value) if len(value) <= IDENTITY_MAX else None
    if ident is None:
        raise BadRequest(field, "must look like site:handle")
    return ident


def int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(name, "must be an integer") from None
    if not lo <= value <= hi:
        raise BadRequest(name, f"must be between {lo} and {hi}")
    return value


def summary(result: dict | None, identity: str, groups: dict) -> dict | None:
    """What a badge and its hovercard need: small, and every number traceable on the dashboard.
    `groups`: Scorer.closed_groups of the results, read under the services lock (it computes the
    scorer's state when that is out of date, and a summary is built after the lock is let go)."""
    if result is None:
        return None
    b = result["breakdown"]
    top = sorted(b["by_person"].items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_PEOPLE]
    s = services()
    names = s.store.names()  # display names, as last captured: a card reads better by name
    own = s.store.get_config("own_identities") or ()
    # a ring the score does not damp enough (property 9) is seen where the score is: on the card
    group = groups.get(result["identity"])
    return {
        "identity": identity,
        "name": names.get(identity),
        "score": result["score"],
        "trend": result["trend"],
        "negative": result["negative"],
        "interactions": result.get("interactions", 0),
        "people": result.get("people", 0),
        # what one plain reply of theirs counts beside one from someone nobody engages
        "weight": round(float(model.reply_weight(result["standing"])), 4),
        "top": [{"identity": who, "name": names.get(who), "points": pts} for who, pts in top],
        "by_kind": b["by_kind"],
        "by_site": b["by_site"],
        "topics": result["topics"],
        # the card titles the user's own identity "You", and says how far back anything counts
        # when nothing does (a thread from years ago scores everyone 1)
        "own": identity in own or result["identity"] in own,
        "counted_days": int(model.age_limit(s.scorer.horizon)),
        "group": group and {"accounts": len(group["accounts"]), "interactions": group["interactions"]},
        # the people within three steps, when they are what holds the score (the reach ceiling)
        "reach": result.get("reach"),
    }


def need_scores():
    """Right after a start on a large store the scorer may still be loading: wait a little, then
    say so instead of holding the request (and a server thread) for the whole load."""
    if not services().wait_scores(SCORES_WAIT):
        raise BadRequest("scores", "the server has just started and is still computing scores "
                         f"({services().store.count_items()} items); ask again in a few seconds",
                         status=503, code="scoring")


def scores_for(identities) -> dict:
    need_scores()
    s = services()
    with s.turns.turn():
        results = s.scorer.results(list(identities), people=TOP_PEOPLE)
        groups = s.scorer.closed_groups(results.values())
    return {i: summary(results.get(i), i, groups) for i in identities}


# -- status and pairing ---------------------------------------------------------

@api.get("/status")
def status():
    s = services()
    # Never waits for the services lock or the scorer: status answers while either is busy.
    items = s.store.count_items()
    people = s.store.author_count()
    if s.scores_ready:
        scores = "ready"
    else:
        scores = "failed" if s.load_error is not None else "loading"
    return {
        "name": "cloutlens",
        "version": current_app.config.get("VERSION", "0.1.0"),
        "contract": 1,
        "model": model.VERSION,  # the scoring model's version (docs/scoring.md, "Model versions")
        "data_dir": str(s.store.data_dir.resolve()),  # absolute: doctor compares it from any cwd
        "items": items,
        "people": people,
        # "loading" while the first scoring after a start runs: score look-ups answer 503 until then.
        "scores": scores,
        # What long task holds the services lock (an import, a forget...), or null: requests that
        # need the lock may be answered 503 "busy" meanwhile.
        "busy": s.turns.task,
        # An import cut short by a crash (`started`, its file's `items`): part of its file may be
        # stored; the same file again finishes it. Null once an import finishes.
        "import_unfinished": s.store.unfinished_import,
        "paired": s.pairing.verify(bearer_token()) is not None,
    }


@api.get("/openapi.json")
def openapi():
    from .openapi import document
    return document(request.host_url.rstrip("/"))


@api.post("/pair")
def pair_request():
    data = json_body()
    client = data.get("client", "Cloutlens extension")
    if not isinstance(client, str) or len(client) > 80:
        raise BadRequest("client", "must be a string of at most 80 characters")
    origin = request.headers.get("Origin") or "local"
    try:
        req = services().pairing.request(origin, client)
    except PairingFull as exc:
        return error(429, "too_many_requests", str(exc))
    return {"request": req.id, "code": req.code, "approve_url": request.host_url + "pair"}, 201


@api.delete("/pair/<request_id>")
def pair_withdraw(request_id):
    if not services().pairing.withdraw(request_id, request.headers.get("Origin") or "local"):
        return error(404, "not_found", "no pending pairing request of yours by that id", "request")
    return {"withdrawn": True}


@api.delete("/pair")
def pair_revoke():
    """The paired client gives its token up: the server stops accepting it at once."""
    from .security import bearer_token
    if not services().pairing.revoke_token(bearer_token()):
        return error(401, "unauthorized", "no valid bearer token to revoke", "Authorization")
    return {"revoked": True}


@api.post("/pair/<request_id>")
def pair_poll(request_id):
    # A POST, because browsers stamp Origin on every POST but not on an extension's GETs, and the
    # token must go only to the origin that asked for it.
    state = services().pairing.poll(request_id, request.headers.get("Origin") or "local")
    if state is None:
        return error(404, "not_found", "no such pairing request (expired?)", "request")
    return state


# -- capture and scores ---------------------------------------------------------

@api.post("/capture")
def capture():
    cap = validate_capture(json_body(expect=None))
    stored = services().capture(cap)
    authors = {it["id"]: author_identity(it) for it in cap["items"]}
    scores = {i: summary(r, i, stored["groups"]) for i, r in stored["scores"].items()}
    services().snapshot(stored.get("moved", {}) | {i: s["score"] for i, s in scores.items() if s})
    out = {
        "stored": {k: stored[k] for k in ("added", "updated", "unchanged")},
        # The server's normalisation of each author, so the extension never re-implements it.
        "authors": authors,
        "scores": scores,
        "forgotten": forgotten_of(authors.values()),
    }
    if stored.get("scoring"):
        out["scoring"] = True  # stored, but the scorer is still loading: no scores yet
    return out


def forgotten_of(identities) -> list[str]:
    """Those of identities the user asked to forget: a badge for them is taken off the page, not
    left saying "no score yet" as for someone never captured."""
    gone = services().forgotten
    return sorted(i for i in set(identities) if i in gone)


def _lookup(ids, field: str):
    if not ids:
        raise BadRequest(field, "give at least one site:handle")
    if len(ids) > MAX_IDS:
        raise BadRequest(field, f"at most {MAX_IDS} ids per request")
    idents = [check_identity(i, f"{field}[{n}]") for n, i in enumerate(ids)]
    return {"scores": scores_for(idents), "forgotten": forgotten_of(idents)}


@api.get("/scores")
def scores():
    return _lookup(request.args.getlist("id"), "id")


@api.post("/scores")
def scores_post():
    ids = json_body().get("ids")
    if not isinstance(ids, list):
        raise BadRequest("ids", "must be an array of site:handle strings")
    return _lookup(ids, "ids")


# -- people -----------------------------------------------------------------------

def _matches_topic(result: dict, topic: str) -> bool:
    topics = result.get("topics") or {}
    if isinstance(topics, dict):
        return topic in topics
    return any(t == topic or (isinstance(t, dict) and t.get("topic") == topic) for t in topics)


@api.get("/people")
def people():
    q = request.args.get("q", "").strip().lower()
    site = request.args.get("site", "").strip()
    topic = request.args.get("topic", "").strip()
    if len(q) > 200:
        raise BadRequest("q", "must be at most 200 characters")
    if site and (site := site_name(site)) is None:
        raise BadRequest("site", "must be a host name such as news.ycombinator.com")
    if len(topic) > 100:
        raise BadRequest("topic", "must be at most 100 characters")
    limit = int_arg("limit", 50, 1, PAGE_MAX)
    offset = int_arg("offset", 0, 0, 10_000_000)
    need_scores()
    s = services()
    with s.turns.turn():
        # Plain scores (the ranking's order) to filter and count; full results (breakdowns) are
        # built for the page's people only, or for every match when a topic must be checked.
        ranked = s.scorer.scores()
        names = s.store.names()
        ids = [i for i in ranked if (not site or i.startswith(site + ":"))
               and (not q or q in i or q in names.get(i, "").lower())]
        if topic:
            got = s.scorer.results(ids)
            rows = [got[i] for i in ids if i in got and _matches_topic(got[i], topic)]
            total, page = len(rows), rows[offset:offset + limit]
        else:
            total = len(ids)
            shown = ids[offset:offset + limit]
            got = s.scorer.results(shown)
            page = [got[i] for i in shown if i in got]
        groups = s.scorer.closed_groups(page)
    return {"total": total, "more": total > offset + limit, "offset": offset, "limit": limit,
            "people": [summary(r, r["identity"], groups) for r in page]}


@api.get("/people/<path:identity>")
def person(identity):
    ident = check_identity(identity, "identity")
    limit = int_arg("limit", 50, 1, PAGE_MAX)
    offset = int_arg("offset", 0, 0, 10_000_000)
    need_scores()
    s = services()
    with s.turns.turn():
        links = s.store.get_config("links", {})
        canonical = links.get(ident, ident)
        aliases = sorted(a for a, c in links.items() if c == canonical)
        result = s.scorer.result(canonical)
        authored = []
        for who in [canonical] + aliases:
            authored.extend(s.store.items_by_author(who))
        if result is None and not authored:
            return error(404, "not_found", "nobody by that identity is stored", "identity")
        authored.sort(key=lambda d: (d["at"], d["site"], d["id"]), reverse=True)
        page = authored[offset:offset + limit]
        for doc in page:
            doc["contributions"] = s.scorer.item_contributions(doc["site"], doc["id"])
        history = s.store.history(canonical)
        model_changes = s.store.model_changes()
        names = s.store.names()
        # both read every item behind the score: left out (null) when they are spread over many shards
        behind = items_behind(s.store, result, max_shards=EVERY_ANSWER_SHARDS)
        copies = since = None
        weights = {"reply": float(model.reply_weight(result["standing"])) if result else 1.0,
                   "engagers": s.scorer.engager_weights(canonical) if result else {}}
        group = s.scorer.closed_group(canonical) if result else None
        if behind is not None:
            copies = copies_of(s.store, result, behind, canonical, s.scorer)
            since = since_last(history, behind, result, utcnow().strftime("%Y-%m-%d"), model_changes)
    if result is not None:
        s.snapshot({canonical: result["score"]})
    return {
        "identity": canonical,
        "name": names.get(canonical),
        "aliases": aliases,
        "result": result,
        "summary": summary(result, canonical, {canonical: group}),
        "history": history,
        "model_changes": model_changes,
        "copies": copies,
        "since": since,
        "weights": weights,
        "group": group,
        "items": {"total": len(authored), "offset": offset, "limit": limit, "items": page},
    }


@api.delete("/people/<path:identity>")
def forget(identity):
    ident = check_identity(identity, "identity")
    need_scores()
    s = services()
    with s.turns.turn():
        if ident not in s.store.names() and s.scorer.result(ident) is None:
            return error(404, "not_found", "nobody by that identity is stored", "identity")
        return s.forget(ident)


# -- links --------------------------------------------------------------------------

@api.get("/links")
def links():
    return {"links": services().store.get_config("links", {})}


@api.post("/links")
def link():
    data = json_body()
    alias = check_identity(data.get("alias"), "alias")
    canonical = check_identity(data.get("canonical"), "canonical")
    extra = sorted(set(data) - {"alias", "canonical"})
    if extra:
        raise BadRequest(extra[0][:40], "is not a field of a link")
    if alias == canonical:
        raise BadRequest("alias", "must differ from canonical")
    need_scores()
    s = services()
    with s.turns.turn():
        # as an import drops such links: linked, the forgotten would be scored again
        for field, ident in (("alias", alias), ("canonical", canonical)):
            if ident in s.forgotten:
                raise BadRequest(field, "was forgotten; let them be captured again first (the data page)")
        current = dict(s.store.get_config("links", {}))
        if canonical in current:
            raise BadRequest("canonical", f"is itself linked to {current[canonical]}; link to that one")
        if any(c == alias for c in current.values()):
            raise BadRequest("alias", "has identities linked to it; unlink them first")
        current[alias] = canonical
        s.set_links(current)
    return {"links": current}, 201


@api.delete("/links/<path:alias>")
def unlink(alias):
    ident = check_identity(alias, "alias")
    need_scores()
    s = services()
    with s.turns.turn():
        current = dict(s.store.get_config("links", {}))
        if ident not in current:
            return error(404, "not_found", "that identity is not linked", "alias")
        del current[ident]
        s.set_links(current)
    return {"links": current}


# -- settings -------------------------------------------------------------------------

DEFAULT_SETTINGS = {"site_weights": {}, "topics": {}, "horizon_days": 90}


def stored_settings(store) -> dict:
    """The settings as stored, defaults filled in, and only the keys that are settings: the demo
    data set kept `links` there, which every reader handed on (an export of it could not be
    imported back: "links: is not a setting")."""
    saved = store.get_config("settings") or {}
    return dict(DEFAULT_SETTINGS, **{k: v for k, v in saved.items() if k in DEFAULT_SETTINGS})


def validate_settings(data: dict) -> dict:
    out = {}
    for key in data:
        if key not in DEFAULT_SETTINGS:
            raise BadRequest(str(key)[:40], "is not a setting (site_weights, topics, horizon_days)")
    if "site_weights" in data:
        w = data["site_weights"]
        if not isinstance(w, dict) or len(w) > 1000:
            raise BadRequest("site_weights", "must be an object of at most 1000 site: weight pairs")
        weights = {}
        for given, weight in w.items():
            site = site_name(given)
            if site is None:
                raise BadRequest(f"site_weights.{given[:60]}", "must be a host name")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 10:
                raise BadRequest(f"site_weights.{given[:60]}", "must be a number from 0 to 10")
            weights[site] = float(weight)  # named as captures name it, or it would weigh nothing
        out["site_weights"] = weights
    if "topics" in data:
        t = data["topics"]
        if not isinstance(t, dict) or len(t) > 200:
            raise BadRequest("topics", "must be an object of at most 200 topic: [keywords] pairs")
        for name, words in t.items():
            if not 1 <= len(name) <= 60:
                raise BadRequest("topics", "topic names must have 1 to 60 characters")
            if (not isinstance(words, list) or not 1 <= len(words) <= 100
                    or not all(isinstance(x, str) and 1 <= len(x.strip()) <= 60 for x in words)):
                raise BadRequest(f"topics.{name}", "must be a list of 1 to 100 keywords of 1 to 60 characters")
        out["topics"] = {n: [x.strip().lower() for x in ws] for n, ws in t.items()}
    if "horizon_days" in data:
        h = data["horizon_days"]
        if isinstance(h, bool) or not isinstance(h, int) or not 7 <= h <= 3650:
            raise BadRequest("horizon_days", "must be a whole number of days from 7 to 3650")
        out["horizon_days"] = h
    return out


@api.get("/settings")
def get_settings():
    return stored_settings(services().store)


@api.put("/settings")
def put_settings():
    changes = validate_settings(json_body())
    need_scores()
    s = services()
    with s.turns.turn():
        merged = stored_settings(s.store)
        merged.update(changes)
        s.set_settings(merged)
    return merged


# -- export and import ------------------------------------------------------------------

@api.get("/export")
def export():
    from .exchange import export_chunks
    return Response(export_chunks(services()), mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="cloutlens-export.json"'})


@api.post("/import")
def import_():
    import shutil
    import tempfile

    from .exchange import IMPORT_MAX, check_export, import_export
    from .jsonstream import NotJSON
    request.max_content_length = IMPORT_MAX
    # Read as a stream, three times (head, check, store), from a file of our own: never the whole
    # body in memory at once. In the data dir, not the system's temp dir: that may be memory
    # (tmpfs), and the data dir's disk is where the user keeps what was captured (unnamed: a
    # crash leaves nothing behind).
    with tempfile.TemporaryFile(dir=services().store.data_dir) as body:
        shutil.copyfileobj(request.stream, body, 1 << 20)
        body.seek(0)
        try:
            checked = check_export(body)
        except NotJSON as exc:
            raise BadRequest("body", f"the body is {exc} (UTF-8, at most 1024 levels deep)", code="bad_json") from None
        except ContractError as exc:
            if exc.field:
                raise
            raise BadRequest("body", exc.message) from None  # no object: named as json_body names it
        need_scores()
        return import_export(services(), body, checked)
