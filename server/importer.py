"""`cloutlens import`: saved HTML pages, WordPress exports (WXR) and Disqus exports into captures.

Every source becomes captures in the same contract the extension sends, with the same ids the
site adapters give the live pages (WordPress "comment-N" / "post-N", Disqus "post-N" on
disqus.com), so importing a blog's export and later reading the blog in the browser store each
comment once. Storing goes through the server's own validation and Store, so importing twice adds
nothing. A damaged file is reported and skipped; the rest imports.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from lxml import etree

from scoring.items import ContractError, author_identity

from .extract import AdapterError, clean, extract_html, parse_html, parse_time, resolve_url, site_of, text_of
from .wording import counted

HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
XML_SUFFIXES = {".xml", ".wxr"}
MAX_ITEMS_PER_CAPTURE = 2000  # server.contract.MAX_ITEMS
TEXT_MAX = 2000
BATCH_ITEMS = 5000  # items per store write: each write is durable, so fewer, larger ones


@dataclass
class Outcome:
    """What one source file gave: captures, or the reason it gave none."""
    path: str
    kind: str  # "html", "wxr", "disqus"
    captures: list = field(default_factory=list)
    adapter: str | None = None
    skipped: str | None = None


@dataclass
class Report:
    files: int = 0
    pages: int = 0
    items: int = 0  # items found in the sources
    added: int = 0
    updated: int = 0
    people: set = field(default_factory=set)
    skipped: list = field(default_factory=list)  # (path, reason)
    adapters: dict = field(default_factory=dict)  # adapter name -> pages
    exports: dict = field(default_factory=dict)  # "wxr" / "disqus" / "cloutlens" -> files
    left_out: int = 0  # items of forgotten people, not imported
    # what Cloutlens exports changed besides items: a file from someone else can forget people
    # here and change settings, and the user must read that in the summary
    changed: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {"files": self.files, "pages": self.pages, "items": self.items, "added": self.added,
                "updated": self.updated, "people": len(self.people),
                "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
                "adapters": dict(sorted(self.adapters.items())), "exports": dict(sorted(self.exports.items())),
                "left_out": self.left_out, "changed": self.changed}


# ---- finding the sources

def iter_sources(paths) -> list[Path]:
    """Files to import, in a stable order: the files given, and the HTML/XML files under each
    folder given."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file()
                              and f.suffix.lower() in HTML_SUFFIXES | XML_SUFFIXES))
        else:
            out.append(p)
    return out


def sniff(data: bytes) -> str:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<?xml") or head.startswith(b"<rss") or head.startswith(b"<disqus"):
        if b"<disqus" in data[:4096].lower():
            return "disqus"
        if b"wordpress.org/export" in data[:8192].lower():
            return "wxr"
        return "xml"
    return "html"


# ---- XML exports

def _xml_root(data: bytes):
    # No DTDs, no entities from outside, no network: exports are untrusted files.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                             remove_comments=True)
    return etree.fromstring(data, parser)


def _html_text(fragment: str | None) -> str:
    """Plain text of an export's comment body (HTML as WordPress or Disqus stored it)."""
    if not fragment or not fragment.strip():
        return ""
    soup = parse_html(f"<div>{fragment}</div>")
    root = soup.body or soup
    return text_of(root, block=True)[:TEXT_MAX]


def _t(el, path: str) -> str:
    v = el.findtext(path)
    return v.strip() if v else ""


def _when(*values) -> str | None:
    for v in values:
        if v and not v.startswith("0000"):
            t = parse_time(v.strip())
            if t:
                return t
    return None


def _chunks(page: dict, items: list[dict]) -> list[dict]:
    return [{"v": 1, "page": page, "items": items[i:i + MAX_ITEMS_PER_CAPTURE]}
            for i in range(0, len(items), MAX_ITEMS_PER_CAPTURE)]


def captures_from_wxr(data: bytes) -> list[dict]:
    """A WordPress export: one capture per post or page with approved comments. Pingbacks,
    trackbacks and unapproved comments are left out, as the blog's own pages leave them out."""
    root = _xml_root(data)
    channel = root.find("channel")
    if channel is None:
        raise ValueError("no <channel>: not a WordPress export")
    # Posts name their author by login; pages show the display name, which the adapter reads.
    display = {_t(a, "{*}author_login"): _t(a, "{*}author_display_name") for a in channel.iterfind("{*}author")}
    out = []
    for item in channel.iterfind("item"):
        link = _t(item, "link")
        url = resolve_url(link, None)
        post_id = _t(item, "{*}post_id")
        if not url or not post_id.isdigit():
            continue
        pid = f"post-{post_id}"
        items = []
        login = _t(item, "{http://purl.org/dc/elements/1.1/}creator")
        name = (display.get(login) or login)[:200]
        if name:
            post = {"id": pid, "kind": "post", "parent": None, "author": {"handle": name[:100], "name": name},
                    "text": clean(_t(item, "title"))[:TEXT_MAX]}
            at = _when(_t(item, "{*}post_date_gmt"), _t(item, "{*}post_date"))
            if at:
                post["at"] = at
            items.append(post)
        for c in item.iterfind("{*}comment"):
            if _t(c, "{*}comment_approved") != "1" or _t(c, "{*}comment_type") not in ("", "comment"):
                continue
            author = clean(_t(c, "{*}comment_author"))[:200]
            cid = _t(c, "{*}comment_id")
            if not author or not cid.isdigit():
                continue
            parent = _t(c, "{*}comment_parent")
            it = {"id": f"comment-{cid}", "kind": "comment",
                  "parent": f"comment-{parent}" if parent.isdigit() and parent != "0" else pid,
                  "author": {"handle": author[:100], "name": author},
                  "text": _html_text(c.findtext("{*}comment_content"))}
            aurl = resolve_url(_t(c, "{*}comment_author_url"), None)
            if aurl:
                it["author"]["url"] = aurl
            at = _when(_t(c, "{*}comment_date_gmt"), _t(c, "{*}comment_date"))
            if at:
                it["at"] = at
            it["url"] = f"{url.split('#')[0]}#comment-{cid}"
            items.append(it)
        if any(i["kind"] == "comment" for i in items):
            page = {"url": url, "title": clean(_t(item, "title"))[:500], "site": site_of(url)}
            out.extend(_chunks(page, items))
    return out


DSQ = "{http://disqus.com/disqus-internals}id"


def captures_from_disqus(data: bytes) -> list[dict]:
    """A Disqus export: one capture per thread, on site disqus.com, with the ids and thread
    address the Disqus adapter reads from the comment frame. Deleted and spam posts are left out,
    and so are posts whose thread is missing from the file."""
    root = _xml_root(data)
    threads = {}
    for th in root.iterfind("{*}thread"):
        link = resolve_url(_t(th, "{*}link"), None)
        if th.get(DSQ) and link:
            threads[th.get(DSQ)] = {"link": link, "forum": _t(th, "{*}forum"), "title": _t(th, "{*}title"),
                                    "items": []}
    for p in root.iterfind("{*}post"):
        th = p.find("{*}thread")
        thread = threads.get(th.get(DSQ) if th is not None else None)
        if thread is None or _t(p, "{*}isDeleted") == "true" or _t(p, "{*}isSpam") == "true":
            continue
        a = p.find("{*}author")
        username = _t(a, "{*}username") if a is not None else ""
        name = clean(_t(a, "{*}name") if a is not None else "")[:200] or username
        if not (username or name) or not p.get(DSQ):
            continue
        parent = p.find("{*}parent")
        # ids are capped as the adapters cap them (256), so a long thread address stays the same id
        it = {"id": f"post-{p.get(DSQ)}"[:256], "kind": "comment",
              "parent": f"post-{parent.get(DSQ)}" if parent is not None and parent.get(DSQ) else thread["link"][:256],
              "author": {"handle": (username or name)[:100], "name": name or username},
              "text": _html_text(p.findtext("{*}message"))}
        if username:
            it["author"]["url"] = f"https://disqus.com/by/{quote(username)}/"
        at = _when(_t(p, "{*}createdAt"))
        if at:
            it["at"] = at
        thread["items"].append(it)
    out = []
    for thread in threads.values():
        if thread["items"]:
            # The address the comment frame has, so the capture's site is disqus.com.
            url = (f"https://disqus.com/embed/comments/?f={quote(thread['forum'], safe='')}"
                   f"&t_u={quote(thread['link'], safe='')}")
            page = {"url": url, "title": clean(thread["title"])[:500], "site": "disqus.com"}
            out.extend(_chunks(page, thread["items"]))
    return out


# ---- one file

def read_source(path: str, url: str | None = None) -> Outcome:
    """Parse one file into captures. Never raises for a bad file: the reason is in `skipped`."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        return Outcome(path, "?", skipped=f"cannot read: {e.strerror or e}")
    if not data.strip():
        return Outcome(path, "?", skipped="empty file")
    kind = sniff(data)
    try:
        if kind == "wxr":
            caps = captures_from_wxr(data)
            return Outcome(path, kind, caps, skipped=None if caps else "no approved comments in this export")
        if kind == "disqus":
            caps = captures_from_disqus(data)
            return Outcome(path, kind, caps, skipped=None if caps else "no comments in this export")
        if kind == "xml":
            return Outcome(path, kind, skipped="XML that is neither a WordPress nor a Disqus export")
    except etree.XMLSyntaxError as e:
        return Outcome(path, kind, skipped=f"damaged XML: {e.msg if hasattr(e, 'msg') else e}")
    except (ValueError, RecursionError) as e:
        return Outcome(path, kind, skipped=f"damaged export: {e}")
    if b"\x00" in data[:1024] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Outcome(path, "html", skipped="binary file, not a saved page")
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")):
        return Outcome(path, "json", skipped="JSON that is no Cloutlens export (items one per line are "
                                             "scored by `cloutlens score FILE`)")
    try:
        capture, adapter = extract_html(data, url=url)
    except (AdapterError, ValueError, RecursionError) as e:
        return Outcome(path, "html", skipped=f"cannot read the page: {e}")
    if adapter is None:
        return Outcome(path, "html", skipped="no adapter recognises this page")
    if not capture["items"]:
        return Outcome(path, "html", adapter=adapter, skipped=f"no comments found ({adapter} adapter)")
    if not capture["page"]["url"]:
        return Outcome(path, "html", adapter=adapter,
                       skipped="the page does not say its address (no <link rel=canonical>); pass --url")
    return Outcome(path, "html", _chunks(capture["page"], capture["items"]), adapter=adapter)


def read_and_validate(path: str, url: str | None = None) -> Outcome:
    """read_source, then the server's own checks: captures come back normalized (as stored), or
    the file is skipped with the contract's message. Runs in the parsing processes."""
    from .contract import validate_capture

    out = read_source(path, url)
    valid = []
    for cap in out.captures:
        try:
            valid.append(validate_capture(cap))
        except ContractError as e:
            out.skipped = f"invalid capture: {e}"
            return Outcome(path, out.kind, adapter=out.adapter, skipped=out.skipped)
    out.captures = valid
    return out


def _read_many(args):
    return [read_and_validate(p, u) for p, u in args]


def _die_with_parent():
    # A parser whose import was killed outright would otherwise wait for work forever.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the command's own handler, inherited
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# ---- Cloutlens's own exports (a move to another machine, a backup restored)

_EXPORT_FIELDS = tuple(b'"%s"' % k for k in (b"exported_at", b"settings", b"links", b"own_identities",
                                            b"forgotten", b"models", b"items", b"history"))


def is_cloutlens_export(path: Path) -> bool:
    """A file `GET /api/export` wrote: a JSON object whose first key says so, or, as another tool
    may write the same fields in another order, one that starts with another field of an export
    and has the version further on."""
    from .exchange import IMPORT_MAX
    from .jsonstream import scan
    try:
        with open(path, "rb") as f:
            head = f.read(256).lstrip(b"\xef\xbb\xbf \t\r\n")
            if not head.startswith(b"{"):
                return False
            first = head[1:].lstrip()
            if first.startswith(b'"cloutlens_export"'):
                return True
            if not first.startswith(_EXPORT_FIELDS):
                return False
            if os.fstat(f.fileno()).st_size > IMPORT_MAX:
                return True  # its import says it is too large, without reading it
            return "cloutlens_export" in scan(f, "items", "history").members
    except (OSError, ValueError):
        return False  # read_source reports it


def import_exports(paths: list[Path], report: Report, services=None):
    """Each export whole, as the dashboard's import takes it (server.exchange): checked
    before anything is stored, links, settings and forgotten people with the items. Without
    services (a dry run) only checked. A file is read as a stream, never held whole."""
    from collections import Counter

    from .exchange import IMPORT_MAX, ImportIncomplete, check_export, import_export
    for path in paths:
        authors: Counter = Counter()  # for the summary's people: one entry a person, not an item

        def count(item):
            authors[author_identity(item)] += 1
        try:
            with open(path, "rb") as fh:
                if os.fstat(fh.fileno()).st_size > IMPORT_MAX:
                    raise ValueError(f"over {IMPORT_MAX // 2**20} MB, the most an import takes")
                checked = check_export(fh, count)
                got = import_export(services, fh, checked) if services is not None else None
        except ImportIncomplete as e:  # part of it is stored: not "invalid", and not skipped whole
            report.skipped.append((str(path), str(e)))
            report.added += e.totals["added"]
            report.updated += e.totals["updated"]
            continue
        except OSError as e:
            report.skipped.append((str(path), f"cannot read: {e.strerror or e}"))
            continue
        except (ValueError, ContractError) as e:  # jsonstream.NotJSON is a ValueError
            report.skipped.append((str(path), f"invalid Cloutlens export: {e}"))
            continue
        report.exports["cloutlens"] = report.exports.get("cloutlens", 0) + 1
        gone = set(checked.forgotten)
        if got is not None:
            report.added += got["items"]["added"]
            report.updated += got["items"]["updated"]
            gone |= set(services.store.get_config("forgotten") or ())
            ch = report.changed
            ch["forgotten"] = ch.get("forgotten", []) + got["forgotten_here"]
            ch["items_removed"] = ch.get("items_removed", 0) + got["items_removed"]
            ch["settings"] = sorted(set(ch.get("settings", [])) | set(got["settings"]))
            ch["links"] = ch.get("links", 0) + got["links"]
            ch["own_identities"] = ch.get("own_identities", 0) + got["own_identities"]
            ch["snapshots"] = ch.get("snapshots", 0) + got["history"]["snapshots_added"]
        report.items += checked.items
        report.people.update(a for a in authors if a not in gone)
        report.left_out += got["left_out"] if got is not None else sum(n for a, n in authors.items() if a in gone)


# ---- the whole import

def import_paths(paths, store=None, url: str | None = None, progress=None, workers: int | None = None,
                 dry_run: bool = False) -> Report:
    """Import files and folders into `store` (a server.storage.Store). `progress(n)` is called as
    files finish. With dry_run (or no store) nothing is written and `added` stays 0."""
    sources = iter_sources(paths)
    report = Report(files=len(sources))
    if url and len(sources) > 1:
        raise ValueError("--url names one page; give it with a single file")
    seen = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    pending: list[dict] = []
    gone = frozenset(store.get_config("forgotten") or ()) if store is not None else frozenset()

    def flush():
        if pending and store is not None and not dry_run:
            stored = store.add_items(list(pending), seen)
            report.added += stored["added"]
            report.updated += stored["updated"]
        pending.clear()

    def take(outcome: Outcome):
        if outcome.skipped:
            report.skipped.append((outcome.path, outcome.skipped))
            return
        if outcome.adapter:
            report.adapters[outcome.adapter] = report.adapters.get(outcome.adapter, 0) + 1
        elif outcome.kind in ("wxr", "disqus"):
            report.exports[outcome.kind] = report.exports.get(outcome.kind, 0) + 1
        for valid in outcome.captures:
            items = valid["items"]
            report.items += len(items)
            if gone:  # forgotten people stay forgotten, as in the browser (Services.capture)
                items = [i for i in items if author_identity(i) not in gone]
                report.left_out += len(valid["items"]) - len(items)
            report.people.update(author_identity(i) for i in items)
            pending.extend(items)
        report.pages += len({c["page"]["url"] for c in outcome.captures})
        if len(pending) >= BATCH_ITEMS:
            flush()

    # One parsing process per core; past 8 the single writer, not parsing, sets the pace.
    workers = workers if workers is not None else min(8, os.cpu_count() or 1)
    if workers > 1 and len(sources) >= 8:
        # Parsing is CPU-bound (lxml + soupsieve): spread files over processes in small batches,
        # and keep storing in this one (the store is single-writer).
        args = [(str(p), url) for p in sources]
        # Small batches: a page is ~50 ms, and a long last batch would leave the other cores idle.
        step = max(1, min(8, len(args) // (workers * 4) or 1))
        batches = [args[i:i + step] for i in range(0, len(args), step)]
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent)
        try:
            for outcomes in pool.map(_read_many, batches):
                for o in outcomes:
                    take(o)
                    if progress:
                        progress(1)
        finally:
            # Interrupted: drop the batches not started rather than parse them for nothing.
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        for p in sources:
            take(read_and_validate(str(p), url))
            if progress:
                progress(1)
    flush()
    return report


# ---- the command line (wired into server/cli.py's group)

import click  # noqa: E402  (only the commands below need it)


# File names are someone else's text (a downloaded archive's): a terminal would act on their
# control characters (an escape sequence can rewrite the screen), so the report shows them as
# \xNN. What pages say has them removed by extraction already.
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7f, 0xa0)]}


def _printable(text: str) -> str:
    return str(text).translate(_CONTROLS)


def _depths(items: list[dict]) -> dict[str, int]:
    parent = {i["id"]: i["parent"] for i in items}
    out = {}
    for i in items:
        d, p, hops = 0, i["parent"], 0
        while p in parent and hops < 50:
            d, p, hops = d + 1, parent[p], hops + 1
        out[i["id"]] = d
    return out


@click.command("extract")
@click.argument("page", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="The page's address, when the saved file does not say it.")
@click.option("--adapter", "adapter_name", help="Use this adapter (a name from extension/adapters/) instead of picking one.")
@click.option("--json", "as_json", is_flag=True, help="Print the capture (contract v1) as JSON.")
def extract_command(page, url, adapter_name, as_json):
    """Show what Cloutlens would capture from a saved PAGE, without storing anything."""
    import json

    from .extract import explain_pick

    data = page.read_bytes()
    try:
        capture, used = extract_html(data, url=url, adapter_name=adapter_name)
    except AdapterError as e:
        raise click.ClickException(str(e)) from None
    how = "as asked" if adapter_name else explain_pick(data, url, used)
    click.echo(f"adapter: {used or 'none'} ({how})", err=True)
    if as_json:
        click.echo(json.dumps(capture, ensure_ascii=False, indent=2))
        return
    items = capture["items"]
    pg = capture["page"]
    click.echo(f"page:  {pg['url'] or '(no address: pass --url)'}")
    click.echo(f"site:  {pg['site']}")
    click.echo(f"title: {pg['title']}")
    people = {i["author"]["handle"].lower() for i in items}
    click.echo(f"{counted(len(items), 'item')} ({counted(sum(i['kind'] == 'post' for i in items), 'post')}, "
               f"{counted(sum(i['kind'] == 'comment' for i in items), 'comment')}) by "
               f"{counted(len(people), 'person', 'people')}\n")
    depth = _depths(items)
    for i in items:
        pad = "  " * depth[i["id"]]
        extra = []
        if i.get("reactions"):
            extra.append(" ".join(f"{k}={v}" for k, v in i["reactions"].items()))
        if i.get("mentions"):
            extra.append("mentions " + ", ".join("@" + m for m in i["mentions"]))
        text = i["text"].replace("\n", " / ")
        click.echo(f"{pad}{i['id']}  [{i['kind']}]  {i['author']['handle']}"
                   + (f" ({i['author']['name']})" if i['author']['name'] != i['author']['handle'] else "")
                   + f"  {i.get('at') or '-'}" + (f"  {'; '.join(extra)}" if extra else ""))
        click.echo(f"{pad}    {text[:100]}{'…' if len(text) > 100 else ''}")


def _interrupt(*_):
    raise KeyboardInterrupt


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the TinyDB files live (default: the user data dir).")
@click.option("--url", help="The address of the page, when importing one saved page that does not say it.")
@click.option("--dry-run", is_flag=True, help="Read everything and report, store nothing.")
@click.option("--workers", type=int, default=None, help="Processes that parse pages (default: one per core, up to 8).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def import_command(paths, data_dir, url, dry_run, workers, as_json):
    """Import saved HTML pages (files or folders), WordPress exports (WXR), Disqus exports and
    Cloutlens's own exports (Export on the dashboard), with their links and forgotten people.

    Importing the same files again adds nothing. Files that cannot be read are reported and
    skipped; the rest is imported."""
    import json

    # A plain `kill` stops an import like Ctrl+C: what was stored stays, the parsers stop.
    signal.signal(signal.SIGTERM, _interrupt)
    exports = [p for p in paths if p.is_file() and is_cloutlens_export(p)]
    pages = [p for p in paths if p not in exports]
    # a folder's pages are found by their suffix; its Cloutlens exports by what they hold
    exports += [f for p in pages if p.is_dir() for f in sorted(p.rglob("*.json")) if is_cloutlens_export(f)]
    store = None
    if not dry_run:
        from .app import default_data_dir
        from .storage import Store, StoreError
        try:
            store = Store(data_dir or default_data_dir())
        except StoreError as e:
            raise click.ClickException(str(e)) from None
    try:
        n = len(iter_sources(pages))
        with click.progressbar(length=n, label="Importing", file=sys.stderr,
                               show_pos=True) as bar:
            report = import_paths(pages, store=store, url=url, progress=bar.update, workers=workers,
                                  dry_run=dry_run)
        report.files += len(exports)
        if exports and store is not None:
            from .app import Services
            # The scorer comes up with the store, so that forgetting and links apply as they do in
            # a server; it is saved at close, and the next start does not score everything again.
            services, store = Services(store), None
            try:
                import_exports(exports, report, services)
            finally:
                services.close()
        elif exports:
            import_exports(exports, report)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    finally:
        if store is not None:
            store.close()
    s = report.summary()
    if as_json:
        click.echo(json.dumps(s, ensure_ascii=False, indent=2))
    else:
        verb = "would add" if dry_run else "added"
        click.echo(f"{counted(s['pages'], 'page')}, {counted(s['items'], 'item')} ({verb} {s['added']:,}, "
                   f"updated {s['updated']:,}), {counted(s['people'], 'person', 'people')}, {len(s['skipped']):,} skipped")
        if s["adapters"]:
            click.echo("pages by adapter: " + ", ".join(f"{k} {v}" for k, v in s["adapters"].items()))
        if s["exports"]:
            click.echo("exports: " + ", ".join(f"{k} {v}" for k, v in s["exports"].items()))
        if s["left_out"]:
            click.echo(f"{counted(s['left_out'], 'item')} of forgotten people left out")
        ch = s["changed"]
        if ch.get("forgotten"):
            who = ", ".join(ch["forgotten"][:5]) + (", ..." if len(ch["forgotten"]) > 5 else "")
            click.echo(_printable(f"forgot {counted(len(ch['forgotten']), 'person', 'people')} as the export asks "
                                  f"({who}): {ch['items_removed']:,} of their items here deleted"))
        if ch.get("settings"):
            click.echo(f"settings set from the export: {', '.join(ch['settings'])}")
        if ch.get("links") or ch.get("own_identities"):
            click.echo(f"links from the export: {ch.get('links', 0)}; your own identities added: "
                       f"{ch.get('own_identities', 0)}")
        if ch.get("snapshots"):
            click.echo(f"daily score snapshots added from the export: {ch['snapshots']}")
        for sk in s["skipped"]:
            click.echo(_printable(f"  skipped {sk['path']}: {sk['reason']}"))
    if report.skipped and not (report.pages or report.exports):
        # Not one file could be read: a script must not take that for a successful import.
        raise SystemExit(1)
