"""EIP-712 consent messages: typed data, signatures, JSON for wallets."""

from __future__ import annotations

import json
import re

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


def test_typed_data_from_a_wallet_is_parsed_strictly_and_rebuilt_canonically():
    data = consent.typed_data(DOMAIN, "Grant", GRANT)
    as_hex = json.loads(json.dumps(data))
    as_hex["message"].update(nonce="0x3", categories="6", deadline=hex(1_900_000_000))
    as_hex["domain"]["chainId"] = "0x7a69"
    parsed = consent.parse_typed_data(as_hex)
    assert parsed == data and consent.digest(as_hex) == consent.digest(data)  # eth-account reads hex alike
    for change, message in (({"referralAllowed": "false"}, "Grant.referralAllowed must be a JSON boolean"),
                            ({"referralAllowed": 0}, "must be a JSON boolean"),
                            ({"purpose": True}, "Grant.purpose must be a whole number"),
                            ({"purpose": 256}, "from 0 to 2^8-1"),
                            ({"categories": "0xzz"}, "Grant.categories must be a whole number"),
                            ({"grantee": "0x12"}, "Grant.grantee must be an address"),
                            ({"colour": 1}, "unknown field(s) 'colour'")):  # fmt: skip
        bad = dict(data, message={**data["message"], **change})
        with pytest.raises(errors.InvalidInput, match=re.escape(message)):
            consent.parse_typed_data(bad)
    for drop, message in (("deadline", "the Grant lacks the field 'deadline' (uint256)"), ("types", "lacks 'types'")):
        bad = dict(data, message={k: v for k, v in data["message"].items() if k != drop}) if drop == "deadline" else \
            {k: v for k, v in data.items() if k != drop}  # fmt: skip
        with pytest.raises(errors.InvalidInput, match=re.escape(message)):
            consent.parse_typed_data(bad)
    other_types = dict(data, types={**data["types"], "Grant": data["types"]["Grant"][::-1]})
    with pytest.raises(errors.InvalidInput, match="Grant type is not the contract's"):
        consent.parse_typed_data(other_types)
    with pytest.raises(errors.InvalidInput, match="must be a JSON boolean"):
        consent.typed_data(DOMAIN, "Grant", {**GRANT, "referralAllowed": "false"})
