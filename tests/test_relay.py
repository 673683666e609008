"""medledger relay: signed consents are checked before any gas is spent, then sent, and the relayer
bounds what it pays (per transaction, per signer, per period) and for whom."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from medledger import consent
from medledger.client import MedLedger
from medledger.consent import SignedMessage
from medledger.relay import Relayer, RelayPolicy, Window, hash_key, relay_server
from medledger.web import Refused
from tests.conftest import own_anvil
from tests.helpers import ANVIL, BESU, GANACHE, GETH, node_as, until

WALLETS_SOURCE = Path(__file__).parent / "fixtures" / "Wallets.sol"
PAGE = "http://127.0.0.1:8600"


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: Any


def send(url: str, body: bytes | str, headers: dict[str, str] | None = None) -> Answer:
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(f"{url}/relay", data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return Answer(answer.status, json.loads(answer.read()), answer.headers)
    except urllib.error.HTTPError as error:
        return Answer(error.code, json.loads(error.read()), error.headers)


def post(url: str, body: bytes | str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    answer = send(url, body, headers)
    return answer.status, answer.body


class Clock:
    """A monotonic clock the test moves by hand (the rate limits' time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def relay(world, ml):
    """A relay paying from the outsider's account, with the default policy."""
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
    assert answer["gas_used"] < 100_000
    status, again = post(relay, signed.to_json())  # the same signature twice: its nonce is used up
    assert status == 400 and "nonce 0 is not the patient's current one (1)" in again["error"]
    assert again["code"] == "stale_nonce"


def test_a_signature_by_someone_else_is_refused_before_sending(ml, actors, patient, relay, signed, world):
    forged = SignedMessage(signed.data, signed.signer, Account.from_key(b"\x01" * 32).unsafe_sign_hash(b"\x02" * 32).signature)
    block = world.chain.w3.eth.block_number
    status, answer = post(relay, forged.to_json())
    assert status == 400 and "not made by" in answer["error"] and answer["code"] == "bad_signature"
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
    assert status == 400 and "malformed" in answer["error"] and answer["code"] == "malformed"
    status, answer = post(relay, b"")
    assert status == 400 and "at most" in answer["error"]
    assert not ml.outsider.consent.grant_of(patient, actors.doctor.address).exists


def test_a_relay_needs_a_paying_account(world):
    from medledger.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="no signing account"):
        relay_server(MedLedger(world.chain.w3, world.deployment), port=0)


def test_a_node_that_does_not_answer_is_a_502_with_a_reason(world, actors, signed):
    from web3 import Web3
    from web3.providers.rpc import HTTPProvider

    from medledger.chain import free_port

    from medledger.errors import ChainError

    dead = Web3(HTTPProvider(f"http://127.0.0.1:{free_port()}", request_kwargs={"timeout": 2}))
    with pytest.raises(ChainError, match="cannot ask the node what it is"):  # whether it is a dev chain
        relay_server(MedLedger(dead, world.deployment, actors.outsider), port=0)
    with relay_server(MedLedger(dead, world.deployment, actors.outsider), port=0, policy=RelayPolicy(open=True)) as server:
        status, answer = post(server.url, signed.to_json())
    assert status == 502 and "connection" in answer["error"].lower() and answer["code"] == "node_failed"


# ─── Gas: per transaction, and contract wallets ──────────────────────────────────────────────


def test_an_estimate_above_the_gas_cap_is_refused_before_sending(ml, signed, world):
    block = world.chain.w3.eth.block_number
    with relay_server(ml.outsider, port=0, policy=RelayPolicy(max_gas=50_000)) as server:
        status, answer = post(server.url, signed.to_json())
    assert status == 400 and answer["code"] == "gas_cap", answer
    assert answer["cap"] == 50_000 and 50_000 < answer["gas"] < 150_000  # a grant: ~75k
    assert "above this relayer's cap of 50000 per transaction" in answer["error"]
    assert world.chain.w3.eth.block_number == block


@pytest.fixture(scope="session")
def wallet_artifacts() -> dict[str, Any]:
    """The test-only ERC-1271 wallets of tests/fixtures/Wallets.sol, compiled as the suite is."""
    import solcx

    from medledger import toolchain

    unit = "tests/fixtures/Wallets.sol"
    output = solcx.compile_standard(toolchain.standard_input({unit: WALLETS_SOURCE.read_text()}),
                                    solc_binary=toolchain.find_compiler().path, allow_paths=str(toolchain.project_root()))  # fmt: skip
    return output["contracts"][unit]


def deploy_wallet(ledger: MedLedger, artifacts: dict[str, Any], name: str, *args: Any) -> Any:
    """Deploy test wallet ``name`` as ``ledger``'s signer; its web3 contract."""
    w3 = ledger.w3
    factory = w3.eth.contract(abi=artifacts[name]["abi"], bytecode="0x" + artifacts[name]["evm"]["bytecode"]["object"])
    data = factory.constructor(*args).build_transaction({"from": ledger.require_signer().address, "gas": 3_000_000})["data"]
    receipt = ledger.transactor.send_prepared({"data": data}, ledger.require_signer())
    return w3.eth.contract(address=receipt.raw["contractAddress"], abi=artifacts[name]["abi"])


def wallet_grant(ml, world, wallet: str, grantee: str, sign_with: Any) -> SignedMessage:
    """A Grant for the world's patient, signed for ``wallet`` (the patient's delegate) by the key
    ``sign_with`` over the EIP-712 digest, as the wallet's owner would."""
    message = ml.patient.consent.grant_message(world.people.patient.address, grantee, ["labs"], valid_until=until(world))
    data = consent.typed_data(ml.patient.consent.domain(), "Grant", message)
    return SignedMessage(data, wallet, bytes(sign_with.unsafe_sign_hash(consent.digest(data)).signature))


def test_an_honest_contract_wallet_is_checked_by_eth_call_and_relayed(ml, actors, world, wallet_artifacts):
    wallet = deploy_wallet(ml.nurse, wallet_artifacts, "OwnedWallet", actors.nurse.address)
    ml.patient.patients.appoint_delegate(wallet.address, until(world))
    signed = wallet_grant(ml, world, wallet.address, actors.doctor.address, actors.nurse)
    with relay_server(ml.outsider, port=0) as server:
        forged = SignedMessage(signed.data, signed.signer, bytes(actors.doctor.unsafe_sign_hash(b"\x07" * 32).signature))
        status, answer = post(server.url, forged.to_json())
        assert status == 400 and answer["code"] == "bad_signature" and "does not accept the signature" in answer["error"]
        status, answer = post(server.url, signed.to_json())
    assert status == 200, answer
    grant = ml.outsider.consent.grant_of(world.people.patient.address, actors.doctor.address)
    assert grant.exists


def test_a_contract_wallet_that_burns_gas_is_refused_for_the_checks_gas(ml, actors, world, wallet_artifacts):
    burner = deploy_wallet(ml.nurse, wallet_artifacts, "GasBurningWallet", 2_000)  # ~0.5M gas a check (more rounds: more)
    ml.patient.patients.appoint_delegate(burner.address, until(world))
    signed = wallet_grant(ml, world, burner.address, actors.doctor.address, actors.nurse)
    w3 = world.chain.w3
    block, balance = w3.eth.block_number, w3.eth.get_balance(actors.outsider.address)
    with relay_server(ml.outsider, port=0) as server:
        status, answer = post(server.url, signed.to_json())
    assert status == 400 and answer["code"] == "wallet_check_failed", answer
    assert "within 50000 gas" in answer["error"]
    # A relayer that lets the check run long still refuses the transaction: its estimate is over the cap.
    with relay_server(ml.outsider, port=0, policy=RelayPolicy(wallet_check_gas=2_000_000)) as server:
        status, answer = post(server.url, signed.to_json())
    assert status == 400 and answer["code"] == "gas_cap" and answer["gas"] > 150_000, answer
    assert (w3.eth.block_number, w3.eth.get_balance(actors.outsider.address)) == (block, balance)  # nothing paid
    assert not ml.outsider.consent.grant_of(world.people.patient.address, actors.doctor.address).exists


def test_contract_wallets_can_be_refused_or_limited_to_a_list(ml, actors, world, wallet_artifacts):
    wallet = deploy_wallet(ml.nurse, wallet_artifacts, "OwnedWallet", actors.nurse.address)
    ml.patient.patients.appoint_delegate(wallet.address, until(world))
    signed = wallet_grant(ml, world, wallet.address, actors.doctor.address, actors.nurse)
    with relay_server(ml.outsider, port=0, policy=RelayPolicy(contract_wallets=frozenset())) as server:
        status, answer = post(server.url, signed.to_json())
    assert status == 403 and answer["code"] == "contract_wallet_not_allowed"
    with relay_server(ml.outsider, port=0, policy=RelayPolicy(contract_wallets=frozenset({wallet.address.lower()}))) as server:
        status, answer = post(server.url, signed.to_json())
    assert status == 200, answer


# ─── Rates and the gas budget ────────────────────────────────────────────────────────────────


def test_per_signer_and_global_rates_answer_429_with_retry_after(ml, actors, patient, signed, world):
    clock = Clock()
    policy = RelayPolicy(signer_rate=Window(2, 60), global_rate=Window(3, 600))

    def grant(by: MedLedger, grantee: str) -> SignedMessage:
        return by.consent.sign_grant(grantee, ["labs"], valid_until=until(world), patient=patient)

    with relay_server(ml.outsider, port=0, policy=policy, clock=clock) as server:
        assert post(server.url, signed.to_json())[0] == 200
        assert post(server.url, signed.to_json())[1]["code"] == "stale_nonce"  # not paid for: not counted
        assert post(server.url, grant(ml.patient, actors.nurse.address).to_json())[0] == 200
        third = send(server.url, grant(ml.patient, actors.hospital.address).to_json())
        assert third.status == 429 and third.body["code"] == "signer_rate", third.body
        assert third.headers["Retry-After"] == "60" and third.body["retry_after"] == 60
        clock.now += 61  # the signer's window has passed, the global one has not
        assert post(server.url, grant(ml.guardian, actors.hospital.address).to_json())[0] == 200  # the third paid
        other = grant(ml.guardian, actors.outsider.address)
        refused = send(server.url, other.to_json())
        assert refused.status == 429 and refused.body["code"] == "global_rate", refused.body
        assert int(refused.headers["Retry-After"]) == 600 - 61
        clock.now += 600
        assert post(server.url, other.to_json())[0] == 200


def replay_from_chain(ledger: MedLedger, tx_hash: str) -> SignedMessage:
    """Anyone can rebuild a relayed signed Grant from the public calldata of its transaction."""
    tx = ledger.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    _, args = ledger.consent.contract.decode_function_input(tx["input"])
    terms = args["terms"]
    if isinstance(terms, dict):
        terms = [terms[k] for k in ("grantee", "categories", "writeCategories", "purpose", "validUntil", "referralAllowed")]
    grantee, categories, write, purpose, valid_until, referral = terms
    message = {"patient": args["patient"], "grantee": grantee, "categories": categories, "writeCategories": write,
               "purpose": purpose, "validUntil": valid_until, "referralAllowed": referral, "nonce": args["nonce"],
               "deadline": args["deadline"]}  # fmt: skip
    data = consent.typed_data(ledger.consent.domain(), "Grant", message)
    return SignedMessage(data, args["signer"], bytes(args["signature"]))


def test_a_signers_rate_counts_only_requests_the_relayer_pays_for(world, ml, actors, patient):
    """A used signature is public (the relayed transaction's calldata) and verifies for ever. The
    grantee, to keep its access, replays the patient's old signed Grant again and again: each is
    refused (stale nonce) and counts against no one, so the patient's own Revoke still passes."""
    clock = Clock()
    relayer = Relayer(ml.outsider, RelayPolicy(signer_rate=Window(3, 3600), global_rate=Window(4, 3600)), clock)
    granted = ml.patient.consent.sign_grant(actors.doctor.address, ["labs"], valid_until=until(world))
    answer = relayer.relay(granted)
    assert ml.outsider.consent.grant_of(patient, actors.doctor.address).exists

    stolen = replay_from_chain(ml.doctor, answer["tx_hash"])  # the doctor reads it off the chain
    assert stolen.signature == granted.signature
    late = ml.patient.consent.sign_grant(actors.nurse.address, ["labs"], valid_until=until(world),
                                         deadline=world.chain.now() - 1)  # the patient's own, refused  # fmt: skip
    for junk, code in [(stolen, "stale_nonce")] * 5 + [(late, "deadline_passed")]:
        with pytest.raises(Refused) as refused:
            relayer.relay(junk)
        assert refused.value.code == code
    assert relayer.usage()["requests"] == 1  # only the grant that was paid for

    relayer.relay(ml.patient.consent.sign_revoke(actors.doctor.address))
    assert not ml.outsider.consent.grant_of(patient, actors.doctor.address).exists
    relayer.relay(ml.patient.consent.sign_grant(actors.nurse.address, ["labs"], valid_until=until(world)))
    with pytest.raises(Refused) as full:  # three paid: the patient's own allowance is spent, by itself only
        relayer.relay(ml.patient.consent.sign_revoke(actors.nurse.address))
    assert full.value.code == "signer_rate" and relayer.usage()["requests"] == 3


def test_the_gas_budget_per_period_counts_what_was_spent(ml, actors, patient, world):
    clock = Clock()
    policy = RelayPolicy(gas_budget=Window(150_000, 3600))
    first = ml.patient.consent.sign_grant(actors.doctor.address, ["labs"], valid_until=until(world))
    with relay_server(ml.outsider, port=0, policy=policy, clock=clock) as server:
        status, answer = post(server.url, first.to_json())
        assert status == 200
        second = ml.patient.consent.sign_grant(actors.nurse.address, ["labs"], valid_until=until(world))
        refused = send(server.url, second.to_json())  # spent ~75k; the next may cost its gas limit, ~100k
        assert refused.status == 429 and refused.body["code"] == "gas_budget", refused.body
        assert 0 < int(refused.headers["Retry-After"]) <= 3600
        clock.now += 3601
        assert post(server.url, second.to_json())[0] == 200


# ─── Who may use it ──────────────────────────────────────────────────────────────────────────


def test_a_closed_relayer_serves_its_allow_list_and_api_key_holders(ml, actors, patient, world):
    allowed = RelayPolicy(open=False, allowed=frozenset({patient}))
    stranger_patient = ml.guardian.consent.sign_grant(actors.nurse.address, ["labs"], valid_until=until(world), patient=patient)
    block = world.chain.w3.eth.block_number
    with relay_server(ml.outsider, port=0, policy=allowed) as server:
        assert post(server.url, stranger_patient.to_json())[0] == 200  # the patient is listed, the guardian acts for it
    signed = ml.patient.consent.sign_grant(actors.doctor.address, ["labs"], valid_until=until(world))
    with relay_server(ml.outsider, port=0, policy=RelayPolicy(open=False, allowed=frozenset({actors.nurse.address}))) as server:
        status, answer = post(server.url, signed.to_json())
        assert status == 403 and answer["code"] == "not_allowed" and "allow-list" in answer["error"]
    keyed = RelayPolicy(open=False, api_key_hashes=frozenset({hash_key("s3cret")}))
    with relay_server(ml.outsider, port=0, policy=keyed) as server:
        missing = send(server.url, signed.to_json())
        assert missing.status == 401 and missing.body["code"] == "api_key_required"
        assert missing.headers["WWW-Authenticate"].startswith("Bearer")
        wrong = send(server.url, signed.to_json(), {"Authorization": "Bearer guess"})
        assert wrong.status == 401 and wrong.body["code"] == "bad_api_key"
        assert world.chain.w3.eth.block_number == block + 1  # only the listed patient's grant was sent
        assert post(server.url, signed.to_json(), {"Authorization": "Bearer s3cret"})[0] == 200


def test_a_closed_relayer_decides_on_the_verified_signer_and_strangers_spend_no_rate(world, ml, actors, patient):
    """The message's ``patient`` is a claim anyone can write: a stranger who names a listed patient
    is refused as unlisted once its signature is checked, and neither that nor a replayed old
    signature of the listed patient counts against the global rate, so the patient is still served."""
    clock = Clock()
    policy = RelayPolicy(open=False, allowed=frozenset({patient}), global_rate=Window(2, 3600))
    relayer = Relayer(ml.outsider, policy, clock)
    first = ml.patient.consent.sign_grant(actors.doctor.address, ["labs"], valid_until=until(world))
    stolen = replay_from_chain(ml.outsider, relayer.relay(first)["tx_hash"])
    for i in range(5):
        junk = ml.outsider.consent.sign_grant(actors.nurse.address, ["labs"], valid_until=until(world) + i,
                                              patient=patient)  # fmt: skip
        with pytest.raises(Refused) as refused:
            relayer.relay(junk)
        assert refused.value.code == "not_allowed" and refused.value.status == 403
        assert "does not act for the listed patient" in str(refused.value)
        with pytest.raises(Refused) as replayed:
            relayer.relay(stolen)
        assert replayed.value.code == "stale_nonce"
    assert relayer.usage()["requests"] == 1
    relayer.relay(ml.patient.consent.sign_grant(actors.nurse.address, ["labs"], valid_until=until(world)))
    with pytest.raises(Refused) as full:
        relayer.relay(ml.patient.consent.sign_grant(actors.hospital.address, ["labs"], valid_until=until(world)))
    assert full.value.code == "global_rate"  # two paid: the rate itself still holds
    forged = SignedMessage(first.data, patient, bytes(actors.outsider.unsafe_sign_hash(b"\x03" * 32).signature))
    with pytest.raises(Refused) as unverified:  # a signer is only who the signature proves
        Relayer(ml.outsider, policy, clock).relay(forged)
    assert unverified.value.code == "bad_signature"


@pytest.mark.parametrize("chain_id", [1337, 31337])
def test_off_a_dev_chain_the_relayer_is_closed_unless_told_whom_to_serve(ml, world, chain_id):
    """Open only on a chain medledger knows is a dev chain (:func:`medledger.chain.is_dev_chain`):
    a Besu or geth network on chain id 1337 or 31337, reached by URL, gets a closed relayer."""
    from medledger.errors import ConfigurationError

    def on(client: str | None) -> MedLedger:
        w3 = node_as(world.chain.w3, client, chain_id)
        return MedLedger(w3, dataclasses.replace(world.deployment, chain_id=chain_id), ml.outsider.signer)

    assert RelayPolicy().is_open(world.chain.w3)  # the embedded chain
    for network in (BESU, GETH, None):
        assert not RelayPolicy().is_open(on(network).w3) and RelayPolicy(open=True).is_open(on(network).w3)
        with pytest.raises(ConfigurationError, match="--allow.*--api-keys-file.*--open"):
            Relayer(on(network))
        assert Relayer(on(network), RelayPolicy(allowed=frozenset({world.people.patient.address}))).open is False
        assert RelayPolicy().describe(on(network).w3)["open"] is False
    for dev in (ANVIL, GANACHE):
        assert Relayer(on(dev)).open is True
    assert RelayPolicy(open=False).is_open(world.chain.w3) is False


# ─── Deadlines, input ────────────────────────────────────────────────────────────────────────


def test_a_deadline_must_leave_a_margin_past_the_latest_block(ml, actors, relay, world):
    now = world.chain.now()
    at_head = ml.patient.consent.sign_grant(actors.doctor.address, ["labs"], valid_until=until(world), deadline=now)
    status, answer = post(relay, at_head.to_json())  # passes the contract's `block.timestamp > deadline` today, reverts when mined
    assert status == 400 and answer["code"] == "deadline_too_soon" and answer["margin"] >= 2, answer
    assert Relayer(ml.outsider).deadline_margin() >= 2  # two block intervals of at least a second
    policy = RelayPolicy(deadline_margin=600)
    with relay_server(ml.outsider, port=0, policy=policy) as server:
        soon = ml.patient.consent.sign_grant(actors.doctor.address, ["labs"], valid_until=until(world), deadline=now + 300)
        status, answer = post(server.url, soon.to_json())
        assert status == 400 and "less than 600 s after the latest block" in answer["error"]
        later = ml.patient.consent.sign_grant(actors.doctor.address, ["labs"], valid_until=until(world), deadline=now + 700)
        assert post(server.url, later.to_json())[0] == 200


def _raw(signed: SignedMessage, **changes: Any) -> str:
    data = json.loads(signed.to_json())
    data["typedData"]["message"].update(changes)
    return json.dumps(data)


def test_hex_uints_are_accepted_and_booleans_must_be_json_booleans(ml, actors, patient, relay, world):
    signed = ml.patient.consent.sign_grant(actors.doctor.address, ["labs"], valid_until=until(world))
    message = signed.message
    as_wallets_write = {k: hex(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in message.items()}
    data = dict(signed.data, message=as_wallets_write)
    from_wallet = SignedMessage(data, signed.signer, consent.sign(data, world.people.patient))  # eth-account signs hex too
    assert from_wallet.signature == signed.signature  # the same digest: 0x-hex uints are the same numbers

    status, answer = post(relay, _raw(signed, referralAllowed="false"))  # hashed as false, sent as true, before
    assert status == 400 and "referralAllowed must be a JSON boolean" in answer["error"], answer
    missing = json.loads(signed.to_json())
    del missing["typedData"]["message"]["deadline"]
    status, answer = post(relay, json.dumps(missing))
    assert status == 400 and "lacks the field 'deadline'" in answer["error"]
    status, answer = post(relay, _raw(signed, categories="lots"))
    assert status == 400 and "Grant.categories must be a whole number" in answer["error"]
    other_types = json.loads(signed.to_json())
    other_types["typedData"]["types"]["Grant"].reverse()
    status, answer = post(relay, json.dumps(other_types))
    assert status == 400 and "Grant type is not the contract's" in answer["error"]

    status, answer = post(relay, from_wallet.to_json())
    assert status == 200, answer
    assert ml.outsider.consent.grant_of(patient, actors.doctor.address).exists


# ─── The HTTP server ─────────────────────────────────────────────────────────────────────────


def test_cors_answers_only_the_wallet_pages_origin(relay):
    def preflight(origin: str) -> Any:
        request = urllib.request.Request(f"{relay}/relay", method="OPTIONS", headers={"Origin": origin})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.headers

    assert preflight(PAGE)["Access-Control-Allow-Origin"] == PAGE
    assert "Authorization" in preflight(PAGE)["Access-Control-Allow-Headers"]
    assert preflight("https://evil.example")["Access-Control-Allow-Origin"] is None
    answer = send(relay, "{", {"Origin": "https://evil.example"})
    assert answer.status == 400 and answer.headers["Access-Control-Allow-Origin"] is None


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(10)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:  # closed with bytes it had not read
        return True


def test_a_silent_or_trickling_client_is_dropped_and_others_are_served(ml, world):
    with relay_server(ml.outsider, port=0, workers=2, timeout=0.5, request_deadline=1.5) as server:
        address = server.httpd.server_address[:2]
        silent = [socket.create_connection(address) for _ in range(2)]  # hold every worker
        started = time.monotonic()
        with urllib.request.urlopen(f"{server.url}/health", timeout=10) as answer:  # served once a worker is free
            assert answer.status == 200
        assert all(closed_by_server(sock) for sock in silent)
        assert time.monotonic() - started < 3

        trickler = socket.create_connection(address)

        def trickle() -> None:
            try:
                for byte in b"GET /health HTTP/1.0\r\nX-Slow: " + b"a" * 100:
                    trickler.send(bytes([byte]))
                    time.sleep(0.2)  # under the per-read timeout, and past the request deadline in all
            except OSError:
                pass

        started = time.monotonic()
        threading.Thread(target=trickle, daemon=True).start()
        assert closed_by_server(trickler)  # dropped at the deadline, not served (its request needs 25 s)
        assert 1.2 < time.monotonic() - started < 4
        for sock in (*silent, trickler):
            sock.close()


def test_connections_beyond_the_pool_and_its_queue_are_answered_busy(ml, world):
    with relay_server(ml.outsider, port=0, workers=1, queued=1, timeout=2) as server:
        address = server.httpd.server_address[:2]
        held = []
        for _ in range(2):  # one served (silent), then one waiting
            held.append(socket.create_connection(address))
            time.sleep(0.3)  # the worker takes the first before the second arrives
        extra = socket.create_connection(address)
        extra.settimeout(5)
        assert extra.recv(200).startswith(b"HTTP/1.0 503")  # no new thread for it: refused at once
        for sock in (*held, extra):
            sock.close()


# ─── A front-run revert (anvil: transactions ordered in one block by hand) ───────────────────


@pytest.fixture(scope="module")
def anvil():
    with own_anvil() as suite:
        yield suite


def rpc(w3: Any, method: str, *params: Any) -> Any:
    answer = w3.provider.make_request(method, list(params))
    assert "error" not in answer, answer
    return answer.get("result")


def front_run(suite: Any, relay_url: str, body: str, relayer: str, competitor: Any) -> Answer:
    """POST ``body`` to the relay, wait until its transaction is pending, then let ``competitor()``
    send a transaction with a higher tip, and mine both in one block (the competitor's first)."""
    w3 = suite.chain.w3
    sent = w3.eth.get_transaction_count(relayer, "pending")
    result: list[Answer] = []
    rpc(w3, "evm_setAutomine", False)
    try:
        worker = threading.Thread(target=lambda: result.append(send(relay_url, body)), daemon=True)
        worker.start()
        deadline = time.monotonic() + 30
        while w3.eth.get_transaction_count(relayer, "pending") == sent:
            assert time.monotonic() < deadline and worker.is_alive(), result
            time.sleep(0.05)
        competitor()
        rpc(w3, "evm_mine")
    finally:
        rpc(w3, "evm_setAutomine", True)
    worker.join(30)
    return result[0]


def raw_send(w3: Any, account: Any, function: Any, tip: int = 50 * 10**9) -> None:
    """Sign and send ``function`` from ``account`` with a high tip, without waiting for it."""
    tx = function.build_transaction({"from": account.address, "nonce": w3.eth.get_transaction_count(account.address, "pending"),
                                     "gas": 300_000, "maxPriorityFeePerGas": tip, "maxFeePerGas": 10 * tip,
                                     "chainId": w3.eth.chain_id})  # fmt: skip
    w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)


def test_a_front_run_revert_is_decoded_and_never_paid_for_again(anvil, wallet_artifacts):
    suite, actors = anvil, anvil.actors
    w3 = suite.chain.w3
    patient, owner, relayer = suite.people.patient2, actors.nurse, actors.spare
    from tests.helpers import register

    as_patient = suite.ledger(patient)
    register(as_patient, 7)
    wallet = deploy_wallet(suite.ledger(owner), wallet_artifacts, "OwnedWallet", owner.address)
    as_patient.patients.appoint_delegate(wallet.address, until(suite))
    message = as_patient.consent.grant_message(patient.address, actors.doctor.address, ["labs"], valid_until=until(suite))
    data = consent.typed_data(as_patient.consent.domain(), "Grant", message)
    signed = SignedMessage(data, wallet.address, bytes(owner.unsafe_sign_hash(consent.digest(data)).signature))

    with relay_server(suite.ledger(relayer), port=0) as server:
        # The dry run passes (the wallet is open); the owner closes it in a transaction mined first.
        answer = front_run(suite, server.url, signed.to_json(), relayer.address,
                           lambda: raw_send(w3, owner, wallet.functions.setOpen(False)))  # fmt: skip
        assert answer.status == 409 and answer.body["code"] == "reverted_on_chain", answer.body
        assert answer.body["revert"] == "InvalidSignature" and wallet.address in answer.body["reason"]  # decoded
        assert "without a reason" not in answer.body["error"]
        receipt = w3.eth.get_transaction_receipt(answer.body["tx_hash"])
        assert receipt["status"] == 0 and receipt["transactionIndex"] == 1
        assert answer.body["gas_used"] == receipt["gasUsed"]
        with urllib.request.urlopen(f"{server.url}/health", timeout=10) as health:
            assert json.loads(health.read())["spent"] == {"requests": 1, "gas": receipt["gasUsed"]}  # the loss counts

        # The wallet opens again: everything checks as before the loss, so it would be lost again.
        suite.ledger(owner).transactor.send(wallet.functions.setOpen(True), owner)
        head, balance = w3.eth.block_number, w3.eth.get_balance(relayer.address)
        again = send(server.url, signed.to_json())
        assert again.status == 409 and again.body["code"] == "reverted_before", again.body
        assert again.body["tx_hash"] == answer.body["tx_hash"] and "InvalidSignature" in again.body["reason"]
        assert (w3.eth.block_number, w3.eth.get_balance(relayer.address)) == (head, balance)

        # Once the signer's state changes (the patient cancels, a new nonce), a new signature goes through.
        as_patient.consent.cancel_signatures()
        fresh = as_patient.consent.grant_message(patient.address, actors.doctor.address, ["labs"], valid_until=until(suite))
        fresh_data = consent.typed_data(as_patient.consent.domain(), "Grant", fresh)
        renewed = SignedMessage(fresh_data, wallet.address, bytes(owner.unsafe_sign_hash(consent.digest(fresh_data)).signature))
        assert send(server.url, renewed.to_json()).status == 200


def test_a_signature_relayed_first_by_someone_else_is_decoded_and_refused_after(anvil):
    suite, actors = anvil, anvil.actors
    w3 = suite.chain.w3
    patient, relayer, rival = suite.people.patient, actors.spare, actors.authority2
    from tests.helpers import register

    as_patient = suite.ledger(patient)
    register(as_patient, 8)
    signed = as_patient.consent.sign_grant(actors.doctor.address, ["labs"], valid_until=until(suite))
    rival_call = suite.ledger(rival).consent.relay_call(signed)
    with relay_server(suite.ledger(relayer), port=0) as server:
        answer = front_run(suite, server.url, signed.to_json(), relayer.address, lambda: raw_send(w3, rival, rival_call))
        assert answer.status == 409 and answer.body["code"] == "reverted_on_chain", answer.body
        assert answer.body["revert"] == "InvalidAccountNonce", answer.body
        head = w3.eth.block_number
        again = send(server.url, signed.to_json())
        assert again.status == 400 and again.body["code"] == "stale_nonce"
        assert w3.eth.block_number == head
    assert suite.ledger(relayer).consent.grant_of(patient.address, actors.doctor.address).exists  # the rival's
