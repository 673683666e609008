"""Shared fixtures.

Contract tests run on the embedded chain by default. ``--chains embedded,anvil,ganache`` (or
``--chains all``) runs them on local nodes too: the nodes are started here, once per session,
and always stopped. Each test runs inside a chain snapshot, so tests never see each other's state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from medledger import chain as chainmod
from medledger.chain import Chain
from medledger.client import MedLedger
from medledger.deploy import Deployment, deploy_suite
from medledger.types import InstitutionKind
from tests.helpers import register

WORLD_LIFETIME = 365 * 24 * 3600
#: GS1 company prefixes the world's manufacturer (``spare``) holds: those of the tests' GTINs
#: 09506000134352, 09506000134369 and 4006381333931.
WORLD_PREFIXES = ("9506000", "4006381")

ALL_CHAINS = ("embedded", "anvil", "ganache")

#: tests/brownie runs under `brownie test` in its own environment (`make brownie`), not here.
collect_ignore = ["brownie"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--chains",
        default="embedded",
        help="comma-separated chains for contract tests: embedded, anvil, ganache, or all",
    )


def _chains(config: pytest.Config) -> list[str]:
    raw = str(config.getoption("--chains"))
    names = list(ALL_CHAINS) if raw == "all" else [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALL_CHAINS]
    if unknown:
        raise pytest.UsageError(f"unknown chain(s) {unknown}; choose from {ALL_CHAINS} or all")
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "chain" in metafunc.fixturenames:
        names = _chains(metafunc.config)
        params = [
            pytest.param(n, id=n, marks=[pytest.mark.nodes] if n != "embedded" else []) for n in names
        ]
        metafunc.parametrize("chain", params, indirect=True, scope="session")


@pytest.fixture(scope="session")
def chain(request: pytest.FixtureRequest) -> Iterator[Chain]:
    """A chain of the parametrized kind, for the whole session."""
    with chainmod.connect(request.param) as connected:
        yield connected


@dataclass
class Actors:
    """Named dev accounts with the roles the base fixture gives them."""

    admin: LocalAccount  # consortium admin and deployer
    regulator: LocalAccount
    authority: LocalAccount  # a licensing authority
    hospital: LocalAccount  # accredited hospital
    pharmacy: LocalAccount  # accredited pharmacy
    doctor: LocalAccount  # no credential yet
    nurse: LocalAccount
    outsider: LocalAccount  # holds nothing
    authority2: LocalAccount  # a second licensing authority
    spare: LocalAccount  # in the world deployment: an accredited, credentialed manufacturer holding WORLD_PREFIXES


@dataclass
class People:
    """Fresh wallets (not dev accounts) funded for gas: patients and the people around them."""

    patient: LocalAccount
    patient2: LocalAccount
    guardian: LocalAccount  # a delegate candidate
    clinic: LocalAccount  # accredited clinic


@dataclass
class Suite:
    chain: Chain
    deployment: Deployment
    actors: Actors
    people: People

    def ledger(self, signer: LocalAccount) -> MedLedger:
        return MedLedger(self.chain.w3, self.deployment, signer)


def wallet(label: str) -> LocalAccount:
    """A deterministic throwaway wallet named ``label`` (its key is a hash of the label)."""
    return Account.from_key(keccak(text=f"medledger test wallet {label}"))


def build_suite(chain: Chain) -> Suite:
    """Deploy the suite with a regulator, two licensing authorities and three accredited institutions."""
    a = chain.accounts
    actors = Actors(*a[:10])
    deployment = deploy_suite(chain, actors.admin)
    admin = MedLedger(chain.w3, deployment, actors.admin)
    admin.consortium.add_regulator(actors.regulator.address)
    admin.consortium.add_licensing_authority(actors.authority.address)
    admin.consortium.add_licensing_authority(actors.authority2.address)
    admin.consortium.accredit(actors.hospital.address, InstitutionKind.HOSPITAL, b"\x11" * 32)
    admin.consortium.accredit(actors.pharmacy.address, InstitutionKind.PHARMACY, b"\x22" * 32)
    people = People(*(wallet(name) for name in ("patient", "patient2", "guardian", "clinic")))
    for person in vars(people).values():
        if chain.w3.eth.get_balance(person.address) < 10**19:
            admin.transactor.transfer(actors.admin, person.address, 10**20)
    admin.consortium.accredit(people.clinic.address, InstitutionKind.CLINIC, b"\x33" * 32)
    return Suite(chain, deployment, actors, people)


@contextmanager
def own_anvil(state_file: Path | None = None) -> Iterator[Suite]:
    """A fresh anvil of the test's own (state in ``state_file`` if given, for a restart), the
    suite, and a doctor licensed by the authority; stopped on exit."""
    chain = chainmod.connect("anvil", state_file=state_file)  # stops the node if it cannot connect
    try:
        suite = build_suite(chain)
        now = chain.now()
        suite.ledger(suite.actors.authority).credentials.issue(
            suite.actors.doctor.address, "licence", valid_from=now - 10, valid_until=now + 10**7
        )
        yield suite
    finally:
        chain.close()


@pytest.fixture(scope="session")
def base_suite(chain: Chain) -> Suite:
    """The suite deployed once per chain, with regulator, authorities and institutions."""
    return build_suite(chain)


@pytest.fixture(scope="session")
def base_world(chain: Chain) -> Suite:
    """A second deployment, set up once per chain: a registered patient with a guardian, and a
    credentialed doctor, nurse, hospital and clinic. Tests use it through ``world``."""
    suite = build_suite(chain)
    ledger = suite.ledger(suite.actors.admin)
    actors, people = suite.actors, suite.people
    now = chain.now()
    issuer = ledger.using(actors.authority)
    # Valid for a year: snapshots roll back blocks, not the chain's clock, and tests move it forward.
    for subject, kind in ((actors.doctor.address, "licence"), (actors.nurse.address, "nurse"),
                          (actors.hospital.address, "accreditation"), (people.clinic.address, "accreditation")):  # fmt: skip
        issuer.credentials.issue(subject, kind, valid_from=now - 10, valid_until=now + WORLD_LIFETIME)
    ledger.consortium.accredit(actors.spare.address, InstitutionKind.MANUFACTURER, b"\x44" * 32)
    issuer.credentials.issue(actors.spare.address, "accreditation", valid_from=now - 10, valid_until=now + WORLD_LIFETIME)
    for prefix in WORLD_PREFIXES:  # a GTIN belongs to the holder of its GS1 company prefix
        ledger.using(actors.regulator).products.assign_prefix(prefix, actors.spare.address)
    register(ledger.using(people.patient), 1)
    ledger.using(people.patient).patients.appoint_delegate(people.guardian.address, now + WORLD_LIFETIME)
    return suite


@pytest.fixture
def suite(base_suite: Suite) -> Iterator[Suite]:
    """``base_suite`` inside a snapshot that is reverted after the test."""
    snapshot = base_suite.chain.snapshot()
    try:
        yield base_suite
    finally:
        base_suite.chain.revert(snapshot)


@pytest.fixture
def actors(suite: Suite) -> Actors:
    return suite.actors


@pytest.fixture
def ml(request: pytest.FixtureRequest, suite: Suite) -> SimpleNamespace:
    """One ledger per actor and person (``ml.authority``, ``ml.patient``), sharing one transactor so
    nonces stay coherent; on the ``world`` deployment when the test uses it."""
    if "world" in request.fixturenames:
        suite = request.getfixturevalue("world")
    root = suite.ledger(suite.actors.admin)
    signers = {**vars(suite.actors), **vars(suite.people)}
    return SimpleNamespace(**{name: root.using(account) for name, account in signers.items()})


@pytest.fixture
def world(suite: Suite, base_world: Suite) -> Suite:
    """``base_world``, rolled back after the test by ``suite``'s snapshot."""
    return base_world


@pytest.fixture
def patient(world) -> str:
    return world.people.patient.address
