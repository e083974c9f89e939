"""Fuzzing against the served OpenAPI document (schemathesis), and hand-written malformed inputs:
never a 5xx, always a JSON error naming the field, and nothing half-stored."""
from __future__ import annotations

import json
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from helpers import capture, comment_item, post_item

schema = schemathesis.pytest.from_fixture("api_schema")
STATUSES: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def report_statuses():
    yield
    # The figure for the closing note: how many requests, answered how.
    print(f"\nfuzz: {sum(STATUSES.values())} requests, statuses {dict(sorted(STATUSES.items()))}")


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def stored(app):
    s = app.extensions["cloutlens"].store
    return s.count_items(), s.get_config("settings"), s.get_config("links")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_from_the_document_breaks_the_server(case, app, auth):
    before = stored(app)
    response = case.call(headers=auth)
    STATUSES[response.status_code] += 1
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    if response.content:  # an OPTIONS preflight answers with no body
        content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"]
        assert "application/json" in str(content_type), (case.method, response.status_code, response.text[:200])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= {"error", "message"}
        if case.method != "GET":
            assert stored(app) == before, "a refused request changed the store"


GOOD = capture([post_item(), comment_item("comment-1", "anna")])
DEEP = b'{"v": 1, "page": {"url": "https://blog.example/x"}, "items": ' + b"[" * 5000 + b"]" * 5000 + b"}"
RAW = [
    ("invalid UTF-8", json.dumps(GOOD).replace("comment comment-1", "\udcff").encode("utf-8", "surrogateescape")),
    ("lone surrogate", json.dumps(GOOD).replace("comment comment-1", "\\ud800").encode()),
    ("deep nesting", DEEP),
    ("deep nesting in a text", json.dumps(GOOD).encode().replace(b'"comment comment-1"', b"[" * 3000 + b"]" * 3000)),
    ("NaN", json.dumps(GOOD).encode().replace(b'"2026-11-20T09:14:00Z"', b"NaN")),
    ("huge number", json.dumps(GOOD).encode().replace(b'"v": 1', b'"v": 1' + b"0" * 5000)),
    ("truncated", json.dumps(GOOD).encode()[:-7]),
    ("empty", b""),
    ("a bare string", b'"hello"'),
    ("null", b"null"),
    ("a NUL byte", json.dumps(GOOD).encode().replace(b"comment comment-1", b"\x00")),
]


def _mutated(path, value):
    doc = json.loads(json.dumps(GOOD))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


TYPED = [
    (("v",), "1", "v"),
    (("page",), [], "page"),
    (("page", "url"), 42, "page.url"),
    (("page", "title"), {"a": 1}, "page.title"),
    (("items",), {"0": {}}, "items"),
    (("items", 1), "comment", "items[1]"),
    (("items", 1, "id"), 17, "items[1].id"),
    (("items", 1, "author"), "anna", "items[1].author"),
    (("items", 1, "author", "handle"), ["anna"], "items[1].author.handle"),
    (("items", 1, "reactions"), {"like": 1.5}, "items[1].reactions.like"),
    (("items", 1, "reactions"), {"like": True}, "items[1].reactions.like"),
    (("items", 1, "mentions"), [None], "items[1].mentions[0]"),
    (("items", 1, "text"), "x" * 1_000_000, "items[1].text"),
    (("items", 1, "author", "handle"), "h" * 100_000, "items[1].author.handle"),
    (("items", 1, "id"), "i" * 100_000, "items[1].id"),
    (("page", "url"), "https://" + "a" * 100_000 + ".example/", "page.url"),
    (("items", 1, "at"), "9999-99-99T99:99:99Z", "items[1].at"),
    (("items", 1, "at"), "0001-01-01T00:00:00Z", "items[1].at"),
    (("items", 1, "text"), {"nested": {"deeper": [1, 2, {"x": "y"}]}}, "items[1].text"),
]


@pytest.mark.parametrize("name,body", RAW, ids=[r[0] for r in RAW])
@pytest.mark.parametrize("path", ["/api/capture", "/api/import", "/api/links", "/api/settings", "/api/scores"])
def test_malformed_bodies_are_clear_400s_and_store_nothing(client, app, auth, name, body, path):
    before = stored(app)
    method = client.put if path == "/api/settings" else client.post
    r = method(path, data=body, headers={**auth, "Content-Type": "application/json"})
    assert r.status_code in (400, 413), (r.status_code, r.get_data()[:200])
    assert r.json["error"] in ("bad_json", "invalid", "too_large") and "field" in r.json
    assert stored(app) == before


@pytest.mark.parametrize("path,value,field", TYPED, ids=[t[2] + ":" + type(t[1]).__name__ for t in TYPED])
def test_wrong_types_and_huge_strings_name_the_field(client, app, auth, path, value, field):
    r = client.post("/api/capture", json=_mutated(path, value), headers=auth)
    assert r.status_code in (400, 413), r.status_code
    if r.status_code == 400:
        assert r.json["field"] == field
    assert stored(app)[0] == 0
    # The refusal never echoes the huge or hostile value back.
    assert len(r.get_data()) < 1000


def test_a_valid_capture_after_all_that_still_works(client, app, auth):
    for _, body in RAW:
        client.post("/api/capture", data=body, headers={**auth, "Content-Type": "application/json"})
    r = client.post("/api/capture", json=GOOD, headers=auth)
    assert r.status_code == 200 and r.json["stored"]["added"] == 2
