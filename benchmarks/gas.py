"""Gas per operation of the medledger suite, beside the floor each operation cannot go below.

Runs on a fresh anvil (started and stopped here) in a fixed order, so every figure is
deterministic. For each transaction the floor is computed from what the transaction itself
touched, read back with anvil's prestate tracer:

    21,000 intrinsic + calldata (16 per non-zero byte, 4 per zero byte)
    + 2,600 per cold account called + 2,100 per storage slot accessed (cold)
    + 20,000 per slot written from zero + 2,900 per slot rewritten
    + logs (375 + 375 per topic + 8 per data byte)

The ratio gas / floor shows the overhead of the code itself (dispatch, checks, memory); the
goal is at most 1.3. A plain OpenZeppelin `grantRole` is measured in the same run as a baseline.

    python benchmarks/gas.py            # print the table, write benchmarks/gas-snapshot.json
    python benchmarks/gas.py --check    # also fail if a figure differs from the committed snapshot
    python benchmarks/gas.py --markdown gas.md   # also write the table as the README shows it
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from medledger import chain as chainmod
from medledger.client import MedLedger
from medledger.client.batches import batch_id
from medledger.client.records import content_hash
from medledger.deploy import deploy_suite
from medledger.identity import identity_commitment, mrn_commitment, public_key
from medledger.serials import SerialTree
from medledger.transactions import Receipt
from medledger.types import InstitutionKind

SNAPSHOT = Path(__file__).with_name("gas-snapshot.json")
RATIO_GOAL = 1.3
#: Validity windows and deadlines used by every row (2023-11-14 and 2033-05-18).
FIXED_START, FIXED_END = 1_700_000_000, 2_000_000_000
WARM_AT_START = 3  # sender, recipient and coinbase are warm from the start (EIP-2929, EIP-3651)


@dataclass(frozen=True)
class Measurement:
    operation: str
    gas: int
    floor: int
    target: int | None  # the issue's ceiling for this operation, if any
    baseline: str = ""

    @property
    def ratio(self) -> float:
        return self.gas / self.floor


def calldata_cost(data: bytes) -> int:
    return sum(16 if byte else 4 for byte in data)


def floor_of(w3: Any, receipt: Receipt) -> int:
    """The floor of a mined transaction, from its input, logs and touched state."""
    tx = w3.eth.get_transaction(receipt.tx_hash)
    touched = w3.provider.make_request(
        "debug_traceTransaction", [receipt.tx_hash, {"tracer": "prestateTracer"}]
    )["result"]
    diff = w3.provider.make_request(
        "debug_traceTransaction",
        [receipt.tx_hash, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}],
    )["result"]
    accessed_slots = sum(len(account.get("storage", {})) for account in touched.values())
    cold_accounts = max(0, len(touched) - WARM_AT_START)
    new_slots = rewritten = 0
    for address, post in diff["post"].items():
        before = diff["pre"].get(address, {}).get("storage", {})
        for slot, value in post.get("storage", {}).items():
            if int(value, 16) == 0:
                continue
            if int(before.get(slot, "0x0"), 16) == 0:
                new_slots += 1
            else:
                rewritten += 1
    logs = sum(375 + 375 * len(log["topics"]) + 8 * len(log["data"]) for log in receipt.raw["logs"])
    return (
        21_000
        + calldata_cost(bytes(tx["input"]))
        + 2_600 * cold_accounts
        + 2_100 * accessed_slots
        + 20_000 * new_slots
        + 2_900 * rewritten
        + logs
    )


def run() -> list[Measurement]:
    with chainmod.connect("anvil") as chain:
        a = chain.accounts
        admin_account, regulator, authority, hospital, doctor, nurse = a[0], a[1], a[2], a[3], a[4], a[5]
        deployment = deploy_suite(chain, admin_account)
        admin = MedLedger(chain.w3, deployment, admin_account)
        issuer = admin.using(authority)
        # Fixed times, not the clock: a timestamp's zero bytes change calldata cost by 12 gas each,
        # and the snapshot must not move between runs.
        assert chain.now() < FIXED_END
        results: list[Measurement] = []

        def measure(operation: str, action: Callable[[], Receipt], target: int | None = None,
                    baseline: str = "") -> Receipt:  # fmt: skip
            receipt = action()
            results.append(Measurement(operation, receipt.gas_used, floor_of(chain.w3, receipt), target, baseline))
            return receipt

        measure("grantRole (OpenZeppelin baseline)", lambda: admin.consortium.add_regulator(regulator.address))
        admin.consortium.add_licensing_authority(authority.address)
        grant_gas = results[0].gas
        measure("accredit institution", lambda: admin.consortium.accredit(
            hospital.address, InstitutionKind.HOSPITAL, b"\x11" * 32), 80_000,
            f"grantRole {grant_gas:,}")  # fmt: skip

        def issue(subject: str, kind: str) -> Receipt:
            return issuer.credentials.issue(
                subject, kind, valid_from=FIXED_START, valid_until=FIXED_END, document_hash=b"\x42" * 32
            ).receipt

        measure("issue credential", lambda: issue(doctor.address, "licence"), 100_000,
                f"EAS attest ~298,000; grantRole {grant_gas:,}")  # fmt: skip
        licence = issuer.credentials.credential_id(doctor.address, "licence", 0)
        measure("suspend credential", lambda: issuer.credentials.suspend(licence, 7), 40_000)
        measure("reinstate credential", lambda: issuer.credentials.reinstate(licence), 40_000)
        measure("revoke credential", lambda: admin.using(regulator).credentials.revoke(licence, 9), 40_000)
        # A regulator's revocation is a hold: a regulator lifts it before anyone issues anew.
        measure("lift regulator hold", lambda: admin.using(regulator).credentials.lift_regulator_hold(licence), 40_000)
        measure("reissue over a revoked credential", lambda: issue(doctor.address, "licence"), 100_000)
        admin.consortium.add_licensing_authority(admin_account.address)  # a second authority, to hand it to
        measure("reassign credential issuer", lambda: admin.using(regulator).credentials.reassign_issuer(
            licence, admin_account.address), 40_000)  # fmt: skip
        admin.using(regulator).credentials.reassign_issuer(licence, authority.address)
        measure("suspend institution", lambda: admin.consortium.suspend(hospital.address, 3), 40_000)
        measure("reinstate institution", lambda: admin.consortium.reinstate(hospital.address), 40_000)
        clinic = admin.using(hospital)
        measure("offer employment", lambda: clinic.credentials.offer_employment(nurse.address))
        measure("accept employment", lambda: admin.using(nurse).credentials.accept_employment(hospital.address))
        measure("end employment", lambda: clinic.credentials.end_employment(nurse.address, hospital.address))

        # Patients, consent and records. The hospital holds an accreditation, the doctor a licence.
        patient, outsider = a[6], a[7]
        issue(hospital.address, "accreditation")
        me = admin.using(patient)
        measure("register patient", lambda: me.patients.register(
            identity_commitment({"name": "bench"}, b"\x01" * 32), public_key(b"\x02" * 32)))  # fmt: skip
        end = FIXED_END
        measure("grant access (transaction)", lambda: me.consent.grant(
            patient.address, doctor.address, ["labs", "imaging"], valid_until=end, referral_allowed=True), 60_000)  # fmt: skip
        relayer = admin.using(outsider)
        measure("grant access (signature, first of the patient)", lambda: relayer.consent.relay(
            me.consent.sign_grant(nurse.address, "labs", valid_until=end, deadline=end)), None,
            "pays the first write of the patient's nonce slot (+17,100)")  # fmt: skip
        measure("grant access (signature relay)", lambda: relayer.consent.relay(
            me.consent.sign_grant(hospital.address, ["labs", "clinical-notes"], write_categories=["labs"],
                                  valid_until=end, deadline=end)), 80_000)  # fmt: skip
        measure("revoke access", lambda: me.consent.revoke(patient.address, nurse.address), 40_000)
        first = content_hash(b"bench ciphertext 0")
        measure("anchor record (the author's first)", lambda: admin.using(hospital).records.anchor(
            patient.address, "labs", first, f"vault://{first.hex()}"), None,
            "numbers the author once (+3 slots); later anchors store that number")  # fmt: skip
        record = content_hash(b"bench ciphertext")
        measure("anchor record", lambda: admin.using(hospital).records.anchor(
            patient.address, "labs", record, f"vault://{record.hex()}"), 90_000)  # fmt: skip
        newer = content_hash(b"bench ciphertext v2")
        measure("anchor new version", lambda: admin.using(hospital).records.anchor(
            patient.address, "labs", newer, f"vault://{newer.hex()}", supersedes=record), 90_000)  # fmt: skip
        amendment = content_hash(b"bench amendment")
        measure("amend record (patient)", lambda: me.records.amend(first, amendment, f"vault://{amendment.hex()}"))
        measure("logged read (practitioner, grant)", lambda: admin.using(doctor).access.log_read(newer).receipt,
                45_000)  # fmt: skip
        measure("logged read (institution, grant)", lambda: admin.using(hospital).access.log_read(newer).receipt,
                45_000)  # fmt: skip
        measure("break-glass open", lambda: admin.using(doctor).access.open_break_glass(
            patient.address, reason_code=1, duration=3600))  # fmt: skip

        # Institutions' patient numbers: by proposal and acceptance, and by signed consent.
        # The proposal names the patient by a salted commitment only (no wallet on chain).
        proposed = mrn_commitment(hospital.address, "BENCH-1", b"\x03" * 32)
        measure("propose MRN link", lambda: clinic.patients.propose_mrn_link(
            patient.address, proposed, salt=b"\x05" * 32).receipt)  # fmt: skip
        measure("accept MRN link", lambda: me.patients.accept_mrn_link(hospital.address, proposed, b"\x05" * 32))
        consented = mrn_commitment(hospital.address, "BENCH-2", b"\x04" * 32)
        measure("link MRN with signed consent", lambda: clinic.patients.link_mrn_with_consent(
            me.patients.sign_mrn_consent(hospital.address, consented, deadline=end)))  # fmt: skip
        cancelled = []
        measure("cancel signatures (ConsentManager)", lambda: cancelled.append(
            me.consent.cancel_signatures()) or cancelled[-1].consent)  # fmt: skip
        results.append(Measurement("cancel signatures (PatientRegistry)", cancelled[-1].patients.gas_used,
                                   floor_of(chain.w3, cancelled[-1].patients), None))  # fmt: skip

        # Medicines. The manufacturer is an accredited member holding an accreditation.
        maker_account = a[8]
        admin.consortium.accredit(maker_account.address, InstitutionKind.MANUFACTURER, b"\x33" * 32)
        issue(maker_account.address, "accreditation")
        maker = admin.using(maker_account)
        measure("assign company prefix (7 digits)", lambda: admin.using(regulator).products.assign_prefix(
            "9506000", maker_account.address))  # fmt: skip
        measure("register product", lambda: maker.products.register("09506000134352", "Amoxicillin 500 mg capsules, 21",
                                                                     b"\x55" * 32))
        registered = []
        tree = SerialTree(batch_id("09506000134352", "LOT-2026-11"), [f"BENCH{n:07d}" for n in range(10_000)])
        measure("register batch", lambda: registered.append(maker.batches.register(
            "09506000134352", "LOT-2026-11", quantity=10_000, manufactured_on=FIXED_START, expires_on=FIXED_END,
            serial_root=tree.root, document_hash=b"\x42" * 32)) or registered[-1].receipt)  # fmt: skip
        batch = registered[-1].id
        distributor = a[9]
        admin.consortium.accredit(distributor.address, InstitutionKind.DISTRIBUTOR, b"\x66" * 32)
        # Custody moves as ranges of serial indices: a shipment cuts its units out of one range on
        # the shipper's shelf (one new slot for the rest, two when the case is from the middle).
        shipped = []
        measure("ship (manufacturer to distributor)", lambda: shipped.append(
            maker.batches.ship(batch, distributor.address, 4_000)) or shipped[-1].receipt, None,
            "units 0:4000 of the maker's 0:10000; the rest is a new range")  # fmt: skip
        measure("receive", lambda: admin.using(distributor).batches.receive(shipped[-1].shipment))
        measure("ship again (recipient already holds)", lambda: shipped.append(
            maker.batches.ship(batch, distributor.address, 1_000)) or shipped[-1].receipt)  # fmt: skip
        measure("cancel shipment", lambda: maker.batches.cancel(shipped[-1].shipment))
        measure("ship a whole range (no cut)", lambda: shipped.append(
            maker.batches.ship(batch, distributor.address, 1_000, start=4_000)) or shipped[-1].receipt)  # fmt: skip
        maker.batches.cancel(shipped[-1].shipment)
        measure("ship a case from the middle of a range (two cuts)", lambda: shipped.append(
            maker.batches.ship(batch, distributor.address, 24, start=6_000)) or shipped[-1].receipt)  # fmt: skip
        maker.batches.cancel(shipped[-1].shipment)

        # Prescriptions, filled by dispensing serialised units (proofs in a 10,000-unit tree).
        pharmacy = admin.using(outsider)
        admin.consortium.accredit(outsider.address, InstitutionKind.PHARMACY, b"\x77" * 32)
        issue(outsider.address, "accreditation")  # a pharmacy fills only with a valid accreditation
        to_pharmacy = admin.using(distributor).batches.ship(batch, outsider.address, 1_100)
        pharmacy.batches.receive(to_pharmacy.shipment)
        prescriber = admin.using(doctor)
        # A prescription lasts at most a year, so its end follows the clock; every byte of it is
        # kept non-zero so its calldata cost does not move between runs.
        rx_end = (chain.now() + 100 * 24 * 3600) | 0x01010101
        issued = []
        measure("issue prescription", lambda: issued.append(prescriber.prescriptions.issue(
            patient.address, "09506000134352", quantity_per_fill=1, refills=1, valid_until=rx_end,
            document_hash=b"\x42" * 32)) or issued[-1].receipt)  # fmt: skip
        serials = tree.serials
        measure("fill, dispensing 1 unit (first of its bitmap word)", lambda: pharmacy.prescriptions.fill(
            issued[-1].id, batch, tree.multiproof(serials[:1])).receipt, 135_000)  # fmt: skip
        measure("fill, dispensing 1 unit", lambda: pharmacy.prescriptions.fill(
            issued[-1].id, batch, tree.multiproof(serials[1:2])).receipt, 120_000)  # fmt: skip
        ten = prescriber.prescriptions.issue(patient.address, "09506000134352", quantity_per_fill=10,
                                             valid_until=rx_end).id  # fmt: skip
        measure("fill, dispensing 10 units of a case (multiproof)", lambda: pharmacy.prescriptions.fill(
            ten, batch, tree.multiproof(serials[2:12])).receipt)  # fmt: skip
        scattered = prescriber.prescriptions.issue(patient.address, "09506000134352", quantity_per_fill=10,
                                                   valid_until=rx_end).id  # fmt: skip
        measure("fill, dispensing 10 scattered units (multiproof)", lambda: pharmacy.prescriptions.fill(
            scattered, batch, tree.multiproof(serials[100:1100:100])).receipt)  # fmt: skip
        diverted = prescriber.prescriptions.issue(patient.address, "09506000134352", quantity_per_fill=1,
                                                  valid_until=rx_end).id  # fmt: skip
        measure("fill raising HeldByAnother (unit at the distributor)", lambda: pharmacy.prescriptions.fill(
            diverted, batch, tree.multiproof(serials[2_000:2_001])).receipt)  # fmt: skip
        measure("quarantine batch", lambda: maker.batches.quarantine(batch, 2))
        measure("release batch", lambda: maker.batches.release(batch))
        measure("recall batch", lambda: admin.using(regulator).batches.recall(batch, 7))
        measure("void product", lambda: admin.using(regulator).products.void("09506000134352", 3))
        return results


def render(results: list[Measurement], previous: dict[str, int]) -> Table:
    table = Table(title="medledger gas per operation (anvil, shanghai bytecode)")
    for column in ("operation", "gas", "floor", "ratio", "target", "vs snapshot", "compare with"):
        table.add_column(column, justify="left" if column in ("operation", "compare with") else "right")
    for m in results:
        before = previous.get(m.operation)
        delta = "new" if before is None else f"{m.gas - before:+,}"
        within = m.target is None or m.gas <= m.target
        ratio_style = "green" if m.ratio <= RATIO_GOAL else "red"
        table.add_row(
            m.operation, f"{m.gas:,}", f"{m.floor:,}", f"[{ratio_style}]{m.ratio:.2f}x[/]",
            "-" if m.target is None else f"[{'green' if within else 'red'}]≤ {m.target:,}[/]",
            delta, m.baseline,
        )  # fmt: skip
    return table


def markdown(results: list[Measurement]) -> str:
    """The table as the README shows it (operation, gas, floor, ratio, target)."""
    lines = ["| operation | gas | floor | ratio | target |", "|---|---:|---:|---:|---:|"]
    for m in results:
        target = "" if m.target is None else f"≤ {m.target:,}"
        lines.append(f"| {m.operation} | {m.gas:,} | {m.floor:,} | {m.ratio:.2f}x | {target} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if figures differ from the snapshot")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the table in Markdown to FILE")
    args = parser.parse_args(argv)
    previous: dict[str, int] = json.loads(SNAPSHOT.read_text()) if SNAPSHOT.is_file() else {}
    results = run()
    Console(width=150).print(render(results, previous))
    current = {m.operation: m.gas for m in results}
    if args.markdown:
        args.markdown.write_text(markdown(results))
    over = [m.operation for m in results if m.target is not None and m.gas > m.target]
    if over:
        print(f"over target: {', '.join(over)}", file=sys.stderr)
        return 1
    if args.check:
        if current != previous:
            print("gas differs from benchmarks/gas-snapshot.json: run benchmarks/gas.py and commit", file=sys.stderr)
            return 1
        return 0
    SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
