"""Revert data of every custom error becomes the typed exception of the same name."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak

from medledger import errors
from medledger.toolchain import ARTIFACTS_DIR, load_artifact


def _abi_errors():
    seen = {}
    for path in sorted(ARTIFACTS_DIR.glob("*.json")):
        for item in load_artifact(path.stem)["abi"]:
            if item["type"] == "error":
                seen[item["name"]] = item
    return seen


ABI_ERRORS = _abi_errors()


@pytest.mark.parametrize("name", sorted(ABI_ERRORS))
def test_every_custom_error_of_the_suite_has_a_typed_exception(name):
    cls = errors.CONTRACT_ERRORS[name]
    assert issubclass(cls, errors.ContractError)
    assert cls.__bases__[0] in {errors.NotAuthorized, errors.InvalidState, errors.InvalidArgument, errors.NotFound}


def _sample(kind: str):
    if kind == "address":
        return "0x" + "ab" * 20
    if kind == "string":
        return "a name longer than thirty-one bytes"
    if kind.startswith("bytes"):
        return b"\x07" * int(kind[5:])
    return 42


@pytest.mark.parametrize("name", sorted(ABI_ERRORS))
def test_revert_data_decodes_to_named_fields(name):
    item = ABI_ERRORS[name]
    types = [arg["type"] for arg in item["inputs"]]
    values = [_sample(t) for t in types]
    data = keccak(text=f"{name}({','.join(types)})")[:4] + encode(types, values)
    exc = errors.decode_revert("0x" + data.hex())
    assert type(exc).__name__ == name
    for arg, value in zip(item["inputs"], values):
        got = getattr(exc, arg["name"])
        assert (got.lower() if isinstance(got, str) else got) == value


def test_error_string_becomes_reverted_with_the_reason():
    data = bytes.fromhex("08c379a0") + encode(["string"], ["no way"])
    exc = errors.decode_revert(data)
    assert isinstance(exc, errors.Reverted) and exc.reason == "no way"


def test_panic_is_reported_as_a_bug_with_its_code():
    exc = errors.decode_revert(bytes.fromhex("4e487b71") + encode(["uint256"], [0x11]))
    assert isinstance(exc, errors.Panic) and exc.code == 0x11
    assert "bug" in str(exc)


def test_unknown_selector_keeps_the_raw_data():
    exc = errors.decode_revert("0xdeadbeef00")
    assert isinstance(exc, errors.UnknownContractError)
    assert exc.selector == "0xdeadbeef"


def test_empty_revert_data_is_a_plain_revert():
    assert isinstance(errors.decode_revert(b""), errors.Reverted)
    assert isinstance(errors.decode_revert(None), errors.Reverted)


def test_every_medledger_error_is_catchable_by_the_base_class():
    for cls in [*errors.CONTRACT_ERRORS.values(), errors.NonceError, errors.NodeNotRunning, errors.InvalidInput]:
        assert issubclass(cls, errors.MedLedgerError)


def test_messages_come_from_the_natspec_notice_with_the_values_filled_in():
    data = keccak(text="InvalidValidityWindow(uint40,uint40,uint40)")[:4] + encode(["uint40"] * 3, [5, 4, 6])
    assert str(errors.decode_revert(data)) == "InvalidValidityWindow: The window [5, 4) is empty or already over at 6."


def test_role_hashes_are_named_in_access_control_messages():
    role = keccak(text="medledger.role.licensing-authority")
    data = keccak(text="AccessControlUnauthorizedAccount(address,bytes32)")[:4] + encode(
        ["address", "bytes32"], ["0x" + "ab" * 20, role]
    )
    exc = errors.decode_revert(data)
    assert "lacks the role licensing authority" in str(exc)
    assert exc.neededRole == role  # the field keeps the raw value
