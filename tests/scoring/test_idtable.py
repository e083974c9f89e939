"""The compiled id table (scoring/_idtable.c) finds what a dict of (site, id) finds: every key
present, nothing absent, repeats noticed, for ids in any script and of any length."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import derive

from synth import need_compiled

_ID = st.one_of(st.sampled_from(["", "c1", "c10", "p\u00e9", "p\u00e9\u2603", "\U0001F600", "a" * 70, "n\x00", "1"]),
                st.text(max_size=12))


@pytest.fixture(autouse=True)
def _compiled(monkeypatch):
    need_compiled(derive._idtable, "scoring._idtable")
    monkeypatch.setattr(derive, "JOIN_MIN", 0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), _ID), max_size=60), st.lists(st.tuples(st.integers(0, 3), _ID),
                                                                           max_size=60))
def test_the_table_finds_what_a_dict_finds(keys, asked):
    ids = [k for _, k in keys]
    sites = np.array([s for s, _ in keys], dtype=np.int32)
    table = derive.Ids([""] * len(ids), ids, sites)
    assert table.table is not None
    by_key = dict(zip(keys, range(len(keys))))  # a key given twice: its last position
    assert table.repeated() == (len(by_key) < len(keys))
    got = table.find([k for _, k in asked], np.array([s for s, _ in asked], dtype=np.int32))
    assert got.tolist() == [by_key.get(key, -1) for key in asked]


def test_a_key_that_is_not_a_str_is_left_to_the_dict():
    ids = ["1", "2", "3"]
    table = derive.Ids([""] * 3, ids, np.zeros(3, dtype=np.int32))
    assert table.table is not None
    assert table.find([1, "2"], np.zeros(2, dtype=np.int32)).tolist() == [-1, 1]


def test_ids_that_are_not_all_str_are_not_put_in_the_table():
    table = derive.Ids([""] * 3, ["1", 2, "3"], np.zeros(3, dtype=np.int32))
    assert table.table is None
    assert table.find([2, "3"], np.zeros(2, dtype=np.int32)).tolist() == [1, 2]


def test_a_million_ids_at_a_full_table():
    n = 1 << 20  # the table holds twice as many slots: every probe chain is as long as it gets
    ids = [f"c{i}" for i in range(n)]
    table = derive.Ids([""] * n, ids, np.zeros(n, dtype=np.int32))
    assert not table.repeated()
    asked = ids[::-7] + ["c-1", "c" + str(n)]
    got = table.find(asked, np.zeros(len(asked), dtype=np.int32))
    assert got[:-2].tolist() == list(range(n - 1, -1, -7)) and got[-2:].tolist() == [-1, -1]


def test_ids_in_a_list_subclass_are_found_as_in_a_list():
    class IdList(list):
        pass

    table = derive.Ids([""] * 3, IdList(["1", "2", "3"]), np.zeros(3, dtype=np.int32))
    assert table.find(["3", "4"], np.zeros(2, dtype=np.int32)).tolist() == [2, -1]


def _built(n: int):
    ids = [f"c{i}" for i in range(n)]
    sites = np.zeros(n, dtype=np.int32)
    table = np.full(1 << (2 * n - 1).bit_length(), -1, dtype=np.int64)
    derive._idtable.build(ids, sites, table)
    return ids, sites, table


def _find(ids, sites, table, keys):
    out = np.empty(len(keys), dtype=np.int64)
    derive._idtable.find(ids, sites, table, keys, np.zeros(len(keys), dtype=np.int32), out)
    return out


def test_a_table_not_built_for_these_ids_is_refused_not_read_past_them():
    # each case read out of bounds of the ids (a crash) or probed forever (a hang) before
    ids, sites, table = _built(1000)
    with pytest.raises(ValueError, match="table"):
        _find(ids[:10], sites[:10], table, ids[::-1])  # built for 1000 ids, asked with 10
    changed = list(ids)
    changed[5] = 5  # an id that is no longer a str
    with pytest.raises(ValueError, match="table"):
        _find(changed, sites, table, ["c5"])
    with pytest.raises(ValueError, match="table"):
        _find([], sites[:0], np.zeros(0, dtype=np.int64), ["a"])  # no slots at all
    with pytest.raises(ValueError, match="table"):
        _find(ids[:4], sites[:4], np.zeros(8, dtype=np.int64), ["zz"])  # no slot empty


@pytest.mark.parametrize("table", [np.zeros(8, dtype=np.int64), np.full(8, -1.0), np.zeros(0, dtype=np.int64)],
                         ids=["zeros", "float", "empty"])
def test_build_refuses_a_table_that_is_not_all_empty_slots(table):
    ids = ["a", "b", "c"][: len(table) // 2]
    with pytest.raises(ValueError, match="table"):
        derive._idtable.build(ids, np.zeros(len(ids), dtype=np.int32), table)


@pytest.mark.parametrize("which", ["site_ids", "table", "key_sites", "out"])
def test_arrays_of_another_type_but_the_same_size_are_refused(which):
    # checked by item size alone, a float64 table or output of 8-byte items was read and written
    # as positions; a float32 site column as site codes
    ids, sites, table = _built(10)
    args = {"site_ids": sites, "table": table, "key_sites": np.zeros(2, dtype=np.int32),
            "out": np.empty(2, dtype=np.int64)}
    other = {np.dtype(np.int32): np.float32, np.dtype(np.int64): np.float64}[args[which].dtype]
    args[which] = args[which].astype(other)
    with pytest.raises(ValueError, match=which):
        derive._idtable.find(ids, args["site_ids"], args["table"], ["c1", "c2"], args["key_sites"], args["out"])
    if which in ("site_ids", "table"):
        with pytest.raises(ValueError, match=which):
            derive._idtable.build(ids, args["site_ids"],
                                  np.full(len(table), -1.0) if which == "table" else np.full(len(table), -1, np.int64))
