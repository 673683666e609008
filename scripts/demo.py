"""The medledger story, end to end, on the embedded chain (or --chain anvil|ganache|URL).

A consortium is set up, a licensing authority licenses a doctor, a hospital employs her, and
anyone can check the licence in one call; then the licence is suspended, reinstated, revoked, and
the authority loses its accreditation. Then a patient's referral: the patient grants a community
clinic's doctor by a signed message, the doctor anchors an encrypted lab record and refers the
patient to a tertiary hospital, which reads it from the vault against a logged read; an emergency
doctor breaks the glass and the patient sees it flagged. Then medicines: a serialised batch
moves from manufacturer to distributor to pharmacy, a prescription is filled by dispensing
serials, a copied serial raises a counterfeit alarm, and a recall stops a shipment. Last, the
regulator indexes every event into SQLite and asks it for break-glass sessions, a credential's
history and a batch's path. Every step states what must happen; the demo exits non-zero if
anything else happens.

    python scripts/demo.py [--chain embedded|anvil|ganache|URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from eth_account import Account  # noqa: E402
from eth_utils import keccak  # noqa: E402

from medledger import chain as chainmod  # noqa: E402
from medledger.audit import AuditIndex  # noqa: E402
from medledger.client.batches import batch_id  # noqa: E402
from medledger.client import MedLedger  # noqa: E402
from medledger.deploy import deploy_suite  # noqa: E402
from medledger.chain import Chain  # noqa: E402
from medledger.errors import InvalidState, MedLedgerError, NotAuthorized  # noqa: E402
from medledger.identity import identity_commitment, new_salt, public_key  # noqa: E402
from medledger.serials import SerialTree, generate  # noqa: E402
from medledger.types import (  # noqa: E402
    BatchValidity,
    CredentialValidity,
    InstitutionKind,
    RecordStatus,
    Suspicion,
    UnitValidity,
)
from medledger.vault import ReadRefused, ReadRequest, Vault, open_delivery  # noqa: E402

console = Console()


class Story:
    """Runs steps, shows each with its outcome, and remembers whether every outcome was right."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def step(self, text: str, check: Callable[[], Any], expect: Any) -> None:
        try:
            got = check()
        except MedLedgerError as exc:
            got = type(exc)
        ok = got == expect or (isinstance(expect, type) and isinstance(got, type) and issubclass(got, expect))
        shown = got.__name__ if isinstance(got, type) else str(getattr(got, "name", got)).lower()
        mark = "[green]✔[/]" if ok else "[red]✘[/]"
        console.print(f"  {mark} {escape(text)} → [bold]{escape(shown)}[/]")
        if not ok:
            self.failures.append(f"{text}: expected {expect}, got {got}")


def chapter(title: str) -> None:
    console.print(f"\n[bold cyan]{title}[/]")


def referral_story(story: Story, chain: Chain, admin: MedLedger) -> tuple[str, str]:
    """Chapters 8-13: a patient, a community clinic, a tertiary hospital, an emergency.
    Returns the patient and the emergency doctor."""
    a = chain.accounts
    authority, hospital, outsider = a[2], a[3], a[5]
    clinic, clinic_doctor, patient, er_doctor = a[6], a[7], a[8], a[9]
    as_ = admin.using
    keys = {account.address: bytes([n]) * 32 for n, account in enumerate((patient, clinic_doctor, hospital, er_doctor), 1)}

    chapter("8. A patient registers: a salted commitment and an encryption key, never a name")
    admin.consortium.accredit(clinic.address, InstitutionKind.CLINIC, b"\x22" * 32)
    now = chain.now()
    for subject, kind in ((clinic_doctor, "licence"), (er_doctor, "licence"), (clinic, "accreditation"),
                          (hospital, "accreditation")):  # fmt: skip
        as_(authority).credentials.issue(subject.address, kind, valid_from=now, valid_until=now + 365 * 86400)
    identity = {"name": "Patient P", "birth_date": "1970-01-01", "national_id": "X-0000"}
    receipt = as_(patient).patients.register(identity_commitment(identity, new_salt()), public_key(keys[patient.address]))
    for account in (clinic_doctor, hospital, er_doctor):
        as_(account).patients.publish_encryption_key(public_key(keys[account.address]))
    console.print(f"     registered with {receipt.gas_used:,} gas; on chain: a hash and a public key")
    story.step("the patient is registered", lambda: admin.patients.is_registered(patient.address), True)

    chapter("9. The patient grants the clinic's doctor labs and notes, by a signed message (no gas)")
    signed = as_(patient).consent.sign_grant(
        clinic_doctor.address, ["labs", "clinical-notes"], write_categories=["labs"], purpose="treatment",
        valid_until=now + 30 * 86400, referral_allowed=True,
    )  # fmt: skip
    relayed = as_(clinic).consent.relay(signed)
    console.print(f"     the clinic relayed the EIP-712 grant and paid {relayed.gas_used:,} gas")
    story.step("the clinic's doctor may read labs",
               lambda: admin.consent.can_access(clinic_doctor.address, patient.address, "labs"), True)  # fmt: skip
    story.step("the same signature relayed again", lambda: as_(outsider).consent.relay(signed), InvalidState)
    fhir = admin.consent.fhir_consent(patient.address, clinic_doctor.address)
    console.print(f"     as FHIR: Consent {fhir['status']}, purpose {fhir['provision']['purpose'][0]['code']}, "
                  f"until {fhir['provision']['period']['end']}")  # fmt: skip

    chapter("10. The clinic's doctor anchors an encrypted lab record")
    with tempfile.TemporaryDirectory() as folder:
        vault = Vault(Path(folder), custodian_key=b"\x99" * 32)
        report = b'{"resourceType": "Observation", "code": "HbA1c", "value": 6.1}'
        sealed = vault.seal(report, patient.address, "labs", {
            patient.address: public_key(keys[patient.address]),
            clinic_doctor.address: public_key(keys[clinic_doctor.address]),
        })  # fmt: skip
        as_(clinic_doctor).records.anchor(patient.address, "labs", sealed.record, sealed.uri)
        story.step("the file in the vault is the current anchored version",
                   lambda: admin.records.verify(sealed.record), RecordStatus.CURRENT)  # fmt: skip

        chapter("11. The doctor refers the patient to the tertiary hospital, which reads the record")
        as_(clinic_doctor).consent.refer(patient.address, hospital.address, ["labs"], valid_until=now + 7 * 86400)
        skipped = ReadRequest.sign(hospital, sealed.record, relayed.tx_hash, chain.chain_id, vault.id)
        story.step("the hospital asks the vault without logging the read",
                   lambda: vault.serve(skipped, admin), ReadRefused)  # fmt: skip
        logged = as_(hospital).access.log_read(sealed.record)
        console.print(f"     read logged on chain ({logged.basis.name.lower()}, {logged.receipt.gas_used:,} gas)")
        request = ReadRequest.sign(hospital, sealed.record, logged.receipt.tx_hash, chain.chain_id, vault.id)
        # Served once the chain will keep the read: at once on a dev chain, after 12 blocks elsewhere.
        delivery = vault.serve_when_confirmed(request, admin, timeout=600)
        story.step("the hospital decrypts the lab record it was served",
                   lambda: open_delivery(delivery, keys[hospital.address], patient.address, "labs") == report, True)  # fmt: skip

        chapter("12. In an emergency, a doctor with no grant breaks the glass")
        as_(er_doctor).access.open_break_glass(patient.address, reason_code=4, duration=3600)
        as_(er_doctor).access.log_read(sealed.record)
    history = as_(patient).access.history(patient.address)
    for entry in history:
        flag = "  [red bold]BREAK-GLASS[/]" if entry.break_glass else ""
        console.print(f"     {entry.reader} read {entry.category.name.lower()} ({entry.basis.name.lower()}){flag}")
    story.step("the patient's history flags the emergency read",
               lambda: [e.break_glass for e in history], [False, True])  # fmt: skip
    as_(patient).access.close_break_glass(patient.address, er_doctor.address)
    story.step("after the patient closes it, the emergency doctor is out",
               lambda: admin.consent.can_access(er_doctor.address, patient.address, "labs"), False)  # fmt: skip

    chapter("13. The patient revokes the clinic doctor's grant; the referral it made ends with it")
    as_(patient).consent.revoke(patient.address, clinic_doctor.address)
    story.step("the hospital may still read",
               lambda: admin.consent.can_access(hospital.address, patient.address, "labs"), False)  # fmt: skip
    return patient.address, er_doctor.address


def medicine_story(story: Story, chain: Chain, admin: MedLedger) -> bytes:
    """Chapters 14-18: a serialised batch from factory to patient, a counterfeit, a recall.
    Returns the batch id."""
    a = chain.accounts
    regulator, authority, prescriber, patient = a[1], a[2], a[7], a[8]
    maker, distributor, pharmacy = (Account.from_key(keccak(text=f"medledger demo {name}"))
                                    for name in ("manufacturer", "distributor", "pharmacy"))  # fmt: skip
    as_ = admin.using
    for account, kind in ((maker, "manufacturer"), (distributor, "distributor"), (pharmacy, "pharmacy")):
        admin.transactor.transfer(admin.require_signer(), account.address, 10**18)
        admin.consortium.accredit(account.address, kind, b"\x33" * 32)
    now = chain.now()
    for account in (maker, pharmacy):  # both need a valid accreditation: to register, and to fill
        as_(authority).credentials.issue(account.address, "accreditation", valid_from=now, valid_until=now + 365 * 86400)

    chapter("14. A manufacturer registers a product and a serialised batch: 100 packs, one Merkle root")
    gtin, lot = "09506000134352", "LOT-DEMO-1"
    tree = SerialTree(batch_id(gtin, lot), generate(100))
    as_(regulator).products.assign_prefix("9506000", maker.address)  # the GTIN's GS1 company prefix
    story.step("the manufacturer tries a GTIN of another company's prefix (4006381)",
               lambda: as_(maker).products.register("4006381333931", "Not ours"), NotAuthorized)  # fmt: skip
    as_(maker).products.register(gtin, "Amoxicillin 500 mg capsules, 21", b"\x55" * 32)
    batch = as_(maker).batches.register(gtin, lot, quantity=100, manufactured_on=now - 86400,
                                        expires_on=now + 365 * 86400, serial_root=tree.root).id  # fmt: skip
    console.print(f"     batch {batch.hex()[:16]}…: 100 serials, only their root on chain")
    story.step("anyone verifies the batch", lambda: admin.batches.verify(batch), BatchValidity.VERIFIED)

    chapter("15. Custody: manufacturer → distributor → pharmacy, each handover shipped then received")
    to_distributor = as_(maker).batches.ship(batch, distributor.address, 60)
    as_(distributor).batches.receive(to_distributor.shipment)
    to_pharmacy = as_(distributor).batches.ship(batch, pharmacy.address, 20)
    as_(pharmacy).batches.receive(to_pharmacy.shipment)
    story.step("the pharmacy holds 20 packs", lambda: admin.batches.holding(batch, pharmacy.address).held, 20)
    story.step("custody is per pack, as ranges of the serial list (cases): the pharmacy's packs are",
               lambda: [r.label for r in admin.batches.ranges(batch, holder=pharmacy.address)], ["0:20"])  # fmt: skip
    story.step("the pharmacy tries to ship onward to a distributor",
               lambda: as_(pharmacy).batches.ship(batch, distributor.address, 1), NotAuthorized)  # fmt: skip

    chapter("16. A doctor prescribes 2 packs with 1 refill; the pharmacy fills by dispensing serials")
    issued = as_(prescriber).prescriptions.issue(patient.address, gtin, quantity_per_fill=2, refills=1,
                                                 valid_until=now + 30 * 86400, document_hash=b"\x07" * 32)  # fmt: skip
    rx, slip = issued.id, issued.slip
    console.print(f"     on chain only a commitment to the patient: {slip.commitment.hex()[:16]}…; the salt goes on the slip")
    as_(pharmacy).prescriptions.check_slip(slip)  # the patient shows the slip at the counter
    first, second = tree.serials[:2]
    filled = as_(pharmacy).prescriptions.fill(rx, batch, tree.multiproof([first, second]))
    console.print(f"     fill 1 of 2: packs {first}, {second} dispensed, {filled.receipt.gas_used:,} gas")
    story.step("the prescription has one fill left", lambda: admin.prescriptions.get(rx).fills_left, 1)
    request = admin.prescriptions.medication_request(rx, slip)
    console.print(f"     as FHIR: MedicationRequest {request['status']}, "
                  f"{request['dispenseRequest']['numberOfRepeatsAllowed']} repeat allowed")  # fmt: skip
    story.step("a pack in a patient's hand checks as dispensed",
               lambda: admin.batches.verify_unit(batch, tree.unit(first), tree.proof(first)), UnitValidity.ALREADY_DISPENSED)  # fmt: skip

    chapter("17. A counterfeit: a box with a copied serial is presented for the refill")
    alarm = as_(pharmacy).prescriptions.fill(rx, batch, tree.multiproof([first]))
    story.step("the fill dispenses nothing and raises an alarm",
               lambda: "dispensed" if alarm.filled else alarm.alarm and alarm.alarm.reason, Suspicion.ALREADY_DISPENSED)  # fmt: skip
    story.step(f"the regulator sees the alarm for {first} on chain (a revert would leave no trace)",
               lambda: [a.serials for a in as_(regulator).batches.alarms()] == [(first,)], True)  # fmt: skip
    story.step("the refill is still there for the genuine pack", lambda: admin.prescriptions.get(rx).fills_left, 1)
    diverted = tree.serials[50]
    held = as_(pharmacy).prescriptions.fill(rx, batch, tree.multiproof([diverted]))
    story.step(f"a genuine pack {diverted}, still on the distributor's shelf, is presented: held by another",
               lambda: held.alarm and held.alarm.reason, Suspicion.HELD_BY_ANOTHER)  # fmt: skip

    chapter("18. A recall stops a shipment in transit and every further fill")
    in_transit = as_(distributor).batches.ship(batch, pharmacy.address, 10)
    as_(regulator).batches.recall(batch, 7)
    story.step("the pharmacy tries to receive the shipment", lambda: as_(pharmacy).batches.receive(in_transit.shipment),
               InvalidState)  # fmt: skip
    story.step("the pharmacy tries the refill", lambda: as_(pharmacy).prescriptions.fill(
        rx, batch, tree.multiproof([tree.serials[2]])), InvalidState)  # fmt: skip
    as_(distributor).batches.cancel(in_transit.shipment)
    story.step("the stock returns to the distributor for destruction",
               lambda: admin.batches.holding(batch, distributor.address).held, 40)  # fmt: skip
    for step in admin.batches.history(batch):
        serials = f" {', '.join(step.serials)}" if step.serials else ""
        quantity = f" {step.quantity}" if step.quantity is not None else ""
        units = f" (packs {step.units[0]}:{step.units[1]})" if step.units else ""
        console.print(f"     block {step.block_number:>3}  {step.step:<13} by {step.actor[:10]}…{quantity}{units}{serials}")
    return batch


def audit_story(story: Story, chain: Chain, admin: MedLedger, people: dict[str, Any], batch: bytes) -> None:
    """Chapter 19: the regulator's own copy of the audit trail, in one SQLite file."""
    chapter("19. The regulator indexes every event into SQLite and asks it questions, offline")
    with tempfile.TemporaryDirectory() as folder, AuditIndex(
        Path(folder) / "audit.sqlite", w3=chain.w3, deployment=admin.deployment, batch_size=25
    ) as index:
        report = index.sync()
        console.print(f"     {report.events_added} events from blocks {report.from_block}-{report.to_block}, "
                      f"checked for reorgs at every sync")  # fmt: skip
        emergency = index.break_glass()
        for event in emergency:
            who = event.args.get("practitioner") or event.args.get("reader")
            console.print(f"     [red bold]BREAK-GLASS[/] {event.iso_time} {event.event:<17} by {who[:10]}…")
        story.step("the break-glass review lists the session, the emergency read and its close",
                   lambda: [e.event for e in emergency], ["BreakGlassOpened", "RecordAccessed", "BreakGlassClosed"])  # fmt: skip
        story.step("all on the patient's records, by the emergency doctor", lambda: all(
            e.args["patient"] == people["patient"] and people["er_doctor"] in (e.args.get("practitioner"), e.args.get("reader"))
            for e in emergency), True)  # fmt: skip
        kinds = {e.event for e in index.access_history(people["patient"])}
        story.step("the patient's history holds grants, the referral, reads, break-glass and the revocation",
                   lambda: kinds >= {"AccessGranted", "PatientReferred", "RecordAccessed", "BreakGlassOpened",
                                     "AccessRevoked"}, True)  # fmt: skip
        story.step("Dr. A's credential history: issued, suspended, reinstated, revoked",
                   lambda: [e.event.removeprefix("Credential") for e in index.credential_history(people["doctor"])
                            if e.event.startswith("Credential")], ["Issued", "Suspended", "Reinstated", "Revoked"])  # fmt: skip
        custody = index.custody_path(batch)
        story.step("the batch's path, from the index, ends with the recall and the returned shipment",
                   lambda: [e.event for e in custody][-2:], ["BatchRecalled", "ShipmentCancelled"])  # fmt: skip
        story.step("both counterfeit alarms are in it, each with its reason",
                   lambda: [e.args["reason"] for e in custody if e.event == "CounterfeitSuspected"],
                   ["already_dispensed", "held_by_another"])  # fmt: skip
        again = index.sync()
        story.step("a second sync adds nothing and doubles nothing", lambda: again.events_added, 0)


def run(target: str) -> int:
    started = time.monotonic()
    story = Story()
    console.print(Panel.fit("medledger demo: who may practise, who may read, and every read on the record",
                            style="bold"))  # fmt: skip
    with chainmod.connect(target) as chain:
        a = chain.accounts
        admin_acct, regulator, authority, hospital, doctor, outsider = a[0], a[1], a[2], a[3], a[4], a[5]
        chapter(f"1. The consortium deploys medledger on the {chain.kind} chain (id {chain.chain_id})")
        deployment = deploy_suite(chain, admin_acct)
        for name, entry in deployment.contracts.items():
            console.print(f"     {name:<20} {entry.address}")
        admin = MedLedger(chain.w3, deployment, admin_acct)
        as_ = admin.using

        chapter("2. The admin names a regulator and a licensing authority, and accredits a hospital")
        admin.consortium.add_regulator(regulator.address)
        admin.consortium.add_licensing_authority(authority.address)
        admin.consortium.accredit(hospital.address, InstitutionKind.HOSPITAL, b"\x11" * 32)
        story.step("the hospital is a member of kind hospital",
                   lambda: admin.consortium.is_member(hospital.address, "hospital"), True)  # fmt: skip
        story.step("an outsider tries to accredit itself",
                   lambda: as_(outsider).consortium.accredit(outsider.address, "pharmacy"), NotAuthorized)  # fmt: skip

        chapter("3. The authority licenses Dr. A (wallet only: no name on chain) for one year")
        now = chain.now()
        issued = as_(authority).credentials.issue(
            doctor.address, "licence", valid_from=now, valid_until=now + 365 * 86400,
            document_hash=b"\x42" * 32,
        )  # fmt: skip
        console.print(f"     credential {issued.id.hex()[:16]}… issued, {issued.receipt.gas_used:,} gas")
        check = lambda: admin.credentials.check(doctor.address, "licence")  # noqa: E731
        story.step("anyone checks: is Dr. A licensed today?", check, CredentialValidity.VALID)
        story.step("an outsider tries to revoke the licence",
                   lambda: as_(outsider).credentials.revoke(issued.id), NotAuthorized)  # fmt: skip

        chapter("4. The hospital employs Dr. A (offer, then acceptance)")
        as_(hospital).credentials.offer_employment(doctor.address)
        as_(doctor).credentials.accept_employment(hospital.address)
        story.step("Dr. A works at the hospital",
                   lambda: admin.credentials.is_employed_by(doctor.address, hospital.address), True)  # fmt: skip

        chapter("5. A complaint: the regulator suspends the licence; only a regulator can lift that")
        as_(regulator).credentials.suspend(issued.id, 12)
        story.step("the check while suspended", check, CredentialValidity.SUSPENDED)
        story.step("the authority tries to reinstate it",
                   lambda: as_(authority).credentials.reinstate(issued.id), NotAuthorized)  # fmt: skip
        as_(regulator).credentials.reinstate(issued.id)
        story.step("the check after the regulator reinstates it", check, CredentialValidity.VALID)

        chapter("6. The authority itself loses its accreditation")
        admin.consortium.remove_licensing_authority(authority.address)
        story.step("every licence it issued stops passing, with no per-licence write", check,
                   CredentialValidity.ISSUER_NOT_ACCREDITED)  # fmt: skip
        admin.consortium.add_licensing_authority(authority.address)
        story.step("accreditation restored: the licence passes again", check, CredentialValidity.VALID)

        chapter("7. The licence is revoked for good")
        as_(authority).credentials.revoke(issued.id, 31)
        story.step("the check after revocation", check, CredentialValidity.REVOKED)

        patient, er_doctor = referral_story(story, chain, admin)
        batch = medicine_story(story, chain, admin)
        audit_story(story, chain, admin, {"patient": patient, "er_doctor": er_doctor, "doctor": doctor.address}, batch)

    elapsed = time.monotonic() - started
    if story.failures:
        console.print(f"\n[red bold]demo failed[/] ({len(story.failures)} step(s) went wrong):")
        for failure in story.failures:
            console.print(f"  - {failure}")
        return 1
    console.print(f"\n[green bold]demo complete[/]: every step behaved as expected ({elapsed:.1f}s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    brownie = sys.modules.get("brownie")
    if brownie is not None and brownie.network.is_connected():  # `brownie run scripts/demo.py`
        from scripts.brownie_suite import story

        failures = story()
        if failures:
            raise SystemExit("demo failed: " + "; ".join(failures))
        print("demo complete: every step behaved as expected")
        return 0
    parser = argparse.ArgumentParser(description="Run the medledger demo story.")
    parser.add_argument("--chain", default="embedded", help="embedded (default), anvil, ganache or an RPC URL")
    args = parser.parse_args(argv if argv is not None else (sys.argv[1:] if __name__ == "__main__" else []))
    try:
        return run(args.chain)
    except MedLedgerError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
