"""The OpenAPI 3.1 document the server serves at /api/openapi.json.

The capture and item schemas are the very ones the server validates with (server/contract.py,
scoring/items.py), so the document cannot drift from what is enforced; the fuzz test in
tests/server/test_fuzz.py generates requests from it.
"""
from __future__ import annotations

import copy

from scoring.items import ITEM_SCHEMA, SITE_PATTERN

from .contract import CAPTURE_SCHEMA, PAGE_SCHEMA
from .exchange import HISTORY_MAX_DAYS

IDENTITY = {"type": "string", "pattern": "^[a-z0-9.:-]+:.+$", "maxLength": 400,
            "description": "site:handle, e.g. news.ycombinator.com:pg"}

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "a stable code: invalid, bad_json, unauthorized, ..."},
        "message": {"type": "string"},
        "field": {"type": "string", "description": "the field at fault, e.g. items[3].author.handle"},
        "task": {"type": ["string", "null"], "description": "with error `busy`: the long task the server is "
                 "busy with (an import, forgetting site:handle, ...), null if other requests"},
    },
}

SUMMARY = {
    "type": ["object", "null"],
    "properties": {
        "identity": {"type": "string"}, "name": {"type": ["string", "null"]},
        "score": {"type": "integer", "minimum": 1, "maximum": 100},
        "trend": {"type": "number"}, "negative": {"type": "object"},
        "interactions": {"type": "integer"}, "people": {"type": "integer"},
        "weight": {"type": "number", "minimum": 1,
                   "description": "how many times one plain reply from them counts beside one from someone nobody engages"},
        "top": {"type": "array"}, "by_kind": {"type": "object"}, "by_site": {"type": "object"},
        "topics": {},
        "own": {"type": "boolean", "description": "one of the user's own identities"},
        "counted_days": {"type": "integer", "description": "the age in days past which nothing counts"},
        "group": {"type": ["object", "null"],
                  "description": "the closed group behind the score, if any: `accounts` (how many), `interactions`"},
        "reach": {"type": ["number", "null"], "minimum": 0,
                  "description": "the people within three steps of engagement, when they are what holds the score "
                                 "(a score is at most 10 + 10 log3 of them), else null"},
    },
}

SETTINGS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "site_weights": {"type": "object", "maxProperties": 1000,
                         "propertyNames": {"pattern": SITE_PATTERN},
                         "additionalProperties": {"type": "number", "minimum": 0, "maximum": 10}},
        "topics": {"type": "object", "maxProperties": 200,
                   "propertyNames": {"minLength": 1, "maxLength": 60},
                   "additionalProperties": {"type": "array", "minItems": 1, "maxItems": 100,
                                            "items": {"type": "string", "minLength": 1, "maxLength": 60}}},
        "horizon_days": {"type": "integer", "minimum": 7, "maximum": 3650},
    },
}

STORED_ITEM = copy.deepcopy(ITEM_SCHEMA)
STORED_ITEM["properties"]["seen"] = {"type": "string", "maxLength": 40}
STORED_ITEM["required"] = ["id", "kind", "author", "site"]
# Added by the server after validation (never sent by a capture); an import ignores it and
# computes it again from the text.
STORED_ITEM["properties"]["sentiment"] = {"type": "number", "minimum": -1, "maximum": 1}

EXPORT = {
    "type": "object",
    "required": ["cloutlens_export"],
    "additionalProperties": False,
    "properties": {
        "cloutlens_export": {"const": 1},
        "exported_at": {"type": "string"},
        "settings": SETTINGS,
        "links": {"type": "object", "additionalProperties": IDENTITY},
        "own_identities": {"type": "array", "items": IDENTITY},
        # People the user asked to forget: an import forgets them on the receiving side too.
        "forgotten": {"type": "array", "maxItems": 100_000, "items": IDENTITY},
        "items": {"type": "array", "items": STORED_ITEM},
        # The first day each scoring model version scored the snapshots below, in order of day.
        "models": {"type": "array", "maxItems": HISTORY_MAX_DAYS, "items": {
            "type": "array", "minItems": 2, "maxItems": 2,
            "prefixItems": [{"type": "string", "format": "date"}, {"type": "string", "minLength": 1, "maxLength": 40}]}},
        # The daily score snapshots (the history charts); an import adds only what the store lacks.
        "history": {"type": "array", "maxItems": HISTORY_MAX_DAYS, "items": {
            "type": "object", "required": ["day", "scores"], "additionalProperties": False,
            "properties": {"day": {"type": "string", "format": "date"},
                           "scores": {"type": "object", "propertyNames": IDENTITY,
                                      "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 100}}}}},
    },
}


def _errors(*codes):
    names = {400: "Invalid input; `field` names what is wrong", 401: "Missing or wrong bearer token",
             403: "Foreign Host or Origin", 404: "No such record", 413: "Body too large",
             409: "Everything was deleted while the import stored its file: it stopped, nothing of it kept",
             415: "Body is not application/json",
             429: "As many pairing requests wait as the server keeps: approve or deny them on /pair",
             503: "The data dir cannot be written; or (error `scoring`) the scores are still being "
                  "computed after a start: ask again in a few seconds; or (error `busy`, `task` naming it) a "
                  "long task such as an import or a forget holds the server, and this request gave up waiting "
                  "for it after 2 s (at once if 5 requests wait already): nothing was done, send it again "
                  "after the Retry-After seconds",
             507: "The disk is full"}
    out = {str(c): {"description": names[c], "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
           for c in codes}
    if 503 in codes:
        out["503"]["headers"] = {"Retry-After": {"description": "with error `busy`: seconds to wait before sending again",
                                                 "schema": {"type": "integer"}}}
    return out


def _json(schema, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _op(summary, responses, body=None, params=None, auth=True, errors=(400, 401, 403)):
    op = {"summary": summary, "responses": {**responses, **_errors(*errors)}}
    if body is not None:
        op["requestBody"] = _body(body)
    if params:
        op["parameters"] = params
    if not auth:
        op["security"] = []
    return op


def _q(name, schema, description="", required=False, explode=False):
    p = {"name": name, "in": "query", "required": required, "schema": schema, "description": description}
    if schema.get("type") == "array":
        p["style"], p["explode"] = "form", True
    return p


def _path(name, schema):
    return {"name": name, "in": "path", "required": True, "schema": schema}


PAGING = [_q("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
          _q("offset", {"type": "integer", "minimum": 0, "maximum": 10_000_000})]


def document(server_url: str = "http://127.0.0.1:7317") -> dict:
    obj = {"type": "object"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Cloutlens local API", "version": "1",
                 "description": "The local server's JSON API. Every /api route except status, pairing and "
                                "this document needs `Authorization: Bearer <token>` (obtained by pairing), "
                                "and bodies must be application/json of at most 2 MB (imports 1 GB)."},
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR, "Capture": CAPTURE_SCHEMA | {"properties": {
                **CAPTURE_SCHEMA["properties"], "page": PAGE_SCHEMA,
                "items": {"type": "array", "minItems": 1, "maxItems": 2000, "items": ITEM_SCHEMA}}},
                "Summary": SUMMARY, "Settings": SETTINGS, "Export": EXPORT},
        },
        "security": [{"token": []}],
        "paths": {
            "/api/status": {"get": _op("Version, scoring model version (`model`), data dir, counts, whether scores are ready "
                                       "(`scores`: loading, ready or failed) and what long task the server is busy "
                                       "with (`busy`: e.g. \"an import\", or null); always answers at once, "
                                       "whatever holds the server", {"200": _json(obj)},
                                       auth=False, errors=(403,))},
            "/api/openapi.json": {"get": _op("This document", {"200": _json(obj)}, auth=False, errors=(403,))},
            "/api/pair": {"post": _op("Ask to pair; the user approves the code on the dashboard",
                                      {"201": _json(obj)}, body={"type": "object", "properties": {
                                          "client": {"type": "string", "maxLength": 80}}},
                                      auth=False, errors=(400, 403, 413, 415, 429)),
                         "delete": _op("Revoke the calling client's own token (its pairing ends)",
                                       {"200": _json(obj)}, errors=(401, 403))},
            "/api/pair/{request_id}": {"post": _op("Poll a pairing request; the token comes once",
                                                  {"200": _json(obj)},
                                                  params=[_path("request_id", {"type": "string", "maxLength": 64})],
                                                  auth=False, errors=(403, 404)),
                                       "delete": _op("Withdraw a pending pairing request (only the origin that made it)",
                                                     {"200": _json(obj)},
                                                     params=[_path("request_id", {"type": "string", "maxLength": 64})],
                                                     auth=False, errors=(403, 404))},
            "/api/capture": {"post": _op("Store a capture (contract v1); answered once durable, with scores",
                                         {"200": _json(obj)}, body={"$ref": "#/components/schemas/Capture"},
                                         errors=(400, 401, 403, 413, 415, 503, 507))},
            "/api/scores": {
                "get": _op("Scores of many identities at once, and which of them are forgotten", {"200": _json(obj)},
                           params=[_q("id", {"type": "array", "items": IDENTITY, "minItems": 1, "maxItems": 500},
                                      required=True)], errors=(400, 401, 403, 503)),
                "post": _op("Scores of many identities at once (a long list)", {"200": _json(obj)},
                            body={"type": "object", "required": ["ids"], "properties": {
                                "ids": {"type": "array", "items": IDENTITY, "minItems": 1, "maxItems": 500}}},
                            errors=(400, 401, 403, 413, 415, 503)),
            },
            "/api/people": {"get": _op("People by score; search by name or handle, filter by site or topic",
                                       {"200": _json(obj)},
                                       params=[_q("q", {"type": "string", "maxLength": 200}),
                                               _q("site", {"type": "string", "pattern": SITE_PATTERN}),
                                               _q("topic", {"type": "string", "maxLength": 100})] + PAGING,
                                       errors=(400, 401, 403, 503))},
            "/api/people/{identity}": {
                "get": _op("A person: score, breakdown, history, items with what each contributed",
                           {"200": _json(obj)}, params=[_path("identity", IDENTITY)] + PAGING,
                           errors=(400, 401, 403, 404, 503)),
                "delete": _op("Forget a person: their items, links and history are deleted, scores recomputed",
                              {"200": _json(obj)}, params=[_path("identity", IDENTITY)],
                              errors=(400, 401, 403, 404, 503, 507)),
            },
            "/api/links": {
                "get": _op("Linked identities, alias -> canonical", {"200": _json(obj)}),
                "post": _op("Link an alias to a canonical identity (the user's decision, never automatic)",
                            {"201": _json(obj)},
                            body={"type": "object", "required": ["alias", "canonical"], "additionalProperties": False,
                                  "properties": {"alias": IDENTITY, "canonical": IDENTITY}},
                            errors=(400, 401, 403, 413, 415, 503, 507)),
            },
            "/api/links/{alias}": {"delete": _op("Unlink an alias", {"200": _json(obj)},
                                                 params=[_path("alias", IDENTITY)], errors=(400, 401, 403, 404, 503))},
            "/api/settings": {
                "get": _op("Site weights, topics, decay horizon", {"200": _json({"$ref": "#/components/schemas/Settings"})}),
                "put": _op("Change some settings; scores are recomputed", {"200": _json(obj)},
                           body={"$ref": "#/components/schemas/Settings"}, errors=(400, 401, 403, 413, 415, 503, 507)),
            },
            "/api/export": {"get": _op("Everything as one JSON document (never tokens)",
                                       {"200": _json({"$ref": "#/components/schemas/Export"})},
                                       errors=(400, 401, 403, 503))},
            "/api/import": {"post": _op("Import an export; idempotent, all-or-nothing validation",
                                        {"200": _json(obj)}, body={"$ref": "#/components/schemas/Export"},
                                        errors=(400, 401, 403, 409, 413, 415, 503, 507))},
        },
    }
