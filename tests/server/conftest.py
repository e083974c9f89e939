"""Fixtures of the server tests that run a real `cloutlens serve` process."""
from __future__ import annotations

from pathlib import Path

import pytest

from serverproc import ServerProcess


def pytest_configure(config):
    config.addinivalue_line("markers", "fault: kills or loads a real server process (tens of seconds; CI runs it)")


@pytest.fixture
def server_factory():
    started = []

    def start(data_dir: Path, *options: str) -> ServerProcess:
        srv = ServerProcess(data_dir, *options)
        started.append(srv)
        return srv
    yield start
    for srv in started:
        if srv.proc.poll() is None:
            srv.kill()
