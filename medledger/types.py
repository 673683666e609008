"""Python mirrors of the suite's enums (contracts/types/MedLedgerTypes.sol), same order."""

from __future__ import annotations

from enum import IntEnum
from typing import TypeVar

_E = TypeVar("_E", bound="_Named")


class _Named(IntEnum):
    @classmethod
    def parse(cls: type[_E], text: str | int) -> _E:
        """The member named ``text`` (any case, ``-`` or ``_``) or numbered ``text``."""
        from medledger.errors import InvalidInput

        if isinstance(text, int) or str(text).isdigit():
            try:
                return cls(int(text))
            except ValueError:
                pass
        else:
            key = str(text).replace("-", "_").upper()
            for member in cls:
                if member.name.upper() == key:
                    return member
        choices = ", ".join(m.name.lower() for m in cls)
        raise InvalidInput(f"unknown {cls.__name__} {text!r}: choose one of {choices}")


class InstitutionKind(_Named):
    HOSPITAL = 0
    CLINIC = 1
    LAB = 2
    PHARMACY = 3
    MANUFACTURER = 4
    DISTRIBUTOR = 5
    INSURER = 6


class InstitutionStatus(_Named):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


class CredentialKind(_Named):
    LICENCE = 0
    SPECIALTY = 1
    PHARMACIST = 2
    NURSE = 3
    ACCREDITATION = 4


class CredentialStatus(_Named):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3
    SUSPENDED_BY_REGULATOR = 4


class CredentialValidity(_Named):
    VALID = 0
    UNKNOWN = 1
    NOT_YET_VALID = 2
    EXPIRED = 3
    SUSPENDED = 4
    REVOKED = 5
    ISSUER_NOT_ACCREDITED = 6


class EmploymentStatus(_Named):
    NONE = 0
    OFFERED = 1
    ACTIVE = 2


class MrnLinkStatus(_Named):
    NONE = 0
    PROPOSED = 1
    LINKED = 2
