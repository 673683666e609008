"""Grants and break-glass sessions exported as FHIR R4 Consent resources, prescriptions as MedicationRequest."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.consent import Consent

from medledger import errors, fhir
from medledger.client.access import BreakGlassSession
from medledger.client.consent import Grant
from medledger.types import Purpose, RecordCategory

PATIENT = "0x" + "11" * 20
DOCTOR = "0x" + "22" * 20
GRANTED, ENDS = 1_800_000_000, 1_800_086_400


def grant(**changes) -> Grant:
    values = dict(
        patient=PATIENT, grantee=DOCTOR, categories=[RecordCategory.LABS, RecordCategory.MENTAL_HEALTH],
        write_categories=[RecordCategory.LABS], purpose=Purpose.TREATMENT, valid_until=ENDS,
        referral_allowed=False, referred_by=None,
    )  # fmt: skip
    values.update(changes)
    return Grant(**values)


def test_a_grant_maps_to_a_valid_consent():
    resource = fhir.grant_consent(grant(), 31337, now=GRANTED, granted_at=GRANTED, granted_by=PATIENT)
    Consent.model_validate(resource)  # a FHIR model accepts it as is
    assert resource["resourceType"] == "Consent" and resource["status"] == "active"
    assert resource["scope"]["coding"][0]["code"] == "patient-privacy"
    assert resource["patient"]["identifier"]["value"] == f"eip155:31337:{PATIENT}"
    provision = resource["provision"]
    assert provision["type"] == "permit"
    assert provision["period"] == {"start": "2027-01-15T08:00:00Z", "end": "2027-01-16T08:00:00Z"}
    assert provision["actor"][0]["reference"]["identifier"]["value"] == f"eip155:31337:{DOCTOR}"
    assert provision["purpose"] == [{"system": fhir.ACT_REASON, "code": "TREAT"}]
    assert [c["coding"][0]["code"] for c in provision["code"]] == ["labs", "mental-health"]
    assert {c["code"] for c in provision["class"]} >= {"Observation", "DiagnosticReport"}
    assert provision["securityLabel"] == [{"system": fhir.ACT_CODE, "code": "PSY"}]
    (write,) = provision["provision"]
    assert write["action"][0]["coding"][0]["code"] == "correct"
    assert [c["coding"][0]["code"] for c in write["code"]] == ["labs"]


@pytest.mark.parametrize("purpose, code", [(p, c) for p, c in fhir.PURPOSE_CODES.items()])
def test_every_purpose_has_its_act_reason_code(purpose, code):
    resource = fhir.grant_consent(grant(purpose=purpose, write_categories=[]), 1, now=GRANTED)
    assert resource["provision"]["purpose"][0]["code"] == code
    assert "provision" not in resource["provision"]  # no write permission, no nested provision


def test_an_expired_grant_is_inactive():
    assert fhir.grant_consent(grant(), 1, now=ENDS)["status"] == "inactive"


def test_a_missing_grant_cannot_be_exported():
    with pytest.raises(errors.InvalidInput, match="no grant"):
        fhir.grant_consent(grant(valid_until=0), 1, now=GRANTED)


def test_break_glass_maps_to_emergency_treatment_under_the_consortium_policy():
    session = BreakGlassSession(PATIENT, DOCTOR, GRANTED, GRANTED + 3600, 17)
    resource = fhir.break_glass_consent(session, 5, now=GRANTED + 10)
    Consent.model_validate(resource)
    assert resource["provision"]["purpose"][0]["code"] == "ETREAT"
    assert resource["policy"] == [{"uri": fhir.BREAK_GLASS_POLICY}]
    assert len(resource["provision"]["code"]) == len(RecordCategory)
    assert resource["status"] == "active"
    assert fhir.break_glass_consent(session, 5, now=GRANTED + 3600)["status"] == "inactive"
    with pytest.raises(errors.InvalidInput, match="never opened"):
        fhir.break_glass_consent(BreakGlassSession(PATIENT, DOCTOR, 0, 0, 0), 5, now=GRANTED)


def test_an_invalid_resource_is_rejected_with_the_reason():
    with pytest.raises(errors.InvalidInput, match="scope"):
        fhir.validate({"resourceType": "Consent", "status": "active"})


def test_every_category_maps_to_resource_types():
    assert set(fhir.CATEGORY_RESOURCES) == set(RecordCategory)


def test_a_live_grant_on_chain_exports(world, ml, actors, patient):
    end = world.chain.now() + 86400
    receipt = ml.patient.consent.grant(patient, actors.doctor.address, ["labs"], purpose="research", valid_until=end)
    exported = ml.outsider.consent.fhir_consent(patient, actors.doctor.address)
    assert exported["status"] == "active"
    assert exported["provision"]["purpose"][0]["code"] == "HRESCH"
    assert exported["performer"][0]["identifier"]["value"].endswith(patient)
    granted_at = ml.outsider.w3.eth.get_block(receipt.block_number)["timestamp"]
    assert exported["dateTime"] == fhir._instant(granted_at)


# ─── MedicationRequest ──────────────────────────────────────────────────────────────────────

REGISTRY = "0x" + "33" * 20
COMMITMENT = b"\xc0" * 32


def prescription(**changes):
    from medledger.client.prescriptions import Prescription
    from medledger.types import PrescriptionStatus

    values = dict(id=7, prescriber=DOCTOR, valid_until=ENDS, status=PrescriptionStatus.ACTIVE, refills=2, fills=0,
                  dispensed=0, gtin=9506000134352, quantity_per_fill=3, document_hash=b"\x05" * 32)  # fmt: skip
    values.update(changes)
    return Prescription(**values)


def test_a_prescription_maps_to_a_valid_medication_request():
    from fhir.resources.R4B.medicationrequest import MedicationRequest

    resource = fhir.medication_request(prescription(), chain_id=31337, registry=REGISTRY, now=GRANTED, issued_at=GRANTED,
                                       patient=PATIENT, patient_commitment=COMMITMENT)  # fmt: skip
    MedicationRequest.model_validate(resource)
    assert (resource["id"], resource["intent"], resource["status"]) == ("rx-7", "order", "active")
    request = resource["dispenseRequest"]
    assert request["quantity"]["value"] == 3 and request["numberOfRepeatsAllowed"] == 2
    assert request["validityPeriod"] == {"start": "2027-01-15T08:00:00Z", "end": "2027-01-16T08:00:00Z"}
    assert resource["medicationCodeableConcept"]["coding"][0] == {"system": "https://www.gs1.org/gtin",
                                                                  "code": "09506000134352"}  # fmt: skip
    assert resource["subject"]["identifier"]["value"] == f"eip155:31337:{PATIENT}"
    assert resource["requester"]["identifier"]["value"] == f"eip155:31337:{DOCTOR}"
    assert resource["identifier"][0]["value"] == f"eip155:31337:{REGISTRY}/7"
    assert resource["authoredOn"] == "2027-01-15T08:00:00Z"


def test_without_the_patients_slip_the_subject_is_the_commitment():
    from fhir.resources.R4B.medicationrequest import MedicationRequest

    resource = fhir.medication_request(prescription(), chain_id=1, registry=REGISTRY, now=GRANTED,
                                       patient_commitment=COMMITMENT)  # fmt: skip
    MedicationRequest.model_validate(resource)
    assert resource["subject"] == {"identifier": {"system": fhir.PATIENT_COMMITMENT_SYSTEM, "value": "0x" + "c0" * 32}}


@pytest.mark.parametrize("changes, now, status", [
    ({}, ENDS - 1, "active"),
    ({"fills": 3}, GRANTED, "completed"),
    ({"fills": 3}, ENDS + 1, "completed"),
    ({"fills": 1}, ENDS, "stopped"),
    ({"status": 2}, GRANTED, "cancelled"),
])  # fmt: skip
def test_the_status_is_read_at_a_time(changes, now, status):
    from medledger.types import PrescriptionStatus

    if "status" in changes:
        changes = {**changes, "status": PrescriptionStatus(changes["status"])}
    resource = fhir.medication_request(prescription(**changes), chain_id=1, registry=REGISTRY, now=now, patient_commitment=COMMITMENT)
    assert resource["status"] == status and "authoredOn" not in resource


def test_a_prescription_that_cannot_be_expressed_is_refused():
    from medledger.types import PrescriptionStatus

    with pytest.raises(errors.InvalidInput, match="quantity per fill"):
        fhir.medication_request(prescription(quantity_per_fill=0), chain_id=1, registry=REGISTRY, now=GRANTED,
                                patient_commitment=COMMITMENT)
    with pytest.raises(errors.InvalidInput, match="ever issued"):
        fhir.medication_request(prescription(status=PrescriptionStatus.NONE), chain_id=1, registry=REGISTRY, now=GRANTED,
                                patient_commitment=COMMITMENT)
