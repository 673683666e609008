"""CredentialRegistry: issuing and managing credentials, check(), and employment links.

The base fixture names the licensing authorities ``authority`` and ``authority2`` and the regulator,
and accredits ``hospital`` and ``pharmacy``; ``doctor`` and ``nurse`` start with nothing.
"""

from __future__ import annotations


import pytest

from medledger import errors
from tests.helpers import advance_to, block_time, events, until
from medledger.client.credentials import IssuedCredential, credential_id
from medledger.transactions import Receipt
from medledger.types import (
    CredentialKind,
    CredentialStatus,
    CredentialValidity,
    EmploymentStatus,
    InstitutionKind,
    InstitutionStatus,
    RecordCategory,
)

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


@pytest.mark.parametrize(
    ("suspender", "error"),
    [
        (None, errors.CredentialAlreadyIssued),
        ("authority", errors.CredentialAlreadyIssued),
        ("regulator", errors.CredentialHeldByRegulator),
    ],
    ids=["active", "suspended", "regulator-suspended"],
)
def test_issue_over_a_live_credential_is_rejected(ml, actors, issue, licence, suspender, error):
    if suspender:
        getattr(ml, suspender).credentials.suspend(licence, REASON)
    before = ml.outsider.credentials.get(licence)

    with pytest.raises(error) as exc:
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


@pytest.mark.parametrize(
    ("action", "by", "error", "validity"),
    [
        ("suspend", "authority", errors.CredentialAlreadyIssued, V.SUSPENDED),
        ("suspend", "regulator", errors.CredentialHeldByRegulator, V.SUSPENDED),
        ("revoke", "regulator", errors.CredentialHeldByRegulator, V.REVOKED),
    ],
    ids=["suspended", "regulator-suspended", "regulator-revoked"],
)
@pytest.mark.parametrize("reissuer", ["authority", "authority2"])
def test_a_suspension_or_hold_cannot_be_washed_out_by_expiry_and_reissue(
    suite, ml, actors, issue, licence, action, by, error, validity, reissuer
):
    MANAGE[action](getattr(ml, by).credentials, licence)
    suite.chain.advance_time(LIFETIME + 1)
    before = ml.outsider.credentials.get(licence)

    with pytest.raises(error) as exc:
        issue(actors.doctor.address, by=reissuer, document=b"\x77" * 32)

    assert exc.value.id == licence
    assert ml.outsider.credentials.get(licence) == before
    assert ml.outsider.credentials.check(actors.doctor.address, "licence") is validity


# ─── A regulator's hold on one practising licence holds the practitioner ─────────────────────

PRACTISING = ("licence", "nurse", "pharmacist")


@pytest.mark.parametrize("hold", ["suspend", "revoke"])
@pytest.mark.parametrize("kind", ["nurse", "pharmacist"])
def test_a_regulators_hold_on_a_licence_is_not_undone_by_another_practising_licence(
    world, ml, actors, patient, hold, kind
):
    """The regulator suspends (or revokes) the doctor's licence: its grants stop working, and no
    licensing authority issues the wallet a nurse or pharmacist licence that would bring them back
    through `isCredentialed`."""
    labs = RecordCategory.LABS
    doctor = actors.doctor.address
    ml.patient.consent.grant(patient, doctor, [labs], write_categories=[labs], valid_until=until(world))
    licence = ml.outsider.credentials.credential_id(doctor, "licence")
    MANAGE[hold](ml.regulator.credentials, licence)
    assert not ml.outsider.consent.can_access(doctor, patient, labs)
    now = world.chain.now()

    with pytest.raises(errors.CredentialHeldByRegulator) as exc:
        ml.authority2.credentials.issue(doctor, kind, valid_from=now - 10, valid_until=now + LIFETIME)

    assert exc.value.id == licence
    assert ml.outsider.credentials.check(doctor, kind) is V.UNKNOWN
    assert not ml.outsider.credentials.is_credentialed(doctor)
    assert not ml.outsider.consent.can_access(doctor, patient, labs)
    assert not ml.outsider.consent.can_write(doctor, patient, labs)


@pytest.mark.parametrize("held", PRACTISING)
@pytest.mark.parametrize("other", PRACTISING)
def test_no_practising_licence_is_issued_while_a_regulator_holds_another(ml, actors, issue, held, other):
    """Every pair of the three kinds, the held one itself included (its own slot is held)."""
    doctor = actors.doctor.address
    held_id = issue(doctor, held).id
    MANAGE["suspend"](ml.regulator.credentials, held_id)
    with pytest.raises(errors.CredentialHeldByRegulator) as exc:
        issue(doctor, other, by="authority2")
    assert exc.value.id == held_id


@pytest.mark.parametrize("end", ["reinstate", "lift"])
def test_a_practising_licence_is_issued_again_once_a_regulator_ends_the_hold(ml, actors, issue, licence, end):
    MANAGE["revoke" if end == "lift" else "suspend"](ml.regulator.credentials, licence)
    if end == "lift":
        ml.regulator.credentials.lift_regulator_hold(licence)
    else:
        ml.regulator.credentials.reinstate(licence)
    nurse = issue(actors.doctor.address, "nurse", by="authority2")
    assert ml.outsider.credentials.check(actors.doctor.address, "nurse") is V.VALID
    assert nurse.id == credential_id(actors.doctor.address, CredentialKind.NURSE, 0)


@pytest.mark.parametrize("hold", ["issuer-suspends", "issuer-revokes"])
def test_an_issuers_own_suspension_or_revocation_does_not_bar_other_practising_licences(
    ml, actors, issue, licence, hold
):
    """Only a regulator's hold binds across kinds; the issuer's own measures stay per credential."""
    MANAGE[hold.split("-")[1].removesuffix("s")](ml.authority.credentials, licence)
    issue(actors.doctor.address, "nurse", by="authority2")
    assert ml.outsider.credentials.is_credentialed(actors.doctor.address)


@pytest.mark.parametrize(("kind", "scope"), [("specialty", 0), ("nurse", 7), ("licence", 7)])
def test_a_hold_does_not_bar_credentials_that_is_credentialed_ignores(ml, actors, issue, licence, kind, scope):
    """Specialties and scoped licences never make a wallet credentialed, so a hold does not bar them."""
    MANAGE["suspend"](ml.regulator.credentials, licence)
    issue(actors.doctor.address, kind, scope=scope, by="authority2")
    assert not ml.outsider.credentials.is_credentialed(actors.doctor.address)


def test_a_practising_licence_held_before_the_hold_is_the_regulators_to_hold_too(ml, actors, issue, licence):
    """Decision: the hold does not reach a licence the practitioner already held. The regulator sees
    it (`check`) and holds it too; from then on the practitioner is not credentialed."""
    doctor = actors.doctor.address
    nurse = issue(doctor, "nurse").id
    MANAGE["suspend"](ml.regulator.credentials, licence)
    assert ml.outsider.credentials.check(doctor, "nurse") is V.VALID
    assert ml.outsider.credentials.is_credentialed(doctor)
    MANAGE["suspend"](ml.regulator.credentials, nurse)
    assert not ml.outsider.credentials.is_credentialed(doctor)
    with pytest.raises(errors.CredentialHeldByRegulator):
        issue(doctor, "pharmacist", by="authority2")


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
    """Move a fresh (active) credential to ``state``: ``suspended`` or ``issuer-revoked`` by its
    issuer, ``regulator-suspended`` or ``revoked`` (a hold) by the regulator."""
    if state == "suspended":
        ml.authority.credentials.suspend(credential, 1)
    elif state == "regulator-suspended":
        ml.regulator.credentials.suspend(credential, 1)
    elif state == "revoked":
        ml.regulator.credentials.revoke(credential, 1)
    elif state == "issuer-revoked":
        ml.authority.credentials.revoke(credential, 1)


#: operation → (check() after it, event it emits)
OUTCOME = {
    "suspend": (V.SUSPENDED, "CredentialSuspended"),
    "reinstate": (V.VALID, "CredentialReinstated"),
    "revoke": (V.REVOKED, "CredentialRevoked"),
}
S = CredentialStatus


@pytest.mark.parametrize(
    ("operation", "start", "actor", "status"),
    [
        ("suspend", "active", "authority", S.SUSPENDED),
        ("suspend", "active", "regulator", S.SUSPENDED_BY_REGULATOR),
        ("suspend", "suspended", "regulator", S.SUSPENDED_BY_REGULATOR),  # takes over the issuer's suspension
        ("reinstate", "suspended", "authority", S.ACTIVE),
        ("reinstate", "suspended", "regulator", S.ACTIVE),
        ("reinstate", "regulator-suspended", "regulator", S.ACTIVE),  # ends the hold and reinstates
        ("revoke", "active", "authority", S.REVOKED),
        ("revoke", "suspended", "authority", S.REVOKED),
        ("revoke", "active", "regulator", S.REVOKED_BY_REGULATOR),  # a regulator's revocation is a hold
        ("revoke", "suspended", "regulator", S.REVOKED_BY_REGULATOR),
        ("revoke", "regulator-suspended", "authority", S.REVOKED_BY_REGULATOR),  # the issuer keeps the hold
        ("revoke", "regulator-suspended", "regulator", S.REVOKED_BY_REGULATOR),
        ("revoke", "issuer-revoked", "regulator", S.REVOKED_BY_REGULATOR),  # takes over the issuer's revocation
    ],
)
def test_manage_credential_changes_status_and_emits_event(ml, actors, licence, operation, start, actor, status):
    validity, event_name = OUTCOME[operation]
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


#: (operation, state, error) of calls the state refuses, whoever makes them: the issuer or a regulator.
WRONG_STATE = [
    ("suspend", "suspended", errors.CredentialAlreadySuspended),
    ("suspend", "regulator-suspended", errors.CredentialAlreadySuspended),
    ("suspend", "revoked", errors.CredentialAlreadyRevoked),
    ("suspend", "issuer-revoked", errors.CredentialAlreadyRevoked),
    ("reinstate", "active", errors.CredentialNotSuspended),
    ("reinstate", "revoked", errors.CredentialAlreadyRevoked),
    ("reinstate", "issuer-revoked", errors.CredentialAlreadyRevoked),
    ("revoke", "revoked", errors.CredentialAlreadyRevoked),
    ("revoke", "issuer-revoked", errors.CredentialAlreadyRevoked),
]


@pytest.mark.parametrize(
    ("operation", "state", "error", "caller"),
    [
        (*case, caller)
        for case in WRONG_STATE
        for caller in ("authority", "regulator")
        # a regulator takes over the issuer's suspension or revocation (a success, tested above)
        if caller == "authority" or case[:2] not in {("suspend", "suspended"), ("revoke", "issuer-revoked")}
    ],
)
def test_manage_credential_in_the_wrong_state_is_rejected(ml, licence, operation, state, error, caller):
    bring_to(ml, licence, state)
    before = ml.outsider.credentials.get(licence)

    with pytest.raises(error) as exc:
        MANAGE[operation](getattr(ml, caller).credentials, licence)

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


# ─── A regulator's hold binds ────────────────────────────────────────────────────────────────
# Once a regulator suspends or revokes a credential, nothing an authority does makes it pass
# again (the sequences are in test_credential_trust_properties.py); only a regulator ends it.


@pytest.mark.parametrize("reissuer", ["authority", "authority2"])
def test_an_issuer_cannot_revoke_and_reissue_its_way_out_of_a_regulators_suspension(
    ml, actors, issue, licence, reissuer
):
    doctor = actors.doctor.address
    ml.regulator.credentials.suspend(licence, REASON)

    ml.authority.credentials.revoke(licence, REASON)
    assert ml.outsider.credentials.get(licence).status is CredentialStatus.REVOKED_BY_REGULATOR
    with pytest.raises(errors.CredentialHeldByRegulator) as exc:
        issue(doctor, by=reissuer, document=b"\x77" * 32)

    assert exc.value.id == licence
    assert isinstance(exc.value, errors.InvalidState)
    assert ml.outsider.credentials.check(doctor, "licence") is V.REVOKED
    assert not ml.outsider.credentials.is_valid(doctor, "licence")


@pytest.mark.parametrize("reissuer", ["authority", "authority2"])
def test_no_authority_reissues_over_a_regulators_revocation_until_a_regulator_lifts_it(
    ml, actors, issue, licence, reissuer
):
    doctor = actors.doctor.address
    ml.regulator.credentials.revoke(licence, REASON)
    with pytest.raises(errors.CredentialHeldByRegulator):
        issue(doctor, by=reissuer)

    ml.regulator.credentials.lift_regulator_hold(licence)
    assert ml.outsider.credentials.get(licence).status is CredentialStatus.REVOKED
    assert ml.outsider.credentials.check(doctor, "licence") is V.REVOKED  # lifting does not revive it
    issue(doctor, by=reissuer, document=b"\x77" * 32)

    assert ml.outsider.credentials.check(doctor, "licence") is V.VALID


def test_a_regulator_takes_over_an_issuers_revocation_so_that_it_binds(ml, actors, issue, licence):
    ml.authority.credentials.revoke(licence, REASON)
    ml.regulator.credentials.revoke(licence, REASON + 1)

    assert ml.outsider.credentials.get(licence).status is CredentialStatus.REVOKED_BY_REGULATOR
    with pytest.raises(errors.CredentialHeldByRegulator):
        issue(actors.doctor.address, by="authority2")


# ─── liftRegulatorHold ───────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("start", "status"),
    [("regulator-suspended", CredentialStatus.SUSPENDED), ("revoked", CredentialStatus.REVOKED)],
)
def test_lift_regulator_hold_hands_the_credential_back_and_emits_event(ml, actors, licence, start, status):
    bring_to(ml, licence, start)

    receipt = ml.regulator.credentials.lift_regulator_hold(licence)

    assert ml.outsider.credentials.get(licence).status is status
    assert emitted(ml.outsider, receipt, "RegulatorHoldLifted") == [{"id": licence, "by": actors.regulator.address}]
    # Back to the authorities' rules: the check still fails, but the issuer may act again.
    assert not ml.outsider.credentials.is_valid(actors.doctor.address, "licence")


def test_after_a_lifted_suspension_the_issuer_decides(ml, actors, licence):
    ml.regulator.credentials.suspend(licence, REASON)
    ml.regulator.credentials.lift_regulator_hold(licence)

    ml.authority.credentials.reinstate(licence)

    assert ml.outsider.credentials.check(actors.doctor.address, "licence") is V.VALID


@pytest.mark.parametrize("caller", ["authority", "authority2", "admin", "outsider"])
def test_lift_regulator_hold_by_a_non_regulator_is_rejected(ml, actors, licence, caller):
    bring_to(ml, licence, "regulator-suspended")
    before = ml.outsider.credentials.get(licence)

    with pytest.raises(errors.NotRegulator) as exc:
        getattr(ml, caller).credentials.lift_regulator_hold(licence)

    assert exc.value.account == getattr(actors, caller).address
    assert isinstance(exc.value, errors.NotAuthorized)
    assert ml.outsider.credentials.get(licence) == before


@pytest.mark.parametrize("state", ["active", "suspended", "issuer-revoked"])
def test_lift_regulator_hold_of_a_credential_not_held_is_rejected(ml, licence, state):
    bring_to(ml, licence, state)
    before = ml.outsider.credentials.get(licence)

    with pytest.raises(errors.CredentialNotHeldByRegulator) as exc:
        ml.regulator.credentials.lift_regulator_hold(licence)

    assert exc.value.id == licence
    assert ml.outsider.credentials.get(licence) == before


def test_lift_regulator_hold_of_an_unknown_credential_is_not_found(ml, actors):
    unknown = credential_id(actors.nurse.address, "nurse", 0)

    with pytest.raises(errors.CredentialNotFound):
        ml.regulator.credentials.lift_regulator_hold(unknown)


@pytest.mark.parametrize("bad", [b"\x01" * 31, "0x" + "zz" * 32], ids=["short-id", "non-hex-id"])
def test_lift_regulator_hold_rejects_a_malformed_id_before_sending(ml, bad):
    with pytest.raises(errors.InvalidInput):
        ml.regulator.credentials.lift_regulator_hold(bad)


# ─── reassignCredentialIssuer: one national register, a regulator resolves disputes ─────────


def test_a_regulator_hands_a_squatted_credential_to_the_rightful_authority(ml, actors, issue):
    doctor = actors.doctor.address
    squatted = issue(doctor, by="authority2", document=b"\x66" * 32).id  # the wrong authority was first
    with pytest.raises(errors.CredentialAlreadyIssued):
        issue(doctor)  # the rightful authority is blocked by the single slot

    receipt = ml.regulator.credentials.reassign_issuer(squatted, actors.authority.address)

    assert ml.outsider.credentials.get(squatted).issuer == actors.authority.address
    assert emitted(ml.outsider, receipt, "CredentialIssuerReassigned") == [
        {"id": squatted, "previousIssuer": actors.authority2.address, "newIssuer": actors.authority.address,
         "by": actors.regulator.address}  # fmt: skip
    ]
    # The rightful authority now manages it: it revokes the squatter's issuance and issues its own.
    with pytest.raises(errors.NotIssuerOrRegulator):
        ml.authority2.credentials.revoke(squatted, REASON)
    ml.authority.credentials.revoke(squatted, REASON)
    issue(doctor, document=DOCUMENT)
    stored = ml.outsider.credentials.get(squatted)
    assert (stored.issuer, stored.status, stored.document_hash) == (
        actors.authority.address, CredentialStatus.ACTIVE, DOCUMENT)  # fmt: skip


def test_a_credential_left_by_a_withdrawn_authority_passes_again_once_reassigned(ml, actors, licence):
    ml.admin.consortium.remove_licensing_authority(actors.authority.address)
    assert ml.outsider.credentials.check(actors.doctor.address, "licence") is V.ISSUER_NOT_ACCREDITED

    ml.regulator.credentials.reassign_issuer(licence, actors.authority2.address)

    assert ml.outsider.credentials.check(actors.doctor.address, "licence") is V.VALID
    ml.authority2.credentials.suspend(licence, REASON)  # the successor manages it


def test_reassigning_keeps_a_regulators_hold(ml, actors, licence):
    ml.regulator.credentials.suspend(licence, REASON)

    ml.regulator.credentials.reassign_issuer(licence, actors.authority2.address)

    assert ml.outsider.credentials.get(licence).status is CredentialStatus.SUSPENDED_BY_REGULATOR
    with pytest.raises(errors.CredentialSuspendedByRegulator):
        ml.authority2.credentials.reinstate(licence)


@pytest.mark.parametrize("caller", ["authority", "authority2", "admin", "outsider"])
def test_reassign_by_a_non_regulator_is_rejected(ml, actors, licence, caller):
    before = ml.outsider.credentials.get(licence)

    with pytest.raises(errors.NotRegulator) as exc:
        getattr(ml, caller).credentials.reassign_issuer(licence, actors.authority2.address)

    assert exc.value.account == getattr(actors, caller).address
    assert ml.outsider.credentials.get(licence) == before


@pytest.mark.parametrize(
    ("new_issuer", "error"),
    [
        ("outsider", errors.NotLicensingAuthority),
        ("regulator", errors.NotLicensingAuthority),
        ("authority", errors.CredentialIssuerUnchanged),
        ("zero", errors.ZeroAddress),
    ],
)
def test_reassign_to_a_non_authority_or_the_same_issuer_is_rejected(ml, actors, licence, new_issuer, error):
    address = ZERO_ADDRESS if new_issuer == "zero" else getattr(actors, new_issuer).address
    before = ml.outsider.credentials.get(licence)

    with pytest.raises(error):
        ml.regulator.credentials.reassign_issuer(licence, address)

    assert ml.outsider.credentials.get(licence) == before


def test_reassign_an_unknown_credential_is_not_found(ml, actors):
    unknown = credential_id(actors.nurse.address, "nurse", 0)

    with pytest.raises(errors.CredentialNotFound):
        ml.regulator.credentials.reassign_issuer(unknown, actors.authority.address)


@pytest.mark.parametrize(
    "call",
    [
        lambda credentials, id_, to: credentials.reassign_issuer(id_[:31], to),
        lambda credentials, id_, to: credentials.reassign_issuer(id_, "0xauthority"),
    ],
    ids=["short-id", "malformed-issuer"],
)
def test_reassign_rejects_malformed_arguments_before_sending(ml, actors, licence, call):
    with pytest.raises(errors.InvalidInput):
        call(ml.regulator.credentials, licence, actors.authority2.address)


# ─── An institution is judged only as an institution ─────────────────────────────────────────

PRACTITIONER_KINDS = ["licence", "specialty", "pharmacist", "nurse"]


@pytest.mark.parametrize("kind", PRACTITIONER_KINDS)
@pytest.mark.parametrize("standing", ["active", "suspended"])
def test_a_practitioner_credential_is_not_issued_to_an_institution(ml, actors, issue, kind, standing):
    pharmacy = actors.pharmacy.address
    if standing == "suspended":
        ml.regulator.consortium.suspend(pharmacy, REASON)

    with pytest.raises(errors.SubjectIsInstitution) as exc:
        issue(pharmacy, kind)

    assert exc.value.subject == pharmacy
    assert isinstance(exc.value, errors.InvalidArgument)
    assert ml.outsider.credentials.check(pharmacy, kind) is V.UNKNOWN


def accredit_late(ml, issue, address: str) -> None:
    """Accredit ``address`` (which already holds credentials) as a clinic, with a valid accreditation."""
    ml.admin.consortium.accredit(address, "clinic", b"\x55" * 32)
    issue(address, "accreditation")


@pytest.mark.parametrize("kind", PRACTITIONER_KINDS)
def test_a_practitioner_credential_stops_passing_once_its_holder_is_accredited(ml, actors, issue, kind):
    nurse = actors.nurse.address
    issue(nurse, kind)
    assert ml.outsider.credentials.check(nurse, kind) is V.VALID

    accredit_late(ml, issue, nurse)

    assert ml.outsider.credentials.check(nurse, kind) is V.SUBJECT_IS_INSTITUTION
    assert not ml.outsider.credentials.is_valid(nurse, kind)
    assert ml.outsider.credentials.check(nurse, "accreditation") is V.VALID


@pytest.mark.parametrize("lapse", ["suspended", "accreditation-revoked", "accreditation-expired", "no-accreditation"])
def test_a_lapsed_institution_holding_a_licence_is_not_credentialed(suite, ml, actors, issue, lapse):
    """A one-doctor clinic's wallet: a licence from before its accreditation never stands in for it."""
    clinic = actors.nurse.address
    for kind in ("licence", "nurse", "pharmacist"):
        issue(clinic, kind, ends_in=3 * LIFETIME)
    ml.admin.consortium.accredit(clinic, "clinic", b"\x55" * 32)
    if lapse != "no-accreditation":
        accreditation = issue(clinic, "accreditation").id
        assert ml.outsider.credentials.is_credentialed(clinic)
    if lapse == "suspended":
        ml.regulator.consortium.suspend(clinic, REASON)
    elif lapse == "accreditation-revoked":
        ml.authority.credentials.revoke(accreditation, REASON)
    elif lapse == "accreditation-expired":
        suite.chain.advance_time(LIFETIME + 1)

    assert not ml.outsider.credentials.is_credentialed(clinic)
    assert ml.outsider.consortium.institution_status(clinic) is not InstitutionStatus.NONE


def test_is_credentialed_of_a_practitioner_and_an_institution(ml, actors, issue):
    doctor, hospital = actors.doctor.address, actors.hospital.address
    credentials = ml.outsider.credentials
    assert not credentials.is_credentialed(doctor) and not credentials.is_credentialed(hospital)

    issue(doctor)
    issue(hospital, "accreditation")

    assert credentials.is_credentialed(doctor) and credentials.is_credentialed(hospital)
    ml.regulator.consortium.suspend(hospital, REASON)
    assert not credentials.is_credentialed(hospital)


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


@pytest.mark.parametrize("status", ["active", "suspended"])
def test_an_institution_is_not_offered_employment_as_a_practitioner(ml, actors, status):
    """An institution is never a practitioner, whatever its status now."""
    pharmacy, hospital = actors.pharmacy.address, actors.hospital.address
    if status == "suspended":
        ml.regulator.consortium.suspend(pharmacy, REASON)
    with pytest.raises(errors.PractitionerIsInstitution) as exc:
        ml.hospital.credentials.offer_employment(pharmacy)

    assert exc.value.account == pharmacy
    assert employment_status(ml, pharmacy, hospital) is EmploymentStatus.NONE


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


def test_a_wallet_accredited_as_an_institution_since_the_offer_cannot_accept_it(ml, actors):
    nurse, hospital = actors.nurse.address, actors.hospital.address
    ml.hospital.credentials.offer_employment(nurse)
    ml.admin.consortium.accredit(nurse, InstitutionKind.CLINIC)

    with pytest.raises(errors.PractitionerIsInstitution) as exc:
        ml.nurse.credentials.accept_employment(hospital)

    assert exc.value.account == nurse
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


def test_is_employed_by_is_false_for_a_practitioner_accredited_as_an_institution_since(ml, actors, hired):
    """An institution is never a practitioner: a link made before its accreditation no longer counts,
    and still does not once it is suspended."""
    doctor, hospital = actors.doctor.address, actors.hospital.address
    ml.admin.consortium.accredit(doctor, InstitutionKind.CLINIC)
    assert not ml.outsider.credentials.is_employed_by(doctor, hospital)
    ml.regulator.consortium.suspend(doctor, REASON)
    assert not ml.outsider.credentials.is_employed_by(doctor, hospital)
    assert employment_status(ml, doctor, hospital) is EmploymentStatus.ACTIVE  # the link itself is kept
