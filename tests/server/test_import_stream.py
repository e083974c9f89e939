"""An export imported as a stream (server.exchange over server.jsonstream): any key order, checked
whole before anything is stored, the same items as a parsed document gave, in bounded memory."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from helpers import post_export
from serverproc import ROOT, seed_token
from server.contract import normalize_listed_item

HEAD = {"cloutlens_export": 1, "exported_at": "2026-12-01T10:00:00Z", "settings": {"horizon_days": 120},
        "links": {"news.example:anna": "blog.example:anna"}, "own_identities": ["blog.example:me"],
        "forgotten": ["blog.example:gone"]}
FILES_SEEN = "2026-11-30T00:00:00Z"  # the first-seen time some items carry


def make_items(n: int) -> list[dict]:
    """n items in an export's form: posts and replies among 50 people on two sites, some by the
    person the file forgot, some with mentions, reactions and non-ASCII text."""
    out = []
    for i in range(n):
        site = "blog.example" if i % 3 else "news.example"
        who = "gone" if i % 97 == 5 else f"user{i % 50}"
        item = {"site": site, "id": f"i{i}", "kind": "post" if i % 10 == 0 else "comment",
                "parent": None if i % 10 == 0 else f"i{i - i % 10}",
                "author": {"handle": who, "name": f"User \u00e9 {i % 50}", "url": None},
                "at": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00Z", "text": f"text {i} \U0001F600 \"q\"",
                "url": None, "reactions": {"like": i % 7} if i % 4 else {}, "mentions": [f"user{i % 13}"] if i % 5 == 0 else []}
        if i % 11 == 0:
            item["seen"] = FILES_SEEN
        out.append(item)
    return out


def forgotten_ones(items) -> int:
    return sum(i["author"]["handle"] == "gone" and i["site"] == "blog.example" for i in items)


def write(path: Path, doc: dict, order=None) -> Path:
    keys = order or list(doc)
    path.write_bytes(b"{" + b",".join(orjson.dumps(k) + b":" + orjson.dumps(doc[k]) for k in keys) + b"}")
    return path


def cli(data_dir: Path, *args: str):
    from click.testing import CliRunner

    from server.cli import main
    r = CliRunner().invoke(main, ["import", "--data-dir", str(data_dir), "--json", *map(str, args)])
    return r.exit_code, (json.loads(r.stdout) if r.stdout.strip().startswith("{") else r.output)


def stored(data_dir: Path):
    """Items and config as stored; an item's `seen` only where the file gave it (else it is the
    import's own time)."""
    from server.storage import Store
    store = Store(data_dir)
    try:
        items = sorted(({k: v for k, v in it.items() if k != "sentiment" and (k != "seen" or v == FILES_SEEN)}
                        for it in store.iter_items()), key=lambda d: (d["site"], d["id"]))
        return items, {k: store.get_config(k) for k in ("settings", "links", "own_identities", "forgotten")}
    finally:
        store.close()


def test_items_first_and_head_last_import_as_head_first(tmp_path, monkeypatch):
    """Another tool may write `items` before the head: the file means the same."""
    import server.exchange as exchange
    monkeypatch.setattr(exchange, "IMPORT_BATCH", 400)  # several batches
    doc = dict(HEAD, items=make_items(1500))
    head_first = write(tmp_path / "head-first.json", doc)
    items_first = write(tmp_path / "items-first.json", doc, ["items", "forgotten", "links", "settings",
                                                             "own_identities", "exported_at", "cloutlens_export"])
    assert orjson.loads(head_first.read_bytes()) == orjson.loads(items_first.read_bytes())
    code, one = cli(tmp_path / "a", head_first)
    assert code == 0, one
    code, two = cli(tmp_path / "b", items_first)
    assert code == 0, two
    assert one == two and one["items"] == 1500 and one["left_out"] == forgotten_ones(doc["items"]) > 0
    assert stored(tmp_path / "a") == stored(tmp_path / "b")
    _, config = stored(tmp_path / "b")
    assert config["settings"]["horizon_days"] == 120 and config["links"] == HEAD["links"]
    assert config["forgotten"] == ["blog.example:gone"] and config["own_identities"] == ["blog.example:me"]


def test_a_streamed_import_stores_what_the_parsed_document_held(tmp_path, monkeypatch):
    """The items stored are those a parse of the whole file and the item contract give, each
    with the `seen` it carried, in batches (the old path, kept here as the reference)."""
    import server.exchange as exchange
    monkeypatch.setattr(exchange, "IMPORT_BATCH", 700)
    doc = dict(HEAD, forgotten=[], items=make_items(3000))
    doc["items"][7]["sentiment"] = 0.99  # derived data a file may carry: never taken
    code, got = cli(tmp_path / "data", write(tmp_path / "export.json", doc))
    assert code == 0 and got["added"] == 3000, got
    expected = []
    for n, raw in enumerate(orjson.loads((tmp_path / "export.json").read_bytes())["items"]):
        raw.pop("sentiment", None)
        seen = raw.pop("seen", None)
        item = normalize_listed_item(raw, n)
        expected.append(dict(item, seen=seen) if seen else item)
    items, _ = stored(tmp_path / "data")
    assert items == sorted(expected, key=lambda d: (d["site"], d["id"]))
    assert cli(tmp_path / "data", tmp_path / "export.json")[1]["added"] == 0  # idempotent


@pytest.mark.parametrize("where", ["last item", "head after the items"])
def test_a_fault_at_the_end_of_a_large_file_stores_nothing(tmp_path, monkeypatch, where):
    import server.exchange as exchange
    monkeypatch.setattr(exchange, "IMPORT_BATCH", 500)
    doc = dict(HEAD, items=make_items(4000))
    if where == "last item":
        doc["items"][-1]["kind"] = "tweet"
        field = "items[3999].kind"
    else:
        doc["links"] = {"nocolon": "blog.example:anna"}
        field = "links.nocolon"
    path = write(tmp_path / "bad.json", doc, ["cloutlens_export", "items", "settings", "links"])
    code, got = cli(tmp_path / "data", path)
    assert code == 1 and field in got["skipped"][0]["reason"], got
    assert stored(tmp_path / "data") == ([], {"settings": None, "links": None, "own_identities": None, "forgotten": None})


def test_a_key_given_twice_is_refused(tmp_path):
    path = tmp_path / "twice.json"
    path.write_bytes(b'{"cloutlens_export": 1, "items": [], "items": ' + orjson.dumps(make_items(3)) + b"}")
    code, got = cli(tmp_path / "data", path)
    assert code == 1 and "items: is given twice" in got["skipped"][0]["reason"]


def _peak_of_dry_run(path: Path, data_dir: Path) -> int:
    """The peak RSS (KB) of `cloutlens import --dry-run FILE` in a process of its own."""
    runner = ("import sys\nfrom server.cli import main\ntry:\n    main(sys.argv[1:], standalone_mode=False)\n"
              "finally:\n    print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", runner, "import", "--dry-run", "--json", "--data-dir", str(data_dir),
                           str(path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["exports"] == {"cloutlens": 1}
    return int(done.stderr.strip().splitlines()[-1].split()[1])


def test_checking_an_export_holds_a_batch_not_the_file(tmp_path):
    """A parsed export took ten times the file's size (a 48 MB file peaked at 506 MB): checking a
    20 MB file now takes what checking an empty one does, give or take a few MB."""
    big = write(tmp_path / "big.json", dict(HEAD, items=make_items(85_000)))
    assert big.stat().st_size > 20e6
    empty = write(tmp_path / "empty.json", dict(HEAD, items=[]))
    grown = _peak_of_dry_run(big, tmp_path / "d1") - _peak_of_dry_run(empty, tmp_path / "d2")
    assert grown < big.stat().st_size / 1024 / 2, f"{grown} KB more for {big.stat().st_size // 1024} KB of file"


def test_a_real_server_imports_a_streamed_upload(tmp_path, server_factory):
    """POST /api/import to `cloutlens serve`, the body sent as a stream of the file, items first."""
    token = seed_token(tmp_path / "data")
    srv = server_factory(tmp_path / "data")
    doc = dict(HEAD, items=make_items(2000))
    path = write(tmp_path / "export.json", doc, ["items", *HEAD])
    status, answer = post_export(srv.port, path, token)
    assert status == 200, answer
    gone = forgotten_ones(doc["items"])
    assert answer["items"]["added"] == 2000 - gone and answer["left_out"] == gone
    assert answer["settings"] == ["horizon_days"] and answer["links"] == 1
    bad = dict(doc, items=doc["items"][:-1] + [dict(doc["items"][-1], id=17)])
    from serverproc import request
    status, body = request(srv.port, "POST", "/api/import", orjson.dumps(bad), token=token)
    assert status == 400 and body["field"] == "items[1999].id", body
    status, body = request(srv.port, "POST", "/api/import", b'{"items": [' + b"[" * 5000, token=token)
    assert status == 400 and body["error"] == "bad_json", body
    srv.stop()
    items, _ = stored(tmp_path / "data")
    assert len(items) == 2000 - gone


@pytest.mark.parametrize("body,error,field", [
    (b"[1]", "invalid", "body"), (b'"export"', "invalid", "body"),
    (b'{"cloutlens_export": 1, "items": [{"text": "\\ud800"}]}', "bad_json", "body"),
    (b'{"cloutlens_export": 1, "items": [' + b"[" * 2000 + b"]" * 2000 + b"]}", "bad_json", "body"),
    (b'{"items": [], "cloutlens_export": 2}', "invalid", "cloutlens_export"),
    (b'{"items": {}, "cloutlens_export": 1}', "invalid", "items"),
])
def test_the_api_names_what_is_wrong_with_a_body(client, auth, body, error, field):
    r = client.post("/api/import", data=body, headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400 and (r.json["error"], r.json["field"]) == (error, field), r.json


def test_a_file_changed_between_its_check_and_its_storing_stores_nothing(tmp_path, app):
    """The file is read again to be stored: one rewritten meanwhile is not what was checked."""
    import os

    from scoring.items import ContractError
    from server.exchange import check_export, import_export
    path = write(tmp_path / "export.json", dict(HEAD, items=make_items(50)))
    with open(path, "rb") as fh:
        checked = check_export(fh)
        doc = orjson.loads(path.read_bytes())
        doc["items"][-1]["kind"] = "tweet"
        write(path, doc)
        os.utime(path, ns=(0, 10**18))
        with pytest.raises(ContractError, match="changed while"):
            import_export(app.extensions["cloutlens"], fh, checked)
    assert app.extensions["cloutlens"].store.count_items() == 0


def test_a_file_changed_while_its_items_are_stored_says_how_far_the_import_got(tmp_path, app, monkeypatch):
    """A file rewritten after its first batch was stored: the import stops at the next batch
    and says what it stored, not "invalid" or "nothing was stored"."""
    import os

    from server import exchange
    monkeypatch.setattr(exchange, "IMPORT_BATCH", 20)
    s = app.extensions["cloutlens"]
    path = write(tmp_path / "export.json", dict(HEAD, items=make_items(60)))
    add = s.store.add_items

    def add_then_rewrite(batch, now):
        got = add(batch, now)
        doc = orjson.loads(path.read_bytes())
        doc["items"][-1]["text"] = "rewritten"
        write(path, doc)
        os.utime(path, ns=(0, 10**18))
        return got
    monkeypatch.setattr(s.store, "add_items", add_then_rewrite)
    with open(path, "rb") as fh, pytest.raises(exchange.ImportIncomplete, match="changed while") as got:
        exchange.import_export(s, fh)
    assert got.value.totals["added"] == s.store.count_items() == 20 - forgotten_ones(make_items(20))
    assert "import the same file again" in str(got.value)


def test_a_full_disk_midway_is_not_answered_nothing_was_stored(app, client, auth, monkeypatch):
    """The file's forgotten, settings and links, and its first batch, are in when the second
    batch finds the disk full: the answer says so, and the same file again finishes the job."""
    import errno

    from server import exchange
    monkeypatch.setattr(exchange, "IMPORT_BATCH", 20)
    s = app.extensions["cloutlens"]
    add, calls = s.store.add_items, []

    def full_on_the_second(batch, now):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return add(batch, now)
    monkeypatch.setattr(s.store, "add_items", full_on_the_second)
    body = orjson.dumps(dict(HEAD, items=make_items(60)))
    r = client.post("/api/import", data=body, headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 507 and r.json["error"] == "import_incomplete", r.json
    assert "nothing was stored" not in r.json["message"] and "import the same file again" in r.json["message"]
    assert s.store.get_config("settings")["horizon_days"] == 120 and 0 < s.store.count_items() <= 20
    again = client.post("/api/import", data=body, headers={**auth, "Content-Type": "application/json"})
    assert again.status_code == 200, again.json
    assert s.store.count_items() == 60 - forgotten_ones(make_items(60))
