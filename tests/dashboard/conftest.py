"""Dashboard fixtures: the hand-written data set captured through the real API."""
from __future__ import annotations

import pytest

from dash_data import blog_page, news_page


@pytest.fixture
def seeded(client, auth):
    for page in (blog_page(), news_page()):
        r = client.post("/api/capture", json=page, headers=auth)
        assert r.status_code == 200, r.json
    return client
