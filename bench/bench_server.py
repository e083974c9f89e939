"""Server benchmark: capture latency with 0 / 100k / 1M items stored, cold start, bulk import rate.

    python bench/bench_server.py --sizes 0,100000,1000000 --captures 100 [--store-only | --app-only] [--keep DIR]

Each size gets a fresh data dir filled by bulk import (the store's add_items in batches, as
`import` does), then timed captures of new 200-item pages through the whole request path
(Flask app: checks, validation, durable write, scorer update, scores in the answer), and the
app's cold start as `serve` does it: the time until it answers (store open + index) and until
scores are ready (the scorer's load and first full computation), then, after a clean stop (which
writes the checkpoints), the same for the next start. Captures are timed once the start's own work
is done (a scorer loaded from items is saved after its scores are served: `start_saved_after_s`).
Then a first start again, in a fresh process with no checkpoint at all, for its peak RSS
(`first_start_fresh_process`). First, the sentiment evaluator's time a comment against
vaderSentiment's. Figures go to docs/storage.md.
Bounded: one process (and a short-lived one per size for the first start's peak), at most
--captures requests per size. On a shared machine, compare the *_cpu_* figures (this process's
CPU time) with the wall-clock ones to see the contention.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from machine import machine_reference  # noqa: E402
from server.contract import validate_capture  # noqa: E402
from server.storage import Store  # noqa: E402

SITES = [f"site{i}.example" for i in range(20)]
PEOPLE = 50_000
PAGE_ITEMS = 200
WORDS = ("influence klout score blog comment reply great post thanks agree disagree data privacy "
         "marketing social network brand community trust").split()


# Pages are dated over the 85 days before today (page n on day n % 85), so that what is stored
# is inside the scoring horizon and scored, as a real store of recent browsing would be.
DAYS_BACK = 85
FIRST_DAY = (int(time.time()) // 86400 - DAYS_BACK) * 86400


def page(no: int, rng: random.Random) -> dict:
    """A capture of one page: a post and 199 comments, a third of them replies, some mentions."""
    site = SITES[no % len(SITES)]
    day = no % DAYS_BACK
    items = [{"id": f"p{no}", "kind": "post", "parent": None,
              "author": {"handle": f"u{rng.randrange(PEOPLE // 50)}", "name": "Author"},
              "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(FIRST_DAY + day * 86400)),
              "text": " ".join(rng.choices(WORDS, k=30))}]
    for c in range(1, PAGE_ITEMS):
        parent = f"p{no}" if c < 3 or rng.random() < 0.66 else f"p{no}c{rng.randrange(1, c)}"
        item = {"id": f"p{no}c{c}", "kind": "comment", "parent": parent,
                "author": {"handle": f"u{int(rng.paretovariate(1.2) * 7) % PEOPLE}", "name": "Someone"},
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(FIRST_DAY + day * 86400 + c * 60)),
                "text": " ".join(rng.choices(WORDS, k=rng.randrange(5, 40))),
                "reactions": {"like": rng.randrange(20)}}
        if rng.random() < 0.1:
            item["mentions"] = [f"u{rng.randrange(PEOPLE)}"]
        items.append(item)
    return {"v": 1, "page": {"url": f"https://{site}/post/{no}", "title": f"Post {no}"}, "items": items}


def fill(data_dir: Path, n_items: int) -> dict:
    """Bulk import n_items through Store.add_items in batches of 50 pages (10,000 items)."""
    rng = random.Random(1)
    store = Store(data_dir)
    t0 = time.perf_counter()
    pages = n_items // PAGE_ITEMS
    batch = []
    for no in range(pages):
        batch.extend(validate_capture(page(no, rng))["items"])
        if len(batch) >= 10_000 or no == pages - 1:
            store.add_items(batch, "2026-01-01T00:00:00Z")
            batch = []
    elapsed = time.perf_counter() - t0
    count = store.count_items()
    store.close()
    size = sum(p.stat().st_size for p in (data_dir / "items").glob("*.json"))
    return {"items": count, "seconds": round(elapsed, 1), "items_per_s": round(count / elapsed) if elapsed else None,
            "mb_on_disk": round(size / 1e6, 1), "next_page": pages}


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def time_store_captures(data_dir: Path, first_page: int, n: int) -> dict:
    # Seeded by size: with one seed every size would capture the same texts, and the process-wide
    # VADER cache would hide the sentiment cost after the first size.
    rng = random.Random(f"store-{first_page}")
    t0, c0 = time.perf_counter(), time.process_time()
    store = Store(data_dir)
    open_s, open_cpu = time.perf_counter() - t0, time.process_time() - c0
    lat_new, lat_same, cpu_new = [], [], []
    for i in range(n):
        items = validate_capture(page(first_page + i, rng))["items"]
        t, c = time.perf_counter(), time.process_time()
        store.add_items(items, "2026-01-02T00:00:00Z")
        lat_new.append((time.perf_counter() - t) * 1000)
        cpu_new.append((time.process_time() - c) * 1000)
        t = time.perf_counter()
        store.add_items(items, "2026-01-02T00:00:00Z")
        lat_same.append((time.perf_counter() - t) * 1000)
    store.close()
    return {"store_open_s": round(open_s, 2), "store_open_cpu_s": round(open_cpu, 2),
            "store_new_page_cpu_ms": {"p50": round(pct(cpu_new, 50), 1), "p99": round(pct(cpu_new, 99), 1)},
            "store_new_page_ms": {"p50": round(pct(lat_new, 50), 1), "p99": round(pct(lat_new, 99), 1)},
            "store_same_page_ms": {"p50": round(pct(lat_same, 50), 2), "p99": round(pct(lat_same, 99), 2)}}


def timed_start(data_dir: Path):
    """The app as `serve` starts it, with the wall and CPU seconds until it answers, until its
    scores are ready, and until the start's work is done (a scorer loaded from items, or from an
    outdated checkpoint, is saved after its scores are served)."""
    from server.app import create_app
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    app = create_app({"DATA_DIR": str(data_dir), "BACKGROUND_SCORING": True})
    listening, listening_cpu = time.perf_counter() - t0, time.process_time() - c0
    services = app.extensions["cloutlens"]
    services.wait_scores()
    ready, ready_cpu = time.perf_counter() - t0, time.process_time() - c0
    # Captures are timed once that save is done: it is once per first start (its encoding holds the
    # interpreter, its writes share the disk), and captures meanwhile would time it, not a capture.
    for thread in threading.enumerate():
        if thread.name == "cloutlens-scoring":
            thread.join()
    settled = time.perf_counter() - t0
    return app, services, (listening, listening_cpu, ready, ready_cpu, settled)


def time_app(data_dir: Path, first_page: int, n: int) -> dict:
    """The app as `cloutlens serve` starts it (scorer loading in the background): time until it
    answers (store open), time until scores are ready, then captures with scores in the answer."""
    from helpers import EXT_ORIGIN, pair
    app, services, (listening, listening_cpu, ready, ready_cpu, settled) = timed_start(data_dir)
    client = app.test_client()
    token = pair(client)
    headers = {"Authorization": f"Bearer {token}", "Origin": EXT_ORIGIN}
    rng = random.Random(f"app-{first_page}")
    lat, lat_cpu, lat_again = [], [], []
    for i in range(n):
        cap = page(first_page + 10_000 + i, rng)
        body = json.dumps(cap)
        t, c = time.perf_counter(), time.process_time()
        r = client.post("/api/capture", data=body, headers={**headers, "Content-Type": "application/json"})
        lat.append((time.perf_counter() - t) * 1000)
        lat_cpu.append((time.process_time() - c) * 1000)
        assert r.status_code == 200 and "scoring" not in r.json, r.get_data(as_text=True)[:300]
        t = time.perf_counter()
        client.post("/api/capture", data=body, headers={**headers, "Content-Type": "application/json"})
        lat_again.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    services.close()  # as `serve` stops: the scorer and the index saved for the next start
    closing = time.perf_counter() - t
    del app, services, client
    # the next start, from those checkpoints
    app, services, (again_listening, again_listening_cpu, again_ready, again_ready_cpu, _) = timed_start(data_dir)
    loaded_from = services.loaded_from
    services.close()
    return {"answers_after_s": round(listening, 2), "answers_after_cpu_s": round(listening_cpu, 2),
            "scores_ready_after_s": round(ready, 2), "scores_ready_after_cpu_s": round(ready_cpu, 2),
            "start_saved_after_s": round(settled, 2),
            "close_with_checkpoints_s": round(closing, 2),
            "restart_answers_after_s": round(again_listening, 2),
            "restart_answers_after_cpu_s": round(again_listening_cpu, 2),
            "restart_scores_ready_after_s": round(again_ready, 2),
            "restart_scores_ready_after_cpu_s": round(again_ready_cpu, 2),
            "restart_loaded_from": loaded_from,
            "capture_new_page_ms": {"p50": round(pct(lat, 50), 1), "p99": round(pct(lat, 99), 1)},
            "capture_new_page_cpu_ms": {"p50": round(pct(lat_cpu, 50), 1), "p99": round(pct(lat_cpu, 99), 1)},
            "capture_same_page_ms": {"p50": round(pct(lat_again, 50), 1), "p99": round(pct(lat_again, 99), 1)}}


def first_start_peak(data_dir: Path) -> dict:
    """A first start (no checkpoint at all) in a fresh process: seconds until scores are ready
    and the process's peak RSS (VmHWM), the start's memory high-water mark."""
    shutil.rmtree(data_dir / "checkpoints", ignore_errors=True)
    out = subprocess.run([sys.executable, __file__, "--one-start", str(data_dir)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _one_start(data_dir: Path) -> None:
    _, services, (_, _, ready, _, settled) = timed_start(data_dir)
    with open("/proc/self/status") as fh:
        hwm = next(int(line.split()[1]) // 1024 for line in fh if line.startswith("VmHWM"))
    print(json.dumps({"loaded_from": services.loaded_from, "scores_ready_after_s": round(ready, 2),
                      "start_saved_after_s": round(settled, 2), "peak_rss_mb": hwm}))
    services.close()


def time_sentiment(n_pages: int = 10) -> dict:
    """Microseconds a comment, over the bench's comment texts: the store's evaluator
    (scoring.sentiment.compound, its cache emptied first) and vaderSentiment's own, best of 3."""
    from scoring import sentiment
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    rng = random.Random("sentiment")
    texts = [it["text"] for no in range(n_pages) for it in page(no, rng)["items"][1:]]
    analyzer = SentimentIntensityAnalyzer()

    def best(f):
        runs = []
        for _ in range(3):
            sentiment._cache.clear()
            t = time.perf_counter()
            for text in texts:
                f(text)
            runs.append((time.perf_counter() - t) / len(texts) * 1e6)
        return round(min(runs), 1)
    return {"comments": len(texts), "store_us": best(sentiment.compound),
            "vadersentiment_us": best(lambda t: analyzer.polarity_scores(t)["compound"])}


def fresh_copy(src: Path, dst: Path):
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".lock"))
    # Write the copy out now: otherwise the first fsyncs of the timed captures wait for hundreds of
    # MB of the copy's dirty pages (ext4 commits them with the journal) and time the copy, not us.
    os.sync()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="0,100000,1000000")
    ap.add_argument("--captures", type=int, default=100)
    ap.add_argument("--store-only", action="store_true", help="skip the app (no scorer)")
    ap.add_argument("--app-only", action="store_true", help="skip the store-level timings")
    ap.add_argument("--keep", type=Path, help="keep the filled data dirs under this dir and reuse them")
    ap.add_argument("--one-start", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one_start:
        return _one_start(args.one_start)
    results = {"machine": machine_reference(), "sentiment_per_comment": time_sentiment()}
    print(json.dumps(results), flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        base = args.keep or Path(tempfile.mkdtemp(prefix="cloutlens-bench-"))
        data_dir = base / f"data-{size}"
        meta_file = base / f"data-{size}.json"
        if args.keep and meta_file.exists():
            filled = json.loads(meta_file.read_text())
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
            filled = fill(data_dir, size)
            meta_file.write_text(json.dumps(filled))
            # the timed captures below add pages; keep the reusable copy pristine
        work = base / f"work-{size}"
        res = {"bulk_import": filled}
        if not args.app_only:
            fresh_copy(data_dir, work)
            res.update(time_store_captures(work, filled["next_page"], args.captures))
        if not args.store_only:
            # A fresh copy: the store-level captures above must not count as stored items here.
            fresh_copy(data_dir, work)
            res.update(time_app(work, filled["next_page"], args.captures))
            fresh_copy(data_dir, work)
            res["first_start_fresh_process"] = first_start_peak(work)
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        results[size] = res
        print(json.dumps({size: res}), flush=True)
    return results


if __name__ == "__main__":
    main()
