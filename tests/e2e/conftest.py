"""Real parts for end-to-end tests: the `cloutlens serve` process on a free loopback port, a small
web server for test pages reached under real-looking host names, and Debian's Chromium with the
unpacked extension loaded, driven by Python Playwright.

The extension asks for no site at install: each site is an optional host permission the user
grants through the browser's prompt, which headless Chromium cannot answer (no switch or DevTools
command accepts it). So a profile is prepared the way a user's would be after granting the test
sites: Chromium is started once with a copy of the extension whose manifest lists those sites as
install-time host permissions, then restarted on the same profile with the real manifest. Chromium
keeps a granted host as an active optional permission when it moves from host_permissions to
optional_host_permissions, so the tests then run the real manifest with those sites granted, and
the extension can remove them (and the tests can see that) exactly as a user's grant."""
from __future__ import annotations

import http.server
import json
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
# disqus.com is here so a page can embed a Disqus iframe that never leaves the machine.
PAGE_HOSTS = ("blog.example", "news.example", "forum.example", "disqus.com")


def require_chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")


class LiveServer:
    def __init__(self, data_dir: Path, extra_args: tuple[str, ...] = (), port: int = 0):
        self.data_dir = data_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", *extra_args, "--port", str(port), "--data-dir", str(data_dir)],
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


# One Playwright per module, not per session: a test elsewhere that starts its own
# sync_playwright (tests/dashboard/test_demo_badges.py) cannot while another one is running.
@pytest.fixture(scope="module")
def playwright_instance():
    require_chromium()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


def site_script_id(host: str) -> str:
    """The id the background worker registers the content script under for a granted site."""
    return f"site:*://{host}/*"


def _launch(playwright_instance, ext_dir: Path, profile: Path, page_port: int, extra_args=()):
    rules = ",".join(f"MAP {h} 127.0.0.1:{page_port}" for h in PAGE_HOSTS)
    ctx = playwright_instance.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=[
            f"--disable-extensions-except={ext_dir}",
            f"--load-extension={ext_dir}",
            f"--host-resolver-rules={rules}",
            "--disable-background-networking",
            "--disable-component-update",
            # Lets a test press the toolbar button (DevTools Extensions.triggerAction), which is
            # what lends the popup the current tab's address through activeTab.
            "--enable-unsafe-extension-debugging",
            *extra_args,
        ],
    )
    worker = ctx.service_workers[0] if ctx.service_workers else ctx.wait_for_event("serviceworker", timeout=15000)
    return ctx, worker


def wait_registered(worker, hosts, timeout=15.0) -> list[dict]:
    """Polls until the worker has registered a content script for each host (and only those)."""
    want = {site_script_id(h) for h in hosts}
    deadline = time.monotonic() + timeout
    found = []
    while time.monotonic() < deadline:
        found = worker.evaluate("() => chrome.scripting.getRegisteredContentScripts()")
        if {s["id"] for s in found if s["id"].startswith("site:")} == want:
            return found
        time.sleep(0.1)
    raise AssertionError(f"content scripts for {sorted(want)} not registered: {found}")


class ExtensionBrowsers:
    """Starts Chromium with a copy of the unpacked extension on a fresh profile in which the
    `granted` sites were granted (see the module's docstring)."""

    def __init__(self, playwright_instance, page_port: int, tmp_path: Path):
        self.pw = playwright_instance
        self.page_port = page_port
        self.tmp = tmp_path
        self.running: dict[int, tuple] = {}  # id(ctx) -> (ctx, extension dir, profile)
        self.n = 0

    def start(self, granted=PAGE_HOSTS, extra_args=()):
        """Returns (context, extension worker)."""
        self.n += 1
        ext_dir = self.tmp / f"extension-{self.n}"
        profile = self.tmp / f"profile-{self.n}"
        shutil.copytree(EXTENSION, ext_dir)
        return self._open(ext_dir, profile, granted, extra_args)

    def restart_granting(self, ctx, granted, extra_args=()):
        """Closes `ctx` and starts the same profile again after granting `granted` (what a user
        answering the browser's prompt does); returns the new (context, extension worker)."""
        _, ext_dir, profile = self.running.pop(id(ctx))
        ctx.close()
        return self._open(ext_dir, profile, granted, extra_args)

    def _open(self, ext_dir, profile, granted, extra_args):
        manifest = (ext_dir / "manifest.json").read_text()
        if granted:
            prep = json.loads(manifest)
            prep["host_permissions"] = prep["host_permissions"] + [f"*://{h}/*" for h in granted]
            (ext_dir / "manifest.json").write_text(json.dumps(prep))
            try:
                ctx, _ = _launch(self.pw, ext_dir, profile, self.page_port)
                ctx.close()
            finally:
                (ext_dir / "manifest.json").write_text(manifest)
        ctx, worker = _launch(self.pw, ext_dir, profile, self.page_port, extra_args)
        self.running[id(ctx)] = (ctx, ext_dir, profile)
        return ctx, worker

    def close(self):
        for ctx, _, profile in self.running.values():
            ctx.close()
            shutil.rmtree(profile, ignore_errors=True)
        self.running.clear()


@pytest.fixture
def extension_browsers(playwright_instance, page_server, tmp_path):
    browsers = ExtensionBrowsers(playwright_instance, page_server, tmp_path)
    yield browsers
    browsers.close()


@pytest.fixture
def browser(extension_browsers):
    """A fresh Chromium profile with the unpacked extension and every test site granted; yields
    (context, extension worker)."""
    ctx, worker = extension_browsers.start()
    wait_registered(worker, PAGE_HOSTS)
    return ctx, worker
