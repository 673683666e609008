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
    REVOKED_BY_REGULATOR = 5


class CredentialValidity(_Named):
    VALID = 0
    UNKNOWN = 1
    NOT_YET_VALID = 2
    EXPIRED = 3
    SUSPENDED = 4
    REVOKED = 5
    ISSUER_NOT_ACCREDITED = 6
    SUBJECT_IS_INSTITUTION = 7


class EmploymentStatus(_Named):
    NONE = 0
    OFFERED = 1
    ACTIVE = 2


class MrnLinkStatus(_Named):
    NONE = 0
    PROPOSED = 1
    LINKED = 2


class Purpose(_Named):
    TREATMENT = 0
    REFERRAL = 1
    INSURANCE = 2
    RESEARCH = 3
    EMERGENCY = 4
    PATIENT_REQUEST = 5
    PUBLIC_HEALTH = 6
    OPERATIONS = 7


class RecordCategory(_Named):
    SUMMARY = 0
    LABS = 1
    IMAGING = 2
    MEDICATIONS = 3
    CLINICAL_NOTES = 4
    GENOMICS = 5
    MENTAL_HEALTH = 6
    SEXUAL_HEALTH = 7
    SUBSTANCE_USE = 8
    IMMUNIZATIONS = 9
    PROCEDURES = 10
    DOCUMENTS = 11


#: The mask of every record category (the contract's ``ALL_CATEGORIES``).
ALL_CATEGORIES = (1 << len(RecordCategory)) - 1


#: What a set of record categories may be given as.
Categories = int | str | RecordCategory | list[str | int | RecordCategory] | tuple[str | int | RecordCategory, ...]


def category_mask(categories: Categories) -> int:
    """A uint16 mask from category names or members (``["labs", "imaging"]``, ``"labs,imaging"``,
    ``"all"``), or an int mask checked to name only existing categories."""
    from medledger.errors import InvalidInput

    if isinstance(categories, bool):
        raise InvalidInput("categories must be names or a mask, not true/false")
    if isinstance(categories, RecordCategory):
        return 1 << int(categories)
    if isinstance(categories, int):
        if not 0 <= categories <= ALL_CATEGORIES:
            raise InvalidInput(f"category mask {categories} names categories that do not exist (max {ALL_CATEGORIES})")
        return categories
    if isinstance(categories, str):
        if categories.strip().lower() == "all":
            return ALL_CATEGORIES
        categories = [part for part in categories.split(",") if part.strip()]
    mask = 0
    for item in categories:
        mask |= 1 << int(RecordCategory.parse(item.strip() if isinstance(item, str) else item))
    return mask


def categories_in(mask: int) -> list[RecordCategory]:
    """The categories a mask names, in order."""
    return [c for c in RecordCategory if mask & (1 << int(c))]


class AccessBasis(_Named):
    NONE = 0
    PATIENT = 1
    GRANT = 2
    REFERRAL = 3
    BREAK_GLASS = 4


class RecordKind(_Named):
    ENTRY = 0
    AMENDMENT = 1


class RecordStatus(_Named):
    UNKNOWN = 0
    CURRENT = 1
    SUPERSEDED = 2


class BatchStatus(_Named):
    NONE = 0
    ACTIVE = 1
    QUARANTINED = 2
    QUARANTINED_BY_REGULATOR = 3
    RECALLED = 4


class BatchValidity(_Named):
    VERIFIED = 0
    UNKNOWN = 1
    EXPIRED = 2
    QUARANTINED = 3
    RECALLED = 4
    PRODUCT_VOIDED = 5


class ShipmentStatus(_Named):
    NONE = 0
    IN_TRANSIT = 1
    RECEIVED = 2
    CANCELLED = 3


class UnitValidity(_Named):
    VERIFIED = 0
    NO_MATCH = 1
    EXPIRED = 2
    QUARANTINED = 3
    RECALLED = 4
    ALREADY_DISPENSED = 5
    PRODUCT_VOIDED = 6


class PackVerdict(_Named):
    """The answer to a pack in hand (GTIN, lot, expiry and serial as printed), like the DSCSA
    verification router's: ``UnitValidity`` from the chain, plus wrong lot and wrong expiry, which
    the client finds by comparing the print with the batch on chain, and held by another, when the
    check names the member the pack is in the hands of and the chain's custody is elsewhere. Not a
    contract enum."""

    VERIFIED = 0
    NO_MATCH = 1
    EXPIRED = 2
    QUARANTINED = 3
    RECALLED = 4
    ALREADY_DISPENSED = 5
    WRONG_LOT = 6
    WRONG_EXPIRY = 7
    PRODUCT_VOIDED = 8
    HELD_BY_ANOTHER = 9  # genuine and dispensable, but its custody is at another member (or in transit)


class Suspicion(_Named):
    UNIT_NOT_IN_BATCH = 0
    ALREADY_DISPENSED = 1
    HELD_BY_ANOTHER = 2


class PrescriptionStatus(_Named):
    NONE = 0
    ACTIVE = 1
    CANCELLED = 2


class PrescriptionValidity(_Named):
    FILLABLE = 0
    UNKNOWN = 1
    CANCELLED = 2
    EXPIRED = 3
    FULLY_FILLED = 4
    PRESCRIBER_NOT_LICENSED = 5
    PRESCRIBER_LACKS_SPECIALTY = 6
