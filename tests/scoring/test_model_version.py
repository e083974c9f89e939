"""The model's version moves with its constants: changing a number in scoring/model.py without a
new model.VERSION fails here, so that a history chart never shows a model's step unmarked."""
from __future__ import annotations

import hashlib
import numbers

import numpy as np

from scoring import model

# model.VERSION -> the fingerprint of model.py's constants under it. A new version: add a line
# (the failure below prints the fingerprint) and record the change in docs/scoring.md.
KNOWN = {
    "2026-12-07": "a95b4fca7126954b",
    "2026-12-08": "7c98ca9ca575e67b",  # the copy rule (COPY_MIN_WORDS)
    "2026-12-09": "ef731643cc92b0c1",  # copies grouped in 7-day episodes (COPY_WINDOW_DAYS)
    "2026-12-10": "57d602fe451813b3",  # the reach ceiling (REACH_STEPS)
}


def fingerprint() -> str:
    parts = []
    for name in sorted(vars(model)):
        value = getattr(model, name)
        if not name.isupper() or name == "VERSION":
            continue
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, (numbers.Number, str, tuple, list)):
            parts.append(f"{name}={value!r}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def test_the_model_constants_are_those_of_its_version():
    got = fingerprint()
    assert KNOWN.get(model.VERSION) == got, (
        f"scoring/model.py's constants changed (fingerprint {got}) under model.VERSION {model.VERSION}: "
        "give the model a new VERSION, add it to KNOWN here, and record the change in docs/scoring.md")


def test_the_fingerprint_sees_a_changed_constant(monkeypatch):
    before = fingerprint()
    monkeypatch.setattr(model, "PAIR_CAP", model.PAIR_CAP + 1e-9)
    assert fingerprint() != before
    monkeypatch.setattr(model, "KIND_WEIGHT", model.KIND_WEIGHT * 2)
    assert fingerprint() != before


def test_every_version_is_a_distinct_date():
    assert len(set(KNOWN.values())) == len(KNOWN)
    for version in KNOWN:
        np.datetime64(version)  # a day, as the docs' list names them


def test_the_command_names_the_model_it_scores_with():
    from click.testing import CliRunner

    from server.cli import main
    out = CliRunner().invoke(main, ["--version"])
    assert out.exit_code == 0 and f"(scoring model {model.VERSION})" in out.output
