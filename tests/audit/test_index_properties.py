"""Property: whatever the chain does between syncs (new events, forks of any depth, syncs cut short),
after a sync the index holds exactly the canonical chain's events: none lost, none doubled, none
left over from an abandoned fork."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from medledger import chain as chainmod
from medledger.audit import AuditIndex
from medledger.client import MedLedger
from medledger.deploy import deploy_suite
from medledger.identity import public_key


class Interrupted(Exception):
    pass


class IndexFollowsTheChain(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.chain = chainmod.connect("embedded")
        self.deployment = deploy_suite(self.chain, self.chain.account(0))
        self.ledgers = [MedLedger(self.chain.w3, self.deployment, self.chain.account(i)) for i in range(1, 4)]
        self.folder = tempfile.TemporaryDirectory()
        self.path = Path(self.folder.name) / "audit.sqlite"
        self.index = AuditIndex(self.path, w3=self.chain.w3, deployment=self.deployment, batch_size=3)
        self.snapshots: list[object] = []
        self.sent = 0
        self.index.sync()
        self.synced = True

    def teardown(self) -> None:
        if hasattr(self, "index"):
            self.index.close()
            self.folder.cleanup()
            self.chain.close()

    def canonical(self) -> list[tuple[int, int, bytes]]:
        first = min(c.block for c in self.deployment.contracts.values())
        logs = self.chain.w3.eth.get_logs({"fromBlock": first, "toBlock": "latest",
                                           "address": [c.address for c in self.deployment.contracts.values()]})  # fmt: skip
        return [(int(g["blockNumber"]), int(g["logIndex"]), bytes(g["blockHash"])) for g in logs]

    def indexed(self) -> list[tuple[int, int, bytes]]:
        with sqlite3.connect(self.path) as db:
            rows = db.execute("SELECT block_number, log_index, block_hash FROM events ORDER BY 1, 2")
            return [(n, i, bytes(h)) for n, i, h in rows]

    @rule(who=st.integers(0, 2), count=st.integers(1, 3))
    def emit(self, who: int, count: int) -> None:
        for _ in range(count):
            self.sent += 1
            self.ledgers[who].patients.publish_encryption_key(public_key(self.sent.to_bytes(32, "big")))
        self.synced = False

    @precondition(lambda self: len(self.snapshots) < 3)
    @rule()
    def snapshot(self) -> None:
        self.snapshots.append(self.chain.snapshot())

    @precondition(lambda self: self.snapshots)
    @rule()
    def fork(self) -> None:
        """The chain drops every block since the last snapshot (a reorg, or a shorter chain)."""
        self.chain.revert(self.snapshots.pop())
        for ledger in self.ledgers:  # their dropped transactions took nonces the chain no longer counts
            ledger.transactor.forget_nonce(ledger.require_signer().address)
        self.synced = False

    @rule(batch=st.integers(1, 5))
    def sync(self, batch: int) -> None:
        self.index.batch_size = batch
        self.index.sync()
        self.synced = True

    @rule(batch=st.integers(1, 3))
    def sync_cut_short(self, batch: int) -> None:
        def stop(*_: int) -> None:
            raise Interrupted

        self.index.batch_size = batch
        try:
            self.index.sync(progress=stop)
        except Interrupted:
            pass
        self.synced = False

    @invariant()
    def a_finished_sync_mirrors_the_chain(self) -> None:
        if getattr(self, "synced", False):
            assert self.indexed() == self.canonical()
            assert self.index.cursor == self.chain.w3.eth.block_number

    @invariant()
    def nothing_is_ever_doubled(self) -> None:
        if hasattr(self, "path"):
            rows = self.indexed()
            assert len({(n, i) for n, i, _ in rows}) == len(rows)


IndexFollowsTheChain.TestCase.settings = settings(
    max_examples=12, stateful_step_count=14, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestIndexFollowsTheChain = IndexFollowsTheChain.TestCase


def test_a_sender_whose_transactions_a_fork_dropped_sends_again_and_the_index_follows() -> None:
    """The sequence that once broke the machine above (CI, session 4): emit, fork, emit again."""
    machine = IndexFollowsTheChain()
    try:
        machine.start()
        machine.snapshot()
        machine.emit(who=2, count=2)
        machine.sync(batch=2)
        machine.fork()
        machine.emit(who=2, count=1)
        machine.sync(batch=2)
        machine.a_finished_sync_mirrors_the_chain()
        machine.nothing_is_ever_doubled()
        assert len(machine.indexed()) == len(machine.canonical()) > 0
    finally:
        machine.teardown()
