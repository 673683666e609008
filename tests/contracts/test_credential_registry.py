"""CredentialRegistry: issuing and managing credentials, check(), and employment links.

The base fixture names the licensing authorities ``authority`` and ``authority2`` and the regulator,
and accredits ``hospital`` and ``pharmacy``; ``doctor`` and ``nurse`` start with nothing.
"""

from __future__ import annotations


import pytest

from medledger import errors
from tests.helpers import advance_to, block_time, events
from medledger.client.credentials import IssuedCredential, credential_id
from medledger.transactions import Receipt
from medledger.types import CredentialKind, CredentialStatus, CredentialValidity, EmploymentStatus

ZERO_ADDRESS = "0x" + "00" * 20
DOCUMENT = b"\xd0" * 32
# Snapshots roll back the latest block but not a chain's clock, so the next block can be stamped later
# than `chain.now()` by as long as the session has been running. Windows are therefore long.
LIFETIME = 10_000  # seconds a test credential stays valid
REASON = 12
V = CredentialValidity


@pytest.fixture
def issue(suite, ml):
    """Issue a credential valid from ``starts_in`` to ``ends_in`` seconds after ``chain.now()``."""

    def issue_(
        subject: str,
        kind: CredentialKind | str = CredentialKind.LICENCE,
        *,
        by: str = "authority",
        scope: int = 0,
        starts_in: int = 0,
        ends_in: int = LIFETIME,
        document: bytes = DOCUMENT,
    ) -> IssuedCredential:
        now = suite.chain.now()
        return getattr(ml, by).credentials.issue(
            subject,
            kind,
            scope=scope,
            valid_from=now + starts_in,
            valid_until=now + ends_in,
            document_hash=document,
        )

    return issue_


@pytest.fixture
def licence(issue, actors) -> bytes:
    """The id of a general licence that ``authority`` issued to ``doctor``, valid now."""
    return issue(actors.doctor.address).id


def emitted(viewer, receipt: Receipt, name: str) -> list:
    """The arguments of every ``name`` event the credential registry emitted in ``receipt``."""
    return events(viewer.credentials, receipt, name)


# ─── issueCredential ─────────────────────────────────────────────────────────────────────────


def test_issue_stores_the_credential_returns_its_id_and_emits_event(suite, ml, actors):
    doctor = actors.doctor.address
    now = suite.chain.now()
    valid_from, valid_until = now - 100, now + LIFETIME  # a window may start in the past

    issued = ml.authority.credentials.issue(
        doctor,
        "specialty",
        scope=42,
        valid_from=valid_from,
        valid_until=valid_until,
        document_hash=DOCUMENT,
    )

    contract_id = ml.outsider.credentials.contract.functions.credentialId
    assert issued.id == credential_id(doctor, CredentialKind.SPECIALTY, 42)
    assert issued.id == contract_id(doctor, int(CredentialKind.SPECIALTY), 42).call()
    stored = ml.outsider.credentials.get(issued.id)
    assert (stored.issuer, stored.kind, stored.status) == (
        actors.authority.address,
        CredentialKind.SPECIALTY,
        CredentialStatus.ACTIVE,
    )
    assert (stored.valid_from, stored.valid_until) == (valid_from, valid_until)
    assert stored.document_hash == DOCUMENT
    assert ml.outsider.credentials.check(doctor, "specialty", 42) is V.VALID
    assert ml.outsider.credentials.is_valid(doctor, "specialty", 42)
    (event,) = emitted(ml.outsider, issued.receipt, "CredentialIssued")
    assert event == {
        "id": issued.id,
        "subject": doctor,
        "issuer": actors.authority.address,
        "kind": CredentialKind.SPECIALTY,
        "scope": 42,
        "validFrom": valid_from,
        "validUntil": valid_until,
        "documentHash": DOCUMENT,
    }


def test_issue_accreditation_to_an_active_institution(ml, actors, issue):
    issued = issue(actors.hospital.address, "accreditation", scope=3)

    assert ml.outsider.credentials.get(issued.id).kind is CredentialKind.ACCREDITATION
    assert ml.outsider.credentials.check(actors.hospital.address, "accreditation", 3) is V.VALID


@pytest.mark.parametrize("caller", ["regulator", "hospital"])
def test_issue_by_non_licensing_authority_is_rejected(ml, actors, issue, caller):
    with pytest.raises(errors.NotLicensingAuthority) as exc:
        issue(actors.doctor.address, by=caller)

    assert exc.value.account == getattr(actors, caller).address
    assert ml.outsider.credentials.check(actors.doctor.address, "licence") is V.UNKNOWN


@pytest.mark.parametrize("suspended", [False, True], ids=["active", "suspended"])
def test_issue_over_a_live_credential_is_rejected(ml, actors, issue, licence, suspended):
    if suspended:
        ml.regulator.credentials.suspend(licence, REASON)
    before = ml.outsider.credentials.get(licence)

    with pytest.raises(errors.CredentialAlreadyIssued) as exc:
        issue(actors.doctor.address, by="authority2", document=b"\x99" * 32)

    assert exc.value.id == licence
    assert ml.outsider.credentials.get(licence) == before


@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_issue_replaces_a_revoked_or_expired_credential(suite, ml, actors, issue, ending):
    old = issue(actors.doctor.address).id
    if ending == "revoked":
        ml.authority.credentials.revoke(old, REASON)
    else:
        suite.chain.advance_time(LIFETIME + 1)

    new = issue(actors.doctor.address, by="authority2", document=b"\x77" * 32)

    assert new.id == old
    stored = ml.outsider.credentials.get(new.id)
    assert (stored.issuer, stored.status, stored.document_hash) == (
        actors.authority2.address,
        CredentialStatus.ACTIVE,
        b"\x77" * 32,
    )
    assert ml.outsider.credentials.check(actors.doctor.address, "licence") is V.VALID


@pytest.mark.parametrize("suspender", ["authority", "regulator"])
def test_a_suspension_cannot_be_washed_out_by_expiry_and_reissue(suite, ml, actors, issue, licence, suspender):
    getattr(ml, suspender).credentials.suspend(licence, REASON)
    suite.chain.advance_time(LIFETIME + 1)
    before = ml.outsider.credentials.get(licence)

    with pytest.raises(errors.CredentialAlreadyIssued) as exc:
        issue(actors.doctor.address, by="authority2", document=b"\x77" * 32)

    assert exc.value.id == licence
    assert ml.outsider.credentials.get(licence) == before
    assert ml.outsider.credentials.check(actors.doctor.address, "licence") is V.SUSPENDED


def test_issue_to_the_zero_address_is_rejected_by_the_contract(ml, issue):
    with pytest.raises(errors.ZeroAddress):
        issue(ZERO_ADDRESS)


@pytest.mark.parametrize(
    ("starts_in", "ends_in"),
    [(100, 100), (200, 100), (-200, 0)],
    ids=["empty-window", "ends-before-it-starts", "already-over"],
)
def test_issue_with_an_invalid_validity_window_is_rejected(suite, ml, actors, issue, starts_in, ends_in):
    now = suite.chain.now()

    with pytest.raises(errors.InvalidValidityWindow) as exc:
        issue(actors.doctor.address, starts_in=starts_in, ends_in=ends_in)

    assert (exc.value.validFrom, exc.value.validUntil) == (now + starts_in, now + ends_in)
    assert exc.value.currentTime >= now
    assert ml.outsider.credentials.check(actors.doctor.address, "licence") is V.UNKNOWN


@pytest.mark.parametrize("subject", ["doctor", "suspended-pharmacy"])
def test_issue_accreditation_to_a_non_institution_is_rejected(ml, actors, issue, subject):
    if subject == "suspended-pharmacy":
        ml.regulator.consortium.suspend(actors.pharmacy.address, REASON)
    address = actors.doctor.address if subject == "doctor" else actors.pharmacy.address

    with pytest.raises(errors.SubjectNotInstitution) as exc:
        issue(address, "accreditation")

    assert exc.value.subject == address
    assert ml.outsider.credentials.check(address, "accreditation") is V.UNKNOWN


@pytest.mark.parametrize(
    "bad",
    [
        {"subject": "0xdoctor"},
        {"kind": "surgeon"},
        {"scope": -1},
        {"scope": 2**64},
        {"valid_until": 2**40},
        {"document_hash": b"\x01" * 33},
    ],
    ids=[
        "malformed-subject",
        "unknown-kind",
        "negative-scope",
        "scope-too-large",
        "time-too-large-for-uint40",
        "long-document-hash",
    ],
)
def test_issue_rejects_malformed_arguments_before_sending(suite, ml, actors, bad):
    now = suite.chain.now()
    arguments = {"subject": actors.doctor.address, "kind": "licence", "scope": 0}
    arguments |= {"valid_from": now, "valid_until": now + LIFETIME, "document_hash": DOCUMENT} | bad
    subject, kind = arguments.pop("subject"), arguments.pop("kind")

    with pytest.raises(errors.InvalidInput):
        ml.authority.credentials.issue(subject, kind, **arguments)


# ─── suspendCredential / reinstateCredential / revokeCredential ──────────────────────────────

MANAGE = {
    "suspend": lambda credentials, id_: credentials.suspend(id_, REASON),
    "reinstate": lambda credentials, id_: credentials.reinstate(id_),
    "revoke": lambda credentials, id_: credentials.revoke(id_, REASON),
}
#: The state each operation needs to succeed.
PRECONDITION = {"suspend": "active", "reinstate": "suspended", "revoke": "active"}


def bring_to(ml, credential: bytes, state: str) -> None:
    """Move a fresh (active) credential to ``state``: ``suspended`` by its issuer,
    ``regulator-suspended`` by the regulator, ``revoked`` by the regulator."""
    if state == "suspended":
        ml.authority.credentials.suspend(credential, 1)
    elif state == "regulator-suspended":
        ml.regulator.credentials.suspend(credential, 1)
    elif state == "revoked":
        ml.regulator.credentials.revoke(credential, 1)


#: operation → (status after it, check() after it, event it emits)
OUTCOME = {
    "suspend": (CredentialStatus.SUSPENDED, V.SUSPENDED, "CredentialSuspended"),
    "reinstate": (CredentialStatus.ACTIVE, V.VALID, "CredentialReinstated"),
    "revoke": (CredentialStatus.REVOKED, V.REVOKED, "CredentialRevoked"),
}


@pytest.mark.parametrize(
    ("operation", "start", "actor"),
    [
        ("suspend", "active", "authority"),
        ("suspend", "active", "regulator"),
        ("suspend", "suspended", "regulator"),  # a regulator takes over the issuer's suspension
        ("reinstate", "suspended", "authority"),
        ("reinstate", "suspended", "regulator"),
        ("reinstate", "regulator-suspended", "regulator"),
        ("revoke", "active", "authority"),
        ("revoke", "suspended", "regulator"),
        ("revoke", "regulator-suspended", "authority"),
    ],
)
def test_manage_credential_changes_status_and_emits_event(ml, actors, licence, operation, start, actor):
    status, validity, event_name = OUTCOME[operation]
    if operation == "suspend" and actor == "regulator":
        status = CredentialStatus.SUSPENDED_BY_REGULATOR
    bring_to(ml, licence, start)

    receipt = MANAGE[operation](getattr(ml, actor).credentials, licence)

    assert ml.outsider.credentials.get(licence).status is status
    assert ml.outsider.credentials.check(actors.doctor.address, "licence") is validity
    expected = {"id": licence, "by": getattr(actors, actor).address}
    if operation != "reinstate":
        expected["reasonCode"] = REASON
    assert emitted(ml.outsider, receipt, event_name) == [expected]


@pytest.mark.parametrize(
    ("operation", "caller"),
    [
        ("suspend", "authority2"),
        ("reinstate", "authority2"),
        ("revoke", "authority2"),
        ("revoke", "admin"),  # the consortium admin is not a regulator
    ],
)
def test_manage_credential_by_neither_issuer_nor_regulator_is_rejected(
    ml, actors, licence, operation, caller
):
    bring_to(ml, licence, PRECONDITION[operation])
    before = ml.outsider.credentials.get(licence)

    with pytest.raises(errors.NotIssuerOrRegulator) as exc:
        MANAGE[operation](getattr(ml, caller).credentials, licence)

    assert (exc.value.account, exc.value.id) == (getattr(actors, caller).address, licence)
    assert ml.outsider.credentials.get(licence) == before


def test_only_a_regulator_lifts_a_regulators_suspension(ml, actors, licence):
    bring_to(ml, licence, "regulator-suspended")
    before = ml.outsider.credentials.get(licence)

    with pytest.raises(errors.CredentialSuspendedByRegulator) as exc:
        ml.authority.credentials.reinstate(licence)

    assert exc.value.id == licence
    assert isinstance(exc.value, errors.NotAuthorized)
    assert ml.outsider.credentials.get(licence) == before
    assert ml.outsider.credentials.check(actors.doctor.address, "licence") is V.SUSPENDED


@pytest.mark.parametrize("operation", MANAGE)
def test_an_issuer_that_lost_its_role_can_no_longer_manage_its_credentials(ml, actors, licence, operation):
    bring_to(ml, licence, PRECONDITION[operation])
    ml.admin.consortium.remove_licensing_authority(actors.authority.address)
    before = ml.outsider.credentials.get(licence)

    with pytest.raises(errors.NotIssuerOrRegulator) as exc:
        MANAGE[operation](ml.authority.credentials, licence)

    assert (exc.value.account, exc.value.id) == (actors.authority.address, licence)
    assert ml.outsider.credentials.get(licence) == before
    MANAGE[operation](ml.regulator.credentials, licence)  # the regulator still can


@pytest.mark.parametrize("operation", MANAGE)
def test_manage_an_unknown_credential_is_not_found(ml, actors, operation):
    unknown = credential_id(actors.nurse.address, "nurse", 0)

    with pytest.raises(errors.CredentialNotFound) as exc:
        MANAGE[operation](ml.regulator.credentials, unknown)

    assert exc.value.id == unknown
    assert not ml.outsider.credentials.get(unknown).exists


@pytest.mark.parametrize(
    ("operation", "state", "error"),
    [
        ("suspend", "suspended", errors.CredentialAlreadySuspended),
        ("suspend", "regulator-suspended", errors.CredentialAlreadySuspended),
        ("suspend", "revoked", errors.CredentialAlreadyRevoked),
        ("reinstate", "active", errors.CredentialNotSuspended),
        ("reinstate", "revoked", errors.CredentialAlreadyRevoked),
        ("revoke", "revoked", errors.CredentialAlreadyRevoked),
    ],
)
def test_manage_credential_in_the_wrong_state_is_rejected(ml, licence, operation, state, error):
    bring_to(ml, licence, state)
    before = ml.outsider.credentials.get(licence)

    with pytest.raises(error) as exc:
        MANAGE[operation](ml.authority.credentials, licence)

    assert exc.value.id == licence
    assert isinstance(exc.value, errors.InvalidState)
    assert ml.outsider.credentials.get(licence) == before


@pytest.mark.parametrize(
    "call",
    [
        lambda credentials, id_: credentials.suspend(id_, -1),
        lambda credentials, id_: credentials.revoke(id_, 2**16),
        lambda credentials, id_: credentials.reinstate(id_[:31]),
        lambda credentials, id_: credentials.revoke("0x" + "zz" * 32),
    ],
    ids=["negative-reason", "reason-too-large", "short-id", "non-hex-id"],
)
def test_manage_credential_rejects_malformed_arguments_before_sending(ml, actors, call):
    some_id = credential_id(actors.doctor.address, "licence", 0)
    with pytest.raises(errors.InvalidInput):
        call(ml.regulator.credentials, some_id)


# ─── check ───────────────────────────────────────────────────────────────────────────────────
# VALID, SUSPENDED and REVOKED are asserted with the operations above; NOT_YET_VALID and EXPIRED
# at the edges of the window below; then UNKNOWN and ISSUER_NOT_ACCREDITED.


def test_check_is_unknown_for_anything_not_issued(ml, actors, issue):
    issue(actors.doctor.address, "specialty", scope=42)
    credentials = ml.outsider.credentials

    assert credentials.check(actors.doctor.address, "specialty", 42) is V.VALID
    assert credentials.check(actors.doctor.address, "specialty", 43) is V.UNKNOWN  # other scope
    assert credentials.check(actors.doctor.address, "licence", 42) is V.UNKNOWN  # other kind
    assert credentials.check(actors.nurse.address, "specialty", 42) is V.UNKNOWN  # other subject


@pytest.mark.parametrize(
    ("starts_in", "edge", "before", "at"),
    [
        (0, "valid_until", V.VALID, V.EXPIRED),  # validUntil is exclusive
        (LIFETIME // 2, "valid_from", V.NOT_YET_VALID, V.VALID),  # validFrom is inclusive
    ],
    ids=["valid-until", "valid-from"],
)
def test_check_at_the_edges_of_the_validity_window(
    suite, ml, actors, issue, starts_in, edge, before, at
):
    issued = issue(actors.doctor.address, starts_in=starts_in)
    edge_time = getattr(ml.outsider.credentials.get(issued.id), edge)
    credentials = ml.outsider.credentials

    for timestamp, expected in [(edge_time - 1, before), (edge_time, at)]:
        advance_to(suite.chain, timestamp)
        assert credentials.check(actors.doctor.address, "licence") is expected
        assert credentials.is_valid(actors.doctor.address, "licence") is (expected is V.VALID)


def test_credentials_of_an_issuer_that_lost_its_role_fail_until_it_is_granted_back(ml, actors, issue):
    doctor, nurse = actors.doctor.address, actors.nurse.address
    issue(doctor)
    issue(nurse, "nurse")
    issue(doctor, "specialty", scope=7, by="authority2")

    def checks() -> list[CredentialValidity]:
        credentials = ml.outsider.credentials
        return [
            credentials.check(doctor, "licence"),  # by authority
            credentials.check(nurse, "nurse"),  # by authority
            credentials.check(doctor, "specialty", 7),  # by authority2
        ]

    ml.admin.consortium.remove_licensing_authority(actors.authority.address)
    assert checks() == [V.ISSUER_NOT_ACCREDITED, V.ISSUER_NOT_ACCREDITED, V.VALID]
    assert not ml.outsider.credentials.is_valid(doctor, "licence")

    ml.admin.consortium.add_licensing_authority(actors.authority.address)
    assert checks() == [V.VALID, V.VALID, V.VALID]


# ─── offerEmployment ─────────────────────────────────────────────────────────────────────────


def employment_status(ml, practitioner: str, institution: str) -> EmploymentStatus:
    return ml.outsider.credentials.employment(practitioner, institution).status


def make_link(ml, practitioner: str, institution: str, *, accepted: bool) -> None:
    """The actor ``institution`` offers the actor ``practitioner`` a link; accepted if ``accepted``."""
    getattr(ml, institution).credentials.offer_employment(getattr(ml, practitioner).signer.address)
    if accepted:
        getattr(ml, practitioner).credentials.accept_employment(getattr(ml, institution).signer.address)


def test_offer_employment_records_an_offer_and_emits_event(ml, actors):
    receipt = ml.hospital.credentials.offer_employment(actors.doctor.address)

    link = ml.outsider.credentials.employment(actors.doctor.address, actors.hospital.address)
    assert (link.status, link.since) == (EmploymentStatus.OFFERED, 0)
    assert not ml.outsider.credentials.is_employed_by(actors.doctor.address, actors.hospital.address)
    assert emitted(ml.outsider, receipt, "EmploymentOffered") == [
        {"practitioner": actors.doctor.address, "institution": actors.hospital.address}
    ]


@pytest.mark.parametrize("caller", ["outsider", "authority", "suspended-hospital"])
def test_offer_employment_by_a_non_active_institution_is_rejected(ml, actors, caller):
    if caller == "suspended-hospital":
        ml.regulator.consortium.suspend(actors.hospital.address, REASON)
        caller = "hospital"

    institution = getattr(actors, caller).address

    with pytest.raises(errors.NotActiveInstitution) as exc:
        getattr(ml, caller).credentials.offer_employment(actors.doctor.address)

    assert exc.value.account == institution
    assert employment_status(ml, actors.doctor.address, institution) is EmploymentStatus.NONE


@pytest.mark.parametrize("accepted", [False, True], ids=["offered", "active"])
def test_offer_employment_twice_is_rejected(ml, actors, accepted):
    doctor, hospital = actors.doctor.address, actors.hospital.address
    make_link(ml, "doctor", "hospital", accepted=accepted)
    before = ml.outsider.credentials.employment(doctor, hospital)

    with pytest.raises(errors.EmploymentStateInvalid) as exc:
        ml.hospital.credentials.offer_employment(doctor)

    assert (exc.value.practitioner, exc.value.institution) == (doctor, hospital)
    assert ml.outsider.credentials.employment(doctor, hospital) == before


def test_an_institution_cannot_offer_employment_to_itself(ml, actors):
    hospital = actors.hospital.address
    with pytest.raises(errors.SelfEmployment) as exc:
        ml.hospital.credentials.offer_employment(hospital)

    assert exc.value.institution == hospital
    assert employment_status(ml, hospital, hospital) is EmploymentStatus.NONE


def test_offer_employment_to_the_zero_address_is_rejected_by_the_contract(ml, actors):
    with pytest.raises(errors.ZeroAddress):
        ml.hospital.credentials.offer_employment(ZERO_ADDRESS)


def test_offer_employment_rejects_a_malformed_address_before_sending(ml):
    with pytest.raises(errors.InvalidInput):
        ml.hospital.credentials.offer_employment("dr. house")


# ─── acceptEmployment ────────────────────────────────────────────────────────────────────────


def test_accept_employment_activates_the_link_and_emits_event(ml, actors):
    ml.pharmacy.credentials.offer_employment(actors.nurse.address)

    receipt = ml.nurse.credentials.accept_employment(actors.pharmacy.address)

    link = ml.outsider.credentials.employment(actors.nurse.address, actors.pharmacy.address)
    assert (link.status, link.since) == (EmploymentStatus.ACTIVE, block_time(ml.outsider, receipt))
    assert ml.outsider.credentials.is_employed_by(actors.nurse.address, actors.pharmacy.address)
    assert not ml.outsider.credentials.is_employed_by(actors.nurse.address, actors.hospital.address)
    assert emitted(ml.outsider, receipt, "EmploymentAccepted") == [
        {"practitioner": actors.nurse.address, "institution": actors.pharmacy.address}
    ]


@pytest.mark.parametrize("situation", ["never-offered", "offered-to-someone-else", "already-accepted"])
def test_accept_employment_without_a_pending_offer_is_rejected(ml, actors, situation):
    nurse, hospital = actors.nurse.address, actors.hospital.address
    if situation == "offered-to-someone-else":
        ml.hospital.credentials.offer_employment(actors.doctor.address)
    if situation == "already-accepted":
        make_link(ml, "nurse", "hospital", accepted=True)
    before = ml.outsider.credentials.employment(nurse, hospital)

    with pytest.raises(errors.EmploymentStateInvalid) as exc:
        ml.nurse.credentials.accept_employment(hospital)

    assert (exc.value.practitioner, exc.value.institution) == (nurse, hospital)
    assert ml.outsider.credentials.employment(nurse, hospital) == before


def test_accept_employment_from_an_institution_suspended_since_the_offer_is_rejected(ml, actors):
    nurse, hospital = actors.nurse.address, actors.hospital.address
    ml.hospital.credentials.offer_employment(nurse)
    ml.regulator.consortium.suspend(hospital, REASON)

    with pytest.raises(errors.NotActiveInstitution) as exc:
        ml.nurse.credentials.accept_employment(hospital)

    assert exc.value.account == hospital
    assert employment_status(ml, nurse, hospital) is EmploymentStatus.OFFERED


def test_accept_employment_rejects_a_malformed_address_before_sending(ml):
    with pytest.raises(errors.InvalidInput):
        ml.nurse.credentials.accept_employment("0x" + "a" * 41)


# ─── endEmployment ───────────────────────────────────────────────────────────────────────────


@pytest.fixture
def hired(ml) -> None:
    """``doctor`` works at ``hospital``."""
    make_link(ml, "doctor", "hospital", accepted=True)


@pytest.mark.parametrize(
    ("ender", "accepted"),
    [("doctor", False), ("doctor", True), ("hospital", True)],
    ids=["doctor-declines-offer", "doctor-leaves", "hospital-dismisses"],
)
def test_end_employment_by_either_side_removes_the_link(ml, actors, ender, accepted):
    doctor, hospital = actors.doctor.address, actors.hospital.address
    make_link(ml, "doctor", "hospital", accepted=accepted)

    receipt = getattr(ml, ender).credentials.end_employment(doctor, hospital)

    link = ml.outsider.credentials.employment(doctor, hospital)
    assert (link.status, link.since) == (EmploymentStatus.NONE, 0)
    assert not ml.outsider.credentials.is_employed_by(doctor, hospital)
    assert emitted(ml.outsider, receipt, "EmploymentEnded") == [
        {"practitioner": doctor, "institution": hospital, "by": getattr(actors, ender).address}
    ]
    ml.hospital.credentials.offer_employment(doctor)  # a new offer is possible again
    assert employment_status(ml, doctor, hospital) is EmploymentStatus.OFFERED


@pytest.mark.parametrize("caller", ["outsider", "pharmacy"])
def test_end_employment_by_a_third_party_is_rejected(ml, actors, hired, caller):
    with pytest.raises(errors.NotEmploymentParty) as exc:
        getattr(ml, caller).credentials.end_employment(actors.doctor.address, actors.hospital.address)

    assert exc.value.account == getattr(actors, caller).address
    assert ml.outsider.credentials.is_employed_by(actors.doctor.address, actors.hospital.address)


@pytest.mark.parametrize("history", ["never-linked", "already-ended"])
def test_end_employment_of_a_link_that_does_not_exist_is_rejected(ml, actors, history):
    nurse, pharmacy = actors.nurse.address, actors.pharmacy.address
    if history == "already-ended":
        make_link(ml, "nurse", "pharmacy", accepted=False)
        ml.nurse.credentials.end_employment(nurse, pharmacy)

    with pytest.raises(errors.EmploymentStateInvalid) as exc:
        ml.nurse.credentials.end_employment(nurse, pharmacy)

    assert (exc.value.practitioner, exc.value.institution) == (nurse, pharmacy)
    assert employment_status(ml, nurse, pharmacy) is EmploymentStatus.NONE


def test_end_employment_rejects_a_malformed_address_before_sending(ml, actors):
    with pytest.raises(errors.InvalidInput):
        ml.doctor.credentials.end_employment(actors.doctor.address, "hospital")


# ─── isEmployedBy ────────────────────────────────────────────────────────────────────────────


def test_is_employed_by_is_false_while_the_institution_is_suspended(ml, actors, hired):
    doctor, hospital = actors.doctor.address, actors.hospital.address

    ml.regulator.consortium.suspend(hospital, REASON)
    assert not ml.outsider.credentials.is_employed_by(doctor, hospital)
    assert employment_status(ml, doctor, hospital) is EmploymentStatus.ACTIVE  # the link itself is kept

    ml.regulator.consortium.reinstate(hospital)
    assert ml.outsider.credentials.is_employed_by(doctor, hospital)
