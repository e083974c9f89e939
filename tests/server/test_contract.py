"""The item check's fast path (a compiled validator whose "yes" is taken without a jsonschema walk)
gives exactly what the jsonschema path gives: the same items, the same errors, for captures and
for an export's items."""
from __future__ import annotations

import copy
import random
import sys
from pathlib import Path

import pytest

import scoring.items
import server.contract as contract
from helpers import capture, comment_item, post_item
from scoring.items import ContractError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from bench_server import page  # noqa: E402



class _RefusesAll:
    """Stands in for the compiled validator so that everything takes the jsonschema path."""

    def is_valid(self, _obj):
        return False

EDGE = capture([
    post_item(text="a post #privacy", url="https://blog.example/p", at="2026-11-20T10:00:00+02:00"),
    comment_item("c1", "  Anna   Rydne ", mentions=["Bob", " bob ", "CAROL", "  "], reactions={"like": 3, "wow": 0}),
    {"id": "c2", "kind": "comment", "parent": "c1", "author": {"handle": "x", "name": "   "}, "text": ""},
    {"id": "c3", "kind": "comment", "author": {"handle": "Y", "url": None}, "at": None, "url": None},
    {"id": "c4", "kind": "comment", "parent": None, "author": {"handle": "z", "name": "N" * 200},
     "at": "2026-11-20T09:14:00", "site": "ignored.example"},
], url="https://www.blog.example/2026/11/klout")


def _slowly(fn, *args):
    keep = scoring.items._quick, contract._whole
    scoring.items._quick = contract._whole = _RefusesAll()
    try:
        return fn(*args)
    finally:
        scoring.items._quick, contract._whole = keep


def slow(obj):
    return _slowly(contract.validate_capture, obj)


def outcome(fn, obj):
    try:
        return fn(copy.deepcopy(obj))
    except ContractError as exc:
        return ("error", exc.field, exc.message)


def test_valid_captures_come_out_the_same():
    rng = random.Random(4)
    for cap in [EDGE] + [page(n, rng) for n in range(5)]:
        fast = contract.validate_capture(copy.deepcopy(cap))
        assert fast == slow(copy.deepcopy(cap))
    assert fast["items"][0]["author"]["handle"].startswith("u")


@pytest.mark.parametrize("mutate", [
    lambda c: c["items"][1].update(kind="tweet"),
    lambda c: c["items"][1]["author"].update(handle="   "),
    lambda c: c["items"][0].update(parent="c1"),
    lambda c: c["items"][1].update(parent="c1"),
    lambda c: c["items"][1].update(at="yesterday"),
    lambda c: c["items"][1].update(at="1800-01-01T00:00:00Z"),
    lambda c: c["items"][1].update(sentiment=0.5),
    lambda c: c["items"][1].update(reactions={"like": True}),
    lambda c: c["items"][1].update(mentions=["x" * 101]),
    lambda c: c["items"][2].update(id="c1"),
    lambda c: c["items"][4].update(site="bad site\n"),
    lambda c: c["page"].update(url="ftp://blog.example/"),
    lambda c: c.update(v=2),
])
def test_invalid_captures_fail_the_same(mutate):
    bad = copy.deepcopy(EDGE)
    mutate(bad)
    assert outcome(contract.validate_capture, bad) == outcome(slow, bad)
    assert outcome(slow, bad)[0] == "error"


def _listed_slow(raw, n):
    return _slowly(contract.normalize_listed_item, raw, n)


LISTED = [dict(it, site="blog.example") for it in EDGE["items"][:4]] + [
    {"id": "x", "kind": "post", "author": {"handle": "A"}, "site": "news.example:8080", "mentions": ["B "]}]


def test_export_items_come_out_the_same():
    for n, raw in enumerate(LISTED):
        assert contract.normalize_listed_item(copy.deepcopy(raw), n) == _listed_slow(copy.deepcopy(raw), n)


@pytest.mark.parametrize("mutate", [
    lambda it: it.pop("site"),
    lambda it: it.update(site="Blog.Example"),
    lambda it: it.update(site="not a site"),
    lambda it: it.update(kind="tweet"),
    lambda it: it["author"].update(handle=" "),
    lambda it: it.update(at="soon"),
    lambda it: it.update(parent=it["id"]),
])
def test_bad_export_items_fail_or_pass_the_same(mutate):
    raw = copy.deepcopy(LISTED[1])
    mutate(raw)
    assert outcome(lambda r: contract.normalize_listed_item(r, 7), raw) == outcome(lambda r: _listed_slow(r, 7), raw)


@pytest.mark.parametrize("url,site", [
    ("https://news.ycombinator.com./item?id=1", "news.ycombinator.com"),  # a fully qualified name
    ("https://WWW.Blog.Example/p", "blog.example"),
    ("https://bücher.example/p", "xn--bcher-kva.example"),  # as a browser's address bar gives it
    ("https://straße.example/p", "xn--strae-oqa.example"),  # UTS 46 as browsers: IDNA 2003 gave strasse
    ("http://localhost:8080/p", "localhost"),
])
def test_the_site_a_page_address_names_is_one_every_endpoint_accepts(url, site):
    got = contract.validate_capture(capture([post_item()], url=url))
    assert got["page"]["site"] == site and got["items"][0]["site"] == site
    # an offline line or an export naming the site as the address does is the same site: the same
    # people whether their items came from a capture, `cloutlens score` or an import
    host = url.split("/")[2].split(":")[0]
    line = dict(post_item(), site=host)
    assert scoring.items.normalize_line(line, 1)["site"] == site
    assert contract.normalize_listed_item(line, 0)["site"] == site
    # a capture that names its site as the address does (www. and all) is that site
    named = capture([post_item()], url=url)
    named["page"]["site"] = host
    assert contract.validate_capture(named)["page"]["site"] == site
    # and a person, a link or a site weight given as that host finds the people stored
    from server.api import check_identity, validate_settings
    assert check_identity(f"{host}:Anna", "id") == f"{site}:anna"
    assert validate_settings({"site_weights": {host: 2}})["site_weights"] == {site: 2.0}


@pytest.mark.parametrize("url", ["http://ex_ample.com/p", "http://[::1]:8080/p", "http://a%40b.com/p",
                                 "http://-dash.example/p", "http://.../p"])
def test_a_page_address_whose_host_is_no_site_name_is_refused(url):
    # stored, its people could never be looked up, forgotten or imported back (site:handle)
    with pytest.raises(ContractError) as exc:
        contract.validate_capture(capture([post_item()], url=url))
    assert exc.value.field == "page.url"


@pytest.mark.parametrize("drop,field", [
    (lambda c: c.pop("v"), "v"),
    (lambda c: c["page"].pop("url"), "page.url"),
    (lambda c: c["items"][1].pop("author"), "items[1].author"),
    (lambda c: c["items"][1]["author"].pop("handle"), "items[1].author.handle"),
])
def test_a_missing_field_is_named_itself(drop, field):
    c = copy.deepcopy(EDGE)
    drop(c)
    for check in (contract.validate_capture, slow):
        with pytest.raises(ContractError) as exc:
            check(copy.deepcopy(c))
        assert (exc.value.field, exc.value.message) == (field, "is required")


def test_handles_that_look_the_same_are_the_same_person():
    # zero-width characters, direction marks and soft hyphens show nothing: an impostor who adds
    # them to a name is the person they imitate, not a second identity that looks the same
    looks = ["Zé\u200bro\u200dWidth", "Zéro\u200dWidth", "\u202eZéroWidth", "Zéro\u00adWidth\ufeff"]
    items = [comment_item(f"c{i}", h, mentions=[h, "\u200b\u200c"]) for i, h in enumerate(looks)]
    got = contract.validate_capture(capture([post_item()] + items))["items"][1:]
    assert {it["author"]["handle"] for it in got} == {"zérowidth"}
    assert all(it["mentions"] == ["zérowidth"] for it in got)  # an invisible-only mention is dropped
    with pytest.raises(ContractError) as exc:
        contract.validate_capture(capture([post_item(), comment_item("c9", "\u200b\u200d")]))
    assert exc.value.field == "items[1].author.handle"


def test_control_characters_are_no_part_of_a_handle():
    # `cloutlens score` prints identities to a terminal, which acts on escape sequences; a tab or a
    # line break is a space, as in any name
    got = contract.validate_capture(capture([post_item(), comment_item("c1", "Eve\x1b[2J\x07\x00"),
                                             comment_item("c2", "Ann\tLee\r\n"), comment_item("c3", "eve\x9b")]))
    handles = [it["author"]["handle"] for it in got["items"][1:]]
    assert handles == ["eve[2j", "ann lee", "eve[2j"[:3]]
    assert not any(ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f for h in handles for ch in h)
    with pytest.raises(ContractError) as exc:
        contract.validate_capture(capture([post_item(), comment_item("c9", "\x1b\x07")]))
    assert exc.value.field == "items[1].author.handle"
