"""Events indexed per second by ``medledger.audit`` on anvil, beside a bare indexing loop.

A fresh anvil (started and stopped here) gets the suite and ``--events`` events (50,000 by
default: grants, signature cancellations and published keys from eight patients), sent in
JSON-RPC batches with automine off and mined ``--per-block`` to a block. Then, in the same run
and on the same chain, each of these indexes every event into a new SQLite file, ``--rounds``
times in turn:

- **bare**: the loop anyone would write: ``eth_getLogs`` over the same block steps and addresses,
  each log turned into the same row, ``executemany`` into the same table, one commit per step;
- **medledger**: ``AuditIndex.sync()``, which adds event names, block hashes and timestamps, the
  reorg check and the per-step end-block check.

The best round of each is compared; the goal is medledger ≥ 0.8 × bare (exit 1 below it).

    python benchmarks/audit.py                  # 50,000 events
    python benchmarks/audit.py --events 5000    # a quick look
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from medledger import chain as chainmod
from medledger.audit import AuditIndex
from medledger.audit.index import DEFAULT_BATCH_SIZE
from medledger.audit.store import INSERT_EVENT, SCHEMA
from medledger.client import MedLedger
from medledger.deploy import Deployment, deploy_suite
from medledger.identity import identity_commitment, public_key
from medledger.client.consent import GrantTerms

GOAL = 0.8
#: The latest run's figures (machine-dependent, unlike the gas snapshot); the README quotes them.
RESULTS = Path(__file__).with_name("audit-latest.json")
PATIENTS = range(2, 10)  # dev accounts 2..9 act as patients; 0 is the admin, 1 the doctor


def set_up(chain: chainmod.Chain) -> tuple[Deployment, MedLedger]:
    admin_account, doctor = chain.account(0), chain.account(1)
    deployment = deploy_suite(chain, admin_account)
    admin = MedLedger(chain.w3, deployment, admin_account)
    admin.consortium.add_licensing_authority(admin_account.address)
    now = chain.now()
    admin.credentials.issue(doctor.address, "licence", valid_from=now - 10, valid_until=now + 10**8)
    for index in PATIENTS:
        seed = bytes([index]) * 32
        admin.using(chain.account(index)).patients.register(identity_commitment({"n": str(index)}, seed), public_key(seed))
    return deployment, admin


def calls(admin: MedLedger, patients: list[str], doctor: str, count: int) -> list[dict[str, Any]]:
    """``count`` transactions from anvil's unlocked dev accounts, one event each, in three kinds."""
    consent, registry = admin.consent.contract, admin.patients.contract
    horizon = admin.consent.block_time() + 10**7
    out = []
    for n in range(count):
        patient = patients[n % len(patients)]
        if n % 3 == 0:
            terms = GrantTerms.build(doctor, ["labs"], valid_until=horizon + n)
            to, data = consent.address, consent.encode_abi("grantAccess", [patient, terms.as_tuple()])
        elif n % 3 == 1:
            to, data = consent.address, consent.encode_abi("cancelSignatures", [patient])
        else:
            key = public_key((n + 1).to_bytes(32, "big"))
            to, data = registry.address, registry.encode_abi("publishEncryptionKey", [key])
        out.append({"from": patient, "to": to, "data": data, "gas": hex(300_000)})
    return out


def generate(url: str, transactions: list[dict[str, Any]], per_block: int, progress: Progress) -> None:
    """Send ``transactions`` in batches with automine off, mining ``per_block`` to a block."""
    session = requests.Session()

    def rpc(payload: Any) -> Any:
        answer = session.post(url, json=payload, timeout=120).json()
        for item in answer if isinstance(answer, list) else [answer]:
            if "error" in item:
                raise SystemExit(f"anvil refused a request: {item['error']}")
        return answer

    rpc({"jsonrpc": "2.0", "id": 0, "method": "evm_setAutomine", "params": [False]})
    task = progress.add_task("sending transactions", total=len(transactions))
    for start in range(0, len(transactions), per_block):
        chunk = transactions[start : start + per_block]
        rpc([{"jsonrpc": "2.0", "id": i, "method": "eth_sendTransaction", "params": [tx]} for i, tx in enumerate(chunk)])
        rpc({"jsonrpc": "2.0", "id": 0, "method": "evm_mine", "params": []})
        progress.advance(task, len(chunk))
    rpc({"jsonrpc": "2.0", "id": 0, "method": "evm_setAutomine", "params": [True]})


def bare_index(w3: Any, deployment: Deployment, path: Path, batch_size: int) -> int:
    """The hand-written loop: eth_getLogs per step, executemany, commit."""
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(SCHEMA)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    addresses = [c.address for c in deployment.contracts.values()]
    first = min(c.block for c in deployment.contracts.values())
    head = w3.eth.block_number
    total = 0
    for start in range(first, head + 1, batch_size):
        logs = w3.eth.get_logs({"fromBlock": start, "toBlock": min(start + batch_size - 1, head), "address": addresses})
        rows = [
            (
                log["blockNumber"], log["logIndex"], bytes(log["blockHash"]), bytes(log["transactionHash"]),
                log["address"], "0x" + bytes(log["topics"][0]).hex(),
                *(bytes(log["topics"][i]) if len(log["topics"]) > i else None for i in (1, 2, 3)),
                bytes(log["data"]),
            )
            for log in logs
        ]  # fmt: skip
        db.execute("BEGIN")
        db.executemany(INSERT_EVENT, rows)
        db.execute("COMMIT")
        total += len(rows)
    db.close()
    return total


def medledger_index(w3: Any, deployment: Deployment, path: Path, batch_size: int) -> int:
    with AuditIndex(path, w3=w3, deployment=deployment, batch_size=batch_size) as index:
        return index.sync().events_added


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--per-block", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=50, help="blocks per eth_getLogs (about 5,000 events)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    with chainmod.connect("anvil", extra_args=["--gas-limit", "100000000"]) as chain, tempfile.TemporaryDirectory() as tmp:
        deployment, admin = set_up(chain)
        patients = [chain.account(i).address for i in PATIENTS]
        with Progress(console=console, transient=True) as progress:
            generate(chain.node.url, calls(admin, patients, chain.account(1).address, args.events), args.per_block, progress)  # type: ignore[union-attr]
        results: dict[str, list[float]] = {"bare": [], "medledger": []}
        counts: dict[str, int] = {}
        for round_ in range(args.rounds):
            for name, run in (("bare", bare_index), ("medledger", medledger_index)):
                path = Path(tmp) / f"{name}-{round_}.sqlite"
                started = time.perf_counter()
                counts[name] = run(chain.w3, deployment, path, args.batch_size)
                results[name].append(time.perf_counter() - started)
        blocks = chain.w3.eth.block_number
    if counts["bare"] != counts["medledger"]:
        console.print(f"[red]the two loops indexed different numbers of events: {counts}[/red]")
        return 1
    best = {name: min(times) for name, times in results.items()}
    rate = {name: counts[name] / best[name] for name in best}
    ratio = rate["medledger"] / rate["bare"]
    table = Table(title=f"audit index on anvil: {counts['bare']:,} events in {blocks:,} blocks, "
                        f"{args.batch_size:,} blocks per eth_getLogs, best of {args.rounds}")  # fmt: skip
    for column in ("indexer", "seconds", "events/s", "vs bare"):
        table.add_column(column, justify="right" if column != "indexer" else "left")
    table.add_row("bare eth_getLogs + executemany", f"{best['bare']:.2f}", f"{rate['bare']:,.0f}", "1.00")
    table.add_row("medledger.audit sync", f"{best['medledger']:.2f}", f"{rate['medledger']:,.0f}", f"{ratio:.2f}")
    console.print(table)
    RESULTS.write_text(json.dumps({
        "events": counts["bare"], "blocks": blocks, "blocks_per_get_logs": args.batch_size, "rounds": args.rounds,
        "seconds": {name: round(value, 3) for name, value in best.items()},
        "events_per_second": {name: round(value) for name, value in rate.items()},
        "ratio": round(ratio, 3), "goal": GOAL,
    }, indent=2) + "\n")  # fmt: skip
    verdict = "meets" if ratio >= GOAL else "misses"
    console.print(f"medledger {verdict} the goal of ≥ {GOAL} × bare ({ratio:.2f})")
    return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
