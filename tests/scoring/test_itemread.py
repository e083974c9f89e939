"""The compiled reader (scoring/_itemread.c) gives exactly what the Python reading gives: the same
columns, the same numbering of handles, mentions and sites, the same error for an item the
Python reading refuses, on stored-form batches and on hostile ones alike."""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import Scorer
from scoring import fields

from synth import NOW, World, ago, community, need_compiled

@pytest.fixture(autouse=True, params=["one core", "two cores"])
def _compiled(request, monkeypatch):
    """Every test twice: batches read on one core, and split from 2 items on (the second core's
    share read without the Python API, stopping at the first item that needs it)."""
    need_compiled(fields._itemread, "scoring._itemread")
    if request.param == "two cores":
        monkeypatch.setattr(fields, "SPLIT_MIN", 2)

_COLUMNS = (np.int32, bool, np.int64, np.float64, bool, np.int64, np.float64, bool, np.float64, np.uint64,
            np.float64)  # read()'s
_ARRAYS = ("site_ids", "comment", "has_parent", "t", "comp", "units", "crowds", "tcode", "m_count", "hcode", "m_code",
           "fp")


def _read(batches: list, compiled: bool, topics=None):
    """(Fields or the exception's type and text, the reader's and the scorer's numbering)."""
    saved = fields._itemread
    fields._itemread = saved if compiled else None
    try:
        scorer = Scorer(settings={"topics": topics} if topics else None)
        reader = fields.Reader(scorer)
        try:
            for b in batches:
                reader.read(b)
            got = reader.fields()
        except Exception as e:  # noqa: BLE001 - the error itself is what is compared
            got = (type(e), str(e))
        return got, dict(reader.handle_first), dict(reader.mention_first), list(scorer._site_names)
    finally:
        fields._itemread = saved


def _same(a, b) -> None:
    fa, *na = a
    fb, *nb = b
    assert na[-1] == nb[-1]  # the scorer's sites, added to even when a batch is refused
    if isinstance(fa, tuple) or isinstance(fb, tuple):
        assert fa == fb
        return
    assert na == nb
    for name in ("sites", "ids", "parents", "handle_of", "mention_of", "tsets"):
        assert getattr(fa, name) == getattr(fb, name), name
    for name in _ARRAYS:
        x, y = getattr(fa, name), getattr(fb, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)  # NaN equals NaN here, bit for bit otherwise


def _item(i: int, **over) -> dict:
    it = {"site": "blog.example", "id": f"c{i}", "kind": "comment", "parent": "p0",
          "author": {"handle": f"u{i % 5}", "name": "U", "url": None}, "at": "2026-11-20T10:00:00Z",
          "text": "Great post, thanks!", "url": None, "reactions": {"like": 2}, "mentions": []}
    it.update(over)
    return it


def _world() -> list[dict]:
    """A community on two sites, with mentions, reactions, hashtags, an undated post and
    sentiments stored as a server stores them for some of the items."""
    w = World()
    people = community(w, people=80, interactions=900, seed=11)
    community(w, people=20, interactions=150, seed=12, prefix="q")
    for i in range(60):
        w.comment(people[i], w.post_of(people[i + 1], site="news.example"), ago(i / 3), text=f"#python take {i}",
                  mentions=[people[i + 2]], site="news.example", reactions={"like": i, "love": i % 3})
    items = w.items
    items[3] = dict(items[3], at=None)
    for it in items[::7]:
        it["sentiment"] = 0.25
    return items


def test_a_community_reads_the_same_both_ways_in_one_batch_and_in_chunks():
    items = _world()
    assert len(items) > 1000
    _same(_read([items], True), _read([items], False))
    chunks = [items[k: k + 97] for k in range(0, len(items), 97)]
    _same(_read(chunks, True), _read(chunks, False))
    fast = _read([items], True)[0]
    assert fast.units.max() > 0 and fast.m_count.sum() > 0 and fast.comp.any()  # the world has all of them


def test_scores_are_the_same_both_ways():
    items = _world()
    saved = fields._itemread
    try:
        fields._itemread = None
        s = Scorer()
        s.add(items)
        slow = s.scores(at=NOW)
    finally:
        fields._itemread = saved
    s = Scorer()
    s.add(items)
    assert s.scores(at=NOW) == slow


# Values an item's fields may hold, stored-form ones most often: the compiled reader must give
# way to the Python reading on every one it does not take, with no trace of having tried.
class _Str(str):
    """A str whose `in` is its own (the Python reading asks it; the compiled one must give way)."""

    def __contains__(self, part):
        return True


_TEXT = st.sampled_from(["", "Great post", "Thanks @bob", "#python rocks", "Lügen? 🙂 #süß", "\x00\ud800", "a" * 300,
                         "tag at the end #", None, 7, _Str("no hash")])
_AT = st.one_of(
    st.sampled_from(["2026-11-20T10:00:00Z", "2024-02-29T23:59:59Z", "0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
                     "9999-12-31T23:59:59Z", "", None, "2026-02-30T00:00:00Z", "2023-02-29T00:00:00Z",
                     "2026-11-20T24:00:00Z", "2026-11-20T10:00:60Z", "2026-11-20 10:00:00Z", "2026-11-20T10:00:00",
                     "2026-11-20T10:00:00+00:00", "2026-11-20T10:00:00.5Z", "0000-01-01T00:00:00Z", "2026-13-01T00:00:00Z",
                     "２０２６-11-20T10:00:00Z", "2026-11-20T10:00:00z", 0, 1.5]),
    st.datetimes(timezones=st.none()).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
)
_COUNT = st.one_of(st.integers(0, 50), st.integers(-5, -1), st.just(1 << 40), st.just((1 << 40) + 1), st.booleans(),
                   st.just(2.5), st.just("3"), st.just(None))
_REACTIONS = st.one_of(st.just({}), st.dictionaries(st.sampled_from(["like", "love", "up", "+1"]), _COUNT, max_size=3),
                       st.just(None), st.just([1, 2]))
_SITE = st.sampled_from(["blog.example", "news.example", "b.example", 3, None])
_HANDLE = st.one_of(st.sampled_from(["ann", "bob", "cy", "Ann", "ann "]), st.just(7), st.just(None))
_AUTHOR = st.one_of(st.builds(lambda h: {"handle": h, "name": "N", "url": None}, _HANDLE), st.just({"name": "x"}),
                    st.just(None), st.just("ann"))
_PARENT = st.one_of(st.sampled_from(["p0", "p1", "c1", "c2", ""]), st.none(), st.just(0))
_KIND = st.sampled_from(["comment", "comment", "post", "reply", "", None, 1])
_MENTIONS = st.one_of(st.just([]), st.lists(st.sampled_from(["bob", "ann", "zed"]), max_size=3), st.just(None),
                      st.just(("bob",)), st.just("bob"), st.just([3]))
_SENTIMENT = st.one_of(st.floats(-2, 2), st.just(float("nan")), st.just(float("inf")), st.none(), st.just(0.5),
                       st.just("0.5"), st.just(True), st.just(1))
_STORED = {"site": _SITE, "id": st.sampled_from(["p0", "p1", "c1", "c2", "c3", "", 5]), "kind": _KIND,
           "parent": _PARENT, "author": _AUTHOR, "at": _AT, "text": _TEXT, "reactions": _REACTIONS,
           "mentions": _MENTIONS}


@st.composite
def _items(draw):
    it = {"site": "blog.example", "id": draw(st.sampled_from(["p0", "p1", "c1", "c2", "c3"])),
          "kind": draw(st.sampled_from(["post", "comment"])), "parent": draw(st.sampled_from([None, "p0", "c1"])),
          "author": {"handle": draw(st.sampled_from(["ann", "bob", "cy"])), "name": "N", "url": None},
          "at": "2026-11-20T10:00:00Z", "text": draw(_TEXT), "url": None,
          "reactions": draw(st.sampled_from([{}, {"like": 3}, {"up": 1, "love": 2}])),
          "mentions": draw(st.sampled_from([[], ["bob"], ["ann", "zed"]]))}
    if draw(st.booleans()):
        it["sentiment"] = draw(_SENTIMENT)
    for name in draw(st.lists(st.sampled_from(sorted(_STORED)), max_size=2, unique=True)):
        it[name] = draw(_STORED[name])
    if draw(st.integers(0, 30)) == 0:
        del it[draw(st.sampled_from(sorted(_STORED)))]
    if draw(st.integers(0, 60)) == 0:
        return draw(st.sampled_from([None, "item", ["a"], {"site": "blog.example"}]))
    if draw(st.integers(0, 8)) == 0:  # keys the reader does not read, one not a str, another order
        it.update(draw(st.sampled_from([{"extra": 1}, {1: "site"}, {"Site": "x"}, {"sentimentx": 0.3}])))
        it = dict(reversed(list(it.items())))
    return it


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_items(), max_size=40), min_size=1, max_size=3), st.booleans())
def test_hostile_batches_read_the_same_both_ways(batches, with_topics):
    topics = {"py": ["python"]} if with_topics else None
    _same(_read(batches, True, topics), _read(batches, False, topics))


def test_the_compiled_reader_parses_every_stored_date_as_numpy_does():
    rng = np.random.default_rng(1)
    secs = rng.integers(-62135596800, 253402300799, 20_000)  # years 1 to 9999
    ats = [s + "Z" for s in np.datetime_as_string(secs.astype("datetime64[s]")).tolist()]
    items = [_item(i, at=a) for i, a in enumerate(ats)]
    got = _read([items], True)[0]
    np.testing.assert_array_equal(got.t, secs.astype(np.float64))


def test_a_batch_the_compiled_reader_gives_way_on_is_read_whole_in_python():
    # the odd item is last: the compiled reader has numbered the handles before it by then
    items = [_item(i, site=f"s{i % 3}.example") for i in range(50)] + [_item(50, author={"handle": 3})]
    n = len(items)
    cols = [np.empty(n, dtype=d) for d in _COLUMNS]
    handles, new_sites = {}, {}
    assert fields._itemread.read(items, handles, 0, {}, new_sites, *cols) is None
    assert handles == {"u0": 0, "u1": 1, "u2": 2, "u3": 3, "u4": 4}  # what the Python reading numbers them
    fast, slow = _read([items], True), _read([items], False)
    _same(fast, slow)
    assert fast[1] == {**handles, 3: 50}
    assert fast[3] == ["s0.example", "s1.example", "s2.example", "blog.example"]
    assert not math.isnan(fast[0].t[0])


def test_the_compiled_reader_refuses_columns_of_the_wrong_size():
    cols = [np.empty(3, dtype=d) for d in _COLUMNS]
    cols[3] = np.empty(3, dtype=np.float32)
    with pytest.raises(ValueError, match="column t"):
        fields._itemread.read([_item(i) for i in range(3)], {}, 0, {}, {}, *cols)


@pytest.mark.parametrize("at, other", [(0, np.float32), (2, np.float64), (3, np.int64), (1, np.uint8),
                                       (5, np.uint64)], ids=["site_ids", "hcode", "t", "comment", "m_count"])
def test_the_compiled_reader_refuses_columns_of_another_type_but_the_same_size(at, other):
    # checked by item size alone, a float64 column of handle codes was written with int64 bits
    cols = [np.empty(3, dtype=d) for d in _COLUMNS]
    cols[at] = np.empty(3, dtype=other)
    name = ["site_ids", "comment", "hcode", "t", "has_parent", "m_count"][at]
    with pytest.raises(ValueError, match=f"column {name}"):
        fields._itemread.read([_item(i) for i in range(3)], {}, 0, {}, {}, *cols)


def test_a_site_code_past_int32_is_refused_as_numpy_refuses_it():
    # it was cut to its low 32 bits; the Python reading's numpy raises OverflowError
    cols = [np.empty(3, dtype=d) for d in _COLUMNS]
    with pytest.raises(OverflowError, match="2147483648"):
        fields._itemread.read([_item(i) for i in range(3)], {}, 0, {"blog.example": 2**31}, {}, *cols)
    with pytest.raises(OverflowError):
        np.fromiter([2**31], dtype=np.int32, count=1)


def test_a_list_subclass_of_items_is_read_as_python_reads_it():
    # the compiled reader takes exact lists only: any other list goes to the Python reading,
    # which takes every list (Scorer.add passes a list subclass through as it is)
    class Items(list):
        pass

    items = Items(_item(i) for i in range(20))
    _same(_read([items], True), _read([items], False))
    s = Scorer()
    s.add(items)
    assert s.scores(at=NOW)


@pytest.mark.parametrize("text", [["#"], {"#": 1}, ("#",), ["x"], 7, None], ids=repr)
@pytest.mark.parametrize("with_topics", [False, True])
def test_a_text_that_is_not_a_str_reads_the_same_both_ways(text, with_topics):
    # captured JSON may hold a list or an object for a text: the Python reading asks it `"#" in
    # text` like a str (true for ["#"], which it then fails to hash), where the compiled one had
    # taken it for a text without a '#'
    items = [_item(0, kind="post", parent=None), _item(1, kind="post", parent=None, text=text), _item(2)]
    topics = {"py": ["python"]} if with_topics else None
    _same(_read([items], True, topics), _read([items], False, topics))


class _Meddler:
    """An author key that compares like "handle" by hash, and whose __eq__ (Python code, run by the
    look-up only) replaces a later item's text: what a second core had read of that item is then
    stale, and must not be used."""

    def __init__(self, batch, at):
        self.batch, self.at, self.armed = batch, at, False

    def __hash__(self):
        return hash("handle")

    def __eq__(self, other):
        if not self.armed:  # (building the author dict compares too)
            return False
        time.sleep(0.05)  # long enough for a second core to have read the later item
        later = self.batch[self.at]
        later["text"] = "replaced #while reading"
        later["author"] = {"handle": "someone-else", "name": "S"}
        return False


def _meddled(at_odd: int, at_changed: int, n: int = 40) -> list:
    batch = [_item(i) for i in range(n)]
    meddler = _Meddler(batch, at_changed)
    batch[at_odd] = _item(at_odd, author={meddler: 1, "handle": "u1", "name": "U"})
    meddler.armed = True
    return batch


@pytest.mark.parametrize("at_odd, at_changed", [(3, 30), (20, 35)], ids=["odd in the first share",
                                                                         "odd in the second share"])
def test_python_code_run_by_a_look_up_is_seen_as_one_core_sees_it(at_odd, at_changed):
    def read(split_min):
        batch = _meddled(at_odd, at_changed)
        cols = [np.empty(len(batch), dtype=d) for d in _COLUMNS]
        handles: dict = {}
        got = fields._itemread.read(batch, handles, 0, {}, {}, *cols, split_min)
        return got, [c.tolist() for c in cols], handles

    one, two = read(-1), read(2)
    assert one[0] is not None and one[0][3][at_changed] == "replaced #while reading"
    assert "someone-else" in one[2]
    assert repr(two) == repr(one)  # (NaN columns compare by their text)
