"""Failures of the transport become medledger errors: nonces, funds, a node that goes away."""

from __future__ import annotations

import pytest
from eth_account import Account

from medledger import chain as chainmod
from medledger.client import MedLedger
from medledger.deploy import deploy_suite
from medledger.errors import ChainError, InsufficientFunds, MedLedgerError, NonceError


@pytest.fixture
def deployed():
    c = chainmod.embedded()
    return c, deploy_suite(c, c.account(0))


def test_a_nonce_used_behind_the_clients_back_is_a_nonce_error_then_recovers(deployed):
    c, deployment = deployed
    ml = MedLedger(c.w3, deployment, c.account(0))
    ml.consortium.add_regulator(c.account(1).address)  # the client now tracks account 0's nonce
    outside = c.account(0).sign_transaction({
        "to": c.account(5).address, "value": 1, "gas": 21_000, "gasPrice": 10**10,
        "nonce": c.w3.eth.get_transaction_count(c.account(0).address), "chainId": c.chain_id,
    })  # fmt: skip
    c.w3.eth.send_raw_transaction(outside.raw_transaction)
    with pytest.raises(NonceError):
        ml.consortium.add_regulator(c.account(2).address)
    ml.consortium.add_regulator(c.account(2).address)  # resynchronised from the node
    assert ml.consortium.is_regulator(c.account(2).address)


def test_an_unfunded_sender_gets_insufficient_funds(deployed):
    c, deployment = deployed
    broke = Account.create()
    with pytest.raises(InsufficientFunds):
        MedLedger(c.w3, deployment, broke).consortium.accredit(broke.address, "lab")


def test_a_node_that_goes_away_is_a_chain_error_not_a_requests_exception():
    with chainmod.connect("anvil") as c:
        deployment = deploy_suite(c, c.account(0))
        ml = MedLedger(c.w3, deployment, c.account(0))
        c.node.stop()
        with pytest.raises(ChainError) as caught:
            ml.consortium.is_member(c.account(1).address, "hospital")
        assert isinstance(caught.value, MedLedgerError)
        with pytest.raises(ChainError):
            ml.consortium.add_regulator(c.account(1).address)
