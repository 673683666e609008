"""Sub-client of BatchRegistry: register, ship, quarantine, release, recall and verify batches.

Custody is kept on chain per unit, as ranges of unit indices (a unit's index is its place in the
manufacturer's serial list, which keeps the packing order, so a case is a contiguous range). The
client picks ranges for the caller: ``ship`` takes the lowest range on the shipper's shelf that
holds the quantity, and ``fill`` names the range that holds each unit.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import Any

from eth_abi import encode
from eth_utils import keccak

from medledger.client.base import SubClient, bytes32, checksum, uint
from medledger.client.products import parse_gtin
from medledger.errors import InvalidInput, UnitsNotInRange
from medledger.transactions import Receipt
from medledger.serials import MultiProof, Unit
from medledger.types import BatchStatus, BatchValidity, PackVerdict, ShipmentStatus, Suspicion, UnitValidity

LOT_LIMIT = 20  # GS1 AI 10: a lot number has at most 20 characters
RANGE_PAGE = 256  # custody ranges read per call


def lot_bytes(lot: str) -> bytes:
    """A lot number as the left-aligned ``bytes20`` the contract takes."""
    text = lot.strip()
    raw = text.encode("ascii", errors="strict") if text.isascii() else b""
    if not raw or len(raw) > LOT_LIMIT or not text.isprintable():
        raise InvalidInput(f"lot {lot!r} must be 1 to {LOT_LIMIT} printable ASCII characters")
    return raw.ljust(20, b"\x00")


def expiry_date(expires_on: int) -> date:
    """The expiry date printed on a pack (GS1 AI 17) of a batch valid until ``expires_on``
    (exclusive): the UTC date of its last valid second."""
    return datetime.fromtimestamp(expires_on - 1, tz=timezone.utc).date()


def batch_id(gtin: str | int, lot: str) -> bytes:
    """``keccak256(abi.encode(gtin, lot))``, as BatchRegistry computes it."""
    return keccak(encode(["uint64", "bytes20"], [parse_gtin(gtin), lot_bytes(lot)]))


@dataclass(frozen=True)
class Batch:
    id: bytes
    manufacturer: str
    manufactured_on: int
    expires_on: int
    status: BatchStatus
    gtin: int
    quantity: int
    document_hash: bytes
    serial_root: bytes

    @property
    def exists(self) -> bool:
        return self.status is not BatchStatus.NONE


@dataclass(frozen=True)
class Holding:
    held: int
    in_transit: int
    dispensed: int


@dataclass(frozen=True)
class CustodyRange:
    """Custody of the units ``start`` to ``end - 1`` of a batch (indices in its serial list)."""

    start: int
    end: int
    holder: str  # the shipper while the range is in transit
    in_transit: bool

    @property
    def quantity(self) -> int:
        return self.end - self.start

    def __contains__(self, index: object) -> bool:
        return isinstance(index, int) and self.start <= index < self.end

    def on_shelf_of(self, holder: str) -> bool:
        """Whether ``holder`` has these units on its shelf (received, not in transit)."""
        return not self.in_transit and self.holder.lower() == holder.lower()

    @property
    def label(self) -> str:
        """The range as a slice of the serial list, ``start:end`` (end exclusive)."""
        return f"{self.start}:{self.end}"


@dataclass(frozen=True)
class Shipment:
    """A shipment by value: what the recipient receives and the shipper may cancel. It carries the
    units ``start`` to ``end - 1`` of the batch's serial list."""

    batch_id: bytes
    sender: str
    recipient: str
    start: int
    end: int
    sequence: int

    @property
    def quantity(self) -> int:
        return self.end - self.start

    def as_tuple(self) -> tuple[bytes, str, str, int, int, int]:
        return (self.batch_id, self.sender, self.recipient, self.start, self.end, self.sequence)

    @property
    def id(self) -> bytes:
        return keccak(encode(["(bytes32,address,address,uint64,uint64,uint64)"], [self.as_tuple()]))


def _shipment(fields: Any) -> Shipment:
    """A Shipment from the ``shipment`` struct of a ``Shipped`` event."""
    return Shipment(bytes(fields["batchId"]), str(fields["from"]), str(fields["to"]), int(fields["start"]),
                    int(fields["end"]), int(fields["sequence"]))  # fmt: skip


@dataclass(frozen=True)
class CustodyStep:
    """One event in a batch's life, as a custody table row (EPCIS-like business step)."""

    step: str  # commissioning, shipping, receiving, cancelled, dispensing, quarantined, released, recalled, suspect
    actor: str  # who did it
    counterparty: str | None  # the recipient of a shipment
    quantity: int | None
    reason_code: int | None  # a hold's or recall's reason code; a counterfeit alarm's Suspicion
    shipment_id: bytes | None
    block_number: int
    log_index: int
    tx_hash: str
    serials: tuple[str, ...] = ()  # units dispensed, or presented in a counterfeit alarm
    units: tuple[int, int] | None = None  # the range of unit indices [start, end) commissioned or moved


def _step(event: str, log: Any) -> CustodyStep:
    args = log["args"]
    place = (int(log["blockNumber"]), int(log["logIndex"]), log["transactionHash"].to_0x_hex())
    if event == "BatchRegistered":
        made = int(args["quantity"])
        return CustodyStep("commissioning", str(args["manufacturer"]), None, made, None, None, *place, units=(0, made))
    if event == "Shipped":
        shipment = _shipment(args["shipment"])
        return CustodyStep("shipping", shipment.sender, shipment.recipient, shipment.quantity, None,
                           bytes(args["shipmentId"]), *place, units=(shipment.start, shipment.end))  # fmt: skip
    if event == "Received":
        return CustodyStep("receiving", str(args["to"]), None, None, None, bytes(args["shipmentId"]), *place)
    if event == "ShipmentCancelled":
        return CustodyStep("cancelled", str(args["from"]), None, None, None, bytes(args["shipmentId"]), *place)
    if event in ("UnitsDispensed", "CounterfeitSuspected"):
        serials = tuple(serial_text(s) for s in args["serials"])
        if event == "UnitsDispensed":
            return CustodyStep("dispensing", str(args["pharmacy"]), None, len(serials), None, None, *place, serials)
        return CustodyStep("suspect", str(args["reporter"]), None, len(serials), int(args["reason"]), None, *place,
                           serials)  # fmt: skip
    kind = {"BatchQuarantined": "quarantined", "BatchReleased": "released", "BatchRecalled": "recalled"}[event]
    reason = int(args["reasonCode"]) if "reasonCode" in args else None
    return CustodyStep(kind, str(args["by"]), None, None, reason, None, *place)


def serial_text(raw: bytes) -> str:
    """A ``bytes20`` serial from the chain as text."""
    return bytes(raw).rstrip(b"\x00").decode("ascii", errors="replace")


@dataclass(frozen=True)
class Alarm:
    """A counterfeit alarm: who presented which serials of which batch, and why they failed."""

    batch_id: bytes
    reporter: str
    reason: Suspicion
    serials: tuple[str, ...]
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class PackCheck:
    """The answer to a pack in hand, with the batch its print names (None when unknown)."""

    verdict: PackVerdict
    batch: Batch | None
    proven_in: bytes | None  # the batch the serial is proven in, when it differs from the print


@dataclass(frozen=True)
class Shipped:
    shipment: Shipment
    receipt: Receipt


@dataclass(frozen=True)
class RegisteredBatch:
    id: bytes
    receipt: Receipt


class BatchesClient(SubClient):
    contract_name = "BatchRegistry"

    def register(
        self,
        gtin: str | int,
        lot: str,
        *,
        quantity: int,
        manufactured_on: int,
        expires_on: int,
        serial_root: bytes | str,
        document_hash: bytes | str = bytes(32),
    ) -> RegisteredBatch:
        """Register a batch of the signer's product; returns its id and the receipt."""
        receipt = self._send(
            "registerBatch",
            parse_gtin(gtin),
            lot_bytes(lot),
            uint(quantity, 64, "quantity"),
            uint(manufactured_on, 40, "manufacture date"),
            uint(expires_on, 40, "expiry date"),
            bytes32(document_hash, "document hash"),
            bytes32(serial_root, "serial root"),
        )
        return RegisteredBatch(batch_id(gtin, lot), receipt)

    # ─── Custody ─────────────────────────────────────────────────────────────────────────

    def ship(
        self, batch: bytes | str, to: str, quantity: int, *, start: int | None = None, range_start: int | None = None
    ) -> Shipped:
        """Ship ``quantity`` units from the signer's shelf to ``to``; returns the shipment to hand over.

        A shipment carries one range of units: those from index ``start`` on, or, by default, the
        first ``quantity`` units of the lowest range on the signer's shelf that holds that many.
        When the units are on the shelf but in several ranges, it says so and ships nothing
        (``ship_split`` sends one shipment per range). The client reads the batch's custody ranges
        to choose, unless both ``start`` and ``range_start`` (the first index of the range on the
        shelf that holds them) are given.
        """
        key = bytes32(batch, "batch id")
        number = uint(quantity, 64, "quantity")
        if start is None:
            if range_start is not None:
                raise InvalidInput("range_start names the range of a given start: give start too")
            shelf = self.ranges(key, holder=self._ledger.require_signer().address)
            chosen = next((r for r in shelf if r.quantity >= number), shelf[0] if shelf else None)
            first = range_start = chosen.start if chosen else 0
        else:
            first = uint(start, 64, "first unit index")
            if range_start is None:
                found = self.range_of(key, first)
                range_start = found.start if found else 0
        try:
            receipt = self._send("ship", key, checksum(to, "recipient"), first, number,
                                 uint(range_start, 64, "range start"))  # fmt: skip
        except UnitsNotInRange:
            raise InvalidInput(self._no_range_message(key, start, first, number)) from None
        (event,) = self.contract.events.Shipped().process_receipt(receipt.raw)
        return Shipped(_shipment(event["args"]["shipment"]), receipt)

    def ship_split(self, batch: bytes | str, to: str, quantity: int) -> list[Shipped]:
        """Ship ``quantity`` units to ``to`` in as many shipments as the signer's shelf has ranges
        to take them from, lowest first. Each shipment is its own transaction: if one fails, those
        before it stay in transit (the shipper may cancel them)."""
        key = bytes32(batch, "batch id")
        left = uint(quantity, 64, "quantity")
        shelf = self.ranges(key, holder=self._ledger.require_signer().address)
        if left == 0 or sum(r.quantity for r in shelf) < left:
            return [self.ship(key, to, left)]  # the chain names the problem (zero, or not enough stock)
        sent: list[Shipped] = []
        for piece in shelf:
            if left == 0:
                break
            taken = min(left, piece.quantity)
            sent.append(self.ship(key, to, taken, start=piece.start, range_start=piece.start))
            left -= taken
        return sent

    def _no_range_message(self, batch: bytes, start: int | None, first: int, quantity: int) -> str:
        shelf = self.ranges(batch, holder=self._ledger.require_signer().address)
        where = ", ".join(f"{r.label} ({r.quantity})" for r in shelf) or "none"
        if start is not None:
            return (f"units {first}:{first + quantity} of batch 0x{batch.hex()} are not all in one range on the "
                    f"shipper's shelf; its ranges: {where}")  # fmt: skip
        largest = max((r.quantity for r in shelf), default=0)
        return (f"{quantity} units of batch 0x{batch.hex()} are on the shipper's shelf only in several ranges "
                f"({where}); one shipment carries one range: ship at most {largest} at once, or split it "
                f"into one shipment per range")  # fmt: skip

    def ranges(self, batch: bytes | str, *, holder: str | None = None) -> list[CustodyRange]:
        """The batch's custody ranges in index order (all of them, or those on ``holder``'s shelf)."""
        key = bytes32(batch, "batch id")
        found: list[CustodyRange] = []
        start = 0
        while True:
            starts, ranges = self._call("custodyRanges", key, start, RANGE_PAGE)
            for first, (owner, end, in_transit) in zip(starts, ranges, strict=True):
                found.append(CustodyRange(int(first), int(end), str(owner), bool(in_transit)))
            if len(starts) < RANGE_PAGE:
                break
            start = found[-1].end
        if holder is None:
            return found
        who = checksum(holder, "holder")
        return [r for r in found if r.on_shelf_of(who)]

    def range_of(self, batch: bytes | str, index: int) -> CustodyRange | None:
        """The custody range that holds unit ``index`` (None beyond the batch's units)."""
        return _containing(self.ranges(batch), index)

    def range_starts(self, batch: bytes | str, indices: list[int]) -> list[int]:
        """For each unit index, the first index of the custody range that holds it, as ``fill``
        names it (0 for an index beyond the batch's units, which the chain then refuses)."""
        ranges = self.ranges(batch)
        return [found.start if (found := _containing(ranges, i)) else 0 for i in indices]

    def receive(self, shipment: Shipment) -> Receipt:
        """The signing recipient takes the shipment onto its shelf."""
        return self._send("receiveShipment", shipment.as_tuple())

    def cancel(self, shipment: Shipment) -> Receipt:
        """The signing shipper takes back a shipment still in transit."""
        return self._send("cancelShipment", shipment.as_tuple())

    def holding(self, batch: bytes | str, holder: str) -> Holding:
        held, in_transit, dispensed = self._call("holding", bytes32(batch, "batch id"), checksum(holder, "holder"))
        return Holding(int(held), int(in_transit), int(dispensed))

    def shipment_status(self, shipment: Shipment) -> ShipmentStatus:
        return ShipmentStatus(self._call("shipmentStatus", shipment.id))

    def shipments(self, batch: bytes | str, from_block: int = 0) -> list[Shipment]:
        """Every shipment of the batch, oldest first (from its events)."""
        logs = self._events("Shipped", {"batchId": bytes32(batch, "batch id")}, from_block)
        return [_shipment(log["args"]["shipment"]) for log in logs]

    def find_shipment(self, shipment_id: bytes | str) -> Shipment:
        """The shipment with this id, from its ``Shipped`` event."""
        key = bytes32(shipment_id, "shipment id")
        logs = self._events("Shipped", {"shipmentId": key})
        if not logs:
            raise InvalidInput(f"no shipment 0x{key.hex()} was ever shipped")
        return _shipment(logs[0]["args"]["shipment"])

    def lot_of(self, batch: bytes | str) -> str:
        """The lot number the batch was registered with (from its registration event)."""
        key = bytes32(batch, "batch id")
        logs = self._events("BatchRegistered", {"batchId": key})
        if not logs:
            raise InvalidInput(f"no batch 0x{key.hex()} was ever registered")
        return serial_text(logs[0]["args"]["lot"])

    def history(self, batch: bytes | str, from_block: int = 0) -> list[CustodyStep]:
        """Everything that happened to the batch, oldest first: its custody path and its holds.
        A receipt or a cancellation names the range of units of its shipment."""
        key = bytes32(batch, "batch id")
        steps: list[CustodyStep] = []
        for name in ("BatchRegistered", "Shipped", "Received", "ShipmentCancelled", "UnitsDispensed",
                     "CounterfeitSuspected", "BatchQuarantined", "BatchReleased", "BatchRecalled"):  # fmt: skip
            for log in self._events(name, {"batchId": key}, from_block):
                steps.append(_step(name, log))
        shipped = {s.shipment_id: s.units for s in steps if s.step == "shipping"}
        steps = [replace(s, units=shipped.get(s.shipment_id)) if s.step in ("receiving", "cancelled") else s
                 for s in steps]  # fmt: skip
        steps.sort(key=lambda step: (step.block_number, step.log_index))
        return steps

    # ─── Lifecycle ───────────────────────────────────────────────────────────────────────

    def quarantine(self, batch: bytes | str, reason_code: int = 0) -> Receipt:
        return self._send("quarantineBatch", bytes32(batch, "batch id"), uint(reason_code, 16, "reason code"))

    def release(self, batch: bytes | str) -> Receipt:
        return self._send("releaseBatch", bytes32(batch, "batch id"))

    def recall(self, batch: bytes | str, reason_code: int = 0) -> Receipt:
        return self._send("recallBatch", bytes32(batch, "batch id"), uint(reason_code, 16, "reason code"))

    def get(self, batch: bytes | str) -> Batch:
        key = bytes32(batch, "batch id")
        manufacturer, made, expires, status, gtin, quantity, document, root = self._call("batch", key)
        return Batch(key, str(manufacturer), int(made), int(expires), BatchStatus(status), int(gtin), int(quantity),
                     bytes(document), bytes(root))  # fmt: skip

    def verify_unit(self, batch: bytes | str, unit: Unit, proof: list[bytes]) -> UnitValidity:
        """Whether ``unit`` belongs to the batch (by ``proof``) and may be trusted now."""
        return UnitValidity(self._call("verifyUnit", bytes32(batch, "batch id"), unit.as_tuple(), proof))

    def are_units_in_batch(self, batch: bytes | str, multiproof: MultiProof) -> bool:
        return bool(self._call("areUnitsInBatch", bytes32(batch, "batch id"),
                               [u.as_tuple() for u in multiproof.units], multiproof.proof, multiproof.flags))  # fmt: skip

    def is_dispensed(self, batch: bytes | str, index: int) -> bool:
        return bool(self._call("isDispensed", bytes32(batch, "batch id"), uint(index, 64, "unit index")))

    def check_pack(
        self,
        gtin: str | int,
        lot: str,
        unit: Unit,
        proof: list[bytes],
        *,
        expiry: date | None = None,
        holder: str | None = None,
    ) -> PackCheck:
        """Check a pack as printed (GTIN, lot, optional expiry date, serial) with the unit's proof.

        Wrong lot: the serial is proven in another batch of the product, not the printed one.
        Wrong expiry: the printed date is not the UTC date of the batch's last valid second.
        Held by another: ``holder`` (who has the pack in hand) is not where the chain's custody of
        the unit is, or the unit is still in transit; a genuine serial on a pack that did not reach them.
        """
        printed = batch_id(gtin, lot)
        answer = self.verify_unit(printed, unit, proof)
        if answer is UnitValidity.NO_MATCH:
            for log in self._events("BatchRegistered", {"gtin": parse_gtin(gtin)}):
                other = bytes(log["args"]["batchId"])
                if other != printed and self.verify_unit(other, unit, proof) is not UnitValidity.NO_MATCH:
                    return PackCheck(PackVerdict.WRONG_LOT, self._existing(printed), other)
            return PackCheck(PackVerdict.NO_MATCH, self._existing(printed), None)
        found = self.get(printed)
        if expiry is not None and expiry != expiry_date(found.expires_on):
            return PackCheck(PackVerdict.WRONG_EXPIRY, found, None)
        if answer is UnitValidity.VERIFIED and holder is not None:
            custody = self.range_of(printed, unit.index)
            if custody is None or not custody.on_shelf_of(checksum(holder, "holder")):
                return PackCheck(PackVerdict.HELD_BY_ANOTHER, found, None)
        return PackCheck(PackVerdict[answer.name], found, None)

    def _existing(self, batch: bytes) -> Batch | None:
        found = self.get(batch)
        return found if found.exists else None

    def alarms(self, batch: bytes | str | None = None, from_block: int = 0) -> list[Alarm]:
        """Counterfeit alarms, oldest first: of one batch, or of every batch (for a regulator)."""
        filters = {"batchId": bytes32(batch, "batch id")} if batch is not None else {}
        return [
            Alarm(bytes(log["args"]["batchId"]), str(log["args"]["reporter"]), Suspicion(log["args"]["reason"]),
                  tuple(serial_text(s) for s in log["args"]["serials"]), int(log["blockNumber"]),
                  log["transactionHash"].to_0x_hex())  # fmt: skip
            for log in self._events("CounterfeitSuspected", filters, from_block)
        ]

    def verify(self, batch: bytes | str) -> BatchValidity:
        """Whether the batch may be trusted now, and if not why (unknown, expired, quarantined, recalled)."""
        return BatchValidity(self._call("verify", bytes32(batch, "batch id")))


def _containing(ranges: list[CustodyRange], index: int) -> CustodyRange | None:
    """The range of ``ranges`` (in index order, a partition) that holds ``index``."""
    at = bisect.bisect_right([r.start for r in ranges], index) - 1
    return ranges[at] if at >= 0 and index in ranges[at] else None
