"""A real `cloutlens serve --demo` over a small demo data set (plus a hostile name) written
before the server starts, for the browser tests."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from dash_data import HOSTILE_NAME, HOSTILE_TEXT, LONG_NAME
from e2e.conftest import LiveServer
from scoring.items import normalize_item
from server import demo
from server.app import create_app


def write_data(data_dir: Path):
    """A small demo data set plus a hostile name and a very long one, written before the server starts."""
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    s = app.extensions["cloutlens"]
    try:
        demo.populate(s, seed=5, end=datetime(2026, 11, 20, tzinfo=timezone.utc), days=70, people=80,
                      history_days=45)
        raw = [{"id": "post-1", "kind": "post", "author": {"handle": "martin", "name": "Martin"},
                "at": "2026-11-18T08:00:00Z", "text": "a post"},
               {"id": "comment-1", "kind": "comment", "parent": "post-1", "at": "2026-11-18T09:00:00Z",
                "author": {"handle": HOSTILE_NAME, "name": HOSTILE_NAME}, "text": HOSTILE_TEXT},
               {"id": "comment-2", "kind": "comment", "parent": "post-1", "at": "2026-11-18T09:30:00Z",
                "author": {"handle": LONG_NAME, "name": LONG_NAME}, "text": "a name with no space to break at"}]
        s.store.add_items([normalize_item(r, "blog.example") for r in raw], "2026-11-18T10:00:00Z")
    finally:
        s.store.close()


def DemoServer(data_dir: Path) -> LiveServer:
    return LiveServer(data_dir, ("--demo",))
