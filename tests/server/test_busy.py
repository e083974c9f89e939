"""A long task holds the services lock in a real `cloutlens serve` process: more captures than
waitress has threads arrive meanwhile, and status, the dashboard and every capture still answer.
The forget is slowed by tests/server/slow_forget.py (a test-only launcher, see why there)."""
from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers import EXT_ORIGIN
from serverproc import ROOT, ServerProcess, request, seed_token
from server.busy import THREADS
from server.contract import normalize_listed_item
from server.storage import Store

SLOW_FORGET = 15  # seconds the forget holds the locks: longer than any timeout below
PATIENCE = 10  # how long status may take: a generous bound, so this checks behaviour, not speed
PROLIFIC = "blog.example:prolific"
LAUNCHER = [str(Path(__file__).with_name("slow_forget.py"))]


def _send(port, method, path, body=None, token=None, origin=EXT_ORIGIN, timeout=PATIENCE):
    """(status, headers, parsed JSON or text, seconds taken)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if origin:
        headers["Origin"] = origin
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    t0 = time.monotonic()
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    kind = resp.getheader("Content-Type", "")
    return resp.status, resp, (json.loads(raw) if "json" in kind else raw.decode()), time.monotonic() - t0


def _capture(n: int) -> dict:
    return {"v": 1, "page": {"url": f"https://blog.example/busy/{n}", "title": "Busy"},
            "items": [{"id": f"busy-{n}", "kind": "comment", "parent": "p1", "author": {"handle": f"visitor{n}"},
                       "at": "2026-11-20T09:14:00Z", "text": f"comment {n}"}]}


def _store_with_a_prolific_person(data_dir: Path, items: int = 300):
    raw = [{"site": "blog.example", "id": "p1", "kind": "post", "parent": None, "author": {"handle": "other"}}]
    raw += [{"site": "blog.example", "id": f"c{i}", "kind": "comment", "parent": "p1",
             "author": {"handle": "prolific"}, "at": "2026-11-20T09:14:00Z", "text": f"reply {i}"}
            for i in range(items)]
    store = Store(data_dir)
    try:
        store.add_items([normalize_listed_item(it, n) for n, it in enumerate(raw)], "2026-11-20T09:14:00Z")
    finally:
        store.close()


@pytest.mark.fault
@pytest.mark.parametrize("step", ["remove", "compact"])
def test_a_long_forget_leaves_status_and_the_dashboard_answering_and_captures_busy_not_lost(tmp_path, monkeypatch, step):
    """`remove` holds the store's lock too, which status and every token check once waited for;
    `compact` holds the services lock only, and status waited for a thread the captures held."""
    data = tmp_path / "data"
    token = seed_token(data)
    _store_with_a_prolific_person(data)
    monkeypatch.setenv("SLOW_STEP", step)
    monkeypatch.setenv("SLOW_FORGET", str(SLOW_FORGET))
    srv = ServerProcess(data, launcher=LAUNCHER)
    try:
        port = srv.port
        before = request(port, "GET", "/api/status", token=token)[1]
        assert before["items"] == 301

        forgot = {}
        forgetting = threading.Thread(target=lambda: forgot.update(
            answer=_send(port, "DELETE", f"/api/people/{PROLIFIC}", token=token, timeout=120)))
        forgetting.start()
        time.sleep(1)  # the forget takes the lock at once: the scores are loaded, nothing else runs

        answers: dict[int, tuple] = {}

        def capture(n):
            try:
                answers[n] = _send(port, "POST", "/api/capture", _capture(n), token=token, timeout=60)
            except OSError as exc:
                answers[n] = exc
        captures = [threading.Thread(target=capture, args=(n,)) for n in range(THREADS + 4)]
        for t in captures:
            t.start()
        time.sleep(0.5)  # every thread of the server taken by a capture, on main's code

        code, _, body, took = _send(port, "GET", "/api/status", token=token)
        assert code == 200 and body["busy"] == "forgetting a person", body
        print(f"status answered in {took:.3f} s")
        code, resp, page, took = _send(port, "GET", "/", origin=None)
        assert code == 503 and "busy with forgetting" in page and resp.getheader("Retry-After")
        print(f"dashboard answered in {took:.3f} s")
        doctor = subprocess.run([sys.executable, "-m", "server.cli", "doctor", "--data-dir", str(data), "--port",
                                 str(port)], cwd=ROOT, capture_output=True, text=True, timeout=PATIENCE * 3)
        assert "busy with forgetting a person" in doctor.stdout, doctor.stdout + doctor.stderr
        code, resp, body, _ = _send(port, "GET", "/api/scores?id=blog.example:visitor1", token=token)
        assert code == 503 and body["error"] == "busy" and body["task"] == "forgetting a person"

        for t in captures:
            t.join(60)
        busy = []
        for n, got in sorted(answers.items()):
            assert not isinstance(got, Exception), f"capture {n}: {got!r}"
            code, resp, body, took = got
            assert code in (200, 503), (n, code, body)
            if code == 503:
                assert body["error"] == "busy" and "forgetting" in body["message"], body
                assert int(resp.getheader("Retry-After")) > 0
                busy.append(n)
        assert len(answers) == THREADS + 4 and busy, answers
        print(f"{len(busy)} of {len(answers)} captures answered busy, the slowest in "
              f"{max(a[3] for a in answers.values()):.2f} s")

        forgetting.join(120)
        assert forgot["answer"][0] == 200 and forgot["answer"][2]["items_removed"] == 300
        stored = {n for n in answers
                  if request(port, "GET", f"/api/people/blog.example:visitor{n}", token=token)[0] == 200}
        assert stored == set(answers) - set(busy)  # a busy answer stored nothing
        assert request(port, "GET", "/api/status", token=token)[1]["items"] == 1 + len(stored)
        # sent again once the task is over, as the extension's queue does: stored
        assert request(port, "POST", "/api/capture", _capture(busy[0]), token=token)[0] == 200
    finally:
        srv.stop()
