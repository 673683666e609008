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
