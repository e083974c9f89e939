"""The JSON API the extension calls. The checks of server/security.py have passed before any of
these run; each view validates its own input and answers errors that name the field."""
from __future__ import annotations

from flask import Blueprint, current_app, request

from scoring.items import ContractError, author_identity

from .contract import validate_capture
from .security import bearer_token, error

api = Blueprint("api", __name__, url_prefix="/api")

MAX_IDS = 500
TOP_PEOPLE = 5


def services():
    return current_app.extensions["cloutlens"]


def json_body():
    """The parsed body, or an error response naming what is wrong with it."""
    data = request.get_json(silent=True)
    if data is None:
        return None, error(400, "bad_json", "the body is not valid JSON", "body")
    return data, None


def summary(result: dict | None, identity: str) -> dict | None:
    """What a badge and its hovercard need: small, and every number traceable on the dashboard."""
    if result is None:
        return None
    b = result["breakdown"]
    top = sorted(b["by_person"].items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_PEOPLE]
    return {
        "identity": identity,
        "score": result["score"],
        "trend": result["trend"],
        "negative": result["negative"],
        "interactions": result.get("interactions", 0),
        "people": result.get("people", 0),
        "top": [{"identity": who, "points": pts} for who, pts in top],
        "by_kind": b["by_kind"],
        "by_site": b["by_site"],
        "topics": result["topics"],
    }


def scores_for(identities) -> dict:
    s = services()
    with s.lock:
        results = s.scorer.results(list(identities))
    return {i: summary(results.get(i), i) for i in identities}


@api.get("/status")
def status():
    s = services()
    with s.lock:
        items = s.store.count_items()
        people = len(s.scorer.ranking())
    return {
        "name": "cloutlens",
        "version": current_app.config.get("VERSION", "0.1.0"),
        "contract": 1,
        "data_dir": str(s.store.data_dir),
        "items": items,
        "people": people,
        "paired": s.pairing.verify(bearer_token()) is not None,
    }


@api.post("/pair")
def pair_request():
    data, err = json_body()
    if err:
        return err
    client = data.get("client", "Cloutlens extension") if isinstance(data, dict) else None
    if not isinstance(client, str) or len(client) > 80:
        return error(400, "invalid", "must be a string of at most 80 characters", "client")
    origin = request.headers.get("Origin") or "local"
    req = services().pairing.request(origin, client)
    return {"request": req.id, "code": req.code, "approve_url": request.host_url + "pair"}, 201


@api.post("/pair/<request_id>")
def pair_poll(request_id):
    # A POST, because browsers stamp Origin on every POST but not on an extension's GETs, and the
    # token must go only to the origin that asked for it.
    state = services().pairing.poll(request_id, request.headers.get("Origin") or "local")
    if state is None:
        return error(404, "not_found", "no such pairing request (expired?)", "request")
    return state


@api.post("/capture")
def capture():
    data, err = json_body()
    if err:
        return err
    try:
        cap = validate_capture(data)
    except ContractError as exc:
        return error(400, "invalid", exc.message, exc.field)
    stored = services().capture(cap)
    authors = {it["id"]: author_identity(it) for it in cap["items"]}
    return {
        "stored": {k: stored[k] for k in ("added", "updated", "unchanged")},
        # The server's normalisation of each author, so the extension never re-implements it.
        "authors": authors,
        "scores": scores_for(sorted(set(authors.values()))),
    }


@api.get("/scores")
def scores():
    ids = request.args.getlist("id")
    if not ids:
        return error(400, "invalid", "give at least one id=site:handle", "id")
    if len(ids) > MAX_IDS:
        return error(400, "invalid", f"at most {MAX_IDS} ids per request", "id")
    for i, ident in enumerate(ids):
        site, sep, handle = ident.partition(":")
        if not sep or not site or not handle or len(ident) > 400:
            return error(400, "invalid", "must look like site:handle", f"id[{i}]")
    return {"scores": scores_for([i.lower() for i in ids])}
