"""Helpers shared by the contract tests."""

from __future__ import annotations

from typing import Any

import pytest
from web3.logs import DISCARD

from medledger.client.base import SubClient
from medledger.transactions import Receipt


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
