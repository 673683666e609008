"""Sub-client of RecordRegistry: anchor records, verify files, log reads, read version chains."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from medledger.client.base import SubClient, bytes32, checksum
from medledger.errors import InvalidInput, RecordNotFound
from medledger.transactions import Receipt
from medledger.types import RecordCategory, RecordKind, RecordStatus

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
    author: str = ZERO_ADDRESS  # who anchored it: the patient for its own records and amendments
    kind: RecordKind = RecordKind.ENTRY
    latest_amendment: bytes | None = None  # the patient's latest amendment of this record
    acting_for: str | None = None  # the institution the author anchored it for (it may supersede it)

    @property
    def exists(self) -> bool:
        return self.patient != ZERO_ADDRESS

    @property
    def amended(self) -> bool:
        return self.latest_amendment is not None


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
    amends: bytes | None = None  # for a patient's amendment: the record it amends

    @property
    def kind(self) -> RecordKind:
        return RecordKind.ENTRY if self.amends is None else RecordKind.AMENDMENT


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
        acting_for: str | None = None,
    ) -> Receipt:
        """Anchor a record's ciphertext hash (the patient, or a grantee with write permission).

        ``acting_for``: the institution a practitioner writes the record for (it must employ the
        signer now, else :class:`NotActingFor`); that institution may then supersede the record.
        A new version (``supersedes``) is accepted only from the author of the version it
        replaces, or the institution it was anchored for; anyone else gets :class:`NotRecordAuthor`."""
        if not uri or len(uri.encode()) > 256:
            raise InvalidInput("the record URI must be 1 to 256 bytes")
        args = [
            checksum(patient, "patient"),
            int(RecordCategory.parse(category)),
            bytes32(record_hash, "record hash"),
            uri,
            bytes32(supersedes, "superseded record") if supersedes is not None else bytes(32),
        ]
        if acting_for is None:
            return self._send("anchorRecord", *args)
        return self._send("anchorRecordFor", *args, checksum(acting_for, "institution"))

    def amend(self, original: bytes | str, record_hash: bytes | str, uri: str) -> Receipt:
        """The signing patient anchors its amendment of ``original`` (a record another author
        anchored for it); ``original`` stays current and keeps its place in its version chain."""
        if not uri or len(uri.encode()) > 256:
            raise InvalidInput("the record URI must be 1 to 256 bytes")
        return self._send(
            "amendRecord", bytes32(original, "amended record"), bytes32(record_hash, "record hash"), uri
        )

    def verify(self, record_hash: bytes | str) -> RecordStatus:
        return RecordStatus(self._call("verify", bytes32(record_hash, "record hash")))

    def verify_with_author(self, record_hash: bytes | str) -> tuple[RecordStatus, str | None]:
        """What the chain says of a hash, and who anchored it (None if it is not a record)."""
        status, author = self._call("verifyWithAuthor", bytes32(record_hash, "record hash"))
        return RecordStatus(status), None if str(author) == ZERO_ADDRESS else str(author)

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
        patient, author, category, kind, anchored_at, superseded, amendment, acting_for = self._call("record", key)
        return Record(
            key, str(patient), RecordCategory(category), int(anchored_at), bool(superseded), str(author),
            RecordKind(kind), bytes(amendment) if any(amendment) else None,
            None if str(acting_for) == ZERO_ADDRESS else str(acting_for),
        )  # fmt: skip

    def versions_of(self, patient: str, from_block: int = 0) -> list[RecordVersion]:
        """Every record anchored for ``patient``, amendments included, oldest first."""
        filters = {"patient": checksum(patient, "patient")}
        amends = {
            bytes(log["args"]["amendment"]): bytes(log["args"]["original"])
            for log in self._events("RecordAmended", filters, from_block)
        }
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
                amends=amends.get(bytes(log["args"]["contentHash"])),
            )
            for log in self._events("RecordAnchored", filters, from_block)
        ]

    def amendments_of(self, record_hash: bytes | str) -> list[RecordVersion]:
        """The patient's amendments of ``record_hash``, oldest first (the last is the current one)."""
        record = self.require(record_hash)
        return [v for v in self.versions_of(record.patient) if v.amends == record.id]

    def chain_of(self, record_hash: bytes | str) -> list[RecordVersion]:
        """The version chain through ``record_hash``, oldest first, up to the current version.

        Versions and amendments form separate chains (an amendment never supersedes a version
        nor is superseded by one): see :meth:`amendments_of` for a version's amendments."""
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
