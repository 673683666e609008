"""ConsentManager: grants by transaction and by signature, revocation, referral, break-glass.

Base fixture: ``patient`` registered here with ``guardian`` as delegate; ``doctor`` holds a licence,
``nurse`` a nursing licence; ``hospital`` and ``clinic`` are accredited institutions holding an
accreditation credential; ``outsider`` holds nothing.
"""

from __future__ import annotations

import dataclasses

import pytest

from medledger import consent, errors
from medledger.identity import mrn_commitment
from medledger.types import AccessBasis, CredentialKind, Purpose, RecordCategory
from tests.helpers import DAY, events, register, until

LABS, IMAGING, NOTES = RecordCategory.LABS, RecordCategory.IMAGING, RecordCategory.CLINICAL_NOTES


def raw_send(ledger, name: str, *args):
    """Send a ConsentManager call without the client's argument checks."""
    function = ledger.consent.contract.get_function_by_name(name)(*args)
    return ledger.transactor.send(function, ledger.signer)


def terms(grantee: str, categories: int, end: int, write: int = 0, purpose: int = 0, referral: bool = False):
    return (grantee, categories, write, purpose, end, referral)


def bit(*categories: RecordCategory) -> int:
    mask = 0
    for c in categories:
        mask |= 1 << int(c)
    return mask


# ─── grantAccess ─────────────────────────────────────────────────────────────────────────────


def test_grant_gives_access_to_exactly_the_granted_categories(world, ml, actors, patient):
    doctor = actors.doctor.address
    end = until(world)
    receipt = ml.patient.consent.grant(patient, doctor, [LABS, IMAGING], purpose="treatment", valid_until=end)

    stored = ml.outsider.consent.grant_of(patient, doctor)
    assert (stored.categories, stored.write_categories, stored.purpose) == ([LABS, IMAGING], [], Purpose.TREATMENT)
    assert stored.valid_until == end and stored.referred_by is None and not stored.referral_allowed
    assert ml.outsider.consent.can_access(doctor, patient, LABS)
    assert ml.outsider.consent.can_access(doctor, patient, "imaging")
    assert not ml.outsider.consent.can_access(doctor, patient, NOTES)
    assert not ml.outsider.consent.can_write(doctor, patient, LABS)
    assert ml.outsider.consent.access_basis(doctor, patient, LABS) == (AccessBasis.GRANT, Purpose.TREATMENT)
    assert events(ml.outsider.consent, receipt, "AccessGranted") == [
        {"patient": patient, "grantee": doctor, "by": patient, "categories": bit(LABS, IMAGING),
         "writeCategories": 0, "purpose": 0, "validUntil": end, "referralAllowed": False}
    ]  # fmt: skip


def test_write_permission_is_per_category(world, ml, actors, patient):
    ml.patient.consent.grant(patient, actors.hospital.address, [LABS, NOTES], write_categories=[NOTES],
                             valid_until=until(world))  # fmt: skip
    assert ml.outsider.consent.can_write(actors.hospital.address, patient, NOTES)
    assert not ml.outsider.consent.can_write(actors.hospital.address, patient, LABS)


def test_the_patient_always_reads_and_writes_its_own_records(world, ml, patient):
    assert ml.outsider.consent.access_basis(patient, patient, RecordCategory.GENOMICS) == (
        AccessBasis.PATIENT, Purpose.PATIENT_REQUEST,
    )  # fmt: skip
    assert ml.outsider.consent.can_write(patient, patient, RecordCategory.GENOMICS)


def test_a_delegate_grants_for_the_patient(world, ml, actors, patient):
    receipt = ml.guardian.consent.grant(patient, actors.doctor.address, "summary", valid_until=until(world))
    assert ml.outsider.consent.can_access(actors.doctor.address, patient, RecordCategory.SUMMARY)
    assert events(ml.outsider.consent, receipt, "AccessGranted")[0]["by"] == world.people.guardian.address


def test_granting_again_replaces_the_grant(world, ml, actors, patient):
    doctor = actors.doctor.address
    ml.patient.consent.grant(patient, doctor, [LABS, IMAGING], valid_until=until(world))
    ml.patient.consent.grant(patient, doctor, [NOTES], purpose="research", valid_until=until(world, 2))
    assert not ml.outsider.consent.can_access(doctor, patient, LABS)
    assert ml.outsider.consent.access_basis(doctor, patient, NOTES) == (AccessBasis.GRANT, Purpose.RESEARCH)


@pytest.mark.parametrize("caller", ["outsider", "doctor"])
def test_grant_by_someone_not_acting_for_the_patient_is_rejected(world, ml, actors, patient, caller):
    with pytest.raises(errors.NotPatientOrDelegate) as exc:
        getattr(ml, caller).consent.grant(patient, actors.nurse.address, "labs", valid_until=until(world))
    assert exc.value.patient == patient
    assert not ml.outsider.consent.grant_of(patient, actors.nurse.address).exists


def test_grant_by_an_expired_delegate_is_rejected(world, ml, actors, patient):
    ml.patient.patients.appoint_delegate(world.people.patient2.address, world.chain.now() + DAY)
    ml.patient2.consent.grant(patient, actors.doctor.address, "labs", valid_until=until(world))
    world.chain.advance_time(DAY + 1)
    with pytest.raises(errors.NotPatientOrDelegate):
        ml.patient2.consent.grant(patient, actors.nurse.address, "labs", valid_until=until(world))


def test_grant_for_an_unregistered_patient_is_rejected(world, ml, actors):
    with pytest.raises(errors.PatientNotRegistered):
        ml.patient2.consent.grant(world.people.patient2.address, actors.doctor.address, "labs",
                                  valid_until=until(world))  # fmt: skip


@pytest.mark.parametrize(
    "case, error",
    [
        ("zero-grantee", errors.ZeroAddress),
        ("self", errors.SelfGrant),
        ("no-categories", errors.InvalidCategories),
        ("unknown-category", errors.InvalidCategories),
        ("write-outside-read", errors.InvalidCategories),
        ("past-expiry", errors.InvalidExpiry),
    ],
)
def test_grant_with_bad_terms_is_rejected_by_the_contract(world, ml, actors, patient, case, error):
    doctor, end = actors.doctor.address, until(world)
    bad = {
        "zero-grantee": terms("0x" + "00" * 20, bit(LABS), end),
        "self": terms(patient, bit(LABS), end),
        "no-categories": terms(doctor, 0, end),
        "unknown-category": terms(doctor, 1 << 12, end),
        "write-outside-read": terms(doctor, bit(LABS), end, write=bit(NOTES)),
        "past-expiry": terms(doctor, bit(LABS), world.chain.now() - 1),
    }[case]
    with pytest.raises(error):
        raw_send(ml.patient, "grantAccess", patient, bad)
    assert not ml.outsider.consent.grant_of(patient, doctor).exists


def test_the_client_rejects_bad_terms_before_sending(world, ml, actors, patient):
    doctor = actors.doctor.address
    with pytest.raises(errors.InvalidInput, match="at least one"):
        ml.patient.consent.grant(patient, doctor, [], valid_until=until(world))
    with pytest.raises(errors.InvalidInput, match="write categories"):
        ml.patient.consent.grant(patient, doctor, "labs", write_categories="clinical-notes", valid_until=until(world))
    with pytest.raises(errors.InvalidInput, match="RecordCategory"):
        ml.patient.consent.grant(patient, doctor, "labs,astrology", valid_until=until(world))
    with pytest.raises(errors.InvalidInput, match="Purpose"):
        ml.patient.consent.grant(patient, doctor, "labs", purpose="curiosity", valid_until=until(world))


# ─── access needs a credential now ───────────────────────────────────────────────────────────


def test_a_grant_to_an_uncredentialed_grantee_gives_no_access(world, ml, actors, patient):
    ml.patient.consent.grant(patient, actors.outsider.address, "labs", valid_until=until(world))
    assert ml.outsider.consent.grant_of(patient, actors.outsider.address).exists
    assert not ml.outsider.consent.can_access(actors.outsider.address, patient, LABS)


@pytest.mark.parametrize("action", ["revoke", "suspend"])
def test_losing_the_licence_stops_every_grant_it_carried(world, ml, actors, patient, action):
    doctor = actors.doctor.address
    ml.patient.consent.grant(patient, doctor, "labs", valid_until=until(world))
    licence = ml.outsider.credentials.credential_id(doctor, CredentialKind.LICENCE)
    getattr(ml.regulator.credentials, action)(licence, 7)
    assert not ml.outsider.consent.can_access(doctor, patient, LABS)
    assert ml.outsider.consent.access_basis(doctor, patient, LABS)[0] is AccessBasis.NONE


def test_a_suspended_institution_loses_access(world, ml, actors, patient):
    ml.patient.consent.grant(patient, actors.hospital.address, "labs", valid_until=until(world))
    assert ml.outsider.consent.can_access(actors.hospital.address, patient, LABS)
    ml.regulator.consortium.suspend(actors.hospital.address, 3)
    assert not ml.outsider.consent.can_access(actors.hospital.address, patient, LABS)


def test_a_nurse_with_a_nursing_licence_is_credentialed(world, ml, actors, patient):
    ml.patient.consent.grant(patient, actors.nurse.address, "immunizations", valid_until=until(world))
    assert ml.outsider.consent.can_access(actors.nurse.address, patient, RecordCategory.IMMUNIZATIONS)


def test_an_expired_grant_gives_no_access(world, ml, actors, patient):
    end = until(world, 1)
    ml.patient.consent.grant(patient, actors.doctor.address, "labs", valid_until=end)
    world.chain.advance_time(end - world.chain.now() + 1)
    assert not ml.outsider.consent.can_access(actors.doctor.address, patient, LABS)


# ─── revokeAccess ────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("by", ["patient", "guardian"])
def test_revoke_ends_access_at_once(world, ml, actors, patient, by):
    doctor = actors.doctor.address
    ml.patient.consent.grant(patient, doctor, "labs", valid_until=until(world))
    receipt = getattr(ml, by).consent.revoke(patient, doctor)
    assert not ml.outsider.consent.can_access(doctor, patient, LABS)
    assert not ml.outsider.consent.grant_of(patient, doctor).exists
    assert events(ml.outsider.consent, receipt, "AccessRevoked") == [
        {"patient": patient, "grantee": doctor, "by": getattr(ml, by).signer.address}
    ]


def test_revoke_by_the_grantee_or_a_stranger_is_rejected(world, ml, actors, patient):
    doctor = actors.doctor.address
    ml.patient.consent.grant(patient, doctor, "labs", valid_until=until(world))
    for caller in ("doctor", "outsider"):
        with pytest.raises(errors.NotPatientOrDelegate):
            getattr(ml, caller).consent.revoke(patient, doctor)
    assert ml.outsider.consent.can_access(doctor, patient, LABS)


def test_revoke_a_grant_that_does_not_exist_is_rejected(world, ml, actors, patient):
    with pytest.raises(errors.GrantNotFound) as exc:
        ml.patient.consent.revoke(patient, actors.doctor.address)
    assert exc.value.grantee == actors.doctor.address


# ─── signed grants and revocations ───────────────────────────────────────────────────────────


def test_a_signed_grant_relayed_by_anyone_works(world, ml, actors, patient):
    doctor = actors.doctor.address
    signed = ml.patient.consent.sign_grant(doctor, [LABS], purpose="referral", valid_until=until(world))
    signed.verify()
    receipt = ml.outsider.consent.relay(signed)
    assert ml.outsider.consent.access_basis(doctor, patient, LABS) == (AccessBasis.GRANT, Purpose.REFERRAL)
    assert ml.outsider.consent.nonce(patient) == 1
    assert events(ml.outsider.consent, receipt, "AccessGranted")[0]["by"] == patient


def test_typehashes_match_the_contract(ml):
    functions = ml.outsider.consent.contract.functions
    assert consent.typehash("Grant") == functions.GRANT_TYPEHASH().call()
    assert consent.typehash("Revoke") == functions.REVOKE_TYPEHASH().call()


def test_a_delegate_signs_a_grant(world, ml, actors, patient):
    signed = ml.guardian.consent.sign_grant(actors.doctor.address, "labs", valid_until=until(world), patient=patient)
    ml.outsider.consent.relay(signed)
    assert ml.outsider.consent.can_access(actors.doctor.address, patient, LABS)


def test_a_signed_grant_works_once(world, ml, actors, patient):
    signed = ml.patient.consent.sign_grant(actors.doctor.address, "labs", valid_until=until(world))
    ml.outsider.consent.relay(signed)
    ml.patient.consent.revoke(patient, actors.doctor.address)
    with pytest.raises(errors.InvalidAccountNonce):
        ml.outsider.consent.relay(signed)
    assert not ml.outsider.consent.can_access(actors.doctor.address, patient, LABS)


def test_a_signed_grant_after_its_deadline_is_rejected(world, ml, actors, patient):
    signed = ml.patient.consent.sign_grant(actors.doctor.address, "labs", valid_until=until(world),
                                           deadline=world.chain.now() - 1)  # fmt: skip
    with pytest.raises(errors.SignatureExpired):
        ml.outsider.consent.relay(signed)


def test_a_relayer_cannot_change_the_signed_terms(world, ml, actors, patient):
    signed = ml.patient.consent.sign_grant(actors.doctor.address, "labs", valid_until=until(world))
    widened = dict(signed.data, message={**signed.message, "categories": bit(LABS, RecordCategory.MENTAL_HEALTH)})
    with pytest.raises(errors.InvalidSignature):
        ml.outsider.consent.relay(dataclasses.replace(signed, data=widened))
    assert not ml.outsider.consent.grant_of(patient, actors.doctor.address).exists


def test_a_signature_by_another_key_is_rejected(world, ml, actors, patient):
    forged = ml.outsider.consent.sign_grant(actors.outsider.address, "all", valid_until=until(world), patient=patient)
    with pytest.raises(errors.NotPatientOrDelegate):
        ml.outsider.consent.relay(forged)  # the stranger names itself as signer
    with pytest.raises(errors.InvalidSignature):
        ml.outsider.consent.relay(dataclasses.replace(forged, signer=patient))  # or claims to be the patient


def test_a_grant_signed_for_another_chain_or_contract_is_rejected(world, ml, actors, patient):
    doctor, end = actors.doctor.address, until(world)
    message = {"patient": patient, "grantee": doctor, "categories": bit(LABS), "writeCategories": 0, "purpose": 0,
               "validUntil": end, "referralAllowed": False, "nonce": 0, "deadline": 2**40}  # fmt: skip
    domain = ml.patient.consent.domain()
    for other in (dataclasses.replace(domain, chain_id=domain.chain_id + 1),
                  dataclasses.replace(domain, verifying_contract=ml.outsider.patients.address)):  # fmt: skip
        signed = consent.sign_message(other, "Grant", message, ml.patient.signer)
        with pytest.raises(errors.InvalidInput, match="another contract or chain"):
            ml.outsider.consent.relay(signed)
        with pytest.raises(errors.InvalidSignature):
            raw_send(ml.outsider, "grantAccessWithSignature", patient, terms(doctor, bit(LABS), end), patient, 0,
                     2**40, signed.signature)  # fmt: skip
    assert ml.outsider.consent.nonce(patient) == 0


def test_a_signed_revoke_relayed_by_anyone_works_once(world, ml, actors, patient):
    doctor = actors.doctor.address
    ml.patient.consent.grant(patient, doctor, "labs", valid_until=until(world))
    signed = ml.patient.consent.sign_revoke(doctor)
    receipt = ml.outsider.consent.relay(signed)
    assert not ml.outsider.consent.can_access(doctor, patient, LABS)
    assert events(ml.outsider.consent, receipt, "AccessRevoked")[0]["by"] == patient
    ml.patient.consent.grant(patient, doctor, "labs", valid_until=until(world))
    with pytest.raises(errors.InvalidAccountNonce):
        ml.outsider.consent.relay(signed)
    assert ml.outsider.consent.can_access(doctor, patient, LABS)


def test_revoking_by_transaction_voids_a_signed_grant_handed_out_earlier(world, ml, actors, patient):
    doctor = actors.doctor.address
    signed = ml.patient.consent.sign_grant(doctor, "labs", valid_until=until(world))  # handed out, not relayed
    ml.patient.consent.grant(patient, doctor, "labs", valid_until=until(world))
    receipt = ml.patient.consent.revoke(patient, doctor)  # the patient changes its mind
    assert events(ml.outsider.consent, receipt, "SignaturesCancelled") == [{"patient": patient, "by": patient, "nonce": 0}]
    with pytest.raises(errors.InvalidAccountNonce):
        ml.outsider.consent.relay(signed)
    assert not ml.outsider.consent.can_access(doctor, patient, LABS)


def test_a_stale_signed_revocation_cannot_end_a_later_grant(world, ml, actors, patient):
    doctor = actors.doctor.address
    ml.patient.consent.grant(patient, doctor, "labs", valid_until=until(world))
    stale = ml.patient.consent.sign_revoke(doctor)
    ml.patient.consent.revoke(patient, doctor)
    ml.patient.consent.grant(patient, doctor, "labs", valid_until=until(world, 20))
    with pytest.raises(errors.InvalidAccountNonce):
        ml.outsider.consent.relay(stale)
    assert ml.outsider.consent.can_access(doctor, patient, LABS)


@pytest.mark.parametrize("by", ["patient", "guardian"])
def test_cancel_signatures_voids_every_unrelayed_consent(world, ml, actors, patient, by):
    """"Cancel my signatures" covers both contracts that accept signatures: grants and revocations
    here, MRN-link consents in PatientRegistry (each under its own nonce)."""
    signed = ml.patient.consent.sign_grant(actors.doctor.address, "labs", valid_until=until(world))
    hospital = actors.hospital.address
    signed_link = ml.patient.patients.sign_mrn_consent(hospital, mrn_commitment(hospital, "M-1", b"\x01" * 32))
    done = getattr(ml, by).consent.cancel_signatures(patient)
    assert done.patient == patient
    for client, receipt in ((ml.outsider.consent, done.consent), (ml.outsider.patients, done.patients)):
        assert events(client, receipt, "SignaturesCancelled") == [
            {"patient": patient, "by": getattr(ml, by).signer.address, "nonce": 0}
        ]
    with pytest.raises(errors.InvalidAccountNonce):
        ml.outsider.consent.relay(signed)
    with pytest.raises(errors.InvalidAccountNonce):
        ml.hospital.patients.link_mrn_with_consent(signed_link)
    assert ml.outsider.consent.nonce(patient) == 1
    assert ml.outsider.patients.nonce(patient) == 1


def test_a_cancellation_that_fails_in_one_contract_says_which(world, ml, actors, patient, monkeypatch):
    signed = ml.patient.consent.sign_grant(actors.doctor.address, "labs", valid_until=until(world))

    def refuse(*_: object) -> None:
        raise errors.GasError("out of gas (simulated)")

    monkeypatch.setattr(ml.patient.patients, "cancel_signatures", refuse)
    with pytest.raises(errors.PartialCancellation) as exc:
        ml.patient.consent.cancel_signatures()
    assert list(exc.value.cancelled) == ["ConsentManager"] and list(exc.value.failed) == ["PatientRegistry"]
    assert "NOT in PatientRegistry" in str(exc.value) and "out of gas" in str(exc.value)
    with pytest.raises(errors.InvalidAccountNonce):  # what did go through holds
        ml.outsider.consent.relay(signed)
    assert ml.outsider.patients.nonce(patient) == 0


def test_cancel_signatures_by_someone_else_or_for_an_unregistered_patient_is_rejected(world, ml, actors, patient):
    with pytest.raises(errors.NotPatientOrDelegate):
        ml.doctor.consent.cancel_signatures(patient)
    with pytest.raises(errors.PatientNotRegistered):
        ml.patient2.consent.cancel_signatures()
    assert ml.outsider.consent.nonce(patient) == 0


def test_a_signed_revoke_by_a_stranger_or_of_no_grant_is_rejected(world, ml, actors, patient):
    doctor = actors.doctor.address
    ml.patient.consent.grant(patient, doctor, "labs", valid_until=until(world))
    forged = ml.doctor.consent.sign_revoke(doctor, patient=patient)
    with pytest.raises(errors.NotPatientOrDelegate):
        ml.outsider.consent.relay(forged)
    nothing = ml.patient.consent.sign_revoke(actors.nurse.address)
    with pytest.raises(errors.GrantNotFound):
        ml.outsider.consent.relay(nothing)
    assert ml.outsider.consent.can_access(doctor, patient, LABS)
    assert ml.outsider.consent.nonce(patient) == 0


def test_a_signed_message_of_another_kind_is_not_relayed(world, ml, actors, patient):
    mrn = ml.patient.patients.sign_mrn_consent(actors.hospital.address, b"\x01" * 32)
    with pytest.raises(errors.InvalidInput):
        ml.outsider.consent.relay(mrn)


# ─── refer ───────────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def referring(world, ml, actors, patient):
    """The doctor holds a referral-allowed grant for labs+imaging (write labs) for 7 days."""
    end = until(world)
    ml.patient.consent.grant(patient, actors.doctor.address, [LABS, IMAGING], write_categories=[LABS],
                             valid_until=end, referral_allowed=True)  # fmt: skip
    return end


def test_refer_gives_the_institution_a_narrower_grant(world, ml, actors, patient, referring):
    hospital = actors.hospital.address
    receipt = ml.doctor.consent.refer(patient, hospital, [LABS], write_categories=[LABS], valid_until=referring - DAY)

    grant = ml.outsider.consent.grant_of(patient, hospital)
    assert grant.referred_by == actors.doctor.address and grant.categories == [LABS]
    assert grant.purpose is Purpose.TREATMENT and not grant.referral_allowed
    assert ml.outsider.consent.access_basis(hospital, patient, LABS) == (AccessBasis.REFERRAL, Purpose.TREATMENT)
    assert not ml.outsider.consent.can_access(hospital, patient, IMAGING)
    assert ml.outsider.consent.can_write(hospital, patient, LABS)
    assert ml.outsider.consent.referral_of(patient, actors.doctor.address) == hospital
    assert events(ml.outsider.consent, receipt, "PatientReferred") == [
        {"patient": patient, "referrer": actors.doctor.address, "institution": hospital,
         "categories": bit(LABS), "writeCategories": bit(LABS), "validUntil": referring - DAY}
    ]  # fmt: skip


def test_a_grant_allows_one_referral_only(world, ml, actors, patient, referring):
    ml.doctor.consent.refer(patient, actors.hospital.address, [LABS], valid_until=referring)
    with pytest.raises(errors.ReferralNotAllowed):
        ml.doctor.consent.refer(patient, world.people.clinic.address, [LABS], valid_until=referring)


def test_refer_without_permission_is_rejected(world, ml, actors, patient):
    ml.patient.consent.grant(patient, actors.doctor.address, [LABS], valid_until=until(world))
    with pytest.raises(errors.ReferralNotAllowed):
        ml.doctor.consent.refer(patient, actors.hospital.address, [LABS], valid_until=until(world))


def test_refer_without_a_grant_or_after_it_expired_is_rejected(world, ml, actors, patient, referring):
    with pytest.raises(errors.GrantNotFound):
        ml.nurse.consent.refer(patient, actors.hospital.address, [LABS], valid_until=referring)
    world.chain.advance_time(referring - world.chain.now() + 1)
    with pytest.raises(errors.GrantExpired):
        ml.doctor.consent.refer(patient, actors.hospital.address, [LABS], valid_until=referring)


def test_refer_by_a_grantee_that_lost_its_licence_is_rejected(world, ml, actors, patient, referring):
    ml.regulator.credentials.revoke(ml.outsider.credentials.credential_id(actors.doctor.address, "licence"), 1)
    with pytest.raises(errors.NotCredentialed):
        ml.doctor.consent.refer(patient, actors.hospital.address, [LABS], valid_until=referring)


def test_refer_to_a_non_institution_or_an_unaccredited_one_is_rejected(world, ml, actors, patient, referring):
    with pytest.raises(errors.NotCredentialedInstitution):
        ml.doctor.consent.refer(patient, actors.nurse.address, [LABS], valid_until=referring)
    with pytest.raises(errors.NotCredentialedInstitution):  # accredited member, but no accreditation credential
        ml.doctor.consent.refer(patient, actors.pharmacy.address, [LABS], valid_until=referring)
    assert ml.outsider.consent.referral_of(patient, actors.doctor.address) is None


@pytest.mark.parametrize("case", ["wider-categories", "wider-write", "write-outside-read", "longer", "past"])
def test_a_referral_never_widens_the_grant(world, ml, actors, patient, referring, case):
    hospital = actors.hospital.address
    categories, write, end = bit(LABS), 0, referring
    if case == "wider-categories":
        categories = bit(LABS, NOTES)
    elif case == "wider-write":
        categories, write = bit(LABS, IMAGING), bit(IMAGING)  # the doctor may only write labs
    elif case == "write-outside-read":
        write = bit(IMAGING)
    elif case == "longer":
        end = referring + 1
    else:
        end = world.chain.now() - 1
    error = errors.InvalidExpiry if case in ("longer", "past") else errors.InvalidCategories
    with pytest.raises(error):
        raw_send(ml.doctor, "refer", patient, hospital, categories, write, end)
    assert not ml.outsider.consent.grant_of(patient, hospital).exists


def test_a_referral_never_overrides_the_patients_own_grant(world, ml, actors, patient, referring):
    ml.patient.consent.grant(patient, actors.hospital.address, "all", valid_until=until(world, 20))
    with pytest.raises(errors.GrantAlreadyExists):
        ml.doctor.consent.refer(patient, actors.hospital.address, [LABS], valid_until=referring)
    assert ml.outsider.consent.grant_of(patient, actors.hospital.address).referred_by is None


@pytest.mark.parametrize("how", ["revoke", "replace"])
def test_ending_the_referring_grant_ends_the_referral(world, ml, actors, patient, referring, how):
    hospital = actors.hospital.address
    ml.doctor.consent.refer(patient, hospital, [LABS], valid_until=referring)
    if how == "revoke":
        receipt = ml.patient.consent.revoke(patient, actors.doctor.address)
        revoked = [e["grantee"] for e in events(ml.outsider.consent, receipt, "AccessRevoked")]
        assert revoked == [actors.doctor.address, hospital]
    else:
        ml.patient.consent.grant(patient, actors.doctor.address, [LABS], valid_until=referring, referral_allowed=True)
    assert not ml.outsider.consent.can_access(hospital, patient, LABS)
    assert ml.outsider.consent.referral_of(patient, actors.doctor.address) is None


def test_a_direct_grant_to_the_referred_institution_survives_the_referrer(world, ml, actors, patient, referring):
    hospital = actors.hospital.address
    ml.doctor.consent.refer(patient, hospital, [LABS], valid_until=referring)
    ml.patient.consent.grant(patient, hospital, [IMAGING], valid_until=until(world, 20))
    ml.patient.consent.revoke(patient, actors.doctor.address)
    assert ml.outsider.consent.can_access(hospital, patient, IMAGING)


def test_grants_of_lists_the_live_grants_from_events(world, ml, actors, patient, referring):
    ml.doctor.consent.refer(patient, actors.hospital.address, [LABS], valid_until=referring)
    ml.patient.consent.grant(patient, actors.nurse.address, "labs", valid_until=until(world))
    ml.patient.consent.revoke(patient, actors.nurse.address)
    listed = {g.grantee: g for g in ml.outsider.consent.grants_of(patient)}
    assert set(listed) == {actors.doctor.address, actors.hospital.address}
    assert listed[actors.hospital.address].referred_by == actors.doctor.address


# ─── break-glass ─────────────────────────────────────────────────────────────────────────────


def test_break_glass_opens_bounded_flagged_access_to_every_category(world, ml, actors, patient):
    doctor = actors.doctor.address
    receipt = ml.doctor.access.open_break_glass(patient, reason_code=17, duration=3600)
    opened = events(ml.outsider.consent, receipt, "BreakGlassOpened")
    assert opened == [{"patient": patient, "practitioner": doctor, "reasonCode": 17, "until": opened[0]["until"]}]
    session = ml.outsider.access.break_glass_session(patient, doctor)
    assert session.until - session.opened_at == 3600 and session.reason_code == 17
    for category in RecordCategory:
        assert ml.outsider.consent.access_basis(doctor, patient, category) == (
            AccessBasis.BREAK_GLASS, Purpose.EMERGENCY,
        )  # fmt: skip
    assert not ml.outsider.consent.can_write(doctor, patient, NOTES)
    world.chain.advance_time(3601)
    assert not ml.outsider.consent.can_access(doctor, patient, LABS)


@pytest.mark.parametrize("who", ["nurse", "outsider"])
def test_break_glass_needs_a_medical_licence(world, ml, patient, who):
    with pytest.raises(errors.NotLicensedPractitioner):
        getattr(ml, who).access.open_break_glass(patient, reason_code=1, duration=600)
    assert ml.outsider.access.break_glass_session(patient, getattr(ml, who).signer.address).until == 0


def test_break_glass_on_an_unregistered_patient_or_oneself_is_rejected(world, ml, actors):
    with pytest.raises(errors.PatientNotRegistered):
        ml.doctor.access.open_break_glass(world.people.patient2.address, reason_code=1, duration=600)
    register(ml.doctor, 9)
    with pytest.raises(errors.SelfGrant):
        ml.doctor.access.open_break_glass(actors.doctor.address, reason_code=1, duration=600)


@pytest.mark.parametrize("duration", [0, 24 * 3600 + 1])
def test_break_glass_duration_is_bounded(world, ml, patient, duration):
    with pytest.raises(errors.InvalidBreakGlassDuration) as exc:
        ml.doctor.access.open_break_glass(patient, reason_code=1, duration=duration)
    assert exc.value.maxDuration == 24 * 3600


def test_break_glass_cannot_be_opened_twice(world, ml, patient):
    ml.doctor.access.open_break_glass(patient, reason_code=1, duration=600)
    with pytest.raises(errors.BreakGlassAlreadyOpen):
        ml.doctor.access.open_break_glass(patient, reason_code=1, duration=600)


def test_break_glass_sessions_are_capped_per_window(world, ml, actors, patient):
    policy = ml.outsider.access.break_glass_policy()
    for _ in range(policy.max_sessions_per_window):
        ml.doctor.access.open_break_glass(patient, reason_code=1, duration=60)
        ml.doctor.access.close_break_glass(patient, actors.doctor.address)
    with pytest.raises(errors.BreakGlassLimitReached) as exc:
        ml.doctor.access.open_break_glass(patient, reason_code=1, duration=60)
    usage = ml.outsider.access.break_glass_usage(actors.doctor.address)
    assert usage.sessions == policy.max_sessions_per_window
    assert exc.value.windowEndsAt == usage.window_start + policy.window
    world.chain.advance_time(policy.window)
    ml.doctor.access.open_break_glass(patient, reason_code=1, duration=60)
    assert ml.outsider.access.break_glass_usage(actors.doctor.address).sessions == 1


@pytest.mark.parametrize("by", ["patient", "guardian", "doctor", "regulator"])
def test_break_glass_is_closed_early_by_the_patient_its_delegate_the_practitioner_or_a_regulator(
    world, ml, actors, patient, by
):
    ml.doctor.access.open_break_glass(patient, reason_code=1, duration=3600)
    receipt = getattr(ml, by).access.close_break_glass(patient, actors.doctor.address)
    assert not ml.outsider.consent.can_access(actors.doctor.address, patient, LABS)
    assert events(ml.outsider.consent, receipt, "BreakGlassClosed") == [
        {"patient": patient, "practitioner": actors.doctor.address, "by": getattr(ml, by).signer.address}
    ]


def test_break_glass_close_by_a_stranger_is_rejected(world, ml, actors, patient):
    ml.doctor.access.open_break_glass(patient, reason_code=1, duration=3600)
    with pytest.raises(errors.NotBreakGlassParty):
        ml.nurse.access.close_break_glass(patient, actors.doctor.address)
    assert ml.outsider.consent.can_access(actors.doctor.address, patient, LABS)


def test_closing_a_session_that_is_not_open_is_rejected(world, ml, actors, patient):
    with pytest.raises(errors.BreakGlassNotOpen):
        ml.patient.access.close_break_glass(patient, actors.doctor.address)


def test_break_glass_stops_when_the_licence_is_suspended(world, ml, actors, patient):
    ml.doctor.access.open_break_glass(patient, reason_code=1, duration=3600)
    ml.regulator.credentials.suspend(ml.outsider.credentials.credential_id(actors.doctor.address, "licence"), 2)
    assert not ml.outsider.consent.can_access(actors.doctor.address, patient, LABS)


def test_the_consortium_admin_sets_the_break_glass_policy(world, ml):
    receipt = ml.admin.access.set_break_glass_policy(max_duration=3600, window=7 * DAY, max_sessions_per_window=2)
    policy = ml.outsider.access.break_glass_policy()
    assert (policy.max_duration, policy.window, policy.max_sessions_per_window) == (3600, 7 * DAY, 2)
    assert events(ml.outsider.consent, receipt, "BreakGlassPolicySet") == [
        {"maxDuration": 3600, "window": 7 * DAY, "maxSessionsPerWindow": 2}
    ]


def test_only_the_consortium_admin_sets_the_policy(world, ml, actors):
    with pytest.raises(errors.NotConsortiumAdmin) as exc:
        ml.regulator.access.set_break_glass_policy(max_duration=10, window=10, max_sessions_per_window=100)
    assert exc.value.account == actors.regulator.address
    assert ml.outsider.access.break_glass_policy().max_duration == 24 * 3600


@pytest.mark.parametrize("limits", [(0, 10, 1), (10, 10, 0), (20, 10, 1), (10, 367 * DAY, 1)])
def test_an_invalid_policy_is_rejected(world, ml, limits):
    max_duration, window, sessions = limits
    with pytest.raises(errors.InvalidBreakGlassPolicy):
        ml.admin.access.set_break_glass_policy(max_duration=max_duration, window=window,
                                               max_sessions_per_window=sessions)  # fmt: skip
