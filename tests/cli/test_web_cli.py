"""``medledger web`` and ``medledger relay``: the servers themselves are tested in tests/test_web.py
and tests/test_relay.py; here, what a user meets at the command line."""

from __future__ import annotations

import pytest

from tests.cli.conftest import assert_user_error, home_env, run
from tests.helpers import busy_port


@pytest.mark.parametrize("command", ["web", "relay"])
def test_a_busy_port_is_one_clear_line(deployed, command):
    with busy_port() as port:
        assert_user_error(*run(deployed, command, "--port", str(port)), f"cannot listen on 127.0.0.1:{port}")


@pytest.mark.parametrize("command", ["web", "relay"])
def test_without_a_node_the_servers_say_how_to_start_one(tmp_path, command):
    # a home of its own: this module's `env` has the node `deployed` started
    assert_user_error(*run(home_env(tmp_path), command, "--port", "0"), "medledger node start")


@pytest.mark.parametrize(("options", "fragment"), [
    (["--signer-rate", "lots"], "--signer-rate must be COUNT/PERIOD such as 10/1h"),
    (["--gas-budget", "5/0h"], "--gas-budget must be COUNT/PERIOD"),
    (["--api-keys-file", "/nonexistent/keys"], "cannot read /nonexistent/keys"),
    (["--allow", "0x12"], "allowed address '0x12' is not an Ethereum address"),
    (["--contract-wallet", "0x" + "11" * 20, "--no-contract-wallets"], "not both"),
])  # fmt: skip
def test_the_relays_limits_are_checked_before_it_starts(deployed, tmp_path, options, fragment):
    assert_user_error(*run(deployed, "relay", "--port", "0", *options), fragment)


def test_an_empty_api_keys_file_is_refused(deployed, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# no keys yet\n\n")
    assert_user_error(*run(deployed, "relay", "--port", "0", "--api-keys-file", str(keys)), "holds no key")
