"""`cloutlens doctor` says what is wrong and what to do, and changes nothing."""
from __future__ import annotations

import os
import socket
import subprocess
import threading

import pytest
from click.testing import CliRunner

from server.cli import main
from server.storage import Store
from serverproc import seed_token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def doctor(data_dir, port):
    return CliRunner().invoke(main, ["doctor", "--data-dir", str(data_dir), "--port", str(port)])


def test_fresh_install_is_healthy_and_says_to_pair(tmp_path):
    port = free_port()
    r = doctor(tmp_path / "data", port)
    assert r.exit_code == 0, r.output
    assert "is free" in r.output
    assert "no extension is paired" in r.output and "Pair with server" in r.output
    assert f"http://127.0.0.1:{port}/pair" in r.output  # the port it checked, not a placeholder


def test_it_says_whether_the_scorers_c_modules_are_built(tmp_path, monkeypatch):
    from scoring import derive, fields

    built = fields._itemread is not None and derive._idtable is not None
    r = doctor(tmp_path / "data", free_port())
    assert ("the scorer's C modules are built" in r.output) == built, r.output
    monkeypatch.setattr(fields, "_itemread", None)
    r = doctor(tmp_path / "data", free_port())
    assert r.exit_code == 0, r.output
    assert "C module _itemread is not built" in r.output and "python3-dev" in r.output


def test_paired_store_with_items_is_reported(tmp_path):
    data = tmp_path / "data"
    seed_token(data)
    store = Store(data)
    from test_storage import items, SEEN
    store.add_items(items(2), SEEN)
    store.close()
    r = doctor(data, free_port())
    assert r.exit_code == 0, r.output
    assert "3 items in 1 shard file," in r.output and "1 paired client: " in r.output
    assert "index checkpoint: the next start reads 0 of 1 shards" in r.output
    store = Store(data)
    store.add_items(items(5, prefix="more"), SEEN)  # then the process dies: no new checkpoint
    store._lock_file.close()
    r = doctor(data, free_port())
    assert "index checkpoint: the next start reads 1 of 1 shards" in r.output


def test_a_data_dir_under_a_file_cannot_be_created(tmp_path):
    (tmp_path / "afile").write_text("x")
    r = doctor(tmp_path / "afile" / "sub", free_port())
    assert r.exit_code == 1 and "cannot be created" in r.output and "afile is a file" in r.output


def test_damaged_shard_fails_with_a_fix_and_is_left_alone(tmp_path):
    shard = tmp_path / "items" / "shard-00000.json"
    shard.parent.mkdir(parents=True)
    shard.write_text('{"items": {"1": ')
    r = doctor(tmp_path, free_port())
    assert r.exit_code == 1
    assert "shard-00000.json is damaged" in r.output and "fix: " in r.output
    assert shard.read_text() == '{"items": {"1": '
    assert not list(tmp_path.rglob("*.damaged-*"))


def test_data_dir_that_is_a_file_fails(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = doctor(f, free_port())
    assert r.exit_code == 1 and "is not a directory" in r.output


@pytest.fixture
def immutable_lock(tmp_path):
    """A data dir whose lock file cannot be opened for writing, even by root (chattr +i)."""
    data = tmp_path / "data"
    data.mkdir()
    lock = data / ".lock"
    lock.touch()
    if os.geteuid() != 0:
        lock.chmod(0o444)
    elif subprocess.run(["chattr", "+i", str(lock)], capture_output=True).returncode != 0:
        pytest.skip("root, and this file system cannot make a file immutable (chattr +i)")
    yield data
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(lock)], check=True)


def test_a_lock_file_that_cannot_be_written_fails_instead_of_a_traceback(immutable_lock):
    # doctor opened the lock "a+" to test it and crashed; serve refuses such a dir, so say so
    r = doctor(immutable_lock, free_port())
    assert r.exit_code == 1, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert ".lock is not writable" in r.output and "fix: " in r.output


def test_port_taken_by_another_program_fails(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]

        def answer():
            conn, _ = sock.accept()
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
            conn.close()
        t = threading.Thread(target=answer)
        t.start()
        r = doctor(tmp_path, port)
        t.join(5)
    assert r.exit_code == 1 and "taken by another program" in r.output


def test_running_server_is_recognised(tmp_path, server_factory):
    data = tmp_path / "data"
    seed_token(data)
    srv = server_factory(data)
    r = doctor(data, srv.port)
    assert r.exit_code == 0, r.output
    assert "a cloutlens server is using this data dir" in r.output
    assert f"a cloutlens server answers on port {srv.port}" in r.output
    # Its banner: on a port the extension does not look on by default, where to tell it.
    assert f"in its Options, set Server to http://127.0.0.1:{srv.port}\n" in "".join(srv.output)


@pytest.mark.parametrize("text", ['{"items": {"1": {"site": "blog.example"}}}', '{"items": {"1": 5}}'])
def test_a_shard_of_valid_json_but_no_items_fails(tmp_path, text):
    shard = tmp_path / "items" / "shard-00000.json"
    shard.parent.mkdir(parents=True)
    shard.write_text(text)
    r = doctor(tmp_path, free_port())
    assert r.exit_code == 1 and isinstance(r.exception, (SystemExit, type(None))), r.exception
    assert "shard-00000.json is not a shard of items (item 1 " in r.output and "all readable" not in r.output


def test_handles_stored_before_control_characters_were_removed_are_pointed_out(tmp_path):
    from server.app import Services
    from server.exchange import export_chunks
    store = Store(tmp_path / "old")
    old = {"site": "blog.example", "id": "c1", "kind": "comment", "parent": None, "at": "2026-11-20T09:14:00Z",
           "text": "hi", "url": None, "reactions": {}, "mentions": [],
           "author": {"handle": "bob\x07", "name": "Bob", "url": None}}
    store.add_items([old], "2026-11-21T00:00:00Z")  # as an earlier version stored it
    services = Services(store)
    (tmp_path / "export.json").write_bytes(b"".join(export_chunks(services)))
    services.close()
    r = doctor(tmp_path / "old", free_port())
    assert "1 people are stored under a handle read as it no longer is" in r.output, r.output
    # the way out the fix names: an import reads every handle anew
    assert CliRunner().invoke(main, ["import", "--data-dir", str(tmp_path / "new"), str(tmp_path / "export.json")]).exit_code == 0
    moved = Store(tmp_path / "new")
    assert moved.authors() == ["blog.example:bob"]
    moved.close()
    assert "stored under a handle" not in doctor(tmp_path / "new", free_port()).output


def test_a_server_on_another_data_dir_is_pointed_out(tmp_path, server_factory, monkeypatch):
    served, checked = tmp_path / "served", tmp_path / "checked"
    seed_token(served)
    seed_token(checked)
    srv = server_factory(served)
    r = doctor(checked, srv.port)
    assert f"the cloutlens server on port {srv.port} uses another data dir: {served}" in r.output
    assert "a cloutlens server answers" not in r.output
    # the same dir, named relatively from elsewhere, is the same dir
    monkeypatch.chdir(tmp_path)
    r = doctor("served", srv.port)
    assert f"a cloutlens server answers on port {srv.port}" in r.output and "another data dir" not in r.output


def test_items_without_stored_sentiment_and_an_interrupted_clear_are_reported(tmp_path):
    import json
    data = tmp_path / "data"
    store = Store(data)
    from test_storage import items, SEEN
    store.add_items(items(2), SEEN)
    store.close()
    r = doctor(data, free_port())
    assert "no stored sentiment" not in r.output
    shard = data / "items" / "shard-00000.json"
    doc = json.loads(shard.read_text())
    for d in doc["items"].values():
        del d["sentiment"]
    shard.write_text(json.dumps(doc))
    (data / "clear.journal").write_text("{}")
    r = doctor(data, free_port())
    assert r.exit_code == 0, r.output
    assert "3 items have no stored sentiment" in r.output and "delete-all was interrupted" in r.output


def test_no_server_running_is_a_warning_that_says_how_to_start_it(tmp_path, monkeypatch):
    # doctor said OK "port is free" while the extension had nothing to talk to
    data, port = tmp_path / "data", free_port()
    r = doctor(data, port)
    assert r.exit_code == 0, r.output
    assert f"WARN  no server is running on port {port}: the extension shows 'server not running'" in r.output
    assert "is free" in r.output
    assert f"start it with `cloutlens serve --data-dir {data} --port {port}`" in r.output
    # on the default port and data dir, the plain command
    from server import doctor as doctor_module
    monkeypatch.setattr(doctor_module, "DEFAULT_PORT", port)
    monkeypatch.setattr(doctor_module, "default_data_dir", lambda: data)
    assert "start it with `cloutlens serve`\n" in doctor(data, port).output


def test_a_server_on_another_port_is_named(tmp_path, server_factory):
    data = tmp_path / "data"
    seed_token(data)
    srv = server_factory(data)
    checked = free_port()
    r = doctor(data, checked)
    assert r.exit_code == 0, r.output
    assert f"nothing answers on port {checked}: it is serving port {srv.port}" in r.output
    assert f"cloutlens doctor --data-dir {data} --port {srv.port}`" in r.output
    assert "`cloutlens serve" not in r.output
    srv.stop()
    # the next holder of the lock (here `cloutlens clients`'s claim) is not taken for the stopped server
    from server.storage import claim_data_dir
    lock = claim_data_dir(data)
    try:
        r = doctor(data, checked)
    finally:
        lock.close()
    assert "it is serving port" not in r.output and "it may be serving another port" in r.output


@pytest.mark.parametrize("content", ["", "\x00garbage", '{"port": "7400"}', "[7400]"])
def test_a_lock_file_without_a_port_still_reads(tmp_path, content):
    # as a server older than the recorded port leaves it (empty), or anything else in its place
    data = tmp_path / "data"
    from server.storage import claim_data_dir
    lock = claim_data_dir(data.mkdir() or data)
    lock.write(content)
    lock.flush()
    try:
        r = doctor(data, free_port())
    finally:
        lock.close()
    assert r.exit_code == 0 and r.exception is None, r.output
    assert "it may be serving another port" in r.output


def test_pairing_is_taken_from_the_server_that_answers(tmp_path, server_factory):
    # a server on another data dir: doctor said "no extension is paired — start `cloutlens serve`"
    served, checked = tmp_path / "served", tmp_path / "checked"
    seed_token(served)
    checked.mkdir()
    srv = server_factory(served)
    r = doctor(checked, srv.port)
    assert "uses another data dir" in r.output
    assert "1 paired client: " in r.output and "no extension is paired" not in r.output, r.output
    # and one nobody paired with yet: pair with it, not start one
    srv.stop()
    (served / "config.json").unlink()
    srv = server_factory(served)
    for dir_checked in (checked, served):
        r = doctor(dir_checked, srv.port)
        assert "no extension is paired" in r.output, r.output
        assert f"fix: click the Cloutlens toolbar icon, 'Pair with server', and approve the code at " \
               f"http://127.0.0.1:{srv.port}/pair" in r.output
        assert "`cloutlens serve" not in r.output
