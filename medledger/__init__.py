"""medledger: a trust layer for healthcare on Ethereum."""

__version__ = "0.1.0"
