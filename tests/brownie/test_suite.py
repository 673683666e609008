"""The suite seen from brownie: same bytecode, typed custom errors in `brownie.reverts`."""

from __future__ import annotations

import json
from pathlib import Path

import brownie
import pytest

from scripts.brownie_suite import GENERATOR_KEY
from medledger.deploy import CONTRACT_NAMES

ARTIFACTS = Path(__file__).resolve().parents[2] / "medledger" / "artifacts"
LICENCE, VALID, UNKNOWN, REVOKED = 0, 0, 1, 5
LABS = 1


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_brownie_compiles_the_bytecode_medledger_compiles(name):
    container = getattr(brownie.project.get_loaded_projects()[0], name)
    artifact = json.loads((ARTIFACTS / f"{name}.json").read_text())
    assert container.bytecode == artifact["bytecode"].removeprefix("0x")


def test_deploy_links_the_prescription_registry_by_predicted_address(suite):
    assert suite["BatchRegistry"].prescriptions() == suite["PrescriptionRegistry"].address


def test_an_authority_issues_and_revokes_a_licence(suite, authority, accounts, chain):
    credentials = suite["CredentialRegistry"]
    doctor = accounts[2]
    now = chain.time()
    tx = credentials.issueCredential(doctor, LICENCE, 0, now - 10, now + 86400, b"\x42" * 32, {"from": authority})
    assert tx.events["CredentialIssued"]["subject"] == doctor
    assert credentials.check(doctor, LICENCE, 0) == VALID
    credentials.revokeCredential(tx.return_value, 9, {"from": authority})
    assert credentials.check(doctor, LICENCE, 0) == REVOKED


def test_an_outsider_cannot_issue_and_the_error_is_named(suite, accounts, chain):
    outsider = accounts[5]
    now = chain.time()
    with brownie.reverts(f"NotLicensingAuthority: {outsider.address.lower()}"):
        suite["CredentialRegistry"].issueCredential(outsider, LICENCE, 0, now, now + 86400, b"\x00" * 32, {"from": outsider})
    assert suite["CredentialRegistry"].check(outsider, LICENCE, 0) == UNKNOWN


def test_a_bad_validity_window_is_refused(suite, authority, accounts, chain):
    now = chain.time()
    with brownie.reverts():
        suite["CredentialRegistry"].issueCredential(accounts[2], LICENCE, 0, now + 100, now, b"\x00" * 32, {"from": authority})


def test_a_patient_grants_and_revokes_and_reads_are_logged(suite, authority, accounts, chain):
    doctor, patient = accounts[2], accounts[3]
    now = chain.time()
    suite["CredentialRegistry"].issueCredential(doctor, LICENCE, 0, now - 10, now + 86400, b"\x00" * 32, {"from": authority})
    suite["PatientRegistry"].register(b"\x11" * 32, GENERATOR_KEY, {"from": patient})
    consent = suite["ConsentManager"]
    consent.grantAccess(patient, (doctor.address, 1 << LABS, 0, 0, now + 3600, False), {"from": patient})
    suite["RecordRegistry"].anchorRecord(patient, LABS, b"\x33" * 32, "vault://x", b"\x00" * 32, {"from": patient})
    tx = consent.logAccess(patient, b"\x33" * 32, LABS, {"from": doctor})
    assert tx.events["RecordAccessed"]["reader"] == doctor
    consent.revokeAccess(patient, doctor, {"from": patient})
    with brownie.reverts(f"AccessDenied: {doctor.address.lower()}, {patient.address.lower()}, {LABS}"):
        consent.logAccess(patient, b"\x33" * 32, LABS, {"from": doctor})


def test_only_the_patient_or_a_delegate_grants(suite, accounts, chain):
    patient, stranger = accounts[3], accounts[6]
    suite["PatientRegistry"].register(b"\x11" * 32, GENERATOR_KEY, {"from": patient})
    with brownie.reverts():
        suite["ConsentManager"].grantAccess(patient, (stranger.address, 2, 0, 0, chain.time() + 3600, False), {"from": stranger})
