"""Sub-client of PrescriptionRegistry: issue, fill (with dispensing), cancel and list prescriptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3.logs import DISCARD

from medledger.client.base import SubClient, bytes32, checksum, uint
from medledger.client.batches import Alarm, serial_text
from medledger.client.products import parse_gtin
from medledger.errors import InvalidInput
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
    patient: str
    gtin: int
    quantity_per_fill: int
    document_hash: bytes

    @property
    def exists(self) -> bool:
        return self.status is not PrescriptionStatus.NONE

    @property
    def fills_left(self) -> int:
        return max(0, 1 + self.refills - self.fills)


@dataclass(frozen=True)
class Issued:
    id: int
    receipt: Receipt


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
    prescriber, valid_until, status, refills, fills, dispensed, patient, gtin, per_fill, document = fields
    return Prescription(id_, str(prescriber), int(valid_until), PrescriptionStatus(status), int(refills), int(fills),
                        int(dispensed), str(patient), int(gtin), int(per_fill), bytes(document))  # fmt: skip


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
    ) -> Issued:
        """Prescribe product ``gtin`` for ``patient`` (the signer: a licensed practitioner)."""
        receipt = self._send(
            "issuePrescription",
            checksum(patient, "patient"),
            parse_gtin(gtin),
            uint(quantity_per_fill, 32, "quantity per fill"),
            uint(refills, 8, "refills"),
            uint(valid_until, 40, "validity end"),
            bytes32(document_hash, "document hash"),
        )
        (event,) = self.contract.events.PrescriptionIssued().process_receipt(receipt.raw)
        return Issued(int(event["args"]["id"]), receipt)

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

    def can_prescribe(self, prescriber: str, gtin: str | int) -> bool:
        return bool(self._call("canPrescribe", checksum(prescriber, "prescriber"), parse_gtin(gtin)))

    def specialty_requirement(self, gtin: str | int) -> int:
        return int(self._call("specialtyRequirement", parse_gtin(gtin)))

    def count(self) -> int:
        return int(self._call("prescriptionCount"))

    def of_patient(self, patient: str, from_block: int = 0) -> list[Prescription]:
        """The patient's prescriptions, oldest first, as they stand now."""
        logs = self._events("PrescriptionIssued", {"patient": checksum(patient, "patient")}, from_block)
        return [self.get(int(log["args"]["id"])) for log in logs]

    def medication_request(self, prescription_id: int) -> dict[str, Any]:
        """The prescription as a FHIR R4 MedicationRequest resource (JSON), as it stands now."""
        from medledger import fhir

        found = self.get(prescription_id)
        if not found.exists:
            raise InvalidInput(f"no prescription {prescription_id} was ever issued")
        return fhir.medication_request(found, chain_id=int(self._ledger.w3.eth.chain_id), registry=self.address,
                                       issued_at=self.issued_at(prescription_id), now=self.block_time())  # fmt: skip

    def issued_at(self, prescription_id: int) -> int:
        """When the prescription was issued (its block's time)."""
        logs = self._events("PrescriptionIssued", {"id": uint(prescription_id, 256, "prescription id")})
        if not logs:
            raise InvalidInput(f"no prescription {prescription_id} was ever issued")
        return self.block_time(int(logs[0]["blockNumber"]))

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
