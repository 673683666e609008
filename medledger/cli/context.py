"""Which chain, which deployment and which account a CLI call uses.

CLI calls are separate processes, so they need a chain that outlives them: the node started by
``medledger node start`` (the default), or an RPC URL. The embedded chain lives inside one
process and is for the library, the demo and the tests.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from medledger import chain as chainmod
from medledger.chain import Chain
from medledger.client import MedLedger
from medledger.deploy import Deployment, load_manifest, verify
from medledger.errors import ConfigurationError, DeploymentError, NodeNotRunning
from medledger.keyfile import KeyFile


def home() -> Path:
    """medledger's own folder: ``$MEDLEDGER_HOME`` or ``~/.medledger``."""
    return Path(os.environ.get("MEDLEDGER_HOME") or Path.home() / ".medledger")


def node_file() -> Path:
    return home() / "node.json"


def deployments_dir() -> Path:
    """Where manifests are kept: ``$MEDLEDGER_DEPLOYMENTS``, else ``<home>/deployments``."""
    return Path(os.environ.get("MEDLEDGER_DEPLOYMENTS") or home() / "deployments")


def key_file(address: str) -> KeyFile:
    """The wallet-side secrets of ``address``: ``<home>/keys/<address>.json`` (mode 0600)."""
    return KeyFile(home() / "keys" / f"{address.lower()}.json")


def read_node() -> dict[str, Any] | None:
    path = node_file()
    if not path.is_file():
        return None
    try:
        info: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    return info


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Session:
    chain: Chain
    signer: LocalAccount | None

    def deployment(self) -> Deployment:
        manifest = load_manifest(deployments_dir(), self.chain.chain_id)
        if manifest is None:
            raise DeploymentError(
                f"medledger is not deployed on chain {self.chain.chain_id}: run `medledger deploy`"
            )
        missing = verify(self.chain, manifest)
        if missing:
            raise DeploymentError(
                f"the manifest for chain {self.chain.chain_id} names {', '.join(missing)} but that code "
                "is not on the chain (was the node reset?): run `medledger deploy` again"
            )
        return manifest

    def ledger(self) -> MedLedger:
        return MedLedger(self.chain.w3, self.deployment(), self.signer)

    def require_signer(self) -> LocalAccount:
        if self.signer is None:
            raise ConfigurationError("this command signs: choose an account with --account")
        return self.signer


def open_session(chain_option: str, account_option: str | None) -> Session:
    """Connect as the CLI options say. ``chain_option`` is ``node`` or an RPC URL."""
    if chain_option == "node":
        info = read_node()
        if info is None or not pid_alive(int(info.get("pid", 0))):
            raise NodeNotRunning("no medledger node is running: start one with `medledger node start`")
        connected = chainmod.connect_local(info["url"], info["kind"])
    elif chain_option == "embedded":
        raise ConfigurationError(
            "the embedded chain lives inside one process, so CLI calls cannot share it: "
            "use `medledger node start` (then the default --chain node) or an RPC URL"
        )
    elif chain_option in chainmod.LOCAL_NODES:
        raise ConfigurationError(
            f"start a persistent {chain_option} with `medledger node start --kind {chain_option}`, "
            "then use the default --chain node"
        )
    else:
        connected = chainmod.connect_url(chain_option)
    return Session(connected, pick_account(connected, account_option))


def pick_account(connected: Chain, option: str | None) -> LocalAccount | None:
    """``--account``: a dev account index on local chains; on URL chains a keystore file path
    (password from ``$MEDLEDGER_KEYSTORE_PASSWORD``), or the key/keystore from the environment."""
    if option is None:
        return connected.accounts[0] if connected.accounts else None
    if option.isdigit():
        if not connected.is_local:
            raise ConfigurationError(
                "account indexes are for local dev accounts; on a URL chain use a keystore file "
                "or MEDLEDGER_PRIVATE_KEY"
            )
        return connected.account(int(option))
    path = Path(option)
    if path.is_file():
        return chainmod.load_keystore(path, os.environ.get("MEDLEDGER_KEYSTORE_PASSWORD"))
    raise ConfigurationError(
        f"--account {option!r} is neither a dev account index nor a keystore file"
    )
