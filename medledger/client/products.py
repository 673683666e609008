"""Sub-client of ProductRegistry: products by GS1 GTIN-14."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from eth_utils import keccak

from medledger.client.base import SubClient, bytes32, checksum
from medledger.errors import InvalidInput
from medledger.transactions import Receipt

ZERO_ADDRESS = "0x" + "00" * 20


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of the digits before it."""
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def parse_gtin(value: str | int) -> int:
    """A GTIN (8, 12, 13 or 14 digits; spaces and dashes allowed) as the GTIN-14 number the contracts use."""
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    if len(str(value).replace(" ", "").replace("-", "")) != len(digits) or len(digits) not in (8, 12, 13, 14):
        raise InvalidInput(f"GTIN {value!r} must be 8, 12, 13 or 14 digits")
    digits = digits.rjust(14, "0")
    if gtin_check_digit(digits[:-1]) != int(digits[-1]):
        raise InvalidInput(f"GTIN {value!r} has a wrong check digit (expected {gtin_check_digit(digits[:-1])})")
    return int(digits)


def format_gtin(gtin: int) -> str:
    return str(gtin).rjust(14, "0")


def name_hash(name: str) -> bytes:
    """keccak256 of a product name as labelled: Unicode NFC, surrounding spaces trimmed, inner runs
    of spaces made one, so the same label typed twice gives the same hash."""
    text = " ".join(unicodedata.normalize("NFC", name).split())
    if not text:
        raise InvalidInput("the product name is empty")
    return keccak(text=text)


@dataclass(frozen=True)
class Product:
    gtin: int
    manufacturer: str
    registered_at: int
    name_hash: bytes
    document_hash: bytes

    @property
    def exists(self) -> bool:
        return self.manufacturer != ZERO_ADDRESS


class ProductsClient(SubClient):
    contract_name = "ProductRegistry"

    def register(self, gtin: str | int, name: str, document_hash: bytes | str = bytes(32)) -> Receipt:
        """Register a product under its GTIN with its labelled name (a licensed manufacturer)."""
        return self._send("registerProduct", parse_gtin(gtin), name_hash(name), bytes32(document_hash, "document hash"))

    def get(self, gtin: str | int) -> Product:
        number = parse_gtin(gtin)
        manufacturer, registered_at, name, document_hash = self._call("product", number)
        return Product(number, str(manufacturer), int(registered_at), bytes(name), bytes(document_hash))

    def name_matches(self, gtin: str | int, name: str) -> bool:
        """Whether ``name`` is the registered product's labelled name."""
        found = self.get(gtin)
        return found.exists and found.name_hash == name_hash(name)

    def is_licensed_manufacturer(self, account: str) -> bool:
        return bool(self._call("isLicensedManufacturer", checksum(account, "account")))
