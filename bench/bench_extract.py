"""Extraction benchmarks (issue 4).

1. JS: extension/extract.js on generated 1,000-comment pages (WordPress, nested replies; Hacker
   News, flat rows with depth numbers) in Debian's Chromium. extract() is synchronous, so the time
   around the call is main-thread time. Target: at most 50 ms.
2. Python: `import_paths` on 1,000 saved pages made from the corpus (about 200 KB each on average),
   stored into a fresh Store, with as many parsing processes as the machine has cores, then
   imported again (which must add nothing). `--runs` times; medians of wall time and CPU time
   (this process and its workers), with the load average, since the machine is shared.
   Target: 1,000 pages in at most 60 s on a 2-core machine.

    python bench/bench_extract.py [--pages 1000] [--runs 3] [--comments 1000] [--skip-js] [--skip-python]

Prints one JSON object. The corpus is read from ../shared/corpus beside the checkout; the page
copies live in a temp dir and are deleted afterwards.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from html import escape
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
CHROMIUM = "/usr/lib/chromium/chromium"

WORDS = ("garden fern stone river lamp quiet bright window coffee paper north sparrow bread copper "
         "ladder orchard velvet harbor maple thunder").split()


def sentence(rng, n=25):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def wordpress_page(n: int, seed: int = 1) -> str:
    """A WordPress post with n comments in the core markup: threads up to 4 deep."""
    rng = random.Random(seed)
    out = ['<!DOCTYPE html><html><head><meta charset="utf-8"><title>Bench post</title>',
           '<link rel="canonical" href="https://bench.example/2025/01/post/"></head>',
           '<body class="single postid-42"><article id="post-42"><h1 class="entry-title">Bench post</h1>',
           '<span class="byline"><span class="author vcard"><a class="url fn n" rel="author" href="/author/a/">Ann Author</a></span></span>',
           '</article><div id="comments"><ol class="comment-list">']
    made = 0
    cid = 1000

    def comment(depth):
        nonlocal made, cid
        cid += 1
        made += 1
        me = cid
        name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"
        out.append(
            f'<li id="comment-{me}" class="comment depth-{depth}"><article id="div-comment-{me}" class="comment-body">'
            f'<footer class="comment-meta"><div class="comment-author vcard"><img class="avatar" src="data:," alt="">'
            f'<b class="fn"><a class="url" href="https://{rng.choice(WORDS)}.example/">{escape(name)}</a></b> '
            f'<span class="says">says:</span></div><div class="comment-metadata">'
            f'<a href="https://bench.example/2025/01/post/#comment-{me}"><time datetime="2025-01-0{1 + me % 9}T10:{me % 60:02d}:00+00:00">Jan</time></a>'
            f'</div></footer><div class="comment-content"><p>{sentence(rng)}</p><p>{sentence(rng, 12)}</p></div>'
            f'<div class="reply"><a class="comment-reply-link" href="#comment-{me}">Reply</a></div></article>')
        if depth < 4 and made < n and rng.random() < 0.45:
            out.append('<ol class="children">')
            for _ in range(rng.randint(1, 3)):
                if made < n:
                    comment(depth + 1)
            out.append("</ol>")
        out.append("</li>")

    while made < n:
        comment(1)
    out.append("</ol></div></body></html>")
    return "".join(out)


def hackernews_page(n: int, seed: int = 2) -> str:
    rng = random.Random(seed)
    rows = ['<html><head><title>Bench | Hacker News</title></head><body><table class="fatitem">'
            '<tr class="athing submission" id="1"><td class="title"><span class="titleline"><a href="https://x.example">Bench</a></span></td></tr>'
            '<tr><td class="subtext"><span class="score">10 points</span> by <a href="user?id=op" class="hnuser">op</a></td></tr>'
            '</table><table class="comment-tree">']
    depth = 0
    for i in range(n):
        depth = rng.randint(0, min(depth + 1, 6)) if i else 0
        user = f"{rng.choice(WORDS)}{i % 97}"
        rows.append(
            f'<tr class="athing comtr" id="{100 + i}"><td><table><tr><td class="ind" indent="{depth}"></td>'
            f'<td class="default"><span class="comhead"><a href="user?id={user}" class="hnuser">{user}</a> '
            f'<span class="age" title="2025-01-01T00:{i % 60:02d}:00 1735689600"><a href="item?id={100 + i}">1 hour ago</a></span></span>'
            f'<div class="comment"><div class="commtext c00">{sentence(rng)}<p>{sentence(rng, 10)}</div>'
            f'<div class="reply"><p><a href="reply?id={100 + i}">reply</a></div></div></td></tr></table></td></tr>')
    rows.append("</table></body></html>")
    return "".join(rows)


def bench_js(comments: int) -> dict:
    from playwright.sync_api import sync_playwright

    src = (REPO / "extension" / "extract.js").read_text(encoding="utf-8")
    from server.extract import load_adapters
    adapters = load_adapters()
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        for name, html, url in (
            ("wordpress", wordpress_page(comments), "https://bench.example/2025/01/post/"),
            ("hackernews", hackernews_page(comments), "https://news.ycombinator.com/item?id=1"),
        ):
            # A context of its own per page, so the first run is a page's first run: in a page
            # that has already run the engine, V8 reuses the compiled (and baseline-compiled) code.
            ctx = browser.new_context(java_script_enabled=False)
            page = ctx.new_page()
            page.set_content(html, wait_until="domcontentloaded")
            page.evaluate("(src) => { (0, eval)(src); }", src)
            # The adapters go in before the clock starts: handed over as the timed call's argument,
            # Playwright's own decoding of them (cold in a new context) was 12-18 ms of the first run.
            page.evaluate("(args) => { globalThis.__benchArgs = args; }", [adapters, url])
            cdp = ctx.new_cdp_session(page)
            cdp.send("Performance.enable", {"timeDomain": "threadTicks"})

            def thread_time():
                metrics = cdp.send("Performance.getMetrics")["metrics"]
                return next(m["value"] for m in metrics if m["name"] == "ThreadTime")

            runs = []
            for _ in range(7):
                # ThreadTime is the renderer main thread's CPU time: unlike wall time, it does not
                # grow when other processes compete for the machine's two cores.
                before = thread_time()
                r = page.evaluate("""() => {
                    const [adapters, url] = globalThis.__benchArgs;
                    const E = globalThis.CloutlensExtract;
                    const t0 = performance.now();
                    const a = E.pickAdapter(adapters, document, url);
                    const res = E.extract(document, a, url);
                    return {ms: performance.now() - t0, items: res.capture.items.length, adapter: a.name};
                }""")
                r["cpu_ms"] = (thread_time() - before) * 1000
                runs.append(r)
            cpu = [r["cpu_ms"] for r in runs]
            wall = [r["ms"] for r in runs]
            results[name] = {"comments": comments, "items": runs[0]["items"], "adapter": runs[0]["adapter"],
                             "main_thread_ms_first": round(cpu[0], 1), "wall_ms_first": round(wall[0], 1), "main_thread_ms_median": round(statistics.median(cpu), 1),
                             "wall_ms_median": round(statistics.median(wall), 1), "target_ms": 50}
            cdp.detach()
            ctx.close()
        browser.close()
    return results


def make_pages(dest: Path, count: int) -> tuple[int, int]:
    """Copies of the corpus pages; WordPress copies get their own host so their comments are new
    items, as pages from many blogs would be."""
    sources = sorted(CORPUS.glob("*/*.html"))
    if not sources:
        raise SystemExit(f"no corpus pages under {CORPUS}")
    blobs = [(s, s.read_bytes()) for s in sources]
    total = 0
    for i in range(count):
        src, data = blobs[i % len(blobs)]
        if src.parent.name == "wordpress":
            data = re.sub(rb'(<link rel="canonical" href="https?://)([^/"]+)', rb"\g<1>copy%d.\2" % i, data, count=1)
        (dest / f"page-{i:04d}.html").write_bytes(data)
        total += len(data)
    return count, total


def _cpu() -> float:
    import resource
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # pool workers, once they have exited
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _import_once(src: Path, data: Path, workers: int) -> dict:
    from server.importer import import_paths
    from server.storage import Store

    store = Store(data)
    try:
        # CPU time as well as wall time: on a shared machine the wall clock measures the neighbours.
        load = os.getloadavg()[0]
        cpu0 = _cpu()
        t0 = time.perf_counter()
        report = import_paths([src], store=store, workers=workers)
        elapsed = time.perf_counter() - t0
        cpu = _cpu() - cpu0
        cpu1 = _cpu()
        t1 = time.perf_counter()
        again = import_paths([src], store=store, workers=workers)
        elapsed_again = time.perf_counter() - t1
        cpu_again = _cpu() - cpu1
    finally:
        store.close()
    return {"seconds": elapsed, "cpu_seconds": cpu, "load_before": load, "load_after": os.getloadavg()[0],
            "items_found": report.items, "items_added": report.added, "skipped": len(report.skipped),
            "reimport_seconds": elapsed_again, "reimport_cpu_seconds": cpu_again, "reimport_added": again.added}


def bench_python(pages: int, runs: int = 1) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="cloutlens-bench-"))
    try:
        src = tmp / "pages"
        src.mkdir()
        n, size = make_pages(src, pages)
        workers = os.cpu_count() or 1
        done = [_import_once(src, tmp / f"data-{r}", workers) for r in range(runs)]
        med = {k: statistics.median(d[k] for d in done)
               for k in ("seconds", "cpu_seconds", "reimport_seconds", "reimport_cpu_seconds", "load_before")}
        last = done[-1]
        return {"pages": n, "avg_kb": round(size / n / 1024), "workers": workers, "runs": runs,
                "seconds": round(med["seconds"], 1), "pages_per_s": round(n / med["seconds"], 1),
                "cpu_seconds": round(med["cpu_seconds"], 1), "cpu_ms_per_page": round(med["cpu_seconds"] / n * 1000),
                "seconds_if_cores_idle": round(med["cpu_seconds"] / workers, 1),
                "reimport_seconds": round(med["reimport_seconds"], 1),
                "reimport_cpu_seconds": round(med["reimport_cpu_seconds"], 1), "load_median": round(med["load_before"], 1),
                "items_found": last["items_found"], "items_added": last["items_added"], "skipped": last["skipped"],
                "reimport_added": max(d["reimport_added"] for d in done),
                "each_run": [{k: round(v, 1) if isinstance(v, float) else v for k, v in d.items()
                              if k in ("seconds", "cpu_seconds", "reimport_seconds", "reimport_cpu_seconds",
                                       "load_before", "load_after")}
                             for d in done],
                "target_seconds": 60}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--comments", type=int, default=1000)
    ap.add_argument("--skip-js", action="store_true")
    ap.add_argument("--skip-python", action="store_true")
    ap.add_argument("--runs", type=int, default=3, help="Python import runs (medians are reported)")
    args = ap.parse_args()
    out = {}
    if not args.skip_js:
        out["js_extract"] = bench_js(args.comments)
    if not args.skip_python:
        out["python_import"] = bench_python(args.pages, args.runs)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
