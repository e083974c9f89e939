"""Pairing: how the extension gets its token, with the user's approval.

1. The extension asks (`POST /api/pair`); the server makes a request with a short code and tells
   the user where to approve it (the terminal, and the dashboard's /pair page).
2. The user checks that the code matches the one the extension shows, and approves.
3. The extension polls (`GET /api/pair/<id>`) and receives the token, once.

Only a hash of each token is stored, and tokens are compared in constant time. A token is bound
to the origin that asked for it, which is then allowed to call the API.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

REQUEST_TTL = 600  # seconds a pairing request waits for the user
MAX_PENDING = 20   # a flood of requests must not bury the real one ...
PER_ORIGIN = 3     # ... so one origin can hold only a few of them, and it loses its own oldest


class PairingFull(RuntimeError):
    """As many requests wait as the server keeps, each another origin's only one."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class PairRequest:
    id: str
    code: str
    origin: str
    client: str
    created: float
    status: str = "pending"  # pending, approved, denied, delivered
    token: str | None = field(default=None, repr=False)

    def public(self) -> dict:
        return {"request": self.id, "code": self.code, "origin": self.origin, "client": self.client,
                "status": self.status, "created": self.created}


class Pairing:
    def __init__(self, store, announce=None):
        """store: where the config lives (get_config, set_config): a Store, or its ConfigFile alone."""
        self.store = store
        self.announce = announce or (lambda req: None)
        self._pending: dict[str, PairRequest] = {}
        self._lock = threading.Lock()

    # -- requests ------------------------------------------------------------

    def _expire(self):
        now = time.time()
        for rid in [r for r, req in self._pending.items() if now - req.created > REQUEST_TTL]:
            del self._pending[rid]

    def request(self, origin: str, client: str) -> PairRequest:
        with self._lock:
            self._expire()
            mine = [r for r in self._pending.values() if r.origin == origin]
            full = len(self._pending) >= MAX_PENDING
            if len(mine) >= PER_ORIGIN or (full and mine):
                crowd = origin  # an origin asking again gives up its own oldest request
            elif full:
                # the oldest request of an origin holding several; never another origin's only
                # one (it may be the code the user is reading): a flood of origins is refused
                counts: dict[str, int] = {}
                for r in self._pending.values():
                    counts[r.origin] = counts.get(r.origin, 0) + 1
                crowd = max(counts, key=counts.get)
                if counts[crowd] < 2:
                    raise PairingFull(f"{len(self._pending)} pairing requests are waiting: approve or deny "
                                      "them on the server's /pair page, or wait for them to expire")
            else:
                crowd = None
            if crowd is not None:
                oldest = min((r for r in self._pending.values() if r.origin == crowd), key=lambda r: r.created)
                del self._pending[oldest.id]
            req = PairRequest(
                id=secrets.token_urlsafe(16),
                code=f"{secrets.randbelow(1000):03d}-{secrets.randbelow(1000):03d}",
                origin=origin,
                # shown in the terminal and on /pair: no control characters (escape sequences
                # could rewrite what the terminal shows next to the code)
                client="".join(ch for ch in client if ch.isprintable())[:80],
                created=time.time(),
            )
            self._pending[req.id] = req
        self.announce(req)
        return req

    def pending(self) -> list[PairRequest]:
        with self._lock:
            self._expire()
            return sorted((r for r in self._pending.values() if r.status == "pending"),
                          key=lambda r: r.created)

    def decide(self, request_id: str, approve: bool) -> PairRequest | None:
        with self._lock:
            req = self._pending.get(request_id)
            if req is None or req.status != "pending":
                return None
            if not approve:
                req.status = "denied"
                return req
            token = secrets.token_urlsafe(32)
            clients = dict(self.store.get_config("clients", {}))
            clients[_hash(token)] = {"origin": req.origin, "client": req.client, "created": time.time()}
            self.store.set_config("clients", clients)
            req.status, req.token = "approved", token
            return req

    def poll(self, request_id: str, origin: str) -> dict | None:
        """The request's state; the token is handed over once, to the origin that asked."""
        with self._lock:
            self._expire()
            req = self._pending.get(request_id)
            if req is None or not hmac.compare_digest(req.origin, origin):
                return None
            out = {"status": req.status}
            if req.status == "approved":
                out["token"] = req.token
                req.status, req.token = "delivered", None
                del self._pending[request_id]
            elif req.status == "denied":
                del self._pending[request_id]
            return out

    def withdraw(self, request_id: str, origin: str) -> bool:
        """The extension cancels its own pending request: the code leaves /pair, and approving it
        can no longer make a token nobody holds. Only the origin that asked may."""
        with self._lock:
            self._expire()
            req = self._pending.get(request_id)
            if req is None or req.status != "pending" or not hmac.compare_digest(req.origin, origin):
                return False
            del self._pending[request_id]
            return True

    # -- tokens --------------------------------------------------------------

    def verify(self, token: str | None) -> str | None:
        """The origin the token was issued to, or None."""
        if not token:
            return None
        wanted = _hash(token)
        found = None
        for digest, info in self.store.get_config("clients", {}).items():
            # Compare against every entry: the time taken says nothing about which matched.
            if hmac.compare_digest(digest, wanted):
                found = info["origin"]
        return found

    def paired_origins(self) -> list[str]:
        return sorted({c["origin"] for c in self.store.get_config("clients", {}).values() if c["origin"]})

    def clients(self) -> list[dict]:
        return [dict(info, id=digest[:12]) for digest, info in self.store.get_config("clients", {}).items()]

    def revoke_token(self, token: str | None) -> bool:
        """A client ends its own pairing (the extension's "Forget the pairing")."""
        if not token:
            return False
        wanted = _hash(token)
        clients = dict(self.store.get_config("clients", {}))
        gone = [d for d in clients if hmac.compare_digest(d, wanted)]
        for d in gone:
            del clients[d]
        if gone:
            self.store.set_config("clients", clients)
        return bool(gone)

    def revoke(self, client_id: str) -> bool:
        clients = dict(self.store.get_config("clients", {}))
        gone = [d for d in clients if d.startswith(client_id) and len(client_id) >= 12]
        for d in gone:
            del clients[d]
        if gone:
            self.store.set_config("clients", clients)
        return bool(gone)
