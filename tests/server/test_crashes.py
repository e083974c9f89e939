"""A real `cloutlens serve` killed (SIGKILL) at an exact step of a data-management task, then
started again: the store must be what the task promised or what it was before, never between.
The kill is placed by tests/server/crash_at.py (a test-only launcher, see why there)."""
from __future__ import annotations

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
