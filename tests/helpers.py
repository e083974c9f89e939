"""Builders and steps the tests share."""
from __future__ import annotations

from pathlib import Path

from server.app import CHROME_EXTENSION_ID

EXT_ORIGIN = f"chrome-extension://{CHROME_EXTENSION_ID}"
# axe-core, a devDependency: the accessibility tests read it from node_modules, no network
AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page) -> list[str]:
    """What axe-core finds wrong with a Playwright page: a line a rule, with its first places."""
    # evaluated in the page rather than added as a tag: the dashboard's CSP allows no inline script
    page.evaluate(AXE.read_text())
    return page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .map(v => `${v.id} (${v.impact}): ` + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))""")


def pair(client, origin=EXT_ORIGIN) -> str:
    """Pair the way the extension does, approving through the dashboard form."""
    app = client.application
    r = client.post("/api/pair", json={"client": "test"}, headers={"Origin": origin})
    assert r.status_code == 201, r.json
    services = app.extensions["cloutlens"]
    assert services.pairing.decide(r.json["request"], approve=True) is not None
    polled = client.post(f"/api/pair/{r.json['request']}", json={}, headers={"Origin": origin})
    assert polled.json["status"] == "approved"
    return polled.json["token"]


def post_export(port: int, path, token: str, timeout: float = 120) -> tuple[int, dict]:
    """POST an export file to a real server's /api/import as the extension would send it, streamed
    from disk: (status, answer)."""
    import http.client
    import json
    import os
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        with open(path, "rb") as body:
            conn.request("POST", "/api/import", body=body, headers={
                "Authorization": f"Bearer {token}", "Origin": EXT_ORIGIN, "Content-Type": "application/json",
                "Content-Length": str(os.path.getsize(path))})
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def capture(items, url="https://blog.example/2026/11/klout", title="Klout post"):
    return {"v": 1, "page": {"url": url, "title": title}, "items": items}


def post_item(pid="post-1", author="martinwaxman", name="Martin Waxman", **kw):
    return {"id": pid, "kind": "post", "parent": None, "author": {"handle": author, "name": name}, **kw}


def comment_item(cid, author, parent="post-1", **kw):
    return {"id": cid, "kind": "comment", "parent": parent, "author": {"handle": author, "name": author.title()},
            "at": "2026-11-20T09:14:00Z", "text": f"comment {cid}", **kw}
