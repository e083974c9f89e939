"""A Scorer's state in one file, so that a server starts from it instead of deriving a million
items again (that takes seconds per hundred thousand items; loading this, a fraction of one).

The file is derived data: the store stays the record. It holds the rows, the item columns and
keys, the interned names, sites and topics, and the row groups with their member indexes (all as
they were when saved), plus a `stamp` the caller chooses (a server: what its store looked like)
so the caller can tell whether the file still describes its items. Nothing that depends on the
scoring time is saved: the first read computes it.

Format: the arrays' raw bytes after a JSON table of their names, dtypes and places (no pickled
objects), the Python-level state as JSON in one of them, then a CRC-32 of the whole file,
checked on load. Writing it is a few large writes that leave the interpreter free for the
captures meanwhile; loading it maps the arrays onto the file's bytes, and copies only those the
scorer keeps as they are (the file's bytes are then let go). A file
that does not load or check out is reported as None, never half used.
"""
from __future__ import annotations

import zlib

import numpy as np
import orjson

from . import model
from .columns import ROW_COLS, Groups, Members
from .keyindex import ItemKeys, KeyIndex

# 2: hashtags read whole in every script (6 December 2026): a checkpoint holds each item's topics,
# and one from before would keep the old, cut tags
# 3: rows hold their words' fingerprint (the copy rule, 8 December 2026)
# 4: audience rows hold their item's largest count of one reaction (reach.py, 8 December 2026)
VERSION = 4
_MAGIC = b"CLOUTLENS-SCORER-CHECKPOINT\n"
_TRAILER = b"crc32"  # then the CRC of everything before it
_ITEM_COLS = ("start", "count", "author", "kind", "parent")
_STRUCT_ARRAYS = ("canon", "ca", "ct", "pair_id", "ad_id", "td_id", "p_actor", "p_target", "p_rev", "td_target",
                  "csr_order", "csr_indices", "csr_indptr", "te_row", "te_topic", "te_tp", "tp_topic", "tp_pair")
_GROUPS = ("pairs", "ad", "td", "tp")
_KEPT_AS_LOADED = ("canon", "csr_order", "csr_indices", "csr_indptr")  # what prepare() does not copy


def dumps(scorer, stamp) -> bytes:
    """The scorer's state as bytes."""
    return b"".join(encode(capture(scorer, stamp)))


def capture(scorer, stamp) -> dict:
    """A copy of the scorer's state (the part a caller must take while nothing changes the
    scorer; encode() can then run while it goes on)."""
    s = scorer
    arrays: dict[str, np.ndarray] = {}
    R = s._rows
    for name, _ in ROW_COLS:
        arrays["row." + name] = getattr(R, name)[: R.n]
    it = s._item
    for name in _ITEM_COLS:
        arrays["item." + name] = getattr(it, name)[: it.n]
    arrays["authored"] = s._authored[: len(s._names)]
    site_of = s._sites
    keys = s._item_keys
    arrays["key.site"] = np.fromiter(map(site_of.__getitem__, keys.sites), dtype=np.int32, count=len(keys))
    arrays["topics.idx"], arrays["topics.len"], arrays["topics.ids"] = _flatten(s._item_topics)
    arrays["own.idx"], arrays["own.len"], arrays["own.ids"] = _flatten(s._own_topics)
    if s._idx is not None:  # a server's (prepare() built it): its next start need not build it again
        arrays.update(("keyindex." + k, a) for k, a in s._idx.state().items())
    meta = {
        "version": VERSION, "model": model.VERSION, "stamp": stamp,
        "names": s._names, "site_names": s._site_names, "key_ids": keys.ids,
        "forgotten": sorted(s._forgotten_ids), "topic_settings": s.settings.get("topics") or {},
        "topic_names": s.topics.names,
        "orphans": [[p[0], p[1], [c[1] for c in sorted(kids)]] for p, kids in s._orphans.items() if kids],
        "struct": None,
    }
    g = s._struct
    if g is not None and g.n == R.n and g.nid == len(s._names) and g.links == s.links:
        meta["struct"] = {"n": g.n, "nid": g.nid, "links": g.links, "csr_pairs": g.csr_pairs,
                          "extra": {name: getattr(g, name).extra_keys for name in _GROUPS},
                          "indexes": {}}
        for name in _STRUCT_ARRAYS:
            arrays["struct." + name] = getattr(g, name)
        for name in _GROUPS:
            arrays[f"struct.{name}.main"] = getattr(g, name).main
        for what, idx in g._index.items():
            if idx.n == len(g._gid(what)[0]):  # only indexes with nothing left to merge
                arrays[f"index.{what}.order"] = idx.order
                arrays[f"index.{what}.bounds"] = idx.bounds
                meta["struct"]["indexes"][what] = idx.n
    arrays = {name: np.array(a, copy=True) for name, a in arrays.items()}
    arrays["meta"] = np.frombuffer(orjson.dumps(meta), dtype=np.uint8)
    return arrays


def encode(arrays: dict) -> list:
    """The file's contents as a list of buffers (written one after the other, no copy of the
    arrays): magic, header length, JSON header (each array's name, dtype, length, offset), the
    arrays' bytes (64-byte aligned), then a CRC-32 of everything before it."""
    table, offset = [], 0
    for name, a in arrays.items():
        a = np.ascontiguousarray(a)
        arrays[name] = a
        table.append([name, a.dtype.str, len(a), offset])
        offset += -(-a.nbytes // 64) * 64
    header = orjson.dumps({"arrays": table})
    start = len(_MAGIC) + 8 + len(header)
    pad0 = -start % 64
    parts = [_MAGIC, len(header).to_bytes(8, "little"), header, b"\0" * pad0]
    for (name, _, _, _), a in zip(table, arrays.values()):
        parts.append(memoryview(a).cast("B"))
        parts.append(b"\0" * (-a.nbytes % 64))
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    parts.append(_TRAILER + crc.to_bytes(4, "little"))
    return parts


def loads(data: bytes, settings: dict | None = None, items=None):
    """(scorer, stamp) from dumps() output, or None if it does not load or check out. settings
    are the scorer's settings now: topic settings other than the saved ones re-match every
    item's topics (which reads every item from `items`); other links drop the saved groups."""
    from .engine import Scorer
    from .structure import Structure

    body, tail = memoryview(data)[: -len(_TRAILER) - 4], bytes(data[-len(_TRAILER) - 4:])
    if tail[: len(_TRAILER)] != _TRAILER or zlib.crc32(body).to_bytes(4, "little") != tail[len(_TRAILER):]:
        return None
    try:
        if bytes(body[: len(_MAGIC)]) != _MAGIC:
            return None
        n = int.from_bytes(body[len(_MAGIC): len(_MAGIC) + 8], "little")
        start = len(_MAGIC) + 8 + n
        table = orjson.loads(bytes(body[len(_MAGIC) + 8: start]))["arrays"]
        start += -start % 64
        arrays = {}
        for name, dtype, length, offset in table:
            # views of the file's bytes, read-only: what the scorer changes in place it copies
            # first (Rows.append, ItemCols.grow, and prepare()'s room for growth)
            arrays[name] = np.frombuffer(body, dtype=np.dtype(dtype), count=length, offset=start + offset)
        meta = orjson.loads(arrays["meta"].tobytes())
        # rows hold what the model made of each item (a reaction's amount): another model's are not used
        if meta.get("version") != VERSION or meta.get("model") != model.VERSION:
            return None
    except Exception:  # a damaged or foreign file, whatever the damage: not used
        return None

    s = Scorer(settings=settings, items=items)
    names = meta["names"]
    s._names = names
    s._ids = dict(zip(names, range(len(names))))
    s._site_names = meta["site_names"]
    s._sites = dict(zip(s._site_names, range(len(s._site_names))))
    s._authored = np.zeros(len(names) + max(1024, len(names) // 8), dtype=np.int64)
    s._authored[: len(names)] = arrays["authored"]
    sites = s._site_names
    s._item_keys = ItemKeys(list(map(sites.__getitem__, arrays["key.site"].tolist())), meta["key_ids"])
    s._idx = None  # built when first asked for, unless saved
    if "keyindex.hash" in arrays:
        try:
            index = KeyIndex.from_state({k[len("keyindex."):]: a for k, a in arrays.items()
                                         if k.startswith("keyindex.")})
        except (KeyError, ValueError):
            return None
        if len(index) != len(s._item_keys):
            return None
        s._idx = index
    n_items = len(s._item_keys)
    s._item.grow(n_items)
    for name in _ITEM_COLS:
        getattr(s._item, name)[:n_items] = arrays["item." + name]
    rows = {name: arrays["row." + name] for name, _ in ROW_COLS}
    s._rows.append(rows)
    s._forgotten_ids = set(meta["forgotten"])
    for site, parent, kids in meta["orphans"]:
        key = (site, parent)
        s._orphans[key] = {(site, c) for c in kids}
        for c in kids:
            s._orphan_of[(site, c)] = key
    for name in meta["topic_names"]:
        s.topics._intern(name)
    s._item_topics = {i: tuple(t) for i, t in _unflatten(arrays["topics.idx"], arrays["topics.len"], arrays["topics.ids"])}
    s._own_topics = {i: frozenset(t) for i, t in _unflatten(arrays["own.idx"], arrays["own.len"], arrays["own.ids"])}
    s._intern_many(sorted(set(s.links) | set(s.links.values())))  # links made since the save
    if ((settings or {}).get("topics") or {}) != meta["topic_settings"]:
        s._rematch_topics()
    st = meta["struct"]
    if st is not None and st["links"] == s.links and st["n"] == s._rows.n and st["nid"] == len(names):
        g = Structure.__new__(Structure)
        g.n, g.nid, g.links, g.csr_pairs = st["n"], st["nid"], st["links"], st["csr_pairs"]
        # Arrays kept as they are loaded are copied out of the file's bytes: a view of them would
        # keep the whole file (400 MB at 1M) alive for as long as the server runs. The struct's
        # other arrays are copied with room to grow by Scorer.prepare() (columns.reserve).
        for name in _STRUCT_ARRAYS:
            a = arrays["struct." + name]
            setattr(g, name, a.copy() if name in _KEPT_AS_LOADED else a)
        for name in _GROUPS:
            grp = Groups.__new__(Groups)
            grp.main = arrays[f"struct.{name}.main"].copy()
            grp.inv = None
            grp.extra_keys = list(st["extra"][name])
            grp.extra = {k: len(grp.main) + j for j, k in enumerate(grp.extra_keys)}
            setattr(g, name, grp)
        g._index = {}
        for what, n in st["indexes"].items():
            idx = Members.__new__(Members)
            idx.order, idx.bounds, idx.n, idx._tail = (arrays[f"index.{what}.order"].copy(),
                                                       arrays[f"index.{what}.bounds"].copy(), n, None)
            g._index[what] = idx
        s._struct = g
    s._dirty = True
    return s, meta["stamp"]


def _flatten(d: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keys = sorted(d)
    vals = [sorted(d[k]) for k in keys]
    return (np.asarray(keys, dtype=np.int64), np.asarray([len(v) for v in vals], dtype=np.int64),
            np.asarray([t for v in vals for t in v], dtype=np.int64))


def _unflatten(idx: np.ndarray, lens: np.ndarray, ids: np.ndarray):
    flat = ids.tolist()
    pos = 0
    for i, n in zip(idx.tolist(), lens.tolist()):
        yield i, flat[pos: pos + n]
        pos += n
