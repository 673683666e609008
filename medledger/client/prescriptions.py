"""Sub-client of PrescriptionRegistry: issue, fill (with dispensing), cancel and list prescriptions.

The chain never sees the patient's wallet next to a prescription: it holds a commitment
``keccak256(abi.encode(wallet, salt))``. :meth:`PrescriptionsClient.issue` picks the salt and
returns it in a :class:`Slip`, which the prescriber hands to the patient (printed, or as a QR
code); whoever holds the slip can match the prescription, and nobody else can.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import keccak
from web3.logs import DISCARD

from medledger.client.base import SubClient, bytes32, checksum, uint
from medledger.client.batches import Alarm, serial_text
from medledger.client.products import parse_gtin
from medledger.keyfile import write_private
from medledger.errors import InvalidInput, PatientNotRegistered, SelfPrescription
from medledger.serials import MultiProof
from medledger.transactions import Receipt
from medledger.types import PrescriptionStatus, PrescriptionValidity, Suspicion


@dataclass(frozen=True)
class Prescription:
    id: int
    prescriber: str
    valid_until: int  # exclusive
    status: PrescriptionStatus
    refills: int  # fills allowed after the first
    fills: int  # fills made
    dispensed: int  # units dispensed over all fills
    gtin: int
    quantity_per_fill: int
    document_hash: bytes

    @property
    def exists(self) -> bool:
        return self.status is not PrescriptionStatus.NONE

    @property
    def fills_left(self) -> int:
        return max(0, 1 + self.refills - self.fills)


def patient_commitment(patient: str, salt: bytes) -> bytes:
    """``keccak256(abi.encode(patient, salt))``: what the chain holds instead of the patient's wallet."""
    return keccak(encode(["address", "bytes32"], [checksum(patient, "patient"), bytes32(salt, "salt")]))


@dataclass(frozen=True)
class Slip:
    """What the prescriber hands the patient with prescription ``id``: the wallet and salt that open
    its commitment. Kept off chain, by the patient (and shown to the pharmacy that fills it)."""

    id: int
    patient: str
    salt: bytes
    registry: str  # the PrescriptionRegistry's address
    chain_id: int

    @property
    def commitment(self) -> bytes:
        return patient_commitment(self.patient, self.salt)

    def as_json(self) -> dict[str, Any]:
        return {"prescription": self.id, "patient": self.patient, "salt": "0x" + self.salt.hex(),
                "commitment": "0x" + self.commitment.hex(), "registry": self.registry, "chain_id": self.chain_id}  # fmt: skip

    def write(self, path: Path) -> None:
        """Write the slip, mode 0600 (it opens the patient's commitment), replacing ``path`` atomically."""
        write_private(path, json.dumps(self.as_json(), indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> Slip:
        try:
            data = json.loads(path.read_text())
            return cls(int(data["prescription"]), checksum(str(data["patient"]), "patient"),
                       bytes32(str(data["salt"]), "salt"), str(data["registry"]), int(data["chain_id"]))  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"{path} is not a prescription slip ({exc})") from None


@dataclass(frozen=True)
class Issued:
    id: int
    receipt: Receipt
    slip: Slip  # hand it to the patient: without it nobody can tell whose prescription this is


@dataclass(frozen=True)
class Fill:
    """What a fill did: dispensed and counted, or raised a counterfeit alarm and changed nothing."""

    filled: bool
    alarm: Alarm | None
    receipt: Receipt


@dataclass(frozen=True)
class FillRecord:
    """One fill of a prescription, from its ``PrescriptionFilled`` event."""

    prescription_id: int
    pharmacy: str
    batch_id: bytes
    quantity: int
    fill: int
    block_number: int
    tx_hash: str


def _prescription(id_: int, fields: Any) -> Prescription:
    prescriber, valid_until, status, refills, fills, dispensed, gtin, per_fill, document = fields
    return Prescription(id_, str(prescriber), int(valid_until), PrescriptionStatus(status), int(refills), int(fills),
                        int(dispensed), int(gtin), int(per_fill), bytes(document))  # fmt: skip


class PrescriptionsClient(SubClient):
    contract_name = "PrescriptionRegistry"

    def issue(
        self,
        patient: str,
        gtin: str | int,
        *,
        quantity_per_fill: int,
        refills: int = 0,
        valid_until: int,
        document_hash: bytes | str = bytes(32),
        salt: bytes | None = None,
    ) -> Issued:
        """Prescribe product ``gtin`` for ``patient`` (the signer: a licensed practitioner).

        Only a salted commitment to ``patient`` goes on chain; the returned slip holds the salt
        (random unless given). The chain cannot check the patient, so this client does first: the
        patient must be registered (a view call) and not the prescriber."""
        wallet = checksum(patient, "patient")
        signer = self._ledger.require_signer().address
        if wallet == signer:
            raise SelfPrescription({"prescriber": signer}, message=f"{signer} may not prescribe for its own wallet")
        if not self._ledger.patients.is_registered(wallet):
            raise PatientNotRegistered({"patient": wallet}, message=f"{wallet} is not a registered patient")
        chosen = secrets.token_bytes(32) if salt is None else bytes32(salt, "salt")
        receipt = self._send(
            "issuePrescription",
            patient_commitment(wallet, chosen),
            parse_gtin(gtin),
            uint(quantity_per_fill, 32, "quantity per fill"),
            uint(refills, 8, "refills"),
            uint(valid_until, 40, "validity end"),
            bytes32(document_hash, "document hash"),
        )
        (event,) = self.contract.events.PrescriptionIssued().process_receipt(receipt.raw)
        number = int(event["args"]["id"])
        return Issued(number, receipt, Slip(number, wallet, chosen, self.address, int(self._ledger.w3.eth.chain_id)))

    def fill(
        self, prescription_id: int, batch: bytes | str, units: MultiProof, *, range_starts: list[int] | None = None
    ) -> Fill:
        """The signing pharmacy fills the prescription with ``units`` of ``batch``.

        Each unit goes with the first index of the custody range that holds it, which the chain
        checks; by default the client reads them from the chain (``range_starts`` overrides).
        A counterfeit alarm is not an exception: the transaction succeeds, records the alarm for
        the regulator and dispenses nothing; the result says so. A unit held by another member, or
        still in transit, is such an alarm (``HELD_BY_ANOTHER``).
        """
        key = bytes32(batch, "batch id")
        if range_starts is None:
            range_starts = self._ledger.batches.range_starts(key, [unit.index for unit in units.units])
        receipt = self._send(
            "fill",
            uint(prescription_id, 256, "prescription id"),
            key,
            [unit.as_tuple() for unit in units.units],
            ([uint(start, 64, "range start") for start in range_starts], units.proof, units.flags),
        )
        batches = self._ledger.batches.contract
        alarms = batches.events.CounterfeitSuspected().process_receipt(receipt.raw, errors=DISCARD)
        if alarms:
            args = alarms[0]["args"]
            alarm = Alarm(bytes(args["batchId"]), str(args["reporter"]), Suspicion(args["reason"]),
                          tuple(serial_text(s) for s in args["serials"]), receipt.block_number, receipt.tx_hash)  # fmt: skip
            return Fill(False, alarm, receipt)
        return Fill(True, None, receipt)

    def cancel(self, prescription_id: int, reason_code: int = 0) -> Receipt:
        """The signing prescriber cancels the prescription for good."""
        return self._send(
            "cancelPrescription", uint(prescription_id, 256, "prescription id"), uint(reason_code, 16, "reason code")
        )

    def set_specialty_requirement(self, gtin: str | int, specialty: int) -> Receipt:
        """A regulator restricts product ``gtin`` to prescribers certified in ``specialty`` (0 lifts it)."""
        return self._send("setSpecialtyRequirement", parse_gtin(gtin), uint(specialty, 64, "specialty"))

    # ─── Views ───────────────────────────────────────────────────────────────────────────

    def get(self, prescription_id: int) -> Prescription:
        number = uint(prescription_id, 256, "prescription id")
        return _prescription(number, self._call("prescription", number))

    def check(self, prescription_id: int) -> PrescriptionValidity:
        """Whether the prescription may be filled now, and if not why."""
        return PrescriptionValidity(self._call("check", uint(prescription_id, 256, "prescription id")))

    def is_licensed_pharmacy(self, account: str) -> bool:
        """Whether ``account`` may fill now: an active pharmacy member holding a valid accreditation."""
        return bool(self._call("isLicensedPharmacy", checksum(account, "account")))

    def can_prescribe(self, prescriber: str, gtin: str | int) -> bool:
        return bool(self._call("canPrescribe", checksum(prescriber, "prescriber"), parse_gtin(gtin)))

    def specialty_requirement(self, gtin: str | int) -> int:
        return int(self._call("specialtyRequirement", parse_gtin(gtin)))

    def count(self) -> int:
        return int(self._call("prescriptionCount"))

    def of_patient(self, patient: str, salts: Iterable[bytes], from_block: int = 0) -> list[Prescription]:
        """The patient's prescriptions among those whose slips' salts are given, oldest first, as
        they stand now (the chain cannot list them by wallet: only slips open the commitments)."""
        commitments = ["0x" + patient_commitment(patient, salt).hex() for salt in salts]
        if not commitments:
            return []
        logs = self._events("PrescriptionIssued", {"patientCommitment": commitments}, from_block)
        return [self.get(int(log["args"]["id"])) for log in logs]

    def patient_commitment(self, prescription_id: int) -> bytes:
        """The commitment to the patient's wallet that prescription ``prescription_id`` was issued with."""
        return bytes(self._issued_event(prescription_id)["args"]["patientCommitment"])

    def matches(self, prescription_id: int, patient: str, salt: bytes | str) -> bool:
        """Whether the prescription is for ``patient``, by the salt of its slip (what a pharmacy checks)."""
        return self.patient_commitment(prescription_id) == patient_commitment(patient, bytes32(salt, "salt"))

    def check_slip(self, slip: Slip) -> None:
        """Refuse a slip that does not open the prescription's commitment, names the prescriber as
        patient or an unregistered wallet (the checks the chain cannot make); None if it is sound."""
        if not self.matches(slip.id, slip.patient, slip.salt):
            raise InvalidInput(f"the slip does not match prescription {slip.id}: wrong patient or salt")
        found = self.get(slip.id)
        if slip.patient == found.prescriber:
            raise SelfPrescription({"prescriber": found.prescriber},
                                   message=f"prescription {slip.id} names its prescriber {found.prescriber} as patient")  # fmt: skip
        if not self._ledger.patients.is_registered(slip.patient):
            raise PatientNotRegistered({"patient": slip.patient}, message=f"{slip.patient} is not a registered patient")

    def medication_request(self, prescription_id: int, slip: Slip | None = None) -> dict[str, Any]:
        """The prescription as a FHIR R4 MedicationRequest resource (JSON), as it stands now. Its
        subject is the patient's wallet when the slip is given (and matches), else the commitment."""
        from medledger import fhir

        found = self.get(prescription_id)
        if not found.exists:
            raise InvalidInput(f"no prescription {prescription_id} was ever issued")
        issued = self._issued_event(prescription_id)
        commitment = bytes(issued["args"]["patientCommitment"])
        if slip is not None and (slip.id != prescription_id or slip.commitment != commitment):
            raise InvalidInput(f"the slip does not match prescription {prescription_id}: wrong patient or salt")
        return fhir.medication_request(found, chain_id=int(self._ledger.w3.eth.chain_id), registry=self.address,
                                       patient=slip.patient if slip else None, patient_commitment=commitment,
                                       issued_at=self.block_time(int(issued["blockNumber"])), now=self.block_time())  # fmt: skip

    def issued_at(self, prescription_id: int) -> int:
        """When the prescription was issued (its block's time)."""
        return self.block_time(int(self._issued_event(prescription_id)["blockNumber"]))

    def _issued_event(self, prescription_id: int) -> Any:
        logs = self._events("PrescriptionIssued", {"id": uint(prescription_id, 256, "prescription id")})
        if not logs:
            raise InvalidInput(f"no prescription {prescription_id} was ever issued")
        return logs[0]

    def by_prescriber(self, prescriber: str, from_block: int = 0) -> list[Prescription]:
        logs = self._events("PrescriptionIssued", {"prescriber": checksum(prescriber, "prescriber")}, from_block)
        return [self.get(int(log["args"]["id"])) for log in logs]

    def fills(self, prescription_id: int, from_block: int = 0) -> list[FillRecord]:
        """Every fill of the prescription, oldest first."""
        logs = self._events("PrescriptionFilled", {"id": uint(prescription_id, 256, "prescription id")}, from_block)
        return [
            FillRecord(int(log["args"]["id"]), str(log["args"]["pharmacy"]), bytes(log["args"]["batchId"]),
                       int(log["args"]["quantity"]), int(log["args"]["fill"]), int(log["blockNumber"]),
                       log["transactionHash"].to_0x_hex())  # fmt: skip
            for log in logs
        ]
