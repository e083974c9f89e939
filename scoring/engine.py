"""The Scorer: stored items in, scores with explanations out. See the package docstring for the API
and docs/scoring.md for the model.

Layout. Interactions live in growable numpy columns (columns.Rows), one row per (item,
addressee) plus one audience row per item with reactions. Replacing an item tombstones its rows
and appends new ones. Rows are grouped (structure.py), weighed without standing (weights.py) and
with it (compute.py); each layer is kept from one read to the next and updated by what changed,
so a read after a capture follows that capture's consequences instead of recomputing a million
rows. A new scoring time, new settings or new identity links recompute everything.
"""
from __future__ import annotations

import gc
import itertools
import math
from contextlib import contextmanager
from datetime import datetime, timezone
from operator import itemgetter

import numpy as np

from . import model
from .columns import EMPTY, ROW_COLS, ItemCols, Rows, distinct, reserve, unique_inverse
from .compute import Derived
from .derive import Ids, derive_batch
from .fields import Reader, read_items
from .interactions import AUDIENCE
from .keyindex import ItemKeys, KeyIndex, item_key
from .structure import structure
from .topics import TopicIndex
from .weights import Weights, signature

_GET_SITE, _GET_ID = itemgetter("site"), itemgetter("id")
FULL_PASS_SHARE = 4  # an update touching more than 1/4 of the pairs is done as a full pass


@contextmanager
def _no_gc():
    # a million small dicts make the cyclic GC rescan everything over and over; nothing here
    # creates cycles
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def parse_at(at) -> float:
    """Epoch seconds. Default: the end of the current UTC day. Scores are as of today: within a
    day only captures move them (at once, property 14: anything captured today is already in the
    past), and the ageing of old interactions is applied once a day, which in a 90-day model
    moves nothing visibly sooner, and is the one change that needs every row re-weighed."""
    if at is None:
        now = datetime.now(timezone.utc).timestamp()
        return (math.floor(now / model.DAY) + 1) * model.DAY
    if isinstance(at, str):
        at = datetime.fromisoformat(at.strip().replace("Z", "+00:00"))
    if isinstance(at, datetime):
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        return at.timestamp()
    return float(at)


class ItemsInMemory:
    """Where a Scorer keeps the items it was given when nothing else keeps them (the offline CLI,
    tests): a dict by (site, id). A server passes its store instead (anything with get(key),
    values() and dedupes=False: the store has already written the items it hands over, and
    hands over only what changed)."""

    dedupes = True

    def __init__(self):
        self._by_key: dict[tuple[str, str], dict] = {}
        self._loaded: list | None = None

    def load(self, items: list) -> None:
        """The first load's items (distinct keys), made a dict only when something asks for one:
        an offline scoring never does, and a dict of a million keys is a quarter of a second."""
        self._loaded = list(items)

    def prepare(self) -> None:
        self._dict()

    def _dict(self) -> dict:
        if self._loaded is not None:
            items, self._loaded = self._loaded, None
            self._by_key = dict(zip(zip(map(_GET_SITE, items), map(_GET_ID, items)), items))
        return self._by_key

    def get(self, key):
        return self._dict().get(key)

    def values(self):
        return self._dict().values()

    def put(self, changed: dict) -> None:
        self._dict().update(changed)

    def drop(self, keys) -> None:
        by_key = self._dict()
        for key in keys:
            by_key.pop(key, None)


class NotKept:
    """The source of a scorer loaded by load_stream: the items were not kept."""

    dedupes = False

    def _gone(self, *args):
        raise RuntimeError("this scorer was loaded by load_stream and keeps no items: it cannot take changes")

    get = values = put = drop = _gone


class Scorer:
    def __init__(self, settings: dict | None = None, items=None):
        self._source = items if items is not None else ItemsInMemory()
        self.copies_dropped = 0  # items load_stream was given more than once, less one copy each
        self._item_keys = ItemKeys()
        self._idx: KeyIndex | None = KeyIndex()
        self._item = ItemCols()
        self._item_topics: dict[int, tuple] = {}  # topics of an item's own text and its parent's
        self._own_topics: dict[int, frozenset] = {}  # topics of an item's own text
        self._orphans: dict[tuple[str, str], set] = {}  # parent key -> comments waiting for it
        self._orphan_of: dict[tuple[str, str], tuple[str, str]] = {}  # and back
        self._ids: dict[str, int] = {AUDIENCE: 0}
        self._names: list[str] = [AUDIENCE]
        self._rank = None
        self._authored = np.zeros(1024, dtype=np.int64)
        self._sites: dict[str, int] = {}
        self._odd_keys = False  # whether the Python reading has numbered handles or sites (fields.py)
        self._site_names: list[str] = []
        self._forgotten_ids: set[int] = set()
        self._rows = Rows()
        self._killed: list[np.ndarray] = []  # rows tombstoned since the last computation
        self._struct = None
        self._weights: Weights | None = None
        self._derived: Derived | None = None
        self._at = None
        self._dirty = True
        self._known = None  # every identity's "known" flag, for rankings: kept until a change
        self._groups: dict = {}  # closed_group answers: kept until a change
        self.settings = {}
        self.links = {}
        self.set_settings(settings)

    # ---------------------------------------------------------------- settings

    def set_settings(self, settings: dict | None) -> None:
        settings = dict(settings or {})
        old_links, old_topics = self.links, self.settings.get("topics")
        self.settings = settings
        self.site_weights = {str(k).lower(): float(v) for k, v in (settings.get("site_weights") or {}).items()}
        self.horizon = float(settings.get("horizon_days") or model.HORIZON_DAYS)
        self.links = {str(k).lower(): str(v).lower() for k, v in (settings.get("links") or {}).items()}
        self._intern_many(sorted(set(self.links) | set(self.links.values())))
        if not hasattr(self, "topics") or old_topics != settings.get("topics"):
            self.topics = TopicIndex(settings.get("topics") or {})
            if self._item_keys:  # (a new scorer has nothing to match yet, wherever its items are)
                self._rematch_topics()
            self._struct = None
        if old_links != self.links:
            self._struct = None
        self._dirty = True

    def _rematch_topics(self) -> None:
        """Every item's topics again, for new topic settings (reads every item's text)."""
        own: dict[int, frozenset] = {}
        stored = iter(self._source.values())
        while items := list(itertools.islice(stored, 50_000)):  # a server's million never held at once
            idxs = self._item_idx.get_many([item_key(it["site"], it["id"]) for it in items])
            for it, idx in zip(items, idxs):
                if idx is not None and self._item.author[idx] >= 0:
                    found = self.topics.match(it.get("text"))
                    if found:
                        own[idx] = found
        self._own_topics = own
        parent = self._item.parent
        topics = {}
        for idx in range(self._item.n):
            if self._item.author[idx] < 0:
                continue
            p = int(parent[idx])
            found = own.get(idx, frozenset()) | (own.get(p, frozenset()) if p >= 0 else frozenset())
            if found:
                topics[idx] = tuple(sorted(found))
        self._item_topics = topics

    @property
    def _item_idx(self) -> KeyIndex:
        """item_key(site, id) -> item index. A first load leaves it to be built when first asked
        for: the offline scorer never needs it, a server's prepare() builds it before any capture.
        Not a dict of (site, id) tuples: besides its size, such a dict is untracked by the cyclic
        collector until a capture adds a new tuple key, and from then on every full collection
        walks its million entries (about 0.1 s, in the middle of a capture)."""
        if self._idx is None:
            self._idx = KeyIndex.numbered(self._item_keys.item_keys())
        return self._idx

    def large_dicts(self) -> tuple[dict, ...]:
        """The dicts that grow with the store and that Python's cyclic collector untracks while
        they hold only strings, numbers and tuples of them (one new tuple tracks them again):
        for a caller that keeps what the scorer holds out of the collector's way."""
        return self._item_topics, self._orphan_of

    # ---------------------------------------------------------------- interning

    def _intern_many(self, names: list) -> list[int]:
        """Ids of names, the new ones numbered in the order of their first appearance."""
        ids, nm = self._ids, self._names
        start, before = len(nm), len(ids)
        new = [k for k in names if k not in ids]
        if new:
            ids.update(zip(new, range(start, start + len(new))))
            # distinct (site, handle) pairs can spell one name: a site may have a port and a
            # handle a ':' ("h.example:8080" + "bob", "h.example" + "8080:bob"); the dict's size
            # tells, without a pass over a first load's million names
            if len(ids) - before < len(new):
                new = list(dict.fromkeys(new))
                ids.update(zip(new, range(start, start + len(new))))
            nm.extend(new)
        # all new (a first load): their ids are the next numbers, with no look-up
        out = list(range(start, start + len(new))) if len(new) == len(names) else list(map(ids.__getitem__, names))
        if len(nm) > len(self._authored):
            grown = np.zeros(max(len(nm), 2 * len(self._authored)), dtype=np.int64)
            grown[: len(self._authored)] = self._authored
            self._authored = grown
        return out

    def _intern_codes(self, codes: np.ndarray, name_of: dict) -> np.ndarray:
        """Ids of names numbered by first appearance (fields.Reader): only the distinct names
        meet the scorer's table, new ones in order of first appearance, so ids never depend on
        hashing or on how a batch was read."""
        if not len(codes):
            return np.zeros(0, dtype=np.int64)
        uniq, inv = unique_inverse(codes)
        gid = np.asarray(self._intern_many(list(map(name_of.__getitem__, uniq.tolist()))), dtype=np.int64)
        return gid[inv]

    def _intern_handles(self, site_ids: np.ndarray, codes: np.ndarray, handle_of: dict) -> np.ndarray:
        """Ids of `site:handle` for many items without building a string per item: handles are
        numbered by first appearance (fields.Reader), (handle, site) pairs made dense by numpy,
        and only the distinct pairs become names (new ones in order of first appearance)."""
        if not len(codes):
            return np.zeros(0, dtype=np.int64)
        nsite = max(len(self._site_names), 1)
        uniq, inv = unique_inverse(codes * nsite + site_ids)
        prefix = [site + ":" for site in self._site_names]
        names = list(map(str.__add__, map(prefix.__getitem__, (uniq % nsite).tolist()),
                         map(handle_of.__getitem__, (uniq // nsite).tolist())))
        return np.asarray(self._intern_many(names), dtype=np.int64)[inv]

    def _site_array(self, sites: list) -> np.ndarray:
        try:  # a handful of sites, nearly always known already: one pass
            return np.fromiter(map(self._sites.__getitem__, sites), dtype=np.int32, count=len(sites))
        except KeyError:
            self._site_many(dict.fromkeys(sites))
            return np.fromiter(map(self._sites.__getitem__, sites), dtype=np.int32, count=len(sites))

    def _name_rank(self) -> np.ndarray:
        """Each identity's position in name order (ties in a ranking go by name), kept until new
        names arrive."""
        nm = self._names
        if self._rank is None or len(self._rank) != len(nm):
            rank = np.empty(len(nm), dtype=np.int64)
            rank[np.fromiter(sorted(range(len(nm)), key=nm.__getitem__), np.int64, len(nm))] = np.arange(len(nm))
            self._rank = rank
        return self._rank

    def _site_many(self, sites) -> list[int]:
        out = []
        for site in sites:
            i = self._sites.get(site)
            if i is None:
                i = self._sites[site] = len(self._site_names)
                self._site_names.append(site)
            out.append(i)
        return out

    # ---------------------------------------------------------------- updates

    def _children_of(self, idxs) -> list[tuple[str, str]]:
        """Keys of the stored items whose parent is one of the item indexes idxs."""
        n = self._item.n
        if not len(idxs) or not n:
            return []
        kids = np.nonzero(np.isin(self._item.parent[:n], np.asarray(list(idxs), dtype=np.int64))
                          & (self._item.author[:n] >= 0))[0]
        return [self._item_keys[i] for i in kids.tolist()]

    def _shapes_children(self, idx: int, key, item: dict) -> bool:
        """Whether a changed item changes what its children derive: the author they address, the
        kind (comment on a post, reply to a comment) and the topics their text inherits."""
        if self._item.author[idx] < 0:
            return False
        author = self._ids.get(f"{key[0]}:{item['author']['handle']}")
        return (author != int(self._item.author[idx]) or int(self._item.kind[idx]) != (item["kind"] == "comment")
                or self.topics.match(item.get("text")) != self._own_topics.get(idx, frozenset()))

    def add(self, items) -> set[str]:
        if isinstance(self._source, NotKept):
            self._source._gone()
        with _no_gc():
            return self._add(items)

    def _add(self, items) -> set[str]:
        if not self._item_keys:
            return self._load(items)
        src = self._source
        changed: dict[tuple[str, str], dict] = {}
        for item in items:
            key = (item["site"], item["id"])
            if src.dedupes and changed.get(key, src.get(key)) == item:
                continue
            changed[key] = item
        if not changed:
            return set()
        touched: set[int] = set()
        redo = list(changed)
        seen = set(changed)
        idxs = self._item_idx.get_many([item_key(site, id_) for site, id_ in changed])
        for (key, item), idx in zip(changed.items(), idxs):
            kids = set(self._orphans.pop(key, ()))  # comments that arrived before this item
            if idx is not None and self._shapes_children(idx, key, item):
                kids.update(self._children_of([idx]))
            for child in sorted(kids):
                if child not in seen:
                    seen.add(child)
                    redo.append(child)
        if src.dedupes:
            src.put(changed)
        its = [changed.get(k) or src.get(k) for k in redo]
        self._rederive(redo, its, touched)
        return self._touched_names(touched)

    def _load(self, items) -> set[str]:
        """The first add: every item is new, so none is compared with a stored one."""
        items = items if isinstance(items, list) else list(items)
        if not items:
            return set()
        reader = Reader(self)
        reader.read(items)
        f = reader.fields()
        found = Ids(f.sites, f.ids, f.site_ids)
        if found.repeated():
            # an item given more than once: one copy counts, chosen by what it holds
            take = f.chosen_copies()
            items = list(map(items.__getitem__, take))
            f = f.take(take)
            found = Ids(f.sites, f.ids, f.site_ids)
        if self._source.dedupes:
            self._source.load(items)
        del items
        return self._load_fields(f, found)

    def load_stream(self, batches) -> set[str]:
        """A first load from an iterable of item batches (lists of stored-form items), each
        batch's dicts free to go once read: what `add` of all of them at once would give, without
        holding them. A scorer given a store (`items=`) goes on taking changes, the store holding
        the items; one that keeps its own does not keep these, so it can score and explain but
        not take changes (add, remove_identity or new topics raise): the offline scorer's load."""
        if self._item_keys:
            raise RuntimeError("load_stream is a first load: this scorer already holds items")
        with _no_gc():
            reader = Reader(self)
            for batch in batches:
                reader.read(batch)
            f = reader.fields()
            if not len(f):
                return set()
            if self._source.dedupes:
                self._source = NotKept()
            found = Ids(f.sites, f.ids, f.site_ids)
            if found.repeated():
                take = f.chosen_copies()
                self.copies_dropped = len(f) - len(take)
                f = f.take(take)
                found = Ids(f.sites, f.ids, f.site_ids)
            return self._load_fields(f, found)

    def _load_fields(self, f, found: Ids) -> set[str]:
        touched: set[int] = set()
        self._rederive(ItemKeys(f.sites, f.ids), None, touched, found, f)
        return self._touched_names(touched)

    def _touched_names(self, touched: set[int]) -> set[str]:
        touched.discard(0)
        return set(map(self._names.__getitem__, touched))

    def _rederive(self, keys, its, touched, found: Ids | None = None, fields=None) -> None:
        """Derive the items `its` (None: no longer stored) under `keys` again; `found` and
        `fields`: their Ids and Fields when the caller has them (a first load, whose items are
        all stored: then `its` is not needed)."""
        if not keys:
            return
        first_load = not self._item_keys
        if first_load:
            # first load: every key is new, and the item index waits until it is asked for
            self._item_keys = keys
            self._idx = None
            self._item.grow(len(keys))
            idx_arr = np.arange(len(keys), dtype=np.int64)
        else:
            item_idx = self._item_idx
            idxs = []
            for key, idx in zip(keys, item_idx.get_many([item_key(site, id_) for site, id_ in keys])):
                if idx is None:
                    idx = len(self._item_keys)
                    item_idx.put_new(item_key(*key), idx)
                    self._item_keys.append(key)
                    self._item.grow(1)
                else:
                    self._kill(idx, touched)
                idxs.append(idx)
                waiting_for = self._orphan_of.pop(key, None)
                if waiting_for is not None:
                    self._orphans.get(waiting_for, set()).discard(key)
            if any(it is None for it in its):
                live = [(k, i, it) for k, i, it in zip(keys, idxs, its) if it is not None]
                keys = [k for k, _, _ in live]
                idxs = [i for _, i, _ in live]
                its = [it for _, _, it in live]
            if not keys:
                self._dirty = True
                return
            idx_arr = np.asarray(idxs, dtype=np.int64)
        f = fields if fields is not None else read_items(self, its)
        if self._forgotten_ids:
            # someone forgotten who is captured again counts again, from this batch on: their
            # items' rows, and the rows of this batch's comments that answer them
            back = {self._ids.get(f"{k[0]}:{f.handle(j)}") for j, k in enumerate(keys)}
            self._forgotten_ids.difference_update(back)
        if found is None:
            found = Ids(f.sites, f.ids, f.site_ids)
        b = derive_batch(self, found, idx_arr, f, alone=first_load)
        for j in b.orphans:
            key = keys[j]
            parent = (key[0], f.parents[j])
            self._orphans.setdefault(parent, set()).add(key)
            self._orphan_of[key] = parent
        start = self._rows.append(b.cols)
        per_author = np.bincount(b.authors)
        self._authored[: len(per_author)] += per_author
        offsets = start + np.concatenate(([0], np.cumsum(b.counts)[:-1]))
        self._item.start[idx_arr] = offsets
        self._item.count[idx_arr] = b.counts
        self._item.author[idx_arr] = b.authors
        self._item.kind[idx_arr] = b.comment
        self._item.parent[idx_arr] = b.parent
        if first_load:  # batch positions are item indexes, and no item's topics are held yet
            self._item_topics, self._own_topics = b.topics, b.own
        else:
            for j, found in zip(idx_arr[list(b.topics)].tolist(), b.topics.values()):
                self._item_topics[j] = found
            for j, found in zip(idx_arr[list(b.own)].tolist(), b.own.values()):
                self._own_topics[j] = found
        if len(keys) < 10_000:
            touched.update(b.authors.tolist())
            touched.update(b.cols["target"].tolist())
        else:
            touched.update(distinct(b.authors).tolist())
            touched.update(distinct(b.cols["target"]).tolist())
        self._dirty = True

    def _kill(self, idx: int, touched) -> None:
        a = int(self._item.author[idx])
        if a >= 0:
            self._authored[a] -= 1
            touched.add(a)
            self._item.author[idx] = -1
        self._item_topics.pop(idx, None)
        self._own_topics.pop(idx, None)
        cnt = int(self._item.count[idx])
        if cnt:
            s = int(self._item.start[idx])
            self._rows.valid[s: s + cnt] = False
            self._killed.append(np.arange(s, s + cnt))
            touched.update(self._rows.target[s: s + cnt].tolist())
            self._item.count[idx] = 0
        self._dirty = True

    def remove_identity(self, identity: str) -> set[str]:
        if isinstance(self._source, NotKept):
            self._source._gone()
        with _no_gc():
            identity = identity.lower()
            touched: set[int] = set()
            tid = self._ids.get(identity)
            mine = []
            if tid is not None and self._item.n:
                mine = np.nonzero(self._item.author[: self._item.n] == tid)[0].tolist()
            keys = [self._item_keys[i] for i in mine]
            kids = [k for k in self._children_of(mine) if k not in set(keys)]  # their parent is gone
            if self._source.dedupes:
                self._source.drop(keys)
            if tid is not None:
                self._forgotten_ids.add(tid)
            redo = keys + kids
            self._rederive(redo, [None] * len(keys) + [self._source.get(k) for k in kids], touched)
            if tid is not None:
                n = self._rows.n
                R = self._rows
                hit = np.nonzero(R.valid[:n] & ((R.target[:n] == tid) | (R.actor[:n] == tid)))[0]
                if len(hit):
                    touched.update(R.actor[hit].tolist())
                    R.valid[hit] = False
                    self._killed.append(hit)
                touched.add(tid)
            self._dirty = True
            touched.discard(0)
            return {self._names[i] for i in touched}

    def dead_share(self) -> float:
        """The share of rows that are tombstones (replaced or removed items)."""
        n = self._rows.n
        return float(n - np.count_nonzero(self._rows.valid[:n])) / n if n else 0.0

    def compact(self) -> None:
        """Drop tombstoned rows and gone items: memory, and nothing of a forgotten person left
        behind. Everything is recomputed on the next read (seconds at a million rows)."""
        R, it = self._rows, self._item
        n, m = R.n, it.n
        live_row = R.valid[:n].copy()
        live_item = it.author[:m] >= 0
        new_item = np.cumsum(live_item) - 1  # old item index -> new
        rows = Rows(max(1024, int(live_row.sum())))
        cols = {name: getattr(R, name)[:n][live_row] for name, _ in ROW_COLS}
        cols["item"] = new_item[cols["item"]].astype(np.int32)
        rows.append(cols)
        items = ItemCols()
        k = int(live_item.sum())
        items.grow(k)
        old_idx = np.nonzero(live_item)[0]
        first = it.start[old_idx]
        cnt = it.count[old_idx].astype(np.int64)
        # an item's rows are contiguous; some of them may be dead (mentions of the forgotten)
        valid_before = np.concatenate(([0], np.cumsum(live_row)))
        items.count[:k] = valid_before[np.minimum(first + cnt, n)] - valid_before[np.minimum(first, n)]
        items.start[:k] = np.where(cnt > 0, valid_before[np.minimum(first, n)], 0)
        items.author[:k] = it.author[old_idx]
        items.kind[:k] = it.kind[old_idx]
        par = it.parent[old_idx].astype(np.int64)
        items.parent[:k] = np.where(par >= 0, np.where(live_item[np.maximum(par, 0)], new_item[np.maximum(par, 0)], -1), -1)
        self._rows, self._item, self._item_keys = rows, items, self._item_keys.take(old_idx.tolist())
        self._idx = None  # built again when next asked for (prepare() does)
        self._item_topics = {int(new_item[i]): t for i, t in self._item_topics.items() if live_item[i]}
        self._own_topics = {int(new_item[i]): t for i, t in self._own_topics.items() if live_item[i]}
        self._killed = []
        self._struct = self._weights = self._derived = None
        self._dirty = True

    # ---------------------------------------------------------------- compute

    def _canon(self) -> np.ndarray:
        canon = np.arange(len(self._names), dtype=np.int64)
        for alias, target in sorted(self.links.items()):
            seen = {alias}
            while target in self.links and target not in seen:
                seen.add(target)
                target = self.links[target]
            canon[self._ids[alias]] = self._ids[target]
        return canon

    def _compute(self, at: float) -> Derived:
        """Everything as of `at`, brought up to date with what changed since the last read."""
        if not self._dirty and self._at == at:
            return self._derived
        with _no_gc():
            g = self._struct = structure(self, self._struct)
            killed = np.concatenate(self._killed) if self._killed else EMPTY
            self._killed = []
            sig = signature(self, at)
            W, D = self._weights, self._derived
            if W is None or W.sig != sig or W.struct is not g or W.n > g.n:
                W = Weights(self, g, at, sig)
                W.struct = g
                D = Derived(self, g, W, warm=D)
            else:
                W.update(self, g, at, killed)
                if len(W.pairs) * FULL_PASS_SHARE > len(g.pairs):
                    D = Derived(self, g, W, warm=D)
                else:
                    D.update(g, W)
            self._weights, self._derived, self._at = W, D, at
            self._dirty = False
            self._known = None
            self._groups = {}
        return D

    def prepare(self, at=None) -> None:
        """Compute everything and build the indexes an update after a capture uses (a second or
        two at a million rows), so that the first capture does not pay for them."""
        self._compute(parse_at(at))
        self._item_idx  # a first load left it unbuilt: a capture looks its parent up there
        if isinstance(self._source, ItemsInMemory):
            self._source.prepare()  # and the items by key, which a capture is compared with
        g = self._struct
        for what in ("rows_by_actor_day", "rows_by_pair", "rows_by_day", "rows_by_target", "rows_by_actor",
                     "pairs_by_actor", "pairs_by_target", "days_by_target", "topic_entries_by_target"):
            g.index(what)
        reserve(g, skip=("canon", "csr_order", "csr_indices", "csr_indptr"))
        reserve(self._weights)
        reserve(self._derived)
        if self._rows.cap - self._rows.n < self._rows.n // 16:
            self._rows.reserve()

    def _known_all(self) -> np.ndarray:
        """Identities with anything stored: authored an item, or took part in a counted row."""
        if self._known is None:
            g, W = self._struct, self._weights
            nid = g.nid
            known = np.zeros(nid, dtype=bool)
            known[g.canon[np.nonzero(self._authored[:nid] > 0)[0]]] = True
            known[g.ct[W.keep]] = True
            known[g.ca[W.keep & W.person]] = True
            known[0] = False
            self._known = known
        return self._known

    def _known_some(self, ids: np.ndarray) -> np.ndarray:
        """The known flags of a few sorted distinct canonical ids, without a pass over all rows."""
        if self._known is not None:
            return self._known[ids]
        g, W = self._struct, self._weights
        aliases = np.nonzero(np.isin(g.canon, ids))[0] if self.links else ids
        authors = aliases[self._authored[aliases] > 0]
        known = np.isin(ids, g.canon[authors])  # nearly everyone asked about: no rows to look at
        rest = ids[~known]
        if len(rest):
            rows = g.members("rows_by_target", rest)
            found = g.ct[rows[W.keep[rows]]]
            rows = g.members("rows_by_actor", rest)
            found = np.concatenate([found, g.ca[rows[W.keep[rows] & W.person[rows]]]])
            known[~known] = np.isin(rest, found)
        return known & (ids != 0)

    def _order(self) -> np.ndarray:
        D = self._derived
        known = self._known_all()
        ids = np.nonzero(known & (self._struct.canon == np.arange(len(known))))[0]
        rank = self._name_rank()
        # by score, then name, as one key: ranks are distinct, so an unstable sort is exact
        return ids[np.argsort(rank[ids] - D.score[ids] * len(rank))]

    def scores(self, at=None) -> dict[str, int]:
        """Every known identity's score, without the explanations (what the benchmark times)."""
        D = self._compute(parse_at(at))
        order = self._order()
        return dict(zip(_picked(self._names, order.tolist()), D.score[order].tolist()))

    # ---------------------------------------------------------------- reads

    def _resolve(self, identity):
        i = self._ids.get(identity.lower()) if isinstance(identity, str) else None
        if i is None or i == 0:
            return None
        return i

    def result(self, identity: str, at=None) -> dict | None:
        return self.results([identity], at=at).get(identity)

    def results(self, identities, at=None, people: int | None = None) -> dict[str, dict]:
        self._compute(parse_at(at))
        canon = self._struct.canon
        asked = {}
        for ident in identities:
            i = self._resolve(ident)
            if i is not None and i < len(canon):
                asked[ident] = int(canon[i])
        if not asked:
            return {}
        ids = distinct(np.fromiter(asked.values(), dtype=np.int64, count=len(asked)))
        known = self._known_some(ids)
        shown = self._explain(ids[known], people)
        return {ident: shown[c] for ident, c in asked.items() if c in shown}

    def ranking(self, at=None, limit=None) -> list[dict]:
        self._compute(parse_at(at))
        order = self._order()
        if limit is not None:
            order = order[: max(0, int(limit))]
        shown = self._explain(np.sort(order))
        return [shown[i] for i in order.tolist()]

    def ranking_blocks(self, at=None, block: int = 10_000):
        """ranking() a block of results at a time (each block explained when it is asked for)."""
        order = self.ranking_order(at)
        for i in range(0, len(order), block):
            yield self.explain_ranked(order[i: i + block])

    def ranking_order(self, at=None) -> np.ndarray:
        """The ids of ranking(), in its order (explain_ranked turns any part of it into results)."""
        self._compute(parse_at(at))
        return self._order()

    def explain_ranked(self, ids: np.ndarray) -> list[dict]:
        """Results of distinct ids from ranking_order(), in their order."""
        shown = self._explain(np.sort(ids))
        return [shown[j] for j in ids.tolist()]

    def _explain(self, ids: np.ndarray, people: int | None = None) -> dict[int, dict]:
        """Results of sorted distinct canonical ids. people=N keeps only the top N of by_person
        and leaves by_item out (what a badge shows, cheap for someone engaged by thousands)."""
        if not len(ids):
            return {}
        with _no_gc():  # a ranking builds millions of small dicts (a third of its time in the GC)
            return self._explain_ids(ids, people)

    def _explain_ids(self, ids: np.ndarray, people: int | None) -> dict[int, dict]:
        g, W, D = self._struct, self._weights, self._derived
        rows, pos = g.members_of_each("rows_by_target", ids)
        q, qpos = g.members_of_each("pairs_by_target", ids)
        facts = D.facts(g, W, ids, rows, pos, q, qpos)
        topics = D.topics(g, W, ids)
        names = self._names
        topic_names = self.topics.names
        counts = D.contrib[rows] > 0
        rows, pos = rows[counts], pos[counts]
        raw = D.raw[ids]
        scale = np.divide(D.points[ids], raw, out=np.zeros(len(ids)), where=raw > 0)
        eff = D.eff[ids]
        # the reach ceiling (reach.py) held these, and kept the reach that held each one: it is
        # shown beside them
        reach = np.where(eff < raw, D.reach_lb[ids], 0.0)
        share = D.contrib[rows] * scale[pos]
        # by person from the pairs' sums (one pair per person and target): a hub's pairs are
        # several times fewer than its rows
        counts = D.pc[q] > 0
        q, qpos = q[counts], qpos[counts]
        R = self._rows
        parts = {"by_person": _sums(qpos, g.p_actor[q], D.pc[q] * scale[qpos], names.__getitem__, people),
                 "by_kind": _sums(pos, R.kind[rows], share, model.KIND_NAMES.__getitem__),
                 "by_site": _sums(pos, R.site[rows], share, self._site_names.__getitem__)}
        if people is None:
            keys = self._item_keys
            parts["by_item"] = _sums(pos, R.item[rows], share, lambda i: "%s:%s" % keys[i])
        parts = list(parts.items())
        out = {}
        # every number taken out of numpy as a list at once (a numpy scalar costs as much as a dict)
        for k, (i, r, whole, near, score, pts, trend, ncount, nweight, inter, ppl, standing, raw_p) in enumerate(zip(
                ids.tolist(), *(np.asarray(x, dtype=dt).tolist() for x, dt in (
                    (eff, float), (raw, float), (reach, float), (D.score[ids], int), (D.points[ids], float), (facts["trend"], float),
                    (facts["neg_count"], int), (facts["neg_weight"], float), (facts["n_inter"], int),
                    (facts["n_people"], int), (D.standing_shown(ids), float), (D.raw_p[ids], float))))):
            mine = topics.get(i)
            out[i] = {
                "identity": names[i],
                "score": score,
                "raw": round(r, 9),
                "points": round(pts, 4),
                "trend": round(trend, 2),
                "negative": {"count": ncount, "weight": round(nweight, 4)},
                "breakdown": {name: part.get(k, {}) for name, part in parts},
                "topics": {topic_names[t]: sc for t, sc in sorted(mine.items(), key=lambda kv: topic_names[kv[0]])}
                if mine else {},
                "interactions": inter,
                "people": ppl,
                "standing": round(standing, 4),
                # raw and raw_p are sums of differently snapped parts (rows, pairs): they can differ
                # by a few grid units per row with no day capped
                "view": "reach" if r < whole else "days" if r < raw_p - 1e-6 * max(1.0, raw_p) else "people",
                # people within reach, whole unless some engagement has aged
                "reach": (int(near) if near == int(near) else round(near, 2)) if r < whole else None,
            }
        return out

    def engager_weights(self, identity: str, at=None) -> dict[str, float]:
        """For each person who engages `identity`: how many times one plain reply of theirs counts
        here beside one from someone nobody engages (model.reply_weight), from the standing they
        lend this person (docs/scoring.md, section 3: this person's own echo and this person as
        their engager left out). The audience is left out: reactions carry no standing."""
        D = self._compute(parse_at(at))
        i = self._resolve(identity)
        g = self._struct
        if i is None or i >= len(g.canon):
            return {}
        q = g.members("pairs_by_target", np.asarray([g.canon[i]]))
        q = q[D.person[q]]
        # the standing each pair lends, back from its weight (the ceiling saturates below the cap)
        weight = model.reply_weight(D.aw[q] ** (1.0 / model.STANDING_GAMMA))
        names = self._names
        return {names[a]: round(w, 4) for a, w in zip(g.p_actor[q].tolist(), weight.tolist())}

    def closed_group(self, identity: str, at=None, most: int = 50, per_account: int = 5) -> dict | None:
        """Everyone whose engagement reaches `identity` (who engages them, who engages those, and
        so on), when that is a closed group that lends itself standing: at most `most` accounts
        and at least 3, none of them engaged by anyone outside it, none engaging anyone outside it
        but `identity`, some engaged by two or more of the others, and busy: `per_account`
        interactions each on average. Such a group's standing comes from nobody but itself
        (docs/scoring.md, property 9: a skip-cycle or a two-level star still lifts its hub), which
        is worth showing: {"accounts": {name: interactions they sent within the group},
        "interactions": all of them}. None otherwise: a blog's readers whom nobody engages are no
        such group, nor is anyone the wider graph reaches, nor one captured thread (its readers
        engage its author, who answers `identity`: the shape of a two-level star, at a comment
        or two each, where the rings of property 9 send a hundred)."""
        D = self._compute(parse_at(at))
        i = self._resolve(identity)
        g = self._struct
        if i is None or i >= len(g.canon):
            return None
        t = int(g.canon[i])
        # a badge asks again on every view of a page: kept until the scores change
        key = (t, most, per_account)
        if key not in self._groups:
            self._groups[key] = self._closed_group(D, g, t, most, per_account)
        return self._groups[key]

    def closed_groups(self, results) -> dict[str, dict | None]:
        """closed_group of each result (results()' values) that anyone engaged, by identity."""
        return {r["identity"]: self.closed_group(r["identity"]) for r in results if r and r["interactions"]}

    def _closed_group(self, D, g, t: int, most: int, per_account: int) -> dict | None:
        members: set[int] = set()
        frontier = np.asarray([t])
        while len(frontier):
            q = g.members("pairs_by_target", frontier)
            new = set(g.p_actor[q[D.engaged[q]]].tolist()) - members - {t}
            if len(members) + len(new) > most:
                return None
            members |= new
            frontier = np.asarray(sorted(new), dtype=np.int64)
        if len(members) < 3:
            return None
        ids = np.asarray(sorted(members), dtype=np.int64)
        out = g.members("pairs_by_actor", ids)
        out = out[D.engaged[out]]
        inside = np.isin(g.p_target[out], ids)
        if not np.all(inside | (g.p_target[out] == t)):
            return None
        among = out[inside]
        if not len(among) or np.bincount(g.p_target[among]).max() < 2:
            return None
        rows = g.members("rows_by_pair", out)
        rows = rows[self._weights.keep[rows]]
        sent = np.bincount(g.ca[rows], minlength=int(ids.max()) + 1)[ids]
        if sent.sum() < per_account * len(ids):
            return None
        names = self._names
        return {"accounts": {names[a]: int(n) for a, n in zip(ids.tolist(), sent.tolist())},
                "interactions": int(sent.sum())}

    def later_copies(self, identity: str, at=None) -> list[tuple[str, str]]:
        """The (site, id) of the items addressed to `identity` that count nothing as later copies
        (another account sent it the same words first, within a week: docs/scoring.md, section 6), for a view that
        shows a spam run whole."""
        self._compute(parse_at(at))
        i = self._resolve(identity)
        g, W = self._struct, self._weights
        if i is None or i >= len(g.canon):
            return []
        rows = g.members("rows_by_target", np.asarray([g.canon[i]]))
        items = distinct(self._rows.item[rows[W.later[rows]]].astype(np.int64))
        return [self._item_keys[j] for j in items.tolist()]

    def item_contributions(self, site: str, item_id: str, at=None) -> dict:
        D = self._compute(parse_at(at))
        W = self._weights
        g = self._struct
        key = (site.lower(), item_id)
        idx = self._item_idx.get(item_key(*key))
        rows = []
        if idx is not None and self._item.count[idx]:
            s = int(self._item.start[idx])
            rows = list(range(s, s + int(self._item.count[idx])))
        names = self._names
        R = self._rows
        out = {"item": f"{key[0]}:{key[1]}", "to": {}, "rows": []}
        for r in rows:
            t = int(g.ct[r])
            kind = model.KIND_NAMES[int(R.kind[r])]
            p = 0.0
            raw = float(D.raw[t])
            if raw > 0:
                p = float(D.contrib[r]) * float(D.points[t]) / raw
            if W.hostile[r] and W.w0[r] > 0:
                why = "hostile: shown apart, adds nothing"
            elif W.later[r]:
                why = "not counted: another account sent this person the same words first, within a week"
            elif W.w0[r] <= 0:  # w0 is 0 past the scores' age limit, though standing may keep the row
                why = "not counted: outside the horizon, self, forgotten or on a site weighted 0"
            elif p > 0:
                why = "counted"
            else:
                why = "counted for nothing (capped)"
            out["rows"].append({"to": names[t], "kind": kind, "points": round(p, 4), "counted": p > 0, "why": why})
            if p > 0:
                out["to"][names[t]] = round(out["to"].get(names[t], 0.0) + p, 4)
        out["total"] = round(sum(x["points"] for x in out["rows"]), 4)
        return out


def _picked(seq: list, idx: list):
    """seq[i] for i in idx: itemgetter takes them in one call, a third faster than a map."""
    return itemgetter(*idx)(seq) if len(idx) > 1 else [seq[i] for i in idx]


def _apportioned(total: np.ndarray, gp: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each result's entries rounded to 4 decimals so that they still add up to its sum rounded
    (largest remainders): rounded one by one, 60,000 items of 0.00133 points showed 0.0013 each
    and summed to 78.00 of 79.56 points. Entries are in decreasing order within each result
    (gp: its result, starts: where each result begins), and stay so."""
    units = total * 1e4
    fl = np.floor(units)
    sizes = np.diff(np.append(starts, len(gp)))
    need = np.clip(np.rint(np.add.reduceat(units, starts)) - np.add.reduceat(fl, starts), 0, sizes)
    by_rem = np.lexsort((np.arange(len(gp)), fl - units, gp))
    rank = np.empty(len(gp), dtype=np.int64)
    rank[by_rem] = np.arange(len(gp)) - np.repeat(starts, sizes)
    return (fl + (rank < np.repeat(need, sizes))) / 1e4


def _sums(pos: np.ndarray, key: np.ndarray, share: np.ndarray, name, top: int | None = None) -> dict[int, dict]:
    """For each result position: {name(key): summed share}, largest first (ties by name), rounded
    to 4 decimals so that they add up (_apportioned); top=N keeps the N largest, each rounded.
    Ordered by numpy; only the names of entries with equal sums are compared in Python (a
    ranking's explanations hold millions of entries)."""
    if not len(pos) or top == 0:
        # (top=0: the tie rule below would read the entry before each result's first)
        return {}
    k = np.asarray(key, dtype=np.int64)
    span = int(k.max()) + 1
    code = pos.astype(np.int64) * span + k
    if (int(pos.max()) + 1) * span <= 4 * len(code) + 4096:  # few kinds or sites: a dense count
        total = np.bincount(code, weights=share)
        groups = np.nonzero(np.bincount(code))[0]
        total = total[groups]
    else:
        groups, inv = np.unique(code, return_inverse=True)
        total = np.bincount(inv, weights=share, minlength=len(groups))
    gp = groups // span
    order = np.lexsort((-total, gp))
    gp, total, keys = gp[order], total[order], (groups % span)[order]
    starts = np.flatnonzero(np.concatenate(([True], gp[1:] != gp[:-1])))
    if top is not None and len(gp) > top:
        # only the top entries of each result, ties at the last place kept so that names decide
        # them exactly as a full listing would
        sizes = np.diff(np.append(starts, len(gp)))
        rank = np.arange(len(gp)) - np.repeat(starts, sizes)
        last = np.repeat(np.where(sizes >= top, total[np.minimum(starts + top - 1, len(gp) - 1)], -np.inf), sizes)
        keep = (rank < top) | (total == last)
        gp, total, keys = gp[keep], total[keep], keys[keep]
        starts = np.flatnonzero(np.concatenate(([True], gp[1:] != gp[:-1])))
    names = list(map(name, keys.tolist()))
    same = (gp[1:] == gp[:-1]) & (total[1:] == total[:-1])
    if same.any():
        # runs of equal sums in one result: their order is their names'
        at = np.flatnonzero(same)
        run_start = at[np.concatenate(([True], at[1:] != at[:-1] + 1))]
        run_end = at[np.concatenate((at[1:] != at[:-1] + 1, [True]))] + 2
        for lo, hi in zip(run_start.tolist(), run_end.tolist()):
            names[lo:hi] = sorted(names[lo:hi])
    values = (_apportioned(total, gp, starts) if top is None else total).tolist()
    values = list(map(round, values, itertools.repeat(4)))
    bounds = np.append(starts, len(gp)).tolist()
    out: dict[int, dict] = {}
    for p, lo, hi in zip(gp[starts].tolist(), bounds[:-1], bounds[1:]):
        if top is not None:
            hi = min(hi, lo + top)
        out[p] = dict(zip(names[lo:hi], values[lo:hi]))
    return out
