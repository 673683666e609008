"""EIP-712 consent messages: typed data, signatures, JSON for wallets."""

from __future__ import annotations

import json

import pytest

from medledger import chain as chainmod
from medledger import consent, errors
from medledger.chain import dev_accounts

DOMAIN = consent.Domain("medledger ConsentManager", "1", 31337, "0x" + "5f" * 20)
PATIENT, DOCTOR = dev_accounts(2)
GRANT = {
    "patient": PATIENT.address, "grantee": DOCTOR.address, "categories": 6, "writeCategories": 2, "purpose": 0,
    "validUntil": 1_900_000_000, "referralAllowed": True, "nonce": 3, "deadline": 1_900_000_000,
}  # fmt: skip


def test_the_type_strings_are_the_contracts_typehash_preimages():
    assert consent.type_string("Revoke") == "Revoke(address patient,address grantee,uint256 nonce,uint256 deadline)"
    assert consent.type_string("Grant").startswith("Grant(address patient,address grantee,uint16 categories,")


def test_sign_and_recover():
    signed = consent.sign_message(DOMAIN, "Grant", GRANT, PATIENT)
    assert consent.recover(signed.data, signed.signature) == PATIENT.address
    signed.verify()
    assert len(consent.digest(signed.data)) == 32


def test_the_signed_file_round_trips_and_is_plain_wallet_json():
    signed = consent.sign_message(DOMAIN, "Grant", GRANT, PATIENT)
    again = consent.SignedMessage.from_json(signed.to_json())
    assert again == signed
    data = json.loads(consent.to_json(signed.data))
    assert data["primaryType"] == "Grant" and data["domain"]["chainId"] == 31337
    assert data["types"]["EIP712Domain"][0] == {"name": "name", "type": "string"}


@pytest.mark.parametrize("change", [{"nonce": 4}, {"categories": 7}, {"grantee": PATIENT.address}])
def test_any_change_to_the_message_breaks_the_signature(change):
    signed = consent.sign_message(DOMAIN, "Grant", GRANT, PATIENT)
    altered = dict(signed.data, message={**signed.data["message"], **change})
    assert consent.recover(altered, signed.signature) != PATIENT.address


def test_missing_or_unknown_fields_are_named():
    with pytest.raises(errors.InvalidInput, match="missing fields \\['deadline'\\]"):
        consent.typed_data(DOMAIN, "Grant", {k: v for k, v in GRANT.items() if k != "deadline"})
    with pytest.raises(errors.InvalidInput, match="unknown fields \\['colour'\\]"):
        consent.typed_data(DOMAIN, "Grant", {**GRANT, "colour": 1})
    with pytest.raises(errors.InvalidInput, match="unknown consent message type"):
        consent.typed_data(DOMAIN, "Marriage", GRANT)


@pytest.mark.parametrize("text", ["{", '{"typedData": {}}', '{"typedData": {"primaryType": "X"}, "signer": "0x1", "signature": "0x"}'])
def test_a_malformed_signed_file_is_a_clear_error(text):
    with pytest.raises(errors.InvalidInput, match="malformed"):
        consent.SignedMessage.from_json(text)


def test_a_signature_by_someone_else_does_not_verify():
    signed = consent.sign_message(DOMAIN, "Grant", GRANT, DOCTOR)
    claimed = consent.SignedMessage(signed.data, PATIENT.address, signed.signature)
    with pytest.raises(errors.InvalidInput, match="not made by"):
        claimed.verify()
    with pytest.raises(errors.InvalidInput, match="malformed"):
        consent.recover(signed.data, b"\x01" * 10)


@pytest.mark.nodes
def test_a_wallets_eth_sign_typed_data_v4_gives_the_same_signature():
    """anvil signs typed data for its dev accounts as MetaMask does: the JSON we export is what it signs."""
    with chainmod.connect("anvil") as node:
        data = consent.typed_data(DOMAIN, "Grant", GRANT)
        response = node.w3.provider.make_request("eth_signTypedData_v4", [PATIENT.address, consent.to_json(data)])
        from_wallet = bytes.fromhex(response["result"][2:])
    assert from_wallet == consent.sign(data, PATIENT)
