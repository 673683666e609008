"""Connections, local node lifecycle, signers and fee selection."""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace

import pytest
from eth_account import Account

from medledger import chain as chainmod
from medledger.errors import ConfigurationError, NodeNotRunning
from medledger.transactions import Transactor
from tests.helpers import ANVIL, BESU, GANACHE, GETH, busy_port, node_as

DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil dev key #0


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("kind, chain_id", [("anvil", 31337), ("ganache", 1337)])
def test_local_node_starts_answers_and_is_stopped(kind, chain_id):
    node = chainmod.start_node(kind)
    try:
        connected = chainmod.connect_local(node.url, kind, node)
        assert connected.chain_id == chain_id
        assert chainmod.is_dev_chain(connected.w3)  # started here
        assert chainmod.is_dev_chain(chainmod.connect_url(node.url).w3)  # by URL: it says it is anvil/Ganache
        assert [a.address for a in connected.accounts] == list(connected.w3.eth.accounts)
    finally:
        node.stop()
    assert node.process.poll() is not None
    assert not _port_open(node.port)


def test_a_node_whose_picked_port_is_taken_meanwhile_starts_on_another(monkeypatch):
    with busy_port() as taken:
        picks = iter([taken])
        fresh = chainmod.free_port
        monkeypatch.setattr(chainmod, "free_port", lambda: next(picks, None) or fresh())
        node = chainmod.start_node("anvil")
        try:
            assert node.port != taken and node.process.poll() is None
            assert chainmod.connect_local(node.url, "anvil", node).chain_id == 31337
        finally:
            node.stop()


def test_a_node_asked_for_a_taken_port_fails_with_the_reason():
    with busy_port() as taken, pytest.raises(chainmod.NodeExited, match=f"127.0.0.1:{taken} is already in use"):
        chainmod.start_node("anvil", port=taken)


def test_anvil_state_file_survives_a_restart(tmp_path):
    state = tmp_path / "state.json"
    node = chainmod.start_node("anvil", state_file=state)
    try:
        c = chainmod.connect_local(node.url, "anvil", node)
        c.w3.provider.make_request("evm_mine", [])
        height = c.w3.eth.block_number
    finally:
        node.stop()
    node = chainmod.start_node("anvil", state_file=state)
    try:
        assert chainmod.connect_local(node.url, "anvil", node).w3.eth.block_number == height
    finally:
        node.stop()


def test_ganache_has_no_state_file_option(tmp_path):
    with pytest.raises(ConfigurationError, match="anvil only"):
        chainmod.node_command("ganache", 8545, tmp_path / "x")


def test_a_url_where_nothing_listens_is_node_not_running():
    port = chainmod.free_port()
    with pytest.raises(NodeNotRunning, match=f"127.0.0.1:{port}"):
        chainmod.connect_url(f"http://127.0.0.1:{port}", timeout=1)


def test_an_unknown_chain_name_lists_the_choices():
    with pytest.raises(ConfigurationError, match="embedded, anvil, ganache"):
        chainmod.connect("mainnet-please")


def test_a_bad_private_key_is_refused_without_echoing_it():
    secret = "0x" + "zz" * 32
    with pytest.raises(ConfigurationError) as caught:
        chainmod.load_key(secret)
    assert secret not in str(caught.value) and "zz" not in str(caught.value)


def test_keystore_opens_with_the_right_password_only(tmp_path):
    path = tmp_path / "key.json"
    path.write_text(json.dumps(Account.encrypt(DEV_KEY, "correct horse")))
    assert chainmod.load_keystore(path, "correct horse").address == Account.from_key(DEV_KEY).address
    with pytest.raises(ConfigurationError, match="wrong password"):
        chainmod.load_keystore(path, "battery staple")
    with pytest.raises(ConfigurationError, match="needs a password"):
        chainmod.load_keystore(path, None)


def test_url_signers_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MEDLEDGER_PRIVATE_KEY", DEV_KEY)
    assert [a.address for a in chainmod.url_accounts()] == [Account.from_key(DEV_KEY).address]
    monkeypatch.delenv("MEDLEDGER_PRIVATE_KEY")
    monkeypatch.delenv("MEDLEDGER_KEYSTORE", raising=False)
    assert chainmod.url_accounts() == []


def _fake_w3(base_fee, gas_price):
    block = {} if base_fee is None else {"baseFeePerGas": base_fee}
    eth = SimpleNamespace(get_block=lambda _: block, gas_price=gas_price, max_priority_fee=2)
    return SimpleNamespace(eth=eth)


@pytest.mark.parametrize(
    "base_fee, gas_price, expected",
    [
        (7, 9, {"maxFeePerGas": 16, "maxPriorityFeePerGas": 2}),  # EIP-1559 chain
        (None, 5, {"gasPrice": 5}),  # legacy chain
        (None, 0, {"gasPrice": 0}),  # free consortium chain (Besu/QBFT)
    ],
)
def test_fees_follow_the_chain(base_fee, gas_price, expected):
    assert Transactor(_fake_w3(base_fee, gas_price))._fees() == expected  # type: ignore[arg-type]


def test_embedded_chain_moves_time_and_snapshots():
    c = chainmod.embedded()
    before = c.now()
    snap = c.snapshot()
    c.advance_time(3600)
    assert c.now() >= before + 3600
    c.revert(snap)
    assert c.now() < before + 3600


def test_a_websocket_url_works_like_http():
    node = chainmod.start_node("anvil")
    try:
        over_ws = chainmod.connect_url(node.url.replace("http://", "ws://"), accounts=[])
        assert over_ws.chain_id == 31337
        assert over_ws.w3.eth.block_number == 0
    finally:
        node.stop()


# ─── Which chains are dev chains ─────────────────────────────────────────────────────────────


@pytest.mark.parametrize("chain_id", [chainmod.GANACHE_CHAIN_ID, chainmod.ANVIL_CHAIN_ID])
def test_a_dev_chain_is_one_medledger_knows_never_a_chain_id_alone(chain_id):
    """1337 and 31337 are also geth --dev's, hardhat's and many private Besu/GoQuorum networks'
    ids: reached by URL, only a node that says it is anvil, Ganache or eth-tester, on a dev chain
    id, is a dev chain; the embedded chain and nodes medledger started are marked as such."""
    embedded = chainmod.embedded()
    assert chainmod.is_dev_chain(embedded.w3)  # made here (its id is py-evm's)
    for client in (BESU, GETH, "Quorum/v24.4.1/linux/go1.22", "HardhatNetwork/2.22.0/@ethereumjs/vm/7.0.0", None):
        assert not chainmod.is_dev_chain(node_as(embedded.w3, client, chain_id)), client
    for client in (ANVIL, GANACHE, "EthereumTester/0.14.0b1/linux/python3.11"):
        assert chainmod.is_dev_chain(node_as(embedded.w3, client, chain_id)), client
        assert not chainmod.is_dev_chain(node_as(embedded.w3, client, 1)), client  # anvil forking mainnet, say
    assert not chainmod.is_dev_chain(node_as(embedded.w3, "anvilish-besu/v1", chain_id))  # the client's name, not a part


def test_whether_a_chain_is_a_dev_chain_is_asked_once_per_connection():
    embedded = chainmod.embedded()
    besu = node_as(embedded.w3, BESU, 1337)
    for _ in range(3):
        assert not chainmod.is_dev_chain(besu)
    assert besu.provider.asked.count("web3_clientVersion") == 1


def test_a_node_that_cannot_be_asked_is_a_chain_error_not_a_dev_chain():
    from web3 import Web3
    from web3.providers.rpc import HTTPProvider

    from medledger.errors import ChainError

    dead = Web3(HTTPProvider(f"http://127.0.0.1:{chainmod.free_port()}", request_kwargs={"timeout": 2},
                             exception_retry_configuration=None))  # fmt: skip
    with pytest.raises(ChainError, match="cannot ask the node what it is"):
        chainmod.is_dev_chain(dead)
