"""Real parts for end-to-end tests: the `cloutlens serve` process on a free loopback port, a small
web server for test pages reached under real-looking host names, and Debian's Chromium with the
unpacked extension loaded, driven by Python Playwright."""
from __future__ import annotations

import http.server
import os
import re
import shutil
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"
FIXTURES = ROOT / "tests" / "fixtures" / "e2e"
CHROMIUM = "/usr/lib/chromium/chromium"
# Test pages are served under these names, mapped to the local page server by Chromium itself.
PAGE_HOSTS = ("blog.example", "news.example", "forum.example")


def require_chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")


class LiveServer:
    def __init__(self, data_dir: Path, extra_args: tuple[str, ...] = ()):
        self.data_dir = data_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", *extra_args, "--port", "0", "--data-dir", str(data_dir)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        )
        self.lines: list[str] = []
        deadline = time.monotonic() + 60  # a loaded 2-core machine starts slowly
        self.port = None
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
            raise RuntimeError("cloutlens serve did not start:\n" + "".join(self.lines))
        # Keep draining its output (pairing codes are printed there) so the pipe never fills.
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def live_server(tmp_path):
    server = LiveServer(tmp_path / "data")
    yield server
    server.stop()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def page_server():
    """Serves tests/fixtures/e2e/ on a free loopback port."""
    handler = lambda *a, **kw: _Quiet(*a, directory=str(FIXTURES), **kw)  # noqa: E731
    httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield httpd.server_address[1]
    httpd.shutdown()


@pytest.fixture(scope="session")
def playwright_instance():
    require_chromium()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


@pytest.fixture
def browser(playwright_instance, page_server, tmp_path):
    """A fresh Chromium profile with the unpacked extension; yields (context, extension worker)."""
    profile = tmp_path / "profile"
    rules = ",".join(f"MAP {h} 127.0.0.1:{page_server}" for h in PAGE_HOSTS)
    ctx = playwright_instance.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=[
            f"--disable-extensions-except={EXTENSION}",
            f"--load-extension={EXTENSION}",
            f"--host-resolver-rules={rules}",
            "--disable-background-networking",
            "--disable-component-update",
        ],
    )
    worker = ctx.service_workers[0] if ctx.service_workers else ctx.wait_for_event("serviceworker", timeout=15000)
    yield ctx, worker
    ctx.close()
    shutil.rmtree(profile, ignore_errors=True)
