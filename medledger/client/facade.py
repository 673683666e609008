"""The MedLedger object: one chain connection, one deployment, one signer, a sub-client per contract."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract

from medledger.transactions import Transactor
from medledger.deploy import Deployment
from medledger.toolchain import load_artifact

if TYPE_CHECKING:
    from medledger.client.consortium import ConsortiumClient
    from medledger.client.credentials import CredentialsClient


class MedLedger:
    """Entry point of the library.

    >>> from medledger import chain, deploy
    >>> c = chain.connect("embedded")
    >>> d = deploy.deploy_suite(c, c.account(0))
    >>> ml = MedLedger(c.w3, d, c.account(0))
    >>> ml.credentials.is_valid(c.account(1).address, "licence")
    False
    """

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        signer: LocalAccount | None = None,
        *,
        transactor: Transactor | None = None,
    ) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.signer = signer
        # Shared between facades made by `using`, so nonces stay coherent across signers.
        self.transactor = transactor or Transactor(w3)

    def using(self, signer: LocalAccount) -> MedLedger:
        """The same ledger acting as ``signer``."""
        return MedLedger(self.w3, self.deployment, signer, transactor=self.transactor)

    def contract(self, name: str) -> Contract:
        address = to_checksum_address(self.deployment.address(name))
        return self.w3.eth.contract(address=address, abi=load_artifact(name)["abi"])

    @cached_property
    def consortium(self) -> ConsortiumClient:
        from medledger.client.consortium import ConsortiumClient

        return ConsortiumClient(self)

    @cached_property
    def credentials(self) -> CredentialsClient:
        from medledger.client.credentials import CredentialsClient

        return CredentialsClient(self)
