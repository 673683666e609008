"""Fixtures of the brownie-runner suite (run by `make brownie` in .venv-brownie, not by pytest in
.venv: tests/conftest.py ignores this folder, and `brownie test --confcutdir tests/brownie` keeps
the main suite's fixtures out of brownie's way)."""

from __future__ import annotations

import pytest

from scripts.brownie_suite import deploy


@pytest.fixture(scope="module")
def suite(accounts):
    """The suite deployed once per module from accounts[0], through scripts/brownie_suite.py."""
    return deploy(accounts[0])


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    """Every test starts from the module's deployment: brownie reverts the chain after each."""


@pytest.fixture
def authority(suite, accounts):
    consortium = suite["ConsortiumRegistry"]
    consortium.grantRole(consortium.LICENSING_AUTHORITY_ROLE(), accounts[1], {"from": accounts[0]})
    return accounts[1]
