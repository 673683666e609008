"""Unit serial numbers of a batch and their Merkle tree: generate, root, proofs, multiproofs.

A unit is its place in the manufacturer's serial list (``index``, from 0) and its serial. Leaves are
``keccak256(bytes.concat(keccak256(abi.encode(batchId, index, serial))))`` with the serial as
left-aligned ``bytes20`` (GS1 serials have at most 20 characters); the index keys the batch's
dispensed bitmap on chain. The tree is built like OpenZeppelin's StandardMerkleTree with
``sortLeaves: false`` (leaves in list order, complete binary tree in an array, pairs hashed in
sorted order), so its proofs and multiproofs verify with OpenZeppelin's ``MerkleProof`` on chain,
and the consecutive packs of a case need only a short multiproof.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak

from medledger.client.base import bytes32
from medledger.errors import InvalidInput

SERIAL_LIMIT = 20
ALPHABET = string.ascii_uppercase + string.digits


def serial_bytes(serial: str) -> bytes:
    """A GS1 serial as the left-aligned ``bytes20`` the contracts take."""
    if not serial or len(serial) > SERIAL_LIMIT or not serial.isascii() or not serial.isprintable():
        raise InvalidInput(f"serial {serial!r} must be 1 to {SERIAL_LIMIT} printable ASCII characters")
    return serial.encode().ljust(20, b"\x00")


@dataclass(frozen=True)
class Unit:
    """One serialised pack of a batch: its place in the serial list and its serial."""

    index: int
    serial: str

    def as_tuple(self) -> tuple[int, bytes]:
        """The ``Unit`` struct as the contracts take it."""
        return (self.index, serial_bytes(self.serial))


def leaf(batch_id: bytes, unit: Unit) -> bytes:
    packed = encode(["bytes32", "uint64", "bytes20"], [bytes32(batch_id, "batch id"), *unit.as_tuple()])
    return keccak(keccak(packed))


def generate(count: int, length: int = 12) -> list[str]:
    """``count`` distinct random serials of ``length`` characters (upper-case letters and digits)."""
    if not 1 <= count <= 10_000_000 or not 6 <= length <= SERIAL_LIMIT:
        raise InvalidInput("generate 1 to 10,000,000 serials of 6 to 20 characters")
    found: set[str] = set()
    while len(found) < count:
        found.add("".join(secrets.choice(ALPHABET) for _ in range(length)))
    return sorted(found)


def _pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


@dataclass(frozen=True)
class MultiProof:
    units: list[Unit]  # in the order the proof expects
    proof: list[bytes]
    flags: list[bool]

    @property
    def serials(self) -> list[str]:
        return [unit.serial for unit in self.units]


class SerialTree:
    """The Merkle tree of one batch's serials; a serial's index is its place in ``serials``."""

    def __init__(self, batch_id: bytes, serials: Iterable[str]) -> None:
        self.batch_id = bytes32(batch_id, "batch id")
        listed = list(serials)
        if not listed:
            raise InvalidInput("a batch needs at least one serial")
        if len(set(listed)) != len(listed):
            raise InvalidInput("the serials are not distinct")
        self._listed = listed
        self._units = {serial: Unit(index, serial) for index, serial in enumerate(listed)}
        # Leaves stay in the manufacturer's order (OpenZeppelin's `sortLeaves: false`), so the
        # consecutive packs of a case are neighbours and share almost all of a multiproof.
        hashed = [(leaf(self.batch_id, self._units[s]), s) for s in listed]
        size = 2 * len(hashed) - 1
        self._tree: list[bytes] = [b""] * size
        self._position: dict[str, int] = {}
        for i, (value, serial) in enumerate(hashed):
            self._tree[size - 1 - i] = value
            self._position[serial] = size - 1 - i
        for i in range(size - 1 - len(hashed), -1, -1):
            self._tree[i] = _pair(self._tree[2 * i + 1], self._tree[2 * i + 2])

    @property
    def root(self) -> bytes:
        return self._tree[0]

    @property
    def serials(self) -> list[str]:
        """The serials in the manufacturer's order (a unit's index is its place here)."""
        return list(self._listed)

    def unit(self, serial: str) -> Unit:
        self._node(serial)
        return self._units[serial]

    def _node(self, serial: str) -> int:
        try:
            return self._position[serial]
        except KeyError:
            raise InvalidInput(f"serial {serial!r} is not in this batch's tree") from None

    def proof(self, serial: str) -> list[bytes]:
        index, path = self._node(serial), []
        while index > 0:
            sibling = index - 1 if index % 2 == 0 else index + 1
            path.append(self._tree[sibling])
            index = (index - 1) // 2
        return path

    def multiproof(self, serials: Iterable[str]) -> MultiProof:
        """One proof for several units; ``units`` of the result is the order the contract needs.

        For a single unit it is the unit's plain proof with no flags, which the contracts check
        with the cheaper single-leaf path.
        """
        indices = sorted({self._node(s) for s in serials}, reverse=True)
        if not indices:
            raise InvalidInput("a multiproof needs at least one serial")
        by_node = {i: s for s, i in self._position.items()}
        if len(indices) == 1:
            serial = by_node[indices[0]]
            return MultiProof([self._units[serial]], self.proof(serial), [])
        stack, proof, flags = list(indices), [], []
        while stack and stack[0] > 0:
            index = stack.pop(0)
            sibling = index - 1 if index % 2 == 0 else index + 1
            if stack and stack[0] == sibling:
                flags.append(True)
                stack.pop(0)
            else:
                flags.append(False)
                proof.append(self._tree[sibling])
            stack.append((index - 1) // 2)
        return MultiProof([self._units[by_node[i]] for i in indices], proof, flags)

    def to_json(self) -> str:
        """The proofs file: batch, root, the serials in order, and every unit with its proof (so a
        single pack is checked without rebuilding the tree)."""
        return json.dumps({
            "batch_id": "0x" + self.batch_id.hex(),
            "root": "0x" + self.root.hex(),
            "serials": self.serials,
            "units": {s: {"index": i, "proof": ["0x" + p.hex() for p in self.proof(s)]}
                      for i, s in enumerate(self.serials)},
        }, indent=1)  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> SerialTree:
        """The tree of a proofs file, rebuilt from its serials; refused if it does not give the
        file's root (a damaged or edited file)."""
        try:
            saved = json.loads(text)
            tree = cls(bytes32(saved["batch_id"], "batch id"), saved["serials"])
            root = bytes32(saved["root"], "root")
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"not a medledger proofs file ({exc})") from None
        if tree.root != root:
            raise InvalidInput("the proofs file's serials do not give its root: the file is damaged")
        return tree
