"""BatchRegistry custody: ship, receive, cancel; quantities conserved; who may move what, when.

``spare`` is the manufacturer (world deployment); ``authority2`` is accredited here as a distributor;
``pharmacy`` and ``hospital`` dispense; ``clinic`` (people) is a clinic, which is not supplied.
"""

from __future__ import annotations

import dataclasses

import pytest

from medledger import errors
from medledger.types import BatchValidity, InstitutionKind, ShipmentStatus
from tests.helpers import DAY, events

GTIN = "09506000134352"


@pytest.fixture
def lot(world, ml, actors) -> bytes:
    """A batch of 100 units at the manufacturer; ``authority2`` accredited as a distributor."""
    ml.admin.consortium.accredit(actors.authority2.address, InstitutionKind.DISTRIBUTOR)
    ml.spare.products.register(GTIN, "Medicine A")
    now = world.chain.now()
    return ml.spare.batches.register(GTIN, "L1", quantity=100, manufactured_on=now - DAY, expires_on=now + 30 * DAY,
                                     serial_root=b"\x01" * 32).id  # fmt: skip


def stock(ml, lot, *names):
    return {name: ml.outsider.batches.holding(lot, getattr(ml, name).signer.address) for name in names}


def conserved(ml, lot) -> bool:
    holders = ("spare", "authority2", "pharmacy", "hospital")
    total = sum(h.held + h.in_transit + h.dispensed for h in stock(ml, lot, *holders).values())
    return total == ml.outsider.batches.get(lot).quantity


def test_the_manufacturer_holds_the_whole_batch(ml, lot):
    assert stock(ml, lot, "spare")["spare"].held == 100 and conserved(ml, lot)


def test_manufacturer_to_distributor_to_pharmacy(world, ml, actors, lot):
    to_distributor = ml.spare.batches.ship(lot, actors.authority2.address, 60)
    maker = stock(ml, lot, "spare")["spare"]
    assert (maker.held, maker.in_transit) == (40, 60)
    assert ml.outsider.batches.shipment_status(to_distributor.shipment) is ShipmentStatus.IN_TRANSIT
    assert conserved(ml, lot)
    (event,) = events(ml.outsider.batches, to_distributor.receipt, "Shipped")
    assert event["shipmentId"] == to_distributor.shipment.id
    received = ml.authority2.batches.receive(to_distributor.shipment)
    assert events(ml.outsider.batches, received, "Received")[0]["to"] == actors.authority2.address
    assert stock(ml, lot, "authority2")["authority2"].held == 60 and conserved(ml, lot)
    onward = ml.authority2.batches.ship(lot, actors.pharmacy.address, 25)
    ml.pharmacy.batches.receive(onward.shipment)
    held = stock(ml, lot, "spare", "authority2", "pharmacy")
    assert [h.held for h in held.values()] == [40, 35, 25] and conserved(ml, lot)
    assert [s.quantity for s in ml.outsider.batches.shipments(lot)] == [60, 25]


def test_the_shipper_cancels_before_receipt(ml, actors, lot):
    shipped = ml.spare.batches.ship(lot, actors.hospital.address, 30)
    receipt = ml.spare.batches.cancel(shipped.shipment)
    assert events(ml.outsider.batches, receipt, "ShipmentCancelled")[0]["from"] == actors.spare.address
    assert stock(ml, lot, "spare")["spare"].held == 100 and conserved(ml, lot)
    with pytest.raises(errors.ShipmentNotInTransit):
        ml.hospital.batches.receive(shipped.shipment)


def test_only_the_recipient_receives_and_only_the_shipper_cancels(ml, actors, lot):
    shipped = ml.spare.batches.ship(lot, actors.pharmacy.address, 10)
    with pytest.raises(errors.NotShipmentParty):
        ml.hospital.batches.receive(shipped.shipment)
    with pytest.raises(errors.NotShipmentParty):
        ml.pharmacy.batches.cancel(shipped.shipment)
    assert ml.outsider.batches.shipment_status(shipped.shipment) is ShipmentStatus.IN_TRANSIT


def test_a_shipment_is_received_once_and_a_forged_one_never(ml, actors, lot):
    shipped = ml.spare.batches.ship(lot, actors.pharmacy.address, 10)
    forged = dataclasses.replace(shipped.shipment, end=90)
    with pytest.raises(errors.ShipmentNotInTransit):
        ml.pharmacy.batches.receive(forged)
    ml.pharmacy.batches.receive(shipped.shipment)
    with pytest.raises(errors.ShipmentNotInTransit):
        ml.pharmacy.batches.receive(shipped.shipment)
    assert stock(ml, lot, "pharmacy")["pharmacy"].held == 10 and conserved(ml, lot)


@pytest.mark.parametrize("recipient", ["clinic", "outsider", "spare", "regulator"])
def test_stock_goes_only_to_members_of_a_supplied_kind(ml, lot, recipient):
    with pytest.raises(errors.RecipientNotAllowed):
        ml.spare.batches.ship(lot, getattr(ml, recipient).signer.address, 1)
    assert stock(ml, lot, "spare")["spare"].held == 100


def test_a_pharmacy_does_not_ship_onward(ml, actors, lot):
    shipped = ml.spare.batches.ship(lot, actors.pharmacy.address, 10)
    ml.pharmacy.batches.receive(shipped.shipment)
    with pytest.raises(errors.RecipientNotAllowed):
        ml.pharmacy.batches.ship(lot, actors.hospital.address, 5)


def test_nobody_ships_more_than_it_holds_or_nothing(ml, actors, lot):
    with pytest.raises(errors.InsufficientStock) as exc:
        ml.spare.batches.ship(lot, actors.pharmacy.address, 101)
    assert (exc.value.held, exc.value.wanted) == (100, 101)
    with pytest.raises(errors.InsufficientStock):
        ml.authority2.batches.ship(lot, actors.pharmacy.address, 1)
    with pytest.raises(errors.ZeroQuantity):
        ml.spare.batches.ship(lot, actors.pharmacy.address, 0)
    with pytest.raises(errors.NotActiveSupplier):
        ml.outsider.batches.ship(lot, actors.pharmacy.address, 1)


def test_a_suspended_member_neither_ships_nor_receives(ml, actors, lot):
    shipped = ml.spare.batches.ship(lot, actors.pharmacy.address, 10)
    ml.regulator.consortium.suspend(actors.pharmacy.address, 1)
    with pytest.raises(errors.NotActiveSupplier):
        ml.pharmacy.batches.receive(shipped.shipment)
    with pytest.raises(errors.RecipientNotAllowed):
        ml.spare.batches.ship(lot, actors.pharmacy.address, 1)
    ml.regulator.consortium.suspend(actors.spare.address, 1)
    with pytest.raises(errors.NotActiveSupplier):
        ml.spare.batches.ship(lot, actors.hospital.address, 1)


@pytest.mark.parametrize("hold", ["recall", "quarantine"])
def test_a_recalled_or_quarantined_batch_does_not_move_but_returns_to_its_shipper(ml, actors, lot, hold):
    shipped = ml.spare.batches.ship(lot, actors.pharmacy.address, 10)
    getattr(ml.regulator.batches, hold)(lot, 4)
    expected = BatchValidity.RECALLED if hold == "recall" else BatchValidity.QUARANTINED
    with pytest.raises(errors.BatchNotMovable) as exc:
        ml.pharmacy.batches.receive(shipped.shipment)
    assert exc.value.validity == int(expected)
    with pytest.raises(errors.BatchNotMovable):
        ml.spare.batches.ship(lot, actors.hospital.address, 1)
    ml.spare.batches.cancel(shipped.shipment)  # the stock comes back to its shipper
    assert stock(ml, lot, "spare")["spare"].held == 100 and conserved(ml, lot)


def test_an_expired_batch_does_not_move(world, ml, actors, lot):
    world.chain.advance_time(31 * DAY)
    with pytest.raises(errors.BatchNotMovable):
        ml.spare.batches.ship(lot, actors.pharmacy.address, 1)


def test_the_history_tells_the_custody_path_in_order(ml, actors, lot):
    shipped = ml.spare.batches.ship(lot, actors.authority2.address, 20)
    ml.authority2.batches.receive(shipped.shipment)
    returned = ml.authority2.batches.ship(lot, actors.pharmacy.address, 5)
    ml.authority2.batches.cancel(returned.shipment)
    ml.regulator.batches.recall(lot, 6)
    path = [(s.step, s.actor, s.counterparty, s.quantity) for s in ml.outsider.batches.history(lot)]
    assert path == [
        ("commissioning", actors.spare.address, None, 100),
        ("shipping", actors.spare.address, actors.authority2.address, 20),
        ("receiving", actors.authority2.address, None, None),
        ("shipping", actors.authority2.address, actors.pharmacy.address, 5),
        ("cancelled", actors.authority2.address, None, None),
        ("recalled", actors.regulator.address, None, None),
    ]
    assert ml.outsider.batches.find_shipment(shipped.shipment.id) == shipped.shipment


# ─── Custody of units: ranges of serial indices ─────────────────────────────────────────────


def ranges(ml, lot):
    return [(r.start, r.end, r.holder, r.in_transit) for r in ml.outsider.batches.ranges(lot)]


def test_the_manufacturer_holds_every_unit_and_a_shipment_carries_a_range(ml, actors, lot):
    maker, distributor = actors.spare.address, actors.authority2.address
    assert ranges(ml, lot) == [(0, 100, maker, False)]
    shipped = ml.spare.batches.ship(lot, distributor, 60)
    assert (shipped.shipment.start, shipped.shipment.end, shipped.shipment.quantity) == (0, 60, 60)
    assert ranges(ml, lot) == [(0, 60, maker, True), (60, 100, maker, False)]
    ml.authority2.batches.receive(shipped.shipment)
    assert ranges(ml, lot) == [(0, 60, distributor, False), (60, 100, maker, False)]
    onward = ml.authority2.batches.ship(lot, actors.pharmacy.address, 25)
    assert (onward.shipment.start, onward.shipment.end) == (0, 25)
    ml.pharmacy.batches.receive(onward.shipment)
    assert ranges(ml, lot) == [(0, 25, actors.pharmacy.address, False), (25, 60, distributor, False),
                               (60, 100, maker, False)]  # fmt: skip
    assert ml.outsider.batches.range_of(lot, 24).holder == actors.pharmacy.address
    assert ml.outsider.batches.range_of(lot, 100) is None and conserved(ml, lot)


def test_a_case_from_the_middle_of_a_range_and_its_cancellation(ml, actors, lot):
    maker = actors.spare.address
    shipped = ml.spare.batches.ship(lot, actors.hospital.address, 10, start=30)
    assert ranges(ml, lot) == [(0, 30, maker, False), (30, 40, maker, True), (40, 100, maker, False)]
    ml.spare.batches.cancel(shipped.shipment)
    assert ranges(ml, lot) == [(0, 30, maker, False), (30, 40, maker, False), (40, 100, maker, False)]
    assert stock(ml, lot, "spare")["spare"].held == 100 and conserved(ml, lot)
    # The cut stays: a shipment across it is refused by the client, naming the ranges.
    with pytest.raises(errors.InvalidInput, match="not all in one range"):
        ml.spare.batches.ship(lot, actors.hospital.address, 20, start=25)
    assert ml.spare.batches.ship(lot, actors.hospital.address, 35).shipment.start == 40  # the lowest that fits


def test_a_range_in_transit_or_held_by_another_does_not_move(ml, actors, lot):
    shipped = ml.spare.batches.ship(lot, actors.authority2.address, 20)
    send = ml.spare.batches._send
    with pytest.raises(errors.RangeNotOnShelf) as exc:  # in transit
        send("ship", lot, actors.pharmacy.address, 0, 5, 0)
    assert (exc.value.rangeStart, exc.value.account) == (0, actors.spare.address)
    ml.authority2.batches.receive(shipped.shipment)
    with pytest.raises(errors.RangeNotOnShelf):  # the distributor's now
        send("ship", lot, actors.pharmacy.address, 0, 5, 0)
    with pytest.raises(errors.RangeNotOnShelf):  # and the maker's is not the distributor's
        ml.authority2.batches._send("ship", lot, actors.pharmacy.address, 20, 5, 20)
    assert ranges(ml, lot)[0] == (0, 20, actors.authority2.address, False) and conserved(ml, lot)


@pytest.mark.parametrize("start, quantity, range_start", [
    (10, 5, 20),  # starts before the range named
    (90, 11, 20),  # runs past its end
    (30, 5, 30),  # no range begins at 30 (inside one)
    (2**64 - 1, 2, 20),  # would overflow
])  # fmt: skip
def test_units_outside_the_range_named_are_refused(ml, actors, lot, start, quantity, range_start):
    ml.spare.batches.ship(lot, actors.hospital.address, 20)
    with pytest.raises(errors.UnitsNotInRange) as exc:
        ml.spare.batches._send("ship", lot, actors.pharmacy.address, start, quantity, range_start)
    assert (exc.value.start, exc.value.quantity, exc.value.rangeStart) == (start, quantity, range_start)
    assert exc.value.rangeEnd == (100 if range_start == 20 else 0)
    assert len(ranges(ml, lot)) == 2


def test_a_quantity_across_ranges_ships_split_or_not_at_all(ml, actors, lot):
    first = ml.spare.batches.ship(lot, actors.authority2.address, 30)
    ml.authority2.batches.receive(first.shipment)
    middle = ml.spare.batches.ship(lot, actors.hospital.address, 10)  # units 30:40 go elsewhere
    ml.hospital.batches.receive(middle.shipment)
    second = ml.spare.batches.ship(lot, actors.authority2.address, 20)
    ml.authority2.batches.receive(second.shipment)
    assert [r.label for r in ml.outsider.batches.ranges(lot, holder=actors.authority2.address)] == ["0:30", "40:60"]
    with pytest.raises(errors.InvalidInput, match="several ranges .*ship at most 30"):
        ml.authority2.batches.ship(lot, actors.pharmacy.address, 40)
    with pytest.raises(errors.InsufficientStock):
        ml.authority2.batches.ship_split(lot, actors.pharmacy.address, 51)
    sent = ml.authority2.batches.ship_split(lot, actors.pharmacy.address, 40)
    assert [(s.shipment.start, s.shipment.end) for s in sent] == [(0, 30), (40, 50)]
    assert stock(ml, lot, "authority2")["authority2"].in_transit == 40 and conserved(ml, lot)


def test_the_history_names_the_units_of_each_step(ml, actors, lot):
    shipped = ml.spare.batches.ship(lot, actors.authority2.address, 20, start=50)
    ml.authority2.batches.receive(shipped.shipment)
    assert [(s.step, s.units) for s in ml.outsider.batches.history(lot)] == [
        ("commissioning", (0, 100)), ("shipping", (50, 70)), ("receiving", (50, 70))]
