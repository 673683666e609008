"""EIP-712 consent messages: build, sign, verify, and export for browser wallets.

A patient (or a delegate) signs a consent off chain and anyone relays it: the contract checks the
signature, a nonce (OpenZeppelin ``Nonces``, per patient), a deadline, the chain id and its own
address, so a signature works once, on one chain, at one contract. The typed data built here is
exactly what a wallet signs with ``eth_signTypedData_v4``: :func:`to_json` gives that JSON, and a
signature made by MetaMask over it verifies here and on chain.

The domain is read from the contract itself (ERC-5267 ``eip712Domain()``), never assumed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import is_address, is_hex, keccak, to_checksum_address
from web3.contract import Contract

from medledger.errors import InvalidInput

EIP712_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]

#: The typed messages of the suite, field for field as in the contracts' typehashes.
MESSAGE_TYPES: dict[str, list[dict[str, str]]] = {
    "MrnLinkConsent": [
        {"name": "patient", "type": "address"},
        {"name": "institution", "type": "address"},
        {"name": "mrnCommitment", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
    "Grant": [
        {"name": "patient", "type": "address"},
        {"name": "grantee", "type": "address"},
        {"name": "categories", "type": "uint16"},
        {"name": "writeCategories", "type": "uint16"},
        {"name": "purpose", "type": "uint8"},
        {"name": "validUntil", "type": "uint40"},
        {"name": "referralAllowed", "type": "bool"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
    "Revoke": [
        {"name": "patient", "type": "address"},
        {"name": "grantee", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
}


def type_string(primary_type: str) -> str:
    """``Name(type field,...)``: the preimage of the contract's typehash constant."""
    fields = ",".join(f"{f['type']} {f['name']}" for f in MESSAGE_TYPES[primary_type])
    return f"{primary_type}({fields})"


def typehash(primary_type: str) -> bytes:
    return keccak(text=type_string(primary_type))


@dataclass(frozen=True)
class Domain:
    """The EIP-712 domain of one deployed contract."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }

    @classmethod
    def of(cls, contract: Contract) -> Domain:
        """The domain ``contract`` reports through ERC-5267 ``eip712Domain()``."""
        from medledger.transactions import translate

        try:
            _, name, version, chain_id, verifying_contract, _, _ = contract.functions.eip712Domain().call()
        except Exception as exc:  # noqa: BLE001
            raise translate(exc) from None
        return cls(str(name), str(version), int(chain_id), to_checksum_address(verifying_contract))


def typed_data(domain: Domain, primary_type: str, message: dict[str, Any]) -> dict[str, Any]:
    """The full typed data (``eth_signTypedData_v4`` shape) of ``message``, in JSON-ready values."""
    if primary_type not in MESSAGE_TYPES:
        raise InvalidInput(f"unknown consent message type {primary_type!r}")
    fields = MESSAGE_TYPES[primary_type]
    missing = [f["name"] for f in fields if f["name"] not in message]
    extra = sorted(set(message) - {f["name"] for f in fields})
    if missing or extra:
        raise InvalidInput(f"{primary_type} message has missing fields {missing} / unknown fields {extra}")
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, primary_type: fields},
        "primaryType": primary_type,
        "domain": _parse_fields("domain", EIP712_DOMAIN_TYPE, domain.as_dict()),
        "message": {f["name"]: _json_value(f["type"], message[f["name"]], f["name"]) for f in fields},
    }


def parse_typed_data(data: Any) -> dict[str, Any]:
    """``data`` (typed data from a wallet or a file) checked field by field and rebuilt in the
    canonical form :func:`typed_data` gives, so what is verified, hashed and sent is one thing.

    The types must be the contract's, field for field (a signature over other types would verify
    here and fail on chain). Values are taken as wallets write them: a ``uint`` as a JSON number,
    a decimal string or a 0x-hex string (MetaMask and eth-account accept all three); a ``bool``
    only as JSON ``true``/``false`` (eth-account hashes the string "false" as false, and Python
    would send it as true); addresses as 0x-hex. A missing or unknown field is named."""
    if not isinstance(data, dict):
        raise InvalidInput("the typed data must be a JSON object")
    for key in ("types", "primaryType", "domain", "message"):
        if key not in data:
            raise InvalidInput(f"the typed data lacks {key!r}")
    primary_type = data["primaryType"]
    if primary_type not in MESSAGE_TYPES:
        raise InvalidInput(f"unknown consent message type {primary_type!r}")
    types = data["types"]
    if not isinstance(types, dict):
        raise InvalidInput("the typed data's 'types' must be a JSON object")
    for name, expected in (("EIP712Domain", EIP712_DOMAIN_TYPE), (primary_type, MESSAGE_TYPES[primary_type])):
        if types.get(name) != expected:
            wanted = ", ".join(f"{f['type']} {f['name']}" for f in expected)
            raise InvalidInput(f"the typed data's {name} type is not the contract's ({wanted})")
    domain, message = data["domain"], data["message"]
    if not isinstance(domain, dict) or not isinstance(message, dict):
        raise InvalidInput("the typed data's 'domain' and 'message' must be JSON objects")
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, primary_type: MESSAGE_TYPES[primary_type]},
        "primaryType": primary_type,
        "domain": _parse_fields("domain", EIP712_DOMAIN_TYPE, domain),
        "message": _parse_fields(primary_type, MESSAGE_TYPES[primary_type], message),
    }


def _parse_fields(what: str, fields: list[dict[str, str]], values: dict[str, Any]) -> dict[str, Any]:
    for field in fields:
        if field["name"] not in values:
            raise InvalidInput(f"the {what} lacks the field {field['name']!r} ({field['type']})")
    extra = sorted(set(values) - {f["name"] for f in fields})
    if extra:
        raise InvalidInput(f"the {what} has unknown field(s) {', '.join(map(repr, extra))}")
    return {f["name"]: _json_value(f["type"], values[f["name"]], f"{what}.{f['name']}") for f in fields}


def _json_value(kind: str, value: Any, name: str = "value") -> Any:
    """``value`` of Solidity type ``kind`` as JSON, strictly: :class:`InvalidInput` naming ``name``."""
    if kind == "address":
        if not isinstance(value, str) or not is_address(value):
            raise InvalidInput(f"{name} must be an address (0x followed by 40 hex digits), got {value!r}")
        return to_checksum_address(value)
    if kind == "bytes32":
        if isinstance(value, bytes):
            value = "0x" + value.hex()
        if not isinstance(value, str) or len(value) != 66 or not is_hex(value) or not value.startswith("0x"):
            raise InvalidInput(f"{name} must be 32 bytes as 0x-hex, got {value!r}")
        return value.lower()
    if kind == "string":
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be a string, got {value!r}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidInput(f"{name} must be a JSON boolean (true or false), got {value!r}")
        return value
    if kind.startswith("uint"):
        bits = int(kind[4:] or 256)
        number = _uint(value)
        if number is None or not 0 <= number < 2**bits:
            raise InvalidInput(
                f"{name} must be a whole number from 0 to 2^{bits}-1 (a JSON number, a decimal or a 0x-hex string), "
                f"got {value!r}"
            )
        return number
    raise InvalidInput(f"{name} has a type the suite does not sign ({kind})")


def _uint(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text[:2].lower() == "0x" and len(text) > 2 and is_hex(text):
            return int(text, 16)
        if text.isdecimal() and text.isascii():
            return int(text)
    return None


def digest(data: dict[str, Any]) -> bytes:
    """The 32-byte hash the contract recomputes and the signer signs."""
    signable = _signable(data)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def _signable(data: dict[str, Any]) -> Any:
    try:
        return encode_typed_data(full_message=data)
    except Exception as exc:  # noqa: BLE001 - eth-account raises several kinds for malformed data
        raise InvalidInput(f"malformed typed data: {exc}") from None


def sign(data: dict[str, Any], account: LocalAccount) -> bytes:
    """``account``'s 65-byte signature over ``data``."""
    return bytes(account.sign_message(_signable(data)).signature)


def recover(data: dict[str, Any], signature: bytes) -> str:
    """The address whose key signed ``data`` (an EOA; contract wallets verify on chain)."""
    try:
        return str(Account.recover_message(_signable(data), signature=signature))
    except InvalidInput:
        raise
    except Exception:  # noqa: BLE001
        raise InvalidInput("the signature is malformed (expected 65 bytes r, s, v)") from None


@dataclass(frozen=True)
class SignedMessage:
    """A typed message and who signed it: what a patient hands to a relayer."""

    data: dict[str, Any]
    signer: str
    signature: bytes

    @property
    def primary_type(self) -> str:
        return str(self.data["primaryType"])

    @property
    def message(self) -> dict[str, Any]:
        return dict(self.data["message"])

    def verify(self) -> None:
        """Raise :class:`InvalidInput` unless ``signer`` signed ``data`` with an EOA key."""
        if recover(self.data, self.signature).lower() != self.signer.lower():
            raise InvalidInput(f"the signature was not made by {self.signer}")

    def to_json(self) -> str:
        return json.dumps(
            {"typedData": self.data, "signer": self.signer, "signature": "0x" + self.signature.hex()}, indent=2
        )

    @classmethod
    def from_json(cls, text: str) -> SignedMessage:
        """A signed consent as ``to_json`` (or a wallet page) writes it; its typed data is checked
        and rebuilt by :func:`parse_typed_data`, so a wrong field is named here."""
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict):
                raise InvalidInput("expected a JSON object")
            for key in ("typedData", "signer", "signature"):
                if key not in raw:
                    raise InvalidInput(f"it lacks {key!r}")
            data = parse_typed_data(raw["typedData"])
            signer, signature = raw["signer"], raw["signature"]
            if not isinstance(signer, str) or not is_address(signer):
                raise InvalidInput(f"signer {signer!r} is not an address")
            if not isinstance(signature, str) or not signature.startswith("0x"):
                raise InvalidInput("the signature must be 0x-hex")
            return cls(data, to_checksum_address(signer), bytes.fromhex(signature[2:]))
        except (InvalidInput, ValueError) as exc:
            raise InvalidInput(f"the signed consent is malformed ({exc})") from None


def sign_message(
    domain: Domain, primary_type: str, message: dict[str, Any], account: LocalAccount
) -> SignedMessage:
    """Build ``message`` in ``domain`` and sign it with ``account``."""
    data = typed_data(domain, primary_type, message)
    return SignedMessage(data, account.address, sign(data, account))


def to_json(data: dict[str, Any]) -> str:
    """The typed data as the JSON a wallet's ``eth_signTypedData_v4`` takes."""
    return json.dumps(data, indent=2)
