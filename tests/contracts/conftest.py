"""Fixtures of the contract tests beyond the base suite."""

from __future__ import annotations

import pytest

from medledger.identity import identity_commitment, public_key

DAY = 24 * 3600
LIFETIME = 30 * DAY  # credentials: far longer than any test moves the clock


def register(ledger, seed: int) -> str:
    ledger.patients.register(identity_commitment({"name": f"p{seed}"}, bytes([seed]) * 32), public_key(bytes([seed]) * 32))
    return ledger.signer.address


@pytest.fixture
def world(suite, ml, actors):
    """Registered patient with a guardian; credentialed doctor, nurse, hospital and clinic."""
    now = suite.chain.now()
    issue = ml.authority.credentials.issue
    issue(actors.doctor.address, "licence", valid_from=now - 10, valid_until=now + LIFETIME)
    issue(actors.nurse.address, "nurse", valid_from=now - 10, valid_until=now + LIFETIME)
    for institution in (actors.hospital.address, suite.people.clinic.address):
        issue(institution, "accreditation", valid_from=now - 10, valid_until=now + LIFETIME)
    register(ml.patient, 1)
    ml.patient.patients.appoint_delegate(suite.people.guardian.address, now + LIFETIME)
    return suite


@pytest.fixture
def patient(world) -> str:
    return world.people.patient.address


def until(suite, days: int = 7) -> int:
    return suite.chain.now() + days * DAY
