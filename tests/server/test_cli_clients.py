"""`cloutlens clients`: the paired extensions listed, and one unpaired from the command line."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from helpers import EXT_ORIGIN
from server.cli import main
from server.pairing import Pairing
from server.storage import Store


def paired(data_dir, name: str) -> str:
    store = Store(data_dir)
    try:
        pairing = Pairing(store)
        req = pairing.request(EXT_ORIGIN, name)
        return pairing.decide(req.id, approve=True).token
    finally:
        store.close()


def token_works(data_dir, token: str) -> bool:
    store = Store(data_dir)
    try:
        return Pairing(store).verify(token) is not None
    finally:
        store.close()


def test_clients_are_listed_and_one_is_revoked(tmp_path):
    data = tmp_path / "data"
    first, second = paired(data, "Chromium laptop"), paired(data, "Firefox\x1b[31m desk")
    run = CliRunner().invoke(main, ["clients", "--data-dir", str(data)])
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert len(lines) == 2 and "Chromium laptop" in lines[0] and EXT_ORIGIN in lines[0]
    assert "\x1b" not in run.output  # a client's name cannot drive the terminal
    first_id = lines[0].split()[0]

    run = CliRunner().invoke(main, ["clients", "--data-dir", str(data), "--revoke", first_id])
    assert run.exit_code == 0 and f"unpaired {first_id}" in run.output
    assert not token_works(data, first) and token_works(data, second)
    run = CliRunner().invoke(main, ["clients", "--data-dir", str(data)])
    assert len(run.output.splitlines()) == 1 and first_id not in run.output


def test_clear_errors_for_an_unknown_id_a_missing_data_dir_and_a_running_server(tmp_path):
    data = tmp_path / "data"
    token = paired(data, "laptop")
    run = CliRunner().invoke(main, ["clients", "--data-dir", str(data), "--revoke", "abc"])
    assert run.exit_code != 0 and "no paired client has the id 'abc'" in run.output
    assert token_works(data, token)

    run = CliRunner().invoke(main, ["clients", "--data-dir", str(tmp_path / "nowhere")])
    assert run.exit_code != 0 and "no Cloutlens data in" in run.output
    assert not (tmp_path / "nowhere").exists()  # looking created nothing

    held = Store(data)  # as a running server holds it
    try:
        # listing only reads: it works while the server runs, so the id to revoke can be found
        run = CliRunner().invoke(main, ["clients", "--data-dir", str(data)])
        assert run.exit_code == 0 and "laptop" in run.output, run.output
        client_id = run.output.split()[0]
        run = CliRunner().invoke(main, ["clients", "--data-dir", str(data), "--revoke", client_id])
        assert run.exit_code != 0 and "in use by another cloutlens process" in run.output
        assert f"Revoke beside {client_id} on the dashboard's /pair page" in run.output
        assert token_works_in(held, token)
    finally:
        held.close()


def token_works_in(store, token: str) -> bool:
    return Pairing(store).verify(token) is not None


def test_clients_reads_the_config_alone(tmp_path):
    """Pairing needs no items: the command neither indexes the shards (seconds at a million) nor
    writes the index checkpoint a store's close leaves, and works beside a damaged shard."""
    data = tmp_path / "data"
    paired(data, "laptop")
    shard = data / "items" / "shard-00000.json"
    shard.write_bytes(b'{"items": {"1": {"id": ')  # cut short: a store would refuse to open
    checkpoint = data / "checkpoints" / "store-index.bin"
    checkpoint.unlink()
    run = CliRunner().invoke(main, ["clients", "--data-dir", str(data)])
    assert run.exit_code == 0 and "laptop" in run.output, run.output
    assert shard.read_bytes() == b'{"items": {"1": {"id": ' and not checkpoint.exists()


@pytest.mark.parametrize("command", ["serve", "doctor", "demo"])
@pytest.mark.parametrize("port", ["70000", "-1"])
def test_a_port_out_of_range_is_a_usage_error(tmp_path, command, port):
    """70000 served on 4464 (taken modulo 65536), -1 ended in a traceback."""
    r = CliRunner().invoke(main, [command, "--port", port, "--data-dir", str(tmp_path / "d")])
    assert r.exit_code == 2 and "is not in the range 0<=x<=65535" in r.output, r.output
    assert not (tmp_path / "d").exists()
