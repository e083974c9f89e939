"""The scorer's part of a capture, this checkout against an earlier commit, measured paired.

    python bench/bench_capture_paired.py --base REV [--size 1000000] [--captures 300] [--keep DIR]

The shared machine's speed drifts by 2x within an hour, so whole runs alternated cannot tell a
10% change from the drift. Here one process holds two scorers loaded from the same store: one of
this checkout's code and one of REV's (its `scoring/` exported by git into a temporary package,
`scoring_base`). Each capture is stored once and given to both, in alternating order, each timed
for its add, update and the answer's explanations, as the server does them. The answers must be
equal at every capture. Prints each side's p50/p90/p99 and the per-capture ratio new/base
(median, p10, p90). The store is filled as bench_server.py fills it (`--keep` reuses one).
"""
from __future__ import annotations

import argparse
import importlib
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench_server import fill, fresh_copy, page, pct  # noqa: E402
from machine import machine_reference  # noqa: E402
from server.app import BADGE_PEOPLE, _StoredItems, create_app  # noqa: E402
from server.contract import validate_capture  # noqa: E402
from scoring.items import author_identity  # noqa: E402


def base_package(rev: str, into: Path):
    """REV's scoring package, importable as scoring_base (its modules import each other
    relatively)."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "scoring"], check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    (into / "scoring").rename(into / "scoring_base")
    sys.path.insert(0, str(into))
    return importlib.import_module("scoring_base")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="the commit to compare with")
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--captures", type=int, default=300)
    ap.add_argument("--keep", type=Path, help="keep the filled store under this dir and reuse it")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cloutlens-paired-"))
    try:
        base_dir = args.keep or tmp
        filled_dir = base_dir / f"data-{args.size}"
        if not (filled_dir / "items").exists():
            fill(filled_dir, args.size)
        work = tmp / "work"
        fresh_copy(filled_dir, work)
        scoring_base = base_package(args.base, tmp / "pkg")
        ref = machine_reference()

        app = create_app({"DATA_DIR": str(work), "BACKGROUND_SCORING": False})
        services = app.extensions["cloutlens"]
        services.wait_scores()
        new = services.scorer
        base = scoring_base.Scorer(settings=services.scorer_settings(), items=_StoredItems(services))
        base.load_stream(services.for_scorer(docs) for docs in services.store.iter_shards())
        base.prepare()

        rng = random.Random("paired")
        times = {"new": [], "base": []}
        for i in range(args.captures):
            cap = validate_capture(page(8_000_000 + i, rng))
            stored = services.store.add_batches([(cap["items"], "2026-12-03T00:00:00Z")])
            changed = [doc for r in stored for doc in r["items"]]
            authors = sorted({author_identity(it) for it in cap["items"]})
            order = [("new", new), ("base", base)]
            if i % 2:
                order.reverse()
            answers = []
            for name, scorer in order:
                t = time.perf_counter()
                scorer.add(changed)
                answers.append(scorer.results(authors, people=BADGE_PEOPLE))
                times[name].append((time.perf_counter() - t) * 1000)
            if answers[0] != answers[1]:
                sys.exit(f"capture {i}: the two scorers answer differently")
        services.store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ratio = [a / b for a, b in zip(times["new"], times["base"])]
    print({"machine": ref, "size": args.size, "captures": args.captures, "base": args.base})
    for name in ("new", "base"):
        xs = times[name]
        print(f"{name:4s} p50 {pct(xs, 50):.1f} p90 {pct(xs, 90):.1f} p99 {pct(xs, 99):.1f} ms")
    print(f"new/base per capture: median {statistics.median(ratio):.3f}, p10 {pct(ratio, 10):.3f}, "
          f"p90 {pct(ratio, 90):.3f}")


if __name__ == "__main__":
    main()
