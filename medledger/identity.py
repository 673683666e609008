"""Salted commitments and encryption keys: what stands for a patient on chain instead of the person.

Only hashes leave this module. An identity commitment hides the identity attributes (name, birth
date, national number) behind a random 32-byte salt that the patient keeps; an MRN commitment hides
an institution's patient number the same way and binds it to that institution, so the same number
at two hospitals gives two unrelated commitments.
"""

from __future__ import annotations

import json
import secrets
import unicodedata
from collections.abc import Mapping

import coincurve
from eth_abi import encode
from eth_utils import keccak

from medledger.client.base import bytes32, checksum
from medledger.errors import InvalidInput

SALT_BYTES = 32


def new_salt() -> bytes:
    """32 random bytes from the operating system's CSPRNG."""
    return secrets.token_bytes(SALT_BYTES)


def _normalise(text: str) -> str:
    """One spelling per value: NFC, trimmed, inner whitespace collapsed, case folded."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def identity_digest(attributes: Mapping[str, str]) -> bytes:
    """keccak256 of the attributes as canonical JSON (sorted keys, normalised values)."""
    if not attributes:
        raise InvalidInput("identity attributes are empty: give at least one (e.g. name, birth_date)")
    canonical: dict[str, str] = {}
    for key, value in attributes.items():
        if not isinstance(value, str) or not _normalise(value):
            raise InvalidInput(f"identity attribute {key!r} must be non-empty text")
        canonical[_normalise(key)] = _normalise(value)
    return keccak(json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())


def identity_commitment(attributes: Mapping[str, str], salt: bytes) -> bytes:
    """``keccak256(abi.encode(identity_digest(attributes), salt))``: what PatientRegistry stores."""
    return keccak(encode(["bytes32", "bytes32"], [identity_digest(attributes), bytes32(salt, "salt")]))


def mrn_commitment(institution: str, mrn: str, salt: bytes) -> bytes:
    """``keccak256(abi.encode(institution, keccak256(mrn), salt))``: an institution's patient number, hidden."""
    mrn = mrn.strip()
    if not mrn:
        raise InvalidInput("the MRN is empty")
    return keccak(
        encode(
            ["address", "bytes32", "bytes32"],
            [checksum(institution, "institution"), keccak(text=mrn), bytes32(salt, "salt")],
        )
    )


def public_key(private_key: bytes) -> bytes:
    """The compressed (33-byte) secp256k1 public key of a 32-byte private key."""
    try:
        return bytes(coincurve.PrivateKey(bytes32(private_key, "private key")).public_key.format(compressed=True))
    except ValueError:
        raise InvalidInput("the private key is not a valid secp256k1 key") from None


def compressed_public_key(key: bytes | str) -> bytes:
    """``key`` (hex or bytes; compressed or uncompressed) as a checked 33-byte compressed key."""
    if isinstance(key, str):
        try:
            key = bytes.fromhex(key[2:] if key.startswith("0x") else key)
        except ValueError:
            raise InvalidInput(f"encryption key {key!r} is not hex") from None
    try:
        return bytes(coincurve.PublicKey(key).format(compressed=True))
    except ValueError:
        raise InvalidInput("the encryption key is not a secp256k1 public key (33 or 65 bytes on the curve)") from None
