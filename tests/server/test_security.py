"""The door of DESIGN.md's security section, one refusal per test."""
from __future__ import annotations

import json

import pytest

from helpers import EXT_ORIGIN, capture, comment_item, post_item

GOOD = capture([post_item(), comment_item("comment-1", "anna")])


def stored(app):
    return app.extensions["cloutlens"].store.count_items()


def test_missing_token_is_refused_and_nothing_stored(client, app):
    r = client.post("/api/capture", json=GOOD, headers={"Origin": EXT_ORIGIN})
    assert r.status_code == 401
    assert r.json["field"] == "Authorization"
    assert stored(app) == 0


def test_wrong_token_is_refused(client, app, token):
    bad = token[:-1] + ("a" if token[-1] != "a" else "b")
    r = client.post("/api/capture", json=GOOD, headers={"Authorization": f"Bearer {bad}", "Origin": EXT_ORIGIN})
    assert r.status_code == 401
    assert stored(app) == 0


def test_valid_token_is_accepted(client, app, auth):
    r = client.post("/api/capture", json=GOOD, headers=auth)
    assert r.status_code == 200, r.json
    assert stored(app) == 2


@pytest.mark.parametrize("origin", ["https://evil.example", "http://127.0.0.1:9999", "chrome-extension://" + "b" * 32,
                                    "null"])
def test_foreign_origin_is_refused_even_with_token(client, app, token, origin):
    r = client.post("/api/capture", json=GOOD, headers={"Authorization": f"Bearer {token}", "Origin": origin})
    assert r.status_code == 403
    assert stored(app) == 0


@pytest.mark.parametrize("host", ["evil.example", "evil.example:7317", "127.0.0.1.evil.example", "192.168.1.5:7317", ""])
def test_rebinding_host_is_refused(client, auth, host):
    r = client.get("/api/status", headers={"Host": host})
    assert r.status_code == 403
    assert r.json["error"] == "bad_host"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "localhost:7317"])
def test_loopback_hosts_are_served(client, host):
    assert client.get("/api/status", headers={"Host": host}).status_code == 200


def test_host_must_carry_our_port_once_known(app, client):
    app.config["PORT"] = 7317
    assert client.get("/api/status", headers={"Host": "127.0.0.1:7317"}).status_code == 200
    assert client.get("/api/status", headers={"Host": "127.0.0.1:8080"}).status_code == 403


@pytest.mark.parametrize("host", ["evil.example@localhost:7317", "localhost:7317/evil", "localhost:7317#x",
                                  "localhost:7317?x", "localhost:7317:7317", "LOCALHOST.:7317"])
def test_a_host_is_our_name_and_port_and_nothing_else(app, client, host):
    """A URL parser read these as localhost:7317 (userinfo, path, fragment); no browser sends them,
    but the rest of the header went into own_origin()."""
    app.config["PORT"] = 7317
    r = client.get("/api/status", headers={"Host": host})
    assert r.status_code == 403 and r.json["error"] == "bad_host"
    assert client.get("/api/status", headers={"Host": "LocalHost:7317"}).status_code == 200


def test_text_plain_body_is_refused(client, app, auth):
    import json
    r = client.post("/api/capture", data=json.dumps(GOOD), headers={**auth, "Content-Type": "text/plain"})
    assert r.status_code == 415
    assert r.json["field"] == "Content-Type"
    assert stored(app) == 0


def test_form_body_is_refused(client, app, auth):
    r = client.post("/api/capture", data={"v": "1"}, headers=auth)
    assert r.status_code == 415


def test_oversized_body_is_refused(client, app, auth):
    big = capture([post_item(), comment_item("comment-1", "anna", text="x" * 3000)] +
                  [comment_item(f"comment-{i}", "bob", text="y" * 3000) for i in range(2, 900)])
    r = client.post("/api/capture", json=big, headers=auth)
    assert r.status_code == 413
    assert r.json["field"] == "body"
    assert stored(app) == 0


def test_pairing_refuses_web_page_origins(client):
    r = client.post("/api/pair", json={"client": "x"}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403


def test_token_is_delivered_once_and_only_to_the_requesting_origin(client, app):
    r = client.post("/api/pair", json={"client": "x"}, headers={"Origin": EXT_ORIGIN})
    rid = r.json["request"]
    other = "chrome-extension://" + "c" * 32
    assert client.post(f"/api/pair/{rid}", json={}, headers={"Origin": other}).status_code == 404
    assert client.post(f"/api/pair/{rid}", json={}, headers={"Origin": EXT_ORIGIN}).json == {"status": "pending"}
    app.extensions["cloutlens"].pairing.decide(rid, approve=True)
    first = client.post(f"/api/pair/{rid}", json={}, headers={"Origin": EXT_ORIGIN})
    assert first.json["status"] == "approved" and len(first.json["token"]) >= 40
    assert client.post(f"/api/pair/{rid}", json={}, headers={"Origin": EXT_ORIGIN}).status_code == 404


def test_denied_pairing_gives_no_token(client, app):
    r = client.post("/api/pair", json={"client": "x"}, headers={"Origin": EXT_ORIGIN})
    app.extensions["cloutlens"].pairing.decide(r.json["request"], approve=False)
    polled = client.post(f"/api/pair/{r.json['request']}", json={}, headers={"Origin": EXT_ORIGIN})
    assert polled.json == {"status": "denied"}


def test_tokens_are_stored_hashed(app, token):
    config_file = (app.extensions["cloutlens"].store.data_dir / "config.json").read_text()
    assert token not in config_file
    assert "chrome-extension://" in config_file


def test_dashboard_approval_needs_csrf_and_same_origin(client, app):
    r = client.post("/api/pair", json={"client": "x"}, headers={"Origin": EXT_ORIGIN})
    rid = r.json["request"]
    page = client.get("/pair")
    assert r.json["code"].encode() in page.data
    # A cross-site form post is refused before the form is even read.
    evil = client.post(f"/pair/{rid}", data={"decision": "approve"}, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    no_csrf = client.post(f"/pair/{rid}", data={"decision": "approve"}, headers={"Origin": "http://localhost"})
    assert no_csrf.status_code == 400
    from server.dashboard import csrf_token
    with app.test_request_context():
        tok = csrf_token()
    ok = client.post(f"/pair/{rid}", data={"decision": "approve", "csrf": tok}, headers={"Origin": "http://localhost"})
    assert ok.status_code == 303
    assert client.post(f"/api/pair/{rid}", json={}, headers={"Origin": EXT_ORIGIN}).json["status"] == "approved"
    assert "Approved" in client.get("/pair").get_data(as_text=True)
    # the same request answered again (a second tab): said on the page, nothing changed
    again = client.post(f"/pair/{rid}", data={"decision": "refuse", "csrf": tok}, headers={"Origin": "http://localhost"},
                        follow_redirects=True)
    assert again.status_code == 200 and "no longer waiting" in again.get_data(as_text=True)
    assert len(app.extensions["cloutlens"].pairing.clients()) == 1


def test_a_paired_client_can_be_revoked_by_itself_or_on_the_dashboard(client, app, auth, token):
    from helpers import pair
    from server.dashboard import csrf_token
    assert client.get("/api/status", headers=auth).status_code == 200
    assert client.get("/api/people", headers=auth).status_code == 200
    # the extension's "Unpair": its own token, refused from then on
    assert client.delete("/api/pair", headers=auth).json == {"revoked": True}
    assert client.get("/api/people", headers=auth).status_code == 401
    assert client.delete("/api/pair", headers=auth).status_code == 401
    # the dashboard's Revoke button: needs the CSRF token and the dashboard's own origin
    second = pair(client)
    headers = {"Authorization": f"Bearer {second}", "Origin": EXT_ORIGIN}
    assert client.get("/api/people", headers=headers).status_code == 200
    (entry,) = app.extensions["cloutlens"].pairing.clients()
    page = client.get("/pair").get_data(as_text=True)
    from datetime import datetime, timezone
    paired = datetime.fromtimestamp(entry["created"], timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    assert "Revoke" in page and f"paired {paired}" in page  # two pairings can be told apart
    url = f"/pair/revoke/{entry['id']}"
    assert client.post(url, data={}, headers={"Origin": "http://localhost"}).status_code == 400
    assert client.post(url, data={}, headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.get("/api/people", headers=headers).status_code == 200
    with app.test_request_context():
        tok = csrf_token()
    assert client.post(url, data={"csrf": tok}, headers={"Origin": "http://localhost"}).status_code == 303
    assert client.get("/api/people", headers=headers).status_code == 401
    assert app.extensions["cloutlens"].pairing.clients() == []
    again = client.post(url, data={"csrf": tok}, headers={"Origin": "http://localhost"}, follow_redirects=True)
    assert again.status_code == 200 and "already revoked" in again.get_data(as_text=True)


def test_pairing_requests_from_one_origin_cannot_crowd_out_the_extension(client, app):
    real = client.post("/api/pair", json={"client": "Cloutlens"}, headers={"Origin": EXT_ORIGIN}).json
    flood = "chrome-extension://" + "d" * 32
    for n in range(50):
        assert client.post("/api/pair", json={"client": f"spam {n}"}, headers={"Origin": flood}).status_code == 201
    pending = app.extensions["cloutlens"].pairing.pending()
    assert real["request"] in {r.id for r in pending}
    assert sum(r.origin == flood for r in pending) <= 3


def test_pairing_requests_from_many_origins_cannot_crowd_out_the_extension(client, app):
    """A local process forging a new extension origin per request: the real request stays, the
    flood is told to wait once the server holds as many as it keeps."""
    real = client.post("/api/pair", json={"client": "Cloutlens"}, headers={"Origin": EXT_ORIGIN}).json
    answers = []
    for n in range(30):
        forged = f"moz-extension://{n:08d}-0000-0000-0000-000000000000"
        answers.append(client.post("/api/pair", json={"client": f"spam {n}"}, headers={"Origin": forged}))
    assert {r.status_code for r in answers[:19]} == {201}
    assert {r.status_code for r in answers[19:]} == {429} and "/pair" in answers[-1].json["message"]
    assert real["request"] in {r.id for r in app.extensions["cloutlens"].pairing.pending()}
    poll = client.post(f"/api/pair/{real['request']}", json={}, headers={"Origin": EXT_ORIGIN})
    assert poll.status_code == 200 and poll.json["status"] == "pending"
    # the extension asking again still gets a new code (in place of its own older one)
    again = client.post("/api/pair", json={"client": "Cloutlens"}, headers={"Origin": EXT_ORIGIN})
    assert again.status_code == 201
    ids = {r.id for r in app.extensions["cloutlens"].pairing.pending()}
    assert again.json["request"] in ids and real["request"] not in ids


def test_a_pending_pairing_is_withdrawn_only_by_the_origin_that_asked(client, app):
    req = client.post("/api/pair", json={"client": "Cloutlens"}, headers={"Origin": EXT_ORIGIN}).json["request"]
    other = "chrome-extension://" + "e" * 32
    assert client.delete(f"/api/pair/{req}", headers={"Origin": other}).status_code == 404
    assert req in {r.id for r in app.extensions["cloutlens"].pairing.pending()}
    r = client.delete(f"/api/pair/{req}", headers={"Origin": EXT_ORIGIN})
    assert r.status_code == 200 and r.json == {"withdrawn": True}
    assert app.extensions["cloutlens"].pairing.pending() == []
    assert client.post(f"/api/pair/{req}", json={}, headers={"Origin": EXT_ORIGIN}).status_code == 404
    assert client.delete(f"/api/pair/{req}", headers={"Origin": EXT_ORIGIN}).status_code == 404


def test_a_pairing_client_name_cannot_carry_terminal_control_codes(client, app):
    sneaky = "Cloutlens\x1b[2K\rcode 123-456 \x07ok"
    client.post("/api/pair", json={"client": sneaky}, headers={"Origin": EXT_ORIGIN})
    (req,) = app.extensions["cloutlens"].pairing.pending()
    assert req.client == "Cloutlens[2Kcode 123-456 ok"
    assert all(ch.isprintable() for ch in req.client)


def test_cors_headers_name_the_exact_extension_origin(client, auth):
    r = client.get("/api/status", headers=auth)
    assert r.headers["Access-Control-Allow-Origin"] == EXT_ORIGIN
    r = client.get("/api/status", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_preflight_from_a_web_page_gets_no_cors_grant(client):
    r = client.options("/api/capture", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in r.headers


XSS = "<script>alert(document.cookie)</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'


def test_script_payloads_in_names_and_text_are_never_markup(client, app, auth):
    hostile = capture([
        post_item(name=XSS),
        comment_item("comment-1", "anna", text=XSS + XSS_IMG),
        {**comment_item("comment-2", "mallory", text="hi"), "author": {"handle": "mallory", "name": XSS_IMG}},
        comment_item("comment-3", "anna", parent="comment-2", text="@mallory " + XSS),
    ])
    assert client.post("/api/capture", json=hostile, headers=auth).status_code == 200
    pages = ["/", "/people", "/people/blog.example:martinwaxman", "/people/blog.example:mallory",
             "/people/blog.example:anna", "/data"]
    shown = 0
    for path in pages:
        r = client.get(path)
        assert r.status_code == 200, path
        html = r.get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, path
        shown += html.count("&lt;script&gt;alert") + html.count("&lt;img src=x")
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert shown > 0  # the payloads were on the pages, as text
    # The API hands them over as JSON strings, which a browser will not run as a page.
    r = client.get("/api/people/blog.example:anna", headers=auth)
    assert r.mimetype == "application/json" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert XSS in [i["text"][:len(XSS)] for i in r.json["items"]["items"]]


def test_cross_site_write_without_origin_is_refused(client, app, auth):
    headers = {k: v for k, v in auth.items() if k != "Origin"}
    r = client.post("/api/capture", json=GOOD, headers={**headers, "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and r.json["error"] == "bad_origin"
    assert stored(app) == 0


# What a page of another site sends when it loads a URL as a prefetch, an image or a frame, and
# when the user follows a link (a hovercard's "open on your dashboard").
PREFETCH = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "empty"}
IMAGE = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}
FRAME = {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"}
LINK = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}


def test_another_site_cannot_tell_who_is_stored_by_loading_our_pages(client, app, auth):
    assert client.post("/api/capture", json=GOOD, headers=auth).status_code == 200
    known, unknown = "/people/blog.example:anna", "/people/blog.example:nobody-here"
    assert client.get(known).status_code == 200 and client.get(unknown).status_code == 404
    for headers in (PREFETCH, IMAGE, FRAME):
        answers = {client.get(path, headers=headers).status_code for path in (known, unknown)}
        assert answers == {403}, headers
        assert client.get("/api/status", headers=headers).status_code == 403
    # the user's own click from another site still opens the page
    assert client.get(known, headers=LINK).status_code == 200
    # the paired extension's requests carry its origin and are not affected
    r = client.get("/api/scores?id=blog.example:anna", headers={**auth, **PREFETCH})
    assert r.status_code == 200 and r.json["scores"]["blog.example:anna"]["score"] >= 1


def test_serve_refuses_a_non_loopback_host_without_the_explicit_option(tmp_path):
    from click.testing import CliRunner

    from server.cli import main
    r = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path)])
    assert r.exit_code == 2
    assert "--i-understand-this-exposes-my-data" in r.output
    assert not (tmp_path / "items").exists()  # refused before the store was even opened


def test_serve_on_ipv6_loopback_prints_the_address_it_answers_on(tmp_path, server_factory):
    import http.client
    import socket
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError as exc:
        pytest.skip(f"this machine has no IPv6 loopback: {exc}")
    srv = server_factory(tmp_path / "data", "--host", "::1")
    banner = "".join(srv.output)
    assert f"http://[::1]:{srv.port}/" in banner and "127.0.0.1" not in banner
    conn = http.client.HTTPConnection("::1", srv.port, timeout=30)
    conn.request("GET", "/api/status", headers={"Host": f"[::1]:{srv.port}"})
    assert conn.getresponse().status == 200


@pytest.mark.parametrize("host", ["bogus.invalid", "999.1.1.1", "a..b"])
def test_serve_on_a_host_it_cannot_listen_on_is_a_usage_error(tmp_path, host):
    from click.testing import CliRunner

    from server.cli import main
    r = CliRunner().invoke(main, ["serve", "--host", host, "--i-understand-this-exposes-my-data",
                                  "--port", "0", "--data-dir", str(tmp_path / "data")])
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    assert "--host" in r.output and host in r.output
    assert not (tmp_path / "data").exists()  # refused before the store was opened


def test_demo_on_a_taken_port_fails_before_building_and_leaves_no_temp_dir(tmp_path, monkeypatch):
    import socket
    import tempfile

    from click.testing import CliRunner

    from server.cli import main
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with socket.create_server(("127.0.0.1", 0)) as taken:
        r = CliRunner().invoke(main, ["demo", "--port", str(taken.getsockname()[1])])
    assert r.exit_code == 1 and "Is another cloutlens running?" in r.output
    assert "Preparing the demo data" not in r.output
    assert list(tmp_path.iterdir()) == []


def start_demo(tmp_path):
    """`cloutlens demo` in a process of its own, its temp dir under tmp_path."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen([sys.executable, "-m", "server.cli", "demo", "--port", "0"], cwd=root,
                            env={**os.environ, "TMPDIR": str(tmp_path)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def read_until(proc, text: str) -> str:
    out = ""
    while text not in out:
        line = proc.stdout.readline()
        assert line, out
        out += line
    return out


def test_demo_stopped_leaves_no_temp_dir(tmp_path):
    import http.client
    import re
    import signal
    import time

    proc = start_demo(tmp_path)
    try:
        out = read_until(proc, "Press Ctrl+C")
        assert len(list(tmp_path.glob("cloutlens-demo-*"))) == 1, out
        # The banner comes just before the SIGTERM handler is set: signal once the server answers.
        port = int(re.search(r"server on http://127\.0\.0\.1:(\d+)/", out).group(1))
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/status")
                assert conn.getresponse().status == 200
                conn.close()
                break
            except OSError:
                assert time.monotonic() < deadline, out
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)  # as Ctrl+C
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list(tmp_path.iterdir()) == []


def test_demo_stopped_while_it_builds_its_data_leaves_no_temp_dir(tmp_path):
    """The build takes seconds: a stop then left megabytes in the temp dir (the clean-up and the
    SIGTERM handler came after it), and SIGTERM exited with no word."""
    import signal

    proc = start_demo(tmp_path)
    try:
        out = read_until(proc, "Preparing the demo data set")
        proc.send_signal(signal.SIGTERM)  # as Ctrl+C, in the middle of the build
        rest, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out + rest
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Press Ctrl+C" not in rest and "the demo data was removed" in rest, rest
    assert list(tmp_path.iterdir()) == []


def test_demo_refuses_a_folder_that_is_not_a_data_dir(tmp_path):
    from click.testing import CliRunner

    from server.cli import main

    (tmp_path / "notes.txt").write_text("mine")
    r = CliRunner().invoke(main, ["demo", "--port", "0", "--data-dir", str(tmp_path)])
    assert r.exit_code == 1 and "holds files that are not a Cloutlens data dir" in r.output, r.output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on port, from the kernel's own table (Linux)."""
    import socket
    import struct
    out = set()
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, p = local.split(":")
        if state == "0A" and int(p, 16) == port:
            out.add(socket.inet_ntoa(struct.pack("<I", int(addr, 16))))
    return out


def test_serve_listens_on_loopback_only(tmp_path, server_factory):
    import os
    if not os.path.exists("/proc/net/tcp"):
        pytest.skip("needs Linux's /proc/net/tcp")
    srv = server_factory(tmp_path / "data")
    assert _listening_addresses(srv.port) == {"127.0.0.1"}


def test_oversized_chunked_body_is_refused_by_the_real_server(tmp_path, server_factory):
    """No Content-Length to check up front: the limit must hold while the body streams in."""
    import http.client

    from serverproc import seed_token
    token = seed_token(tmp_path / "data")
    srv = server_factory(tmp_path / "data")

    def body():
        yield b'{"v": 1, "page": {"url": "https://blog.example/x"}, "items": [{"id": "a", "kind": "post", ' \
              b'"author": {"handle": "x"}, "text": "'
        for _ in range(300):
            yield b"y" * 10_000
        yield b'"}]}'
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    conn.request("POST", "/api/capture", body=body(), encode_chunked=True,
                 headers={"Authorization": f"Bearer {token}", "Origin": EXT_ORIGIN,
                          "Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    r = conn.getresponse()
    assert r.status == 413
    assert json.loads(r.read())["field"] == "body"
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    conn.request("GET", "/api/status")
    assert json.loads(conn.getresponse().read())["items"] == 0


def _held_in_deleted_files(pid: int) -> int:
    """Bytes in files the process holds open that are deleted: waitress's request body buffers."""
    import os
    total = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").endswith("(deleted)"):
                total += os.stat(f"/proc/{pid}/fd/{fd}").st_size
        except OSError:
            pass
    return total


REFUSED_HEADS = {
    "a web page's origin": {"Origin": "http://127.0.0.1:1"},
    "an opaque origin": {"Origin": "null"},
    "a rebinding host": {"Host": "evil.example:{port}", "Origin": "http://evil.example:{port}"},
    "cross-site, no origin": {"Sec-Fetch-Site": "cross-site"},
}


@pytest.mark.parametrize("head", REFUSED_HEADS, ids=list(REFUSED_HEADS))
def test_a_body_the_door_refuses_is_not_kept_while_it_streams_in(tmp_path, server_factory, head):
    """waitress took in a whole body (up to 1 GB, into a temporary file) before the app refused
    it: a web page's fetch (mode no-cors, text/plain) made the server hold 1 GB of the user's disk
    for four uploads of 256 MB, six at a time per host, and only then heard 403."""
    import os
    import socket
    import time
    if not os.path.exists("/proc/self/fd"):
        pytest.skip("needs Linux's /proc")
    srv = server_factory(tmp_path / "data")
    headers = {"Host": f"127.0.0.1:{srv.port}", **{k: v.format(port=srv.port) for k, v in REFUSED_HEADS[head].items()}}
    size, sent = 32 << 20, 16 << 20
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    try:
        sock.sendall((f"POST /api/capture HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: {size}\r\n"
                      + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode())
        chunk = b"x" * (1 << 20)
        for _ in range(sent >> 20):
            sock.sendall(chunk)
        # sendall returns once the kernel took the bytes: give the server a moment to read them
        deadline, held = time.monotonic() + 3, 0
        while time.monotonic() < deadline:
            held = max(held, _held_in_deleted_files(srv.proc.pid))
            time.sleep(0.1)
        assert held < 1 << 20, f"{held} bytes of a refused upload kept"
        for _ in range((size - sent) >> 20):
            sock.sendall(chunk)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 403 "), answer[:200]
    finally:
        sock.close()


def test_a_refused_body_is_never_read_as_a_next_request(tmp_path, server_factory):
    """The dropped body is still read to its end: one shaped as a request (no Origin, so no
    refusal) must not be answered as one."""
    import socket
    srv = server_factory(tmp_path / "data")
    inner = (f"POST /api/pair HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nContent-Type: application/json\r\n"
             f"Content-Length: 2\r\n\r\n{{}}").encode()
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    try:
        sock.sendall((f"POST /api/capture HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nOrigin: https://evil.example\r\n"
                      f"Content-Type: text/plain\r\nContent-Length: {len(inner)}\r\n\r\n").encode() + inner)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 403 ") and answer.count(b"HTTP/1.1 ") == 1, answer
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    conn.request("GET", "/pair")
    page = conn.getresponse().read().decode()
    assert 'id="no-request"' in page  # no pairing request was made


def test_cookies_another_local_page_set_do_not_lock_the_user_out(tmp_path, server_factory):
    """A page served on another port of 127.0.0.1 (or localhost) may set cookies that the browser
    sends to every port: 180 of 4 KB (Chromium's limit per host, checked with a page that sets
    them) made every dashboard page a 431 until the user found and cleared them."""
    import http.client
    srv = server_factory(tmp_path / "data")
    cookies = "; ".join(f"bomb{i}={'x' * 4000}" for i in range(180))
    for path in ("/", "/pair"):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        conn.request("GET", path, headers={"Cookie": cookies})
        r = conn.getresponse()
        assert r.status == 200, (path, r.status, r.read()[:200])
        conn.close()
