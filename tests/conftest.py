"""Shared fixtures: a real app over a real TinyDB directory in a temp dir, and a paired client."""
from __future__ import annotations

import pytest

from helpers import EXT_ORIGIN, pair
from server.app import create_app


@pytest.fixture
def app(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "TESTING": True})
    yield app
    app.extensions["cloutlens"].store.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def token(client):
    return pair(client)


@pytest.fixture
def auth(token):
    return {"Authorization": f"Bearer {token}", "Origin": EXT_ORIGIN}
