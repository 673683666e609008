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
from eth_utils import keccak, to_checksum_address
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
        "domain": domain.as_dict(),
        "message": {f["name"]: _json_value(f["type"], message[f["name"]]) for f in fields},
    }


def _json_value(kind: str, value: Any) -> Any:
    if kind == "address":
        return to_checksum_address(value)
    if kind.startswith("bytes"):
        return "0x" + value.hex() if isinstance(value, bytes) else str(value)
    if kind == "bool":
        return bool(value)
    return int(value)


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
        try:
            raw = json.loads(text)
            data, signer, signature = raw["typedData"], raw["signer"], raw["signature"]
            if data["primaryType"] not in MESSAGE_TYPES:
                raise ValueError(f"unknown message type {data['primaryType']!r}")
            return cls(data, to_checksum_address(signer), bytes.fromhex(signature.removeprefix("0x")))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidInput(f"the signed consent file is malformed ({exc})") from None


def sign_message(
    domain: Domain, primary_type: str, message: dict[str, Any], account: LocalAccount
) -> SignedMessage:
    """Build ``message`` in ``domain`` and sign it with ``account``."""
    data = typed_data(domain, primary_type, message)
    return SignedMessage(data, account.address, sign(data, account))


def to_json(data: dict[str, Any]) -> str:
    """The typed data as the JSON a wallet's ``eth_signTypedData_v4`` takes."""
    return json.dumps(data, indent=2)
