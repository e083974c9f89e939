"""A real `cloutlens serve` killed (SIGKILL) at an exact step of a data-management task, then
started again: the store must be what the task promised or what it was before, never between.
The kill is placed by tests/server/crash_at.py (a test-only launcher, see why there)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from serverproc import ROOT, ServerProcess, request, seed_token
from server.contract import normalize_listed_item
from server.storage import Store

LAUNCHER = [str(Path(__file__).with_name("crash_at.py"))]
ANNA = "blog.example:anna"
DAYS = ["2026-11-20", "2026-11-21", "2026-11-22"]


def _store_with_history(data_dir: Path):
    """Anna's items and her score snapshots on three days, beside Bob's."""
    raw = [{"site": "blog.example", "id": "p1", "kind": "post", "parent": None, "author": {"handle": "bob"}}]
    raw += [{"site": "blog.example", "id": f"c{i}", "kind": "comment", "parent": "p1", "author": {"handle": "anna"},
             "at": "2026-11-20T09:14:00Z", "text": f"reply {i}"} for i in range(20)]
    store = Store(data_dir)
    try:
        store.add_items([normalize_listed_item(it, n) for n, it in enumerate(raw)], "2026-11-20T09:14:00Z")
        for day in DAYS:
            store.record_scores(day, {ANNA: 30, "blog.example:bob": 12})
        store.flush_history()
    finally:
        store.close()


def _anna_on_disk(data_dir: Path) -> list[str]:
    """The files that still hold anything of Anna's: her items or her snapshots."""
    found = []
    for path in sorted((data_dir / "items").glob("shard-*.json")):
        docs = orjson.loads(path.read_bytes())["items"].values()
        if any(d["site"] == "blog.example" and d["author"]["handle"] == "anna" for d in docs):
            found.append(str(path.relative_to(data_dir)))
    for path in sorted((data_dir / "history").glob("20*.json")):
        if ANNA in orjson.loads(path.read_bytes()):
            found.append(str(path.relative_to(data_dir)))
    return found


@pytest.mark.fault
@pytest.mark.parametrize("step,after", [("Store.remove_author", True), ("Store.forget_history", False),
                                        ("Store.forget_history", True)])
def test_a_forget_cut_short_by_a_crash_is_finished_at_the_next_start(tmp_path, monkeypatch, step, after):
    """Killed after the forgotten list was written but before the person's snapshots were
    deleted, a forget left them in the history files for good: the person is on the list, so
    forgetting them again answered 404 (nobody by that identity is stored), and their scores
    went on into every export."""
    data = tmp_path / "data"
    token = seed_token(data)
    _store_with_history(data)
    assert len(_anna_on_disk(data)) == 1 + len(DAYS)
    monkeypatch.setenv("CRASH_AT", step)
    monkeypatch.setenv("CRASH_AFTER", "1" if after else "0")
    srv = ServerProcess(data, launcher=LAUNCHER)
    try:
        with pytest.raises(OSError):  # the connection dies with the server
            request(srv.port, "DELETE", f"/api/people/{ANNA}", token=token)
    finally:
        srv.proc.wait(timeout=30)
    srv = ServerProcess(data)
    try:
        assert _anna_on_disk(data) == []
        config = orjson.loads((data / "config.json").read_bytes())["config"]["1"]
        assert config["forgotten"] == [ANNA]
        status, body = request(srv.port, "GET", f"/api/people/{ANNA}", token=token)
        assert status == 404
        conn_status, exported = request(srv.port, "GET", "/api/export", token=token)
        assert conn_status == 200 and exported["forgotten"] == [ANNA]
        assert not any(ANNA in day["scores"] for day in exported["history"])
        assert not any(it["author"]["handle"] == "anna" for it in exported["items"])
    finally:
        srv.stop()
    assert not (data / "forget.journal").exists()


def _export_file(path: Path, items: int) -> Path:
    doc = {"cloutlens_export": 1, "own_identities": ["blog.example:bob"], "settings": {"horizon_days": 60},
           "items": [{"site": "blog.example", "id": f"i{n}", "kind": "comment", "parent": "p1",
                      "author": {"handle": f"reader{n % 30}"}, "at": "2026-11-20T09:14:00Z", "text": f"note {n}"}
                     for n in range(items)],
           "history": [{"day": "2026-11-20", "scores": {"blog.example:reader1": 20}}]}
    path.write_bytes(orjson.dumps(doc))
    return path


@pytest.mark.fault
def test_an_import_cut_short_by_a_crash_says_so_after_the_restart(tmp_path, monkeypatch):
    """An import stores its file a batch at a time; killed midway, it left part of the file
    stored (its settings and some items, not its own identities nor its history) and nothing
    said so: the answer was lost with the server, and after the restart status, the data page
    and doctor looked like any store. Now they say an import did not finish, until one does."""
    from helpers import post_export
    data = tmp_path / "data"
    token = seed_token(data)
    path = _export_file(tmp_path / "export.json", 40)
    monkeypatch.setenv("CRASH_AT", "Store.add_items")
    monkeypatch.setenv("CRASH_AFTER", "1")
    srv = ServerProcess(data, launcher=LAUNCHER)
    try:
        with pytest.raises(OSError):
            post_export(srv.port, path, token)
    finally:
        srv.proc.wait(timeout=30)
    doctor = subprocess.run([sys.executable, "-m", "server.cli", "doctor", "--data-dir", str(data), "--port", "0"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "an import did not finish" in doctor.stdout, doctor.stdout + doctor.stderr
    srv = ServerProcess(data)
    try:
        status = request(srv.port, "GET", "/api/status", token=token)[1]
        assert status["items"] == 40 and status["import_unfinished"]["items"] == 40
        assert "did not finish" in _page(srv.port, "/data")
        assert post_export(srv.port, path, token)[0] == 200
        assert request(srv.port, "GET", "/api/status", token=token)[1]["import_unfinished"] is None
        assert "did not finish" not in _page(srv.port, "/data")
    finally:
        srv.stop()
    assert not (data / "import.unfinished").exists()


def _page(port: int, path: str) -> str:
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        return conn.getresponse().read().decode()
    finally:
        conn.close()
