"""The custody graph: holders in columns by role, quantities summed per pair and outcome."""

from __future__ import annotations

from xml.etree import ElementTree

from medledger.client.batches import CustodyStep
from medledger.graph import custody_svg

SVG = "{http://www.w3.org/2000/svg}"
MAKER, DISTRIBUTOR, PHARMACY = "0x" + "a1" * 20, "0x" + "b2" * 20, "0x" + "c3" * 20


def step(kind, actor, to=None, quantity=None, shipment=None, block=1, serials=()):
    return CustodyStep(kind, actor, to, quantity, None, shipment, block, 0, "0x00", serials)


def test_outcomes_are_summed_and_holders_placed_by_role():
    steps = [
        step("commissioning", MAKER, quantity=100),
        step("shipping", MAKER, DISTRIBUTOR, 30, b"\x01"), step("receiving", DISTRIBUTOR, shipment=b"\x01"),
        step("shipping", MAKER, DISTRIBUTOR, 20, b"\x02"), step("receiving", DISTRIBUTOR, shipment=b"\x02"),
        step("shipping", DISTRIBUTOR, PHARMACY, 5, b"\x03"), step("cancelled", DISTRIBUTOR, shipment=b"\x03"),
        step("shipping", DISTRIBUTOR, PHARMACY, 7, b"\x04"),
        step("suspect", PHARMACY, quantity=1, serials=("X",)),
        step("recalled", "0x" + "dd" * 20),
    ]  # fmt: skip
    kinds = {MAKER: "manufacturer", DISTRIBUTOR: "distributor", PHARMACY: "pharmacy"}
    drawn = custody_svg(steps, kinds, "GTIN 1 batch 2")
    svg = ElementTree.fromstring(drawn)
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.text]
    assert {"50 received", "5 cancelled", "7 in transit"} <= set(labels)
    assert "RECALLED" in drawn and "alarm" in drawn and "patients" not in labels
    boxes = {float(r.get("x")) for r in svg.iter(f"{SVG}rect")}
    assert len(boxes) == 3  # three columns: manufacturer, distributor, pharmacy
