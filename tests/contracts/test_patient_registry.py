"""PatientRegistry: registration, keys, delegates, and MRN links by transaction or signed consent.

The base fixture funds fresh wallets ``patient``, ``patient2``, ``guardian`` and an accredited
``clinic``; ``hospital`` is an accredited institution, ``outsider`` holds nothing.
"""

from __future__ import annotations

import dataclasses

import pytest

from medledger import consent, errors
from medledger.client.patients import patient_commitment
from medledger.identity import identity_commitment, mrn_commitment, new_salt, public_key
from medledger.types import MrnLinkStatus
from tests.helpers import events, register

ZERO = "0x" + "00" * 20

IDENTITY = {"name": "Ada Example", "birth_date": "1990-01-31", "national_id": "AB123456"}
SALT = b"\x5a" * 32
COMMITMENT = identity_commitment(IDENTITY, SALT)
ENCRYPTION_SECRET = b"\x42" * 32
ENCRYPTION_KEY = public_key(ENCRYPTION_SECRET)
DAY = 24 * 3600


@pytest.fixture
def registered(ml, actors):
    """``patient`` registered with COMMITMENT and ENCRYPTION_KEY; returns its address."""
    ml.patient.patients.register(COMMITMENT, ENCRYPTION_KEY)
    return ml.patient.signer.address


def raw_send(ledger, name: str, *args):
    """Send a PatientRegistry call without the client's argument checks, to test the contract's own."""
    function = ledger.patients.contract.get_function_by_name(name)(*args)
    return ledger.transactor.send(function, ledger.signer)


def mrn_of(institution: str, mrn: str = "MRN-0042") -> bytes:
    return mrn_commitment(institution, mrn, SALT)


# ─── register / rotate / keys ────────────────────────────────────────────────────────────────


def test_register_stores_only_the_commitment_and_key(ml):
    receipt = ml.patient.patients.register(COMMITMENT, ENCRYPTION_KEY)

    patient = ml.outsider.patients.get(ml.patient.signer.address)
    assert patient.registered and patient.identity_commitment == COMMITMENT
    assert patient.encryption_key == ENCRYPTION_KEY
    assert events(ml.outsider.patients, receipt, "PatientRegistered") == [
        {"patient": patient.address, "identityCommitment": COMMITMENT}
    ]
    assert events(ml.outsider.patients, receipt, "EncryptionKeyPublished") == [
        {"account": patient.address, "key": ENCRYPTION_KEY}
    ]


def test_register_twice_is_rejected(ml, registered):
    with pytest.raises(errors.PatientAlreadyRegistered) as exc:
        ml.patient.patients.register(identity_commitment(IDENTITY, new_salt()), ENCRYPTION_KEY)
    assert exc.value.patient == registered
    assert ml.outsider.patients.get(registered).identity_commitment == COMMITMENT


def test_register_with_a_zero_commitment_is_rejected(ml):
    with pytest.raises(errors.ZeroCommitment):
        ml.patient.patients.register(bytes(32), ENCRYPTION_KEY)
    assert not ml.outsider.patients.is_registered(ml.patient.signer.address)


@pytest.mark.parametrize(
    "key",
    [b"\x04" + b"\x01" * 32, b"\x02" + b"\x01" * 31, b"\x02" + b"\x01" * 33, b""],
    ids=["bad-prefix", "short", "long", "empty"],
)
def test_the_contract_rejects_a_malformed_encryption_key(ml, key):
    with pytest.raises(errors.InvalidEncryptionKey):
        raw_send(ml.patient, "register", COMMITMENT, key)
    assert not ml.outsider.patients.is_registered(ml.patient.signer.address)


def test_the_client_rejects_a_key_off_the_curve_before_sending(ml):
    with pytest.raises(errors.InvalidInput, match="secp256k1"):
        ml.patient.patients.register(COMMITMENT, b"\x02" + bytes(32))


def test_an_uncompressed_key_is_stored_compressed(ml):
    import coincurve

    uncompressed = coincurve.PrivateKey(ENCRYPTION_SECRET).public_key.format(compressed=False)
    ml.patient.patients.register(COMMITMENT, uncompressed)
    assert ml.outsider.patients.encryption_key(ml.patient.signer.address) == ENCRYPTION_KEY


def test_rotate_identity_commitment(ml, registered):
    fresh = identity_commitment(IDENTITY, new_salt())
    receipt = ml.patient.patients.rotate_identity_commitment(fresh)
    assert ml.outsider.patients.get(registered).identity_commitment == fresh
    assert events(ml.outsider.patients, receipt, "IdentityCommitmentRotated") == [
        {"patient": registered, "identityCommitment": fresh}
    ]


def test_rotate_by_an_unregistered_wallet_is_rejected(ml):
    with pytest.raises(errors.PatientNotRegistered) as exc:
        ml.patient2.patients.rotate_identity_commitment(COMMITMENT)
    assert exc.value.patient == ml.patient2.signer.address


def test_rotate_to_zero_is_rejected(ml, registered):
    with pytest.raises(errors.ZeroCommitment):
        ml.patient.patients.rotate_identity_commitment(bytes(32))
    assert ml.outsider.patients.get(registered).identity_commitment == COMMITMENT


def test_any_account_publishes_and_replaces_its_encryption_key(ml, actors):
    first, second = public_key(b"\x01" * 32), public_key(b"\x02" * 32)
    ml.doctor.patients.publish_encryption_key(first)
    assert ml.outsider.patients.encryption_key(actors.doctor.address) == first
    receipt = ml.doctor.patients.publish_encryption_key(second)
    assert ml.outsider.patients.encryption_key(actors.doctor.address) == second
    assert not ml.outsider.patients.is_registered(actors.doctor.address)  # a key does not make a patient
    assert events(ml.outsider.patients, receipt, "EncryptionKeyPublished") == [
        {"account": actors.doctor.address, "key": second}
    ]


def test_publish_a_malformed_key_is_rejected_and_keeps_the_old_one(ml, registered):
    with pytest.raises(errors.InvalidEncryptionKey):
        raw_send(ml.patient, "publishEncryptionKey", b"\x05" + bytes(32))
    assert ml.outsider.patients.encryption_key(registered) == ENCRYPTION_KEY


def test_an_account_without_a_key_reads_as_empty(ml, actors):
    assert ml.outsider.patients.encryption_key(actors.nurse.address) == b""


# ─── delegates ───────────────────────────────────────────────────────────────────────────────


def test_appoint_delegate_lets_it_act_until_expiry(suite, ml, registered):
    guardian = ml.guardian.signer.address
    until = suite.chain.now() + DAY
    receipt = ml.patient.patients.appoint_delegate(guardian, until)

    assert ml.outsider.patients.delegation_expiry(registered, guardian) == until
    assert ml.outsider.patients.can_act_for(guardian, registered)
    assert ml.outsider.patients.can_act_for(registered, registered)
    assert not ml.outsider.patients.can_act_for(ml.outsider.signer.address, registered)
    assert events(ml.outsider.patients, receipt, "DelegateAppointed") == [
        {"patient": registered, "delegate": guardian, "validUntil": until}
    ]
    suite.chain.advance_time(DAY + 1)
    assert not ml.outsider.patients.can_act_for(guardian, registered)


def test_nobody_acts_for_an_unregistered_wallet(ml):
    assert not ml.outsider.patients.can_act_for(ml.patient.signer.address, ml.patient.signer.address)


def test_appoint_delegate_again_replaces_the_expiry(suite, ml, registered):
    guardian = ml.guardian.signer.address
    ml.patient.patients.appoint_delegate(guardian, suite.chain.now() + DAY)
    ml.patient.patients.appoint_delegate(guardian, suite.chain.now() + 2 * DAY)
    assert ml.outsider.patients.delegation_expiry(registered, guardian) > suite.chain.now() + DAY


def test_appoint_delegate_by_an_unregistered_wallet_is_rejected(suite, ml):
    with pytest.raises(errors.PatientNotRegistered):
        ml.patient2.patients.appoint_delegate(ml.guardian.signer.address, suite.chain.now() + DAY)


@pytest.mark.parametrize(
    "who, error",
    [("zero", errors.ZeroAddress), ("self", errors.SelfDelegation)],
)
def test_appoint_an_impossible_delegate_is_rejected(suite, ml, registered, who, error):
    delegate = "0x" + "00" * 20 if who == "zero" else registered
    with pytest.raises(error):
        raw_send(ml.patient, "appointDelegate", delegate, suite.chain.now() + DAY)


def test_appoint_delegate_with_a_past_expiry_is_rejected(suite, ml, registered):
    past = suite.chain.now() - 1
    with pytest.raises(errors.InvalidDelegationExpiry) as exc:
        ml.patient.patients.appoint_delegate(ml.guardian.signer.address, past)
    assert exc.value.validUntil == past
    assert ml.outsider.patients.delegation_expiry(registered, ml.guardian.signer.address) == 0


def test_remove_delegate_stops_it_at_once(suite, ml, registered):
    guardian = ml.guardian.signer.address
    ml.patient.patients.appoint_delegate(guardian, suite.chain.now() + DAY)
    receipt = ml.patient.patients.remove_delegate(guardian)
    assert not ml.outsider.patients.can_act_for(guardian, registered)
    assert events(ml.outsider.patients, receipt, "DelegateRemoved") == [
        {"patient": registered, "delegate": guardian}
    ]


def test_remove_someone_elses_delegate_is_not_possible(suite, ml, registered):
    guardian = ml.guardian.signer.address
    ml.patient.patients.appoint_delegate(guardian, suite.chain.now() + DAY)
    with pytest.raises(errors.DelegateNotFound) as exc:
        ml.guardian.patients.remove_delegate(guardian)  # the delegate itself is not the patient
    assert exc.value.patient == guardian
    assert ml.outsider.patients.can_act_for(guardian, registered)


def test_remove_an_unknown_delegate_is_rejected(ml, registered):
    with pytest.raises(errors.DelegateNotFound):
        ml.patient.patients.remove_delegate(ml.outsider.signer.address)


# ─── MRN links by proposal and acceptance ────────────────────────────────────────────────────


def propose(ml, institution: str, patient: str, mrn: bytes):
    """``institution`` proposes ``mrn`` for ``patient``; the proposal (with its salt) as handed over."""
    return getattr(ml, institution).patients.propose_mrn_link(patient, mrn)


def test_propose_then_accept_links_the_mrn(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    proposal = propose(ml, "hospital", registered, mrn)
    hidden = patient_commitment(actors.hospital.address, mrn, registered, proposal.salt)
    assert proposal.patient_commitment == hidden
    link = ml.outsider.patients.mrn_link(actors.hospital.address, mrn)
    assert (link.status, link.patient, link.since) == (MrnLinkStatus.PROPOSED, ZERO, 0)  # no wallet on chain
    assert ml.outsider.patients.mrn_proposal(actors.hospital.address, mrn) == hidden
    assert ml.outsider.patients.resolve_mrn(actors.hospital.address, mrn) is None  # not before the patient says yes
    assert events(ml.outsider.patients, proposal.receipt, "MrnLinkProposed") == [
        {"mrnCommitment": mrn, "institution": actors.hospital.address, "patientCommitment": hidden}
    ]

    accepted = ml.patient.patients.accept_mrn_link(actors.hospital.address, mrn, proposal.salt)
    assert ml.outsider.patients.resolve_mrn(actors.hospital.address, mrn) == registered
    link = ml.outsider.patients.mrn_link(actors.hospital.address, mrn)
    assert (link.status, link.institution, link.patient) == (MrnLinkStatus.LINKED, actors.hospital.address, registered)
    assert link.since > 0
    assert ml.outsider.patients.mrn_proposal(actors.hospital.address, mrn) is None
    assert events(ml.outsider.patients, accepted, "MrnLinked") == [
        {"mrnCommitment": mrn, "patient": registered, "institution": actors.hospital.address}
    ]


def test_the_proposal_names_no_wallet_in_its_input_event_or_storage(ml, actors, registered):
    proposal = propose(ml, "hospital", registered, mrn_of(actors.hospital.address))
    w3 = ml.outsider.w3
    raw = bytes.fromhex(registered[2:])
    tx = w3.eth.get_transaction(proposal.receipt.tx_hash)
    assert raw not in bytes(tx["input"])
    for log in proposal.receipt.raw["logs"]:
        assert raw not in b"".join(bytes(t) for t in log["topics"]) + bytes(log["data"])


def test_whoever_holds_mrn_and_salt_resolves_it(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address, "H-778")
    proposal = propose(ml, "hospital", registered, mrn)
    ml.patient.patients.accept_mrn_link(actors.hospital.address, mrn, proposal.salt)
    resolve = ml.outsider.patients.resolve_mrn
    assert resolve(actors.hospital.address, mrn_commitment(actors.hospital.address, " H-778 ", SALT)) == registered
    assert resolve(actors.hospital.address, mrn_commitment(actors.hospital.address, "H-779", SALT)) is None
    assert resolve(actors.pharmacy.address, mrn) is None  # another institution's key space


def test_a_delegate_accepts_for_the_patient(suite, ml, actors, registered):
    ml.patient.patients.appoint_delegate(ml.guardian.signer.address, suite.chain.now() + DAY)
    mrn = mrn_of(actors.hospital.address)
    proposal = propose(ml, "hospital", registered, mrn)
    ml.guardian.patients.accept_mrn_link(actors.hospital.address, mrn, proposal.salt, patient=registered)
    assert ml.outsider.patients.resolve_mrn(actors.hospital.address, mrn) == registered


def test_accept_by_a_stranger_is_rejected(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    proposal = propose(ml, "hospital", registered, mrn)
    with pytest.raises(errors.NotPatientOrDelegate) as exc:
        ml.outsider.patients.accept_mrn_link(actors.hospital.address, mrn, proposal.salt, patient=registered)
    assert (exc.value.account, exc.value.patient) == (actors.outsider.address, registered)
    assert ml.outsider.patients.mrn_link(actors.hospital.address, mrn).status is MrnLinkStatus.PROPOSED


def test_another_patient_cannot_take_a_proposal_meant_for_someone_else(ml, actors, registered):
    """Even holding the salt (say it leaked), a patient the proposal was not for cannot open it."""
    other = register(ml.patient2, 2)
    mrn = mrn_of(actors.hospital.address)
    proposal = propose(ml, "hospital", registered, mrn)
    with pytest.raises(errors.MrnProposalMismatch) as exc:
        ml.patient2.patients.accept_mrn_link(actors.hospital.address, mrn, proposal.salt)
    assert (exc.value.institution, exc.value.mrnCommitment) == (actors.hospital.address, mrn)
    with pytest.raises(errors.MrnProposalMismatch):  # the right patient with a wrong salt
        ml.patient.patients.accept_mrn_link(actors.hospital.address, mrn, b"\x01" * 32)
    assert ml.outsider.patients.resolve_mrn(actors.hospital.address, mrn) is None
    assert other != registered


def test_accept_without_a_proposal_or_twice_is_rejected(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    with pytest.raises(errors.MrnLinkStateInvalid):
        ml.patient.patients.accept_mrn_link(actors.hospital.address, mrn, b"\x01" * 32)
    proposal = propose(ml, "hospital", registered, mrn)
    ml.patient.patients.accept_mrn_link(actors.hospital.address, mrn, proposal.salt)
    with pytest.raises(errors.MrnLinkStateInvalid):
        ml.patient.patients.accept_mrn_link(actors.hospital.address, mrn, proposal.salt)


def test_accept_by_an_unregistered_wallet_is_rejected(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    proposal = propose(ml, "hospital", ml.patient2.signer.address, mrn)  # the hospital cannot know
    with pytest.raises(errors.NotPatientOrDelegate):
        ml.patient2.patients.accept_mrn_link(actors.hospital.address, mrn, proposal.salt)


def test_accept_after_the_institution_was_suspended_is_rejected(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    proposal = propose(ml, "hospital", registered, mrn)
    ml.regulator.consortium.suspend(actors.hospital.address, 1)
    with pytest.raises(errors.NotActiveInstitution):
        ml.patient.patients.accept_mrn_link(actors.hospital.address, mrn, proposal.salt)
    assert ml.outsider.patients.resolve_mrn(actors.hospital.address, mrn) is None


@pytest.mark.parametrize("proposer", ["outsider", "doctor"])
def test_propose_by_a_non_institution_is_rejected(ml, registered, proposer):
    mrn = mrn_of(getattr(ml, proposer).signer.address)
    with pytest.raises(errors.NotActiveInstitution):
        propose(ml, proposer, registered, mrn)
    assert ml.outsider.patients.mrn_link(getattr(ml, proposer).signer.address, mrn).status is MrnLinkStatus.NONE


def test_propose_by_a_suspended_institution_is_rejected(ml, actors, registered):
    ml.regulator.consortium.suspend(actors.hospital.address, 1)
    with pytest.raises(errors.NotActiveInstitution):
        propose(ml, "hospital", registered, mrn_of(actors.hospital.address))


@pytest.mark.parametrize("zero", ["mrn", "patient"])
def test_propose_a_zero_commitment_is_rejected(ml, actors, registered, zero):
    args = (bytes(32), b"\x07" * 32) if zero == "mrn" else (mrn_of(actors.hospital.address), bytes(32))
    with pytest.raises(errors.ZeroCommitment):
        raw_send(ml.hospital, "proposeMrnLink", *args)


def test_a_commitment_is_used_once_per_institution(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    propose(ml, "hospital", registered, mrn)
    with pytest.raises(errors.MrnAlreadyLinked) as exc:
        propose(ml, "hospital", registered, mrn)
    assert exc.value.institution == actors.hospital.address
    with pytest.raises(errors.MrnAlreadyLinked):  # nor linked by consent while proposed
        ml.hospital.patients.link_mrn_with_consent(ml.patient.patients.sign_mrn_consent(actors.hospital.address, mrn))


def test_another_institution_cannot_squat_a_commitment(ml, actors, registered):
    """An institution that copies another's commitment (say from a pending transaction) only fills its
    own key space: the first institution still links and resolves its MRN."""
    mrn = mrn_of(actors.hospital.address)
    propose(ml, "clinic", registered, mrn)
    proposal = propose(ml, "hospital", registered, mrn)
    ml.patient.patients.accept_mrn_link(actors.hospital.address, mrn, proposal.salt)
    assert ml.outsider.patients.resolve_mrn(actors.hospital.address, mrn) == registered
    assert ml.outsider.patients.resolve_mrn(ml.clinic.signer.address, mrn) is None


# ─── MRN links by signed consent ─────────────────────────────────────────────────────────────


def test_link_with_the_patients_signed_consent(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    signed = ml.patient.patients.sign_mrn_consent(actors.hospital.address, mrn)
    signed.verify()
    receipt = ml.hospital.patients.link_mrn_with_consent(signed)
    assert ml.outsider.patients.resolve_mrn(actors.hospital.address, mrn) == registered
    assert ml.outsider.patients.nonce(registered) == 1
    assert events(ml.outsider.patients, receipt, "MrnLinked")[0]["institution"] == actors.hospital.address


def test_the_typed_data_matches_the_contract(ml, actors, registered):
    signed = ml.patient.patients.sign_mrn_consent(actors.hospital.address, mrn_of(actors.hospital.address))
    contract = ml.outsider.patients.contract
    assert consent.typehash("MrnLinkConsent") == contract.functions.MRN_LINK_CONSENT_TYPEHASH().call()
    assert signed.data["domain"]["verifyingContract"] == contract.address
    assert signed.data["domain"]["chainId"] == ml.outsider.w3.eth.chain_id


def test_link_with_a_delegates_signed_consent(suite, ml, actors, registered):
    ml.patient.patients.appoint_delegate(ml.guardian.signer.address, suite.chain.now() + DAY)
    mrn = mrn_of(actors.hospital.address)
    signed = ml.guardian.patients.sign_mrn_consent(actors.hospital.address, mrn, patient=registered)
    ml.hospital.patients.link_mrn_with_consent(signed)
    assert ml.outsider.patients.resolve_mrn(actors.hospital.address, mrn) == registered


def test_a_strangers_signature_is_rejected(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    signed = ml.outsider.patients.sign_mrn_consent(actors.hospital.address, mrn, patient=registered)
    with pytest.raises(errors.NotPatientOrDelegate):
        ml.hospital.patients.link_mrn_with_consent(signed)
    assert ml.outsider.patients.resolve_mrn(actors.hospital.address, mrn) is None


def test_a_signature_claimed_for_the_patient_but_made_by_another_key_is_rejected(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    forged = ml.outsider.patients.sign_mrn_consent(actors.hospital.address, mrn, patient=registered)
    forged = dataclasses.replace(forged, signer=registered)
    with pytest.raises(errors.InvalidInput):
        forged.verify()
    with pytest.raises(errors.InvalidSignature) as exc:
        ml.hospital.patients.link_mrn_with_consent(forged)
    assert exc.value.signer == registered


def test_a_signed_consent_works_once(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    signed = ml.patient.patients.sign_mrn_consent(actors.hospital.address, mrn)
    ml.hospital.patients.link_mrn_with_consent(signed)
    ml.hospital.patients.unlink_mrn(actors.hospital.address, mrn)
    with pytest.raises(errors.InvalidAccountNonce) as exc:
        ml.hospital.patients.link_mrn_with_consent(signed)
    assert exc.value.currentNonce == 1
    assert ml.outsider.patients.resolve_mrn(actors.hospital.address, mrn) is None


def test_a_consent_past_its_deadline_is_rejected(suite, ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    deadline = suite.chain.now() - 1
    signed = ml.patient.patients.sign_mrn_consent(actors.hospital.address, mrn, deadline=deadline)
    with pytest.raises(errors.SignatureExpired) as exc:
        ml.hospital.patients.link_mrn_with_consent(signed)
    assert exc.value.deadline == deadline


def test_a_consent_for_one_institution_cannot_be_used_by_another(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    signed = ml.patient.patients.sign_mrn_consent(actors.hospital.address, mrn)
    with pytest.raises(errors.InvalidSignature):
        ml.clinic.patients.link_mrn_with_consent(signed)


def test_a_consent_signed_for_another_chain_is_refused_by_the_client_and_the_contract(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    domain = dataclasses.replace(ml.patient.patients.domain(), chain_id=999)
    message = {
        "patient": registered, "institution": actors.hospital.address, "mrnCommitment": mrn,
        "nonce": 0, "deadline": 2**40,
    }  # fmt: skip
    signed = consent.sign_message(domain, "MrnLinkConsent", message, ml.patient.signer)
    with pytest.raises(errors.InvalidInput, match="another contract or chain"):
        ml.hospital.patients.link_mrn_with_consent(signed)
    with pytest.raises(errors.InvalidSignature):
        raw_send(ml.hospital, "linkMrnWithConsent", registered, mrn, registered, 0, 2**40, signed.signature)


def test_a_consent_signed_for_another_contract_is_rejected(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    domain = dataclasses.replace(ml.patient.patients.domain(), verifying_contract=ml.outsider.credentials.address)
    message = {
        "patient": registered, "institution": actors.hospital.address, "mrnCommitment": mrn,
        "nonce": 0, "deadline": 2**40,
    }  # fmt: skip
    signed = consent.sign_message(domain, "MrnLinkConsent", message, ml.patient.signer)
    with pytest.raises(errors.InvalidSignature):
        raw_send(ml.hospital, "linkMrnWithConsent", registered, mrn, registered, 0, 2**40, signed.signature)


# ─── unlink ──────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("by", ["patient", "guardian", "hospital"])
def test_the_patient_a_delegate_or_the_institution_unlinks(suite, ml, actors, registered, by):
    ml.patient.patients.appoint_delegate(ml.guardian.signer.address, suite.chain.now() + DAY)
    mrn = mrn_of(actors.hospital.address)
    proposal = propose(ml, "hospital", registered, mrn)
    ml.patient.patients.accept_mrn_link(actors.hospital.address, mrn, proposal.salt)
    receipt = getattr(ml, by).patients.unlink_mrn(actors.hospital.address, mrn)
    assert ml.outsider.patients.resolve_mrn(actors.hospital.address, mrn) is None
    assert ml.outsider.patients.mrn_link(actors.hospital.address, mrn).status is MrnLinkStatus.NONE
    assert events(ml.outsider.patients, receipt, "MrnUnlinked") == [
        {"mrnCommitment": mrn, "institution": actors.hospital.address, "by": getattr(ml, by).signer.address}
    ]


def test_unlink_by_a_third_party_is_rejected(ml, actors, registered):
    mrn = mrn_of(actors.hospital.address)
    proposal = propose(ml, "hospital", registered, mrn)
    with pytest.raises(errors.NotMrnLinkParty):
        ml.clinic.patients.unlink_mrn(actors.hospital.address, mrn)
    ml.patient.patients.accept_mrn_link(actors.hospital.address, mrn, proposal.salt)
    with pytest.raises(errors.NotMrnLinkParty):
        ml.clinic.patients.unlink_mrn(actors.hospital.address, mrn)
    assert ml.outsider.patients.resolve_mrn(actors.hospital.address, mrn) == registered


def test_the_institution_withdraws_its_proposal_and_nobody_else_can(ml, actors, registered):
    """A proposal names no patient, so only its institution can withdraw it (the patient ignores it)."""
    mrn = mrn_of(actors.hospital.address)
    proposal = propose(ml, "hospital", registered, mrn)
    for who in ("patient", "clinic"):
        with pytest.raises(errors.NotMrnLinkParty):
            getattr(ml, who).patients.unlink_mrn(actors.hospital.address, mrn)
    receipt = ml.hospital.patients.unlink_mrn(actors.hospital.address, mrn)
    assert events(ml.outsider.patients, receipt, "MrnUnlinked")[0]["by"] == actors.hospital.address
    assert ml.outsider.patients.mrn_link(actors.hospital.address, mrn).status is MrnLinkStatus.NONE
    with pytest.raises(errors.MrnLinkStateInvalid):
        ml.patient.patients.accept_mrn_link(actors.hospital.address, mrn, proposal.salt)


def test_unlink_an_unknown_commitment_is_rejected(ml, actors):
    with pytest.raises(errors.MrnLinkStateInvalid):
        ml.hospital.patients.unlink_mrn(actors.hospital.address, mrn_of(actors.hospital.address))


# ─── cancelSignatures ────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("by", ["patient", "guardian"])
def test_a_signed_mrn_consent_is_refused_after_cancellation(suite, ml, actors, registered, by):
    ml.patient.patients.appoint_delegate(ml.guardian.signer.address, suite.chain.now() + DAY)
    mrn = mrn_of(actors.hospital.address)
    signed = ml.patient.patients.sign_mrn_consent(actors.hospital.address, mrn)
    receipt = getattr(ml, by).patients.cancel_signatures(registered)
    assert events(ml.outsider.patients, receipt, "SignaturesCancelled") == [
        {"patient": registered, "by": getattr(ml, by).signer.address, "nonce": 0}
    ]
    assert ml.outsider.patients.nonce(registered) == 1
    with pytest.raises(errors.InvalidAccountNonce):
        ml.hospital.patients.link_mrn_with_consent(signed)
    assert ml.outsider.patients.resolve_mrn(actors.hospital.address, mrn) is None


def test_cancel_signatures_by_someone_else_is_rejected(ml, actors, registered):
    for who in ("hospital", "outsider"):
        with pytest.raises(errors.NotPatientOrDelegate) as exc:
            getattr(ml, who).patients.cancel_signatures(registered)
        assert (exc.value.account, exc.value.patient) == (getattr(ml, who).signer.address, registered)
    assert ml.outsider.patients.nonce(registered) == 0


def test_cancel_signatures_for_an_unregistered_patient_is_rejected(ml):
    with pytest.raises(errors.PatientNotRegistered):
        ml.patient2.patients.cancel_signatures()
    assert ml.outsider.patients.nonce(ml.patient2.signer.address) == 0
