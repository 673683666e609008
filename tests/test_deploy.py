"""Deployment: order, manifests, reuse only after the code is verified on chain."""

from __future__ import annotations

import dataclasses

import pytest

from medledger import chain as chainmod
from medledger.deploy import CONTRACT_NAMES, Deployment, deploy_suite, load_manifest, manifest_path, verify
from medledger.errors import DeploymentError


@pytest.fixture
def embedded():
    return chainmod.embedded()


def test_deploy_writes_a_manifest_and_reuses_it(embedded, tmp_path):
    first = deploy_suite(embedded, embedded.account(0), manifest_dir=tmp_path)
    assert set(first.contracts) == set(CONTRACT_NAMES)
    assert load_manifest(tmp_path, embedded.chain_id) == first
    height = embedded.w3.eth.block_number
    again = deploy_suite(embedded, embedded.account(0), manifest_dir=tmp_path)
    assert again == first
    assert embedded.w3.eth.block_number == height  # nothing was sent


def test_a_manifest_without_the_code_on_chain_is_not_reused(embedded, tmp_path):
    deploy_suite(embedded, embedded.account(0), manifest_dir=tmp_path)
    fresh = chainmod.embedded()  # same chain id, none of the contracts
    stale = load_manifest(tmp_path, fresh.chain_id)
    assert verify(fresh, stale) == CONTRACT_NAMES
    redeployed = deploy_suite(fresh, fresh.account(0), manifest_dir=tmp_path)
    assert verify(fresh, redeployed) == []
    assert fresh.w3.eth.block_number == len(CONTRACT_NAMES)


def test_swapped_addresses_fail_verification(embedded):
    deployment = deploy_suite(embedded, embedded.account(0))
    a, b = (deployment.contracts[n] for n in CONTRACT_NAMES[:2])
    swapped = dataclasses.replace(
        deployment, contracts={**deployment.contracts, CONTRACT_NAMES[0]: b, CONTRACT_NAMES[1]: a}
    )
    assert verify(embedded, swapped) == CONTRACT_NAMES[:2]


def test_a_malformed_manifest_is_a_clear_error(embedded, tmp_path):
    manifest_path(tmp_path, embedded.chain_id).write_text('{"chain_id": 1}')
    with pytest.raises(DeploymentError, match="malformed"):
        deploy_suite(embedded, embedded.account(0), manifest_dir=tmp_path)


def test_the_admin_can_differ_from_the_deployer(embedded):
    from medledger.client import MedLedger

    deployment = deploy_suite(embedded, embedded.account(0), admin=embedded.account(3).address)
    ml = MedLedger(embedded.w3, deployment)
    assert ml.consortium.admin() == embedded.account(3).address
    assert deployment.admin == embedded.account(3).address


def test_unknown_contract_name_is_a_deployment_error(embedded):
    deployment = Deployment(chain_id=1, deployer="0x0", admin="0x0")
    with pytest.raises(DeploymentError, match="not in the deployment"):
        deployment.address("ConsortiumRegistry")
