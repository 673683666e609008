"""``medledger serials``, ``medledger unit verify|dispense`` and ``medledger rx issue|fill|cancel|show|list``.

A manufacturer makes the serials of a batch and publishes the proofs file; a pharmacist checks a
pack against it and dispenses packs against a prescription. A counterfeit alarm is not an error of
the user: the transaction succeeds and records it for the regulator, and the command says so
loudly and exits with status 3.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import click

from medledger.cli.common import Session, chain_options, end_time, json_option, lifecycle_command, receipt_fields, show_time
from medledger.cli.common import document_hash as hash_of_document
from medledger.cli.output import emit
from medledger.client.batches import batch_id as make_batch_id
from medledger.client.facade import MedLedger
from medledger.client.base import bytes32, checksum
from medledger.client.prescriptions import Prescription, Slip
from medledger.client.products import format_gtin, parse_gtin
from medledger.errors import InvalidInput
from medledger.gs1 import Pack, parse_pack
from medledger.keyfile import write_private
from medledger.serials import MultiProof, SerialTree, Unit, generate
from medledger.types import PackVerdict, PrescriptionStatus

#: Exit status when a pack is not verified or a fill raised a counterfeit alarm.
SUSPECT_EXIT = 3
PROOFS = click.Path(exists=True, dir_okay=False, path_type=Path)
SLIP = click.Path(exists=True, dir_okay=False, path_type=Path)


def load_proofs(path: Path) -> tuple[SerialTree, dict[str, Any]]:
    """A proofs file's tree (rebuilt and checked against its root) and its label (gtin, lot)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}") from None
    tree = SerialTree.from_json(text)
    saved = json.loads(text)
    return tree, {"gtin": saved.get("gtin"), "lot": saved.get("lot")}


# ─── serials ────────────────────────────────────────────────────────────────────────────────


@click.group()
def serials() -> None:
    """Unit serials of a batch: generate them, build their Merkle tree, write the proofs file."""


@serials.command(name="generate")
@click.option("--gtin", required=True, help="The product's GTIN.")
@click.option("--lot", required=True, help="The lot number.")
@click.option("--count", type=click.IntRange(1, 1_000_000), required=True, help="Units in the batch.")
@click.option("--length", type=click.IntRange(6, 20), default=12, show_default=True, help="Serial length.")
@click.option("--from-file", "listed", type=PROOFS, default=None,
              help="Use these serials (one per line, in packing order) instead of random ones.")  # fmt: skip
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Proofs file to write.")
@json_option
@click.pass_context
def generate_serials(
    ctx: click.Context, gtin: str, lot: str, count: int, length: int, listed: Path | None, out: Path
) -> None:
    """Make the serials of a batch and write its proofs file; prints the root for `batch register`."""
    if listed is not None:
        chosen = [line.strip() for line in listed.read_text().splitlines() if line.strip()]
        if len(chosen) != count:
            raise click.BadParameter(f"{listed} holds {len(chosen)} serials, not --count {count}")
    else:
        chosen = generate(count, length)
    tree = SerialTree(make_batch_id(gtin, lot), chosen)
    saved = json.loads(tree.to_json()) | {"gtin": format_gtin(parse_gtin(gtin)), "lot": lot}
    if out.exists():
        raise click.BadParameter(f"{out} exists: choose another --out (a proofs file is never overwritten)")
    out.write_text(json.dumps(saved, indent=1))
    emit(ctx, {"batch_id": tree.batch_id, "serial_root": tree.root, "units": len(chosen), "proofs_file": str(out)},
         title="serials generated")  # fmt: skip


@serials.command(name="show")
@click.argument("proofs_file", type=PROOFS)
@click.option("--serial", default=None, help="Also print this unit's index and proof.")
@json_option
@click.pass_context
def show_serials(ctx: click.Context, proofs_file: Path, serial: str | None) -> None:
    """Check a proofs file (its serials give its root) and print its batch, root and size."""
    tree, label = load_proofs(proofs_file)
    fields: dict[str, Any] = {"batch_id": tree.batch_id, "serial_root": tree.root, "units": len(tree.serials), **label}
    if serial is not None:
        fields |= {"serial": serial, "index": tree.unit(serial).index, "proof": tree.proof(serial)}
    emit(ctx, fields, title="proofs file")


# ─── unit ───────────────────────────────────────────────────────────────────────────────────


@click.group()
def unit() -> None:
    """Serialised packs: verify one in hand, dispense against a prescription."""


def _pack(element: str | None, gtin: str | None, lot: str | None, serial: str | None, label: dict[str, Any]) -> Pack:
    if element is not None:
        if any((gtin, lot, serial)):
            raise click.UsageError("give either --pack or --gtin/--lot/--serial, not both")
        return parse_pack(element)
    gtin, lot = gtin or label.get("gtin"), lot or label.get("lot")
    if not (gtin and lot and serial):
        raise click.UsageError("name the pack: --pack '(01)…(17)…(10)…(21)…', or --serial with --gtin and --lot")
    return Pack(parse_gtin(gtin), lot, serial, None)


@unit.command(name="verify")
@click.option("--proofs", "proofs_file", type=PROOFS, required=True, help="The batch's proofs file.")
@click.option("--pack", "element", default=None, help="The pack's GS1 element string, e.g. (01)…(17)YYMMDD(10)LOT(21)SERIAL.")
@click.option("--gtin", default=None, help="GTIN as printed (default: the proofs file's).")
@click.option("--lot", default=None, help="Lot as printed (default: the proofs file's).")
@click.option("--serial", default=None, help="Serial as printed.")
@click.option("--holder", default=None,
              help="Who has the pack in hand: also check that its custody reached them (else held_by_another).")  # fmt: skip
@chain_options
@click.pass_context
def verify_unit(
    ctx: click.Context, session: Session, proofs_file: Path, element: str | None, gtin: str | None,
    lot: str | None, serial: str | None, holder: str | None,
) -> None:  # fmt: skip
    """Is this pack genuine and dispensable? Answers like the DSCSA verification router; exit 3 if not."""
    tree, label = load_proofs(proofs_file)
    pack = _pack(element, gtin, lot, serial, label)
    if pack.serial in tree.serials:
        unit_, proof = tree.unit(pack.serial), tree.proof(pack.serial)
    else:
        unit_, proof = Unit(0, pack.serial), []
    answer = session.ledger().batches.check_pack(pack.gtin, pack.lot, unit_, proof, expiry=pack.expiry, holder=holder)
    emit(ctx, {"gtin": format_gtin(pack.gtin), "lot": pack.lot, "serial": pack.serial,
               "verified": answer.verdict is PackVerdict.VERIFIED, "result": answer.verdict,
               "batch_id": answer.batch.id if answer.batch else "-"}, title="pack check")  # fmt: skip
    if answer.verdict is not PackVerdict.VERIFIED:
        ctx.exit(SUSPECT_EXIT)


def _dispense(ctx: click.Context, session: Session, prescription_id: int, proofs_file: Path, picked: tuple[str, ...]) -> None:
    """Fill ``prescription_id`` with the packs ``picked`` of the proofs file's batch."""
    tree, _ = load_proofs(proofs_file)
    if not picked:
        raise click.UsageError("name at least one pack with --serial")
    if all(serial in tree.serials for serial in picked):
        units = tree.multiproof(picked)
    else:
        # A serial the manufacturer never made has no proof: submit the packs anyway, bound by
        # leaves only, so the chain records the alarm for the regulator.
        units = MultiProof([tree.unit(s) if s in tree.serials else Unit(0, s) for s in picked], [],
                           [True] * (len(picked) - 1))  # fmt: skip
    fill = session.ledger().prescriptions.fill(prescription_id, tree.batch_id, units)
    if fill.alarm is not None:
        emit(ctx, {"prescription": prescription_id, "filled": False, "alarm": fill.alarm.reason,
                   "serials": list(fill.alarm.serials), **receipt_fields(fill.receipt)},
             title="COUNTERFEIT ALARM recorded on chain: nothing dispensed")  # fmt: skip
        ctx.exit(SUSPECT_EXIT)
    emit(ctx, {"prescription": prescription_id, "filled": True, "batch_id": tree.batch_id,
               "units": [u.serial for u in units.units], **receipt_fields(fill.receipt)}, title="dispensed")  # fmt: skip


@unit.command(name="dispense")
@click.option("--rx", "prescription_id", type=click.IntRange(1), required=True, help="The prescription filled.")
@click.option("--proofs", "proofs_file", type=PROOFS, required=True, help="The batch's proofs file.")
@click.option("--serial", "picked", multiple=True, help="A pack's serial (repeat for several).")
@chain_options
@click.pass_context
def dispense_units(ctx: click.Context, session: Session, prescription_id: int, proofs_file: Path, picked: tuple[str, ...]) -> None:
    """Dispense packs to a patient against prescription --rx (the acting pharmacy). Same as `rx fill`."""
    _dispense(ctx, session, prescription_id, proofs_file, picked)


# ─── rx ─────────────────────────────────────────────────────────────────────────────────────


@click.group()
def rx() -> None:
    """Prescriptions: issue (licensed practitioner), fill (pharmacy), cancel (prescriber), show."""


def prescription_fields(found: Prescription, validity: Any, commitment: bytes, slip: Slip | None = None) -> dict[str, Any]:
    """What `rx show` prints; the patient's wallet only from the patient's slip (the chain holds a commitment)."""
    return {
        "id": found.id, "status": found.status, "fillable": validity, "patient_commitment": commitment,
        **({"patient": slip.patient} if slip else {}), "prescriber": found.prescriber, "gtin": format_gtin(found.gtin), "quantity_per_fill": found.quantity_per_fill,
        "refills": found.refills, "fills": found.fills, "fills_left": found.fills_left, "dispensed": found.dispensed,
        "valid_until": show_time(found.valid_until), "document_hash": found.document_hash,
    }  # fmt: skip


def _show(ledger: MedLedger, prescription_id: int, slip: Slip | None = None) -> dict[str, Any]:
    found = ledger.prescriptions.get(prescription_id)
    if found.status is PrescriptionStatus.NONE:
        raise InvalidInput(f"no prescription {prescription_id} was ever issued")
    commitment = ledger.prescriptions.patient_commitment(prescription_id)
    if slip is not None and (slip.id != prescription_id or slip.commitment != commitment):
        raise InvalidInput(f"the slip does not match prescription {prescription_id}: wrong patient or salt")
    return prescription_fields(found, ledger.prescriptions.check(prescription_id), commitment, slip)


def _pending_slip(ledger: MedLedger, path: Path, patient: str, salt: bytes) -> Path:
    """Write ``path``.pending (mode 0600) holding the salt of a prescription about to be issued, so
    that a crash between sending and the receipt cannot lose the only key to its commitment (the
    id, unknown until then, is 0 there; `rx list --slip` finds the prescription by commitment).
    Refuses before anything is sent when ``path`` exists or its folder cannot be written."""
    if path.exists():
        raise click.BadParameter(f"{path} exists: a slip is never overwritten", param_hint="--slip")
    if not path.parent.is_dir():
        raise click.BadParameter(f"{path.parent} is not a folder", param_hint="--slip")
    pending = path.with_name(path.name + ".pending")
    slip = Slip(0, checksum(patient, "patient"), salt, ledger.prescriptions.address, int(ledger.w3.eth.chain_id))
    try:
        write_private(pending, json.dumps(slip.as_json(), indent=2) + "\n")
    except OSError as exc:
        raise click.BadParameter(f"cannot write {pending}: {exc.strerror}", param_hint="--slip") from None
    return pending


def _slip(path: Path | None) -> Slip | None:
    return None if path is None else Slip.read(path)


@rx.command(name="issue")
@click.option("--patient", required=True, help="The registered patient's wallet (only a salted commitment goes on chain).")
@click.option("--gtin", required=True, help="The product prescribed.")
@click.option("--quantity", type=click.IntRange(1, 10_000), required=True, help="Packs per fill.")
@click.option("--refills", type=click.IntRange(0, 99), default=0, show_default=True, help="Fills after the first.")
@click.option("--valid-until", "until", default=None, help="End of validity (YYYY-MM-DD or ISO time).")
@click.option("--days", type=click.IntRange(1, 366), default=None, help="Or: valid for this many days.")
@click.option("--document", type=PROOFS, default=None, help="The signed prescription; only its sha256 goes on chain.")
@click.option("--slip", "slip_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the patient's slip (wallet and salt) to this file, to hand to the patient.")  # fmt: skip
@chain_options
@click.pass_context
def issue(
    ctx: click.Context, session: Session, patient: str, gtin: str, quantity: int, refills: int, until: str | None,
    days: int | None, document: Path | None, slip_path: Path | None,
) -> None:  # fmt: skip
    """Prescribe a product for a patient (the acting licensed practitioner).

    The chain holds only a commitment to the patient's wallet; the salt that opens it is printed
    (and written with --slip) for the patient, who shows it to the pharmacy."""
    ledger = session.ledger()
    valid_until = end_time(ledger.prescriptions.block_time(), until, days)
    salt = secrets.token_bytes(32)
    if slip_path is not None:  # the salt is kept before anything is sent: see _pending_slip
        pending = _pending_slip(ledger, slip_path, patient, salt)
    try:
        issued = ledger.prescriptions.issue(patient, gtin, quantity_per_fill=quantity, refills=refills,
                                            valid_until=valid_until, document_hash=hash_of_document(document, None),
                                            salt=salt)  # fmt: skip
    except BaseException:
        if slip_path is not None:
            pending.unlink(missing_ok=True)  # refused or failed before it was sent: nothing to open
        raise
    if slip_path is not None:
        issued.slip.write(slip_path)
        pending.unlink(missing_ok=True)
    emit(ctx, {**_show(ledger, issued.id, issued.slip), "patient_salt": issued.slip.salt,
               **({"slip": str(slip_path)} if slip_path else {}), **receipt_fields(issued.receipt)},
         title="prescription issued (hand the patient its salt)")  # fmt: skip


@rx.command(name="fill")
@click.argument("prescription_id", type=click.IntRange(1))
@click.option("--proofs", "proofs_file", type=PROOFS, required=True, help="The batch's proofs file.")
@click.option("--serial", "picked", multiple=True, help="A pack's serial (repeat for several).")
@click.option("--slip", "slip_path", type=SLIP, default=None,
              help="The patient's slip: checked against the prescription before filling.")  # fmt: skip
@chain_options
@click.pass_context
def fill(
    ctx: click.Context, session: Session, prescription_id: int, proofs_file: Path, picked: tuple[str, ...],
    slip_path: Path | None,
) -> None:  # fmt: skip
    """Fill PRESCRIPTION_ID by dispensing packs of the proofs file's batch (the acting pharmacy).

    With --slip, the patient's slip must open the prescription's commitment and name a registered
    patient other than the prescriber. A pack already dispensed, not of the batch, or whose
    custody is at another member (or in transit) raises a counterfeit alarm on chain; then nothing
    is dispensed and the command exits with status 3."""
    slip = _slip(slip_path)
    if slip is not None:
        if slip.id != prescription_id:
            raise InvalidInput(f"the slip is for prescription {slip.id}, not {prescription_id}")
        session.ledger().prescriptions.check_slip(slip)
    _dispense(ctx, session, prescription_id, proofs_file, picked)


lifecycle_command(
    rx, "cancel", "Cancel PRESCRIPTION_ID for good (its prescriber).", argument="prescription_id", with_reason=True,
    reason_help="Reason code of the consortium's rulebook.",
    act=lambda ledger, key, reason: ledger.prescriptions.cancel(_number(key), reason or 0),
    show=lambda ledger, key: _show(ledger, _number(key)), title="prescription cancelled",
)  # fmt: skip


def _number(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise click.BadParameter(f"prescription id {text!r} must be a whole number from 1")
    return int(text)


@rx.command(name="show")
@click.argument("prescription_id", type=click.IntRange(1))
@click.option("--fhir", is_flag=True, help="Print it as a FHIR R4 MedicationRequest (JSON).")
@click.option("--slip", "slip_path", type=SLIP, default=None, help="The patient's slip: show (and check) the patient.")
@chain_options
@click.pass_context
def show(ctx: click.Context, session: Session, prescription_id: int, fhir: bool, slip_path: Path | None) -> None:
    """Show PRESCRIPTION_ID: what it allows, what was filled, whether it may be filled now.

    The patient is shown only with its slip; otherwise the chain's commitment."""
    ledger = session.ledger()
    slip = _slip(slip_path)
    fields = _show(ledger, prescription_id, slip)
    if fhir:
        click.echo(json.dumps(ledger.prescriptions.medication_request(prescription_id, slip), indent=2))
        return
    fills = [{"fill": f.fill, "pharmacy": f.pharmacy, "batch": f.batch_id, "quantity": f.quantity, "block": f.block_number}
             for f in ledger.prescriptions.fills(prescription_id)]  # fmt: skip
    emit(ctx, {**fields, "fill_history": fills}, title="prescription")


@rx.command(name="list")
@click.option("--patient", default=None, help="The patient's wallet, with the --salt of each of its slips.")
@click.option("--salt", "salts", multiple=True, help="A slip's salt (0x-hex; repeat for several).")
@click.option("--slip", "slip_paths", type=SLIP, multiple=True, help="Or: the patient's slip files.")
@chain_options
@click.pass_context
def list_prescriptions(
    ctx: click.Context, session: Session, patient: str | None, salts: tuple[str, ...], slip_paths: tuple[Path, ...]
) -> None:  # fmt: skip
    """A patient's prescriptions, oldest first, found by the salts of its slips (the chain holds no
    wallet next to a prescription, so it cannot list them by wallet)."""
    if (patient is None) != (not salts) or (patient is None) == (not slip_paths):
        raise click.UsageError("give --patient with one --salt per slip, or --slip files")
    ledger = session.ledger()
    if patient is not None:
        found = ledger.prescriptions.of_patient(patient, [bytes32(s, "salt") for s in salts])
    else:
        slips = [Slip.read(path) for path in slip_paths]
        found = [p for w in sorted({s.patient for s in slips})
                 for p in ledger.prescriptions.of_patient(w, [s.salt for s in slips if s.patient == w])]  # fmt: skip
        found.sort(key=lambda p: p.id)
    emit(ctx, [{"id": p.id, "gtin": format_gtin(p.gtin), "status": p.status, "fillable": ledger.prescriptions.check(p.id),
                "fills": f"{p.fills}/{1 + p.refills}", "valid_until": show_time(p.valid_until)}
               for p in found], title="prescriptions")  # fmt: skip
