"""Transactions per second the Python client sustains on anvil, beside raw web3.py.

A fresh anvil (started and stopped here, automine on) gets the suite, a patient who granted a
doctor access to an anchored record, and a manufacturer holding a large batch. For each of
three operations, ``--count`` transactions are sent one after another, each waited for until
mined, in alternating runs of 20 by:

- **client**: ``ml.consent.grant(...)``, ``ml.access.log_read(record)``, ``ml.batches.ship(...)``:
  argument checks, gas estimate with headroom, fees, local nonce, signing, receipt, event decoded,
  a revert turned into a typed error;
- **raw web3.py**: the same calls as ``contract.functions.f(...).build_transaction({"from",
  "nonce"})`` (web3 estimates gas and fills fees and chain id), ``sign_transaction``,
  ``send_raw_transaction``, ``wait_for_transaction_receipt``, with the nonce counted locally.

Runs alternate so that a busy machine slows both alike; the totals are compared, and the goal is
a client overhead of at most 15 % (exit 1 above).

    python benchmarks/throughput.py
    python benchmarks/throughput.py --count 100     # a quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table

from medledger import chain as chainmod
from medledger.client import MedLedger
from medledger.client.batches import batch_id
from medledger.client.consent import GrantTerms
from medledger.client.records import content_hash
from medledger.deploy import deploy_suite
from medledger.gs1 import company_prefix
from medledger.identity import identity_commitment, public_key
from medledger.types import InstitutionKind, RecordCategory

GOAL = 0.15
SLICE = 20  # transactions per timed run; client and raw runs alternate
#: The latest run's figures (machine-dependent, unlike the gas snapshot); the README quotes them.
RESULTS = Path(__file__).with_name("throughput-latest.json")
GTIN, LOT = "09506000134352", "LOT-THROUGHPUT"
RECORD = content_hash(b"throughput ciphertext")


class RawSender:
    """What a careful web3.py user writes: build, sign, send, wait; nonce counted locally."""

    def __init__(self, w3: Any, account: LocalAccount) -> None:
        self.w3, self.account = w3, account
        self.nonce = 0

    def start(self) -> None:
        """Read the nonce once before a run (the client sends from the same account in between)."""
        self.nonce = self.w3.eth.get_transaction_count(self.account.address, "pending")

    def send(self, function: Any) -> Any:
        tx = function.build_transaction({"from": self.account.address, "nonce": self.nonce})
        signed = self.account.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise SystemExit(f"a raw transaction failed: {tx_hash.hex()}")
        self.nonce += 1
        return receipt


def set_up(chain: chainmod.Chain) -> dict[str, Any]:
    a = chain.accounts
    admin_account, doctor, patient, maker, distributor = a[0], a[1], a[2], a[3], a[4]
    deployment = deploy_suite(chain, admin_account)
    admin = MedLedger(chain.w3, deployment, admin_account)
    admin.consortium.add_licensing_authority(admin_account.address)
    now = chain.now()
    admin.credentials.issue(doctor.address, "licence", valid_from=now - 10, valid_until=now + 10**8)
    seed = b"\x07" * 32
    me = admin.using(patient)
    me.patients.register(identity_commitment({"n": "throughput"}, seed), public_key(seed))
    me.consent.grant(patient.address, doctor.address, ["labs"], valid_until=now + 10**7)
    me.records.anchor(patient.address, "labs", RECORD, "vault://throughput")
    admin.consortium.accredit(maker.address, InstitutionKind.MANUFACTURER, b"\x33" * 32)
    admin.credentials.issue(maker.address, "accreditation", valid_from=now - 10, valid_until=now + 10**8)
    admin.consortium.accredit(distributor.address, InstitutionKind.DISTRIBUTOR, b"\x66" * 32)
    admin.products.assign_prefix(company_prefix(GTIN, 7), maker.address)  # the admin may assign prefixes
    admin.using(maker).products.register(GTIN, "Throughput tablets", b"\x55" * 32)
    admin.using(maker).batches.register(GTIN, LOT, quantity=10**9, manufactured_on=now - 10, expires_on=now + 10**8,
                                        serial_root=b"\x01" * 32)  # fmt: skip
    return {"admin": admin, "doctor": doctor, "patient": patient, "maker": maker, "distributor": distributor,
            "horizon": now + 10**7}  # fmt: skip


Operation = tuple[Callable[[int], Any], Callable[[int], Any], Callable[[], None], Callable[[], None]]


def operations(world: dict[str, Any]) -> dict[str, Operation]:
    """Per operation: (client call, raw call, client set-up, raw set-up); calls take the
    transaction's number, set-ups run before each timed run to resynchronise the nonce."""
    admin: MedLedger = world["admin"]
    w3 = admin.w3
    patient, doctor, maker = world["patient"], world["doctor"], world["maker"]
    horizon = world["horizon"]
    me, reader, shipper = admin.using(patient), admin.using(doctor), admin.using(maker)
    raw = {name: RawSender(w3, account) for name, account in (("patient", patient), ("doctor", doctor), ("maker", maker))}
    consent, batches = admin.consent.contract.functions, admin.batches.contract.functions
    batch = batch_id(GTIN, LOT)
    to = world["distributor"].address
    # Each shipment takes the next unit, the first of the maker's remaining range, so both paths
    # name the range without reading custody (one counter for both: they alternate).
    cursor = [0]

    def next_unit() -> int:
        cursor[0] += 1
        return cursor[0] - 1

    def client_ship(n: int) -> Any:
        unit = next_unit()
        return shipper.batches.ship(batch, to, 1, start=unit, range_start=unit)

    def raw_ship(n: int) -> Any:
        unit = next_unit()
        return raw["maker"].send(batches.ship(batch, to, unit, 1, unit))

    def raw_grant(n: int) -> Any:
        terms = GrantTerms.build(doctor.address, ["labs"], valid_until=horizon + 2 * n + 1)
        return raw["patient"].send(consent.grantAccess(patient.address, terms.as_tuple()))

    def resync(who: str, account: LocalAccount) -> tuple[Callable[[], None], Callable[[], None]]:
        return (lambda: admin.transactor.forget_nonce(account.address)), raw[who].start

    return {
        "grant": (
            lambda n: me.consent.grant(patient.address, doctor.address, ["labs"], valid_until=horizon + 2 * n),
            raw_grant,
            *resync("patient", patient),
        ),
        "log-read": (
            lambda n: reader.access.log_read(RECORD),
            lambda n: raw["doctor"].send(consent.logAccess(patient.address, RECORD, int(RecordCategory.LABS))),
            *resync("doctor", doctor),
        ),
        "ship": (
            client_ship,
            raw_ship,
            *resync("maker", maker),
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=400, help="transactions of each operation by each path")
    args = parser.parse_args()
    console = Console()
    spent: dict[tuple[str, str], float] = {}
    with chainmod.connect("anvil") as chain:
        ops = operations(set_up(chain))
        for name, (client, raw, client_start, raw_start) in ops.items():
            client_start(), client(0), raw_start(), raw(0)  # warm both paths before timing
            # Short alternating runs, so whatever else slows the machine slows both alike.
            number = 1
            for _ in range(args.count // SLICE):
                for who, send, start in (("client", client, client_start), ("raw", raw, raw_start)):
                    start()
                    started = time.perf_counter()
                    for n in range(number, number + SLICE):
                        send(n)
                    spent[(name, who)] = spent.get((name, who), 0.0) + time.perf_counter() - started
                number += SLICE
    sent = args.count // SLICE * SLICE
    table = Table(title=f"transactions per second on anvil (automine), {sent} of each by each, in alternating runs of {SLICE}")
    for column in ("operation", "raw web3.py tx/s", "client tx/s", "client overhead"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    worst = 0.0
    results: dict[str, dict[str, float]] = {}
    for name in ops:
        raw_rate, client_rate = sent / spent[(name, "raw")], sent / spent[(name, "client")]
        overhead = 1 - client_rate / raw_rate
        worst = max(worst, overhead)
        results[name] = {"raw_tx_per_s": round(raw_rate, 2), "client_tx_per_s": round(client_rate, 2),
                         "overhead": round(overhead, 4)}  # fmt: skip
        table.add_row(name, f"{raw_rate:,.0f}", f"{client_rate:,.0f}", f"{overhead:+.1%}")
    console.print(table)
    RESULTS.write_text(json.dumps({"transactions_each": sent, "slice": SLICE, "goal": GOAL, "operations": results},
                                  indent=2) + "\n")  # fmt: skip
    verdict = "meets" if worst <= GOAL else "misses"
    console.print(f"the client {verdict} the goal of at most {GOAL:.0%} overhead (worst {worst:+.1%})")
    return 0 if worst <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
