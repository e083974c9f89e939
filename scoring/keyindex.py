"""A map from item keys (`site\x1fid` strings) to locations (ints), for a million keys in a
third of a dict's memory, and saved and loaded as arrays.

A dict of a million keys holds a million string objects, a million int objects and the table:
about 140 MB, plus the keys' second copies wherever else they are kept, and a checkpoint of it is
a million keys parsed one by one. Here the keys are one UTF-8 byte string, and numpy arrays hold
each key's hash (sorted), its place in those bytes and its location: ~50 bytes a key.
Look-ups are exact: a key is found by its hash, then compared byte for byte (keys whose hashes are
equal are simply the next entries). Keys added since the arrays were built go to a plain dict,
folded into the arrays once it grows large (one sort of the hashes, no work per key already
there); a removed key's entry is marked gone (-1) until the arrays are next compacted.

The hash is the CRC-32 of the key's bytes with their length, not Python's hash() (which differs
from one process to the next), so saved arrays are used as they are.
"""
from __future__ import annotations

import zlib
from operator import methodcaller

import numpy as np

_GONE = -1
_EMPTY_I64 = np.zeros(0, dtype=np.int64)
_STATE = ("hash", "start", "len", "loc")


def _hash(raw: bytes) -> int:
    # CRC-32 with the length above it: C speed (a tenth of BLAKE2b's, which cost a second per
    # million keys at start); keys with equal hashes are only more entries to compare.
    return zlib.crc32(raw) | len(raw) << 32


def item_key(site: str, item_id: str) -> str:
    """An item's key: its site cannot hold the separator, so no two (site, id) share a key."""
    return f"{site}\x1f{item_id}"


def _hashes(raws: list[bytes], lens: np.ndarray) -> np.ndarray:
    """_hash of every raw key, with no Python-level call per key (a second at 1M)."""
    return np.fromiter(map(zlib.crc32, raws), dtype=np.int64, count=len(raws)) | lens << 32


_ENCODE = methodcaller("encode", "utf-8", "surrogatepass")


def _raw(key: str) -> bytes:
    return _ENCODE(key)


class ItemKeys:
    """The (site, id) of every item, by item index, held as two lists: a million key tuples
    would cost 56 MB, and as containers made with the collector off, a pass over all of them
    when it is turned on again (0.13 s after a first load)."""

    __slots__ = ("sites", "ids")

    def __init__(self, sites: list | None = None, ids: list | None = None):
        self.sites = [] if sites is None else sites
        self.ids = [] if ids is None else ids

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> tuple:
        return self.sites[i], self.ids[i]

    def __iter__(self):
        return zip(self.sites, self.ids)

    def append(self, key: tuple) -> None:
        self.sites.append(key[0])
        self.ids.append(key[1])

    def take(self, idx: list) -> "ItemKeys":
        return ItemKeys(list(map(self.sites.__getitem__, idx)), list(map(self.ids.__getitem__, idx)))

    def item_keys(self) -> list[str]:
        return list(map(item_key, self.sites, self.ids))


class KeyIndex:
    """key (str) -> location (int >= 0). The subset of a dict's interface the store uses."""

    FOLD_AT = 1 << 16  # keys added since the last build before they are folded into the arrays

    def __init__(self, mapping: dict | None = None):
        self._blob = b""
        self._hash = self._start = self._len = self._loc = _EMPTY_I64
        self._recent: dict[str, int] = {}
        self._live = 0  # live entries in the arrays
        if mapping:
            self._build(mapping, mapping.values())

    @classmethod
    def numbered(cls, keys) -> "KeyIndex":
        """keys[i] -> i, for distinct keys (no dict of them built on the way)."""
        index = cls()
        keys = keys if isinstance(keys, list) else list(keys)
        if keys:
            index._build(keys, range(len(keys)))
        return index

    def _build(self, keys, locs) -> None:
        """The arrays from the live entries they hold and keys (new to them) at locs."""
        raws = list(map(_ENCODE, keys))  # _raw of every key at C speed
        locs = np.fromiter(locs, dtype=np.int64, count=len(raws))
        lens = np.fromiter(map(len, raws), dtype=np.int64, count=len(raws))
        hashes = _hashes(raws, lens)
        starts = len(self._blob) + np.concatenate(([0], np.cumsum(lens)[:-1])) if len(raws) else _EMPTY_I64
        live = self._loc >= 0
        order = np.argsort(hashes, kind="stable")
        # Merged into the sorted arrays (a copy of each), not sorted again with them: a fold
        # during a capture then costs milliseconds at a million keys.
        at = np.searchsorted(self._hash[live], hashes[order], side="right")
        self._hash = np.insert(self._hash[live], at, hashes[order])
        self._start = np.insert(self._start[live], at, starts[order])
        self._len = np.insert(self._len[live], at, lens[order])
        self._loc = np.insert(self._loc[live], at, locs[order])
        self._blob = self._blob + b"".join(raws)
        self._live = len(self._loc)

    def _fold(self) -> None:
        if not self._recent:
            return
        recent, self._recent = self._recent, {}
        self._build(recent, recent.values())

    def _scan(self, i: int, raw: bytes, h: int) -> int:
        """From position i (the first entry with hash h), the position of raw's live entry, or -1."""
        hashes, n = self._hash, len(self._hash)
        while i < n and hashes[i] == h:  # nearly always at most one entry: keys rarely share a hash
            s = int(self._start[i])
            if self._loc[i] >= 0 and self._len[i] == len(raw) and self._blob[s: s + len(raw)] == raw:
                return i
            i += 1
        return -1

    def _find(self, key: str) -> int:
        """The position of key's live entry in the arrays, or -1."""
        if not len(self._hash):
            return -1
        raw = _raw(key)
        h = _hash(raw)
        return self._scan(int(np.searchsorted(self._hash, h)), raw, h)

    def get(self, key: str, default=None):
        loc = self._recent.get(key)
        if loc is not None:
            return loc
        i = self._find(key)
        return int(self._loc[i]) if i >= 0 else default

    def get_many(self, keys: list[str]) -> list:
        """get() of many keys (a capture's), with one search of the arrays for all of them."""
        out = list(map(self._recent.get, keys))
        rest = [j for j, v in enumerate(out) if v is None]
        if not rest or not len(self._hash):
            return out
        raws = [_raw(keys[j]) for j in rest]
        hs = np.fromiter(map(_hash, raws), dtype=np.int64, count=len(raws))
        pos = np.searchsorted(self._hash, hs).tolist()
        for j, raw, h, i in zip(rest, raws, hs.tolist(), pos):
            i = self._scan(i, raw, h)
            if i >= 0:
                out[j] = int(self._loc[i])
        return out

    def put_new(self, key: str, loc: int) -> None:
        """index[key] = loc for a key the caller knows is not in the index (no search)."""
        self._recent[key] = loc
        if len(self._recent) >= self.FOLD_AT:
            self._fold()

    def __getitem__(self, key: str) -> int:
        loc = self.get(key)
        if loc is None:
            raise KeyError(key)
        return loc

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __setitem__(self, key: str, loc: int) -> None:
        if key not in self._recent:
            i = self._find(key)
            if i >= 0:
                self._loc[i] = loc
                return
        self.put_new(key, loc)

    def pop(self, key: str, default=None):
        loc = self._recent.pop(key, None)
        if loc is not None:
            return loc
        i = self._find(key)
        if i < 0:
            return default
        loc = int(self._loc[i])
        self._loc[i] = _GONE
        self._live -= 1
        return loc

    def __len__(self) -> int:
        return self._live + len(self._recent)

    def clear(self) -> None:
        self.__init__()

    def items(self):
        """(key, loc) of every key, those in the arrays in the order of their hashes."""
        blob = self._blob.decode("utf-8", "surrogatepass") if self._blob.isascii() else None
        for s, n, loc in zip(self._start.tolist(), self._len.tolist(), self._loc.tolist()):
            if loc >= 0:
                yield (blob[s: s + n] if blob is not None
                       else self._blob[s: s + n].decode("utf-8", "surrogatepass")), loc
        yield from self._recent.items()

    def locs(self) -> np.ndarray:
        """Every key's location, in no particular order."""
        return np.concatenate([self._loc[self._loc >= 0],
                               np.fromiter(self._recent.values(), dtype=np.int64, count=len(self._recent))])

    def add_new(self, mapping: dict) -> None:
        """Keys none of which is in the index yet, with their locations, in one build (a start's
        shards read again: one sort instead of one look-up and fold per key)."""
        self._fold()
        if mapping:
            self._build(mapping, mapping.values())

    def drop_locs(self, gone) -> None:
        """Forget every key whose location is in the array gone."""
        hit = np.isin(self._loc, gone) & (self._loc >= 0)
        self._loc[hit] = _GONE
        self._live -= int(hit.sum())
        gone_set = set(np.asarray(gone).tolist())
        self._recent = {k: v for k, v in self._recent.items() if v not in gone_set}

    def state(self) -> dict[str, np.ndarray]:
        """The arrays to save (see from_state): every key folded in, removed keys' bytes left out
        (also here in memory), so nothing of a removed key is written anywhere."""
        self._fold()
        live = self._loc >= 0
        if not live.all() or len(self._blob) != int(self._len.sum()):
            lens, starts = self._len[live], self._start[live]
            new_start = np.concatenate(([0], np.cumsum(lens)[:-1])) if len(lens) else _EMPTY_I64
            total = int(lens.sum())
            take = np.repeat(starts - new_start, lens) + np.arange(total)
            self._blob = np.frombuffer(self._blob, dtype=np.uint8)[take].tobytes()
            self._hash, self._len, self._loc, self._start = self._hash[live], lens, self._loc[live], new_start
        out = {name: getattr(self, "_" + name) for name in _STATE}
        out["blob"] = np.frombuffer(self._blob, dtype=np.uint8)
        return out

    @classmethod
    def from_state(cls, arrays: dict) -> "KeyIndex":
        """An index from state()'s arrays (copied: the caller's buffer is not kept). ValueError
        when they do not fit together."""
        index = cls()
        cols = [np.array(arrays[name], dtype=np.int64) for name in _STATE]
        blob = bytes(np.asarray(arrays["blob"], dtype=np.uint8))
        n = len(cols[0])
        if any(len(c) != n for c in cols) or (n and (
                (cols[1] < 0).any() or (cols[2] < 0).any() or int((cols[1] + cols[2]).max()) > len(blob)
                or (cols[0][1:] < cols[0][:-1]).any() or (cols[3] < 0).any())):
            raise ValueError("not a key index")
        index._hash, index._start, index._len, index._loc = cols
        index._blob = blob
        index._live = n
        return index

    def to_dict(self) -> dict[str, int]:
        return dict(self.items())

    def nbytes(self) -> int:
        """What the arrays and bytes hold (the recent keys' dict not counted)."""
        return len(self._blob) + sum(a.nbytes for a in (self._hash, self._start, self._len, self._loc))
