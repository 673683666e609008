"""Property tests of the credential registry, against a Python model of the consortium.

Invariants guarded:

* A revoked, suspended, expired or not-yet-valid credential never passes ``check``, nor one whose
  issuer has lost the licensing-authority role; ``check`` names the first reason in the
  contract's order (unknown, revoked, suspended, not yet valid, expired, issuer not accredited).
* No call from a wrong role changes state, and neither does a call made in the wrong state:
  each raises its typed error and leaves every credential, role and institution as it was.

Everything runs on one embedded chain per test session; each example works inside a snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache

import eth_tester  # noqa: F401 - see below
import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from medledger import errors
from medledger.chain import Chain, embedded
from medledger.client import MedLedger
from medledger.client.credentials import Credential, IssuedCredential, credential_id
from medledger.deploy import Deployment, deploy_suite
from medledger.types import (
    CredentialKind,
    CredentialStatus,
    CredentialValidity,
    InstitutionKind,
    InstitutionStatus,
)

DAY = 24 * 3600
ZERO_ADDRESS = "0x" + "00" * 20

# Dev accounts by name, in the order of tests/conftest.py's Actors.
NAMES = ("admin", "regulator", "authority", "hospital", "pharmacy", "doctor", "nurse", "outsider", "authority2")
AUTHORITIES = ("authority", "authority2")
INSTITUTIONS = ("hospital", "pharmacy")  # accredited at setup
SUBJECTS = ("doctor", "hospital")  # the hospital may hold an accreditation, the doctor not
SCOPES = (0, 1)
NEVER_ISSUED_SCOPE = 2**64 - 1  # no rule issues with it

Key = tuple[str, CredentialKind, int]  # (subject name, kind, scope)
Action = Callable[[], object]


# ─── One deployment for the whole module ─────────────────────────────────────────────────────


@dataclass(frozen=True)
class World:
    chain: Chain
    deployment: Deployment
    signers: dict[str, LocalAccount]

    def address(self, name: str) -> str:
        return str(self.signers[name].address)

    def ledgers(self) -> dict[str, MedLedger]:
        """Fresh clients (nonces are cached, so make new ones after every snapshot revert)."""
        admin = MedLedger(self.chain.w3, self.deployment, self.signers["admin"])
        return {name: admin.using(signer) for name, signer in self.signers.items()}


@cache
def world() -> World:
    """The suite deployed once, with the roles of tests/conftest.py's base_suite.

    Chain time is then moved a year past the wall clock: the embedded chain stamps a new block
    max(parent + 1, wall clock), so from there on every transaction lands exactly one second
    after the latest block and time moves only through ``advance_time``.
    """
    chain = embedded()
    signers = dict(zip(NAMES, chain.accounts, strict=False))
    deployment = deploy_suite(chain, signers["admin"])
    admin = MedLedger(chain.w3, deployment, signers["admin"]).consortium
    admin.add_regulator(signers["regulator"].address)
    for name in AUTHORITIES:
        admin.add_licensing_authority(signers[name].address)
    admin.accredit(signers["hospital"].address, InstitutionKind.HOSPITAL)
    admin.accredit(signers["pharmacy"].address, InstitutionKind.PHARMACY)
    chain.advance_time(365 * DAY)
    assert chain.now() > time.time() + 300 * DAY
    return World(chain, deployment, signers)


@contextmanager
def isolated(w: World) -> Iterator[None]:
    snapshot = w.chain.snapshot()
    try:
        yield
    finally:
        w.chain.revert(snapshot)


# ─── The model ───────────────────────────────────────────────────────────────────────────────


def never_issued(key_id: bytes) -> Credential:
    """What ``credentials.get`` returns for an id that was never issued."""
    return Credential(key_id, ZERO_ADDRESS, 0, 0, CredentialKind.LICENCE, CredentialStatus.NONE, bytes(32))


def expected_validity(stored: Credential, now: int, authorities: Iterable[str]) -> CredentialValidity:
    """What ``check`` must answer at block time ``now``, in the order CredentialRegistry.check tests."""
    if stored.status is CredentialStatus.NONE:
        return CredentialValidity.UNKNOWN
    if stored.status is CredentialStatus.REVOKED:
        return CredentialValidity.REVOKED
    if stored.status is CredentialStatus.SUSPENDED:
        return CredentialValidity.SUSPENDED
    if now < stored.valid_from:
        return CredentialValidity.NOT_YET_VALID
    if now >= stored.valid_until:  # validUntil is exclusive
        return CredentialValidity.EXPIRED
    if stored.issuer not in authorities:
        return CredentialValidity.ISSUER_NOT_ACCREDITED
    return CredentialValidity.VALID


def issue_error(
    *,
    by_authority: bool,
    kind: CredentialKind,
    subject_is_active_institution: bool,
    previous: Credential,
    valid_from: int,
    valid_until: int,
    tx_time: int,
) -> type[errors.ContractError] | None:
    """The error issueCredential must raise, in the contract's order of checks, or None."""
    if not by_authority:
        return errors.NotLicensingAuthority
    if valid_until <= valid_from or valid_until <= tx_time:
        return errors.InvalidValidityWindow
    if kind is CredentialKind.ACCREDITATION and not subject_is_active_institution:
        return errors.SubjectNotInstitution
    live = previous.status in (CredentialStatus.ACTIVE, CredentialStatus.SUSPENDED)
    if live and previous.valid_until > tx_time:  # only a revoked or expired issuance is replaced
        return errors.CredentialAlreadyIssued
    return None


@dataclass(frozen=True)
class Window:
    """A validity window, relative to the block time of the issuing transaction."""

    ends_in: int  # validUntil - block time (zero or less: already over)
    length: int  # validUntil - validFrom (zero or less: empty; more than ends_in: starts later)

    def at(self, tx_time: int) -> tuple[int, int]:
        """(validFrom, validUntil) for a transaction at ``tx_time``."""
        valid_until = tx_time + self.ends_in
        return valid_until - self.length, valid_until


windows = st.builds(
    Window,
    ends_in=st.one_of(st.integers(-2, 10), st.integers(1, 3 * DAY)),
    length=st.one_of(st.integers(-1, 10), st.integers(1, 4 * DAY)),
)
time_steps = st.one_of(st.integers(1, 5), st.integers(6, 3 * DAY))
kinds = st.sampled_from(CredentialKind)
documents = st.binary(min_size=32, max_size=32)
# Who calls suspend / reinstate / revoke, relative to the credential: half of the time a caller
# who may, half of the time one who may not.
managers = st.one_of(
    st.sampled_from(("issuer", "regulator")),
    st.sampled_from(("other authority", "outsider", "admin")),
)

STATUS_AFTER = {
    "suspend": CredentialStatus.SUSPENDED,
    "reinstate": CredentialStatus.ACTIVE,
    "revoke": CredentialStatus.REVOKED,
}


@dataclass(frozen=True)
class Observation:
    """Everything a wrong call could disturb, as the chain reports it."""

    credentials: dict[Key, tuple[Credential, CredentialValidity]]
    licensing_authorities: dict[str, bool]
    regulator: bool
    institutions: dict[str, InstitutionStatus]


# ─── The state machine ───────────────────────────────────────────────────────────────────────


class CredentialLifecycle(RuleBasedStateMachine):
    """Random issue / suspend / reinstate / revoke / role / institution / time sequences."""

    keys = Bundle("keys")  # keys of credentials issued at least once, and one never issued

    def __init__(self) -> None:
        super().__init__()
        self.world = world()
        self.chain = self.world.chain
        self.snapshot = self.chain.snapshot()
        self.ledgers = self.world.ledgers()
        self.reader = self.ledgers["outsider"]
        self.names = {self.world.address(name): name for name in NAMES}
        # The model: stored credentials, licensing authorities, institution statuses.
        self.credentials: dict[Key, Credential] = {}
        self.authorities: set[str] = set(AUTHORITIES)
        self.institutions = {name: InstitutionStatus.ACTIVE for name in INSTITUTIONS}

    def teardown(self) -> None:
        self.chain.revert(self.snapshot)

    # ─── Helpers ─────────────────────────────────────────────────────────────────────────

    def key_id(self, key: Key) -> bytes:
        subject, kind, scope = key
        return credential_id(self.world.address(subject), kind, scope)

    def stored(self, key: Key) -> Credential:
        """The model's credential ``key``, as ``credentials.get`` must return it."""
        return self.credentials.get(key) or never_issued(self.key_id(key))

    def check(self, key: Key) -> CredentialValidity:
        subject, kind, scope = key
        return self.reader.credentials.check(self.world.address(subject), kind, scope)

    def expected_check(self, key: Key, now: int) -> CredentialValidity:
        authorities = {self.world.address(name) for name in self.authorities}
        return expected_validity(self.stored(key), now, authorities)

    def observe(self, extra: Iterable[Key] = ()) -> Observation:
        """The chain's view of every modelled credential (and ``extra``), the roles and institutions."""
        consortium, credentials = self.reader.consortium, self.reader.credentials
        keys = sorted({*self.credentials, *extra})
        return Observation(
            credentials={key: (credentials.get(self.key_id(key)), self.check(key)) for key in keys},
            licensing_authorities={
                name: consortium.is_licensing_authority(self.world.address(name)) for name in AUTHORITIES
            },
            regulator=consortium.is_regulator(self.world.address("regulator")),
            institutions={
                name: consortium.institution(self.world.address(name)).status for name in INSTITUTIONS
            },
        )

    def predict(self, extra: Iterable[Key] = ()) -> Observation:
        """What ``observe`` must return according to the model."""
        now = self.chain.now()
        keys = sorted({*self.credentials, *extra})
        return Observation(
            credentials={key: (self.stored(key), self.expected_check(key, now)) for key in keys},
            licensing_authorities={name: name in self.authorities for name in AUTHORITIES},
            regulator=True,
            institutions=dict(self.institutions),
        )

    def assert_rejected(self, error: type[errors.ContractError], action: Action, *keys: Key) -> None:
        """``action`` raises exactly ``error`` and changes nothing observable.

        The state before the call is the model's: the invariant and the postcondition of every
        successful call keep the chain equal to it, and a rejected call leaves the model alone.
        """
        with pytest.raises(errors.ContractError) as raised:
            action()
        assert type(raised.value) is error
        assert self.observe(keys) == self.predict(keys)

    def tx_time(self) -> int:
        """Block time of the next transaction (see ``world``)."""
        return self.chain.now() + 1

    # ─── Credentials ─────────────────────────────────────────────────────────────────────

    @initialize(target=keys, subject=st.sampled_from(SUBJECTS), kind=kinds)
    def never_issued_key(self, subject: str, kind: CredentialKind) -> Key:
        return (subject, kind, NEVER_ISSUED_SCOPE)

    @rule(
        target=keys,
        issuer=st.sampled_from(AUTHORITIES),
        subject=st.sampled_from(SUBJECTS),
        kind=kinds,
        scope=st.sampled_from(SCOPES),
        window=windows,
        document=documents,
    )
    def issue(
        self, issuer: str, subject: str, kind: CredentialKind, scope: int, window: Window, document: bytes
    ) -> object:
        key = (subject, kind, scope)
        return key if self.try_issue(issuer, key, window, document) else multiple()

    @rule(
        issuer=st.sampled_from((*AUTHORITIES, "regulator", "outsider")),
        key=keys,
        window=windows,
        document=documents,
    )
    def reissue(self, issuer: str, key: Key, window: Window, document: bytes) -> None:
        self.try_issue(issuer, key, window, document)

    def try_issue(self, issuer: str, key: Key, window: Window, document: bytes) -> bool:
        """Issue credential ``key`` as ``issuer``, or see it rejected; True if it was issued."""
        subject, kind, scope = key
        tx_time = self.tx_time()
        valid_from, valid_until = window.at(tx_time)
        error = issue_error(
            by_authority=issuer in self.authorities,
            kind=kind,
            subject_is_active_institution=self.institutions.get(subject) is InstitutionStatus.ACTIVE,
            previous=self.stored(key),
            valid_from=valid_from,
            valid_until=valid_until,
            tx_time=tx_time,
        )

        def send() -> IssuedCredential:
            return self.ledgers[issuer].credentials.issue(
                self.world.address(subject),
                kind,
                scope=scope,
                valid_from=valid_from,
                valid_until=valid_until,
                document_hash=document,
            )

        if error is not None:
            self.assert_rejected(error, send, key)
            return False
        issued = send()
        assert issued.id == self.key_id(key)
        self.credentials[key] = Credential(
            issued.id, self.world.address(issuer), valid_from, valid_until, kind, CredentialStatus.ACTIVE, document
        )
        assert self.reader.credentials.get(issued.id) == self.credentials[key]
        return True

    @rule(key=keys, caller=managers)
    def suspend(self, key: Key, caller: str) -> None:
        self.manage("suspend", key, caller)

    @rule(key=keys, caller=managers)
    def reinstate(self, key: Key, caller: str) -> None:
        self.manage("reinstate", key, caller)

    @rule(key=keys, caller=managers)
    def revoke(self, key: Key, caller: str) -> None:
        self.manage("revoke", key, caller)

    def manage(self, action: str, key: Key, caller: str) -> None:
        stored = self.stored(key)
        issuer = self.names.get(stored.issuer, "authority")  # never issued: any authority will do
        if caller == "issuer":
            caller = issuer
        elif caller == "other authority":
            caller = next(name for name in AUTHORITIES if name != issuer)

        if stored.status is CredentialStatus.NONE:
            error: type[errors.ContractError] | None = errors.CredentialNotFound
        elif caller not in (issuer, "regulator"):  # the issuer may manage it even after losing the role
            error = errors.NotIssuerOrRegulator
        elif stored.status is CredentialStatus.REVOKED:
            error = errors.CredentialAlreadyRevoked
        elif action == "suspend" and stored.status is CredentialStatus.SUSPENDED:
            error = errors.CredentialAlreadySuspended
        elif action == "reinstate" and stored.status is not CredentialStatus.SUSPENDED:
            error = errors.CredentialNotSuspended
        else:
            error = None

        def send() -> object:
            return getattr(self.ledgers[caller].credentials, action)(stored.id)

        if error is not None:
            self.assert_rejected(error, send, key)
            return
        send()
        self.credentials[key] = replace(stored, status=STATUS_AFTER[action])
        assert self.reader.credentials.get(stored.id) == self.credentials[key]

    # ─── Consortium ──────────────────────────────────────────────────────────────────────

    @rule(authority=st.sampled_from(AUTHORITIES), grant=st.booleans(), caller=st.sampled_from(("admin", "outsider")))
    def set_licensing_role(self, authority: str, grant: bool, caller: str) -> None:
        consortium = self.ledgers[caller].consortium
        change = consortium.add_licensing_authority if grant else consortium.remove_licensing_authority

        def send() -> object:
            return change(self.world.address(authority))

        if caller != "admin":
            self.assert_rejected(errors.AccessControlUnauthorizedAccount, send)
            return
        send()  # granting a held role or revoking a missing one is a no-op, not an error
        if grant:
            self.authorities.add(authority)
        else:
            self.authorities.discard(authority)
        assert self.reader.consortium.is_licensing_authority(self.world.address(authority)) is grant

    @rule(
        institution=st.sampled_from((*INSTITUTIONS, "nurse")),  # the nurse was never accredited
        suspend=st.booleans(),
        caller=st.sampled_from(("admin", "regulator", "outsider")),
    )
    def set_institution_status(self, institution: str, suspend: bool, caller: str) -> None:
        status = self.institutions.get(institution, InstitutionStatus.NONE)
        if caller not in ("admin", "regulator"):
            error: type[errors.ContractError] | None = errors.NotAdminOrRegulator
        elif status is InstitutionStatus.NONE:
            error = errors.InstitutionNotAccredited
        elif suspend and status is InstitutionStatus.SUSPENDED:
            error = errors.InstitutionAlreadySuspended
        elif not suspend and status is InstitutionStatus.ACTIVE:
            error = errors.InstitutionNotSuspended
        else:
            error = None
        consortium = self.ledgers[caller].consortium
        change = consortium.suspend if suspend else consortium.reinstate

        def send() -> object:
            return change(self.world.address(institution))

        if error is not None:
            self.assert_rejected(error, send)
            return
        send()
        self.institutions[institution] = InstitutionStatus.SUSPENDED if suspend else InstitutionStatus.ACTIVE
        assert self.reader.consortium.institution(self.world.address(institution)).status is self.institutions[institution]

    @rule(seconds=time_steps)
    def advance_time(self, seconds: int) -> None:
        before = self.chain.now()
        self.chain.advance_time(seconds)
        assert self.chain.now() == before + seconds

    # ─── Invariants ──────────────────────────────────────────────────────────────────────

    @invariant()
    def check_follows_the_model(self) -> None:
        now = self.chain.now()
        for key, stored in self.credentials.items():
            expected = self.expected_check(key, now)
            assert self.check(key) is expected, (key, stored, now)
            subject, kind, scope = key
            is_valid = self.reader.credentials.is_valid(self.world.address(subject), kind, scope)
            assert is_valid is (expected is CredentialValidity.VALID)


CredentialLifecycle.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
TestCredentialLifecycle = CredentialLifecycle.TestCase


# ─── Plain properties ────────────────────────────────────────────────────────────────────────


@settings(max_examples=25, deadline=None)
@given(window=windows, later=time_steps)
def test_check_after_issue_follows_the_window(window: Window, later: int) -> None:
    w = world()
    with isolated(w):
        authority = w.ledgers()["authority"].credentials
        doctor = w.address("doctor")
        tx_time = w.chain.now() + 1
        valid_from, valid_until = window.at(tx_time)

        def issue() -> IssuedCredential:
            return authority.issue(doctor, "licence", valid_from=valid_from, valid_until=valid_until)

        error = issue_error(
            by_authority=True,
            kind=CredentialKind.LICENCE,
            subject_is_active_institution=False,
            previous=never_issued(bytes(32)),
            valid_from=valid_from,
            valid_until=valid_until,
            tx_time=tx_time,
        )
        if error is not None:
            with pytest.raises(errors.InvalidValidityWindow):
                issue()
            assert authority.check(doctor, "licence") is CredentialValidity.UNKNOWN
            return
        stored = authority.get(issue().id)
        assert (stored.valid_from, stored.valid_until) == (valid_from, valid_until)
        authorities = {w.address("authority")}
        assert authority.check(doctor, "licence") is expected_validity(stored, w.chain.now(), authorities)
        w.chain.advance_time(later)
        assert authority.check(doctor, "licence") is expected_validity(stored, w.chain.now(), authorities)


@settings(max_examples=50, deadline=None)
@given(subject=st.binary(min_size=20, max_size=20), kind=kinds, scope=st.integers(0, 2**64 - 1))
def test_client_credential_id_matches_the_contract(subject: bytes, kind: CredentialKind, scope: int) -> None:
    address = to_checksum_address(subject)
    contract = world().ledgers()["outsider"].credentials.contract
    assert credential_id(address, kind, scope) == contract.functions.credentialId(address, kind, scope).call()
