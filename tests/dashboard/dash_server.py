"""A real `cloutlens serve --demo` over a small demo data set (plus a hostile name) written
before the server starts, for the browser tests."""
from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from dash_data import HOSTILE_NAME, HOSTILE_TEXT
from e2e.conftest import ROOT
from scoring.items import normalize_item
from server import demo
from server.app import create_app


def write_data(data_dir: Path):
    """A small demo data set plus a hostile name, written before the server starts."""
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    s = app.extensions["cloutlens"]
    try:
        demo.populate(s, seed=5, end=datetime(2026, 11, 20, tzinfo=timezone.utc), days=70, people=80,
                      history_days=45)
        raw = [{"id": "post-1", "kind": "post", "author": {"handle": "martin", "name": "Martin"},
                "at": "2026-11-18T08:00:00Z", "text": "a post"},
               {"id": "comment-1", "kind": "comment", "parent": "post-1", "at": "2026-11-18T09:00:00Z",
                "author": {"handle": HOSTILE_NAME, "name": HOSTILE_NAME}, "text": HOSTILE_TEXT}]
        s.store.add_items([normalize_item(r, "blog.example") for r in raw], "2026-11-18T10:00:00Z")
    finally:
        s.store.close()


class DemoServer:
    def __init__(self, data_dir: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--demo", "--port", "0", "--data-dir", str(data_dir)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.lines, self.port = [], None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            m = re.search(r"server on http://127\.0\.0\.1:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.stop()
            raise RuntimeError("cloutlens serve --demo did not start:\n" + "".join(self.lines))
        threading.Thread(target=lambda: [self.lines.append(x) for x in self.proc.stdout], daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
