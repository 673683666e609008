"""The MedLedger object: one chain connection, one deployment, one signer, a sub-client per contract."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract

from medledger.errors import ConfigurationError
from medledger.transactions import Transactor
from medledger.deploy import Deployment
from medledger.toolchain import load_artifact

if TYPE_CHECKING:
    from medledger.client.consortium import ConsortiumClient
    from medledger.client.credentials import CredentialsClient
    from medledger.client.access import AccessClient
    from medledger.client.batches import BatchesClient
    from medledger.client.consent import ConsentClient
    from medledger.client.patients import PatientsClient
    from medledger.client.products import ProductsClient
    from medledger.client.prescriptions import PrescriptionsClient
    from medledger.client.records import RecordsClient


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

    def require_signer(self) -> LocalAccount:
        """The signing account, or :class:`ConfigurationError` if this ledger is read-only."""
        if self.signer is None:
            raise ConfigurationError("no signing account: pass an account to send or sign")
        return self.signer

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

    @cached_property
    def patients(self) -> PatientsClient:
        from medledger.client.patients import PatientsClient

        return PatientsClient(self)

    @cached_property
    def consent(self) -> ConsentClient:
        from medledger.client.consent import ConsentClient

        return ConsentClient(self)

    @cached_property
    def access(self) -> AccessClient:
        from medledger.client.access import AccessClient

        return AccessClient(self)

    @cached_property
    def records(self) -> RecordsClient:
        from medledger.client.records import RecordsClient

        return RecordsClient(self)

    @cached_property
    def products(self) -> ProductsClient:
        from medledger.client.products import ProductsClient

        return ProductsClient(self)

    @cached_property
    def batches(self) -> BatchesClient:
        from medledger.client.batches import BatchesClient

        return BatchesClient(self)

    @cached_property
    def prescriptions(self) -> PrescriptionsClient:
        from medledger.client.prescriptions import PrescriptionsClient

        return PrescriptionsClient(self)
