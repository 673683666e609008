"""Sending transactions: fees, nonces, receipts, and turning every failure into a medledger error.

Fees: EIP-1559 where the chain has a base fee, a legacy gas price otherwise, and a zero price
where the network is free (consortium chains such as Besu/QBFT). Nonces are tracked per sender
here, so a burst of calls does not collide; a nonce error resynchronises from the node.
"""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass
from typing import Any, cast

from eth_typing import ChecksumAddress

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    TimeExhausted,
    Web3Exception,
    Web3RPCError,
)
from web3.types import Nonce, TxParams, TxReceipt, Wei

from medledger.errors import (
    ChainError,
    GasError,
    InsufficientFunds,
    MedLedgerError,
    NonceError,
    Reverted,
    TransactionError,
    TransactionFailed,
    decode_revert,
)

GAS_HEADROOM = 1.2  # estimates are exact for the state they ran on; leave room for state drift


def gas_limit(estimate: int) -> int:
    """The gas limit sent for a transaction whose dry run used ``estimate``."""
    return int(estimate * GAS_HEADROOM) + 10_000


@dataclass(frozen=True)
class Receipt:
    """What a mined medledger transaction returns."""

    tx_hash: str
    block_number: int
    gas_used: int
    raw: TxReceipt


def revert_data(exc: BaseException) -> bytes | str | None:
    """The revert data a web3 exception carries, if any."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        # anvil and geth put the bytes under "data"; ganache under "result"
        data = data.get("data") or data.get("result")
    if isinstance(data, str | bytes):
        return data
    return None


def _eth_tester_revert(exc: BaseException) -> MedLedgerError | None:
    """The embedded chain reports a revert as ``execution reverted: <repr of the data>``."""
    if not type(exc).__module__.startswith("eth_tester") or not exc.args:
        return None
    message = str(exc.args[0])
    prefix = "execution reverted: "
    if not message.startswith(prefix):
        return decode_revert(None) if "revert" in message.lower() else None
    payload = message[len(prefix) :]
    if payload.startswith(("b'", 'b"')):
        try:
            data = ast.literal_eval(payload)
        except (ValueError, SyntaxError):
            return None
        return decode_revert(data)
    return decode_revert(None) if payload in ("", "Revert", "b''") else Reverted(
        {"reason": payload}, message=f"reverted: {payload}"
    )


def translate(exc: BaseException) -> MedLedgerError:
    """The medledger error for a web3/node exception."""
    if isinstance(exc, MedLedgerError):
        return exc
    from_tester = _eth_tester_revert(exc)
    if from_tester is not None:
        return from_tester
    if isinstance(exc, ContractCustomError | ContractPanicError):
        return decode_revert(revert_data(exc))
    if isinstance(exc, ContractLogicError):
        data = revert_data(exc)
        if data and data not in ("0x", b""):
            return decode_revert(data)
        message = exc.message or ""
        return decode_revert(None) if "revert" in message.lower() else TransactionError(message)
    message = str(getattr(exc, "message", "") or exc)
    lowered = message.lower()
    if "nonce" in lowered:
        return NonceError(f"nonce rejected by the node: {message}")
    if "insufficient funds" in lowered or "cannot afford" in lowered:
        return InsufficientFunds(f"the sender cannot pay for gas: {message}")
    if "gas" in lowered and ("exceed" in lowered or "out of gas" in lowered or "intrinsic" in lowered):
        return GasError(message)
    if isinstance(exc, TimeExhausted):
        return TransactionError(f"the transaction was not mined in time: {message}")
    if isinstance(exc, Web3RPCError | Web3Exception):
        return ChainError(f"the node refused the request: {message}")
    if isinstance(exc, OSError | ConnectionError):
        return ChainError(f"lost the connection to the node: {message}")
    return ChainError(f"{type(exc).__name__}: {message}")


class Transactor:
    """Signs and sends transactions for a set of local signers on one chain."""

    def __init__(self, w3: Web3, receipt_timeout: float = 120.0) -> None:
        self.w3 = w3
        self.receipt_timeout = receipt_timeout
        self._nonces: dict[str, int] = {}
        self._lock = threading.RLock()
        self._chain_id: int | None = None
        self._fee_mode: str | None = None

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def _fees(self) -> dict[str, int]:
        if self._fee_mode is None:
            block = self.w3.eth.get_block("latest")
            if block.get("baseFeePerGas") is not None:
                self._fee_mode = "eip1559"
            elif int(self.w3.eth.gas_price) == 0:
                self._fee_mode = "free"
            else:
                self._fee_mode = "legacy"
        if self._fee_mode == "free":
            return {"gasPrice": 0}
        if self._fee_mode == "legacy":
            return {"gasPrice": int(self.w3.eth.gas_price)}
        base_fee = int(self.w3.eth.get_block("latest")["baseFeePerGas"])
        try:
            tip = int(self.w3.eth.max_priority_fee)
        except Exception:  # noqa: BLE001 - nodes without eth_maxPriorityFeePerGas
            tip = 10**9
        return {"maxFeePerGas": 2 * base_fee + tip, "maxPriorityFeePerGas": tip}

    def peek_nonce(self, address: str) -> int:
        """The nonce the next transaction of ``address`` will use (to predict a CREATE address)."""
        with self._lock:
            if address not in self._nonces:
                self._nonces[address] = int(self.w3.eth.get_transaction_count(address, "pending"))  # type: ignore[arg-type]
            return self._nonces[address]

    def _next_nonce(self, address: str) -> int:
        with self._lock:
            nonce = self.peek_nonce(address)
            self._nonces[address] = nonce + 1
            return nonce

    def forget_nonce(self, address: str) -> None:
        """Drop the tracked nonce of ``address``; the next send reads it from the node."""
        with self._lock:
            self._nonces.pop(address, None)

    def call(self, function: ContractFunction, sender: str | None = None) -> Any:
        """Run a view; a revert becomes a typed error."""
        try:
            return function.call({"from": cast(ChecksumAddress, sender)} if sender else None)
        except Exception as exc:  # noqa: BLE001 - every failure is translated
            raise translate(exc) from None

    def estimate(self, function: ContractFunction, signer: LocalAccount) -> int:
        """Gas for ``function`` sent by ``signer``; a revert becomes a typed error."""
        try:
            return int(function.estimate_gas({"from": signer.address}))
        except Exception as exc:  # noqa: BLE001
            raise translate(exc) from None

    def send(self, function: ContractFunction, signer: LocalAccount, *, gas: int | None = None) -> Receipt:
        """Sign, send and wait for ``function``; raise the typed error if it would revert.

        ``gas``: the transaction's gas limit, when the caller has estimated (and bounded) it
        already; then no dry run is made here, and any failure raised was mined (``tx_hash`` set)
        or refused by the node."""
        limit = gas_limit(self.estimate(function, signer)) if gas is None else gas
        params: TxParams = {
            "from": signer.address,
            "chainId": self.chain_id,
            "gas": limit,
            **self._fees(),  # type: ignore[typeddict-item]
        }
        try:
            params["nonce"] = Nonce(self._next_nonce(signer.address))
            tx = function.build_transaction(params)
            return self._send_raw(tx, signer)
        except Exception as exc:  # noqa: BLE001 - the node's nonce is the truth after any failure
            self.forget_nonce(signer.address)
            raise translate(exc) from None

    def transfer(self, signer: LocalAccount, to: str, value: int) -> Receipt:
        """Send ``value`` wei from ``signer`` to ``to`` (e.g. to fund a new patient wallet for gas)."""
        return self.send_prepared({"to": cast(ChecksumAddress, to), "value": Wei(value)}, signer)

    def send_prepared(self, tx: TxParams, signer: LocalAccount) -> Receipt:
        """Sign and send a prepared transaction: a deployment (``data``, no ``to``) or a transfer."""
        try:
            gas = int(self.w3.eth.estimate_gas({**tx, "from": signer.address}))
            tx = {
                **tx,
                "from": signer.address,
                "chainId": self.chain_id,
                "gas": gas_limit(gas),
                "nonce": self._next_nonce(signer.address),
                **self._fees(),  # type: ignore[typeddict-item]
            }
            return self._send_raw(tx, signer)
        except Exception as exc:  # noqa: BLE001 - the node's nonce is the truth after any failure
            self.forget_nonce(signer.address)
            raise translate(exc) from None

    def _send_raw(self, tx: TxParams, signer: LocalAccount) -> Receipt:
        signed = signer.sign_transaction(tx)  # type: ignore[arg-type]
        try:
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc) from None
        if receipt["status"] != 1:
            raise self._failure(tx, receipt)
        return Receipt(
            tx_hash=HexBytes(receipt["transactionHash"]).to_0x_hex(),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            raw=receipt,
        )

    def _failure(self, tx: TxParams, receipt: TxReceipt) -> MedLedgerError:
        """The typed error of a mined failed transaction (its ``tx_hash`` set), recovered by
        replaying it as a call: first on the state before its block, then on the state after it
        (a transaction mined earlier in the same block, such as a front-runner's, changed the state
        it ran on: before the block the call passes, after it the call fails as the transaction did)."""
        tx_hash = HexBytes(receipt["transactionHash"]).to_0x_hex()
        failure = self._replay(tx, receipt, tx_hash)
        failure.tx_hash = tx_hash
        return failure

    def _replay(self, tx: TxParams, receipt: TxReceipt, tx_hash: str) -> MedLedgerError:
        if int(receipt["gasUsed"]) >= int(tx.get("gas", 0)):
            return GasError(f"transaction {tx_hash} ran out of gas")
        replay = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value", "gas")}
        block = int(receipt["blockNumber"])
        for state in (block - 1, block):
            try:
                self.w3.eth.call(replay, block_identifier=state)  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001
                failure = translate(exc)
                if not isinstance(failure, ChainError):
                    return failure
        return TransactionFailed(f"transaction {tx_hash} failed without a reason")
