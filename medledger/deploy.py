"""Deploy the suite in dependency order, wire roles, record a manifest per chain id.

Re-deploying to a chain that already has a manifest reuses it, but only after checking that the
code at each recorded address is there and is the compiled code: a fresh anvil has the same
chain id (31337) and none of the contracts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
import rlp
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from medledger.chain import Chain
from medledger.transactions import Transactor, translate
from medledger.errors import DeploymentError, MedLedgerError
from medledger.toolchain import artifact_hash, load_artifact, mask_immutables

LOCAL_ADMIN_DELAY = 0
#: Seconds a consortium admin transfer waits on a real network before the new admin can accept.
NETWORK_ADMIN_DELAY = 2 * 24 * 3600

#: Break-glass limits at deployment (max session, counting window, sessions per window); the
#: consortium admin changes them with ``ConsentManager.setBreakGlassPolicy``.
DEFAULT_BREAK_GLASS_POLICY = (24 * 3600, 24 * 3600, 5)

# Deployment order: each entry names a contract and how to build its constructor arguments
# from the admin and the addresses deployed before it.
SUITE: list[tuple[str, Callable[[dict[str, Any]], list[Any]]]] = [
    ("ConsortiumRegistry", lambda ctx: [ctx["admin"], ctx["admin_delay"]]),
    ("CredentialRegistry", lambda ctx: [ctx["ConsortiumRegistry"]]),
    ("PatientRegistry", lambda ctx: [ctx["ConsortiumRegistry"]]),
    (
        "ConsentManager",
        lambda ctx: [ctx["PatientRegistry"], ctx["CredentialRegistry"], DEFAULT_BREAK_GLASS_POLICY],
    ),
    ("RecordRegistry", lambda ctx: [ctx["ConsentManager"]]),
    ("ProductRegistry", lambda ctx: [ctx["CredentialRegistry"]]),
    # BatchRegistry dispenses only for the PrescriptionRegistry deployed right after it: its
    # address is predicted from the deployer's nonce, and its constructor checks the link back.
    ("BatchRegistry", lambda ctx: [ctx["ProductRegistry"], create_address(ctx["deployer"], ctx["nonce"] + 1)]),
    ("PrescriptionRegistry", lambda ctx: [ctx["BatchRegistry"], ctx["PatientRegistry"]]),
]
CONTRACT_NAMES = [name for name, _ in SUITE]


def create_address(deployer: str, nonce: int) -> str:
    """The address a contract created by ``deployer``'s transaction number ``nonce`` gets (CREATE)."""
    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(deployer[2:]), nonce]))[12:])


@dataclass(frozen=True)
class DeployedContract:
    address: str
    block: int
    tx_hash: str
    artifact_hash: str


@dataclass(frozen=True)
class Deployment:
    """Where the suite lives on one chain."""

    chain_id: int
    deployer: str
    admin: str
    contracts: dict[str, DeployedContract] = field(default_factory=dict)

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError:
            raise DeploymentError(f"{name} is not in the deployment of chain {self.chain_id}") from None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        try:
            raw = json.loads(text)
            return cls(
                chain_id=int(raw["chain_id"]),
                deployer=raw["deployer"],
                admin=raw["admin"],
                contracts={k: DeployedContract(**v) for k, v in raw["contracts"].items()},
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DeploymentError(f"the deployment manifest is malformed ({exc})") from None


def manifest_path(folder: Path, chain_id: int) -> Path:
    return folder / f"{chain_id}.json"


def load_manifest(folder: Path, chain_id: int) -> Deployment | None:
    path = manifest_path(folder, chain_id)
    if not path.is_file():
        return None
    return Deployment.from_json(path.read_text())


def code_matches(w3: Web3, address: str, name: str) -> bool:
    """True when the runtime code at ``address`` is the compiled ``name`` (immutables aside)."""
    artifact = load_artifact(name)
    try:
        code = bytes(w3.eth.get_code(to_checksum_address(address)))
    except Exception as exc:  # noqa: BLE001
        raise translate(exc) from None
    expected = bytes.fromhex(artifact["deployedBytecode"][2:])
    return len(code) == len(expected) and mask_immutables(code, artifact) == expected


def verify(chain: Chain, deployment: Deployment) -> list[str]:
    """Names of the suite's contracts that are missing or differ at their recorded address."""
    problems = []
    for name in CONTRACT_NAMES:
        entry = deployment.contracts.get(name)
        if entry is None or not code_matches(chain.w3, entry.address, name):
            problems.append(name)
    return problems


def deploy_suite(
    chain: Chain,
    deployer: LocalAccount,
    *,
    admin: str | None = None,
    admin_delay: int | None = None,
    manifest_dir: Path | None = None,
    reuse: bool = True,
) -> Deployment:
    """Deploy every contract of the suite (or reuse a verified manifest) and return where they are.

    ``manifest_dir``: where ``<chain id>.json`` is read and written; None keeps nothing on disk
    (the embedded chain lives only in memory).
    """
    chain_id = chain.chain_id
    if manifest_dir is not None and reuse:
        existing = load_manifest(manifest_dir, chain_id)
        if existing is not None and not verify(chain, existing):
            return existing

    transactor = Transactor(chain.w3)
    context: dict[str, Any] = {
        "deployer": deployer.address,
        "admin": to_checksum_address(admin or deployer.address),
        "admin_delay": (LOCAL_ADMIN_DELAY if chain.is_local else NETWORK_ADMIN_DELAY)
        if admin_delay is None
        else admin_delay,
    }
    deployed: dict[str, DeployedContract] = {}
    for name, arguments in SUITE:
        artifact = load_artifact(name)
        factory = chain.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        try:
            context["nonce"] = transactor.peek_nonce(deployer.address)
            tx = factory.constructor(*arguments(context)).build_transaction(
                {"from": deployer.address, "gas": 1, "gasPrice": 0, "nonce": 0}  # only data is used
            )
        except MedLedgerError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise translate(exc) from None
        receipt = transactor.send_prepared({"data": tx["data"]}, deployer)
        address = receipt.raw.get("contractAddress")
        if not address:
            raise DeploymentError(f"{name} deployment mined without a contract address")
        address = to_checksum_address(address)
        context[name] = address
        deployed[name] = DeployedContract(
            address=address,
            block=receipt.block_number,
            tx_hash=receipt.tx_hash,
            artifact_hash=artifact_hash(artifact),
        )

    deployment = Deployment(
        chain_id=chain_id, deployer=deployer.address, admin=context["admin"], contracts=deployed
    )
    if manifest_dir is not None:
        manifest_dir.mkdir(parents=True, exist_ok=True)
        manifest_path(manifest_dir, chain_id).write_text(deployment.to_json())
    return deployment
