"""server.jsonstream: an export read as a stream takes what orjson takes, and refuses what it refuses."""
from __future__ import annotations

import io
import json
import resource
import time

import orjson
import pytest

from server import jsonstream
from server.jsonstream import CHUNK, NotJSON, elements, scan


def read(body: bytes):
    fh = io.BytesIO(body)
    head = scan(fh, "items")
    return head, list(elements(fh, "items")) if head.long_kind == "array" else None


SAMPLE = {"b": {"x": [1, 2.5, -0, 1e2, 1.0, -3.25e-3, True, False, None]}, "items": [
    {"text": "caf\u00e9 \U0001F600 \u65e5\u672c \"q\" \\ back\nline\u0000", "n": 9007199254740993, "f": 0.1},
    [], {}, "s", 7, 2.0, None, {"deep": [[[{"k": [1]}]]]}], "a": "\\ud800 is text here"}


@pytest.mark.parametrize("dump", [orjson.dumps, lambda d: json.dumps(d).encode(),  # \u escapes, pairs
                                  lambda d: json.dumps(d, ensure_ascii=False, indent=2).encode()])
def test_values_and_their_types_are_those_orjson_gives(dump):
    body = dump(SAMPLE)
    head, items = read(body)
    whole = orjson.loads(body)
    assert items == whole["items"] and head.members == {k: v for k, v in whole.items() if k != "items"}
    # int stays int and float float, as the item contract's checks tell them apart
    assert [type(v) for v in head.members["b"]["x"]] == [type(v) for v in whole["b"]["x"]]
    assert type(items[0]["n"]) is int and type(items[5]) is float


def test_members_in_any_order_around_the_long_array():
    head, items = read(b'{"items": [1, {"items": 2}], "z": {"items": []}, "a": [["x"]]}')
    assert head.is_object and head.long_kind == "array" and items == [1, {"items": 2}]
    assert head.members == {"z": {"items": []}, "a": [["x"]]} and head.repeated is None


@pytest.mark.parametrize("body,kind", [(b'{"items": {"a": [1]}}', "object"), (b'{"items": "x"}', "string"),
                                       (b'{"items": null}', "null"), (b'{"a": 1}', None)])
def test_the_long_members_kind_is_told(body, kind):
    assert scan(io.BytesIO(body), "items").long_kind == kind


@pytest.mark.parametrize("body", [b"[1, 2]", b'"items"', b"null", b"3"])
def test_a_top_level_that_is_no_object_is_told(body):
    assert not scan(io.BytesIO(body), "items").is_object


def test_a_key_given_twice_is_told():
    assert scan(io.BytesIO(b'{"items": [1], "a": 1, "items": [2]}'), "items").repeated == "items"


@pytest.mark.parametrize("body", [
    b"", b"   ", b'{"items": [1, 2', b'{"items": [1]} x', b'{"a": NaN}', b'{"a": 01}', b"\xef\xbb\xbf{}",
    b'{"a": "\x00"}', b'{"a": "caf\xe9"}', b'{"a": 1e400}', b'[1, 2',
])
def test_what_orjson_refuses_is_refused(body):
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)
    with pytest.raises(NotJSON):
        read(body)


def test_an_error_quotes_nothing_of_the_file():
    with pytest.raises(NotJSON) as caught:
        read(b'{"items": [{"text": "<script>secret</script>"}, x]}')
    assert "secret" not in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("where", ["items", "head", "top"])
def test_nesting_past_orjsons_limit_is_refused_before_it_takes_memory(where):
    """ijson keeps the path of every open level: 20,000 nested `[` (a 40 KB file) took a GB."""
    deep = b"[" * 300_000 + b"]" * 300_000
    body = {"items": b'{"items": [' + deep + b"]}", "head": b'{"s": ' + deep + b', "items": []}',
            "top": deep}[where]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    with pytest.raises(NotJSON, match="nested deeper than 1024"):
        read(body)
    assert time.perf_counter() - t < 10
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KB


def test_nesting_up_to_orjsons_limit_is_read():
    n = jsonstream.MAX_DEPTH - 2  # the top object and the array hold the rest
    body = b'{"items": [' + b"[" * n + b"]" * n + b"]}"
    orjson.loads(body)
    head, items = read(body)
    assert len(items) == 1
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(b'{"items": [[' + b"[" * n + b"]" * n + b"]]}")
    with pytest.raises(NotJSON):
        read(b'{"items": [[' + b"[" * n + b"]" * n + b"]]}")


@pytest.mark.parametrize("text", [b"\\ud800", b"\\uDBFF", b"x\\ud83dy", b"\\ud800\\u0041", b"\\ud800\\ud800\\udc00",
                                  b"\\udc00", b"\\\\\\ud800", b"\\ud83d\\\\ude00"])
def test_a_lone_surrogate_is_refused_not_made_a_question_mark(text):
    body = b'{"items": [{"text": "' + text + b'"}]}'
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)
    with pytest.raises(NotJSON):
        read(body)


@pytest.mark.parametrize("text", [b"\\ud83d\\ude00", b"\\uD83D\\uDE00", b"\\\\ud800", b"\\\\\\\\ud800", b"?"])
def test_pairs_and_escaped_backslashes_are_text(text):
    body = b'{"items": [{"text": "' + text + b'"}]}'
    assert read(body)[1] == orjson.loads(body)["items"]


@pytest.mark.parametrize("shift", range(0, 16))
def test_a_surrogate_pair_across_two_reads_is_one_character(shift):
    """The file is read 64 KB at a time: a pair's halves may come in two reads."""
    pad = b"x" * (CHUNK - len(b'{"items": ["') - shift)
    good = b'{"items": ["' + pad + b'\\ud83d\\ude00"]}'
    assert read(good)[1] == orjson.loads(good)["items"]
    lone = b'{"items": ["' + pad + b'\\ud83dz\\ude00"]}'
    with pytest.raises(NotJSON):
        read(lone)
    # an escaped backslash before it, whose run the read may split
    escaped = b'{"items": ["' + pad[:-40] + b"\\\\" * 20 + b'\\\\ud83d"]}'
    assert read(escaped)[1] == orjson.loads(escaped)["items"]


@pytest.mark.parametrize("after", [b"\\ud83d\\ude00", b"\\\\ud800", b"x"])
def test_a_long_run_of_escaped_backslashes_is_read_as_orjson_reads_it(after):
    """A run of escaped backslashes across many reads, then a pair, an escaped "\\ud800" (text)
    or a letter: only the run's parity decides what follows (the reader once kept the whole run
    and searched it again at every read, time quadratic in its length)."""
    for run in (3 * CHUNK, 3 * CHUNK + 1):
        body = b'{"items": ["' + b"\\\\" * run + after + b'"]}'
        assert read(body)[1] == orjson.loads(body)["items"]
    lone = b'{"items": ["' + b"\\\\" * (3 * CHUNK) + b'\\ud800"]}'
    with pytest.raises(NotJSON):
        read(lone)


@pytest.mark.parametrize("unit", [b"a", b"\\\\", b"\\ud83d\\ude00"])
def test_a_string_longer_than_any_export_holds_is_refused(unit):
    """yajl lexes a string that spans reads again from its start at every read: a file of one
    long string would take hours. No export's string comes near 1 MB (a text: 4,000 characters);
    one is refused once it is seen to run past 1 MB at the end of a read."""
    body = b'{"cloutlens_export": 1, "exported_at": "' + unit * (2 * jsonstream.MAX_STRING) + b'"}'
    with pytest.raises(NotJSON, match="longer than 1 MB"):
        scan(io.BytesIO(body), "items")
    fits = b'{"items": ["' + b"a" * (jsonstream.MAX_STRING - 100) + b'"]}'
    assert read(fits)[1] == orjson.loads(fits)["items"]
