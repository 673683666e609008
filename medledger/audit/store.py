"""The SQLite file behind an audit index: raw logs, the hashes of indexed blocks, and a cursor.

One file, no server. Every sync step writes its logs, its block hashes and the new cursor in one
transaction, so a sync killed at any point leaves the file as it was after the last whole step:
rerunning it neither loses nor doubles an event.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from medledger.errors import ConfigurationError

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- Hashes of the indexed blocks that held logs, and of the last block of every sync step: what a
-- later sync compares with the chain to find a reorg.
CREATE TABLE IF NOT EXISTS blocks (
    number    INTEGER PRIMARY KEY,
    hash      BLOB NOT NULL,
    timestamp INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    block_number INTEGER NOT NULL,
    log_index    INTEGER NOT NULL,
    block_hash   BLOB NOT NULL,
    tx_hash      BLOB NOT NULL,
    contract     TEXT NOT NULL,
    event        TEXT NOT NULL,
    topic1       BLOB,
    topic2       BLOB,
    topic3       BLOB,
    data         BLOB NOT NULL,
    PRIMARY KEY (block_number, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_topic1 ON events (topic1);
CREATE INDEX IF NOT EXISTS events_by_topic2 ON events (topic2);
CREATE INDEX IF NOT EXISTS events_by_event ON events (event);
"""

#: Column order of an events row, as :meth:`Store.add` takes it.
EVENT_COLUMNS = (
    "block_number", "log_index", "block_hash", "tx_hash", "contract", "event",
    "topic1", "topic2", "topic3", "data",
)  # fmt: skip
INSERT_EVENT = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"

#: Hashes, topics and data are stored as the raw bytes the node sent (BLOBs), not hex text.
EventRow = tuple[int, int, bytes, bytes, str, str, bytes | None, bytes | None, bytes | None, bytes]


class Store:
    """An audit index file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(path), isolation_level=None)
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ConfigurationError(f"{path} is not a medledger audit index: {exc}") from None
        # WAL lets a query read while a sync writes; NORMAL is durable at every checkpoint in WAL.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        version = self.get_meta("schema_version")
        if version is None:
            self.set_meta("schema_version", SCHEMA_VERSION)
        elif int(version) != SCHEMA_VERSION:
            raise ConfigurationError(
                f"{path} was written by another medledger version (schema {version}, this one reads "
                f"{SCHEMA_VERSION}): delete it and sync again"
            )

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All of the block's writes or none of them."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # ─── meta ────────────────────────────────────────────────────────────────────────────────

    def get_meta(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any, db: sqlite3.Connection | None = None) -> None:
        (db or self._db).execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    @property
    def cursor(self) -> int:
        """The last block whose logs are all in the index; -1 before the first sync."""
        value = self.get_meta("cursor")
        return -1 if value is None else int(value)

    # ─── writes ──────────────────────────────────────────────────────────────────────────────

    def add(
        self,
        db: sqlite3.Connection,
        events: list[EventRow],
        blocks: Iterable[tuple[int, bytes, int | None]],
        cursor: int,
    ) -> None:
        """Inside a :meth:`transaction`: store a step's events and block hashes, move the cursor."""
        db.executemany(INSERT_EVENT, events)
        db.executemany(
            "INSERT INTO blocks (number, hash, timestamp) VALUES (?, ?, ?) ON CONFLICT(number) DO UPDATE "
            "SET hash = excluded.hash, timestamp = coalesce(excluded.timestamp, blocks.timestamp)",
            list(blocks),
        )
        self.set_meta("cursor", cursor, db)

    def roll_back_to(self, block: int) -> int:
        """Forget everything after ``block`` (a fork point); the number of events dropped."""
        with self.transaction() as db:
            dropped = db.execute("DELETE FROM events WHERE block_number > ?", (block,)).rowcount
            db.execute("DELETE FROM blocks WHERE number > ?", (block,))
            self.set_meta("cursor", min(self.cursor, block), db)
        return int(dropped)

    # ─── reads ───────────────────────────────────────────────────────────────────────────────

    def stored_blocks_from(self, block: int) -> Iterator[tuple[int, bytes]]:
        """Stored (number, hash) pairs at or below ``block``, newest first."""
        yield from self._db.execute(
            "SELECT number, hash FROM blocks WHERE number <= ? ORDER BY number DESC", (block,)
        )

    def block_time(self, number: int) -> int | None:
        row = self._db.execute("SELECT timestamp FROM blocks WHERE number = ?", (number,)).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

    def select(self, where: str = "", parameters: tuple[Any, ...] = (), limit: int | None = None) -> list[sqlite3.Row]:
        """Event rows with their block time, oldest first."""
        sql = (
            "SELECT e.*, b.timestamp FROM events e LEFT JOIN blocks b ON b.number = e.block_number"
            + (f" WHERE {where}" if where else "")
            + " ORDER BY e.block_number, e.log_index"
            + (f" LIMIT {int(limit)}" if limit is not None else "")
        )
        self._db.row_factory = sqlite3.Row
        try:
            return list(self._db.execute(sql, parameters))
        finally:
            self._db.row_factory = None
