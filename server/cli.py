"""The `cloutlens` command line. Commands only wire options to the modules that do the work."""
from __future__ import annotations

import errno
import ipaddress
import shutil
import signal
import socket
import sys
import time
from pathlib import Path

import click

from scoring import model

from .app import DEFAULT_PORT, default_data_dir
from .dashboard import EXTENSION_DIR


def _stop(*_):
    raise KeyboardInterrupt


PORT = click.IntRange(0, 65535)  # 0: any free port; 70000 was taken modulo 65536
# Cookies are not kept apart by port: a page of any other server on 127.0.0.1 or localhost can
# set 180 cookies of 4 KB there, which the browser then sends with every dashboard request (the
# extension sends none). Past waitress's 256 KB the dashboard answered 431 until they were cleared.
MAX_HEADER = 1 << 20


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.1.0", prog_name="cloutlens", message=f"%(prog)s, version %(version)s (scoring model {model.VERSION})")
def main():
    """Cloutlens: a private, local influence lens for the web."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    """The host part of the address to print: the server answers only to loopback names."""
    try:
        if ipaddress.ip_address(host).version == 6:
            return "[::1]"
    except ValueError:
        pass
    return "127.0.0.1"


def _listen_error(host: str, port: int, exc: OSError) -> click.ClickException:
    hint = (" Is another cloutlens running? Pick another port with --port."
            if exc.errno == errno.EADDRINUSE else "")
    return click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}.{hint}")


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the TinyDB files live (default: the user data dir).")
@click.option("-p", "--port", type=PORT, default=DEFAULT_PORT, show_default=True,
              help="Port on 127.0.0.1; 0 picks a free one.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but loopback exposes your data to the network.")
@click.option("--i-understand-this-exposes-my-data", "allow_exposed", is_flag=True,
              help="Required with a non-loopback --host.")
@click.option("--demo", is_flag=True,
              help="Serve the synthetic demo data set (in a fresh temp dir unless --data-dir is given).")
def serve(data_dir, port, host, allow_exposed, demo=False):
    """Run the local server the extension talks to, and the dashboard."""
    from waitress.server import create_server

    from .app import create_app
    from .busy import THREADS
    from .security import body_dropper
    from .storage import StoreError

    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise click.BadParameter(f"{host!r} is no address or host name this machine can listen on",
                                 param_hint="'--host'") from None
    if not _is_loopback(host):
        if not allow_exposed:
            raise click.UsageError(
                f"--host {host} would let other machines reach your data; "
                "add --i-understand-this-exposes-my-data if you really mean it")
        click.secho(f"WARNING: binding {host}: anyone who can reach this address can try the API.",
                    fg="red", err=True)
    made_temp_dir = demo and data_dir is None
    if demo and not made_temp_dir and data_dir.is_dir() and any(data_dir.iterdir()) \
            and not (data_dir / "config.json").exists():
        # not a Cloutlens data dir (a folder of the user's own): nothing is written into it
        raise click.ClickException(f"{data_dir} holds files that are not a Cloutlens data dir; "
                                   "give --demo an empty --data-dir, or none for a temp dir")
    if made_temp_dir:
        import tempfile
        # Never mix the demo people into the user's real data.
        data_dir = Path(tempfile.mkdtemp(prefix="cloutlens-demo-"))
    data_dir = data_dir or default_data_dir()

    def announce(req):
        click.secho(f"\nPairing request from {req.origin} ({req.client}): code {req.code}", fg="yellow")
        click.echo(f"  Approve it at {url}pair if your extension shows "
                   "the same code.\n")

    try:
        # The store opens (and any damaged file stops us) before we listen; the scorer's first
        # load runs in the background so a large store answers status and captures at once.
        app = create_app({"DATA_DIR": str(data_dir), "ANNOUNCE": announce, "DEMO": demo,
                          "BACKGROUND_SCORING": True})
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        listeners = {}
        server = create_server(app, map=listeners, host=host, port=port, threads=THREADS, ident="cloutlens",
                               max_request_header_size=MAX_HEADER)
        for listener in listeners.values():  # the listening sockets (and waitress's wake-up pipe)
            if hasattr(listener, "channel_class"):
                listener.channel_class = body_dropper(app)
    except OSError as exc:
        app.extensions["cloutlens"].stopped.set()
        app.extensions["cloutlens"].store.close()
        if made_temp_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise _listen_error(host, port, exc) from None
    # A plain `kill` (and a service manager's stop) ends the server like Ctrl+C: the scorer and
    # the index are saved for a quick next start. Set before the demo's build and the banner: a
    # stop sent while either runs (a test, a service manager, an impatient user) must find it.
    signal.signal(signal.SIGTERM, _stop)
    refused = False
    building = demo
    try:
        # Listening before the demo data is built: a taken port fails at once, not after the build.
        if demo:
            from .demo import NotDemoData, prepare
            click.echo("Preparing the demo data set (synthetic people, months of history)...")
            try:
                made = prepare(app.extensions["cloutlens"])
            except NotDemoData as exc:
                app.extensions["cloutlens"].stopped.set()
                app.extensions["cloutlens"].store.close()
                refused = True  # the user's data dir: left as it was, nothing saved over it
                raise click.ClickException(str(exc)) from None
            building = False
            if made:
                click.echo(f"  {made['items']} items from {made['people']} people.")
        actual_port = int(server.effective_port)  # waitress reports it as a string
        app.config["PORT"] = actual_port
        app.extensions["cloutlens"].store.record_port(actual_port)  # doctor, checking another port, names it
        url = f"http://{_url_host(host)}:{actual_port}/"
        click.echo(f"Cloutlens server on {url}  (data: {data_dir})")
        click.echo(f"  Dashboard: {url}")
        click.echo("  Extension: open chrome://extensions, turn on Developer mode, 'Load unpacked' and pick")
        # an install from a copy (not `pip install -e`) has no extension folder beside the package
        click.echo(f"             {EXTENSION_DIR if EXTENSION_DIR.is_dir() else 'the extension/ folder of your Cloutlens checkout'}")
        click.echo("             (Firefox: about:debugging > This Firefox > Load Temporary Add-on > manifest.json)")
        if actual_port != DEFAULT_PORT:
            click.echo(f"  Port:      the extension looks on {DEFAULT_PORT}: in its Options, set Server to {url.rstrip('/')}")
        click.echo("  Pairing:   click the Cloutlens toolbar icon, 'Pair with server', then approve the code")
        click.echo(f"             at {url}pair")
        click.echo("  Sites:     on a page with comments, click the toolbar icon and turn Cloutlens on there")
        if demo:
            click.echo(f"  Demo pages for the extension: http://localhost:{actual_port}/demo/ "
                       "(badged with no site to turn on)")
            if made_temp_dir:
                click.echo("  The demo data is temporary: it is deleted when the server stops.")
            click.echo("  An extension paired with the demo pairs again with your own server.")
        click.echo("Press Ctrl+C to stop.", err=False)
        sys.stdout.flush()
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if made_temp_dir:  # nobody starts on it again: do not leave megabytes in the temp dir
            app.extensions["cloutlens"].close()
            shutil.rmtree(data_dir, ignore_errors=True)
            click.echo("Stopped; the demo data was removed.")
        elif not refused:
            if building:
                click.echo("Stopped during the demo's build: `cloutlens demo` on this data dir builds it again.")
            else:
                click.echo("Saving the scores for a quick next start...")
            app.extensions["cloutlens"].close()


from scoring.cli_score import score_command  # noqa: E402  (the offline scorer; logic lives in scoring/)

main.add_command(score_command)


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the demo data (default: a fresh temp dir).")
@click.option("-p", "--port", type=PORT, default=DEFAULT_PORT, show_default=True,
              help="Port on 127.0.0.1; 0 picks a free one.")
@click.pass_context
def demo(ctx, data_dir, port):
    """Serve the dashboard over a synthetic data set: the same as `serve --demo`."""
    ctx.invoke(serve, data_dir=data_dir, port=port, host="127.0.0.1", allow_exposed=False, demo=True)


from .importer import extract_command, import_command  # noqa: E402  (logic in server/importer.py)

main.add_command(extract_command)
main.add_command(import_command)


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The data dir (default: the user data dir).")
@click.option("--revoke", "revoke_id", metavar="ID", default=None,
              help="Unpair the client with this id (as listed): its token stops working at once.")
def clients(data_dir, revoke_id):
    """List the paired clients (browser extensions), or unpair one with --revoke ID."""
    from .pairing import Pairing
    from .storage import ConfigFile, StoreError, claim_data_dir

    data_dir = data_dir or default_data_dir()
    if not (data_dir / "items").is_dir():
        raise click.ClickException(f"no Cloutlens data in {data_dir} (see `cloutlens doctor`)")
    if revoke_id is None:
        # Listing reads config.json alone, without claiming the data dir: a running server writes
        # it whole and atomically, so this reads one state or the next, never half of one.
        _list_clients(Pairing(ConfigFile(data_dir / "config.json")))
        return
    try:
        # the config alone: opening the store would index every item (seconds at a million)
        lock = claim_data_dir(data_dir)
    except StoreError as exc:  # the running server holds the data dir: its /pair page revokes
        raise click.ClickException(f"{exc}; or press Revoke beside {revoke_id} on the dashboard's /pair page")
    try:
        pairing = Pairing(ConfigFile(data_dir / "config.json"))
        if not pairing.revoke(revoke_id):
            raise click.ClickException(f"no paired client has the id {revoke_id!r} "
                                       "(the 12-character ids `cloutlens clients` lists)")
        click.echo(f"unpaired {revoke_id}: that extension must pair again to send captures")
    finally:
        lock.close()


def _list_clients(pairing) -> None:
    listed = sorted(pairing.clients(), key=lambda c: c.get("created") or 0)
    if not listed:
        click.echo("no paired clients")
    for c in listed:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(c["created"])) if c.get("created") else "?"
        click.echo(f"{c['id']}  paired {when}  {c.get('client') or '?'}  {c.get('origin') or '?'}")


@main.command()
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="The data dir to check (default: the user data dir).")
@click.option("-p", "--port", type=PORT, default=DEFAULT_PORT, show_default=True, help="The port to check.")
def doctor(data_dir, port):
    """Check the data dir, the store, the port and the pairing, and say what to fix."""
    from .doctor import run

    checks = run(data_dir or default_data_dir(), port)
    colours = {"ok": "green", "warn": "yellow", "fail": "red"}
    for c in checks:
        click.secho(f"{c.level.upper():4}  {c.what}", fg=colours[c.level])
        if c.fix and c.level != "ok":
            click.echo(f"      fix: {c.fix}")
    failed = sum(c.level == "fail" for c in checks)
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
