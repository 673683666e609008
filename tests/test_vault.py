"""The vault: sealing, sharing without re-encryption, serving only against a logged read, tampering."""

from __future__ import annotations

import dataclasses

import pytest

from medledger import errors
from medledger.identity import public_key
from medledger.types import RecordCategory
from medledger.vault import (
    Delivery, ReadNotConfirmed, ReadRefused, ReadRequest, TamperedRecord, Vault, VaultError, open_delivery,
)  # fmt: skip
from tests.helpers import register, until

LAB_REPORT = b"HbA1c 6.1 %; creatinine 0.9 mg/dL"  # stands for a FHIR bundle; never leaves the vault in clear
LABS = RecordCategory.LABS
PATIENT_KEY, HOSPITAL_KEY, CLINIC_KEY, DOCTOR_KEY, CUSTODIAN_KEY = (bytes([n]) * 32 for n in (11, 12, 13, 14, 15))


@pytest.fixture
def vault(tmp_path) -> Vault:
    return Vault(tmp_path / "vault", custodian_key=CUSTODIAN_KEY)


@pytest.fixture
def lab_record(world, ml, actors, patient, vault):
    """A lab record sealed for the patient and the hospital, anchored by the hospital (write grant)."""
    ml.patient.consent.grant(patient, actors.hospital.address, ["labs"], write_categories=["labs"],
                             valid_until=until(world))  # fmt: skip
    for ledger, key in ((ml.hospital, HOSPITAL_KEY), (ml.clinic, CLINIC_KEY), (ml.doctor, DOCTOR_KEY)):
        ledger.patients.publish_encryption_key(public_key(key))
    sealed = vault.seal(LAB_REPORT, patient, LABS, {patient: public_key(PATIENT_KEY),
                                                     actors.hospital.address: public_key(HOSPITAL_KEY)})  # fmt: skip
    ml.hospital.records.anchor(patient, LABS, sealed.record, sealed.uri)
    return sealed.record


@pytest.fixture
def logged_request(vault):
    """Log ``ledger``'s read of ``record`` on chain and sign the request to ``vault``."""

    def request(ledger, record: bytes, to: Vault | None = None) -> ReadRequest:
        read = ledger.access.log_read(record)
        return ReadRequest.sign(ledger.signer, record, read.receipt.tx_hash, ledger.transactor.chain_id,
                                (to or vault).id)  # fmt: skip

    return request


def test_a_grantee_reads_after_logging_and_decrypts(ml, patient, vault, lab_record, logged_request):
    delivery = vault.serve(logged_request(ml.hospital, lab_record), ml.outsider)
    assert open_delivery(delivery, HOSPITAL_KEY, patient, LABS) == LAB_REPORT
    assert LAB_REPORT not in vault.ciphertext(lab_record)


def test_the_patient_reads_its_own_record(ml, patient, vault, lab_record, logged_request):
    delivery = vault.serve(logged_request(ml.patient, lab_record), ml.outsider)
    assert open_delivery(delivery, PATIENT_KEY, patient, LABS) == LAB_REPORT


def test_a_read_that_skips_the_log_gets_nothing(ml, actors, vault, lab_record):
    other_tx = ml.hospital.patients.publish_encryption_key(public_key(HOSPITAL_KEY)).tx_hash
    request = ReadRequest.sign(ml.hospital.signer, lab_record, other_tx, ml.hospital.transactor.chain_id, vault.id)
    with pytest.raises(ReadRefused, match="no access-log entry"):
        vault.serve(request, ml.outsider)


def test_one_logged_read_serves_once(ml, vault, lab_record, logged_request):
    request = logged_request(ml.hospital, lab_record)
    vault.serve(request, ml.outsider)
    with pytest.raises(ReadRefused, match="already used"):
        vault.serve(request, ml.outsider)


def test_another_readers_log_entry_is_refused(ml, actors, vault, lab_record, logged_request):
    hospital_request = logged_request(ml.hospital, lab_record)
    stolen = ReadRequest.sign(ml.outsider.signer, lab_record, hospital_request.log_tx, hospital_request.chain_id,
                              vault.id)  # fmt: skip
    with pytest.raises(ReadRefused, match="no access-log entry"):
        vault.serve(stolen, ml.outsider)
    forged = dataclasses.replace(stolen, reader=actors.hospital.address)  # claims to be the hospital
    with pytest.raises(ReadRefused, match="not signed by the reader"):
        vault.serve(forged, ml.outsider)


def test_access_revoked_after_the_log_is_refused(ml, actors, patient, vault, lab_record, logged_request):
    request = logged_request(ml.hospital, lab_record)
    ml.patient.consent.revoke(patient, actors.hospital.address)
    with pytest.raises(ReadRefused, match="access has ended"):
        vault.serve(request, ml.outsider)


def test_an_old_log_entry_is_refused(world, ml, tmp_path, lab_record, vault, logged_request):
    request = logged_request(ml.hospital, lab_record)
    strict = Vault(vault.root, custodian_key=CUSTODIAN_KEY, max_log_age=60)
    world.chain.advance_time(120)
    with pytest.raises(ReadRefused, match="older than"):
        strict.serve(request, ml.outsider)


def test_a_log_entry_misstating_the_category_is_refused(ml, patient, vault, lab_record):
    ml.patient.consent.grant(patient, ml.doctor.signer.address, ["imaging"], valid_until=2**39)
    function = ml.doctor.consent.contract.functions.logAccess(patient, lab_record, int(RecordCategory.IMAGING))
    receipt = ml.doctor.transactor.send(function, ml.doctor.signer)
    request = ReadRequest.sign(ml.doctor.signer, lab_record, receipt.tx_hash, ml.doctor.transactor.chain_id, vault.id)
    with pytest.raises(ReadRefused, match="another patient or category"):
        vault.serve(request, ml.outsider)


def test_a_referred_institution_gets_the_key_wrapped_by_the_custodian(
    world, ml, actors, patient, vault, lab_record, logged_request
):
    end = until(world)
    ml.patient.consent.grant(patient, actors.doctor.address, ["labs"], valid_until=end, referral_allowed=True)
    ml.doctor.consent.refer(patient, world.people.clinic.address, ["labs"], valid_until=end)
    delivery = vault.serve(logged_request(ml.clinic, lab_record), ml.outsider)
    assert open_delivery(delivery, CLINIC_KEY, patient, LABS) == LAB_REPORT
    assert world.people.clinic.address in vault.holders(lab_record)


def test_without_a_custodian_an_unshared_reader_is_told_to_ask_the_patient(
    world, ml, actors, patient, vault, lab_record, logged_request
):
    plain = Vault(vault.root)  # same files, no custodian key
    ml.doctor.access.open_break_glass(patient, reason_code=1, duration=600)
    with pytest.raises(VaultError, match="ask the patient"):
        plain.serve(logged_request(ml.doctor, lab_record, plain), ml.outsider)


def test_break_glass_reads_through_the_custodian(world, ml, actors, patient, vault, lab_record, logged_request):
    ml.doctor.access.open_break_glass(patient, reason_code=1, duration=600)
    delivery = vault.serve(logged_request(ml.doctor, lab_record), ml.outsider)
    assert open_delivery(delivery, DOCTOR_KEY, patient, LABS) == LAB_REPORT


def test_sharing_rewraps_the_key_without_reencrypting(ml, actors, patient, vault, lab_record, logged_request):
    before = vault.ciphertext(lab_record)
    vault.share(lab_record, patient, PATIENT_KEY, actors.doctor.address, public_key(DOCTOR_KEY))
    assert vault.ciphertext(lab_record) == before
    ml.patient.consent.grant(patient, actors.doctor.address, ["labs"], valid_until=2**39)
    plain = Vault(vault.root)
    delivery = plain.serve(logged_request(ml.doctor, lab_record, plain), ml.outsider)
    assert open_delivery(delivery, DOCTOR_KEY, patient, LABS) == LAB_REPORT


def test_share_needs_the_holders_key(actors, patient, vault, lab_record):
    with pytest.raises(TamperedRecord):
        vault.share(lab_record, patient, HOSPITAL_KEY, actors.doctor.address, public_key(DOCTOR_KEY))
    with pytest.raises(VaultError, match="no key"):
        vault.share(lab_record, actors.outsider.address, HOSPITAL_KEY, actors.doctor.address, public_key(DOCTOR_KEY))


def test_a_tampered_ciphertext_fails_loudly(ml, patient, vault, lab_record, logged_request):
    delivery = vault.serve(logged_request(ml.hospital, lab_record), ml.outsider)
    flipped = bytearray(delivery.ciphertext)
    flipped[-1] ^= 1
    with pytest.raises(TamperedRecord, match="does not hash"):
        open_delivery(dataclasses.replace(delivery, ciphertext=bytes(flipped)), HOSPITAL_KEY, patient, LABS)
    import hashlib

    rehashed = Delivery(hashlib.sha256(bytes(flipped)).digest(), bytes(flipped), delivery.wrapped_key)
    with pytest.raises(TamperedRecord, match="AES-GCM"):
        open_delivery(rehashed, HOSPITAL_KEY, patient, LABS)


def test_a_record_opened_as_another_patients_fails(ml, actors, patient, vault, lab_record, logged_request):
    delivery = vault.serve(logged_request(ml.hospital, lab_record), ml.outsider)
    with pytest.raises(TamperedRecord, match="AES-GCM"):
        open_delivery(delivery, HOSPITAL_KEY, actors.outsider.address, LABS)
    with pytest.raises(TamperedRecord, match="wrapped key"):
        open_delivery(delivery, CLINIC_KEY, patient, LABS)


def test_read_requests_survive_a_json_round_trip_and_reject_junk(ml, lab_record):
    request = ReadRequest.sign(ml.hospital.signer, lab_record, "0x" + "ab" * 32, 1, "vault-1")
    assert ReadRequest.from_json(request.to_json()) == request
    with pytest.raises(VaultError, match="malformed"):
        ReadRequest.from_json('{"record": "0x12"}')


def test_an_unknown_record_is_not_served(ml, vault):
    request = ReadRequest.sign(ml.hospital.signer, b"\x01" * 32, "0x" + "ab" * 32, 1, vault.id)
    with pytest.raises(VaultError, match="not in this vault"):
        vault.serve(request, ml.outsider)
    assert issubclass(VaultError, errors.MedLedgerError)


def test_a_record_anchored_first_by_someone_else_is_not_served(world, ml, actors, patient, vault, logged_request):
    """A stranger who sees a sealed record's hash (say in a pending transaction) and anchors it as its
    own record gets basis `patient` on chain, but the vault knows whom it sealed the record for."""
    ml.patient.consent.grant(patient, actors.hospital.address, ["labs"], write_categories=["labs"],
                             valid_until=until(world))  # fmt: skip
    sealed = vault.seal(LAB_REPORT, patient, LABS, {patient: public_key(PATIENT_KEY)})
    register(ml.outsider, 77)
    ml.outsider.records.anchor(ml.outsider.signer.address, LABS, sealed.record, "vault://squat")
    with pytest.raises(ReadRefused, match="another patient or category than it was sealed for"):
        vault.serve(logged_request(ml.outsider, sealed.record), ml.outsider)


def test_the_same_entry_spelled_differently_is_still_served_once(ml, vault, lab_record, logged_request):
    request = logged_request(ml.hospital, lab_record)
    vault.serve(request, ml.outsider)
    bare = ReadRequest.sign(ml.hospital.signer, lab_record, request.log_tx.removeprefix("0x").upper(),
                            request.chain_id, vault.id)  # fmt: skip
    with pytest.raises(ReadRefused, match="already used"):
        vault.serve(bare, ml.outsider)


def test_a_request_for_another_vault_is_refused(ml, tmp_path, vault, lab_record, logged_request):
    other = Vault(tmp_path / "replica")
    request = logged_request(ml.hospital, lab_record, other)
    with pytest.raises(ReadRefused, match="for vault"):
        vault.serve(request, ml.outsider)


def test_a_dev_chain_serves_at_once_by_default_and_counts_blocks_when_asked(world, ml, vault, lab_record, logged_request):
    """0 confirmations by default on every local chain; a setting counts blocks, even where the node
    (eth-tester, ganache) calls its latest block finalized."""
    assert vault.required_confirmations(ml.hospital.w3) == 0
    strict = Vault(vault.root, custodian_key=CUSTODIAN_KEY, confirmations=1)
    request = logged_request(ml.hospital, lab_record, strict)
    with pytest.raises(ReadNotConfirmed, match="0 of 1 confirmations, retry"):
        strict.serve(request, ml.outsider)
    world.chain.advance_time(1)  # mines a block on top of the read
    strict.serve(request, ml.outsider)
