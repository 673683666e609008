"""Python enums mirror the Solidity enums member for member, in the same order."""

from __future__ import annotations

import re

import pytest

from medledger import types
from medledger.toolchain import project_root

SOURCE = (project_root() / "contracts" / "types" / "MedLedgerTypes.sol").read_text()


def _solidity_enums() -> dict[str, list[str]]:
    enums = {}
    for name, body in re.findall(r"enum\s+(\w+)\s*\{([^}]*)\}", SOURCE):
        body = re.sub(r"//[^\n]*", "", body)
        enums[name] = [m.strip() for m in body.split(",") if m.strip()]
    return enums


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


@pytest.mark.parametrize("name, members", sorted(_solidity_enums().items()))
def test_python_enum_matches_solidity(name, members):
    python_enum = getattr(types, name)
    assert [m.name for m in python_enum] == [_snake(m) for m in members]
    assert [m.value for m in python_enum] == list(range(len(members)))


def test_parse_accepts_names_numbers_and_dashes_and_names_the_choices_on_error():
    assert types.CredentialValidity.parse("not-yet-valid") is types.CredentialValidity.NOT_YET_VALID
    assert types.InstitutionKind.parse(3) is types.InstitutionKind.PHARMACY
    with pytest.raises(ValueError, match="choose one of hospital, clinic"):
        types.InstitutionKind.parse("spaceport")
