"""The store: captured items and the server's own settings, in TinyDB files in the data dir.

TinyDB rewrites a whole file on every write, so every change a request makes is gathered in
TinyDB's write cache and written once, atomically (temp file, fsync, rename), before the request
is answered: an acknowledged capture is on disk, and a crash leaves the old file or the new one,
never half of either. One lock serialises all access; TinyDB is not thread-safe.

Two files, so that saving a setting never rewrites the (large) item file:
  items.json   one document per captured item, keyed in memory by (site, id)
  config.json  tokens (hashed), paired origins, settings
"""
from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import orjson
from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import Storage


class StoreError(RuntimeError):
    """The data dir cannot be used; the message says what to do."""


class AtomicJSONStorage(Storage):
    """TinyDB storage that never leaves a half-written file behind."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def read(self):
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            return None
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            # Never overwrite what we cannot read: keep a copy and refuse to start.
            keep = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
            shutil.copy2(self.path, keep)
            raise StoreError(
                f"{self.path} is damaged ({exc}); a copy was kept at {keep}. "
                "Restore it from an export or move it away to start empty."
            ) from None

    def write(self, data):
        payload = orjson.dumps(data)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        # The rename itself is durable only once the directory entry is synced.
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def close(self):
        pass


def _open(path: Path) -> TinyDB:
    db = TinyDB(path, storage=CachingMiddleware(AtomicJSONStorage))
    # Writes are flushed explicitly once per request; never on a count.
    db.storage.WRITE_CACHE_SIZE = 1 << 62
    return db


# Fields whose change makes a re-captured item "updated" (reaction counts grow, text gets edited).
_COMPARED = ("kind", "parent", "author", "text", "url", "reactions", "mentions")


class Store:
    def __init__(self, data_dir: str | os.PathLike):
        self.data_dir = Path(data_dir)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the data dir {self.data_dir}: {exc.strerror}") from None
        if not os.access(self.data_dir, os.W_OK):
            raise StoreError(f"the data dir {self.data_dir} is not writable")
        self.lock = threading.RLock()
        self._claim()
        self._items_db = _open(self.data_dir / "items.json")
        self._config_db = _open(self.data_dir / "config.json")
        self._items = self._items_db.table("items")
        self._index: dict[tuple[str, str], int] = {
            (doc["site"], doc["id"]): doc.doc_id for doc in self._items.all()
        }

    def _claim(self):
        # Two processes caching the same TinyDB file would overwrite each other's writes.
        self._lock_file = open(self.data_dir / ".lock", "a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise StoreError(
                f"the data dir {self.data_dir} is in use by another cloutlens process "
                "(a running `cloutlens serve`?); stop it first"
            ) from None

    @property
    def items_path(self) -> Path:
        return self.data_dir / "items.json"

    def close(self):
        with self.lock:
            self._items_db.close()
            self._config_db.close()
            self._lock_file.close()

    # -- items ---------------------------------------------------------------

    def add_items(self, items: list[dict], seen: str) -> dict:
        """Upsert normalized items by (site, id) in one durable write.

        `seen` (ISO UTC) dates undated items the first time they are seen, so a later capture of
        the same undated item changes nothing. Returns counts and the items added or changed.
        """
        added, changed = [], []
        with self.lock:
            new_docs, updates = [], []
            for item in items:
                key = (item["site"], item["id"])
                doc_id = self._index.get(key)
                if doc_id is None:
                    doc = dict(item, at=item["at"] or seen, seen=seen)
                    new_docs.append(doc)
                    continue
                old = self._items.get(doc_id=doc_id)
                at = item["at"] or old["at"]
                if at == old["at"] and all(old.get(f) == item[f] for f in _COMPARED):
                    continue
                doc = dict(item, at=at, seen=old["seen"])
                updates.append((doc_id, doc))
            if not new_docs and not updates:
                return {"added": 0, "updated": 0, "unchanged": len(items), "items": []}
            try:
                ids = self._items.insert_multiple(new_docs)
                for doc_id, doc in updates:
                    self._items.update(doc, doc_ids=[doc_id])
                self._items_db.storage.flush()
            except BaseException:
                # The write failed: forget the cached changes so memory matches the disk.
                self._reload_items()
                raise
            for doc_id, doc in zip(ids, new_docs):
                self._index[(doc["site"], doc["id"])] = doc_id
                added.append(doc)
            changed = [doc for _, doc in updates]
        return {
            "added": len(added),
            "updated": len(changed),
            "unchanged": len(items) - len(added) - len(changed),
            "items": added + changed,
        }

    def _reload_items(self):
        # Not close(): CachingMiddleware would flush the very changes that failed to write.
        self._items_db = _open(self.data_dir / "items.json")
        self._items = self._items_db.table("items")
        self._index = {(d["site"], d["id"]): d.doc_id for d in self._items.all()}

    def all_items(self) -> list[dict]:
        with self.lock:
            return [dict(doc) for doc in self._items.all()]

    def count_items(self) -> int:
        with self.lock:
            return len(self._index)

    # -- config: tokens, origins, settings -------------------------------------

    def get_config(self, key: str, default=None):
        with self.lock:
            doc = self._config_db.table("config").get(doc_id=1)
            return (doc or {}).get(key, default)

    def set_config(self, key: str, value) -> None:
        with self.lock:
            table = self._config_db.table("config")
            if table.get(doc_id=1) is None:
                table.insert({key: value})
            else:
                table.update({key: value}, doc_ids=[1])
            self._config_db.storage.flush()
