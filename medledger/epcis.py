"""A batch's custody history as a GS1 EPCIS 2.0 document (JSON-LD), for traceability systems.

Every custody step becomes an ``ObjectEvent`` with the CBV 2.0 business step and disposition a
DSCSA or EU FMD partner expects:

=============  ========  ==================  ==================
step           action    bizStep             disposition
=============  ========  ==================  ==================
commissioning  ADD       commissioning       active
shipping       OBSERVE   shipping            in_transit
receiving      OBSERVE   receiving           in_progress
cancelled      OBSERVE   void_shipping       sellable_accessible (back on the shipper's shelf)
dispensing     DELETE    dispensing          dispensed (packs leave the supply chain)
quarantined    OBSERVE   holding             non_sellable_other
released       OBSERVE   inspecting          active
recalled       OBSERVE   holding             recalled
suspect        OBSERVE   inspecting          no_pedigree_match (a counterfeit alarm)
=============  ========  ==================  ==================

What moved is named with GS1 Digital Link URIs, which EPCIS 2.0 accepts as identifiers:
``https://id.gs1.org/01/<GTIN>/21/<serial>`` for a pack (an SGTIN; the ``urn:epc:id:sgtin`` form
would need the GS1 company prefix length, which the chain does not know) and
``https://id.gs1.org/01/<GTIN>/10/<lot>`` with a quantity for a whole-lot step. Parties are
members' wallets as W3C ``did:pkh`` identifiers (``did:pkh:eip155:<chain>:<address>``): source
and destination ``owning_party`` of a shipment, and ``medledger:actor`` for who recorded a step.
A step that commissions or moves units names them as ``medledger:units``, the range ``start`` to
``end - 1`` of the batch's serial list (its packing order, so a case is one range).
Each event's id names its chain, transaction and log index, so exporting twice gives the same ids.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from medledger.client.batches import Batch, CustodyStep, expiry_date
from medledger.client.products import format_gtin
from medledger.errors import InvalidInput
from medledger.types import Suspicion

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
           {"medledger": "https://medledger.org/epcis/"}]  # fmt: skip
DIGITAL_LINK = "https://id.gs1.org"

#: step → (action, bizStep, disposition)
STEPS: dict[str, tuple[str, str, str]] = {
    "commissioning": ("ADD", "commissioning", "active"),
    "shipping": ("OBSERVE", "shipping", "in_transit"),
    "receiving": ("OBSERVE", "receiving", "in_progress"),
    "cancelled": ("OBSERVE", "void_shipping", "sellable_accessible"),
    "dispensing": ("DELETE", "dispensing", "dispensed"),
    "quarantined": ("OBSERVE", "holding", "non_sellable_other"),
    "released": ("OBSERVE", "inspecting", "active"),
    "recalled": ("OBSERVE", "holding", "recalled"),
    "suspect": ("OBSERVE", "inspecting", "no_pedigree_match"),
}


def party(chain_id: int, address: str) -> str:
    return f"did:pkh:eip155:{chain_id}:{address}"


def pack_uri(gtin: int, serial: str) -> str:
    return f"{DIGITAL_LINK}/01/{format_gtin(gtin)}/21/{quote(serial, safe='')}"


def lot_uri(gtin: int, lot: str) -> str:
    return f"{DIGITAL_LINK}/01/{format_gtin(gtin)}/10/{quote(lot, safe='')}"


def _instant(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _event(batch: Batch, lot: str, step: CustodyStep, chain_id: int, when: int) -> dict[str, Any]:
    try:
        action, biz_step, disposition = STEPS[step.step]
    except KeyError:
        raise InvalidInput(f"no EPCIS mapping for custody step {step.step!r}") from None
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventID": f"urn:medledger:event:eip155:{chain_id}:{step.tx_hash}:{step.log_index}",
        "eventTime": _instant(when),
        "eventTimeZoneOffset": "+00:00",
        "action": action,
        "bizStep": biz_step,
        "disposition": disposition,
    }
    if step.serials:
        event["epcList"] = [pack_uri(batch.gtin, serial) for serial in step.serials]
    else:
        quantity = {"epcClass": lot_uri(batch.gtin, lot)}
        event["quantityList"] = [quantity | ({"quantity": step.quantity} if step.quantity is not None else {})]
    if step.step == "shipping" and step.counterparty:
        event["sourceList"] = [{"type": "owning_party", "source": party(chain_id, step.actor)}]
        event["destinationList"] = [{"type": "owning_party", "destination": party(chain_id, step.counterparty)}]
    if step.step == "commissioning":
        event["ilmd"] = {"cbvmda:lotNumber": lot, "cbvmda:itemExpirationDate": expiry_date(batch.expires_on).isoformat()}
    if step.step == "suspect" and step.reason_code is not None:
        event["medledger:suspicion"] = Suspicion(step.reason_code).name.lower()
    if step.shipment_id is not None:
        event["medledger:shipment"] = "0x" + step.shipment_id.hex()
    if step.units is not None:  # the range of the serial list moved: a case or a pallet, as aggregated
        event["medledger:units"] = {"start": step.units[0], "end": step.units[1]}
    event["medledger:actor"] = party(chain_id, step.actor)
    return event


def epcis_document(
    batch: Batch, lot: str, steps: Sequence[CustodyStep], *, chain_id: int, block_times: dict[int, int], created: int
) -> dict[str, Any]:
    """The EPCISDocument of ``steps`` (one batch's history, oldest first); ``block_times`` gives
    each step's block time, ``created`` the document's creation time."""
    missing = sorted({s.block_number for s in steps} - set(block_times))
    if missing:
        raise InvalidInput(f"no time for block(s) {', '.join(map(str, missing))}")
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _instant(created),
        "epcisBody": {"eventList": [_event(batch, lot, s, chain_id, block_times[s.block_number]) for s in steps]},
    }


def epcis_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"
