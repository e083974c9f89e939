"""The store: captured items, daily score snapshots and the server's own settings, in TinyDB files.

TinyDB rewrites a whole file on every write, so a single file of a million items would cost
seconds per capture. Items are therefore spread over bounded shard files (`items/shard-NNNNN.json`,
at most SHARD_ITEMS each): a capture writes the one or two shards it touches, with one
`insert_multiple` per shard, so its cost stays flat however much is stored. docs/storage.md has
the design and its measured figures.

Durability: every change is written to a temp file, fsynced, and renamed over the old file, and
the directory is fsynced, before the call returns, so an acknowledged capture is on disk and a
crash leaves the old file or the new one, never half of either. A change that touches several
shards first writes all the temp files, then a small commit journal naming them, then renames:
a crash after the journal is finished at the next start, a crash before it leaves nothing.

Each stored item carries `sentiment`, the VADER compound of its text (scoring.sentiment.compound),
added here after validation, only for new or edited texts: VADER is the costliest per-item step,
and the scorer reads the stored value instead of re-running it on every item at every start.
Items stored before the field get it at the first start, shard by shard, written back atomically.

Memory: only an index `(site, id) -> (shard, doc id)` (a KeyIndex: the keys as one byte string
and numpy arrays, not a dict of a million strings) and each author's item locations (arrays of
int64) are kept, from a checkpoint or rebuilt at start; shard contents are loaded when a write or
a look-up needs them, a few at a time.
One lock serialises all access; TinyDB is not thread-safe.

Files in the data dir:
  items/shard-NNNNN.json   one TinyDB document per captured item
  history/YYYY-MM-DD.json  a day's score snapshots (derived data: the dashboard's charts)
  history/models.json      the scoring model's version from the first day snapshots were scored by it
  config.json              tokens (hashed), paired origins, settings, links
  commit.journal           only between the writes and the renames of a multi-shard change
"""
from __future__ import annotations

import errno
import fcntl
import gc
import hashlib
import logging
import os
import re
import secrets
import shutil
import threading
import time
import weakref
import zlib
from array import array
from datetime import date
from collections import OrderedDict
from pathlib import Path

import numpy as np
import orjson
from tinydb import TinyDB
from tinydb.storages import Storage

from scoring import model
from scoring.keyindex import KeyIndex, item_key
from scoring.sentiment import compound

SHARD_ITEMS = 2_000    # items per shard file: ~0.8 MB, rewritten whole by a capture (docs/storage.md)
INDEX_CHECKPOINT = "checkpoints/store-index.bin"
INDEX_CHECKPOINT_V1 = "checkpoints/store-index.json"  # the JSON form before it: still read, then replaced
SCORER_CHECKPOINT = "checkpoints/scorer.bin"  # written by the server (app.py), kept with the data
SYNC_EVERY = 16 << 20  # bytes of a large write (a checkpoint) between two flushes to disk
INDEX_VERSION = 3  # 2 hashed keys with BLAKE2b (written by fbf4a46 only): refused
_INDEX_MAGIC = b"CLOUTLENS-STORE-INDEX\n"
_INDEX_CRC = b"crc32"  # then the CRC-32 of everything before it, 4 bytes
_INDEX_TRAILER = b"\n#crc32 "  # version 1: then the CRC of the JSON before it, in hex
CACHED_SHARDS = 12     # shards kept parsed in memory (the one being filled is one of them)
# Store.item_fields keeps fields of the items of at most this many shards per fields function
# (the earliest kept are dropped first): up to 200,000 items, ~200 bytes each for the person
# page's row fields (behind.row_fields)
FIELDS_SHARDS = 100
HISTORY_FLUSH_SECONDS = 60
_DAY_FILES = "????-??-??.json"  # history/2026-12-03.json: {identity: score}
_MONTH_FILES = "????-??.json"   # before day files: history/2026-11.json, {day: {identity: score}}
_MODELS_FILE = "models.json"    # {"changes": [[first day, model version], ...]}: where the scores' model changed
CLEAR_JOURNAL = "clear.journal"
FORGET_JOURNAL = "forget.journal"
IMPORT_UNFINISHED = "import.unfinished"  # an import under way, or cut short (server/exchange.py)
_SHARD_NAME = re.compile(r"^shard-(\d{5})\.json$")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOC_BITS = 24         # doc ids within a shard stay far below 2**24


log = logging.getLogger("cloutlens")


class StoreError(RuntimeError):
    """The data dir cannot be used; the message says what to do."""


def _fsync_dir(path: Path):
    dir_fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _write_temp(path: Path, payload) -> Path:
    """Write payload (bytes, or a list of buffers written one after the other) next to path,
    fsynced, and return the temp file's path (not yet renamed)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            if isinstance(payload, (bytes, bytearray, memoryview)):
                fh.write(payload)
            else:
                # A large file written in pieces, each flushed to disk before the next: the
                # captures' own fsyncs meanwhile then wait for one piece, not for hundreds of MB.
                pending = 0
                for part in payload:
                    fh.write(part)
                    pending += len(part) if not isinstance(part, memoryview) else part.nbytes
                    if pending >= SYNC_EVERY:
                        fh.flush()
                        os.fdatasync(fh.fileno())
                        pending = 0
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(path: Path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def atomic_write(path: Path, payload):
    tmp = _write_temp(path, payload)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    # The rename itself is durable only once the directory entry is synced.
    _fsync_dir(path.parent)


def _read_json(path: Path):
    """Parsed contents, None for a missing or empty file; a damaged file is kept and refused."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    if not raw.strip():
        return None
    try:
        data = orjson.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("the top level is not an object")
        return data
    except ValueError as exc:
        raise _damaged(path, str(exc)) from None


def _damaged(path: Path, why: str) -> StoreError:
    # Never overwrite what we cannot read: keep a copy and refuse to start.
    keep = path.with_name(f"{path.name}.damaged-{int(time.time())}")
    shutil.copy2(path, keep)
    return StoreError(
        f"{path} is damaged ({why[:120]}); a copy was kept at {keep}. Restore the data dir "
        "from a backup or an export, or move the damaged file away to start without it. "
        "`cloutlens doctor` checks every file.")


def shard_problem(data: dict) -> str | None:
    """What makes a parsed shard unusable as one (JSON that is not the store's), or None. The
    start does not call it for every shard (a million items): only to name a failure."""
    table = data.get("items") or {}
    if not isinstance(table, dict):
        return "its items are not an object"
    for doc_id, doc in table.items():
        if not doc_id.isdigit():
            return f"item key {doc_id[:20]!r} is not a number"
        if not isinstance(doc, dict):
            return f"item {doc_id} is not an object"
        for name in ("site", "id"):
            if not isinstance(doc.get(name), str):
                return f"item {doc_id} has no {name}"
        author = doc.get("author")
        if not isinstance(author, dict) or not isinstance(author.get("handle"), str) or "name" not in author:
            return f"item {doc_id} has no author handle and name"
    return None


def _read_history(path: Path) -> dict:
    """A history file's contents, {} for a missing one. History is derived data (a chart's
    points), so a damaged file does not stop anything as a damaged shard does: it is moved aside
    once, with a warning, and its day starts again empty."""
    try:
        return _read_json(path) or {}
    except StoreError:
        pass  # _read_json kept a copy: the damaged file itself can go
    _unlink(path)
    log.warning("history file %s was damaged: set aside (a .damaged copy is beside it), its day starts again",
                path)
    return {}


def is_day(value) -> bool:
    """A day as the history names them: YYYY-MM-DD, and a date that exists."""
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _score_in_day_file(path: Path, key: bytes):
    """The score stored under `key` (an identity as orjson writes it, then ':') in a day file,
    found in its bytes: in orjson's compact {str: int}, a '"' after '{' or ',' starts a key, and
    a key cannot end inside the identity's first character, which is never ':'. None when the
    identity is not there; a value that is not a whole number parses the file (and a damaged one
    is set aside)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    at = raw.find(key)
    while at > 0 and raw[at - 1] not in b"{,":
        at = raw.find(key, at + 1)
    if at <= 0:
        return None
    start = at + len(key)
    end = start
    while end < len(raw) and raw[end] in b"-0123456789":
        end += 1
    if end > start and end < len(raw) and raw[end] in b",}":
        return int(raw[start:end])
    return _read_history(path).get(orjson.loads(key[:-1]))  # not orjson's {str: int}: parsed


def shard_stamps(shard_dir: Path) -> dict[str, list[int]]:
    """What each shard file is now (size, modification time, inode): every write replaces a
    shard by a rename, so any change to a shard changes its stamp."""
    out = {}
    for path in shard_dir.iterdir():
        m = _SHARD_NAME.match(path.name)
        if m:
            st = path.stat()
            out[str(int(m.group(1)))] = [st.st_size, st.st_mtime_ns, st.st_ino]
    return out


def encode_index(meta: dict, arrays: dict) -> list:
    """The index checkpoint's bytes, as buffers written one after the other: magic, header length,
    a JSON header (meta, and each array's name, dtype, length and offset), the arrays' raw bytes,
    then a CRC-32 of everything before it."""
    table, offset = [], 0
    for name, a in arrays.items():
        table.append([name, a.dtype.str, len(a), offset])
        offset += a.nbytes
    header = orjson.dumps(dict(meta, arrays=table))
    parts = [_INDEX_MAGIC, len(header).to_bytes(8, "little"), header]
    parts.extend(memoryview(np.ascontiguousarray(a)).cast("B") for a in arrays.values())
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    parts.append(_INDEX_CRC + crc.to_bytes(4, "little"))
    return parts


def _decode_index(raw: bytes) -> dict | None:
    """encode_index's meta with `loc` (a KeyIndex) and `by_author` ({identity: locations}), or None."""
    body, tail = memoryview(raw)[: -len(_INDEX_CRC) - 4], raw[-len(_INDEX_CRC) - 4:]
    if tail[: len(_INDEX_CRC)] != _INDEX_CRC or zlib.crc32(body).to_bytes(4, "little") != tail[len(_INDEX_CRC):]:
        return None
    if bytes(body[: len(_INDEX_MAGIC)]) != _INDEX_MAGIC:
        return None
    n = int.from_bytes(body[len(_INDEX_MAGIC): len(_INDEX_MAGIC) + 8], "little")
    start = len(_INDEX_MAGIC) + 8 + n
    meta = orjson.loads(bytes(body[len(_INDEX_MAGIC) + 8: start]))
    if not isinstance(meta, dict) or meta.get("version") != INDEX_VERSION:
        return None
    arrays = {name: np.frombuffer(body, dtype=np.dtype(dtype), count=length, offset=start + offset)
              for name, dtype, length, offset in meta.pop("arrays")}
    meta["loc"] = KeyIndex.from_state({k[4:]: a for k, a in arrays.items() if k.startswith("key.")})
    counts, flat = arrays["author.count"], arrays["author.locs"]
    authors = meta.pop("authors")
    if len(authors) != len(counts) or int(counts.sum()) != len(flat) or (counts < 0).any():
        return None
    ends = np.cumsum(counts).tolist()
    meta["by_author"] = {a: array("q", flat[e - c: e].tobytes())
                         for a, c, e in zip(authors, counts.tolist(), ends)}
    return meta


def _decode_index_v1(raw: bytes) -> dict | None:
    """The JSON checkpoint of the versions before (keys by author), in the form above."""
    body, _, crc = raw.rpartition(_INDEX_TRAILER)
    if crc != b"%08x" % zlib.crc32(body):
        return None
    saved = orjson.loads(body)
    if not isinstance(saved, dict) or saved.get("version") != 1:
        return None
    loc, by_author = saved["loc"], saved["by_author"]
    where = loc.get
    saved["by_author"] = {a: kept for a, ks in by_author.items()
                          if (kept := array("q", [v for v in map(where, ks) if v is not None]))}
    saved["loc"] = KeyIndex(loc)
    return saved


def read_index_checkpoint(data_dir: Path) -> dict | None:
    """The index's checkpoint ({shards, sizes, names, loc, by_author}), or None when there is none
    or it is damaged (it is never trusted then: the start reads every shard)."""
    for name, decode in ((INDEX_CHECKPOINT, _decode_index), (INDEX_CHECKPOINT_V1, _decode_index_v1)):
        try:
            raw = (data_dir / name).read_bytes()
        except OSError:
            continue
        try:
            saved = decode(raw)
            if saved is not None and not all(isinstance(saved.get(k), dict) for k in ("shards", "sizes", "names")):
                saved = None
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            saved = None
        return saved
    return None


class MemoryBackedStorage(Storage):
    """TinyDB storage that keeps the file's contents in memory and writes only when told to.

    TinyDB calls write() after every operation; here that only marks the data dirty, and stage()
    writes it once, to a temp file the Store renames when the whole change is written.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.data = None
        self.dirty = False

    def read(self):
        if self.data is None:
            self.data = _read_json(self.path)
        return self.data

    def write(self, data):
        self.data = data
        self.dirty = True

    def stage(self) -> Path:
        return _write_temp(self.path, orjson.dumps(self.data))

    def close(self):
        pass


def _open_db(path: Path) -> TinyDB:
    return TinyDB(path, storage=MemoryBackedStorage)


def _dated_by_thread(items: list[dict]) -> dict[int, str]:
    """Dates for a capture's undated replies, by position: the date of the nearest dated item
    above each one in the same capture. Many blog themes print a comment's date only as text no
    adapter reads; dated by their first capture, a 2020 thread opened today would be a burst of
    new engagement (a "+41" trend). A reply is never older than what it answers, and most
    comments come within days of it. Nothing dated above: the caller's first-seen time."""
    if all(it["at"] for it in items):
        return {}
    by_key = {(it["site"], it["id"]): it for it in items}
    out = {}
    for n, it in enumerate(items):
        if it["at"]:
            continue
        up, hops = by_key.get((it["site"], it.get("parent"))), 0
        while up is not None and not up["at"] and hops < len(items):  # hops: a parent cycle ends
            up, hops = by_key.get((up["site"], up.get("parent"))), hops + 1
        if up is not None and up["at"]:
            out[n] = up["at"]
    return out


def _fingerprint(item: dict) -> int:
    """A hint that a re-captured item is unchanged, so a revisited page costs no shard load."""
    raw = orjson.dumps([item.get(f) for f in _COMPARED] + [item.get("at")])
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big")


# Fields whose change makes a re-captured item "updated" (reaction counts grow, text gets edited).
_COMPARED = ("kind", "parent", "author", "text", "url", "reactions", "mentions")


def _stored_sentiment(doc: dict) -> float | None:
    """The item's stored VADER compound, or None when it is missing or not a plausible one (a
    file from before the field, or edited by hand): then it is computed again, never trusted."""
    v = doc.get("sentiment")
    return v if type(v) is float and -1.0 <= v <= 1.0 else None


def _with_sentiment(doc: dict, old: dict | None = None) -> dict:
    """doc with its `sentiment`: the old item's when the text did not change (VADER is the
    costliest per-item step of a capture), else computed. The server is the only writer of the
    field; whatever doc carried is replaced."""
    if old is not None and old.get("text") == doc.get("text"):
        kept = _stored_sentiment(old)
        if kept is not None:
            doc["sentiment"] = kept
            return doc
    doc["sentiment"] = float(compound(doc.get("text")))
    return doc


_claims: weakref.WeakSet = weakref.WeakSet()  # the lock files this process holds


def _drop_inherited_claims():
    # flock belongs to the open file, which a fork shares: a child (an import's parser) would
    # keep the data dir claimed after this process is killed. Only the claimant holds it.
    for lock_file in list(_claims):
        lock_file.close()
    _claims.clear()


os.register_at_fork(after_in_child=_drop_inherited_claims)


def claim_data_dir(data_dir: Path):
    """The data dir's lock file, held open: one process at a time, since two caching the same
    TinyDB files would overwrite each other's writes. Raises StoreError when another holds it.
    Forked children do not hold it."""
    try:
        lock_file = open(data_dir / ".lock", "a+")
    except OSError as exc:
        raise StoreError(f"cannot open {data_dir / '.lock'}: {exc.strerror}") from None
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.close()
        raise StoreError(
            f"the data dir {data_dir} is in use by another cloutlens process "
            "(a running `cloutlens serve`?); stop it first"
        ) from None
    # What a previous holder wrote (its port) must not be read as this holder's.
    lock_file.truncate(0)
    _claims.add(lock_file)
    return lock_file


def record_port(lock_file, port: int) -> None:
    """Write the port a server listens on into the lock file it holds: `cloutlens doctor`, checking
    another port, can then name this one."""
    try:
        lock_file.truncate(0)
        lock_file.write(orjson.dumps({"port": port}).decode())
        lock_file.flush()
    except OSError:
        pass  # a hint for doctor only: a full disk must not stop the server


def recorded_port(data_dir: Path) -> int | None:
    """The port the lock file names, or None: lock files written before the port was recorded
    are empty, and a file that is not ours or damaged names none."""
    try:
        port = orjson.loads((data_dir / ".lock").read_bytes()).get("port")
    except (OSError, ValueError, AttributeError):
        return None
    return port if type(port) is int and 0 < port < 65536 else None


class ConfigFile:
    """config.json: client token hashes, paired origins, settings, links, in TinyDB's file layout
    (table "config", document 1), written whole and atomically on each change. Opened alone (with
    the data dir claimed) by commands that need no items, such as `cloutlens clients`."""

    def __init__(self, path: Path):
        self.path = path
        self.values = ((_read_json(path) or {}).get("config") or {}).get("1") or {}

    def get_config(self, key: str, default=None):
        return self.values.get(key, default)

    def set_config(self, key: str, value) -> None:
        self.set_configs({key: value})

    def set_configs(self, values: dict) -> None:
        """Several settings in one durable write; memory changes only once the disk has."""
        new = dict(self.values)
        new.update(values)
        atomic_write(self.path, orjson.dumps({"config": {"1": new}}))
        self.values = new


class Store:
    def __init__(self, data_dir: str | os.PathLike):
        self.data_dir = Path(data_dir)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the data dir {self.data_dir}: {exc.strerror}") from None
        if not os.access(self.data_dir, os.W_OK):
            raise StoreError(f"the data dir {self.data_dir} is not writable (check its owner and "
                             "permissions, or pick another with --data-dir)")
        self.lock = threading.RLock()
        self._broken: str | None = None
        self._lock_file = claim_data_dir(self.data_dir)
        try:
            self.shard_dir = self.data_dir / "items"
            self.history_dir = self.data_dir / "history"
            for d in (self.shard_dir, self.history_dir):
                try:
                    d.mkdir(exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"cannot create {d}: {exc.strerror}") from None
            self._recover()
            self.config = ConfigFile(self.data_dir / "config.json")
            clearing = _read_json(self.data_dir / CLEAR_JOURNAL)
            if clearing is not None:
                self._finish_clear(clearing)  # a delete-all was interrupted: it was decided, finish it
            self._shards: OrderedDict[int, TinyDB] = OrderedDict()
            self._shard_sizes: dict[int, int] = {}
            self._loc: KeyIndex = KeyIndex()      # item key -> (shard << _LOC_BITS) | doc id
            self._fp: dict[str, int] = {}
            self._by_author: dict[str, array] = {}  # identity -> the locations of their items
            self._names: dict[str, str] = {}  # identity -> display name, for search
            # item_fields: fields function -> shard -> doc id -> its fields (dropped per shard
            # when the shard is written)
            self._fields: dict = {}
            self._migrate_single_file()
            self._open_index()
            self._history_pending: dict[str, dict[str, int]] = {}
            # An import that was storing when the last server stopped, never finished: part of its
            # file may be stored. Said by status and the data page until an import finishes.
            self.unfinished_import = _read_json(self.data_dir / IMPORT_UNFINISHED)
            forgetting = _read_json(self.data_dir / FORGET_JOURNAL)
            if forgetting is not None:  # a forget was interrupted: it was decided, finish it
                self.forget(forgetting.get("identities") or [])
        except BaseException:
            self._lock_file.close()
            raise

    @property
    def items_path(self) -> Path:
        return self.shard_dir

    def record_port(self, port: int) -> None:
        record_port(self._lock_file, port)

    def close(self):
        with self.lock:
            try:
                self.flush_history()
            except OSError:
                pass  # snapshots are derived data; never block a shutdown on them
            if not self._broken:
                self.save_index()
            self._shards.clear()
            self._lock_file.close()

    # -- start: finish or drop interrupted writes, build the index ----------------

    def _recover(self):
        journal = self.data_dir / "commit.journal"
        plan = _read_json(journal)
        if plan is not None:
            # The journal is written only once every temp file is fsynced: finish the renames.
            for tmp, final in plan.get("renames", []):
                tmp_p, final_p = self.shard_dir / tmp, self.shard_dir / final
                if tmp_p.exists():
                    os.replace(tmp_p, final_p)
            _fsync_dir(self.shard_dir)
        _unlink(journal)
        # Temp files not named by a journal belong to a change that was never acknowledged; a
        # checkpoint's, to a save cut short (hundreds of MB at a million items, and derived from
        # people the user may since have forgotten).
        for d in (self.shard_dir, self.history_dir, self.data_dir, self.data_dir / "checkpoints"):
            for p in d.glob(".*.tmp"):
                _unlink(p)

    def _migrate_single_file(self):
        """Data dirs from before sharding kept every item in one items.json: move them over."""
        old = self.data_dir / "items.json"
        if not old.exists():
            return
        data = _read_json(old) or {}
        docs = [_with_sentiment(dict(d)) for d in (data.get("items") or {}).values()]
        if docs and not any(self.shard_dir.iterdir()):
            self._build_index()
            self._write_new_docs(docs)
        os.replace(old, old.with_name("items.json.migrated"))
        _fsync_dir(self.data_dir)

    def shard_paths(self) -> list[tuple[int, Path]]:
        out = []
        for p in self.shard_dir.iterdir():
            m = _SHARD_NAME.match(p.name)
            if m:
                out.append((int(m.group(1)), p))
        return sorted(out)

    # -- the index: from its checkpoint where the shards have not changed since -----------

    def shard_stamps(self) -> dict[str, list[int]]:
        return shard_stamps(self.shard_dir)

    def fingerprint(self) -> dict:
        """What the items on disk are, for derived data kept beside them (the scorer's
        checkpoint): the shards' stamps and how many removals there have been."""
        with self.lock:
            return {"shards": self.shard_stamps(), "removals": int(self.config.get_config("removals") or 0)}

    def save_index(self) -> None:
        """Write the index's checkpoint, so the next start reads the shards written since
        instead of all of them. Derived data: a failure to write it only costs the next start."""
        with self.lock:
            authors = [a for a, locs in self._by_author.items() if locs]
            flat = array("q")
            for a in authors:
                flat.extend(self._by_author[a])
            arrays = {"key." + k: a for k, a in self._loc.state().items()}
            arrays["author.count"] = np.fromiter(map(len, map(self._by_author.__getitem__, authors)),
                                                 dtype=np.int64, count=len(authors))
            arrays["author.locs"] = np.frombuffer(flat, dtype=np.int64)
            meta = {"version": INDEX_VERSION, "shards": self.shard_stamps(),
                    "sizes": {str(k): v for k, v in self._shard_sizes.items()},
                    "names": self._names, "authors": authors}
            path = self.data_dir / INDEX_CHECKPOINT
            try:
                path.parent.mkdir(exist_ok=True)
                atomic_write(path, encode_index(meta, arrays))
                _unlink(self.data_dir / INDEX_CHECKPOINT_V1)
            except OSError:
                pass

    def _open_index(self):
        """The index from its checkpoint, with the shards that changed since (or have no
        checkpoint) read again; every shard read when there is no usable checkpoint."""
        with _gc_paused():
            saved = read_index_checkpoint(self.data_dir)
        if saved is None:
            self._build_index()
            return
        try:
            now = self.shard_stamps()
            stale = {no for no in set(now) | set(saved["shards"]) if saved["shards"].get(no) != now.get(no)}
            loc, by_author, names = saved["loc"], saved["by_author"], saved["names"]
            sizes = {int(no): n for no, n in saved["sizes"].items() if no not in stale}
        except (KeyError, TypeError, ValueError, AttributeError):
            self._build_index()
            return
        self.sentiment_migrated = 0
        with _gc_paused():
            if stale:
                bad = {int(no) for no in stale}
                every = loc.locs()
                loc.drop_locs(every[np.isin(every >> _LOC_BITS, list(bad))])
                by_author = {a: kept for a, locs in by_author.items()
                             if (kept := array("q", [v for v in locs if (v >> _LOC_BITS) not in bad]))}
                names = {a: n for a, n in names.items() if a in by_author}
            # The stale shards' keys were dropped above: theirs go in as new keys, in one build.
            self._loc, self._by_author, self._names, self._shard_sizes = {}, by_author, names, sizes
            for no, path in self.shard_paths():
                if str(no) in stale:
                    self._read_shard(no, path)
            loc.add_new(self._loc)
            self._loc = loc
        self.index_from_checkpoint = {"shards_read": len([no for no in stale if no in now]),
                                      "shards": len(now)}

    def _build_index(self):
        self.index_from_checkpoint = None
        # A dict while a million keys go in one by one, then made compact once.
        self._loc = {}
        self._by_author.clear()
        self._names.clear()
        self._shard_sizes.clear()
        # Each shard's parsed items go once indexed: the scorer's load at a first start reads
        # the shards again, one at a time. Keeping them for it saved a quarter of that start's
        # time (8 s at 1M) but held every item at once (1.7 GB at 1M): the start's peak.
        self.sentiment_migrated = 0
        with _gc_paused():
            for no, path in self.shard_paths():
                self._read_shard(no, path)
            self._loc = KeyIndex(self._loc)

    def _read_shard(self, no: int, path: Path):
        data = _read_json(path) or {}
        table = data.get("items") or {}
        try:
            self._shard_sizes[no] = len(table)
            lacking = self._index_docs(no, table.items())
        except (KeyError, TypeError, AttributeError, ValueError):
            # Valid JSON, but not items as the store writes them: as damaged as broken JSON.
            raise _damaged(path, shard_problem(data) or "an item is malformed") from None
        if lacking:
            self._migrate_sentiment(path, data, table)

    def _migrate_sentiment(self, path: Path, data: dict, table: dict):
        """Items stored before the server kept each one's sentiment: compute it once and write the
        shard back (atomically, like every write), so no later start runs VADER on them. A crash
        midway leaves every shard either as it was or migrated; the next start goes on."""
        fixed = 0
        for doc in table.values():
            if _stored_sentiment(doc) is None:
                _with_sentiment(doc)
                fixed += 1
        if not fixed:
            return
        try:
            atomic_write(path, orjson.dumps(data))
        except OSError:
            # A full disk must not stop a start: the shard on disk keeps its old (valid)
            # contents, the scorer computes what is missing as it reads them, and the next start
            # tries again.
            return
        self.sentiment_migrated += fixed

    def _index_docs(self, shard_no: int, docs) -> bool:
        """Index docs; True if any of them lacks a valid stored sentiment."""
        base = shard_no << _LOC_BITS
        loc, by_author, names = self._loc, self._by_author, self._names
        lacking = False
        # A million iterations at start: plain concatenation and one lookup per map.
        for doc_id, doc in docs:
            s = doc.get("sentiment")
            if type(s) is not float or not -1.0 <= s <= 1.0:
                lacking = True
            site = doc["site"]
            at = base | int(doc_id)
            loc[site + "\x1f" + doc["id"]] = at  # item_key(), inlined
            author = doc["author"]
            who = site + ":" + author["handle"]
            names[who] = author["name"]
            locs = by_author.get(who)
            if locs is None:
                by_author[who] = array("q", (at,))
            else:
                locs.append(at)
        return lacking

    # -- shards ------------------------------------------------------------------

    def _shard(self, no: int) -> TinyDB:
        db = self._shards.get(no)
        if db is None:
            db = _open_db(self.shard_dir / f"shard-{no:05d}.json")
            db.storage.read()
            self._shards[no] = db
        self._shards.move_to_end(no)
        while len(self._shards) > CACHED_SHARDS:
            old_no, old_db = next(iter(self._shards.items()))
            if old_db.storage.dirty:
                break  # never evict unwritten changes (cannot happen between commits)
            del self._shards[old_no]
        return db

    def _commit(self, shard_nos):
        """Write the dirty shards durably, all or none; on failure memory is reset to the disk."""
        if self._broken:
            raise StoreError(self._broken)
        for kept in self._fields.values():
            for no in shard_nos:
                kept.pop(no, None)
        dbs = [(no, self._shards[no]) for no in sorted(set(shard_nos)) if self._shards[no].storage.dirty]
        staged: list[tuple[Path, Path]] = []
        try:
            for no, db in dbs:
                staged.append((db.storage.stage(), db.storage.path))
            if len(staged) > 1:
                plan = {"renames": [[t.name, f.name] for t, f in staged]}
                atomic_write(self.data_dir / "commit.journal", orjson.dumps(plan))
        except BaseException:
            for tmp, _ in staged:
                _unlink(tmp)
            for no, _ in dbs:
                self._shards.pop(no, None)  # reloaded from disk on next use
            raise
        try:
            for tmp, final in staged:
                os.replace(tmp, final)
            _fsync_dir(self.shard_dir)
        except OSError as exc:
            # Some renames may be done: memory no longer matches the disk. The journal finishes
            # the change at the next start; until then, refuse to write over it.
            self._broken = (f"a write to {self.shard_dir} was interrupted ({exc.strerror}); restart "
                            "the server: it finishes the write at start")
            raise StoreError(self._broken) from None
        if len(staged) > 1:
            _unlink(self.data_dir / "commit.journal")
        for _, db in dbs:
            db.storage.dirty = False

    def _fill_shard(self) -> int:
        """The shard new items go to: the last one while it has room."""
        if not self._shard_sizes:
            return 0
        last = max(self._shard_sizes)
        return last if self._shard_sizes[last] < SHARD_ITEMS else last + 1

    def _write_new_docs(self, docs: list[dict], also_dirty=()) -> list[tuple[int, dict]]:
        """Insert docs, one insert_multiple per shard, and commit them together with the shards
        in also_dirty (updates of the same change). Returns (loc, doc) pairs."""
        out = []
        touched = []
        pos = 0
        while pos < len(docs):
            no = self._fill_shard()
            room = SHARD_ITEMS - self._shard_sizes.get(no, 0)
            chunk = docs[pos:pos + room]
            db = self._shard(no)
            ids = db.table("items").insert_multiple(chunk)
            self._shard_sizes[no] = self._shard_sizes.get(no, 0) + len(chunk)
            out.extend(((no << _LOC_BITS) | i, d) for i, d in zip(ids, chunk))
            touched.append(no)
            pos += len(chunk)
        try:
            self._commit(touched + [no for no in also_dirty if no in self._shards])
        except BaseException:
            for no in touched:
                self._shard_sizes[no] = len(((_read_json(self.shard_dir / f"shard-{no:05d}.json") or {})
                                             .get("items") or {}))
            raise
        self._index_docs_locs(out)
        return out

    def _index_docs_locs(self, located):
        """Index newly inserted docs (new keys: add_batches found none of them stored)."""
        for loc, doc in located:
            key = item_key(doc["site"], doc["id"])
            self._loc.put_new(key, loc)
            who = f"{doc['site']}:{doc['author']['handle']}"
            self._by_author.setdefault(who, array("q")).append(loc)
            self._names[who] = doc["author"]["name"]

    def _doc_at(self, loc: int) -> dict | None:
        no, doc_id = loc >> _LOC_BITS, loc & ((1 << _LOC_BITS) - 1)
        return self._shard(no).storage.read()["items"].get(str(doc_id))

    # -- items ---------------------------------------------------------------

    def add_items(self, items: list[dict], seen: str) -> dict:
        """Upsert normalized items by (site, id), durably, before returning.

        `seen` (ISO UTC) dates undated items the first time they are seen, so a later capture of
        the same undated item changes nothing; an item carrying its own `seen` (an import) keeps
        it. Returns counts and the items added or changed.
        """
        return self.add_batches([(items, seen)])[0]

    def add_batches(self, batches: list[tuple[list[dict], str]]) -> list[dict]:
        """Several captures in one durable, all-or-none write (a group commit): the result of each,
        as add_items gives it, in order, as if they had been stored one after the other."""
        with self.lock:
            new_docs: list[dict] = []
            new_at: dict[str, int] = {}       # key -> position in new_docs
            updates: dict[str, list] = {}     # key -> [loc, doc, fingerprint]
            stored_author: dict[str, str] = {}
            confirmed: dict[str, int] = {}    # fingerprints learnt, kept once the write succeeded
            results = []
            # Every key looked up at once (the index's search is per call): nothing is written
            # to the index before the loop ends.
            keyed = [[item_key(it["site"], it["id"]) for it in items] for items, _ in batches]
            found = self._loc.get_many([k for keys in keyed for k in keys])
            at_pos = 0
            for (items, seen), keys in zip(batches, keyed):
                added, changed = [], []
                # An item twice in one batch (an import's file may hold it twice) is reported
                # once, as its last version: the scorer must never be handed both.
                reported: dict[str, tuple[list, int]] = {}

                def report(key, doc, into):
                    if key in reported:
                        where, i = reported[key]
                        where[i] = doc
                    else:
                        reported[key] = (into, len(into))
                        into.append(doc)
                by_thread = _dated_by_thread(items)
                for n, (item, key) in enumerate(zip(items, keys)):
                    loc = found[at_pos]
                    at_pos += 1
                    if key in new_at:  # new in this group, captured again (two tabs, two clients)
                        old = new_docs[new_at[key]]
                        at = item["at"] or old["at"]
                        if at != old["at"] or any(old.get(f) != item.get(f) for f in _COMPARED):
                            doc = _with_sentiment(dict(item, at=at, seen=old["seen"]), old)
                            new_docs[new_at[key]] = doc
                            report(key, doc, changed)
                        continue
                    if loc is None:
                        first_seen = item.get("seen") or seen  # an import brings its own
                        at = item["at"] or by_thread.get(n) or first_seen
                        doc = _with_sentiment(dict(item, at=at, seen=first_seen))
                        new_at[key] = len(new_docs)
                        new_docs.append(doc)
                        report(key, doc, added)
                        continue
                    fp = _fingerprint(item)
                    if key not in updates and self._fp.get(key) == fp:
                        continue
                    old = updates[key][1] if key in updates else self._doc_at(loc)
                    at = item["at"] or old["at"]
                    if at == old["at"] and all(old.get(f) == item.get(f) for f in _COMPARED):
                        if key not in updates:
                            confirmed[key] = fp
                        continue
                    doc = _with_sentiment(dict(item, at=at, seen=old["seen"]), old)
                    if key not in updates:
                        stored_author[key] = f"{old['site']}:{old['author']['handle']}"
                    updates[key] = [loc, doc, fp]
                    report(key, doc, changed)
                results.append({"added": len(added), "updated": len(changed),
                                "unchanged": len(items) - len(added) - len(changed), "items": added + changed})
            if new_docs or updates:
                self._write_changes(new_docs, updates, stored_author)
            self._fp.update(confirmed)
            return results

    def _write_changes(self, new_docs, updates, stored_author):
        by_shard: dict[int, dict[str, dict]] = {}
        for key, (loc, doc, _) in updates.items():
            by_shard.setdefault(loc >> _LOC_BITS, {})[key] = doc
        try:
            for no, docs in by_shard.items():
                self._shard(no).table("items").update(
                    lambda d, docs=docs: _replace(d, docs[item_key(d["site"], d["id"])]),
                    doc_ids=[updates[k][0] & ((1 << _LOC_BITS) - 1) for k in docs])
            if new_docs:
                # Commits the updated shards along with the new items: one all-or-none change.
                self._write_new_docs(new_docs, list(by_shard))
            else:
                self._commit(list(by_shard))
        except BaseException:
            for no in by_shard:
                self._shards.pop(no, None)
            raise
        for key, (loc, doc, fp) in updates.items():
            self._fp[key] = fp
            who = f"{doc['site']}:{doc['author']['handle']}"
            self._names[who] = doc["author"]["name"]
            before = stored_author[key]
            if before != who:
                self._by_author[before].remove(loc)
                if not self._by_author[before]:
                    del self._by_author[before]
                self._by_author.setdefault(who, array("q")).append(loc)

    def get_item(self, site: str, item_id: str) -> dict | None:
        with self.lock:
            loc = self._loc.get(item_key(site, item_id))
            if loc is None:
                return None
            doc = self._doc_at(loc)
            return dict(doc) if doc is not None else None

    def get_items(self, keys: list[tuple[str, str]], max_shards: int | None = None) -> list[dict | None] | None:
        """get_item of many (site, id) keys, read in the order of where they are stored: a few
        shards are parsed at a time (CACHED_SHARDS), so reading in any other order parses the
        same shard again and again (4,000 keys spread over 100 shards: 68 s one by one, 2.7 s
        in store order). With max_shards: None, having read nothing, when the items are spread
        over more shards than that (each one not in the cache costs a parse, ~25 ms)."""
        with self.lock:
            locs = self._loc.get_many([item_key(site, item_id) for site, item_id in keys])
            if max_shards is not None and len({loc >> _LOC_BITS for loc in locs if loc is not None}) > max_shards:
                return None
            out: list[dict | None] = [None] * len(keys)
            for j in sorted((j for j, loc in enumerate(locs) if loc is not None), key=locs.__getitem__):
                doc = self._doc_at(locs[j])
                out[j] = dict(doc) if doc is not None else None
            return out

    def item_fields(self, keys: list[tuple[str, str]], fields) -> list[tuple | None]:
        """fields(item) of each stored (site, id) key, None for a key not stored, kept in memory
        until the item's shard is written again. For a page that needs a few fields of tens of
        thousands of items on every visit (the person page of someone with 50,000 comments on
        their blog): only the first visit parses their shards (~25 ms each, 12 kept parsed),
        later ones find the fields. `fields` is a module-level function (the key of what is kept)
        returning a small tuple or dict; kept for at most FIELDS_SHARDS shards."""
        with self.lock:
            kept = self._fields.setdefault(fields, {})
            locs = self._loc.get_many([item_key(site, item_id) for site, item_id in keys])
            out: list[tuple | None] = [None] * len(keys)
            mask = (1 << _LOC_BITS) - 1
            for j in sorted((j for j, loc in enumerate(locs) if loc is not None), key=locs.__getitem__):
                loc = locs[j]
                in_shard = kept.get(loc >> _LOC_BITS)
                if in_shard is None:
                    in_shard = kept[loc >> _LOC_BITS] = {}
                    if len(kept) > FIELDS_SHARDS:
                        del kept[next(iter(kept))]
                got = in_shard.get(loc & mask)
                if got is None:
                    doc = self._doc_at(loc)
                    if doc is None:
                        continue
                    got = in_shard[loc & mask] = fields(doc)
                out[j] = got
            return out

    def count_by_author(self, identity: str) -> int:
        """How many stored items the identity wrote, without reading them."""
        with self.lock:
            return len(self._by_author.get(identity, ()))

    def items_by_author(self, identity: str) -> list[dict]:
        with self.lock:
            out = []
            for loc in sorted(self._by_author.get(identity, ())):
                doc = self._doc_at(loc)
                if doc is not None:
                    out.append(dict(doc))
            return out

    def authors(self) -> list[str]:
        with self.lock:
            return [a for a, keys in self._by_author.items() if keys]

    def author_count(self) -> int:
        # Without the lock, like count_items
        return len(self._by_author)

    def names(self) -> dict[str, str]:
        """identity -> the display name last stored; the caller must not change it."""
        return self._names

    def remove_author(self, identity: str) -> list[dict]:
        """Delete every item the identity authored, durably. Returns the removed items."""
        with self.lock:
            locs = self._by_author.get(identity)
            if not locs:
                return []
            by_shard: dict[int, list[int]] = {}
            for loc in locs:
                by_shard.setdefault(loc >> _LOC_BITS, []).append(loc & ((1 << _LOC_BITS) - 1))
            removed = []
            try:
                for no, ids in by_shard.items():
                    table = self._shard(no).storage.read()["items"]
                    removed.extend(dict(table[str(i)]) for i in ids if str(i) in table)
                    self._shard(no).table("items").remove(doc_ids=ids)
                self._commit(list(by_shard))
            except BaseException:
                for no in by_shard:
                    self._shards.pop(no, None)
                raise
            for doc in removed:
                key = item_key(doc["site"], doc["id"])
                self._loc.pop(key, None)
                self._fp.pop(key, None)
            del self._by_author[identity]
            self._names.pop(identity, None)
            for no, ids in by_shard.items():
                self._shard_sizes[no] -= len(ids)
            # derived data kept beside the items must not outlive them: the index's checkpoint
            # goes now (close() writes it again), the scorer's is refused from now on
            _unlink(self.data_dir / INDEX_CHECKPOINT)
            _unlink(self.data_dir / INDEX_CHECKPOINT_V1)
            self.set_config("removals", int(self.config.get_config("removals") or 0) + 1)
            return removed

    def forget(self, identities) -> int:
        """The store's part of forgetting people: every item they wrote, their links, their place
        among the own identities, their snapshots, and their names on the forgotten list, as one
        decision. A journal naming them is written first, so a crash midway is finished by the
        next start (their snapshots outlived a crash after the list was written, and with them
        on the list nothing could delete them any more). Returns how many items were removed."""
        identities = sorted(set(identities))
        with self.lock:
            atomic_write(self.data_dir / FORGET_JOURNAL, orjson.dumps({"identities": identities}))
            removed = 0
            for identity in identities:
                removed += len(self.remove_author(identity))
            gone_now = set(identities)
            links = self.get_config("links") or {}
            own = self.get_config("own_identities") or []
            self.set_configs({"links": {a: c for a, c in links.items() if a not in gone_now and c not in gone_now},
                              "forgotten": sorted(set(self.get_config("forgotten") or ()) | gone_now),
                              "own_identities": [i for i in own if i not in gone_now]})
            for identity in identities:
                self.forget_history(identity)
            _unlink(self.data_dir / FORGET_JOURNAL)
            return removed

    def _shard_docs(self, no: int) -> list[dict]:
        """The items of one shard: copies of what the cache holds (which later writes change),
        else read from disk."""
        db = self._shards.get(no)
        if db is not None:
            return [dict(d) for d in (db.storage.read().get("items") or {}).values()]
        return list(((_read_json(self.shard_dir / f"shard-{no:05d}.json") or {}).get("items") or {}).values())

    def iter_items(self):
        """Every stored item, shard by shard."""
        for docs in self.iter_shards():
            yield from docs

    def iter_shards(self):
        """Every stored item, a list per shard (each read under the lock, not held between)."""
        with self.lock:
            nos = [no for no, _ in self.shard_paths()]
        for no in nos:
            with self.lock:
                docs = self._shard_docs(no)
            yield docs

    def items_in_shards(self, shard_nos) -> list[dict]:
        """Every item stored in the given shards."""
        with self.lock:
            return [d for no in sorted(shard_nos) for d in self._shard_docs(no)]

    def all_items(self) -> list[dict]:
        with _gc_paused():
            return list(self.iter_items())

    def count_items(self) -> int:
        # Without the lock: /api/status counts while a long write (the removal of a prolific
        # author's items, a delete-all) holds it, and the length of a dict is read in one step.
        return len(self._loc)

    def shard_count(self) -> int:
        with self.lock:
            return len(self._shard_sizes)

    def clear(self, config: dict | None = None) -> int:
        """Delete every item and every score snapshot, and set `config` (e.g. empty settings), as
        one change: a journal is written first, so a crash midway is finished by the next start
        and never leaves half the items. Tokens and anything else in the config stay. Returns how
        many items were deleted."""
        with self.lock:
            if self._broken:
                raise StoreError(self._broken)
            count = len(self._loc)
            plan = {"config": dict(config or {}, removals=int(self.config.get_config("removals") or 0) + 1)}
            atomic_write(self.data_dir / CLEAR_JOURNAL, orjson.dumps(plan))
            try:
                self._finish_clear(plan)
            except OSError as exc:
                self._broken = (f"deleting everything in {self.data_dir} was interrupted ({exc.strerror}); "
                                "restart the server: it finishes the deletion at start")
                raise StoreError(self._broken) from None
            self._shards.clear()
            self._shard_sizes.clear()
            self._fields.clear()
            self._loc.clear()
            self._fp.clear()
            self._by_author.clear()
            self._names.clear()
            self._history_pending = {}
            self.unfinished_import = None
            return count

    def _finish_clear(self, plan: dict):
        """What a clear journal asks for; safe to run again from any point it stopped at."""
        for d in (self.shard_dir, self.history_dir):
            old = d.with_name(f".{d.name}.cleared")
            if d.exists():
                if old.exists():
                    shutil.rmtree(old)
                # One rename takes every file away at once; the empty dir replaces it.
                os.replace(d, old)
            d.mkdir(exist_ok=True)
        _fsync_dir(self.data_dir)
        self.config.set_configs(plan.get("config") or {})
        for d in (self.shard_dir, self.history_dir):
            shutil.rmtree(d.with_name(f".{d.name}.cleared"), ignore_errors=True)
        shutil.rmtree(self.data_dir / "checkpoints", ignore_errors=True)  # derived from what is gone
        _unlink(self.data_dir / IMPORT_UNFINISHED)  # whatever part of an import was stored is gone too
        _unlink(self.data_dir / CLEAR_JOURNAL)
        _fsync_dir(self.data_dir)

    # -- daily score snapshots (for a person's history chart) ------------------

    def record_scores(self, day: str, scores: dict[str, int]):
        """Remember today's scores. They reach the disk through flush_history(): a server calls it
        every HISTORY_FLUSH_SECONDS from its own thread and at close, never in a request."""
        with self.lock:
            self._history_pending.setdefault(day, {}).update(scores)

    def flush_history(self):
        """Write the scores recorded since the last flush, one file a day
        (history/YYYY-MM-DD.json, {identity: score}): a flush rewrites only the days it has news
        for. (A file a month, rewritten whole every minute, cost 60 ms at 5,000 people a day by
        the month's end, and 260 ms at 20,000.)"""
        with self.lock:
            pending, self._history_pending = self._history_pending, {}
            try:
                if pending:  # first: a day on disk is never left without its version (at worst one too early)
                    self._note_model(min(pending))
                for day, scores in pending.items():
                    path = self.history_dir / f"{day}.json"
                    data = _read_history(path)
                    data.update(scores)
                    atomic_write(path, orjson.dumps(data))
            except BaseException:
                # kept for the next flush (a day written again is written the same)
                for day, scores in pending.items():
                    merged = dict(scores)
                    merged.update(self._history_pending.get(day, {}))
                    self._history_pending[day] = merged
                raise

    def _note_model(self, day: str):
        """Record that snapshots from `day` on are scored by this model version, unless the last
        version recorded is this one. (Days written before the file existed have no version.)"""
        path = self.history_dir / _MODELS_FILE
        changes = self._model_changes(path)
        if changes and changes[-1][1] == model.VERSION:
            return
        # a day behind the last change (the clock went back): the change is dated with it, so
        # that the versions before stay where they were
        changes.append([max(day, changes[-1][0]) if changes else day, model.VERSION])
        atomic_write(path, orjson.dumps({"changes": changes}))

    @staticmethod
    def _model_changes(path: Path) -> list[list[str]]:
        """The changes recorded, [] for none or for a file that is not a list of [day, version] in
        order of day (derived data: a damaged file is set aside, and the next flush starts it again)."""
        data = _read_history(path).get("changes")
        try:
            days = [day for day, version in data if isinstance(version, str) and is_day(day)]
        except (TypeError, ValueError):  # not pairs
            return []
        return data if len(days) == len(data) and days == sorted(days) else []

    def model_changes(self) -> list[tuple[str, str]]:
        """[(first day, model version)] oldest first: the days the snapshots' scoring model changed."""
        with self.lock:
            return [(day, version) for day, version in self._model_changes(self.history_dir / _MODELS_FILE)]

    def history(self, identity: str, days: int = 365) -> list[dict]:
        """[{day, score}] oldest first, from the snapshots on disk and those not yet written.
        A day file holds everyone shown that day (a year of 5,000 a day is 66 MB): each is
        searched for the identity's key, not parsed (0.33 s -> 0.03 s for that year)."""
        key = orjson.dumps(identity) + b":"
        with self.lock:
            out: dict[str, int] = {}
            for path in sorted(self.history_dir.glob(_MONTH_FILES))[-(days // 28 + 2):]:
                for day, scores in _read_history(path).items():
                    if isinstance(scores, dict) and identity in scores:
                        out[day] = scores[identity]
            for path in sorted(self.history_dir.glob(_DAY_FILES))[-days:]:
                score = _score_in_day_file(path, key)
                if score is not None:
                    out[path.stem] = score
            for day, scores in self._history_pending.items():
                if identity in scores:
                    out[day] = scores[identity]
            return [{"day": d, "score": out[d]} for d in sorted(out)[-days:]]

    def history_days(self):
        """(day, {identity: score}) for every day with snapshots, oldest first (an export's
        history): a day file at a time, and the lock taken for each, not for all. The month
        files of the layout before day files (until 3 December 2026) are read once, whole."""
        with self.lock:
            old: dict[str, dict] = {}
            for month in self.history_dir.glob(_MONTH_FILES):
                data = _read_history(month)
                old.update((day, self._month_day(data, day)) for day in data)
            days = {p.stem for p in self.history_dir.glob(_DAY_FILES)} | set(self._history_pending) | set(old)
        for day in sorted(days):
            with self.lock:
                scores = old.pop(day, {})
                scores.update(_read_history(self.history_dir / f"{day}.json"))
                scores.update(self._history_pending.get(day, {}))
            if scores:
                yield day, scores

    def merge_history(self, day: str, scores: dict[str, int]) -> int:
        """Add a day's snapshots from elsewhere (an import): only identities this store has no
        snapshot of that day; returns how many were added. Importing the same day again adds
        nothing."""
        with self.lock:
            have = dict(self._history_pending.get(day, {}))
            month = self.history_dir / f"{day[:7]}.json"  # the layout before day files
            if month.exists():
                have.update(self._month_day(_read_history(month), day))
            path = self.history_dir / f"{day}.json"
            on_disk = _read_history(path)
            new = {i: s for i, s in scores.items() if i not in on_disk and i not in have}
            if new:
                atomic_write(path, orjson.dumps(on_disk | new))
            return len(new)

    @staticmethod
    def _month_day(month: dict, day: str) -> dict:
        """A day's snapshots in a month file's contents, {} when it holds none (or not an object)."""
        scores = month.get(day)
        return dict(scores) if isinstance(scores, dict) else {}

    def merge_model_changes(self, incoming: list[tuple[str, str]]):
        """Take another store's model versions (an import) beside this one's: all the changes in
        order of day, a version repeated one after the other kept at its first day."""
        with self.lock:
            path = self.history_dir / _MODELS_FILE
            merged = []
            for day, version in sorted([*map(tuple, self._model_changes(path)), *incoming]):
                if not merged or merged[-1][1] != version:
                    merged.append([day, version])
            atomic_write(path, orjson.dumps({"changes": merged}))

    def forget_history(self, identity: str):
        key = orjson.dumps(identity) + b":"
        with self.lock:
            for scores in self._history_pending.values():
                scores.pop(identity, None)
            for path in sorted(self.history_dir.glob(_MONTH_FILES)):
                data = _read_history(path)
                if any(isinstance(s, dict) and identity in s for s in data.values()):
                    for s in data.values():
                        s.pop(identity, None)
                    atomic_write(path, orjson.dumps(data))
            for path in sorted(self.history_dir.glob(_DAY_FILES)):
                if _score_in_day_file(path, key) is None:
                    continue
                data = _read_history(path)
                if data.pop(identity, None) is not None:
                    atomic_write(path, orjson.dumps(data))

    # -- config: tokens, origins, settings, links ------------------------------

    def form_key(self) -> str:
        """The secret the dashboard signs its forms with, kept in the data dir (readable by the
        user only): a page opened before a restart still posts. Never exported."""
        path = self.data_dir / "form.key"
        try:
            key = path.read_text().strip()
            if re.fullmatch(r"[0-9a-f]{64}", key):
                return key
        except FileNotFoundError:
            pass
        key = secrets.token_hex(32)
        atomic_write(path, key.encode())
        return key

    def get_config(self, key: str, default=None):
        # Without the lock: every request's token check reads the config, also while a long write
        # holds the lock, and ConfigFile replaces its values whole, never changing them in place.
        return self.config.get_config(key, default)

    def set_config(self, key: str, value) -> None:
        self.set_configs({key: value})

    def set_configs(self, values: dict) -> None:
        with self.lock:
            self.config.set_configs(values)


def _libc_trim():
    try:
        import ctypes
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to call, the allocator keeps its own
        return None


_malloc_trim = _libc_trim()


def release_free_memory() -> None:
    """Hand the memory a start freed back to the OS. A start parses and copies hundreds of MB that
    are freed once it is done; glibc keeps freed heap pages (and, after large arrays were freed,
    serves arrays of up to 32 MB from the heap too) until told otherwise, so a server left running
    would hold its start's peak for good."""
    if _malloc_trim is not None:
        _malloc_trim(0)


class _gc_paused:
    """Loading a million small dicts triggers collections that scan everything loaded so far,
    over and over; none of it can be garbage (no cycles), so collection waits until the load is
    done, and the loaded objects are then frozen out of the collector's sight: otherwise the
    first allocation after the load pays a full collection over all of them."""

    def __enter__(self):
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        gc.freeze()
        if self.was:
            gc.enable()


def _replace(doc: dict, new: dict):
    doc.clear()
    doc.update(new)


def disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
