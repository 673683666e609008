"""Sub-client of RecordRegistry: anchor records, verify files, log reads, read version chains."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from medledger.client.base import SubClient, bytes32, checksum
from medledger.errors import InvalidInput, RecordNotFound
from medledger.transactions import Receipt
from medledger.types import RecordCategory, RecordStatus

if TYPE_CHECKING:
    from medledger.client.facade import MedLedger

ZERO_ADDRESS = "0x" + "00" * 20


def content_hash(data: bytes) -> bytes:
    """SHA-256 of a ciphertext: the id a record is anchored under (``sha256sum`` gives the same)."""
    return hashlib.sha256(data).digest()


def file_hash(path: Path) -> bytes:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    return digest.digest()


@dataclass(frozen=True)
class Record:
    id: bytes  # content hash
    patient: str
    category: RecordCategory
    anchored_at: int
    superseded: bool

    @property
    def exists(self) -> bool:
        return self.patient != ZERO_ADDRESS


@dataclass(frozen=True)
class RecordVersion:
    """One anchoring, as its event tells it."""

    id: bytes
    patient: str
    author: str
    category: RecordCategory
    supersedes: bytes | None
    uri: str
    block_number: int
    tx_hash: str


class RecordsClient(SubClient):
    contract_name = "RecordRegistry"

    def __init__(self, ledger: MedLedger) -> None:
        super().__init__(ledger)
        self._owners: dict[bytes, tuple[str, RecordCategory]] = {}

    def anchor(
        self,
        patient: str,
        category: RecordCategory | str | int,
        record_hash: bytes | str,
        uri: str,
        *,
        supersedes: bytes | str | None = None,
    ) -> Receipt:
        """Anchor a record's ciphertext hash (the patient, or a grantee with write permission)."""
        if not uri or len(uri.encode()) > 256:
            raise InvalidInput("the record URI must be 1 to 256 bytes")
        return self._send(
            "anchorRecord",
            checksum(patient, "patient"),
            int(RecordCategory.parse(category)),
            bytes32(record_hash, "record hash"),
            uri,
            bytes32(supersedes, "superseded record") if supersedes is not None else bytes(32),
        )

    def verify(self, record_hash: bytes | str) -> RecordStatus:
        return RecordStatus(self._call("verify", bytes32(record_hash, "record hash")))

    def verify_file(self, path: Path) -> tuple[bytes, RecordStatus]:
        """The file's SHA-256 and what the chain says of it."""
        digest = file_hash(path)
        return digest, self.verify(digest)

    def require(self, record_hash: bytes | str) -> Record:
        """The anchored record, or :class:`RecordNotFound`."""
        record = self.get(record_hash)
        if not record.exists:
            raise RecordNotFound({"contentHash": record.id}, message=f"record 0x{record.id.hex()} is not anchored")
        return record

    def owner_of(self, record_hash: bytes | str) -> tuple[str, RecordCategory]:
        """The patient and category of an anchored record, read once and then remembered: an
        anchor's patient and category never change (only its superseded flag does), so a
        practitioner logging many reads of one record pays for one lookup."""
        key = bytes32(record_hash, "record hash")
        known = self._owners.get(key)
        if known is None:
            record = self.require(key)
            known = self._owners[key] = (record.patient, record.category)
        return known

    def get(self, record_hash: bytes | str) -> Record:
        """The anchored record (``exists`` False if it was never anchored)."""
        key = bytes32(record_hash, "record hash")
        patient, category, anchored_at, superseded = self._call("record", key)
        return Record(key, str(patient), RecordCategory(category), int(anchored_at), bool(superseded))

    def versions_of(self, patient: str, from_block: int = 0) -> list[RecordVersion]:
        """Every record anchored for ``patient``, oldest first."""
        return [
            RecordVersion(
                id=bytes(log["args"]["contentHash"]),
                patient=str(log["args"]["patient"]),
                author=str(log["args"]["author"]),
                category=RecordCategory(log["args"]["category"]),
                supersedes=bytes(log["args"]["supersedes"]) if any(log["args"]["supersedes"]) else None,
                uri=str(log["args"]["uri"]),
                block_number=int(log["blockNumber"]),
                tx_hash=log["transactionHash"].to_0x_hex(),
            )
            for log in self._events("RecordAnchored", {"patient": checksum(patient, "patient")}, from_block)
        ]

    def chain_of(self, record_hash: bytes | str) -> list[RecordVersion]:
        """The version chain through ``record_hash``, oldest first, up to the current version."""
        record = self.require(record_hash)
        versions = [v for v in self.versions_of(record.patient) if v.category is record.category]
        by_id = {v.id: v for v in versions}
        successor = {v.supersedes: v for v in versions if v.supersedes}
        first = by_id[record.id]
        while first.supersedes in by_id:
            first = by_id[first.supersedes]
        chain = [first]
        while chain[-1].id in successor:
            chain.append(successor[chain[-1].id])
        return chain
