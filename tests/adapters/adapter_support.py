"""Helpers shared by the adapter tests: where the corpus and fixtures live, how pages are read.

(A plain module, not conftest.py, so tests can import it without clashing with tests/conftest.py.)
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
FIXTURES = REPO / "tests" / "fixtures" / "pages"
EXTRACT_JS = REPO / "extension" / "extract.js"
CHROMIUM = "/usr/lib/chromium/chromium"


def corpus_path(rel: str) -> Path:
    p = CORPUS / rel
    if not p.exists():
        pytest.skip(f"corpus page {rel} not found: ../shared/corpus is not beside the checkout")
    return p


def read_page(path: Path) -> str:
    # One decoded string feeds both engines, so the conformance test compares extraction, not
    # two charset sniffers.
    return path.read_bytes().decode("utf-8", errors="replace")


def corpus_html(rel: str) -> str:
    return read_page(corpus_path(rel))


def fixture_html(name: str) -> str:
    return read_page(FIXTURES / name)


def dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True)
