"""The dashboard before anything is captured: each page says what to do next."""
from __future__ import annotations

from bs4 import BeautifulSoup

from helpers import EXT_ORIGIN


def page(client, path):
    r = client.get(path)
    assert r.status_code == 200, r.data[:300]
    return BeautifulSoup(r.data, "lxml")


def test_an_empty_people_list_says_nobody_is_captured_yet_not_that_nobody_matches(client, auth):
    empty = page(client, "/people")
    assert "Nobody matches" not in empty.get_text() and empty.select_one("#count") is None
    said = empty.select_one("#nobody-yet")
    assert "Nobody captured yet" in said.get_text() and said.a["href"] == "/pair"
    r = client.post("/api/capture", headers=auth, json={"v": 1, "page": {"url": "https://blog.example/p"}, "items": [
        {"id": "p", "kind": "post", "parent": None, "author": {"handle": "ann"}, "at": "2026-11-20T09:00:00Z"},
        {"id": "c", "kind": "comment", "parent": "p", "author": {"handle": "bob"}, "at": "2026-11-20T10:00:00Z",
         "text": "a good post"}]})
    assert r.status_code == 200, r.json
    filtered = page(client, "/people?q=nobody-by-this-name")
    assert "Nobody matches" in filtered.get_text() and filtered.select_one("#nobody-yet") is None


def test_the_pairing_page_says_how_to_send_a_request_and_looks_again_until_one_comes(client):
    waiting = page(client, "/pair")
    assert "click the Cloutlens toolbar icon" in waiting.select_one("#no-request").get_text()
    assert waiting.select_one("meta[http-equiv=refresh]")["content"] == "3"
    r = client.post("/api/pair", json={"client": "Cloutlens"}, headers={"Origin": EXT_ORIGIN})
    shown = page(client, "/pair")
    # a request to answer: the page holds still (a refresh would take the code away mid-read)
    assert r.json["code"] in shown.get_text() and shown.select_one("meta[http-equiv=refresh]") is None


def test_a_paired_client_shows_the_id_the_command_line_revokes_it_by(client, app, token):
    (entry,) = app.extensions["cloutlens"].pairing.clients()
    shown = page(client, "/pair")
    assert f"id {entry['id']}" in shown.select_one("li.client").get_text()
    # a pairing to manage on screen: no reload moves its Revoke button
    assert shown.select_one("meta[http-equiv=refresh]") is None


def test_the_empty_overview_lists_the_steps_and_ticks_off_the_pairing(client, app):
    from server.dashboard import EXTENSION_DIR

    steps = page(client, "/").select_one("#setup")
    # the folder to load, as the terminal prints it: the user need not know where pip put it
    assert steps.select_one("#extension-dir").get_text() == str(EXTENSION_DIR) and steps.select_one("a[href='/pair']")
    # the extension looks on 7317: on another port the steps say to point it here first
    app.config["PORT"] = 7392
    other = BeautifulSoup(client.get("/", headers={"Host": "127.0.0.1:7392"}).data, "lxml")
    assert other.select_one("#setup #server-url").get_text() == "http://127.0.0.1:7392"
    app.config["PORT"] = 7317
    usual = BeautifulSoup(client.get("/", headers={"Host": "127.0.0.1:7317"}).data, "lxml")
    assert usual.select_one("#setup") and usual.select_one("#server-url") is None
    assert "cloutlens demo" in page(client, "/").get_text()
    r = client.post("/api/pair", json={"client": "Cloutlens"}, headers={"Origin": EXT_ORIGIN})
    assert "A pairing request waits" in page(client, "/").select_one("#setup").get_text()
    app.extensions["cloutlens"].pairing.decide(r.json["request"], True)
    assert "Paired with an extension: done." in page(client, "/").select_one("#setup").get_text()


def test_a_profile_address_is_refused_as_an_own_identity_with_what_to_write(client):
    from server.dashboard import csrf_token
    with app_context(client):
        tok = csrf_token()
    r = client.post("/settings", data={"csrf": tok, "own": "https://news.ycombinator.com/user?id=myname",
                                       "site_weights": "", "topics": "", "horizon_days": "90"})
    said = BeautifulSoup(r.data, "lxml").get_text()
    assert "line 1: that is an address; write the identity as site:handle" in said, said[:500]
    assert client.application.extensions["cloutlens"].store.get_config("own_identities") in (None, [])


def app_context(client):
    return client.application.test_request_context()
