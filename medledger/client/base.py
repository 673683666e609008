"""What every sub-client shares: the contract handle, the signer and the transactor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth_utils import is_address, to_checksum_address
from web3.contract import Contract

from medledger.transactions import Receipt
from medledger.consent import Domain, SignedMessage
from medledger.errors import InvalidInput

if TYPE_CHECKING:
    from medledger.client.facade import MedLedger


def checksum(value: str, what: str = "address") -> str:
    """``value`` as a checksum address, or :class:`InvalidInput` naming ``what``."""
    if not isinstance(value, str) or not is_address(value):
        raise InvalidInput(f"{what} {value!r} is not an Ethereum address (0x followed by 40 hex digits)")
    return to_checksum_address(value)


def bytes32(value: bytes | str, what: str) -> bytes:
    """``value`` as 32 bytes (from bytes or 0x-hex), or :class:`InvalidInput` naming ``what``."""
    if isinstance(value, str):
        text = value[2:] if value.startswith("0x") else value
        try:
            value = bytes.fromhex(text)
        except ValueError:
            raise InvalidInput(f"{what} must be 32 bytes of hex, got {value!r}") from None
    if len(value) != 32:
        raise InvalidInput(f"{what} must be 32 bytes, got {len(value)}")
    return value


def uint(value: int, bits: int, what: str) -> int:
    """``value`` checked to fit an unsigned ``bits``-bit integer."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**bits:
        raise InvalidInput(f"{what} must be a whole number from 0 to {2**bits - 1}, got {value!r}")
    return value


class SubClient:
    """One contract of the suite, seen through a :class:`MedLedger`."""

    contract_name: str = ""

    def __init__(self, ledger: MedLedger) -> None:
        self._ledger = ledger
        self.contract: Contract = ledger.contract(self.contract_name)
        self._domain: Domain | None = None

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def _call(self, name: str, *args: Any) -> Any:
        function = self.contract.get_function_by_name(name)(*args)
        sender = self._ledger.signer.address if self._ledger.signer else None
        return self._ledger.transactor.call(function, sender)

    def _send(self, name: str, *args: Any) -> Receipt:
        signer = self._ledger.require_signer()
        function = self.contract.get_function_by_name(name)(*args)
        return self._ledger.transactor.send(function, signer)

    def _events(self, name: str, filters: dict[str, Any] | None = None, from_block: int = 0) -> list[Any]:
        """Logs of event ``name`` of this contract matching indexed ``filters``, oldest first."""
        from medledger.transactions import translate

        event = getattr(self.contract.events, name)
        try:
            return list(event.get_logs(from_block=from_block, argument_filters=filters or {}))
        except Exception as exc:  # noqa: BLE001
            raise translate(exc) from None

    def block_time(self, block: int | str = "latest") -> int:
        """A block's timestamp; by default the latest, what deadlines and expiries are measured against."""
        from medledger.transactions import translate

        try:
            return int(self._ledger.w3.eth.get_block(block)["timestamp"])  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001
            raise translate(exc) from None

    def domain(self) -> Domain:
        """The contract's EIP-712 domain, read once through ERC-5267."""
        if self._domain is None:
            self._domain = Domain.of(self.contract)
        return self._domain

    def _check_domain(self, signed: SignedMessage) -> None:
        """Refuse, before spending gas, a message signed for another chain or contract."""
        expected = self.domain().as_dict()
        got = dict(signed.data.get("domain", {}))
        same = (
            got.get("name") == expected["name"]
            and got.get("version") == expected["version"]
            and int(got.get("chainId", -1)) == expected["chainId"]
            and str(got.get("verifyingContract", "")).lower() == expected["verifyingContract"].lower()
        )
        if not same:
            raise InvalidInput(
                f"the {signed.primary_type} was signed for another contract or chain "
                f"({got.get('verifyingContract')} on chain {got.get('chainId')}), not {self.contract_name} "
                f"at {expected['verifyingContract']} on chain {expected['chainId']}"
            )
