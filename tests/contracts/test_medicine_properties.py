"""Property tests of custody, dispensing and prescriptions, against a Python model of one batch.

Invariants guarded, at every step of random ship / receive / cancel / fill / recall / quarantine /
release / prescribe / cancel-prescription sequences:

* Quantities are conserved: made = held + in transit + dispensed, summed over holders, and every
  holder's three counts match the model.
* A recalled batch never moves: no shipment, receipt or dispensing goes through after a recall.
* No serial is dispensed twice: the dispensed bitmap is exactly the model's set, and a copied or
  unknown serial raises a counterfeit alarm that changes nothing else.
* A unit is dispensed only by the holder its custody reached: custody is a partition of the
  batch's units into ranges that match the model's at every step (shipments cut them, receipts
  and cancellations hand them over), and a unit presented by a pharmacy that does not hold its
  range (another pharmacy's, the manufacturer's, the distributor's, or in transit) raises the
  alarm ``HeldByAnother`` and changes nothing, while the pharmacy holding it dispenses it.
* No prescription is over-filled: fills ≤ 1 + refills and units ≤ quantity per fill × fills.
* No call by a wrong role, or in a wrong state, changes anything: it raises the typed error the
  model predicts and no block is mined.

One embedded chain for the module; each example runs inside a snapshot. A batch of 12 packs keeps
the invariants' reads cheap while still running out of stock and refills. Two pharmacies hold
units from the first step, so alarms of units held elsewhere come up in every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import eth_tester  # noqa: F401  (imported before Hypothesis runs: py-evm raises the recursion limit)
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from eth_account import Account
from eth_utils import keccak

from medledger import errors
from medledger.chain import embedded
from medledger.client.batches import Shipment, batch_id
from medledger.deploy import deploy_suite
from medledger.identity import identity_commitment, public_key
from medledger.serials import MultiProof, SerialTree, Unit
from medledger.types import BatchStatus, InstitutionKind, Suspicion
from tests.helpers import World, assert_refused_unchanged

DAY = 24 * 3600
GTIN = "09506000134352"
NAMES = ("admin", "regulator", "authority", "maker", "distributor", "pharmacy", "hospital", "doctor", "patient", "outsider")
KINDS = {"maker": InstitutionKind.MANUFACTURER, "distributor": InstitutionKind.DISTRIBUTOR,
         "pharmacy": InstitutionKind.PHARMACY, "pharmacy2": InstitutionKind.PHARMACY,
         "hospital": InstitutionKind.HOSPITAL}  # fmt: skip
HOLDERS = ("maker", "distributor", "pharmacy", "pharmacy2", "hospital")
PHARMACIES = ("pharmacy", "pharmacy2")
MADE = 12
SERIALS = [f"P{n:03d}" for n in range(MADE)]
TREE_LOT = "PROP-1"


@cache
def world() -> tuple[World, SerialTree]:
    """Members of every kind, a licensed doctor, a registered patient and one batch of 16 units."""
    chain = embedded()
    signers = dict(zip(NAMES, chain.accounts, strict=True))
    signers["pharmacy2"] = Account.from_key(keccak(text="medledger property pharmacy2"))
    w = World(chain, deploy_suite(chain, signers["admin"]), signers)
    ml = w.ledgers()
    ml["admin"].transactor.transfer(signers["admin"], w.address("pharmacy2"), 10**18)
    ml["admin"].consortium.add_regulator(w.address("regulator"))
    ml["admin"].consortium.add_licensing_authority(w.address("authority"))
    for name, kind in KINDS.items():
        ml["admin"].consortium.accredit(w.address(name), kind)
    now = chain.now()
    for name, kind in (("maker", "accreditation"), ("pharmacy", "accreditation"), ("pharmacy2", "accreditation"),
                       ("doctor", "licence")):
        ml["authority"].credentials.issue(w.address(name), kind, valid_from=now - 1, valid_until=now + 3 * 365 * DAY)
    ml["patient"].patients.register(identity_commitment({"name": "prop"}, b"\x01" * 32), public_key(b"\x02" * 32))
    ml["regulator"].products.assign_prefix("9506000", w.address("maker"))
    ml["maker"].products.register(GTIN, "Medicine P")
    tree = SerialTree(batch_id(GTIN, TREE_LOT), SERIALS)
    ml["maker"].batches.register(GTIN, TREE_LOT, quantity=MADE, manufactured_on=now - DAY, expires_on=now + 365 * DAY,
                                 serial_root=tree.root)  # fmt: skip
    return w, tree


@dataclass
class Holding:
    held: int = 0
    in_transit: int = 0
    dispensed: int = 0


@dataclass
class Rx:
    per_fill: int
    refills: int
    fills: int = 0
    units: int = 0
    cancelled: bool = False


@dataclass
class Custody:
    holder: str
    end: int
    in_transit: bool = False


@dataclass
class Model:
    holdings: dict[str, Holding] = field(default_factory=lambda: {h: Holding() for h in HOLDERS})
    ranges: dict[int, Custody] = field(default_factory=lambda: {0: Custody("maker", MADE)})  # by first index
    in_transit: list[tuple[Shipment, str, str]] = field(default_factory=list)  # shipment, from, to
    settled: list[tuple[Shipment, str, str]] = field(default_factory=list)  # received or cancelled
    dispensed: set[int] = field(default_factory=set)
    status: BatchStatus = BatchStatus.ACTIVE
    prescriptions: dict[int, Rx] = field(default_factory=dict)
    alarms: int = 0

    def settle(self, entry: tuple[Shipment, str, str], onto: str) -> None:
        """A shipment leaves transit: received onto the recipient's shelf or cancelled onto the sender's."""
        shipment, sender, _ = entry
        self.holdings[sender].in_transit -= shipment.quantity
        self.holdings[onto].held += shipment.quantity
        self.ranges[shipment.start] = Custody(onto, shipment.end)
        self.in_transit.remove(entry)
        self.settled.append(entry)

    def range_of(self, index: int) -> int | None:
        """The first index of the range holding unit ``index``."""
        return next((s for s, r in self.ranges.items() if s <= index < r.end), None)

    def shelf(self, holder: str) -> list[int]:
        """The first indices of the ranges on ``holder``'s shelf, lowest first."""
        return sorted(s for s, r in self.ranges.items() if r.holder == holder and not r.in_transit)

    def on_shelf(self, holder: str, index: int) -> bool:
        start = self.range_of(index)
        return start is not None and self.ranges[start].holder == holder and not self.ranges[start].in_transit


callers = st.sampled_from(("maker", "distributor", "pharmacy", "hospital", "outsider", "regulator"))


class MedicineLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world, self.tree = world()
        self.chain = self.world.chain
        self.snapshot = self.chain.snapshot()
        self.ml = self.world.ledgers()
        self.batch = self.tree.batch_id
        self.model = Model()
        self.model.holdings["maker"].held = MADE
        self.presented: set[int] = set()  # unit indices some fill named, checked at every step

    def teardown(self) -> None:
        try:
            # Read once per run, as they are slow here: every alarm the model expects is on chain
            # and no other, and the whole dispensed bitmap is the model's set.
            viewer = self.ml["outsider"].batches
            assert len(viewer.alarms(self.batch)) == self.model.alarms
            assert {i for i in range(MADE) if viewer.is_dispensed(self.batch, i)} == self.model.dispensed
        finally:
            self.chain.revert(self.snapshot)

    def attempt(self, error: type[errors.MedLedgerError] | None, send: Callable[[], object]) -> object:
        if error is None:
            return send()
        assert_refused_unchanged(self.chain, error, send)
        return None

    def movable(self) -> bool:
        return self.model.status is BatchStatus.ACTIVE

    # ─── Custody ─────────────────────────────────────────────────────────────────────────

    @initialize(stock=st.integers(4, 8), stock2=st.integers(1, 3), per_fill=st.integers(1, 3),
                refills=st.integers(0, 2))  # fmt: skip
    def stocked_pharmacies_and_a_first_fill(self, stock: int, stock2: int, per_fill: int, refills: int) -> None:
        """Every run starts with packs on both pharmacies' shelves and a prescription filled once,
        so refills, copied serials and alarms come up in every run, not only after lucky steps."""
        self.ship("maker", "pharmacy", stock, None)
        self.receive(0, True, "outsider", False)
        self.ship("maker", "pharmacy2", stock2, None)
        self.receive(0, True, "outsider", False)
        self.prescribe(per_fill, refills)
        self.fill(1, "pharmacy", list(range(per_fill)), False)
        # A pack of the second pharmacy's first case, presented by the first (an alarm) and then
        # dispensed by the second, which its custody reached.
        self.prescribe(1, 1)
        self.fill(2, "pharmacy", [stock], False)
        self.fill(2, "pharmacy2", [stock], False)

    @rule(by=st.sampled_from(("maker",) * 3 + ("distributor",) * 3 + ("pharmacy", "hospital", "outsider", "regulator")),
          to=st.sampled_from(("distributor", "pharmacy", "pharmacy2") * 2 + ("hospital", "maker", "outsider")),
          quantity=st.integers(1, 3) | st.integers(0, MADE + 1), start=st.none() | st.integers(0, MADE - 1))  # fmt: skip
    def ship(self, by: str, to: str, quantity: int, start: int | None) -> None:
        """Ship units: by default the lowest range on the shelf that holds them (the client's
        pick), or from a unit index anywhere in the batch."""
        m = self.model
        # The range the client names: the lowest on the shelf that fits, or the one holding `start`.
        if start is None:
            shelf = m.shelf(by) if by in HOLDERS else []
            fitting = [s for s in shelf if m.ranges[s].end - s >= quantity]
            first = range_start = fitting[0] if fitting else shelf[0] if shelf else 0
        else:
            first, range_start = start, m.range_of(start) or 0
        named = m.ranges.get(range_start)
        error: type[errors.MedLedgerError] | None = None
        if not self.movable():
            error = errors.BatchNotMovable
        elif quantity == 0:
            error = errors.ZeroQuantity
        elif by not in HOLDERS:
            error = errors.NotActiveSupplier
        elif by not in ("maker", "distributor") or to not in ("distributor", *PHARMACIES, "hospital") or to == by:
            error = errors.RecipientNotAllowed
        elif m.holdings[by].held < quantity:
            error = errors.InsufficientStock
        elif named is None or first < range_start or first + quantity > named.end:
            error = errors.InvalidInput  # the client's word for UnitsNotInRange: not in one range
        elif named.holder != by or named.in_transit:
            error = errors.RangeNotOnShelf
        shipped = self.attempt(error, lambda: self.ml[by].batches.ship(self.batch, self.world.address(to), quantity,
                                                                       start=start))  # fmt: skip
        if shipped is not None:
            event("shipped" if start is None else "shipped a range from a given index")
            assert named is not None
            shipment = shipped.shipment  # type: ignore[attr-defined]
            assert (shipment.start, shipment.end) == (first, first + quantity)
            if first > range_start:
                m.ranges[range_start] = Custody(by, first)
            if first + quantity < named.end:
                m.ranges[first + quantity] = Custody(by, named.end)
            m.ranges[first] = Custody(by, first + quantity, in_transit=True)
            m.holdings[by].held -= quantity
            m.holdings[by].in_transit += quantity
            m.in_transit.append((shipment, by, to))
        elif error is not None:
            event(f"ship refused: {error.__name__}")

    @rule(pick=st.integers(0, 20), as_recipient=st.booleans(), stranger=callers, settled=st.booleans())
    def receive(self, pick: int, as_recipient: bool, stranger: str, settled: bool) -> None:
        m = self.model
        pool = m.settled if settled and m.settled else m.in_transit
        if not pool:
            return
        shipment, sender, recipient = pool[pick % len(pool)]
        by = recipient if as_recipient else stranger
        error: type[errors.ContractError] | None = None
        if pool is m.settled:
            error = errors.ShipmentNotInTransit
        elif by != recipient:
            error = errors.NotShipmentParty
        elif not self.movable():
            error = errors.BatchNotMovable
        if self.attempt(error, lambda: self.ml[by].batches.receive(shipment)) is not None:
            event("received")
            m.settle((shipment, sender, recipient), onto=recipient)

    @precondition(lambda self: bool(self.model.in_transit))
    @rule(pick=st.integers(0, 20), as_sender=st.booleans(), stranger=callers)
    def cancel(self, pick: int, as_sender: bool, stranger: str) -> None:
        m = self.model
        if not m.in_transit:
            return
        shipment, sender, recipient = m.in_transit[pick % len(m.in_transit)]
        by = sender if as_sender else stranger
        error = None if by == sender else errors.NotShipmentParty
        if self.attempt(error, lambda: self.ml[by].batches.cancel(shipment)) is not None:
            event("cancelled (any batch status)")
            m.settle((shipment, sender, recipient), onto=sender)

    # ─── Prescriptions and dispensing ────────────────────────────────────────────────────

    @rule(per_fill=st.integers(1, 3), refills=st.integers(0, 2))
    def prescribe(self, per_fill: int, refills: int) -> None:
        issued = self.ml["doctor"].prescriptions.issue(self.world.address("patient"), GTIN, quantity_per_fill=per_fill,
                                                       refills=refills, valid_until=self.chain.now() + 300 * DAY)  # fmt: skip
        self.model.prescriptions[issued.id] = Rx(per_fill, refills)

    @rule(pick=st.integers(0, 20), by_prescriber=st.booleans())
    def cancel_prescription(self, pick: int, by_prescriber: bool) -> None:
        if not self.model.prescriptions:
            return
        number = sorted(self.model.prescriptions)[pick % len(self.model.prescriptions)]
        rx = self.model.prescriptions[number]
        by = "doctor" if by_prescriber else "pharmacy"
        error = errors.NotPrescriber if by != "doctor" else errors.PrescriptionStatusInvalid if rx.cancelled else None
        if self.attempt(error, lambda: self.ml[by].prescriptions.cancel(number)) is not None:
            rx.cancelled = True

    @rule(pick=st.integers(0, 20), by=st.sampled_from(("pharmacy",) * 3 + ("pharmacy2",) * 2 + ("hospital",)),
          fake=st.sampled_from((False,) * 5 + (True,)), own=st.booleans(), data=st.data())  # fmt: skip
    def dispense(self, pick: int, by: str, fake: bool, own: bool, data: st.DataObject) -> None:
        """Fill a prescription, mostly with a quantity it allows, sometimes with too many or none;
        with units of the filler's own shelf (when it has them) or of anywhere in the batch."""
        fillable = [n for n, rx in sorted(self.model.prescriptions.items()) if not rx.cancelled and rx.fills <= rx.refills]
        number = fillable[pick % len(fillable)] if fillable and pick % 8 else pick
        per_fill = self.model.prescriptions[number].per_fill if number in self.model.prescriptions else 1
        size = data.draw(st.one_of(*[st.integers(1, per_fill)] * 3, st.integers(0, per_fill + 2)))
        mine = [i for i in range(MADE) if self.model.on_shelf(by, i) and i not in self.model.dispensed]
        pool = mine if own and mine and len(mine) >= size else list(range(MADE))  # never an empty pool
        indices = data.draw(st.lists(st.sampled_from(pool), min_size=size, max_size=size, unique=True))
        self.fill(number, by, indices, fake)

    def fill(self, number: int, by: str, indices: list[int], fake: bool) -> None:
        m = self.model
        rx = m.prescriptions.get(number, Rx(0, 0, cancelled=True))  # an unknown id is never fillable
        self.presented.update(indices)
        if indices:
            units = self.tree.multiproof([SERIALS[i] for i in indices])
            if fake:  # a serial the manufacturer never made, at a real unit's place
                first = units.units[0]
                units = MultiProof([Unit(first.index, "FAKE" + first.serial)] + units.units[1:], units.proof, units.flags)
        else:
            units = MultiProof([], [], [])
        error: type[errors.ContractError] | None = None
        if by not in PHARMACIES:  # the filler's standing first: an accredited pharmacy
            error = errors.NotLicensedPharmacy
        elif rx.cancelled or rx.fills > rx.refills:
            error = errors.PrescriptionNotFillable
        elif not 1 <= len(indices) <= rx.per_fill:
            error = errors.FillQuantityInvalid
        elif not self.movable():
            error = errors.BatchNotMovable
        elif m.holdings[by].held < len(indices):
            error = errors.InsufficientStock
        result = self.attempt(error, lambda: self.ml[by].prescriptions.fill(number, self.batch, units))
        if result is None:
            event(f"fill refused: {error.__name__ if error else '?'}")
            return
        # The first unit, in the order presented, that was dispensed or is not on `by`'s shelf.
        expected: Suspicion | None = Suspicion.UNIT_NOT_IN_BATCH if fake else None
        for unit in [] if fake else units.units:
            if unit.index in m.dispensed:
                expected = Suspicion.ALREADY_DISPENSED
            elif not m.on_shelf(by, unit.index):
                expected = Suspicion.HELD_BY_ANOTHER
            if expected is not None:
                break
        if expected is not None:
            event(f"counterfeit alarm: {expected.name.lower()}")
            assert not result.filled and result.alarm is not None  # type: ignore[attr-defined]
            assert result.alarm.reason is expected  # type: ignore[attr-defined]
            m.alarms += 1
            return
        event(f"filled by {by}")
        assert result.filled  # type: ignore[attr-defined]
        assert all(m.on_shelf(by, i) for i in indices)
        m.dispensed.update(indices)
        m.holdings[by].held -= len(indices)
        m.holdings[by].dispensed += len(indices)
        rx.fills += 1
        rx.units += len(indices)

    @precondition(lambda self: bool(self.model.dispensed and self.model.prescriptions))
    @rule(pick=st.integers(0, 20), data=st.data())
    def present_a_copied_serial(self, pick: int, data: st.DataObject) -> None:
        """A second pack bearing the serial of a pack already dispensed: the classic counterfeit."""
        copied = data.draw(st.sampled_from(sorted(self.model.dispensed)))
        self.fill(sorted(self.model.prescriptions)[pick % len(self.model.prescriptions)], "pharmacy", [copied], False)

    # ─── Holds ───────────────────────────────────────────────────────────────────────────

    @rule(by=st.sampled_from(("maker", "regulator", "outsider", "pharmacy")),
          action=st.sampled_from(("quarantine", "release", "recall", "quarantine", "release", "release")))  # fmt: skip
    def hold(self, by: str, action: str) -> None:
        m, status = self.model, self.model.status
        error: type[errors.ContractError] | None = None
        regulator = by == "regulator"
        if by not in ("maker", "regulator"):
            error = errors.NotManufacturerOrRegulator
        elif action == "quarantine":
            takeover = status is BatchStatus.QUARANTINED and regulator
            if status is not BatchStatus.ACTIVE and not takeover:
                error = errors.BatchStatusInvalid
        elif action == "release":
            if not (status is BatchStatus.QUARANTINED or (status is BatchStatus.QUARANTINED_BY_REGULATOR and regulator)):
                error = errors.BatchStatusInvalid
        elif status is BatchStatus.RECALLED:
            error = errors.BatchStatusInvalid
        args = (self.batch,) if action == "release" else (self.batch, 1)
        if self.attempt(error, lambda: getattr(self.ml[by].batches, action)(*args)) is not None:
            event(f"batch {action}")
            m.status = {"quarantine": BatchStatus.QUARANTINED_BY_REGULATOR if regulator else BatchStatus.QUARANTINED,
                        "release": BatchStatus.ACTIVE, "recall": BatchStatus.RECALLED}[action]  # fmt: skip

    # ─── Invariants ──────────────────────────────────────────────────────────────────────

    @invariant()
    def quantities_are_conserved_and_match_the_model(self) -> None:
        viewer = self.ml["outsider"].batches
        total = 0
        for name in HOLDERS:
            chain = viewer.holding(self.batch, self.world.address(name))
            expected = self.model.holdings[name]
            assert (chain.held, chain.in_transit, chain.dispensed) == (expected.held, expected.in_transit, expected.dispensed)
            total += chain.held + chain.in_transit + chain.dispensed
        assert total == MADE
        assert viewer.get(self.batch).status is self.model.status

    @invariant()
    def custody_ranges_match_the_model_and_the_counts(self) -> None:
        viewer = self.ml["outsider"].batches
        names = {self.world.address(h): h for h in HOLDERS}
        chain = [(r.start, r.end, names[r.holder], r.in_transit) for r in viewer.ranges(self.batch)]
        assert chain == [(s, r.end, r.holder, r.in_transit) for s, r in sorted(self.model.ranges.items())]
        assert chain[0][0] == 0 and chain[-1][1] == MADE and all(a[1] == b[0] for a, b in zip(chain, chain[1:]))
        for name in HOLDERS:  # a holder's counts are the sizes of its ranges
            shelf = sum(e - s for s, e, h, moving in chain if h == name and not moving)
            dispensed = sum(1 for i in self.model.dispensed if self.model.on_shelf(name, i))
            moving = sum(e - s for s, e, h, t in chain if h == name and t)
            expected = self.model.holdings[name]
            assert (shelf - dispensed, moving, dispensed) == (expected.held, expected.in_transit, expected.dispensed)

    @invariant()
    def no_serial_is_dispensed_twice_and_no_prescription_over_filled(self) -> None:
        viewer = self.ml["outsider"]
        marked = {i for i in self.presented if viewer.batches.is_dispensed(self.batch, i)}
        assert marked == self.model.dispensed & self.presented
        assert sum(h.dispensed for h in self.model.holdings.values()) == len(self.model.dispensed)
        for number, rx in self.model.prescriptions.items():
            stored = viewer.prescriptions.get(number)
            assert (stored.fills, stored.dispensed) == (rx.fills, rx.units)
            assert stored.fills <= 1 + stored.refills and stored.dispensed <= stored.quantity_per_fill * stored.fills


MedicineLifecycle.TestCase.settings = settings(max_examples=10, stateful_step_count=20, deadline=None)
TestMedicineLifecycle = MedicineLifecycle.TestCase
