"""The door: every request passes these checks before any view runs.

Any web page the user opens can send requests to 127.0.0.1, so the server trusts nothing about a
request but what a page cannot forge: the Host it was addressed to (DNS rebinding), the Origin the
browser stamps on it, and a bearer token only the paired extension holds.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app, g, jsonify, request

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1"}
EXTENSION_ORIGIN = re.compile(r"^(chrome-extension://[a-p]{32}|moz-extension://[0-9a-f-]{36})$")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Paths a not-yet-paired extension may call: it has no token until pairing ends.
PAIRING_PATHS = ("/api/pair",)
# Paths that reveal nothing private: the status a doctor needs, and the API's own description.
OPEN_PATHS = {"/api/status", "/api/openapi.json"}


def error(status: int, code: str, message: str, field: str | None = None, **more):
    body = {"error": code, "message": message}
    if field is not None:
        body["field"] = field
    body.update(more)
    resp = jsonify(body)
    resp.status_code = status
    return resp


def host_allowed(host_header: str, port: int | None) -> bool:
    if not host_header:
        return False
    parts = urlsplit("//" + host_header)
    try:
        host_port = parts.port
    except ValueError:
        return False
    name = (parts.hostname or "").lower()
    if host_header.startswith("["):
        name = f"[{name}]"
    if name not in LOOPBACK_NAMES:
        return False
    return port is None or host_port is None or host_port == port


def own_origin() -> str:
    return f"{request.scheme}://{request.host}"


def paired_origins() -> set[str]:
    return set(current_app.extensions["cloutlens"].pairing.paired_origins())


def allowed_origin(origin: str) -> bool:
    """The dashboard's own origin, and extension origins the user paired (or configured)."""
    if origin == own_origin():
        return True
    return origin in paired_origins() or origin in current_app.config["EXTENSION_ORIGINS"]


def check_request():
    """Flask before_request hook: refuse what is not for us. Returns a response to refuse."""
    cfg = current_app.config
    if not host_allowed(request.headers.get("Host", ""), cfg.get("PORT")):
        return error(403, "bad_host", "this server answers only to localhost, 127.0.0.1 or [::1]")

    origin = request.headers.get("Origin")
    is_api = request.path.startswith("/api/")
    if origin and origin != "null":
        pairing_call = request.path.startswith(PAIRING_PATHS) and EXTENSION_ORIGIN.match(origin)
        if not (allowed_origin(origin) or pairing_call):
            return error(403, "bad_origin", "requests from this origin are not accepted")
    elif origin == "null" and request.method in UNSAFE_METHODS:
        return error(403, "bad_origin", "requests from an opaque origin are not accepted")
    elif request.method in UNSAFE_METHODS and request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
        # A browser that sends no Origin still says where the request came from.
        return error(403, "bad_origin", "cross-site requests are not accepted")
    elif request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site") and not top_level_navigation():
        # Another site's page can still load our pages as images, prefetches or frames and tell a
        # 200 from a 404 (is this person in the store?) without reading them. Only the user's own
        # navigation (a link from a hovercard to the dashboard) may come from another site.
        return error(403, "bad_origin", "other sites may only link to this server, not load from it")

    if request.method == "OPTIONS":
        return None  # the CORS preflight; flask-cors answers it

    if is_api and request.method in UNSAFE_METHODS:
        # A DELETE names its target in the path; one without a body has no type to check.
        bodyless = (request.method == "DELETE" and not request.content_length
                    and "chunked" not in request.headers.get("Transfer-Encoding", "").lower())
        if not bodyless and request.mimetype != "application/json":
            return error(415, "bad_content_type", "send the body as application/json", "Content-Type")

    if is_api and request.path not in OPEN_PATHS and not request.path.startswith(PAIRING_PATHS):
        token_origin = current_app.extensions["cloutlens"].pairing.verify(bearer_token())
        if token_origin is None:
            return error(401, "unauthorized", "pair the extension first: a valid bearer token is required",
                         "Authorization")
        g.client_origin = token_origin
    return None


def top_level_navigation() -> bool:
    return (request.headers.get("Sec-Fetch-Mode") == "navigate"
            and request.headers.get("Sec-Fetch-Dest") == "document")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def set_security_headers(resp):
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    # Not "no-referrer": with it, browsers send `Origin: null` on the dashboard's own form posts.
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    )
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp
