"""Grants and break-glass sessions as HL7 FHIR R4 ``Consent`` resources, prescriptions as
``MedicationRequest`` resources.

A hospital system reads consents and prescriptions in the format it already speaks. Consent (DESIGN.md):
scope patient-privacy; category LOINC 59284-0 (patient consent); patient and actor referenced
by wallet as a CAIP-10 account id (``eip155:<chain>:<address>``), never by name; provision type
permit with the grant's period; purpose from the v3 ActReason code of the grant's purpose
(break-glass: ETREAT); class from the FHIR resource types of each category, code from medledger's
category code system, and a security label for the sensitive categories; write permission as a
nested provision with action ``correct``.

MedicationRequest: id ``rx-<id>``; identifier the prescription's place on chain
(``eip155:<chain>:<registry>/<id>``) and, when one was anchored, the hash of the prescription
document; intent ``order``; the medicine as a GS1 GTIN-14 code; subject (patient) and requester
(prescriber) by wallet, never by name; ``dispenseRequest`` with the quantity per fill in packs
(UCUM annotation ``{pack}``: one unit is one serialised pack), ``numberOfRepeatsAllowed`` the
refills (fills after the first, FHIR's "repeats") and ``validityPeriod`` from issue to expiry.
The status is read at a given time, since the chain only stores ACTIVE or CANCELLED:
cancelled → ``cancelled``; every fill made → ``completed`` (all the order asked for happened,
even if it has expired since); expired with fills left → ``stopped`` (ended before all its
fills; R4 has no "expired" status, and ``completed`` would claim fills that never happened);
otherwise ``active``.

Resources are validated with ``fhir.resources``' R4B models before they are returned: R4B's
Consent is R4's (fhir.resources ships no separate R4 package since 7.0).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.medicationrequest import MedicationRequest

from medledger.client.products import format_gtin
from medledger.errors import InvalidInput
from medledger.types import PrescriptionStatus, Purpose, RecordCategory

if TYPE_CHECKING:
    from medledger.client.access import BreakGlassSession
    from medledger.client.consent import Grant
    from medledger.client.prescriptions import Prescription

ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_ACTION = "http://terminology.hl7.org/CodeSystem/consentaction"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"
LOINC = "http://loinc.org"
#: medledger's code systems: record categories, and wallet identifiers (CAIP-10 account ids).
CATEGORY_SYSTEM = "https://medledger.org/fhir/CodeSystem/record-category"
WALLET_SYSTEM = "https://medledger.org/fhir/sid/wallet"
#: Prescriptions by their place on chain, and prescription documents by their 32-byte hash (hex).
PRESCRIPTION_SYSTEM = "https://medledger.org/fhir/sid/prescription"
DOCUMENT_SYSTEM = "https://medledger.org/fhir/sid/document-hash"
#: A prescription's salted commitment to its patient's wallet, for a reader without the patient's slip.
PATIENT_COMMITMENT_SYSTEM = "https://medledger.org/fhir/sid/patient-commitment"
GTIN_SYSTEM = "https://www.gs1.org/gtin"
UCUM = "http://unitsofmeasure.org"
BREAK_GLASS_POLICY = "https://medledger.org/fhir/policy/break-glass"

#: v3 ActReason purpose-of-use code of each purpose.
PURPOSE_CODES: dict[Purpose, str] = {
    Purpose.TREATMENT: "TREAT",
    Purpose.REFERRAL: "COC",
    Purpose.INSURANCE: "HPAYMT",
    Purpose.RESEARCH: "HRESCH",
    Purpose.EMERGENCY: "ETREAT",
    Purpose.PATIENT_REQUEST: "PATRQT",
    Purpose.PUBLIC_HEALTH: "PUBHLTH",
    Purpose.OPERATIONS: "HOPERAT",
}

#: FHIR resource types that hold each category's data (provision.class).
CATEGORY_RESOURCES: dict[RecordCategory, tuple[str, ...]] = {
    RecordCategory.SUMMARY: ("Composition", "Condition", "AllergyIntolerance"),
    RecordCategory.LABS: ("Observation", "DiagnosticReport"),
    RecordCategory.IMAGING: ("ImagingStudy", "DiagnosticReport"),
    RecordCategory.MEDICATIONS: ("MedicationRequest", "MedicationDispense", "MedicationStatement"),
    RecordCategory.CLINICAL_NOTES: ("DocumentReference",),
    RecordCategory.GENOMICS: ("MolecularSequence", "Observation"),
    RecordCategory.MENTAL_HEALTH: ("Condition", "Observation"),
    RecordCategory.SEXUAL_HEALTH: ("Condition", "Observation"),
    RecordCategory.SUBSTANCE_USE: ("Condition", "Observation"),
    RecordCategory.IMMUNIZATIONS: ("Immunization",),
    RecordCategory.PROCEDURES: ("Procedure",),
    RecordCategory.DOCUMENTS: ("DocumentReference",),
}

#: v3 ActCode sensitivity labels of the sensitive categories (provision.securityLabel).
SENSITIVITY: dict[RecordCategory, str] = {
    RecordCategory.GENOMICS: "GDIS",
    RecordCategory.MENTAL_HEALTH: "PSY",
    RecordCategory.SEXUAL_HEALTH: "SEX",
    RecordCategory.SUBSTANCE_USE: "ETH",
}


def wallet_reference(chain_id: int, address: str) -> dict[str, Any]:
    return {"identifier": {"system": WALLET_SYSTEM, "value": f"eip155:{chain_id}:{address}"}}


def _instant(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _coding(system: str, code: str) -> dict[str, str]:
    return {"system": system, "code": code}


def _categories(categories: list[RecordCategory]) -> dict[str, Any]:
    resources = sorted({r for c in categories for r in CATEGORY_RESOURCES[c]})
    section: dict[str, Any] = {
        "class": [_coding(RESOURCE_TYPES, r) for r in resources],
        "code": [{"coding": [_coding(CATEGORY_SYSTEM, c.name.lower().replace("_", "-"))]} for c in categories],
    }
    labels = [_coding(ACT_CODE, SENSITIVITY[c]) for c in categories if c in SENSITIVITY]
    if labels:
        section["securityLabel"] = labels
    return section


def _consent(
    *, status: str, chain_id: int, patient: str, actor: str, start: int | None, end: int, purpose: Purpose,
    categories: list[RecordCategory], rule: dict[str, Any], extra: dict[str, Any] | None = None,
    date_time: int | None = None, performer: str | None = None, resource_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    period = {"end": _instant(end)} if start is None else {"start": _instant(start), "end": _instant(end)}
    provision: dict[str, Any] = {
        "type": "permit",
        "period": period,
        "actor": [{
            "role": {"coding": [_coding(PARTICIPATION, "IRCP")]},  # information recipient
            "reference": wallet_reference(chain_id, actor),
        }],  # fmt: skip
        "action": [{"coding": [_coding(CONSENT_ACTION, "access")]}],
        "purpose": [_coding(ACT_REASON, PURPOSE_CODES[purpose])],
        **_categories(categories),
        **(extra or {}),
    }
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "status": status,
        "scope": {"coding": [_coding(CONSENT_SCOPE, "patient-privacy")]},
        "category": [{"coding": [_coding(LOINC, "59284-0")]}],
        "patient": wallet_reference(chain_id, patient),
        **rule,
        "provision": provision,
    }
    if resource_id:
        resource["id"] = resource_id
    if date_time is not None:
        resource["dateTime"] = _instant(date_time)
    if performer is not None:
        resource["performer"] = [wallet_reference(chain_id, performer)]
    return validate(resource)


#: The FHIR models medledger exports, by resourceType.
MODELS: dict[str, Any] = {"Consent": Consent, "MedicationRequest": MedicationRequest}


def validate(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` checked against the FHIR model of its resourceType; the JSON a FHIR server accepts."""
    kind = resource.get("resourceType")
    model_class = MODELS.get(str(kind))
    if model_class is None:
        raise InvalidInput(f"medledger exports no FHIR {kind} (only {', '.join(MODELS)})")
    try:
        model = model_class.model_validate(resource)
    except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError, reported as our error
        raise InvalidInput(f"not a valid FHIR {kind}: {exc}") from None
    dumped: dict[str, Any] = model.model_dump(mode="json", exclude_none=True, by_alias=True)
    return dumped


def grant_consent(
    grant: Grant, chain_id: int, *, now: int, granted_at: int | None = None, granted_by: str | None = None
) -> dict[str, Any]:
    """A grant as a FHIR Consent; ``status`` is active while the grant's own terms hold at ``now``."""
    if not grant.exists:
        raise InvalidInput(f"{grant.patient} has no grant for {grant.grantee}")
    extra: dict[str, Any] = {}
    if grant.write_categories:
        extra["provision"] = [{
            "type": "permit",
            "action": [{"coding": [_coding(CONSENT_ACTION, "correct")]}],
            **_categories(grant.write_categories),
        }]  # fmt: skip
    return _consent(
        status="active" if grant.live_at(now) else "inactive",
        chain_id=chain_id, patient=grant.patient, actor=grant.grantee, start=granted_at, end=grant.valid_until,
        purpose=grant.purpose, categories=grant.categories,
        rule={"policyRule": {"coding": [_coding(ACT_CODE, "OPTIN")]}},
        extra=extra, date_time=granted_at, performer=granted_by,
        resource_id=f"grant-{grant.patient[2:10].lower()}-{grant.grantee[2:10].lower()}",
    )  # fmt: skip


def break_glass_consent(session: BreakGlassSession, chain_id: int, *, now: int) -> dict[str, Any]:
    """A break-glass session as a FHIR Consent under the consortium's emergency policy, purpose ETREAT."""
    if session.opened_at == 0:
        raise InvalidInput(f"{session.practitioner} never opened break-glass access to {session.patient}")
    return _consent(
        status="active" if session.open_at(now) else "inactive",
        chain_id=chain_id, patient=session.patient, actor=session.practitioner, start=session.opened_at,
        end=session.until, purpose=Purpose.EMERGENCY, categories=list(RecordCategory),
        rule={"policy": [{"uri": BREAK_GLASS_POLICY}]}, date_time=session.opened_at, performer=session.practitioner,
        resource_id=f"break-glass-{session.patient[2:10].lower()}-{session.practitioner[2:10].lower()}",
    )  # fmt: skip


def prescription_status(prescription: Prescription, now: int) -> str:
    """The FHIR medicationrequest-status of a prescription at ``now`` (see the module docstring)."""
    if prescription.status is PrescriptionStatus.CANCELLED:
        return "cancelled"
    if prescription.fills_left == 0:
        return "completed"
    return "active" if now < prescription.valid_until else "stopped"


def _dispense_request(prescription: Prescription, issued_at: int | None) -> dict[str, Any]:
    if prescription.quantity_per_fill <= 0:
        raise InvalidInput(f"prescription {prescription.id}: the quantity per fill must be positive for FHIR, "
                           f"not {prescription.quantity_per_fill}")  # fmt: skip
    validity = {"end": _instant(prescription.valid_until)}
    if issued_at is not None:
        validity = {"start": _instant(issued_at), **validity}
    return {
        "validityPeriod": validity,
        "numberOfRepeatsAllowed": prescription.refills,
        "quantity": {"value": prescription.quantity_per_fill, "unit": "pack", "system": UCUM, "code": "{pack}"},
    }


def medication_request(
    prescription: Prescription, *, chain_id: int, registry: str, now: int, patient_commitment: bytes,
    patient: str | None = None, issued_at: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A prescription as a FHIR MedicationRequest, its status read at ``now``; ``registry`` is the
    PrescriptionRegistry's address, ``issued_at`` the time of issue (authoredOn) when known. The
    subject is the patient's wallet when the caller knows it (from the patient's slip), otherwise
    the commitment the chain holds."""
    if not prescription.exists:
        raise InvalidInput(f"no prescription {prescription.id} was ever issued")
    identifiers = [{"use": "official", "system": PRESCRIPTION_SYSTEM,
                    "value": f"eip155:{chain_id}:{registry}/{prescription.id}"}]  # fmt: skip
    if any(prescription.document_hash):
        identifiers.append({"use": "secondary", "system": DOCUMENT_SYSTEM, "value": prescription.document_hash.hex()})
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": f"rx-{prescription.id}",
        "identifier": identifiers,
        "status": prescription_status(prescription, now),
        "intent": "order",
        "medicationCodeableConcept": {"coding": [_coding(GTIN_SYSTEM, format_gtin(prescription.gtin))]},
        "subject": wallet_reference(chain_id, patient) if patient else
                   {"identifier": {"system": PATIENT_COMMITMENT_SYSTEM, "value": "0x" + patient_commitment.hex()}},
        "requester": wallet_reference(chain_id, prescription.prescriber),
        "dispenseRequest": _dispense_request(prescription, issued_at),
    }
    if issued_at is not None:
        resource["authoredOn"] = _instant(issued_at)
    return validate(resource)
