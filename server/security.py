"""The door: every request passes these checks before any view runs.

Any web page the user opens can send requests to 127.0.0.1, so the server trusts nothing about a
request but what a page cannot forge: the Host it was addressed to (DNS rebinding), the Origin the
browser stamps on it, and a bearer token only the paired extension holds.
"""
from __future__ import annotations

import re

from flask import current_app, g, jsonify, request

LOOPBACK_HOST = re.compile(r"(localhost|127\.0\.0\.1|\[::1\])(?::([0-9]{1,5}))?", re.IGNORECASE)
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
    # The whole header, as a browser writes it for a URL of ours: a URL parser reads
    # "evil.example@localhost:7317" or "localhost:7317/x" as localhost, and own_origin() then
    # takes the rest in.
    m = LOOPBACK_HOST.fullmatch(host_header or "")
    if m is None:
        return False
    return port is None or m.group(2) is None or int(m.group(2)) == port


def own_origin() -> str:
    return f"{request.scheme}://{request.host}"


def paired_origins() -> set[str]:
    return set(current_app.extensions["cloutlens"].pairing.paired_origins())


def allowed_origin(origin: str) -> bool:
    """The dashboard's own origin, and extension origins the user paired (or configured)."""
    if origin == own_origin():
        return True
    return origin in paired_origins() or origin in current_app.config["EXTENSION_ORIGINS"]


def refusal(method: str, path: str, header, port: int | None, origin_allowed) -> tuple[int, str, str] | None:
    """What the door refuses from a request's head alone (Host, Origin, Sec-Fetch-*): (status,
    code, message), or None. `header(name)` reads a header; `origin_allowed(origin)` says whether
    an Origin may call us. The WSGI server asks this too, before it takes in a body (body_dropper)."""
    if not host_allowed(header("Host") or "", port):
        return 403, "bad_host", "this server answers only to localhost, 127.0.0.1 or [::1]"
    origin = header("Origin")
    fetch_site = header("Sec-Fetch-Site")
    if origin and origin != "null":
        pairing_call = path.startswith(PAIRING_PATHS) and EXTENSION_ORIGIN.match(origin)
        if not (origin_allowed(origin) or pairing_call):
            return 403, "bad_origin", "requests from this origin are not accepted"
    elif origin == "null" and method in UNSAFE_METHODS:
        return 403, "bad_origin", "requests from an opaque origin are not accepted"
    elif method in UNSAFE_METHODS and fetch_site in ("cross-site", "same-site"):
        # A browser that sends no Origin still says where the request came from.
        return 403, "bad_origin", "cross-site requests are not accepted"
    elif fetch_site in ("cross-site", "same-site") and not (
            header("Sec-Fetch-Mode") == "navigate" and header("Sec-Fetch-Dest") == "document"):
        # Another site's page can still load our pages as images, prefetches or frames and tell a
        # 200 from a 404 (is this person in the store?) without reading them. Only the user's own
        # navigation (a link from a hovercard to the dashboard) may come from another site.
        return 403, "bad_origin", "other sites may only link to this server, not load from it"
    return None


def check_request():
    """Flask before_request hook: refuse what is not for us. Returns a response to refuse."""
    cfg = current_app.config
    refused = refusal(request.method, request.path, request.headers.get, cfg.get("PORT"), allowed_origin)
    if refused is not None:
        return error(*refused)
    is_api = request.path.startswith("/api/")

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


class _Dropped:
    """A request body's buffer that keeps nothing."""

    def append(self, data):
        pass

    def __len__(self):
        return 0

    def getfile(self):
        import io
        return io.BytesIO()

    def prune(self):
        pass

    def close(self):
        pass


def body_dropper(app):
    """waitress's connection class for `app`, in which a request the door refuses by its head
    (`refusal`) has its body read and dropped as it arrives.

    waitress takes a whole body in (up to 1 GB, into a temporary file) before the app sees the
    request: any web page could make us hold a gigabyte per upload, six at a time, of the user's
    disk (or memory, where /tmp is tmpfs), and only then be told 403. The body is still read to
    its end, never left on the connection to be parsed as a next request."""
    from waitress.channel import HTTPChannel
    from waitress.parser import HTTPRequestParser
    from werkzeug.sansio.utils import get_host

    class Parser(HTTPRequestParser):
        def parse_header(self, header_plus):
            super().parse_header(header_plus)
            if self.body_rcv is None:
                return

            def header(name):
                return self.headers.get(name.upper().replace("-", "_"))

            def origin_allowed(origin):
                # as allowed_origin, which needs a request; any extension origin passes here and
                # is judged by the app, which sees the body
                own = f"{self.url_scheme}://{get_host(self.url_scheme, header('Host'))}"
                return (origin == own or EXTENSION_ORIGIN.match(origin) is not None
                        or origin in app.config["EXTENSION_ORIGINS"]
                        or origin in app.extensions["cloutlens"].pairing.paired_origins())

            if refusal(self.command, self.path, header, app.config.get("PORT"), origin_allowed):
                self.body_rcv.buf = _Dropped()

    class Channel(HTTPChannel):
        parser_class = Parser

    return Channel
