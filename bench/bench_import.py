"""Importing a Cloutlens export: peak memory and wall time, from the command line and the API.

    python bench/bench_import.py [--items 125000] [--runs 3] [--keep DIR] [--code DIR] [--no-api]

Builds an export of --items synthetic items (bench_server's pages: a post and 199 comments, 20
sites, ~400 bytes an item, so 125,000 items are a 50 MB file) through the server's own export
(server.exchange.export_chunks), kept in --keep and reused. Then, --runs times each, into a fresh
data dir every time:
- `cloutlens import --json FILE` in a process of its own: its peak RSS (VmHWM, read as it ends),
  the wall and CPU time of the whole process (interpreter start and imports included);
- `cloutlens import --dry-run` (the check alone, no scorer);
- POST /api/import of the file to a real `cloutlens serve` on loopback: the server's VmHWM
  after the import, less its VmHWM before it, and the request's wall time and the server's CPU
  time over it (on a shared machine, CPU time is the steadier figure).
--code DIR runs another checkout's code (e.g. `git archive` of the commit before a change,
unpacked) on the same file, for a before/after comparison. Prints medians (and every run) as
JSON. Figures go to docs/storage.md. Bounded: one import at a time, --runs of each.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_server import PAGE_ITEMS, page  # noqa: E402

# Runs the command line in the child and reports its high-water mark on the way out.
RUNNER = """
import json, sys
from server.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    with open("/proc/self/status") as fh:
        hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM"))
    print("BENCH_PEAK_KB", hwm, file=sys.stderr)
"""


def make_export(path: Path, n_items: int) -> dict:
    from server.contract import validate_capture
    from server.exchange import export_chunks
    from server.storage import Store
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))
        rng = random.Random(1)
        batch = []
        pages = n_items // PAGE_ITEMS
        for no in range(pages):
            batch.extend(validate_capture(page(no, rng))["items"])
            if len(batch) >= 10_000 or no == pages - 1:
                store.add_items(batch, "2026-01-01T00:00:00Z")
                batch = []
        from server.busy import Turns
        services = SimpleNamespace(store=store, turns=Turns(threading.RLock()))
        with open(path, "wb") as fh:
            for chunk in export_chunks(services):
                fh.write(chunk)
        count = store.count_items()
        store.close()
    return {"items": count, "mb": round(path.stat().st_size / 1e6, 1)}


def env_for(code: Path) -> dict:
    return dict(os.environ, PYTHONPATH=str(code))


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_cli(code: Path, export: Path, data_dir: Path, *flags: str) -> dict:
    t, c = time.perf_counter(), _children_cpu()
    done = subprocess.run([sys.executable, "-c", RUNNER, "import", "--data-dir", str(data_dir), "--json",
                           *flags, str(export)], cwd=code, env=env_for(code), capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t, _children_cpu() - c
    peak = [line for line in done.stderr.splitlines() if line.startswith("BENCH_PEAK_KB")]
    if done.returncode or not peak:
        raise SystemExit(f"the import failed: {done.stdout[-500:]} {done.stderr[-2000:]}")
    summary = json.loads(done.stdout)
    return {"peak_rss_mb": round(int(peak[-1].split()[1]) / 1024), "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2), "items": summary["items"], "added": summary["added"]}


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _hwm_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024


def run_api(code: Path, export: Path, data_dir: Path) -> dict:
    sys.path.insert(0, str(code / "tests" / "server"))
    sys.path.insert(0, str(code / "tests"))
    try:
        from serverproc import ServerProcess, seed_token
    finally:
        del sys.path[:2]
    token = seed_token(data_dir)
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(code)
    try:
        server = ServerProcess(data_dir)
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved
    try:
        from helpers import post_export
        time.sleep(1.0)  # the scorer's first load of an empty store, off the measured request
        before, cpu = _hwm_mb(server.proc.pid), _cpu_s(server.proc.pid)
        t = time.perf_counter()
        status, answer = post_export(server.port, export, token, timeout=600)
        wall = time.perf_counter() - t
        if status != 200:
            raise SystemExit(f"the import failed: {status} {answer}")
        peak, cpu = _hwm_mb(server.proc.pid), _cpu_s(server.proc.pid) - cpu
    finally:
        server.stop()
    return {"server_peak_rss_mb": round(peak), "server_rss_before_mb": round(before),
            "import_added_mb": round(peak - before), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "added": answer["items"]["added"]}


def medians(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], (int, float))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=125_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="keep the export here and reuse it")
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose code imports (default: this one)")
    ap.add_argument("--no-api", action="store_true", help="skip the import through a real server")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        folder = args.keep or work
        folder.mkdir(parents=True, exist_ok=True)
        export = folder / f"export-{args.items}.json"
        made = {"items": args.items, "mb": round(export.stat().st_size / 1e6, 1)} if export.exists() \
            else make_export(export, args.items)
        out = {"export": made, "code": str(args.code.resolve()), "runs": args.runs}
        for name, run in [("cli_import", lambda d: run_cli(args.code, export, d)),
                          ("cli_dry_run", lambda d: run_cli(args.code, export, d, "--dry-run")),
                          ("api_import", lambda d: run_api(args.code, export, d))]:
            if name == "api_import" and args.no_api:
                continue
            runs = []
            for n in range(args.runs):
                data_dir = work / f"{name}-{n}"
                runs.append(run(data_dir))
                shutil.rmtree(data_dir, ignore_errors=True)
                print(name, runs[-1], file=sys.stderr, flush=True)
            out[name] = {"median": medians(runs), "each": runs}
        print(json.dumps(out, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
