"""A real `cloutlens serve` process on loopback, and plain HTTP requests to it."""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
from helpers import EXT_ORIGIN

ROOT = Path(__file__).resolve().parents[2]
SERVER_LINE = re.compile(r"server on http://(?:127\.0\.0\.1|\[::1\]):(\d+)/")


def seed_token(data_dir: Path) -> str:
    """A paired client, written the way pairing writes it, so a subprocess server accepts it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    clients = {hashlib.sha256(token.encode()).hexdigest(): {"origin": EXT_ORIGIN, "client": "test", "created": 0}}
    (data_dir / "config.json").write_bytes(orjson.dumps({"config": {"1": {"clients": clients}}}))
    return token


class ServerProcess:
    """`python -m server.cli serve --port 0 --data-dir DIR`, as a user runs it; `launcher` is a
    test's own script in its place, which changes the server before it runs the same command."""

    def __init__(self, data_dir: Path, *options: str, timeout: float = 60, launcher: list[str] | None = None):
        self.proc = subprocess.Popen(
            [sys.executable, *(launcher or ["-m", "server.cli"]), "serve", "--port", "0", "--data-dir", str(data_dir),
             *options],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        self.port = None
        self.output: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            m = SERVER_LINE.search(line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            err = self.proc.stderr.read()
            raise AssertionError(f"the server did not start: {''.join(self.output)}{err}")
        while time.monotonic() < deadline and "Press Ctrl+C" not in self.output[-1]:  # the whole banner
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
        # Drain the pipes so a chatty server never blocks on a full pipe.
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=stream.read, daemon=True).start()

    def kill(self):
        self.proc.kill()  # SIGKILL: no cleanup, no flush, no atexit
        self.proc.wait(timeout=30)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


def request(port, method, path, body=None, token=None, conn=None, timeout=30):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Origin": EXT_ORIGIN}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, (json.loads(raw) if raw else None)
    finally:
        if own:
            conn.close()


