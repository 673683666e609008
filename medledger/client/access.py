"""Sub-client for access: break-glass sessions and their limits (ConsentManager), logged reads and
the access history (RecordRegistry)."""

from __future__ import annotations

from dataclasses import dataclass

from medledger.client.base import SubClient, bytes32, checksum, uint
from medledger.transactions import Receipt
from medledger.types import AccessBasis, Purpose, RecordCategory


@dataclass(frozen=True)
class BreakGlassSession:
    patient: str
    practitioner: str
    opened_at: int  # unix seconds; 0 if never opened
    until: int  # end (exclusive)
    reason_code: int

    def open_at(self, timestamp: int) -> bool:
        return self.until > timestamp


@dataclass(frozen=True)
class BreakGlassPolicy:
    max_duration: int  # seconds
    window: int  # seconds
    max_sessions_per_window: int


@dataclass(frozen=True)
class BreakGlassUsage:
    window_start: int
    sessions: int


@dataclass(frozen=True)
class LoggedRead:
    record: bytes
    basis: AccessBasis
    purpose: Purpose
    receipt: Receipt


@dataclass(frozen=True)
class AccessEntry:
    """One logged read, from the access log."""

    record: bytes
    patient: str
    reader: str
    category: RecordCategory
    basis: AccessBasis
    purpose: Purpose
    block_number: int
    log_index: int
    tx_hash: str
    timestamp: int
    # Whether the record is anchored for this patient and category. logAccess takes the reader's
    # word for them (the vault checks before serving), so an entry that misstates them shows here.
    matches_record: bool

    @property
    def break_glass(self) -> bool:
        return self.basis is AccessBasis.BREAK_GLASS


@dataclass(frozen=True)
class BreakGlassEvent:
    """A break-glass session opened or closed early, for patients and regulators."""

    kind: str  # "opened" or "closed"
    patient: str
    practitioner: str
    by: str  # who opened or closed it
    reason_code: int | None
    until: int | None
    block_number: int
    log_index: int
    tx_hash: str
    timestamp: int


class AccessClient(SubClient):
    contract_name = "ConsentManager"

    def open_break_glass(self, patient: str, *, reason_code: int, duration: int) -> Receipt:
        """The signing licensed practitioner opens emergency access to ``patient`` for ``duration`` seconds."""
        return self._send(
            "openBreakGlass",
            checksum(patient, "patient"),
            uint(reason_code, 16, "reason code"),
            uint(duration, 40, "duration"),
        )

    def close_break_glass(self, patient: str, practitioner: str) -> Receipt:
        """End a session early (the patient, a delegate, the practitioner or a regulator)."""
        return self._send("closeBreakGlass", checksum(patient, "patient"), checksum(practitioner, "practitioner"))

    def set_break_glass_policy(self, *, max_duration: int, window: int, max_sessions_per_window: int) -> Receipt:
        """Set the break-glass limits (consortium admin)."""
        return self._send(
            "setBreakGlassPolicy",
            uint(max_duration, 40, "maximum duration"),
            uint(window, 40, "window"),
            uint(max_sessions_per_window, 16, "sessions per window"),
        )

    def break_glass_session(self, patient: str, practitioner: str) -> BreakGlassSession:
        patient, practitioner = checksum(patient, "patient"), checksum(practitioner, "practitioner")
        opened_at, until, reason = self._call("breakGlassSession", patient, practitioner)
        return BreakGlassSession(patient, practitioner, int(opened_at), int(until), int(reason))

    def break_glass_policy(self) -> BreakGlassPolicy:
        max_duration, window, sessions = self._call("breakGlassPolicy")
        return BreakGlassPolicy(int(max_duration), int(window), int(sessions))

    def break_glass_usage(self, practitioner: str) -> BreakGlassUsage:
        window_start, sessions = self._call("breakGlassUsage", checksum(practitioner, "practitioner"))
        return BreakGlassUsage(int(window_start), int(sessions))

    # ─── The access log ──────────────────────────────────────────────────────────────────

    def log_read(self, record_hash: bytes | str) -> LoggedRead:
        """Log that the signer reads an anchored record (before the vault serves it).

        The record's patient and category are read from RecordRegistry, so the entry names them
        truly; raises :class:`RecordNotFound` for an unknown record and :class:`AccessDenied`
        without access."""
        record = bytes32(record_hash, "record hash")
        patient, category = self._ledger.records.owner_of(record)
        receipt = self._send("logAccess", patient, record, int(category))
        (event,) = self.contract.events.RecordAccessed().process_receipt(receipt.raw)
        return LoggedRead(record, AccessBasis(event["args"]["basis"]), Purpose(event["args"]["purpose"]), receipt)

    def logged_read(self, tx_hash: str, record_hash: bytes | str) -> LoggedRead:
        """The signer's read of ``record_hash`` that transaction ``tx_hash`` logged, to present it to
        the vault again (say once it is confirmed) instead of logging another read."""
        from web3.logs import DISCARD

        from medledger.errors import InvalidInput
        from medledger.transactions import translate

        record = bytes32(record_hash, "record hash")
        tx = "0x" + bytes32(tx_hash, "access-log transaction hash").hex()
        reader = self._ledger.require_signer().address
        try:
            raw = self._ledger.w3.eth.get_transaction_receipt(tx)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - TransactionNotFound and node failures alike
            raise InvalidInput(f"the access-log transaction {tx} was not found ({translate(exc)})") from None
        for event in self.contract.events.RecordAccessed().process_receipt(raw, errors=DISCARD):
            args = event["args"]
            ours = str(event["address"]).lower() == self.contract.address.lower()
            if ours and bytes(args["record"]) == record and str(args["reader"]).lower() == reader.lower():
                receipt = Receipt(tx, int(raw["blockNumber"]), int(raw["gasUsed"]), raw)
                return LoggedRead(record, AccessBasis(args["basis"]), Purpose(args["purpose"]), receipt)
        raise InvalidInput(f"transaction {tx} logs no read of record 0x{record.hex()} by {reader}")

    def history(self, patient: str | None = None, *, reader: str | None = None, from_block: int = 0) -> list[AccessEntry]:
        """Logged reads of ``patient``'s records (or by ``reader``), oldest first."""
        anchored: dict[bytes, tuple[str, RecordCategory] | None] = {}

        def matches(record: bytes, patient_address: str, category: RecordCategory) -> bool:
            if record not in anchored:
                found = self._ledger.records.get(record)
                anchored[record] = (found.patient.lower(), found.category) if found.exists else None
            return anchored[record] == (patient_address.lower(), category)

        filters = {}
        if patient is not None:
            filters["patient"] = checksum(patient, "patient")
        if reader is not None:
            filters["reader"] = checksum(reader, "reader")
        return [
            AccessEntry(
                record=bytes(log["args"]["record"]),
                patient=str(log["args"]["patient"]),
                reader=str(log["args"]["reader"]),
                category=RecordCategory(log["args"]["category"]),
                basis=AccessBasis(log["args"]["basis"]),
                purpose=Purpose(log["args"]["purpose"]),
                block_number=int(log["blockNumber"]),
                log_index=int(log["logIndex"]),
                tx_hash=log["transactionHash"].to_0x_hex(),
                timestamp=self.block_time(int(log["blockNumber"])),
                matches_record=matches(
                    bytes(log["args"]["record"]), str(log["args"]["patient"]), RecordCategory(log["args"]["category"])
                ),
            )
            for log in self._events("RecordAccessed", filters, from_block)
        ]

    def break_glass_events(self, patient: str | None = None, from_block: int = 0) -> list[BreakGlassEvent]:
        """Break-glass sessions opened and closed, for one patient or (regulator's view) everyone."""
        filters = {"patient": checksum(patient, "patient")} if patient is not None else {}
        found: list[BreakGlassEvent] = []
        for log in self._events("BreakGlassOpened", filters, from_block):
            args = log["args"]
            found.append(BreakGlassEvent(
                "opened", str(args["patient"]), str(args["practitioner"]), str(args["practitioner"]),
                int(args["reasonCode"]), int(args["until"]), int(log["blockNumber"]), int(log["logIndex"]),
                log["transactionHash"].to_0x_hex(), self.block_time(int(log["blockNumber"])),
            ))  # fmt: skip
        for log in self._events("BreakGlassClosed", filters, from_block):
            args = log["args"]
            found.append(BreakGlassEvent(
                "closed", str(args["patient"]), str(args["practitioner"]), str(args["by"]), None, None,
                int(log["blockNumber"]), int(log["logIndex"]), log["transactionHash"].to_0x_hex(),
                self.block_time(int(log["blockNumber"])),
            ))  # fmt: skip
        return sorted(found, key=lambda event: (event.block_number, event.log_index))

