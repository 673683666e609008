"""The suite through brownie: deploy with brownie's contract containers and accounts, and a short
story told with brownie objects. ``scripts/deploy.py`` and ``scripts/demo.py`` call these when
``brownie run`` runs them; ``tests/brownie/`` uses :func:`deploy`.

The deployment follows ``medledger.deploy.SUITE`` (the same order and constructor arguments as
``medledger deploy``, the PrescriptionRegistry address predicted from the deployer's nonce) and
writes the same manifest, so the medledger CLI and client work on a suite brownie deployed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from brownie import accounts, chain, network, project  # noqa: E402
from brownie.exceptions import VirtualMachineError  # noqa: E402

from medledger.deploy import (  # noqa: E402
    LOCAL_ADMIN_DELAY,
    NETWORK_ADMIN_DELAY,
    SUITE,
    DeployedContract,
    Deployment,
    manifest_path,
)
from medledger.toolchain import artifact_hash, load_artifact  # noqa: E402

LOCAL_NETWORKS = ("development", "anvil", "ganache-cli")
VALID, UNKNOWN = 0, 1  # CredentialValidity
#: A valid compressed secp256k1 public key (the curve's generator), standing in for a patient's key.
GENERATOR_KEY = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")


def _project() -> Any:
    loaded = project.get_loaded_projects()
    if not loaded:
        raise SystemExit("no brownie project is loaded: run this with `brownie run` from the repository")
    return loaded[0]


def deploy(deployer: Any = None, manifest_dir: Path | None = None) -> dict[str, Any]:
    """Deploy the suite from ``deployer`` (default ``accounts[0]``); brownie contract objects by name."""
    containers = _project()
    deployer = deployer or accounts[0]
    local = network.show_active() in LOCAL_NETWORKS
    context: dict[str, Any] = {
        "deployer": deployer.address,
        "admin": deployer.address,
        "admin_delay": LOCAL_ADMIN_DELAY if local else NETWORK_ADMIN_DELAY,
    }
    contracts: dict[str, Any] = {}
    entries: dict[str, DeployedContract] = {}
    for name, arguments in SUITE:
        context["nonce"] = deployer.nonce
        contract = getattr(containers, name).deploy(*arguments(context), {"from": deployer})
        context[name] = contract.address
        contracts[name] = contract
        receipt = contract.tx
        entries[name] = DeployedContract(contract.address, receipt.block_number, receipt.txid, artifact_hash(load_artifact(name)))
    if manifest_dir is not None:
        deployment = Deployment(chain.id, deployer.address, deployer.address, entries)
        manifest_dir.mkdir(parents=True, exist_ok=True)
        manifest_path(manifest_dir, chain.id).write_text(deployment.to_json())
    return contracts


def story() -> list[str]:
    """A licence, a patient's grant and a logged read, told with brownie; the steps that went wrong."""
    suite = deploy()
    admin, authority, doctor, patient, outsider = accounts[0], accounts[1], accounts[2], accounts[3], accounts[4]
    failures: list[str] = []

    def refused(text: str, send: Any) -> None:
        try:
            send()
        except VirtualMachineError as exc:
            print(f"  [ok ] {text}: reverted ({exc.revert_msg})")
            return
        print(f"  [BAD] {text}: it went through")
        failures.append(f"{text}: expected a revert")

    def step(text: str, got: Any, expected: Any) -> None:
        mark = "ok " if got == expected else "BAD"
        print(f"  [{mark}] {text}: {got}")
        if got != expected:
            failures.append(f"{text}: expected {expected}, got {got}")

    consortium, credentials = suite["ConsortiumRegistry"], suite["CredentialRegistry"]
    patients, consent, records = suite["PatientRegistry"], suite["ConsentManager"], suite["RecordRegistry"]
    print("1. The admin names a licensing authority; the authority licenses a doctor for a year")
    consortium.grantRole(consortium.LICENSING_AUTHORITY_ROLE(), authority, {"from": admin})
    now = chain.time()
    credentials.issueCredential(doctor, 0, 0, now - 10, now + 365 * 86400, b"\x42" * 32, {"from": authority})
    step("the doctor's licence checks valid", credentials.check(doctor, 0, 0), VALID)
    refused("an outsider tries to issue a licence", lambda: credentials.issueCredential(
        outsider, 0, 0, now, now + 86400, b"\x00" * 32, {"from": outsider}))
    step("an outsider cannot issue licences", credentials.check(outsider, 0, 0), UNKNOWN)

    print("2. A patient registers (a salted commitment and a key), grants the doctor labs, anchors a record")
    patients.register(b"\x11" * 32, GENERATOR_KEY, {"from": patient})
    terms = (doctor.address, 1 << 1, 0, 0, now + 30 * 86400, False)
    consent.grantAccess(patient, terms, {"from": patient})
    step("the doctor may read labs", consent.canAccess(doctor, patient, 1), True)
    record = b"\x33" * 32
    records.anchorRecord(patient, 1, record, "vault://brownie-story", b"\x00" * 32, {"from": patient})

    print("3. The doctor logs a read; the patient revokes; a second read is refused")
    tx = consent.logAccess(patient, record, 1, {"from": doctor})
    step("the read is on the access log", tx.events["RecordAccessed"]["reader"], doctor.address)
    consent.revokeAccess(patient, doctor, {"from": patient})
    refused("the doctor tries to log another read", lambda: consent.logAccess(patient, record, 1, {"from": doctor}))
    step("after revocation the doctor may not read", consent.canAccess(doctor, patient, 1), False)
    return failures
