"""A full disk and a read-only data dir for real: a small tmpfs under the real server process.

test_api_data.py fakes the OSError inside the app, which checks every write path; these tests
check what the fake cannot: that the server really runs out of room on a real file system, that
no temp file is left eating the little space there is, and that what was acknowledged before is
all there after a restart. Mounting needs root (CAP_SYS_ADMIN); elsewhere they skip, saying so.
"""
from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import capture, comment_item, post_item
from serverproc import ROOT, ServerProcess, request, seed_token


def _mount(path, *options):
    return subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(path)],
                          capture_output=True, text=True)


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    res = _mount(mnt, "size=3m", "mode=0700")
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): {res.stderr.strip()}")
    try:
        yield mnt
    finally:
        # a failed test may leave the read-only bind on top of the tmpfs: unmount both
        while subprocess.run(["umount", "-l", str(mnt)], capture_output=True).returncode == 0:
            pass


def _remount(mnt, *options):
    res = subprocess.run(["mount", "-o", ",".join(("remount",) + options), str(mnt)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def _page(no: int) -> dict:
    # ~60 KB a page: a few dozen captures fill 3 MB, shard rewrites and temp copies included.
    filler = "engagement that the big networks never counted " * 20
    items = [post_item(f"post-{no}", text=filler)]
    items += [comment_item(f"c-{no}-{k}", f"reader{k}", parent=f"post-{no}", text=filler)
              for k in range(60)]
    return capture(items, url=f"https://blog.example/{no}")


def _status(port, token):
    code, body = request(port, "GET", "/api/status", token=token)
    assert code == 200
    return body


def test_a_real_full_disk_is_a_clear_error_and_keeps_every_acknowledged_item(small_disk):
    data = small_disk / "data"
    token = seed_token(data)
    server = ServerProcess(data)
    acknowledged, refusal = 0, None
    try:
        for no in range(200):
            code, body = request(server.port, "POST", "/api/capture", _page(no), token=token)
            if code != 200:
                refusal = (no, code, body)
                break
            acknowledged += body["stored"]["added"]
        assert refusal is not None, "3 MB never filled up"
        no, code, body = refusal
        assert code == 507 and body["error"] == "storage_full", body
        assert "nothing was stored" in body["message"]
        assert acknowledged > 0
        assert _status(server.port, token)["items"] == acknowledged
        # The failed write's temp files were removed: they would hold the disk full for good.
        assert not [p for p in data.rglob("*") if p.name.endswith(".tmp")]
    finally:
        server.kill()

    # A restart on the still-full disk opens the store with every acknowledged item.
    server = ServerProcess(data)
    try:
        assert _status(server.port, token)["items"] == acknowledged
        _remount(small_disk, "size=64m")  # the user frees some room
        code, body = request(server.port, "POST", "/api/capture", _page(no), token=token)
        assert code == 200 and body["stored"]["added"] == 61
        assert _status(server.port, token)["items"] == acknowledged + 61
    finally:
        server.stop()


def test_a_data_dir_that_turns_read_only_is_a_clear_error_and_the_data_stays(small_disk):
    data = small_disk / "data"
    token = seed_token(data)
    server = ServerProcess(data)
    try:
        code, body = request(server.port, "POST", "/api/capture", _page(1), token=token)
        assert code == 200 and body["stored"]["added"] == 61
        files = {p: p.read_bytes() for p in data.rglob("*.json")}
        # The server holds its lock file open for writing, so the tmpfs itself cannot go read-only
        # ("busy"); a read-only bind mount over it does the same to every path the server opens.
        subprocess.run(["mount", "--bind", str(small_disk), str(small_disk)], check=True)
        _remount(small_disk, "bind", "ro")
        code, body = request(server.port, "POST", "/api/capture", _page(2), token=token)
        assert code == 503 and body["error"] == "storage_unavailable", body
        assert "nothing was stored" in body["message"]
        assert _status(server.port, token)["items"] == 61
        assert {p: p.read_bytes() for p in data.rglob("*.json")} == files
        subprocess.run(["umount", str(small_disk)], check=True)  # back to the writable tmpfs
        code, body = request(server.port, "POST", "/api/capture", _page(2), token=token)
        assert code == 200 and body["stored"]["added"] == 61
    finally:
        server.stop()


def test_starting_on_a_read_only_data_dir_says_so_and_changes_nothing(small_disk):
    data = small_disk / "data"
    token = seed_token(data)
    server = ServerProcess(data)
    request(server.port, "POST", "/api/capture", _page(1), token=token)
    server.stop()
    files = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    _remount(small_disk, "ro")
    res = subprocess.run([sys.executable, "-m", "server.cli", "serve", "--port", "0", "--data-dir", str(data)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    assert "not writable" in res.stderr + res.stdout
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == files
