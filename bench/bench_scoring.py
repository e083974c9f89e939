"""Scoring benchmark: `python bench/bench_scoring.py [--sizes 10000,100000,1000000]`.

For each size, in a fresh subprocess (so peak memory is that size's own):
- full rescore from items: Scorer().add(items) then every score (wall and CPU time, peak RSS);
- rescore from the stored interactions: groups rebuilt and PageRank from a cold start;
- prepare(): the update indexes a server builds at start;
- incremental update: one captured comment at a time (40 after two that warm up; median, 90th
  percentile and largest), time until the scores are ready, and the
  time of a results() call for the identities it touched; then the incremental scorer is compared
  with a full recompute on the same items (scores equal, largest raw and standing differences);
- the full rescore with the scorer's C modules and without them (Python and numpy, as an install
  without a compiler runs), alternated in the same process, medians of three;
- PageRank against networkx.pagerank on the same weighted graph (the scorer's pair graph), both at
  the same tight tolerance (L1 change < 1e-10; networkx's own default stops early on large
  graphs), networkx's graph build included, in the same run.
Items are synthetic (bench/synthetic.py): power-law degrees, 100k identities at 1M interactions.
With --parsed they are handed over as a server's store hands them: each with its stored
`sentiment`, and parsed from JSON (every string its own object, every author its own dict),
where the synthetic items share their author dicts and most strings.

With --from-file the same items are written as a JSON Lines file (the offline contract, one item
per line with its site) and `cloutlens score FILE --json` is timed end to end in a fresh process:
wall, CPU (user + system) and peak RSS (the child's VmHWM), interpreter start and output included.
--distinct-texts gives every item its own text (real captures), so VADER runs once per item.

Every run records a machine reference (a fixed pure-Python loop and a fixed numpy sort), since
this shared machine's speed varies by a factor of two or more from one day to the next: compare
figures from different runs through it, or better, alternate the runs being compared.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from machine import machine_reference  # noqa: E402

AT = 1_795_305_600.0  # 2026-11-22T00:00:00Z
TOL = 1e-10
# captures timed one at a time after two that warm up: enough for a tail, since an update's time
# follows how far its standing change spreads (1,000-30,000 identities at 1M), which varies a lot
CAPTURES = 40


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    """The process's peak RSS since reset_peak() (VmHWM), else since it started."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    """Start the peak over once the items are built: building them (JSON copies for --parsed)
    is not the scorer's memory."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def parsed_items(items: list) -> list:
    """The items as a store parsed from its JSON files hands them over, with their sentiment."""
    import orjson

    from scoring.sentiment import compound

    memo = {t: compound(t) for t in {it["text"] for it in items}}
    blob = orjson.dumps([dict(it, sentiment=memo[it["text"]]) for it in items])
    del items
    return orjson.loads(blob)


def one_size(n: int, identities: int, with_nx: bool, parsed: bool = False) -> dict:
    import numpy as np
    import scipy.sparse as sp

    from scoring import Scorer
    from scoring import model
    from scoring.standing import pagerank
    from synthetic import make_items

    out_ref = machine_reference()
    items = make_items(n, identities)
    if parsed:
        items = parsed_items(items)
    gc.collect()
    reset_peak()
    base_rss = rss_mb()
    out = {"interactions_target": n, "identities": identities, "items": len(items),
           "items_form": "parsed" if parsed else "synthetic", **out_ref}

    w, c = time.perf_counter(), time.process_time()
    s = Scorer()
    s.add(items)
    w_add, c_add = time.perf_counter() - w, time.process_time() - c
    scores = s.scores(at=AT)
    out["full_rescore_wall_s"] = round(time.perf_counter() - w, 3)
    out["full_rescore_cpu_s"] = round(time.process_time() - c, 3)
    out["derive_wall_s"] = round(w_add, 3)
    out["derive_cpu_s"] = round(c_add, 3)
    out["rows"] = int(s._rows.n)
    out["pairs"] = int(len(s._struct.pairs))
    out["scored_identities"] = len(scores)
    out["peak_rss_mb"] = round(peak_mb(), 1)
    out["rss_before_mb"] = round(base_rss, 1)
    out["rss_after_mb"] = round(rss_mb(), 1)

    # rescore from the stored interactions: rebuild groups, standing from a cold start
    s._struct, s._weights, s._derived, s._dirty = None, None, None, True
    w, c = time.perf_counter(), time.process_time()
    st = s._compute(AT)
    out["rescore_stored_wall_s"] = round(time.perf_counter() - w, 3)
    out["rescore_stored_cpu_s"] = round(time.process_time() - c, 3)
    out["standing_iterations_cold"] = st.iterations

    # what a server does at start before it takes captures: the update indexes, room to grow
    w, c = time.perf_counter(), time.process_time()
    s.prepare(at=AT)
    out["prepare_wall_s"] = round(time.perf_counter() - w, 3)
    out["prepare_cpu_s"] = round(time.process_time() - c, 3)

    # incremental: one capture at a time
    rng = np.random.default_rng(3)
    posts = [it for it in items if it["kind"] == "post"]
    times, cpus, reads, pushed, stale = [], [], [], [], []
    new_items = []
    for k in range(2 + CAPTURES):
        post = posts[int(rng.integers(len(posts)))]
        author = f"user{int(rng.integers(identities))}"
        item = {"site": post["site"], "id": f"bench-new-{k}", "kind": "comment", "parent": post["id"],
                "author": {"handle": author, "name": author, "url": None}, "at": "2026-11-21T12:00:00Z",
                "text": "Great point, thanks!", "url": None, "reactions": {"like": 3}, "mentions": []}
        new_items.append(item)
        w, c = time.perf_counter(), time.process_time()
        touched = s.add([item])
        st = s._compute(AT)
        times.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
        pushed.append(st.pushed)
        stale.append(st.stale)
        w = time.perf_counter()
        s.results(sorted(touched), at=AT)
        reads.append(time.perf_counter() - w)
    steady = times[2:]  # the first updates also grow arrays and build lookups once
    out["incremental_wall_ms_median"] = round(1000 * statistics.median(steady), 1)
    out["incremental_wall_ms_p90"] = round(1000 * float(np.percentile(steady, 90)), 1)
    out["incremental_wall_ms_max"] = round(1000 * max(steady), 1)
    out["incremental_captures"] = len(steady)
    out["incremental_cpu_ms_median"] = round(1000 * statistics.median(cpus[2:]), 1)
    out["incremental_first_wall_ms"] = round(1000 * times[0], 1)
    out["incremental_standings_pushed"] = int(statistics.median(pushed))
    out["incremental_standings_passed_on"] = int(statistics.median(stale))
    out["results_for_touched_ms_median"] = round(1000 * statistics.median(reads[2:]), 1)

    inc = s.scores(at=AT)
    inc_raw = s._compute(AT).raw.copy()
    inc_s = s._compute(AT).s.copy()
    fresh = Scorer()
    fresh.add(items + new_items)
    full = fresh.scores(at=AT)
    fst = fresh._compute(AT)
    out["incremental_equals_full_scores"] = inc == full
    both = [(i, fresh._ids[name]) for name, i in s._ids.items() if name in fresh._ids]
    a_i = np.array([i for i, _ in both])
    b_i = np.array([j for _, j in both])
    out["incremental_max_standing_rel_diff"] = float(np.max(np.abs(inc_s[a_i] - fst.s[b_i]) / fst.s[b_i]))
    common = {name: i for name, i in s._ids.items()}
    diffs = [(abs(inc_raw[i] - fst.raw[fresh._ids[name]]), fst.raw[fresh._ids[name]]) for name, i in common.items()
             if name in fresh._ids and i < len(inc_raw) and fresh._ids[name] < len(fst.raw)]
    out["incremental_max_raw_diff"] = float(max(d for d, _ in diffs)) if diffs else 0.0
    out["incremental_max_raw_rel_diff"] = float(max((d / r for d, r in diffs if r > 0), default=0.0))
    del fresh, fst

    out.update(compiled_against_python(items))

    # PageRank: ours against networkx on the same graph (the scorer's person-to-person pairs)
    g = s._struct
    W = s._weights
    pa, pt = g.p_actor, g.p_target
    gP = model.saturate(W.P, model.PAIR_CAP)
    sel = (pa != 0) & (gP > 0)
    ea, et, ew = pa[sel], pt[sel], gP[sel]
    nid = len(s._names)
    out["pagerank_nodes"] = nid
    out["pagerank_edges"] = int(len(ea))
    # best of five (this machine is shared; the best run is the least disturbed one)
    walls, cpus = [], []
    for _ in range(5):
        w, c = time.perf_counter(), time.process_time()
        outw = np.bincount(ea, weights=ew, minlength=nid)
        M = sp.csr_matrix((ew / outw[ea], (et, ea)), shape=(nid, nid))
        ours, it = pagerank(M, None, damping=model.DAMPING, tol=TOL, max_iter=10_000)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    out["pagerank_ours_s"] = round(min(walls), 4)
    out["pagerank_ours_cpu_s"] = round(min(cpus), 4)
    out["pagerank_ours_iterations"] = it
    if with_nx:
        import networkx as nx
        w, c = time.perf_counter(), time.process_time()
        G = nx.DiGraph()
        G.add_nodes_from(range(nid))
        G.add_weighted_edges_from(zip(ea.tolist(), et.tolist(), ew.tolist()))
        build = time.perf_counter() - w
        # networkx stops when its L1 change < N * tol: the same L1 criterion as ours
        pr = nx.pagerank(G, alpha=model.DAMPING, weight="weight", tol=TOL / nid, max_iter=10_000)
        total = time.perf_counter() - w
        total_cpu = time.process_time() - c
        theirs = np.array([pr[i] for i in range(nid)])
        out["networkx_build_s"] = round(build, 3)
        out["networkx_total_s"] = round(total, 3)
        out["networkx_cpu_s"] = round(total_cpu, 3)
        out["networkx_over_ours"] = round(total / max(out["pagerank_ours_s"], 1e-9), 1)
        out["networkx_over_ours_cpu"] = round(total_cpu / max(out["pagerank_ours_cpu_s"], 1e-9), 1)
        out["pagerank_max_abs_diff"] = float(np.abs(theirs - ours).max())
    out["peak_rss_mb_end"] = round(peak_mb(), 1)
    return out


def compiled_against_python(items: list, runs: int = 3) -> dict:
    """The full rescore with the C modules (scoring/_itemread.c, _idtable.c) and without them
    (the Python and numpy reading an install without a compiler uses), alternated: medians."""
    from scoring import Scorer, derive, fields

    modules = fields._itemread, derive._idtable
    if None in modules:
        return {"compiled": False}
    walls = {True: [], False: []}
    try:
        for _ in range(runs):
            for compiled in (True, False):
                fields._itemread, derive._idtable = modules if compiled else (None, None)
                gc.collect()
                w = time.perf_counter()
                s = Scorer()
                s.add(items)
                s.scores(at=AT)
                walls[compiled].append(time.perf_counter() - w)
                del s
    finally:
        fields._itemread, derive._idtable = modules
    on, off = statistics.median(walls[True]), statistics.median(walls[False])
    return {"compiled": True, "full_rescore_compiled_median_s": round(on, 3),
            "full_rescore_python_median_s": round(off, 3), "python_over_compiled": round(off / on, 2)}


def write_jsonl(path: str, n: int, identities: int, distinct_texts: bool) -> int:
    """The synthetic items as the offline JSON Lines form; returns the number of lines."""
    import orjson

    from synthetic import make_items

    items = make_items(n, identities)
    with open(path, "wb") as fh:
        for k, it in enumerate(items):
            if distinct_texts:
                it = dict(it, text=f"{it['text']} ({k})")
            fh.write(orjson.dumps(it) + b"\n")
    return len(items)


def from_file(n: int, identities: int, distinct_texts: bool, keep: str | None = None) -> dict:
    """`cloutlens score FILE --json` end to end in a fresh process (the file written first)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = keep or os.path.join(tmp, "items.jsonl")
        if not (keep and os.path.exists(keep)):
            lines = write_jsonl(path, n, identities, distinct_texts)
        else:
            with open(path, "rb") as fh:
                lines = sum(1 for _ in fh)
        out = {"interactions_target": n, "identities": identities, "lines": lines,
               "file_mb": round(os.path.getsize(path) / 2**20, 1), "distinct_texts": distinct_texts,
               **machine_reference()}
        cmd = [sys.executable, "-m", "server.cli", "score", path, "--at", "2026-11-22T00:00:00Z", "--json"]
        with open(os.devnull, "wb") as sink:
            w = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=sink, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - w
        err = proc.stderr.read().decode()
        proc.stderr.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"score failed ({proc.returncode}): {err[-2000:]}")
        out["score_wall_s"] = round(wall, 3)
        out["score_cpu_s"] = round(usage.ru_utime + usage.ru_stime, 3)
        out["score_peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # the child's VmHWM
        out["skipped_lines"] = err.count("skipped ")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--no-networkx", action="store_true")
    ap.add_argument("--parsed", action="store_true", help="items parsed from JSON, with a stored sentiment")
    ap.add_argument("--from-file", action="store_true",
                    help="time `cloutlens score FILE.jsonl --json` end to end on the items written as JSON Lines")
    ap.add_argument("--distinct-texts", action="store_true", help="with --from-file: every item its own text")
    ap.add_argument("--keep-file", metavar="PATH", help="with --from-file: write the file here once and reuse it")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.from_file:
        for n in [int(x) for x in args.sizes.split(",")]:
            print(json.dumps(from_file(n, max(1000, n // 10), args.distinct_texts, args.keep_file)), flush=True)
        return
    if args.one:
        n = args.one
        print(json.dumps(one_size(n, max(1000, n // 10), not args.no_networkx, args.parsed)))
        return
    results = []
    for n in [int(x) for x in args.sizes.split(",")]:
        cmd = [sys.executable, __file__, "--one", str(n)] + (["--no-networkx"] if args.no_networkx else []) \
            + (["--parsed"] if args.parsed else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            raise SystemExit(proc.returncode)
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(res)
        print(json.dumps(res, indent=1), flush=True)
    print("\n| interactions | identities | full rescore wall (cpu) | of which derivation | rescore stored | peak RSS |"
          " incremental median, p90 (max) | networkx / ours | full rescore without / with the C modules (medians) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['rows']:,} | {r['identities']:,} | {r['full_rescore_wall_s']} s ({r['full_rescore_cpu_s']} s) |"
              f" {r['derive_wall_s']} s | {r['rescore_stored_wall_s']} s | {r['peak_rss_mb']:.0f} MB |"
              f" {r['incremental_wall_ms_median']}, {r['incremental_wall_ms_p90']} ms ({r['incremental_wall_ms_max']} ms) |"
              f" {r.get('networkx_over_ours', 'n/a')}x (cpu {r.get('networkx_over_ours_cpu', 'n/a')}x) |"
              + (f" {r['full_rescore_python_median_s']} / {r['full_rescore_compiled_median_s']} s"
                 f" ({r['python_over_compiled']}x) |" if r["compiled"] else " not built |"))


if __name__ == "__main__":
    main()
