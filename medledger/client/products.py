"""Sub-client of ProductRegistry: products by GS1 GTIN-14, GS1 company prefixes, voiding."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_utils import keccak

from medledger.client.base import SubClient, bytes32, checksum, uint
from medledger.errors import InvalidInput
from medledger.transactions import Receipt

if TYPE_CHECKING:
    from medledger.gs1 import CompanyPrefix

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
    voided: bool = False  # a regulator voided this registration: its batches no longer verify

    @property
    def exists(self) -> bool:
        """Whether a product was ever registered under the GTIN (voided or not)."""
        return self.manufacturer != ZERO_ADDRESS

    @property
    def live(self) -> bool:
        return self.exists and not self.voided


@dataclass(frozen=True)
class PrefixAssignment:
    """A company prefix and who holds it on chain (``holder`` zero when unassigned)."""

    prefix: CompanyPrefix
    holder: str
    longer_assigned: int  # assigned prefixes that begin with this one

    @property
    def assigned(self) -> bool:
        return self.holder != ZERO_ADDRESS


def _prefix(value: str | int | CompanyPrefix) -> CompanyPrefix:
    from medledger.gs1 import CompanyPrefix, parse_company_prefix

    return value if isinstance(value, CompanyPrefix) else parse_company_prefix(value)


class ProductsClient(SubClient):
    contract_name = "ProductRegistry"

    def register(self, gtin: str | int, name: str, document_hash: bytes | str = bytes(32)) -> Receipt:
        """Register a product under its GTIN with its labelled name (a licensed manufacturer holding
        the GTIN's GS1 company prefix). A GTIN a former prefix holder registered is taken over, under
        the same name; the former holder's batches keep verifying."""
        return self._send("registerProduct", parse_gtin(gtin), name_hash(name), bytes32(document_hash, "document hash"))

    def assign_prefix(self, prefix: str | int | CompanyPrefix, manufacturer: str) -> Receipt:
        """Assign a GS1 company prefix (digits, leading zeros count) to a manufacturer (a regulator or the admin)."""
        found = _prefix(prefix)
        return self._send("assignCompanyPrefix", found.length, found.value, checksum(manufacturer, "manufacturer"))

    def unassign_prefix(self, prefix: str | int | CompanyPrefix) -> Receipt:
        """Take a company prefix back (a regulator or the admin): its holder registers no new product or
        batch under it; its registrations stay live until a new holder takes them over."""
        found = _prefix(prefix)
        return self._send("unassignCompanyPrefix", found.length, found.value)

    def void(self, gtin: str | int, reason_code: int = 0) -> Receipt:
        """Void a product registered in error (a regulator): its batches stop verifying, moving and dispensing."""
        return self._send("voidProduct", parse_gtin(gtin), uint(reason_code, 16, "reason code"))

    def prefix(self, prefix: str | int | CompanyPrefix) -> PrefixAssignment:
        found = _prefix(prefix)
        holder, longer = self._call("companyPrefix", found.length, found.value)
        return PrefixAssignment(found, str(holder), int(longer))

    def prefix_of(self, gtin: str | int) -> PrefixAssignment | None:
        """The assigned company prefix that contains ``gtin`` and its holder, or None."""
        from medledger.gs1 import CompanyPrefix

        length, value, holder = self._call("companyPrefixOf", parse_gtin(gtin))
        if int(length) == 0:
            return None
        return self.prefix(CompanyPrefix(int(length), int(value))) if holder else None

    def get(self, gtin: str | int) -> Product:
        number = parse_gtin(gtin)
        manufacturer, registered_at, voided, name, document_hash = self._call("product", number)
        return Product(number, str(manufacturer), int(registered_at), bytes(name), bytes(document_hash), bool(voided))

    def name_matches(self, gtin: str | int, name: str) -> bool:
        """Whether ``name`` is the registered product's labelled name."""
        found = self.get(gtin)
        return found.exists and found.name_hash == name_hash(name)

    def holds_gtin(self, account: str, gtin: str | int) -> bool:
        """Whether ``account`` holds the company prefix of ``gtin`` now (only then it registers batches of it)."""
        return bool(self._call("holdsGtin", checksum(account, "account"), parse_gtin(gtin)))

    def is_licensed_manufacturer(self, account: str) -> bool:
        return bool(self._call("isLicensedManufacturer", checksum(account, "account")))
