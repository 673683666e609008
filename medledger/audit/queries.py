"""What people ask an audit index: a patient's access history, break-glass for a regulator, a
batch's custody path, a practitioner's credential history; and exports of any answer.

Queries read the SQLite file only, so they work offline and answer in milliseconds; events are
decoded from their raw topics and data as they are read.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from medledger.audit.catalog import encode_topic
from medledger.errors import InvalidInput

if TYPE_CHECKING:
    from medledger.audit.catalog import Catalog
    from medledger.audit.store import Store

#: The events of a patient's access history (all carry an indexed ``patient``).
PATIENT_EVENTS = (
    "AccessGranted", "AccessRevoked", "PatientReferred", "BreakGlassOpened", "BreakGlassClosed",
    "RecordAccessed",
)  # fmt: skip
BREAK_GLASS_EVENTS = ("BreakGlassOpened", "BreakGlassClosed")
#: The events of a batch's custody path (all carry an indexed ``batchId``).
CUSTODY_EVENTS = (
    "BatchRegistered", "Shipped", "Received", "ShipmentCancelled", "BatchQuarantined", "BatchReleased",
    "BatchRecalled", "UnitsDispensed", "CounterfeitSuspected", "PrescriptionFilled",
)  # fmt: skip
CREDENTIAL_EVENTS = (
    "CredentialSuspended", "CredentialReinstated", "CredentialRevoked", "RegulatorHoldLifted",
    "CredentialIssuerReassigned",
)  # fmt: skip
EMPLOYMENT_EVENTS = ("EmploymentOffered", "EmploymentAccepted", "EmploymentEnded")

ExportFormat = Literal["csv", "json"]


@dataclass(frozen=True)
class AuditEvent:
    """One event of the suite as the index holds it, decoded."""

    block: int
    log_index: int
    time: int | None
    tx_hash: str
    contract: str
    event: str
    args: dict[str, Any]

    @property
    def break_glass(self) -> bool:
        """True for break-glass sessions and for reads made under one: what a regulator reviews."""
        return self.event in BREAK_GLASS_EVENTS or self.args.get("basis") == "break_glass"

    @property
    def iso_time(self) -> str:
        if self.time is None:
            return ""
        return datetime.fromtimestamp(self.time, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def as_dict(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "log_index": self.log_index,
            "time": self.iso_time,
            "tx_hash": self.tx_hash,
            "contract": self.contract,
            "event": self.event,
            "break_glass": self.break_glass,
            "args": self.args,
        }


class Queries:
    """Read side of :class:`medledger.audit.AuditIndex`."""

    store: Store
    catalog: Catalog

    def events(
        self,
        *names: str,
        where: dict[str, Any] | None = None,
        since: int | None = None,
        until: int | None = None,
        limit: int | None = None,
    ) -> list[AuditEvent]:
        """Events named ``names`` (all if none) whose indexed arguments equal ``where``'s values,
        in block times ``since..until`` (inclusive), oldest first."""
        clauses: list[str] = []
        parameters: list[Any] = []
        where = where or {}
        if names:
            alternatives = []
            for name in names:
                spec = self.catalog.spec(name)
                parts = ["e.event = ?"]
                parameters.append(name)
                for argument, value in where.items():
                    position = spec.topic_position(argument)
                    parts.append(f"e.topic{position} = ?")
                    parameters.append(encode_topic(spec.indexed[position - 1], value))
                alternatives.append("(" + " AND ".join(parts) + ")")
            clauses.append("(" + " OR ".join(alternatives) + ")")
        elif where:
            raise InvalidInput("filtering by an argument needs the event name(s) it belongs to")
        if since is not None:
            clauses.append("b.timestamp >= ?")
            parameters.append(int(since))
        if until is not None:
            clauses.append("b.timestamp <= ?")
            parameters.append(int(until))
        if limit is not None and limit < 1:
            raise InvalidInput(f"limit must be at least 1, got {limit}")
        rows = self.store.select(" AND ".join(clauses), tuple(parameters), limit)
        return [self._decode(row) for row in rows]

    def _decode(self, row: Any) -> AuditEvent:
        spec = self.catalog.by_name.get(row["event"])
        args = spec.decode([row["topic1"], row["topic2"], row["topic3"]], row["data"]) if spec else {}
        return AuditEvent(
            block=int(row["block_number"]),
            log_index=int(row["log_index"]),
            time=None if row["timestamp"] is None else int(row["timestamp"]),
            tx_hash="0x" + bytes(row["tx_hash"]).hex(),
            contract=str(row["contract"]),
            event=str(row["event"]),
            args=args,
        )

    def count(self) -> int:
        """How many events the index holds."""
        return self.store.count()

    # ─── the questions people ask ────────────────────────────────────────────────────────────

    def access_history(self, patient: str, *, since: int | None = None, until: int | None = None) -> list[AuditEvent]:
        """Everything that happened to ``patient``'s records: grants, revocations, referrals,
        break-glass sessions and every logged read."""
        return self.events(*PATIENT_EVENTS, where={"patient": patient}, since=since, until=until)

    def break_glass(
        self, *, patient: str | None = None, since: int | None = None, until: int | None = None
    ) -> list[AuditEvent]:
        """Break-glass sessions and the reads made under them, for a regulator's review."""
        where = {"patient": patient} if patient else None
        sessions = self.events(*BREAK_GLASS_EVENTS, "RecordAccessed", where=where, since=since, until=until)
        return [event for event in sessions if event.break_glass]

    def custody_path(self, batch_id: bytes | str) -> list[AuditEvent]:
        """A batch's life: registration, every shipment and receipt, dispensing, alarms, recalls."""
        return self.events(*CUSTODY_EVENTS, where={"batchId": batch_id})

    def credential_history(self, subject: str) -> list[AuditEvent]:
        """Every credential issued to ``subject``, what happened to each, and its employments."""
        issued = self.events("CredentialIssued", where={"subject": subject})
        changes = [
            event
            for credential in {e.args["id"] for e in issued}
            for event in self.events(*CREDENTIAL_EVENTS, where={"id": credential})
        ]
        employment = self.events(*EMPLOYMENT_EVENTS, where={"practitioner": subject})
        return sorted(issued + changes + employment, key=lambda e: (e.block, e.log_index))


def export(events: list[AuditEvent], fmt: ExportFormat) -> str:
    """``events`` as CSV (one row each, arguments as a JSON column) or as a JSON array."""
    if fmt == "json":
        return json.dumps([event.as_dict() for event in events], indent=2, sort_keys=True) + "\n"
    if fmt != "csv":
        raise InvalidInput(f"unknown export format {fmt!r}: use csv or json")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["block", "log_index", "time", "tx_hash", "contract", "event", "break_glass", "args"])
    for event in events:
        writer.writerow(
            [
                event.block, event.log_index, event.iso_time, event.tx_hash, event.contract, event.event,
                str(event.break_glass).lower(), json.dumps(event.args, sort_keys=True),
            ]
        )  # fmt: skip
    return out.getvalue()
