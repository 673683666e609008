"""GS1 element strings as printed under a pack's DataMatrix: ``(01)GTIN(17)YYMMDD(10)LOT(21)SERIAL``,
and GS1 company prefixes (who owns a GTIN).

A pharmacist scans or types what is on the box; the four application identifiers of a serialised
pack (DSCSA product identifier, EU FMD unique identifier) are read here. Only the human-readable
form with parentheses is accepted: the raw scanner form needs FNC1 separators that a terminal
does not carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from medledger.client.products import format_gtin, parse_gtin
from medledger.errors import InvalidInput

_ELEMENT = re.compile(r"\((\d{2,4})\)([^()]+)")
_KNOWN = {"01": "gtin", "17": "expiry", "10": "lot", "21": "serial"}


@dataclass(frozen=True)
class Pack:
    gtin: int
    lot: str
    serial: str
    expiry: date | None


def expiry_from_yymmdd(text: str) -> date:
    """GS1 AI 17: YYMMDD, century by the GS1 sliding window (here: 20YY); day 00 is the month's last."""
    if not re.fullmatch(r"\d{6}", text):
        raise InvalidInput(f"expiry {text!r} must be YYMMDD")
    year, month, day = 2000 + int(text[:2]), int(text[2:4]), int(text[4:])
    try:
        if day == 0:
            following = date(year + month // 12, month % 12 + 1, 1)
            return date.fromordinal(following.toordinal() - 1)
        return date(year, month, day)
    except ValueError:
        raise InvalidInput(f"expiry {text!r} is not a date") from None


def parse_pack(text: str) -> Pack:
    """The GTIN, lot, serial and expiry of an element string; each named if missing or repeated."""
    compact = text.strip()
    found: dict[str, str] = {}
    for code, value in _ELEMENT.findall(compact):
        if code not in _KNOWN:
            continue
        if _KNOWN[code] in found:
            raise InvalidInput(f"GS1 ({code}) appears twice in {text!r}")
        found[_KNOWN[code]] = value.strip()
    if "".join(f"({c}){v}" for c, v in _ELEMENT.findall(compact)) != compact.replace(" ", ""):
        raise InvalidInput(f"{text!r} is not a GS1 element string like (01)GTIN(17)YYMMDD(10)LOT(21)SERIAL")
    missing = [name for name in ("gtin", "lot", "serial") if name not in found]
    if missing:
        raise InvalidInput(f"the pack's element string lacks {', '.join(missing)} ((01) GTIN, (10) lot, (21) serial)")
    expiry = expiry_from_yymmdd(found["expiry"]) if "expiry" in found else None
    return Pack(parse_gtin(found["gtin"]), found["lot"], found["serial"], expiry)


def element_string(pack: Pack) -> str:
    expiry = f"(17){pack.expiry:%y%m%d}" if pack.expiry else ""
    return f"(01){format_gtin(pack.gtin)}{expiry}(10){pack.lot}(21){pack.serial}"


# ─── GS1 company prefixes ────────────────────────────────────────────────────────────────────

#: A GS1 company prefix has 4 to 12 digits (ProductRegistry's MIN/MAX_PREFIX_LENGTH).
PREFIX_LENGTHS = range(4, 13)


@dataclass(frozen=True)
class CompanyPrefix:
    """A GS1 company prefix as digits: the leading zeros count (``0614141`` is the U.P.C. company
    prefix 614141 in GS1 form, length 7), so the chain keys it by (length, value)."""

    length: int
    value: int

    @property
    def digits(self) -> str:
        return str(self.value).rjust(self.length, "0")

    def contains(self, gtin: int) -> bool:
        """Whether GTIN-14 ``gtin`` is inside this prefix (its digits after the indicator digit begin with it)."""
        return format_gtin(gtin)[1 : 1 + self.length] == self.digits

    def __str__(self) -> str:
        return self.digits


def parse_company_prefix(text: str | int) -> CompanyPrefix:
    """A company prefix typed as digits (spaces and dashes allowed), its length counting leading zeros."""
    raw = str(text).strip().replace(" ", "").replace("-", "")
    if not raw.isdigit() or len(raw) not in PREFIX_LENGTHS:
        raise InvalidInput(f"company prefix {text!r} must be 4 to 12 digits (leading zeros count)")
    if int(raw) == 0:
        raise InvalidInput(f"company prefix {text!r} is all zeros")
    return CompanyPrefix(len(raw), int(raw))


def company_prefix(gtin: int | str, length: int) -> CompanyPrefix:
    """The ``length``-digit company prefix of a GTIN: the digits after the GTIN-14's indicator digit
    (a GTIN-13 or GTIN-12 is padded with zeros to 14 digits first; those zeros are part of it)."""
    if length not in PREFIX_LENGTHS:
        raise InvalidInput(f"a company prefix has 4 to 12 digits, not {length}")
    digits = format_gtin(parse_gtin(gtin) if isinstance(gtin, str) else gtin)
    return CompanyPrefix(length, int(digits[1 : 1 + length]))
