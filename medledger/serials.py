"""Unit serial numbers of a batch and their Merkle tree: generate, root, proofs, multiproofs.

Leaves are ``keccak256(bytes.concat(keccak256(abi.encode(batchId, serial))))`` with the serial as
left-aligned ``bytes20`` (GS1 serials have at most 20 characters). The tree is built like
OpenZeppelin's StandardMerkleTree (leaves sorted, complete binary tree in an array, pairs hashed
in sorted order), so its proofs and multiproofs verify with OpenZeppelin's ``MerkleProof`` on chain.
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


def leaf(batch_id: bytes, serial: str) -> bytes:
    inner = keccak(encode(["bytes32", "bytes20"], [bytes32(batch_id, "batch id"), serial_bytes(serial)]))
    return keccak(inner)


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
    serials: list[str]  # in the order the proof expects
    proof: list[bytes]
    flags: list[bool]


class SerialTree:
    """The Merkle tree of one batch's serials."""

    def __init__(self, batch_id: bytes, serials: Iterable[str]) -> None:
        self.batch_id = bytes32(batch_id, "batch id")
        listed = list(serials)
        if not listed:
            raise InvalidInput("a batch needs at least one serial")
        if len(set(listed)) != len(listed):
            raise InvalidInput("the serials are not distinct")
        hashed = sorted(((leaf(self.batch_id, s), s) for s in listed), key=lambda item: item[0])
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
        return sorted(self._position)

    def _index(self, serial: str) -> int:
        try:
            return self._position[serial]
        except KeyError:
            raise InvalidInput(f"serial {serial!r} is not in this batch's tree") from None

    def proof(self, serial: str) -> list[bytes]:
        index, path = self._index(serial), []
        while index > 0:
            sibling = index - 1 if index % 2 == 0 else index + 1
            path.append(self._tree[sibling])
            index = (index - 1) // 2
        return path

    def multiproof(self, serials: Iterable[str]) -> MultiProof:
        """One proof for several units; ``serials`` of the result is the order the contract needs."""
        indices = sorted({self._index(s) for s in serials}, reverse=True)
        if not indices:
            raise InvalidInput("a multiproof needs at least one serial")
        by_index = {i: s for s, i in self._position.items()}
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
        return MultiProof([by_index[i] for i in indices], proof, flags)

    def to_json(self) -> str:
        """The proofs file: root, batch and every serial with its proof."""
        return json.dumps({
            "batch_id": "0x" + self.batch_id.hex(),
            "root": "0x" + self.root.hex(),
            "units": {s: ["0x" + p.hex() for p in self.proof(s)] for s in self.serials},
        }, indent=1)  # fmt: skip
