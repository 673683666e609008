"""Sync the suite's events into an audit index, resumably and safely across reorgs.

A sync walks from the block after the cursor to the chain head (less ``confirmations``) in steps
of ``batch_size`` blocks, one ``eth_getLogs`` per step over every contract of the deployment.
Before it moves forward it compares the block hashes it stored with the chain's: if the chain
forked below the cursor, everything after the last block both agree on is dropped and indexed
again from the canonical chain. A step whose end block changed while its logs were fetched is
thrown away and fetched again, so logs of an abandoned fork never enter the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import BlockNotFound

from medledger.audit.catalog import Catalog, suite_catalog
from medledger.audit.queries import Queries
from medledger.audit.store import EventRow, Store
from medledger.deploy import Deployment
from medledger.errors import ChainError, ConfigurationError, MedLedgerError
from medledger.transactions import translate

DEFAULT_BATCH_SIZE = 2_000
#: How many times one step is fetched again when the chain moves under it before giving up.
STEP_RETRIES = 5

#: ``progress(indexed_up_to, target, events_so_far)`` after every step of a sync.
Progress = Callable[[int, int, int], None]


@dataclass(frozen=True)
class Reorg:
    """A fork the sync found: blocks after ``fork_block`` had left the canonical chain."""

    fork_block: int
    dropped_events: int


@dataclass(frozen=True)
class SyncReport:
    from_block: int
    to_block: int
    events_added: int
    reorgs: list[Reorg] = field(default_factory=list)


class AuditIndex(Queries):
    """An SQLite index of every event of one deployment of the suite.

    >>> index = AuditIndex("audit.sqlite", w3=w3, deployment=deployment)   # doctest: +SKIP
    >>> index.sync().events_added                                         # doctest: +SKIP
    """

    def __init__(
        self,
        path: Path | str,
        *,
        w3: Web3 | None = None,
        deployment: Deployment | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        confirmations: int = 0,
        catalog: Catalog | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigurationError(f"batch size must be at least 1 block, got {batch_size}")
        if confirmations < 0:
            raise ConfigurationError(f"confirmations must be 0 or more, got {confirmations}")
        if deployment is None and str(path) != ":memory:" and not Path(path).is_file():
            raise ConfigurationError(f"there is no audit index at {path}: make one with `medledger audit sync`")
        self.store = Store(path)
        self.w3 = w3
        self.batch_size = batch_size
        self.confirmations = confirmations
        self.catalog = catalog or suite_catalog()
        if deployment is not None:
            self._bind(deployment)
        contracts = self.store.get_meta("contracts")
        if contracts is None:
            raise ConfigurationError(f"{path} is an empty audit index: sync it from a chain first")
        self.chain_id: int = int(self.store.get_meta("chain_id"))
        self.contracts: dict[str, str] = {str(k): str(v) for k, v in contracts.items()}
        self._names = {address.lower(): name for name, address in self.contracts.items()}
        self._addresses = [to_checksum_address(address) for address in self.contracts.values()]

    def _bind(self, deployment: Deployment) -> None:
        """Record which deployment this file indexes, or refuse a file made for another one."""
        contracts = {name: c.address for name, c in deployment.contracts.items()}
        known_chain = self.store.get_meta("chain_id")
        if known_chain is None:
            first_block = min(c.block for c in deployment.contracts.values())
            with self.store.transaction() as db:
                self.store.set_meta("chain_id", deployment.chain_id, db)
                self.store.set_meta("contracts", contracts, db)
                self.store.set_meta("cursor", first_block - 1, db)
            return
        if int(known_chain) != deployment.chain_id or self.store.get_meta("contracts") != contracts:
            raise ConfigurationError(
                f"{self.store.path} indexes another deployment (chain {known_chain}); "
                "use another --db file for this one"
            )

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> AuditIndex:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def cursor(self) -> int:
        """The last block whose events are all in the index."""
        return self.store.cursor

    # ─── sync ────────────────────────────────────────────────────────────────────────────────

    def sync(self, to_block: int | None = None, progress: Progress | None = None) -> SyncReport:
        """Index every event up to ``to_block`` (default: the head less ``confirmations``)."""
        w3 = self._require_chain()
        reorgs: list[Reorg] = []
        reorg = self._find_reorg()
        if reorg is not None:
            reorgs.append(reorg)
        head = self._rpc(lambda: int(w3.eth.block_number)) - self.confirmations
        target = head if to_block is None else min(to_block, head)
        start = self.cursor + 1
        added = 0
        attempts = 0
        while self.cursor < target:
            first = self.cursor + 1
            last = min(first + self.batch_size - 1, target)
            step = self._fetch_step(first, last)
            if step is None:
                # The chain moved under the step: look for the fork again, then retry.
                attempts += 1
                if attempts > STEP_RETRIES:
                    raise ChainError(f"the chain keeps reorganising around block {last}; try again later")
                reorg = self._find_reorg()
                if reorg is not None:
                    reorgs.append(reorg)
                continue
            events, blocks = step
            with self.store.transaction() as db:
                self.store.add(db, events, blocks, last)
            added += len(events)
            if progress is not None:
                progress(last, target, added)
        return SyncReport(from_block=start, to_block=max(self.cursor, start - 1), events_added=added, reorgs=reorgs)

    def _fetch_step(self, first: int, last: int) -> tuple[list[EventRow], list[tuple[int, bytes, int | None]]] | None:
        """The events of blocks ``first..last`` and the block hashes to keep, or None if the
        block ``last`` changed while they were fetched."""
        w3 = self._require_chain()
        before = self._block(last)
        if before is None:
            return None
        logs = self._rpc(
            lambda: w3.eth.get_logs(
                {"fromBlock": first, "toBlock": last, "address": self._addresses}
            )
        )
        after = self._block(last)
        if after is None or after[0] != before[0]:
            return None
        by_topic = self.catalog.by_topic
        events: list[EventRow] = []
        blocks: dict[int, tuple[int, bytes, int | None]] = {last: (last, before[0], before[1])}
        for log in logs:
            topics = log["topics"]
            spec = by_topic.get("0x" + bytes(topics[0]).hex()) if topics else None
            number = int(log["blockNumber"])
            events.append(
                (
                    number,
                    int(log["logIndex"]),
                    bytes(log["blockHash"]),
                    bytes(log["transactionHash"]),
                    self._names.get(str(log["address"]).lower(), str(log["address"])),
                    spec.name if spec else "0x" + bytes(topics[0]).hex() if topics else "anonymous",
                    bytes(topics[1]) if len(topics) > 1 else None,
                    bytes(topics[2]) if len(topics) > 2 else None,
                    bytes(topics[3]) if len(topics) > 3 else None,
                    bytes(log["data"]),
                )
            )
            if number not in blocks:
                stamp = log.get("blockTimestamp")
                blocks[number] = (number, bytes(log["blockHash"]), None if stamp is None else _int(stamp))
        missing = [n for n, (_, _, stamp) in blocks.items() if stamp is None]
        for number in missing:
            header = self._block(number)
            if header is None or header[0] != blocks[number][1]:
                return None
            blocks[number] = (number, header[0], header[1])
        return events, list(blocks.values())

    def _find_reorg(self) -> Reorg | None:
        """Compare stored block hashes with the chain, newest first, down to the first that
        agrees; roll the index back to it if any did not."""
        fork: int | None = None
        for number, stored in self.store.stored_blocks_from(self.cursor):
            canonical = self._block(number)
            if canonical is not None and canonical[0] == stored:
                break
            fork = number - 1
        if fork is None:
            return None
        return Reorg(fork_block=fork, dropped_events=self.store.roll_back_to(fork))

    def _block(self, number: int) -> tuple[bytes, int] | None:
        """(hash, timestamp) of block ``number``, or None past the head."""
        w3 = self._require_chain()

        def read() -> Any:
            try:
                return w3.eth.get_block(number)
            except BlockNotFound:
                return None

        block = self._rpc(read)
        return None if block is None else (bytes(block["hash"]), int(block["timestamp"]))

    def _rpc(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except MedLedgerError:
            raise
        except Exception as exc:  # noqa: BLE001 - every web3/transport error becomes a medledger one
            raise translate(exc) from None

    def _require_chain(self) -> Web3:
        if self.w3 is None:
            raise ConfigurationError("this audit index was opened without a chain: pass w3 to sync it")
        return self.w3


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)
