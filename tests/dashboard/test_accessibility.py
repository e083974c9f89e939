"""The dashboard as a screen reader or a keyboard meets it, in real Chromium against a real
`cloutlens serve --demo` (and an empty server for the first run): axe-core (a devDependency, read
from node_modules: no network at test time) finds nothing on any page in either colour scheme, and
what axe cannot judge is checked by hand: every field has a name of its own, a refused form puts
its error in the form (where its anchor opens the page, and Tab goes on to the form's fields),
tied to the fields, and the pairing page does not reload under the reader."""
from __future__ import annotations

import time
from urllib.parse import quote

import pytest
import requests

from e2e.conftest import LiveServer, require_chromium
from helpers import AXE, EXT_ORIGIN, axe_violations
from server import demo

pytestmark = pytest.mark.browser

MAYA = f"{demo.DEMO_BLOG}:{demo.BIRTHDAY.lower()}"


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory):
    require_chromium()
    srv = LiveServer(tmp_path_factory.mktemp("a11y-empty") / "data")
    yield srv
    srv.stop()


def new_page(chromium, scheme="light"):
    ctx = chromium.new_context(viewport={"width": 1200, "height": 900}, color_scheme=scheme)
    return ctx, ctx.new_page()


def person(identity):
    return "/people/" + quote(identity, safe="")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_on_any_page(server, empty_server, chromium, scheme):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run `npm ci` (it is a devDependency)")
    pages = {"overview": "/", "people": "/people", "no match": "/people?q=nobody-by-this-name",
             "person": person(MAYA), "person with copies": person(f"{demo.DEMO_BLOG}:{demo.OWNER.lower()}"),
             "data": "/data", "settings": "/settings", "pairing": "/pair", "no such person": person("x.example:nobody"),
             "wrong method": "/data/link"}
    ctx, page = new_page(chromium, scheme)
    found = {}
    try:
        for name, path in pages.items():
            page.goto(server.url + path)
            found[name] = axe_violations(page)
        for name, path in {"first run": "/", "first run people": "/people", "first run pairing": "/pair"}.items():
            page.goto(empty_server.url + path)
            found[name] = axe_violations(page)
    finally:
        ctx.close()
    assert {k: v for k, v in found.items() if v} == {}


def accessible_names(page, roles) -> list[tuple[str, str]]:
    cdp = page.context.new_cdp_session(page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    return [(n["role"]["value"], n.get("name", {}).get("value", "")) for n in nodes
            if n.get("role", {}).get("value") in roles and not n.get("ignored")]


def test_each_filter_field_of_the_people_page_has_a_name_of_its_own(server, chromium):
    ctx, page = new_page(chromium)
    try:
        page.goto(server.url + "/people")
        fields = accessible_names(page, {"searchbox", "combobox", "spinbutton"})
        # one label held both score fields: the first was "Score to 100", the second had no name
        assert ("spinbutton", "Score from") in fields and ("spinbutton", "to") in fields, fields
        assert all(name for _, name in fields), fields
    finally:
        ctx.close()


def tab_on(page, form) -> dict:
    """The field Tab moves to, from where the page was opened (its anchor: the refused form)."""
    page.wait_for_selector(f"#{form}-error")
    page.keyboard.press("Tab")
    return focused(page)


def focused(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement;
        const d = e.getAttribute('aria-describedby');
        return {name: e.name, invalid: e.getAttribute('aria-invalid'),
                said: d ? document.getElementById(d).textContent : null} }""")


def test_a_refused_form_says_why_inside_the_form_tied_to_its_fields(server, chromium):
    ctx, page = new_page(chromium)
    try:
        # link by hand: an identity nobody has
        page.goto(server.url + "/data")
        page.fill("#link-form input[name=alias]", "nowhere.example:nobody")
        page.fill("#link-form input[name=canonical]", MAYA)
        page.click("#link-form button")
        page.wait_for_url("**/data?**#link-form")
        now = tab_on(page, "link-form")
        assert now["name"] == "alias" and now["invalid"] == "true", now
        assert "Nobody by the identity nowhere.example:nobody is stored" in now["said"]
        error = page.locator("#link-form .flash.error")
        assert error.is_visible() and error.get_attribute("role") == "alert"
        # only the form's own: not again at the top of the page, out of sight of the form
        assert page.locator("main > .flash").count() == 0

        # delete all: the wrong words typed
        page.fill("#delete-form input[name=confirm]", "delete")
        page.click("#delete-form button")
        page.wait_for_url("**/data#delete-form")
        now = tab_on(page, "delete-form")
        assert now["name"] == "confirm" and now["invalid"] == "true" and "delete everything" in now["said"], now

        # forget: the box ticked, an identity nobody has
        page.fill("#forget-form input[name=identity]", "nowhere.example:nobody")
        page.check("#forget-form input[name=sure]")
        page.click("#forget-form button")
        page.wait_for_url("**/data?**#forget-form")
        now = tab_on(page, "forget-form")
        assert now["name"] == "identity" and now["invalid"] == "true" and "Nobody by that identity" in now["said"], now
        assert page.locator("#forget-form input[name=sure]").get_attribute("aria-invalid") is None

        # settings: the first field at fault has the focus and reads its error
        page.goto(server.url + "/settings")
        page.fill("#topics", "cooking pasta, bread")  # no colon
        page.fill("#site_weights", "news.example = lots")
        page.click("#settings button")
        page.wait_for_selector("#site_weights-error")
        now = focused(page)
        assert now["name"] == "site_weights" and now["invalid"] == "true" and now["said"], now
    finally:
        ctx.close()


def test_the_pairing_page_waits_for_a_request_without_reloading_then_shows_it(empty_server, chromium):
    ctx, page = new_page(chromium)
    try:
        page.goto(empty_server.url + "/pair")
        page.evaluate("window.stillHere = true")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        held = page.evaluate("document.activeElement.textContent")
        time.sleep(7)  # two of the page's looks
        # the same document, the focus where the keyboard left it: a refresh every 3 s took both
        assert page.evaluate("window.stillHere === true"), "the page reloaded with no request to show"
        assert page.evaluate("document.activeElement.textContent") == held
        r = requests.post(empty_server.url + "/api/pair", json={"client": "Cloutlens"},
                          headers={"Origin": EXT_ORIGIN}, timeout=10)
        assert r.ok, r.text
        page.wait_for_selector(f"text={r.json()['code']}", timeout=10000)
        assert page.locator("#no-request").count() == 0
    finally:
        ctx.close()
