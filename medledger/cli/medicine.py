"""``medledger product register|show|void|prefix`` and ``medledger batch register|quarantine|release|recall|verify|show``."""

from __future__ import annotations

from pathlib import Path

import click

from medledger.cli.common import Session, chain_options, lifecycle_command, parse_time, receipt_fields, show_time
from medledger.cli.common import document_hash as hash_of_document
from medledger.cli.output import emit, wants_json
from medledger.client.batches import Batch, CustodyRange, Shipped
from medledger.client.products import PrefixAssignment, format_gtin
from medledger.errors import BatchNotFound, InvalidInput, ProductNotFound
from medledger.types import BatchValidity

#: Exit status of `batch verify` when the batch is not verified.
NOT_VERIFIED_EXIT = 3
DOCUMENT = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def product() -> None:
    """Medicinal products, by GS1 GTIN (the holder of the GTIN's GS1 company prefix registers them)."""


@product.command(name="register")
@click.argument("gtin")
@click.option("--name", required=True, help="The product's name as labelled; only its hash goes on chain.")
@click.option("--document", type=DOCUMENT, default=None, help="The dossier or label; its sha256 is recorded.")
@click.option("--document-hash", default=None, help="Or: the 32-byte document hash as 0x-hex.")
@chain_options
@click.pass_context
def register_product(
    ctx: click.Context, session: Session, gtin: str, name: str, document: Path | None, document_hash: str | None
) -> None:
    """Register product GTIN (8, 12, 13 or 14 digits) for the acting manufacturer, which must hold
    the GTIN's GS1 company prefix (`product prefix assign`)."""
    ledger = session.ledger()
    receipt = ledger.products.register(gtin, name, hash_of_document(document, document_hash))
    found = ledger.products.get(gtin)
    emit(ctx, {"gtin": format_gtin(found.gtin), "manufacturer": found.manufacturer, "name_hash": found.name_hash,
               **receipt_fields(receipt)}, title="product registered")  # fmt: skip


@product.command(name="show")
@click.argument("gtin")
@click.option("--name", default=None, help="Also check this labelled name against the registered one.")
@chain_options
@click.pass_context
def show_product(ctx: click.Context, session: Session, gtin: str, name: str | None) -> None:
    """Show product GTIN (and whether a name on a box is its registered name)."""
    ledger = session.ledger()
    found = ledger.products.get(gtin)
    if not found.exists:
        raise ProductNotFound({"gtin": found.gtin}, message=f"no product is registered under GTIN {format_gtin(found.gtin)}")
    checked = {} if name is None else {"name_matches": ledger.products.name_matches(gtin, name)}
    emit(ctx, {"gtin": format_gtin(found.gtin), "manufacturer": found.manufacturer, "name_hash": found.name_hash,
               **checked, "registered": show_time(found.registered_at), "document_hash": found.document_hash,
               "voided": found.voided}, title="product")  # fmt: skip


@product.command(name="void")
@click.argument("gtin")
@click.option("--reason", type=click.IntRange(0, 65535), default=0, help="Reason code of the regulator's rulebook.")
@chain_options
@click.pass_context
def void_product(ctx: click.Context, session: Session, gtin: str, reason: int) -> None:
    """Void product GTIN, registered in error (a regulator): its batches stop verifying, moving and dispensing."""
    ledger = session.ledger()
    receipt = ledger.products.void(gtin, reason)
    found = ledger.products.get(gtin)
    emit(ctx, {"gtin": format_gtin(found.gtin), "manufacturer": found.manufacturer, "voided": found.voided,
               "reason": reason, **receipt_fields(receipt)}, title="product voided")  # fmt: skip


@product.group(name="prefix")
def prefix() -> None:
    """GS1 company prefixes: who owns which GTINs (a regulator or the consortium admin assigns them)."""


def _prefix_fields(found: PrefixAssignment) -> dict[str, object]:
    return {"prefix": found.prefix.digits, "length": found.prefix.length, "assigned": found.assigned,
            "holder": found.holder if found.assigned else "-"}  # fmt: skip


@prefix.command(name="assign")
@click.argument("company_prefix")
@click.option("--to", "manufacturer", required=True, help="The accredited manufacturer that holds it.")
@chain_options
@click.pass_context
def assign_prefix(ctx: click.Context, session: Session, company_prefix: str, manufacturer: str) -> None:
    """Assign COMPANY_PREFIX (4 to 12 digits; leading zeros count) to a manufacturer."""
    ledger = session.ledger()
    receipt = ledger.products.assign_prefix(company_prefix, manufacturer)
    emit(ctx, {**_prefix_fields(ledger.products.prefix(company_prefix)), **receipt_fields(receipt)},
         title="company prefix assigned")  # fmt: skip


@prefix.command(name="unassign")
@click.argument("company_prefix")
@chain_options
@click.pass_context
def unassign_prefix(ctx: click.Context, session: Session, company_prefix: str) -> None:
    """Take COMPANY_PREFIX back: its holder registers no new product or batch under it; products
    and batches already registered stay valid, and the next holder of the prefix takes the
    products over by registering their GTINs under the same name."""
    ledger = session.ledger()
    receipt = ledger.products.unassign_prefix(company_prefix)
    emit(ctx, {**_prefix_fields(ledger.products.prefix(company_prefix)), **receipt_fields(receipt)},
         title="company prefix unassigned")  # fmt: skip


@prefix.command(name="show")
@click.argument("company_prefix", required=False)
@click.option("--gtin", default=None, help="Or: show the assigned prefix that contains this GTIN.")
@chain_options
@click.pass_context
def show_prefix(ctx: click.Context, session: Session, company_prefix: str | None, gtin: str | None) -> None:
    """Who holds COMPANY_PREFIX, or the prefix (and owner) of --gtin."""
    if (company_prefix is None) == (gtin is None):
        raise click.UsageError("give either COMPANY_PREFIX or --gtin")
    ledger = session.ledger()
    if gtin is None:
        emit(ctx, _prefix_fields(ledger.products.prefix(str(company_prefix))), title="company prefix")
        return
    found = ledger.products.prefix_of(gtin)
    if found is None:
        raise InvalidInput(f"no assigned company prefix contains GTIN {gtin}")
    emit(ctx, {"gtin": gtin, **_prefix_fields(found)}, title="company prefix")


@click.group()
def batch() -> None:
    """Batches (lots): register, quarantine, release, recall, verify."""


@batch.command(name="register")
@click.option("--gtin", required=True, help="The product's GTIN.")
@click.option("--lot", required=True, help="The lot number (up to 20 characters).")
@click.option("--quantity", type=click.IntRange(1, 2**64 - 1), required=True, help="Units made.")
@click.option("--manufactured", default="now", show_default=True, help="Manufacture date (YYYY-MM-DD or `now`).")
@click.option("--expires", required=True, help="Expiry date (YYYY-MM-DD).")
@click.option("--serial-root", required=True, help="Merkle root of the unit serials (32 bytes as 0x-hex).")
@click.option("--document", type=DOCUMENT, default=None, help="The batch record; its sha256 is recorded.")
@chain_options
@click.pass_context
def register_batch(
    ctx: click.Context, session: Session, gtin: str, lot: str, quantity: int, manufactured: str, expires: str,
    serial_root: str, document: Path | None,
) -> None:  # fmt: skip
    """Register a batch of the acting manufacturer's product."""
    made = session.chain.now() if manufactured == "now" else parse_time(manufactured)
    registered = session.ledger().batches.register(
        gtin, lot, quantity=quantity, manufactured_on=made, expires_on=parse_time(expires),
        serial_root=serial_root, document_hash=hash_of_document(document, None),
    )  # fmt: skip
    emit(ctx, {"batch_id": registered.id, "gtin": gtin, "lot": lot, "quantity": quantity,
               **receipt_fields(registered.receipt)}, title="batch registered")  # fmt: skip


def _batch_fields(found: Batch) -> dict[str, object]:
    return {
        "batch_id": found.id, "gtin": format_gtin(found.gtin), "manufacturer": found.manufacturer,
        "status": found.status, "quantity": found.quantity, "manufactured": show_time(found.manufactured_on),
        "expires": show_time(found.expires_on), "serial_root": found.serial_root,
    }  # fmt: skip


def _lifecycle(name: str, with_reason: bool, help_text: str) -> None:
    lifecycle_command(
        batch, name, help_text, argument="batch_id", with_reason=with_reason,
        reason_help="Reason code of the regulator's rulebook.",
        act=lambda ledger, key, reason: getattr(ledger.batches, name)(key, *(() if reason is None else (reason,))),
        show=lambda ledger, key: _batch_fields(ledger.batches.get(key)),
        title=f"batch {name}",
    )  # fmt: skip


_lifecycle("quarantine", True, "Put BATCH_ID on hold (its manufacturer or a regulator).")
_lifecycle("release", False, "Release BATCH_ID from quarantine (only a regulator lifts a regulator's).")
_lifecycle("recall", True, "Recall BATCH_ID for good (its manufacturer or a regulator).")


def _range_option(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    first, colon, end = text.partition(":")
    if not (colon and first.strip().isdigit() and end.strip().isdigit()) or int(first) >= int(end):
        raise click.BadParameter(f"{text!r} is not START:END with START < END (unit indices, END exclusive)",
                                 param_hint="--range")  # fmt: skip
    return int(first), int(end)


def _shipped_fields(shipped: Shipped) -> dict[str, object]:
    shipment = shipped.shipment
    return {"shipment_id": shipment.id, "batch_id": shipment.batch_id, "from": shipment.sender,
            "to": shipment.recipient, "quantity": shipment.quantity, "units": f"{shipment.start}:{shipment.end}",
            **receipt_fields(shipped.receipt)}  # fmt: skip


@batch.command(name="ship")
@click.argument("batch_id")
@click.option("--to", "recipient", required=True, help="The distributor, pharmacy or hospital receiving it.")
@click.option("--quantity", type=click.IntRange(1, 2**64 - 1), default=None, help="Units to ship.")
@click.option("--from-index", "first", type=click.IntRange(0, 2**64 - 1), default=None,
              help="Ship the units from this index of the serial list on (default: the lowest range on the "
                   "shelf that holds --quantity).")  # fmt: skip
@click.option("--range", "units", default=None,
              help="Or: ship exactly the units START:END of the serial list (END exclusive, as `batch show` "
                   "prints custody), e.g. a case.")  # fmt: skip
@click.option("--split", is_flag=True,
              help="When --quantity lies on the shelf in several ranges, send one shipment per range.")  # fmt: skip
@chain_options
@click.pass_context
def ship(
    ctx: click.Context, session: Session, batch_id: str, recipient: str, quantity: int | None, first: int | None,
    units: str | None, split: bool,
) -> None:  # fmt: skip
    """Ship units of BATCH_ID from the acting member's shelf (the recipient then receives it).

    A shipment carries one range of units (a case, a pallet: the serial list keeps the packing
    order); custody of those very units passes to the recipient when it receives them."""
    chosen = _range_option(units)
    if chosen is not None:
        if quantity is not None or first is not None or split:
            raise click.UsageError("--range names the units: give it without --quantity, --from-index or --split")
        first, quantity = chosen[0], chosen[1] - chosen[0]
    if quantity is None:
        raise click.UsageError("say what to ship: --quantity (optionally with --from-index) or --range START:END")
    if split and first is not None:
        raise click.UsageError("--split picks the ranges itself: give it without --from-index")
    batches = session.ledger().batches
    if split:
        emit(ctx, [_shipped_fields(s) for s in batches.ship_split(batch_id, recipient, quantity)],
             title="shipped (in transit)")  # fmt: skip
        return
    emit(ctx, _shipped_fields(batches.ship(batch_id, recipient, quantity, start=first)), title="shipped (in transit)")


def _shipment_command(name: str, method: str, title: str, help_text: str) -> None:
    @batch.command(name=name, help=help_text)
    @click.argument("shipment_id")
    @chain_options
    @click.pass_context
    def command(ctx: click.Context, session: Session, shipment_id: str) -> None:
        ledger = session.ledger()
        shipment = ledger.batches.find_shipment(shipment_id)
        receipt = getattr(ledger.batches, method)(shipment)
        emit(ctx, {"shipment_id": shipment.id, "batch_id": shipment.batch_id, "quantity": shipment.quantity,
                   "units": f"{shipment.start}:{shipment.end}", "status": ledger.batches.shipment_status(shipment),
                   **receipt_fields(receipt)}, title=title)  # fmt: skip


_shipment_command("receive", "receive", "shipment received", "Take SHIPMENT_ID onto the acting recipient's shelf.")
_shipment_command("cancel", "cancel", "shipment cancelled", "Take back SHIPMENT_ID before it is received (the shipper).")


@batch.command(name="history")
@click.argument("batch_id")
@click.option("--graph", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the custody path as an SVG image into this file.")  # fmt: skip
@click.option("--epcis", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the steps as a GS1 EPCIS 2.0 document (JSON-LD) into this file.")  # fmt: skip
@chain_options
@click.pass_context
def history(ctx: click.Context, session: Session, batch_id: str, graph: Path | None, epcis: Path | None) -> None:
    """The custody path of BATCH_ID: commissioning, shipping, receiving, dispensing, alarms, holds, in order."""
    ledger = session.ledger()
    steps = ledger.batches.history(batch_id)
    if epcis is not None:
        from medledger.epcis import epcis_document, epcis_json

        times = {block: ledger.batches.block_time(block) for block in {s.block_number for s in steps}}
        document = epcis_document(ledger.batches.get(batch_id), ledger.batches.lot_of(batch_id), steps,
                                  chain_id=session.chain.chain_id, block_times=times, created=ledger.batches.block_time())  # fmt: skip
        epcis.write_text(epcis_json(document))
    if graph is not None:
        from medledger.graph import custody_svg

        parties = {p for s in steps for p in (s.actor, s.counterparty) if p}
        kinds = {p: kind.name.lower() for p in parties if (kind := ledger.consortium.institution(p).kind) is not None}
        found = ledger.batches.get(batch_id)
        graph.write_text(custody_svg(steps, kinds, f"GTIN {format_gtin(found.gtin)} batch {found.id.hex()[:12]}…"))
    emit(ctx, [{"block": s.block_number, "step": s.step, "by": s.actor, "to": s.counterparty or "-",
                "quantity": s.quantity if s.quantity is not None else "-",
                "units": f"{s.units[0]}:{s.units[1]}" if s.units else "-",
                "reason": s.reason_code if s.reason_code is not None else "-",
                "shipment": s.shipment_id.hex()[:12] + "…" if s.shipment_id else "-"} for s in steps],
         title="custody path")  # fmt: skip


@batch.command(name="verify")
@click.argument("batch_id")
@chain_options
@click.pass_context
def verify_batch(ctx: click.Context, session: Session, batch_id: str) -> None:
    """Is BATCH_ID genuine, in date and not on hold or recalled? Exit 0 if verified, 3 if not."""
    ledger = session.ledger()
    result = ledger.batches.verify(batch_id)
    emit(ctx, {"batch_id": batch_id, "verified": result is BatchValidity.VERIFIED, "result": result},
         title="batch check")  # fmt: skip
    if result is not BatchValidity.VERIFIED:
        ctx.exit(NOT_VERIFIED_EXIT)


@batch.command(name="show")
@click.argument("batch_id")
@chain_options
@click.pass_context
def show_batch(ctx: click.Context, session: Session, batch_id: str) -> None:
    """Show the stored batch BATCH_ID and who has custody of which of its units."""
    ledger = session.ledger()
    found = ledger.batches.get(batch_id)
    if not found.exists:
        raise BatchNotFound({"batchId": found.id}, message=f"no batch {batch_id} is registered")
    custody = ledger.batches.ranges(found.id)
    shown: object = [_custody_fields(r) for r in custody] if wants_json(ctx) else "; ".join(map(_custody_text, custody))
    emit(ctx, {**_batch_fields(found), "custody": shown}, title="batch")


def _custody_fields(found: CustodyRange) -> dict[str, object]:
    return {"start": found.start, "end": found.end, "quantity": found.quantity, "holder": found.holder,
            "in_transit": found.in_transit}  # fmt: skip


def _custody_text(found: CustodyRange) -> str:
    return f"{found.label} {found.holder}{' (in transit from)' if found.in_transit else ''}"
