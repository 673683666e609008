"""Helpers shared by the tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

import pytest
from web3.logs import DISCARD
from web3.providers.base import BaseProvider

from medledger.chain import Chain
from medledger.client import MedLedger
from medledger.client.base import SubClient
from medledger.deploy import Deployment
from medledger.identity import identity_commitment, public_key
from medledger.transactions import Receipt

DAY = 24 * 3600


@contextmanager
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that something else listens on (and never answers) meanwhile."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def register(ledger: Any, seed: int) -> str:
    """Register ``ledger``'s signer as a patient with throwaway commitment and key made from ``seed``."""
    ledger.patients.register(identity_commitment({"name": f"p{seed}"}, bytes([seed]) * 32), public_key(bytes([seed]) * 32))
    return str(ledger.signer.address)


def until(suite: Any, days: int = 7) -> int:
    return int(suite.chain.now()) + days * DAY


def events(client: SubClient, receipt: Receipt, name: str) -> list[dict[str, Any]]:
    """The arguments of every ``name`` event that ``client``'s contract emitted in ``receipt``."""
    event = getattr(client.contract.events, name)()
    return [dict(log.args) for log in event.process_receipt(receipt.raw, errors=DISCARD)]


def block_time(viewer: Any, receipt: Receipt) -> int:
    return int(viewer.w3.eth.get_block(receipt.block_number)["timestamp"])


def advance_to(chain: Any, timestamp: int) -> None:
    """Mine a block stamped exactly ``timestamp`` (views run at the latest block's time).

    anvil and ganache stamp blocks with their wall clock plus an offset, so a second may tick between
    reading the time and mining; then the block is undone and mined again one second earlier."""
    correction = 0
    for _ in range(3):
        snapshot = chain.snapshot()
        chain.advance_time(timestamp - chain.now() - correction)
        overshoot = chain.now() - timestamp
        if overshoot == 0:
            return
        chain.revert(snapshot)
        correction += overshoot
    pytest.fail(f"could not mine a block at {timestamp}")


def assert_refused_unchanged(chain: Chain, error: type[Exception], send: Any) -> None:
    """``send()`` raises exactly ``error`` and mines no block, so nothing changed on chain."""
    block = chain.w3.eth.get_block("latest")["hash"]
    with pytest.raises(Exception) as raised:
        send()
    assert type(raised.value) is error, raised.value
    assert chain.w3.eth.get_block("latest")["hash"] == block


@dataclass(frozen=True)
class World:
    """One deployment on a private chain, for property tests that run outside pytest fixtures."""

    chain: Chain
    deployment: Deployment
    signers: dict[str, LocalAccount]

    def address(self, name: str) -> str:
        return str(self.signers[name].address)

    def ledgers(self) -> dict[str, MedLedger]:
        """Fresh clients (nonces are cached, so make new ones after every snapshot revert)."""
        admin = MedLedger(self.chain.w3, self.deployment, self.signers["admin"])
        return {name: admin.using(signer) for name, signer in self.signers.items()}


class NodeAs(BaseProvider):
    """A web3 provider that passes every request to ``inner`` but answers ``web3_clientVersion``
    with ``client`` (or "method not found" if None) and, if given, ``eth_chainId`` with ``chain_id``:
    the same chain, as a node of another make (Besu on chain 1337, say) would show it."""

    def __init__(self, inner: Any, client: str | None, chain_id: int | None = None) -> None:
        super().__init__()
        self.inner, self.client, self.chain_id = inner, client, chain_id
        self.asked: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def make_request(self, method: str, params: Any) -> Any:
        self.asked.append(method)
        if method == "web3_clientVersion":
            if self.client is None:
                return {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "the method web3_clientVersion does not exist"}}
            return {"jsonrpc": "2.0", "id": 1, "result": self.client}
        if method == "eth_chainId" and self.chain_id is not None:
            return {"jsonrpc": "2.0", "id": 1, "result": hex(self.chain_id)}
        return self.inner.make_request(method, params)


def node_as(w3: Any, client: str | None, chain_id: int | None = None) -> Any:
    """A new connection (its own Web3) to ``w3``'s chain whose node says it is ``client`` (see :class:`NodeAs`)."""
    from web3 import Web3

    return Web3(NodeAs(w3.provider, client, chain_id))


BESU = "besu/v24.9.1/linux-x86_64/openjdk-java-21"
GETH = "Geth/v1.14.11-stable/linux-amd64/go1.23.2"
ANVIL = "anvil/v1.0.0"
GANACHE = "Ganache/v7.9.2/EthereumJS TestRPC/v7.9.2/ethereum-js"
