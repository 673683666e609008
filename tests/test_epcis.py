"""EPCIS 2.0 export of custody steps: CBV steps and dispositions, Digital Link ids, stable event ids."""

from __future__ import annotations

import json

import pytest

from medledger import errors
from medledger.client.batches import Batch, CustodyStep
from medledger.epcis import STEPS, epcis_document, epcis_json
from medledger.types import BatchStatus, Suspicion

GTIN = 9506000134352
MAKER, PHARMACY = "0x" + "a1" * 20, "0x" + "c3" * 20
BATCH = Batch(b"\x01" * 32, MAKER, 1_700_000_000, 1_830_297_600, BatchStatus.ACTIVE, GTIN, 100, bytes(32), b"\x02" * 32)


def step(kind, actor=MAKER, to=None, quantity=None, shipment=None, block=10, index=0, serials=(), reason=None,
         units=None):  # fmt: skip
    return CustodyStep(kind, actor, to, quantity, reason, shipment, block, index, f"0x{block:064x}", serials, units)


STORY = [
    step("commissioning", quantity=100, block=10, units=(0, 100)),
    step("shipping", to=PHARMACY, quantity=20, shipment=b"\x07" * 32, block=11, units=(40, 60)),
    step("receiving", actor=PHARMACY, shipment=b"\x07" * 32, block=12, units=(40, 60)),
    step("dispensing", actor=PHARMACY, quantity=2, serials=("SN 1/A", "SN2"), block=13),
    step("suspect", actor=PHARMACY, quantity=1, serials=("SN2",), reason=int(Suspicion.ALREADY_DISPENSED), block=14),
    step("quarantined", reason=3, block=15), step("released", block=16),
    step("shipping", to=PHARMACY, quantity=5, shipment=b"\x08" * 32, block=17),
    step("cancelled", shipment=b"\x08" * 32, block=18), step("recalled", reason=7, block=19),
]  # fmt: skip
TIMES = {n: 1_800_000_000 + n * 12 for n in range(10, 20)}


def document():
    return epcis_document(BATCH, "L 1", STORY, chain_id=31337, block_times=TIMES, created=1_800_001_000)


def test_the_document_is_epcis_2_json_ld():
    made = document()
    assert made["type"] == "EPCISDocument" and made["schemaVersion"] == "2.0"
    assert made["@context"][0] == "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
    assert made["creationDate"] == "2027-01-15T08:16:40.000Z"
    assert json.loads(epcis_json(made)) == made
    assert all(e["type"] == "ObjectEvent" for e in made["epcisBody"]["eventList"])


def test_each_step_has_its_cbv_business_step_and_disposition():
    events = document()["epcisBody"]["eventList"]
    got = [(e["action"], e["bizStep"], e["disposition"]) for e in events]
    assert got == [STEPS[s.step] for s in STORY]
    assert got[0] == ("ADD", "commissioning", "active") and got[1][1:] == ("shipping", "in_transit")
    assert got[3] == ("DELETE", "dispensing", "dispensed") and got[-1][2] == "recalled"


def test_packs_are_digital_link_sgtins_and_lots_are_classes_with_quantities():
    events = document()["epcisBody"]["eventList"]
    assert events[3]["epcList"] == ["https://id.gs1.org/01/09506000134352/21/SN%201%2FA",
                                    "https://id.gs1.org/01/09506000134352/21/SN2"]  # fmt: skip
    assert events[1]["quantityList"] == [{"epcClass": "https://id.gs1.org/01/09506000134352/10/L%201", "quantity": 20}]
    assert "quantity" not in events[-1]["quantityList"][0]
    assert events[0]["ilmd"] == {"cbvmda:lotNumber": "L 1", "cbvmda:itemExpirationDate": "2027-12-31"}
    assert events[4]["medledger:suspicion"] == "already_dispensed"


def test_shipments_name_their_parties_and_events_have_stable_ids_and_times():
    events = document()["epcisBody"]["eventList"]
    assert events[1]["sourceList"] == [{"type": "owning_party", "source": f"did:pkh:eip155:31337:{MAKER}"}]
    assert events[1]["destinationList"] == [{"type": "owning_party", "destination": f"did:pkh:eip155:31337:{PHARMACY}"}]
    assert events[2]["medledger:shipment"] == events[1]["medledger:shipment"] == "0x" + "07" * 32
    assert events[2]["medledger:units"] == events[1]["medledger:units"] == {"start": 40, "end": 60}
    assert "medledger:units" not in events[3]  # dispensing names its packs in the epcList
    assert events[1]["eventTime"] == "2027-01-15T08:02:12.000Z" and events[1]["eventTimeZoneOffset"] == "+00:00"
    assert [e["eventID"] for e in events] == [e["eventID"] for e in document()["epcisBody"]["eventList"]]
    assert len({e["eventID"] for e in events}) == len(events)


def test_unknown_steps_and_missing_times_are_named():
    with pytest.raises(errors.InvalidInput, match="teleporting"):
        epcis_document(BATCH, "L1", [step("teleporting")], chain_id=1, block_times={10: 1}, created=1)
    with pytest.raises(errors.InvalidInput, match="block"):
        epcis_document(BATCH, "L1", STORY, chain_id=1, block_times={}, created=1)
