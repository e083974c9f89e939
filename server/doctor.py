"""`cloutlens doctor`: look at the data dir, the store, the port and the pairing, and say what to fix.

Read-only: it never repairs, moves or rewrites a file, so it is safe to run next to a running
server and on a store that refuses to open.
"""
from __future__ import annotations

import fcntl
import http.client
import json
import os
import shlex
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import orjson

from scoring.items import normalize_handle

from .app import DEFAULT_PORT, default_data_dir
from .storage import SCORER_CHECKPOINT, read_index_checkpoint, recorded_port, shard_problem, shard_stamps
from .wording import counted

LOW_SPACE = 200 * 1024 * 1024


@dataclass
class Check:
    level: str   # ok, warn, fail
    what: str
    fix: str = ""


def _parse(path: Path):
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"
    except orjson.JSONDecodeError as exc:
        return None, f"is damaged ({str(exc)[:80]})"
    if not isinstance(data, dict):
        return None, "is damaged (not a JSON object)"
    return data, None


def check_data_dir(data_dir: Path) -> list[Check]:
    out = []
    if not data_dir.exists():
        parent = next((p for p in data_dir.parents if p.exists()), None)
        if parent is not None and parent.is_dir() and os.access(parent, os.W_OK | os.X_OK):
            return [Check("ok", f"data dir {data_dir} does not exist yet; `cloutlens serve` will create it")]
        why = f" ({parent} is a file)" if parent is not None and not parent.is_dir() else ""
        return [Check("fail", f"data dir {data_dir} does not exist and cannot be created{why}",
                      "pick a writable place with --data-dir")]
    if not data_dir.is_dir():
        return [Check("fail", f"{data_dir} is not a directory", "pick another path with --data-dir")]
    if not os.access(data_dir, os.W_OK | os.X_OK):
        out.append(Check("fail", f"data dir {data_dir} is not writable",
                         "fix its owner or permissions (chown/chmod), or pick another with --data-dir"))
    else:
        out.append(Check("ok", f"data dir {data_dir} is writable"))
    free = shutil.disk_usage(data_dir).free
    if free < LOW_SPACE:
        out.append(Check("warn", f"only {free // (1024 * 1024)} MB free on the disk of the data dir",
                         "free some space: a full disk makes captures fail (nothing is lost, but nothing new is kept)"))
    else:
        out.append(Check("ok", f"{free // (1024 * 1024)} MB free"))
    return out


def server_running(data_dir: Path) -> bool | None:
    """Whether a process holds the data dir's lock; None when the lock cannot be opened."""
    lock = data_dir / ".lock"
    if not lock.exists():
        return False
    try:
        fh = open(lock, "rb")  # read-only is enough to test a lock, and never changes the file
    except OSError:
        return None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False


def check_lock(data_dir: Path) -> list[Check]:
    lock = data_dir / ".lock"
    if lock.exists() and not os.access(lock, os.W_OK):
        return [Check("fail", f"{lock} is not writable: `cloutlens serve` and `import` cannot claim the data dir",
                      "fix its owner or permissions (chown/chmod; chattr -i if it was made immutable), "
                      "or pick another --data-dir")]
    return []


def check_store(data_dir: Path) -> tuple[list[Check], dict]:
    out, config = [], {}
    if not data_dir.is_dir():
        return out, config
    cfg_path = data_dir / "config.json"
    if cfg_path.exists():
        data, problem = _parse(cfg_path)
        if problem:
            out.append(Check("fail", f"{cfg_path} {problem}",
                             "restore it from a backup, or move it away (you will pair again and lose settings)"))
        else:
            config = ((data.get("config") or {}).get("1") or {})
    shard_dir = data_dir / "items"
    shards = sorted(shard_dir.glob("shard-*.json")) if shard_dir.is_dir() else []
    seen, items, dupes, damaged, unscored, stale_handles = set(), 0, 0, [], 0, set()
    for path in shards:
        data, problem = _parse(path)
        problem = problem or (f"is not a shard of items ({bad})" if (bad := shard_problem(data)) else None)
        if problem:
            damaged.append(f"{path.name} {problem}")
            continue
        for doc in (data.get("items") or {}).values():
            key = (doc.get("site"), doc.get("id"))
            dupes += key in seen
            seen.add(key)
            items += 1
            s = doc.get("sentiment")
            unscored += type(s) is not float or not -1.0 <= s <= 1.0
            handle = doc["author"]["handle"]
            if normalize_handle(handle) != handle:
                stale_handles.add((doc["site"], handle))
    for d in damaged:
        out.append(Check("fail", f"shard {d}",
                         "the server refuses to start on it: restore the file from a backup, or re-import an "
                         "export into an empty data dir; move the damaged file away to start without its items"))
    if not damaged:
        out.append(Check("ok", f"store: {counted(items, 'item')} in {counted(len(shards), 'shard file')}, all readable"))
    if dupes:
        out.append(Check("warn", f"{counted(dupes, 'item')} {'is' if dupes == 1 else 'are'} stored twice", "export, then import into an empty data dir"))
    if stale_handles:
        out.append(Check("warn", f"{len(stale_handles)} people are stored under a handle read as it no longer is "
                                 "(control characters, kept before 6 December 2026): their new captures go under "
                                 "the cleaned handle, as a second identity",
                         "export on the dashboard, then `cloutlens import` the file into an empty data dir "
                         "(an import reads every handle anew); or link the two identities on the data page"))
    if unscored:
        out.append(Check("ok", f"{unscored} items have no stored sentiment yet (stored before it was kept)",
                         "the next start computes it once (about 1 ms an item) and writes it back"))
    if (data_dir / "clear.journal").exists():
        out.append(Check("warn", "a delete-all was interrupted (clear.journal)",
                         "start the server once: it finishes deleting"))
    if (data_dir / "import.unfinished").exists():
        out.append(Check("warn", "an import did not finish (import.unfinished): part of its file may be stored, "
                                 "unless a server is importing it now",
                         "import the same file again (`cloutlens import FILE`, or Import on the dashboard's data "
                         "page): what is stored already is kept once"))
    if (data_dir / "forget.journal").exists():
        out.append(Check("warn", "forgetting someone was interrupted (forget.journal)",
                         "start the server once: it finishes forgetting them"))
    if (data_dir / "commit.journal").exists():
        out.append(Check("warn", "an interrupted write is pending (commit.journal)",
                         "start the server once: it finishes the write"))
    leftovers = [p for d in (data_dir, shard_dir, data_dir / "history", data_dir / "checkpoints") if d.is_dir()
                 for p in d.glob(".*.tmp")]
    if leftovers:
        out.append(Check("warn", f"{len(leftovers)} temp files of unacknowledged writes",
                         "start the server once: it removes them"))
    kept = list(data_dir.rglob("*.damaged-*"))
    if kept:
        out.append(Check("warn", f"{len(kept)} copies of damaged files are kept ({kept[0].name}, ...)",
                         "delete them once the data is restored"))
    if (data_dir / "items.json").exists():
        out.append(Check("ok", "an old single-file store will be moved into shards at the next start"))
    if shard_dir.is_dir():
        saved = read_index_checkpoint(data_dir)
        if saved is None:
            out.append(Check("ok", "no usable index checkpoint: the next start reads every shard",
                             "stop the server with Ctrl+C or SIGTERM (not kill -9) to write one"))
        else:
            now = shard_stamps(shard_dir)
            stale = sum(saved["shards"].get(no) != st for no, st in now.items())
            out.append(Check("ok", f"index checkpoint: the next start reads {stale} of {len(now)} shards"))
    scorer = data_dir / SCORER_CHECKPOINT
    if scorer.exists():
        out.append(Check("ok", f"scorer checkpoint of {scorer.stat().st_size // (1024 * 1024)} MB: the next start "
                               "loads it, unless items were removed since it was written"))
    return out, config


def command(name: str, data_dir: Path, port: int) -> str:
    """`cloutlens NAME` with the options that make it act on what doctor checked."""
    cmd = f"cloutlens {name}"
    if data_dir.resolve() != default_data_dir().resolve():
        cmd += f" --data-dir {shlex.quote(str(data_dir))}"
    if port != DEFAULT_PORT:
        cmd += f" --port {port}"
    return cmd


def check_port(port: int, running: bool, data_dir: Path) -> tuple[list[Check], dict | None]:
    """The checks, and the /api/status of the cloutlens server answering on the port, if one does."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/api/status", headers={"Host": f"127.0.0.1:{port}"})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
    except (ConnectionRefusedError, socket.timeout, OSError):
        if running:
            serving = recorded_port(data_dir)  # None from a server older than the recorded port
            if serving is not None and serving != port:
                return [Check("warn", f"a cloutlens process holds the data dir but nothing answers on port {port}: "
                                      f"it is serving port {serving}",
                              f"run `{command('doctor', data_dir, serving)}`; if the extension looks on {port}, "
                              f"set Server to http://127.0.0.1:{serving} in its options")], None
            return [Check("warn", f"a cloutlens process holds the data dir but nothing answers on port {port}",
                          "it may be serving another port; stop it or run doctor with --port")], None
        try:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", port))
        except OSError as exc:
            return [Check("fail", f"port {port} cannot be used ({exc.strerror})",
                          "run `cloutlens serve --port N` with another port and set it in the extension's options")], None
        # Free is not healthy: the extension has nothing to talk to until a server starts.
        return [Check("warn", f"no server is running on port {port}: the extension shows 'server not running' "
                              "and queues captures (the port is free: `cloutlens serve` can listen there)",
                      f"start it with `{command('serve', data_dir, port)}`")], None
    try:
        status = json.loads(body)
    except ValueError:
        status = {}
    if isinstance(status, dict) and status.get("name") == "cloutlens":
        served = status.get("data_dir")
        if served and Path(served) != data_dir.resolve():
            return [Check("warn", f"the cloutlens server on port {port} uses another data dir: {served}",
                          f"the extension's captures go there, not to {data_dir}; run doctor with "
                          "--data-dir set to it, or restart the server with this one")], status
        busy = (f"; busy with {status['busy']}: requests that need the store are answered 503 busy, "
                "and the extension queues its captures until it is done") if status.get("busy") else ""
        return [Check("ok", f"a cloutlens server answers on port {port} (version {status.get('version')}, "
                            f"{status.get('items')} items, data {served}){busy}")], status
    return [Check("fail", f"port {port} is taken by another program",
                  "stop it, or run `cloutlens serve --port N` and set the same port in the extension's options")], None


def check_pairing(config: dict | None, port: int, data_dir: Path, running: bool) -> list[Check]:
    if config is None:
        return [Check("warn", f"cannot tell whether an extension is paired with the server on port {port}: "
                              "the config of its data dir cannot be read",
                      f"its pairing page lists the paired clients: http://127.0.0.1:{port}/pair")]
    clients = config.get("clients") or {}
    if not clients:
        # Telling the user to start a server that runs sends them after the wrong problem.
        start = "" if running else f"start `{command('serve', data_dir, port)}`, "
        return [Check("warn", "no extension is paired",
                      f"{start}click the Cloutlens toolbar icon, 'Pair with server', "
                      f"and approve the code at http://127.0.0.1:{port}/pair")]
    origins = sorted({c.get("origin", "?") for c in clients.values()})
    return [Check("ok", f"{counted(len(clients), 'paired client')}: {', '.join(origins)}")]


def served_config(served: Path) -> dict | None:
    """The config of the data dir a running server reports, or None when it cannot be read.
    /api/status tells no pairing state but the caller's own, so doctor reads the file."""
    try:
        data = orjson.loads((served / "config.json").read_bytes())
    except FileNotFoundError:
        return {}  # nothing paired or set yet
    except (OSError, orjson.JSONDecodeError):
        return None
    return ((data.get("config") or {}).get("1") or {}) if isinstance(data, dict) else None


def check_scorer() -> list[Check]:
    from scoring import derive, fields

    missing = [name for name, module in (("_itemread", fields._itemread), ("_idtable", derive._idtable))
               if module is None]
    if not missing:
        return [Check("ok", "the scorer's C modules are built")]
    return [Check("warn", f"the scorer's C {'module' if len(missing) == 1 else 'modules'} {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not built: the same scores, but loading "
                          "a large store takes about 1.6 times as long",
                  "install a C compiler and Python's headers (Debian: `sudo apt install gcc python3-dev`), then "
                  "run `python3 -m pip install -e .` in the checkout again")]


def run(data_dir: Path, port: int) -> list[Check]:
    checks = check_data_dir(data_dir)
    if data_dir.is_dir():
        checks += check_lock(data_dir)
    running = data_dir.is_dir() and server_running(data_dir)
    if running:
        checks.append(Check("ok", "a cloutlens server is using this data dir"))
    store_checks, config = check_store(data_dir)
    checks += store_checks
    port_checks, status = check_port(port, running, data_dir)
    checks += port_checks
    pair_port = port
    if status and status.get("data_dir") and Path(status["data_dir"]) != data_dir.resolve():
        # The extension pairs with the server that answers, whatever data dir doctor was given.
        config = served_config(Path(status["data_dir"]))
    elif running and status is None:
        pair_port = recorded_port(data_dir) or port  # the pairing page is on the port it serves
    checks += check_pairing(config, pair_port, data_dir, running or status is not None)
    checks += check_scorer()
    return checks
