"""The vault serves only against a logged read the chain will keep: confirmations and reorgs, on anvil.

One anvil for the module (its own, so these run without ``--chains``); every test runs inside a
snapshot of it. Anvil's ``finalized`` block trails the head by 64 blocks (two epochs of 32 slots),
which lets the tests tell counting blocks from trusting the node's finality.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from web3.exceptions import Web3RPCError

from medledger import vault as vaultmod
from medledger import chain as chainmod
from medledger.chain import ANVIL_CHAIN_ID
from medledger.errors import ConfigurationError
from medledger.identity import public_key
from medledger.types import RecordCategory
from medledger.vault import (
    NETWORK_CONFIRMATIONS, ReadNotConfirmed, ReadRefused, ReadRequest, Vault, default_confirmations, open_delivery,
    parse_confirmations,
)  # fmt: skip
from tests.helpers import ANVIL, BESU, GANACHE, GETH, node_as, register, until

pytestmark = pytest.mark.nodes

LAB_REPORT = b"ferritin 35 ug/L"
PATIENT_KEY, DOCTOR_KEY = bytes([21]) * 32, bytes([22]) * 32
#: How far anvil's finalized block trails its head.
ANVIL_FINALITY_LAG = 64


@pytest.fixture(scope="module")
def anvil() -> Iterator[SimpleNamespace]:
    """An anvil with the suite, a registered patient and a licensed doctor allowed to read and write
    the patient's labs, and one lab record sealed (in ``root``) and anchored by the doctor."""
    from tests.conftest import own_anvil

    with own_anvil() as suite:
        patient = suite.ledger(suite.people.patient)
        register(patient, 5)
        patient.consent.grant(suite.people.patient.address, suite.actors.doctor.address, ["labs"],
                              write_categories=["labs"], valid_until=until(suite, 30))  # fmt: skip
        yield SimpleNamespace(suite=suite)


@pytest.fixture
def world(anvil: SimpleNamespace, tmp_path) -> Iterator[SimpleNamespace]:
    """``anvil`` inside a snapshot, with a record sealed into a fresh vault folder and anchored by
    the doctor. The doctor's ledger is made here: its transactor counts nonces, which a revert rewinds."""
    chain = anvil.suite.chain
    snapshot = chain.snapshot()
    doctor = anvil.suite.ledger(anvil.suite.actors.doctor)
    root = tmp_path / "vault"
    sealed = Vault(root).seal(LAB_REPORT, anvil.suite.people.patient.address, RecordCategory.LABS,
                              {anvil.suite.actors.doctor.address: public_key(DOCTOR_KEY)})  # fmt: skip
    doctor.records.anchor(anvil.suite.people.patient.address, RecordCategory.LABS, sealed.record, sealed.uri)
    try:
        yield SimpleNamespace(suite=anvil.suite, doctor=doctor, chain=chain, w3=chain.w3, root=root, record=sealed.record)
    finally:
        chain.revert(snapshot)


def logged(world: SimpleNamespace, vault: Vault) -> ReadRequest:
    """The doctor logs a read of the record (it lands in the latest block) and signs the request."""
    read = world.doctor.access.log_read(world.record)
    return ReadRequest.sign(world.suite.actors.doctor, world.record, read.receipt.tx_hash, ANVIL_CHAIN_ID, vault.id)


def mine(world: SimpleNamespace, blocks: int) -> None:
    answer = world.w3.provider.make_request("anvil_mine", [hex(blocks)])
    assert "error" not in answer, answer


def served_markers(vault: Vault) -> list[str]:
    return sorted(p.name for p in (vault.root / "served").iterdir())


def test_a_read_in_the_latest_block_waits_for_two_more_blocks_then_is_served_once(world):
    vault = Vault(world.root, confirmations=2)
    request = logged(world, vault)
    for seen in (0, 1):
        with pytest.raises(ReadNotConfirmed, match=f"not confirmed yet: {seen} of 2 confirmations, retry") as refused:
            vault.serve(request, world.doctor)
        assert (refused.value.confirmations, refused.value.required) == (seen, 2)
        assert not isinstance(refused.value, ReadRefused)  # "retry", not "no"
        assert served_markers(vault) == []  # the early attempt used nothing up
        mine(world, 1)
    delivery = vault.serve(request, world.doctor)
    assert open_delivery(delivery, DOCTOR_KEY, world.suite.people.patient.address, RecordCategory.LABS) == LAB_REPORT
    with pytest.raises(ReadRefused, match="already used"):
        vault.serve(request, world.doctor)


def test_a_read_dropped_by_a_revert_before_confirmation_is_never_served(world):
    vault = Vault(world.root, confirmations=2)
    before_the_read = world.chain.snapshot()
    request = logged(world, vault)
    with pytest.raises(ReadNotConfirmed):
        vault.serve(request, world.doctor)
    world.chain.revert(before_the_read)  # the block holding the read leaves the chain
    mine(world, 5)  # and the chain grows past where it was
    with pytest.raises(ReadRefused, match="was not found"):
        vault.serve(request, world.doctor)
    assert served_markers(vault) == []


def test_a_read_replaced_by_anvil_reorg_is_never_served(world):
    vault = Vault(world.root, confirmations=2)
    request = logged(world, vault)
    with pytest.raises(ReadNotConfirmed):
        vault.serve(request, world.doctor)
    answer = world.w3.provider.make_request("anvil_reorg", [1, []])  # a new latest block, without the read
    assert "error" not in answer, answer
    mine(world, 3)
    with pytest.raises(ReadRefused, match="was not found"):
        vault.serve(request, world.doctor)


def test_a_stale_receipt_from_an_abandoned_fork_is_refused(world, monkeypatch):
    """A node behind a load balancer may still hand out the receipt of a block that left the chain."""
    vault = Vault(world.root, confirmations=2)
    request = logged(world, vault)
    stale = world.w3.eth.get_transaction_receipt(request.log_tx)
    assert "error" not in world.w3.provider.make_request("anvil_reorg", [1, []])
    mine(world, 3)
    monkeypatch.setattr(world.w3.eth, "get_transaction_receipt", lambda _tx: stale)
    with pytest.raises(ReadRefused, match="reorganised away"):
        vault.serve(request, world.doctor)


def test_serve_when_confirmed_asks_again_until_the_read_is_deep_enough(world):
    vault = Vault(world.root, confirmations=3)
    request = logged(world, vault)
    answers: list[int] = []

    def a_block_arrives(not_yet: ReadNotConfirmed) -> None:
        answers.append(not_yet.confirmations)
        mine(world, 1)

    vault.serve_when_confirmed(request, world.doctor, timeout=30, interval=0.01, waiting=a_block_arrives)
    assert answers == [0, 1, 2]
    with pytest.raises(ReadNotConfirmed, match="0 of 3"):  # nobody mines: the last answer comes back
        vault.serve_when_confirmed(logged(world, vault), world.doctor, timeout=0.05, interval=0.01)


def test_finalized_waits_for_the_nodes_finalized_block(world):
    vault = Vault(world.root, confirmations="finalized")
    request = logged(world, vault)
    block = world.w3.eth.block_number
    with pytest.raises(ReadNotConfirmed, match=f"block {block} is not finalized yet") as refused:
        vault.serve(request, world.doctor)
    assert refused.value.finalized == max(block - ANVIL_FINALITY_LAG, 0)
    mine(world, ANVIL_FINALITY_LAG - 1)
    with pytest.raises(ReadNotConfirmed):
        vault.serve(request, world.doctor)
    mine(world, 1)
    vault.serve(request, world.doctor)


def test_a_dev_chain_serves_at_once_by_default(world):
    vault = Vault(world.root)
    assert vault.required_confirmations(world.w3) == 0
    vault.serve(logged(world, vault), world.doctor)


def as_a_real_network(monkeypatch) -> None:
    """Make the vault take this anvil for a chain that is not a local dev chain."""
    monkeypatch.setattr(vaultmod, "is_dev_chain", lambda w3: False)


def test_on_a_real_network_the_default_is_twelve_confirmations(world, monkeypatch):
    as_a_real_network(monkeypatch)
    vault = Vault(world.root)
    request = logged(world, vault)
    with pytest.raises(ReadNotConfirmed, match=f"0 of {NETWORK_CONFIRMATIONS} confirmations"):
        vault.serve(request, world.doctor)
    mine(world, NETWORK_CONFIRMATIONS - 1)
    with pytest.raises(ReadNotConfirmed, match=f"{NETWORK_CONFIRMATIONS - 1} of {NETWORK_CONFIRMATIONS}"):
        vault.serve(request, world.doctor)
    mine(world, 1)
    vault.serve(request, world.doctor)


def test_on_a_real_network_a_finalized_read_is_served_before_the_count(world, monkeypatch):
    as_a_real_network(monkeypatch)
    vault = Vault(world.root, confirmations=1000)
    request = logged(world, vault)
    mine(world, ANVIL_FINALITY_LAG - 1)
    with pytest.raises(ReadNotConfirmed, match=f"{ANVIL_FINALITY_LAG - 1} of 1000"):
        vault.serve(request, world.doctor)
    mine(world, 1)  # now at the finalized block: no reorg can drop it
    vault.serve(request, world.doctor)


def test_a_node_without_finalized_is_asked_once_then_counted_by_block_number(world, monkeypatch):
    as_a_real_network(monkeypatch)
    asked: list[object] = []
    real_get_block = world.w3.eth.get_block

    def no_finalized_tag(block, *args, **kwargs):
        if block == "finalized":
            asked.append(block)
            raise Web3RPCError("unknown block tag 'finalized'")
        return real_get_block(block, *args, **kwargs)

    monkeypatch.setattr(world.w3.eth, "get_block", no_finalized_tag)
    vault = Vault(world.root, confirmations=2)
    request = logged(world, vault)
    for _ in range(3):
        with pytest.raises(ReadNotConfirmed, match="0 of 2"):
            vault.serve(request, world.doctor)
    assert len(asked) == 1
    mine(world, 2)
    vault.serve(request, world.doctor)
    with pytest.raises(ConfigurationError, match="reports no finalized block"):
        Vault(world.root, confirmations="finalized").serve(logged(world, vault), world.doctor)


@pytest.mark.parametrize("chain_id", [1337, 31337])
def test_the_default_follows_whether_medledger_knows_a_dev_chain_not_the_chain_id(world, chain_id):
    """0 confirmations only where a reorganisation is its user's own doing: a Besu or geth network
    on chain id 1337 or 31337 waits for twelve like any other."""
    assert default_confirmations(world.w3) == 0 and default_confirmations(chainmod.embedded().w3) == 0
    for network in (BESU, GETH, None):
        assert default_confirmations(node_as(world.w3, network, chain_id)) == NETWORK_CONFIRMATIONS
    for dev in (ANVIL, GANACHE):
        assert default_confirmations(node_as(world.w3, dev, chain_id)) == 0
    assert default_confirmations(node_as(world.w3, ANVIL, 1)) == NETWORK_CONFIRMATIONS


def test_a_besu_network_on_a_dev_chain_id_waits_for_its_confirmations(world):
    """The same anvil, seen through a node that says it is Besu: served only twelve blocks deep."""
    besu = world.suite.ledger(world.suite.actors.doctor)
    besu = type(besu)(node_as(world.w3, BESU), besu.deployment, besu.signer)
    vault = Vault(world.root)
    request = logged(world, vault)
    with pytest.raises(ReadNotConfirmed, match=f"0 of {NETWORK_CONFIRMATIONS} confirmations"):
        vault.serve(request, besu)
    mine(world, NETWORK_CONFIRMATIONS)
    vault.serve(request, besu)


def test_settings():
    assert parse_confirmations("3") == 3 and parse_confirmations(" Finalized ") == "finalized"
    for wrong in ("-1", "soon", "1.5"):
        with pytest.raises(ConfigurationError, match="number of blocks"):
            parse_confirmations(wrong)
