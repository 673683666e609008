"""medledger relay: signed consents are checked before any gas is spent, then sent."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from eth_account import Account

from medledger.consent import SignedMessage
from medledger.relay import relay_server
from tests.helpers import until


def post(url: str, body: bytes | str) -> tuple[int, dict]:
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(f"{url}/relay", data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def relay(world, ml):
    """A relay paying from the outsider's account."""
    with relay_server(ml.outsider, port=0) as server:
        yield server.url


@pytest.fixture
def signed(world, ml, actors, patient) -> SignedMessage:
    return ml.patient.consent.sign_grant(actors.doctor.address, ["labs"], valid_until=until(world))


def test_a_signed_grant_is_relayed_and_the_relayer_pays(ml, actors, patient, relay, signed, world):
    patient_txs = world.chain.w3.eth.get_transaction_count(patient)
    status, answer = post(relay, signed.to_json())
    assert status == 200, answer
    assert ml.outsider.consent.grant_of(patient, actors.doctor.address).exists
    assert world.chain.w3.eth.get_transaction(answer["tx_hash"])["from"] == actors.outsider.address
    assert world.chain.w3.eth.get_transaction_count(patient) == patient_txs
    status, again = post(relay, signed.to_json())  # the same signature twice: its nonce is used up
    assert status == 400 and "nonce 0 is not the patient's current one (1)" in again["error"]


def test_a_signature_by_someone_else_is_refused_before_sending(ml, actors, patient, relay, signed, world):
    forged = SignedMessage(signed.data, signed.signer, Account.from_key(b"\x01" * 32).unsafe_sign_hash(b"\x02" * 32).signature)
    block = world.chain.w3.eth.block_number
    status, answer = post(relay, forged.to_json())
    assert status == 400 and "not made by" in answer["error"]
    assert world.chain.w3.eth.block_number == block  # nothing was sent
    stranger = ml.outsider.consent.sign_grant(actors.doctor.address, ["labs"], valid_until=until(world), patient=patient)
    status, answer = post(relay, stranger.to_json())
    assert status == 400 and "neither the patient" in answer["error"]


def test_an_expired_or_foreign_or_malformed_consent_is_refused(ml, actors, patient, relay, world):
    late = ml.patient.consent.sign_grant(actors.doctor.address, ["labs"], valid_until=until(world),
                                         deadline=world.chain.now() - 1)  # fmt: skip
    status, answer = post(relay, late.to_json())
    assert status == 400 and "deadline has passed" in answer["error"]
    other_chain = dict(late.data, domain=dict(late.data["domain"], chainId=1))
    status, answer = post(relay, SignedMessage(other_chain, late.signer, late.signature).to_json())
    assert status == 400 and "signed for another contract or chain" in answer["error"]
    status, answer = post(relay, "{not json")
    assert status == 400 and "malformed" in answer["error"]
    status, answer = post(relay, b"")
    assert status == 400 and "at most" in answer["error"]
    assert not ml.outsider.consent.grant_of(patient, actors.doctor.address).exists


def test_a_relay_needs_a_paying_account(world):
    from medledger.client import MedLedger
    from medledger.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="no signing account"):
        relay_server(MedLedger(world.chain.w3, world.deployment), port=0)


def test_a_node_that_does_not_answer_is_a_502_with_a_reason(world, actors, signed):
    from web3 import Web3
    from web3.providers.rpc import HTTPProvider

    from medledger.chain import free_port
    from medledger.client import MedLedger

    dead = Web3(HTTPProvider(f"http://127.0.0.1:{free_port()}", request_kwargs={"timeout": 2}))
    with relay_server(MedLedger(dead, world.deployment, actors.outsider), port=0) as server:
        status, answer = post(server.url, signed.to_json())
    assert status == 502 and "connection" in answer["error"].lower()
