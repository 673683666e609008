"""medledger client library."""

from medledger.client.facade import MedLedger

__all__ = ["MedLedger"]
