"""RecordRegistry: anchoring with write permission, version chains, verify; and the access log
(ConsentManager.logAccess) of reads of anchored records."""

from __future__ import annotations

import pytest

from medledger import errors
from medledger.client.records import content_hash
from medledger.types import AccessBasis, InstitutionKind, Purpose, RecordCategory, RecordKind, RecordStatus
from tests.helpers import DAY, advance_to, events, register, until

LABS, NOTES = RecordCategory.LABS, RecordCategory.CLINICAL_NOTES
FIRST, SECOND, THIRD = (content_hash(f"ciphertext {i}".encode()) for i in range(3))


def uri(record: bytes) -> str:
    return f"vault://{record.hex()}"


@pytest.fixture
def writer(world, ml, actors, patient):
    """The hospital may write labs (and read labs and notes) for the patient."""
    ml.patient.consent.grant(patient, actors.hospital.address, [LABS, NOTES], write_categories=[LABS],
                             valid_until=until(world))  # fmt: skip
    return ml.hospital


@pytest.fixture
def writers(world, ml, actors, patient, writer):
    """Besides the hospital, the clinic and the doctor may write labs for the patient."""
    for grantee in (world.people.clinic.address, actors.doctor.address):
        ml.patient.consent.grant(patient, grantee, [LABS], write_categories=[LABS], valid_until=until(world))
    return writer


def employ(ml, institution: str, practitioner: str) -> None:
    getattr(ml, institution).credentials.offer_employment(getattr(ml, practitioner).signer.address)
    getattr(ml, practitioner).credentials.accept_employment(getattr(ml, institution).signer.address)


def raw_send(ledger, name: str, *args):
    function = ledger.records.contract.get_function_by_name(name)(*args)
    return ledger.transactor.send(function, ledger.signer)


# ─── anchorRecord ────────────────────────────────────────────────────────────────────────────


def test_a_grantee_with_write_permission_anchors_a_record(ml, actors, patient, writer):
    receipt = writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    record = ml.outsider.records.get(FIRST)
    assert (record.patient, record.category, record.superseded) == (patient, LABS, False)
    assert (record.author, record.kind, record.latest_amendment) == (actors.hospital.address, RecordKind.ENTRY, None)
    assert ml.outsider.records.verify(FIRST) is RecordStatus.CURRENT
    assert ml.outsider.records.verify_with_author(FIRST) == (RecordStatus.CURRENT, actors.hospital.address)
    assert events(ml.outsider.records, receipt, "RecordAnchored") == [
        {"contentHash": FIRST, "patient": patient, "author": actors.hospital.address, "category": int(LABS),
         "supersedes": bytes(32), "uri": uri(FIRST)}
    ]  # fmt: skip


def test_the_patient_anchors_its_own_record(ml, patient):
    ml.patient.records.anchor(patient, RecordCategory.DOCUMENTS, FIRST, uri(FIRST))
    assert ml.outsider.records.verify(FIRST) is RecordStatus.CURRENT
    assert ml.outsider.records.get(FIRST).author == patient
    ml.patient.records.anchor(patient, RecordCategory.DOCUMENTS, SECOND, uri(SECOND), supersedes=FIRST)
    assert ml.outsider.records.verify_with_author(SECOND) == (RecordStatus.CURRENT, patient)


def test_an_unknown_record_has_no_author(ml):
    assert ml.outsider.records.verify_with_author(FIRST) == (RecordStatus.UNKNOWN, None)


def test_a_new_version_supersedes_the_old_and_versions_chain(ml, actors, patient, writer):
    writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    writer.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)
    writer.records.anchor(patient, LABS, THIRD, uri(THIRD), supersedes=SECOND)
    assert [ml.outsider.records.verify(r) for r in (FIRST, SECOND, THIRD)] == [
        RecordStatus.SUPERSEDED, RecordStatus.SUPERSEDED, RecordStatus.CURRENT,
    ]  # fmt: skip
    assert [v.id for v in ml.outsider.records.chain_of(SECOND)] == [FIRST, SECOND, THIRD]
    assert {v.author for v in ml.outsider.records.chain_of(SECOND)} == {actors.hospital.address}


# ─── who supersedes ──────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("who", ["clinic", "doctor", "patient"])
def test_another_writer_cannot_supersede_a_record(ml, actors, patient, writers, who):
    """The clinic and the doctor hold write grants for labs, the patient writes its own records:
    none of them is the author of the hospital's record, so none replaces it."""
    writers.records.anchor(patient, LABS, FIRST, uri(FIRST))
    with pytest.raises(errors.NotRecordAuthor) as exc:
        getattr(ml, who).records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)
    assert (exc.value.account, exc.value.previous, exc.value.author) == (
        getattr(ml, who).signer.address, FIRST, actors.hospital.address,
    )  # fmt: skip
    assert "author" in str(exc.value)
    assert ml.outsider.records.verify(FIRST) is RecordStatus.CURRENT
    assert ml.outsider.records.verify(SECOND) is RecordStatus.UNKNOWN


def test_the_hospital_cannot_supersede_the_patients_own_record(ml, patient, writer):
    ml.patient.records.anchor(patient, LABS, FIRST, uri(FIRST))
    with pytest.raises(errors.NotRecordAuthor) as exc:
        writer.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)
    assert exc.value.author == patient


def test_a_practitioner_of_the_authoring_institution_supersedes_its_record(ml, actors, patient, writers):
    writers.records.anchor(patient, LABS, FIRST, uri(FIRST))
    employ(ml, "hospital", "doctor")
    ml.doctor.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)
    assert ml.outsider.records.verify(FIRST) is RecordStatus.SUPERSEDED
    assert ml.outsider.records.verify_with_author(SECOND) == (RecordStatus.CURRENT, actors.doctor.address)


def test_a_practitioner_who_left_the_institution_no_longer_supersedes_its_records(ml, actors, patient, writers):
    writers.records.anchor(patient, LABS, FIRST, uri(FIRST))
    employ(ml, "hospital", "doctor")
    ml.doctor.credentials.end_employment(actors.doctor.address, actors.hospital.address)
    with pytest.raises(errors.NotRecordAuthor):
        ml.doctor.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)


def test_an_offer_not_accepted_is_no_employment(ml, actors, patient, writers):
    writers.records.anchor(patient, LABS, FIRST, uri(FIRST))
    ml.hospital.credentials.offer_employment(actors.doctor.address)
    with pytest.raises(errors.NotRecordAuthor):
        ml.doctor.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)


def test_the_institution_supersedes_the_record_its_practitioner_anchored_for_it(ml, actors, patient, writers):
    employ(ml, "hospital", "doctor")
    receipt = ml.doctor.records.anchor(patient, LABS, FIRST, uri(FIRST), acting_for=actors.hospital.address)
    assert events(ml.outsider.records, receipt, "RecordAnchoredFor") == [
        {"contentHash": FIRST, "author": actors.doctor.address, "institution": actors.hospital.address}
    ]
    anchored = ml.outsider.records.get(FIRST)
    assert (anchored.author, anchored.acting_for) == (actors.doctor.address, actors.hospital.address)
    writers.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)
    assert ml.outsider.records.verify(FIRST) is RecordStatus.SUPERSEDED
    assert ml.outsider.records.verify_with_author(SECOND) == (RecordStatus.CURRENT, actors.hospital.address)
    assert ml.outsider.records.get(SECOND).acting_for is None
    # and the hospital's doctor may take the chain on again: the hospital authored the current version
    ml.doctor.records.anchor(patient, LABS, THIRD, uri(THIRD), supersedes=SECOND)


def test_the_author_supersedes_its_own_record_whoever_it_acted_for(ml, actors, patient, writers):
    employ(ml, "hospital", "doctor")
    ml.doctor.records.anchor(patient, LABS, FIRST, uri(FIRST), acting_for=actors.hospital.address)
    ml.doctor.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)  # for no institution now
    employ(ml, "clinic", "doctor")
    ml.doctor.records.anchor(patient, LABS, THIRD, uri(THIRD), supersedes=SECOND, acting_for=ml.clinic.signer.address)
    assert ml.outsider.records.verify(SECOND) is RecordStatus.SUPERSEDED
    assert ml.outsider.records.get(THIRD).acting_for == ml.clinic.signer.address


def test_no_employer_supersedes_a_record_anchored_for_no_institution(world, ml, actors, patient, writers):
    """The chain cannot tell which of its author's employers a plain `anchorRecord` was written for,
    so none of them supersedes it (here a locum of the hospital and the clinic)."""
    employ(ml, "hospital", "doctor")
    employ(ml, "clinic", "doctor")
    ml.doctor.records.anchor(patient, LABS, FIRST, uri(FIRST))
    for employer in ("hospital", "clinic"):
        with pytest.raises(errors.NotRecordAuthor) as exc:
            getattr(ml, employer).records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)
        assert exc.value.author == actors.doctor.address
    assert ml.outsider.records.verify(FIRST) is RecordStatus.CURRENT


def test_another_employer_of_the_author_does_not_supersede_a_record_anchored_for_the_first(
    world, ml, actors, patient, writers
):
    """A locum works for the hospital and the clinic; it anchors for the hospital; the clinic, with a
    write grant of its own, does not supersede it."""
    employ(ml, "hospital", "doctor")
    employ(ml, "clinic", "doctor")
    ml.doctor.records.anchor(patient, LABS, FIRST, uri(FIRST), acting_for=actors.hospital.address)
    with pytest.raises(errors.NotRecordAuthor) as exc:
        ml.clinic.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)
    assert exc.value.author == actors.doctor.address
    assert ml.outsider.records.verify(FIRST) is RecordStatus.CURRENT


def test_an_institution_supersedes_a_record_anchored_for_it_after_the_practitioner_left(
    ml, actors, patient, writers
):
    """The record was the institution's from its anchor (employment was checked then)."""
    employ(ml, "hospital", "doctor")
    ml.doctor.records.anchor(patient, LABS, FIRST, uri(FIRST), acting_for=actors.hospital.address)
    ml.hospital.credentials.end_employment(actors.doctor.address, actors.hospital.address)
    writers.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)
    assert ml.outsider.records.verify(FIRST) is RecordStatus.SUPERSEDED


@pytest.mark.parametrize("situation", ["never-employed", "offer-only", "left", "institution-suspended"])
def test_anchor_for_an_institution_that_does_not_employ_the_caller_is_rejected(
    world, ml, actors, patient, writers, situation
):
    hospital = actors.hospital.address
    if situation != "never-employed":
        ml.hospital.credentials.offer_employment(actors.doctor.address)
    if situation in ("left", "institution-suspended"):
        ml.doctor.credentials.accept_employment(hospital)
    if situation == "left":
        ml.doctor.credentials.end_employment(actors.doctor.address, hospital)
    if situation == "institution-suspended":
        ml.regulator.consortium.suspend(hospital, 1)
    with pytest.raises(errors.NotActingFor) as exc:
        ml.doctor.records.anchor(patient, LABS, FIRST, uri(FIRST), acting_for=hospital)
    assert (exc.value.account, exc.value.institution) == (actors.doctor.address, hospital)
    assert ml.outsider.records.verify(FIRST) is RecordStatus.UNKNOWN


def test_the_patient_does_not_anchor_for_an_institution_even_employed_by_it(ml, actors, patient, writers):
    employ(ml, "hospital", "patient")
    with pytest.raises(errors.NotActingFor) as exc:
        ml.patient.records.anchor(patient, LABS, FIRST, uri(FIRST), acting_for=actors.hospital.address)
    assert exc.value.account == patient
    assert ml.outsider.records.verify(FIRST) is RecordStatus.UNKNOWN


def test_anchor_for_the_zero_institution_is_rejected_by_the_contract(ml, actors, patient, writers):
    employ(ml, "hospital", "doctor")
    with pytest.raises(errors.ZeroAddress):
        raw_send(ml.doctor, "anchorRecordFor", patient, int(LABS), FIRST, uri(FIRST), bytes(32), "0x" + "00" * 20)


def test_anchor_for_an_institution_still_needs_write_permission(world, ml, actors, patient):
    """Acting for an institution lends no permission: the practitioner's own grant is what writes."""
    employ(ml, "hospital", "doctor")
    ml.patient.consent.grant(patient, actors.hospital.address, [LABS], write_categories=[LABS],
                             valid_until=until(world))  # fmt: skip
    with pytest.raises(errors.NotAllowedToWrite):
        ml.doctor.records.anchor(patient, LABS, FIRST, uri(FIRST), acting_for=actors.hospital.address)


def test_anchor_for_rejects_a_malformed_institution_before_sending(ml, actors, patient, writers):
    with pytest.raises(errors.InvalidInput):
        ml.doctor.records.anchor(patient, LABS, FIRST, uri(FIRST), acting_for="st. mary's")


# ─── the employment paths never apply to the record's own patient ───────────────────────────


def test_a_patient_employed_by_the_hospital_does_not_supersede_the_hospitals_record_about_it(
    world, ml, actors, patient, writer
):
    """The patient works at the hospital that treats it: it changes the hospital's record about it
    only by amendment, never by a version that would hide it."""
    writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    employ(ml, "hospital", "patient")
    with pytest.raises(errors.NotRecordAuthor) as exc:
        ml.patient.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)
    assert (exc.value.account, exc.value.author) == (patient, actors.hospital.address)
    assert ml.outsider.records.verify(FIRST) is RecordStatus.CURRENT
    ml.patient.records.amend(FIRST, SECOND, uri(SECOND))  # the patient's way
    assert ml.outsider.records.verify(FIRST) is RecordStatus.CURRENT


def test_the_employer_of_a_patient_does_not_supersede_the_patients_own_record(world, ml, actors, patient, writer):
    employ(ml, "hospital", "patient")
    ml.patient.records.anchor(patient, LABS, FIRST, uri(FIRST))
    with pytest.raises(errors.NotRecordAuthor) as exc:
        writer.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)
    assert exc.value.author == patient
    assert ml.outsider.records.verify(FIRST) is RecordStatus.CURRENT


def test_an_institution_employed_by_another_does_not_supersede_its_records(world, ml, actors, patient, writers):
    """An institution is never a practitioner: it is not employed (refused) and, if it was linked
    before its accreditation, the link does not count."""
    clinic = world.people.clinic.address
    writers.records.anchor(patient, LABS, FIRST, uri(FIRST))
    with pytest.raises(errors.PractitionerIsInstitution):
        ml.hospital.credentials.offer_employment(clinic)
    with pytest.raises(errors.NotRecordAuthor):
        ml.clinic.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)


def test_a_practitioner_linked_before_its_accreditation_no_longer_supersedes_for_the_institution(
    world, ml, actors, patient, writers
):
    writers.records.anchor(patient, LABS, FIRST, uri(FIRST))
    employ(ml, "hospital", "nurse")
    ml.patient.consent.grant(patient, actors.nurse.address, [LABS], write_categories=[LABS], valid_until=until(world))
    ml.admin.consortium.accredit(actors.nurse.address, InstitutionKind.CLINIC)
    now = world.chain.now()
    ml.authority.credentials.issue(actors.nurse.address, "accreditation", valid_from=now - 10, valid_until=now + DAY)
    assert ml.outsider.consent.can_write(actors.nurse.address, patient, LABS)  # credentialed, as an institution
    with pytest.raises(errors.NotRecordAuthor):
        ml.nurse.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)


# ─── amendments ──────────────────────────────────────────────────────────────────────────────


def test_a_patients_amendment_leaves_the_original_current_and_in_its_versions(ml, actors, patient, writer):
    writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    receipt = ml.patient.records.amend(FIRST, SECOND, uri(SECOND))
    records = ml.outsider.records
    assert records.verify(FIRST) is RecordStatus.CURRENT
    assert records.verify_with_author(FIRST) == (RecordStatus.CURRENT, actors.hospital.address)
    assert records.verify_with_author(SECOND) == (RecordStatus.CURRENT, patient)
    original, amendment = records.get(FIRST), records.get(SECOND)
    assert (original.kind, original.latest_amendment, original.amended) == (RecordKind.ENTRY, SECOND, True)
    assert (amendment.kind, amendment.category, amendment.patient) == (RecordKind.AMENDMENT, LABS, patient)
    assert [v.id for v in records.chain_of(FIRST)] == [FIRST]
    assert [(v.id, v.kind, v.amends) for v in records.versions_of(patient)] == [
        (FIRST, RecordKind.ENTRY, None), (SECOND, RecordKind.AMENDMENT, FIRST),
    ]  # fmt: skip
    assert events(records, receipt, "RecordAmended") == [{"original": FIRST, "amendment": SECOND, "patient": patient}]
    assert events(records, receipt, "RecordAnchored")[0]["author"] == patient
    # the author may still correct its record; the amendment stays attached to the version it amends
    writer.records.anchor(patient, LABS, THIRD, uri(THIRD), supersedes=FIRST)
    assert [v.id for v in records.chain_of(FIRST)] == [FIRST, THIRD]
    assert [v.id for v in records.amendments_of(FIRST)] == [SECOND]
    assert records.verify(SECOND) is RecordStatus.CURRENT


def test_a_later_amendment_supersedes_the_earlier_one(ml, patient, writer):
    writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    ml.patient.records.amend(FIRST, SECOND, uri(SECOND))
    receipt = ml.patient.records.amend(FIRST, THIRD, uri(THIRD))
    records = ml.outsider.records
    assert [records.verify(r) for r in (FIRST, SECOND, THIRD)] == [
        RecordStatus.CURRENT, RecordStatus.SUPERSEDED, RecordStatus.CURRENT,
    ]  # fmt: skip
    assert records.get(FIRST).latest_amendment == THIRD
    assert events(records, receipt, "RecordAnchored")[0]["supersedes"] == SECOND
    assert [v.id for v in records.chain_of(THIRD)] == [SECOND, THIRD]
    assert [v.id for v in records.amendments_of(FIRST)] == [SECOND, THIRD]


@pytest.mark.parametrize("who", ["hospital", "guardian", "outsider"])
def test_only_the_patient_amends(ml, patient, writer, who):
    writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    with pytest.raises(errors.NotRecordPatient) as exc:
        getattr(ml, who).records.amend(FIRST, SECOND, uri(SECOND))
    assert (exc.value.account, exc.value.original) == (getattr(ml, who).signer.address, FIRST)
    assert ml.outsider.records.verify(SECOND) is RecordStatus.UNKNOWN


def test_an_amendment_or_the_patients_own_record_is_not_amended(ml, patient, writer):
    ml.patient.records.anchor(patient, LABS, FIRST, uri(FIRST))
    with pytest.raises(errors.NotAmendable):  # its own record: the patient supersedes it instead
        ml.patient.records.amend(FIRST, SECOND, uri(SECOND))
    writer.records.anchor(patient, LABS, THIRD, uri(THIRD))
    ml.patient.records.amend(THIRD, SECOND, uri(SECOND))
    with pytest.raises(errors.NotAmendable):
        ml.patient.records.amend(SECOND, content_hash(b"x"), "vault://x")


def test_an_amendment_is_not_superseded_by_a_version(ml, patient, writer):
    writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    ml.patient.records.amend(FIRST, SECOND, uri(SECOND))
    with pytest.raises(errors.AmendmentNotSupersedable):
        ml.patient.records.anchor(patient, LABS, THIRD, uri(THIRD), supersedes=SECOND)


@pytest.mark.parametrize("bad", ["unknown-original", "zero-hash", "empty-uri", "already-anchored"])
def test_amend_with_bad_arguments_is_rejected_by_the_contract(ml, patient, writer, bad):
    writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    original, record, location = FIRST, SECOND, uri(SECOND)
    if bad == "unknown-original":
        original, error = THIRD, errors.RecordNotFound
    elif bad == "zero-hash":
        record, error = bytes(32), errors.ZeroContentHash
    elif bad == "empty-uri":
        location, error = "", errors.InvalidUri
    else:
        record, error = FIRST, errors.RecordAlreadyAnchored
    with pytest.raises(error):
        raw_send(ml.patient, "amendRecord", original, record, location)


def test_an_unknown_or_altered_file_is_unknown(ml, patient, writer, tmp_path):
    writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    altered = tmp_path / "altered.bin"
    altered.write_bytes(b"ciphertext 0 but altered")
    digest, status = ml.outsider.records.verify_file(altered)
    assert status is RecordStatus.UNKNOWN and digest == content_hash(altered.read_bytes())
    original = tmp_path / "original.bin"
    original.write_bytes(b"ciphertext 0")
    assert ml.outsider.records.verify_file(original) == (FIRST, RecordStatus.CURRENT)


@pytest.mark.parametrize("who", ["outsider", "doctor", "guardian"])
def test_anchor_without_write_permission_is_rejected(ml, patient, writer, who):
    with pytest.raises(errors.NotAllowedToWrite) as exc:
        getattr(ml, who).records.anchor(patient, LABS, FIRST, uri(FIRST))
    assert exc.value.category == int(LABS)
    assert ml.outsider.records.verify(FIRST) is RecordStatus.UNKNOWN


def test_anchor_in_a_category_granted_for_reading_only_is_rejected(ml, patient, writer):
    with pytest.raises(errors.NotAllowedToWrite):
        writer.records.anchor(patient, NOTES, FIRST, uri(FIRST))


def test_anchor_by_a_writer_that_lost_its_accreditation_is_rejected(ml, actors, patient, writer):
    ml.regulator.consortium.suspend(actors.hospital.address, 1)
    with pytest.raises(errors.NotAllowedToWrite):
        writer.records.anchor(patient, LABS, FIRST, uri(FIRST))


def test_anchor_twice_is_rejected(ml, patient, writer):
    writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    with pytest.raises(errors.RecordAlreadyAnchored):
        ml.patient.records.anchor(patient, LABS, FIRST, uri(FIRST))


def test_supersede_rules(world, ml, patient, writer):
    writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    ml.patient.records.anchor(patient, NOTES, THIRD, uri(THIRD))
    with pytest.raises(errors.RecordNotFound):
        writer.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=b"\x01" * 32)
    with pytest.raises(errors.VersionMismatch):  # another category
        ml.patient.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=THIRD)
    writer.records.anchor(patient, LABS, SECOND, uri(SECOND), supersedes=FIRST)
    with pytest.raises(errors.RecordAlreadySuperseded):  # no forks
        writer.records.anchor(patient, LABS, content_hash(b"fork"), "vault://fork", supersedes=FIRST)
    assert ml.outsider.records.verify(SECOND) is RecordStatus.CURRENT


def test_supersede_a_record_of_another_patient_is_rejected(world, ml, patient, writer):
    other = register(ml.patient2, 2)
    ml.patient2.records.anchor(other, LABS, THIRD, uri(THIRD))
    with pytest.raises(errors.VersionMismatch):
        writer.records.anchor(patient, LABS, FIRST, uri(FIRST), supersedes=THIRD)


@pytest.mark.parametrize("bad", ["zero-hash", "empty-uri", "long-uri"])
def test_anchor_with_bad_arguments_is_rejected_by_the_contract(ml, patient, writer, bad):
    record, location = (bytes(32), "vault://x") if bad == "zero-hash" else (FIRST, "" if bad == "empty-uri" else "v" * 257)
    error = errors.ZeroContentHash if bad == "zero-hash" else errors.InvalidUri
    with pytest.raises(error):
        raw_send(writer, "anchorRecord", patient, int(LABS), record, location, bytes(32))


def test_the_client_checks_the_uri_before_sending(ml, patient, writer):
    with pytest.raises(errors.InvalidInput, match="URI"):
        writer.records.anchor(patient, LABS, FIRST, "")


# ─── logAccess ───────────────────────────────────────────────────────────────────────────────


def test_every_read_is_logged_with_its_ground_and_purpose(world, ml, actors, patient, writer):
    writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    read = ml.hospital.access.log_read(FIRST)
    assert (read.basis, read.purpose) == (AccessBasis.GRANT, Purpose.TREATMENT)
    assert events(ml.outsider.consent, read.receipt, "RecordAccessed") == [
        {"record": FIRST, "patient": patient, "reader": actors.hospital.address, "category": int(LABS),
         "basis": int(AccessBasis.GRANT), "purpose": int(Purpose.TREATMENT)}
    ]  # fmt: skip
    own = ml.patient.access.log_read(FIRST)
    assert own.basis is AccessBasis.PATIENT
    history = ml.outsider.access.history(patient)
    assert [(h.reader, h.basis) for h in history] == [
        (actors.hospital.address, AccessBasis.GRANT), (patient, AccessBasis.PATIENT),
    ]  # fmt: skip
    assert all(h.timestamp > 0 and not h.break_glass and h.matches_record for h in history)


def test_a_read_without_access_reverts_and_leaves_no_trace(world, ml, actors, patient, writer):
    writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    with pytest.raises(errors.AccessDenied) as exc:
        ml.doctor.access.log_read(FIRST)
    assert (exc.value.reader, exc.value.patient, exc.value.category) == (actors.doctor.address, patient, int(LABS))
    assert ml.outsider.access.history(patient) == []


def test_a_read_after_revocation_is_denied(world, ml, actors, patient, writer):
    writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    ml.patient.consent.revoke(patient, actors.hospital.address)
    with pytest.raises(errors.AccessDenied):
        ml.hospital.access.log_read(FIRST)


def test_the_category_comes_from_the_record_not_the_reader(world, ml, actors, patient, writer):
    ml.patient.records.anchor(patient, RecordCategory.MENTAL_HEALTH, FIRST, uri(FIRST))
    with pytest.raises(errors.AccessDenied):  # the hospital reads labs and notes, not mental health
        ml.hospital.access.log_read(FIRST)


def test_a_read_of_an_unknown_record_is_rejected(world, ml):
    with pytest.raises(errors.RecordNotFound):
        ml.patient.access.log_read(FIRST)


def test_break_glass_reads_are_flagged_for_the_patient_and_the_regulator(world, ml, actors, patient, writer):
    writer.records.anchor(patient, LABS, FIRST, uri(FIRST))
    ml.doctor.access.open_break_glass(patient, reason_code=3, duration=3600)
    read = ml.doctor.access.log_read(FIRST)
    assert (read.basis, read.purpose) == (AccessBasis.BREAK_GLASS, Purpose.EMERGENCY)
    ml.patient.access.close_break_glass(patient, actors.doctor.address)
    (entry,) = ml.patient.access.history(patient)
    assert entry.break_glass and entry.reader == actors.doctor.address
    sessions = ml.regulator.access.break_glass_events()
    assert [(e.kind, e.practitioner, e.by) for e in sessions] == [
        ("opened", actors.doctor.address, actors.doctor.address), ("closed", actors.doctor.address, patient),
    ]  # fmt: skip
    assert sessions[0].reason_code == 3
    assert ml.outsider.access.break_glass_events(world.people.patient2.address) == []


def test_a_referred_institution_reads_under_the_referral(world, ml, actors, patient):
    clinic, end = world.people.clinic.address, until(world)
    ml.patient.consent.grant(patient, actors.doctor.address, [LABS], valid_until=end, referral_allowed=True)
    ml.patient.records.anchor(patient, LABS, FIRST, uri(FIRST))
    ml.doctor.consent.refer(patient, clinic, [LABS], valid_until=end)
    read = ml.clinic.access.log_read(FIRST)
    assert read.basis is AccessBasis.REFERRAL
    assert [h.reader for h in ml.outsider.access.history(reader=clinic)] == [clinic]


def test_the_contract_rejects_a_zero_record_id(world, ml, patient):
    function = ml.patient.consent.contract.functions.logAccess(patient, bytes(32), int(LABS))
    with pytest.raises(errors.ZeroRecord):
        ml.patient.transactor.send(function, ml.patient.signer)


def test_a_logged_read_names_the_stated_record_and_category(world, ml, actors, patient, writer):
    # The contract trusts the reader's statement of patient and category (the vault checks it
    # against the anchored record before serving); a false statement still needs access to it.
    function = ml.hospital.consent.contract.functions.logAccess(patient, THIRD, int(NOTES))
    receipt = ml.hospital.transactor.send(function, ml.hospital.signer)
    (entry,) = events(ml.outsider.consent, receipt, "RecordAccessed")
    assert (entry["record"], entry["category"]) == (THIRD, int(NOTES))
    (logged,) = ml.outsider.access.history(patient)
    assert not logged.matches_record  # THIRD was never anchored: the history says so
    with pytest.raises(errors.AccessDenied):
        ml.hospital.transactor.send(
            ml.hospital.consent.contract.functions.logAccess(patient, THIRD, int(RecordCategory.GENOMICS)),
            ml.hospital.signer,
        )
