"""Every event of the suite, by topic: what the index needs to name, filter and decode raw logs.

The index stores logs raw (topics and data as the node sent them) and decodes on the way out,
so syncing costs little more than the ``eth_getLogs`` calls themselves. Filtering by an indexed
argument (``patient=...``) is a comparison of one stored topic: the catalog knows which topic
holds which argument.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import event_abi_to_log_topic, to_checksum_address

from medledger import types as mltypes
from medledger.errors import InvalidInput
from medledger.toolchain import load_artifact

#: Python enums by the Solidity enum name in an ABI's ``internalType`` ("enum Purpose" → Purpose).
_ENUMS: dict[str, type[enum.IntEnum]] = {
    name: value
    for name, value in vars(mltypes).items()
    if isinstance(value, type) and issubclass(value, enum.IntEnum) and value is not mltypes._Named
}


def _canonical_type(component: dict[str, Any]) -> str:
    """The ABI type of an input as eth_abi wants it: tuples spelled out."""
    kind = str(component["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in component["components"])
        return f"({inner}){kind[len('tuple'):]}"
    return kind


@dataclass(frozen=True)
class Argument:
    name: str
    abi_type: str
    indexed: bool
    internal_type: str
    components: tuple[Argument, ...] = ()

    @classmethod
    def from_abi(cls, item: dict[str, Any]) -> Argument:
        return cls(
            name=str(item["name"]),
            abi_type=_canonical_type(item),
            indexed=bool(item.get("indexed", False)),
            internal_type=str(item.get("internalType", item["type"])),
            components=tuple(cls.from_abi(c) for c in item.get("components", ())),
        )

    def humanise(self, value: Any) -> Any:
        """``value`` as a reader wants it: enum names, checksum addresses, 0x-hex bytes."""
        if self.internal_type.startswith("enum "):
            enum_type = _ENUMS.get(self.internal_type.split()[-1].split(".")[-1])
            if enum_type is not None and isinstance(value, int):
                try:
                    return enum_type(value).name.lower()
                except ValueError:
                    return value
            return value
        if self.abi_type == "address":
            return to_checksum_address(value)
        if self.components and isinstance(value, tuple | list):
            return {c.name: c.humanise(v) for c, v in zip(self.components, value, strict=True)}
        if self.abi_type.endswith("[]") and isinstance(value, tuple | list):
            item = Argument(self.name, self.abi_type[:-2], False, self.internal_type.removesuffix("[]"))
            return [item.humanise(v) for v in value]
        if isinstance(value, bytes):
            return "0x" + value.hex()
        return value


@dataclass(frozen=True)
class EventSpec:
    """One event signature of the suite."""

    name: str
    topic0: str
    arguments: tuple[Argument, ...]

    @property
    def indexed(self) -> tuple[Argument, ...]:
        return tuple(a for a in self.arguments if a.indexed)

    def topic_position(self, argument: str) -> int:
        """1, 2 or 3: the topic that holds indexed ``argument``."""
        for position, candidate in enumerate(self.indexed, start=1):
            if candidate.name == argument:
                return position
        raise InvalidInput(f"{argument!r} is not an indexed argument of {self.name}")

    def decode(self, topics: list[bytes | None], data: bytes) -> dict[str, Any]:
        """The event's arguments, humanised, from its stored topics 1..3 and data."""
        values: dict[str, Any] = {}
        for argument, raw in zip(self.indexed, topics, strict=False):
            raw = bytes(raw or b"")
            dynamic = argument.abi_type in ("string", "bytes") or argument.abi_type.endswith("]")
            # A dynamic indexed argument is only its hash; keep the hash.
            values[argument.name] = "0x" + raw.hex() if dynamic else argument.humanise(abi_decode([argument.abi_type], raw)[0])
        plain_arguments = [a for a in self.arguments if not a.indexed]
        if plain_arguments:
            decoded = abi_decode([a.abi_type for a in plain_arguments], bytes(data))
            for argument, value in zip(plain_arguments, decoded, strict=True):
                values[argument.name] = argument.humanise(value)
        return {a.name: values[a.name] for a in self.arguments}


def encode_topic(argument: Argument, value: Any) -> bytes:
    """The topic that indexed ``argument`` holding ``value`` is stored as. Text values are read
    as the CLI gives them: addresses, 0x-hex bytes, decimal or 0x numbers, enum names."""
    abi_type = argument.abi_type
    if abi_type == "address":
        from medledger.client.base import checksum

        value = checksum(value, argument.name)
    elif abi_type.startswith("bytes") and isinstance(value, str):
        try:
            value = bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            raise InvalidInput(f"{argument.name} must be 0x-hex bytes, got {value!r}") from None
    elif abi_type.startswith(("uint", "int")):
        enum_type = _ENUMS.get(argument.internal_type.split()[-1].split(".")[-1])
        if enum_type is not None and isinstance(value, str) and not value.isdigit():
            value = enum_type.parse(value) if hasattr(enum_type, "parse") else enum_type[value.upper()]
        if isinstance(value, enum.Enum):
            value = int(value.value)
        elif isinstance(value, str):
            try:
                value = int(value, 0)
            except ValueError:
                raise InvalidInput(f"{argument.name} must be a number, got {value!r}") from None
    try:
        return abi_encode([abi_type], [value])
    except Exception as exc:  # noqa: BLE001 - eth_abi raises several encoding error types
        raise InvalidInput(f"{value!r} is not a valid {abi_type} for {argument.name}: {exc}") from None


class Catalog:
    """The events of a list of contracts: topic0 → spec, name → spec."""

    def __init__(self, contract_names: list[str]) -> None:
        self.by_topic: dict[str, EventSpec] = {}
        self.by_name: dict[str, EventSpec] = {}
        for contract in contract_names:
            for item in load_artifact(contract)["abi"]:
                if item.get("type") != "event" or item.get("anonymous"):
                    continue
                spec = EventSpec(
                    name=str(item["name"]),
                    topic0="0x" + event_abi_to_log_topic(item).hex(),
                    arguments=tuple(Argument.from_abi(i) for i in item["inputs"]),
                )
                self.by_topic[spec.topic0] = spec
                # Two events of the same name and different arguments would make names ambiguous.
                known = self.by_name.get(spec.name)
                if known is not None and known.topic0 != spec.topic0:
                    raise InvalidInput(f"event {spec.name} has two signatures in the suite")
                self.by_name[spec.name] = spec

    def spec(self, name: str) -> EventSpec:
        try:
            return self.by_name[name]
        except KeyError:
            known = ", ".join(sorted(self.by_name))
            raise InvalidInput(f"no event named {name!r} in the suite; known events: {known}") from None


@cache
def suite_catalog() -> Catalog:
    """The catalog of the whole deployed suite."""
    from medledger.deploy import CONTRACT_NAMES

    return Catalog(list(CONTRACT_NAMES))
