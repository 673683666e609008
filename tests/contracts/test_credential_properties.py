"""Property tests of the credential registry, against a Python model of the consortium.

Invariants guarded:

* A revoked, suspended, expired or not-yet-valid credential never passes ``check``, nor one whose
  issuer has lost the licensing-authority role, nor a practitioner credential of an institution;
  ``check`` names the first reason in the contract's order (unknown, subject is an institution,
  revoked, suspended, not yet valid, expired, issuer not accredited).
* No call from a wrong role changes state, and neither does a call made in the wrong state:
  each raises its typed error and leaves every credential, role and institution as it was.
  Wrong roles include an issuer that has lost the licensing-authority role, and an issuer lifting
  a regulator's suspension. A regulator's hold (its suspension or revocation) is never replaced
  by an issuance, and only a regulator lifts it or hands a credential to another authority.

Trust rules, each with a machine of its own that states the rule apart from the model:

* A regulator's hold binds (``RegulatorHold``): from a regulator's suspension or revocation until
  a regulator lifts it, no interleaving of the issuer's, another authority's and time's doings
  makes the credential pass.
* An institution is judged only as an institution (``InstitutionStanding``): a licensed wallet
  accredited later is credentialed exactly while active with a valid accreditation, through
  suspensions, reinstatements, withdrawals of its accreditation and time.

Everything runs on one embedded chain per test session; each example works inside a snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache

# py-evm raises the recursion limit when first imported; import it before Hypothesis runs a test,
# or Hypothesis warns that the limit changed under it.
import eth_tester  # noqa: F401
import pytest
from eth_utils import to_checksum_address
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from medledger import errors
from medledger.chain import embedded
from medledger.client import MedLedger
from medledger.client.credentials import Credential, IssuedCredential, credential_id
from medledger.deploy import deploy_suite
from medledger.types import (
    CredentialKind,
    CredentialStatus,
    CredentialValidity,
    InstitutionKind,
    InstitutionStatus,
)
from tests.helpers import World, assert_refused_unchanged

DAY = 24 * 3600
ZERO_ADDRESS = "0x" + "00" * 20

# Dev accounts by name, in the order of tests/conftest.py's Actors.
NAMES = (
    "admin", "regulator", "authority", "hospital", "pharmacy", "doctor", "nurse", "outsider", "authority2",
)  # fmt: skip
AUTHORITIES = ("authority", "authority2")
INSTITUTIONS = ("hospital", "pharmacy")  # accredited at setup
SUBJECTS = ("doctor", "hospital")  # the hospital may hold an accreditation, the doctor not
SCOPES = (0, 1)

Key = tuple[str, CredentialKind, int]  # (subject name, kind, scope)
Action = Callable[[], object]


# ─── One deployment for the whole module ─────────────────────────────────────────────────────


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


HELD = (CredentialStatus.SUSPENDED_BY_REGULATOR, CredentialStatus.REVOKED_BY_REGULATOR)
REVOKED = (CredentialStatus.REVOKED, CredentialStatus.REVOKED_BY_REGULATOR)


def expected_validity(
    stored: Credential, now: int, authorities: Iterable[str], *, subject_is_institution: bool = False
) -> CredentialValidity:
    """What ``check`` must answer at block time ``now``, in the order CredentialRegistry.check tests.

    ``subject_is_institution``: the subject was accredited at some time (any status since)."""
    if stored.status is CredentialStatus.NONE:
        return CredentialValidity.UNKNOWN
    if subject_is_institution and stored.kind is not CredentialKind.ACCREDITATION:
        return CredentialValidity.SUBJECT_IS_INSTITUTION
    if stored.status in REVOKED:  # by its issuer, or under a regulator's hold
        return CredentialValidity.REVOKED
    if stored.status is not CredentialStatus.ACTIVE:  # suspended, by its issuer or by a regulator
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
    subject_status: InstitutionStatus,
    previous: Credential,
    valid_from: int,
    valid_until: int,
    tx_time: int,
) -> type[errors.ContractError] | None:
    """The error issueCredential must raise, in the contract's order of checks, or None.

    ``subject_status``: the subject's status as an institution (NONE: never accredited)."""
    if not by_authority:
        return errors.NotLicensingAuthority
    if valid_until <= valid_from or valid_until <= tx_time:
        return errors.InvalidValidityWindow
    if kind is CredentialKind.ACCREDITATION and subject_status is not InstitutionStatus.ACTIVE:
        return errors.SubjectNotInstitution
    if kind is not CredentialKind.ACCREDITATION and subject_status is not InstitutionStatus.NONE:
        return errors.SubjectIsInstitution
    if previous.status in HELD:  # held by a regulator, expired or not
        return errors.CredentialHeldByRegulator
    expired = previous.status is CredentialStatus.ACTIVE and previous.valid_until <= tx_time
    if previous.status not in (CredentialStatus.NONE, CredentialStatus.REVOKED) and not expired:
        return errors.CredentialAlreadyIssued  # a suspended one is never replaced, even expired
    return None


def management_error(
    action: str, status: CredentialStatus, *, by_issuer: bool, by_regulator: bool
) -> type[errors.ContractError] | None:
    """The error suspend / reinstate / revoke must raise, in the contract's order, or None.

    ``by_issuer``: the caller issued the credential and still holds the licensing-authority role
    (an issuer that lost it keeps no power). A regulator's suspension binds the issuer; a
    regulator may take over the issuer's suspension, and the issuer's revocation.
    """
    if status is CredentialStatus.NONE:
        return errors.CredentialNotFound
    if not (by_issuer or by_regulator):
        return errors.NotIssuerOrRegulator
    takeover = action == "revoke" and status is CredentialStatus.REVOKED and by_regulator
    if status in REVOKED and not takeover:
        return errors.CredentialAlreadyRevoked
    if action == "suspend" and not (
        status is CredentialStatus.ACTIVE or (status is CredentialStatus.SUSPENDED and by_regulator)
    ):
        return errors.CredentialAlreadySuspended
    if action == "reinstate" and status is CredentialStatus.ACTIVE:
        return errors.CredentialNotSuspended
    if action == "reinstate" and status is CredentialStatus.SUSPENDED_BY_REGULATOR and not by_regulator:
        return errors.CredentialSuspendedByRegulator
    return None


def status_after(action: str, by_regulator: bool, status: CredentialStatus) -> CredentialStatus:
    """The status a credential in ``status`` takes when ``action`` goes through."""
    if action == "suspend":
        return CredentialStatus.SUSPENDED_BY_REGULATOR if by_regulator else CredentialStatus.SUSPENDED
    if action == "reinstate":
        return CredentialStatus.ACTIVE
    if action == "lift":
        return CredentialStatus.SUSPENDED if status is CredentialStatus.SUSPENDED_BY_REGULATOR else CredentialStatus.REVOKED
    # revoke: a hold when a regulator revokes, or when a regulator's suspension stood
    held = by_regulator or status is CredentialStatus.SUSPENDED_BY_REGULATOR
    return CredentialStatus.REVOKED_BY_REGULATOR if held else CredentialStatus.REVOKED


def lift_error(status: CredentialStatus, *, by_regulator: bool) -> type[errors.ContractError] | None:
    """The error liftRegulatorHold must raise, in the contract's order, or None."""
    if status is CredentialStatus.NONE:
        return errors.CredentialNotFound
    if not by_regulator:
        return errors.NotRegulator
    if status not in HELD:
        return errors.CredentialNotHeldByRegulator
    return None


def reassign_error(
    status: CredentialStatus, issuer: str, new_issuer: str, *, by_regulator: bool, new_issuer_is_authority: bool
) -> type[errors.ContractError] | None:
    """The error reassignCredentialIssuer must raise, in the contract's order, or None."""
    if status is CredentialStatus.NONE:
        return errors.CredentialNotFound
    if not by_regulator:
        return errors.NotRegulator
    if not new_issuer_is_authority:
        return errors.NotLicensingAuthority
    if new_issuer == issuer:
        return errors.CredentialIssuerUnchanged
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
live_windows = windows.filter(lambda window: window.ends_in > 0 and window.length > 0)
lasting_windows = st.builds(Window, ends_in=st.integers(DAY, 3 * DAY), length=st.integers(3 * DAY, 4 * DAY))
mostly_live_windows = st.one_of(live_windows, live_windows, windows)  # two live draws in three
time_steps = st.one_of(st.integers(1, 5), st.integers(6, DAY))
kinds = st.sampled_from(CredentialKind)
documents = st.binary(min_size=32, max_size=32)
# Who calls suspend / reinstate / revoke, relative to the credential: as often its issuer (who
# may have lost the role since) as a regulator as someone who may not.
managers = st.one_of(
    st.just("issuer"),
    st.just("regulator"),
    st.sampled_from(("other authority", "outsider", "admin")),
)


@dataclass(frozen=True)
class Observation:
    """The credentials and role holders, as the chain reports them (``check``: see ``attempt``)."""

    credentials: dict[Key, Credential]
    licensing_authorities: dict[str, bool]
    regulator: bool


# ─── The state machine ───────────────────────────────────────────────────────────────────────


class CredentialLifecycle(RuleBasedStateMachine):
    """Random issue / suspend / reinstate / revoke / role / institution / time sequences."""

    keys = Bundle("keys")  # keys of credentials issued at least once
    suspended = Bundle("suspended")  # keys of credentials suspended at least once

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
        self.verified_block: bytes | None = None  # latest block when the invariant last queried

    def teardown(self) -> None:
        self.chain.revert(self.snapshot)

    # ─── Helpers ─────────────────────────────────────────────────────────────────────────

    def latest_block(self) -> bytes:
        return bytes(self.chain.w3.eth.get_block("latest")["hash"])

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
        subject_is_institution = key[0] in self.institutions
        return expected_validity(self.stored(key), now, authorities, subject_is_institution=subject_is_institution)

    def observe(self, extra: Iterable[Key] = ()) -> Observation:
        """The chain's view of every modelled credential (and ``extra``) and of the role holders."""
        consortium, credentials = self.reader.consortium, self.reader.credentials
        keys = sorted({*self.credentials, *extra})
        return Observation(
            credentials={key: credentials.get(self.key_id(key)) for key in keys},
            licensing_authorities={
                name: consortium.is_licensing_authority(self.world.address(name)) for name in AUTHORITIES
            },
            regulator=consortium.is_regulator(self.world.address("regulator")),
        )

    def predict(self, extra: Iterable[Key] = ()) -> Observation:
        """What ``observe`` must return according to the model."""
        keys = sorted({*self.credentials, *extra})
        return Observation(
            credentials={key: self.stored(key) for key in keys},
            licensing_authorities={name: name in self.authorities for name in AUTHORITIES},
            regulator=True,
        )

    def attempt(self, error: type[errors.ContractError] | None, send: Action, *keys: Key) -> bool:
        """Make a call the model expects to go through (``error`` None) or to fail with ``error``;
        True if it went through.

        A failing call must raise exactly ``error`` and change nothing: no block is mined (so no
        state at all changes, institutions included), and every stored credential (including
        ``keys``, which the call named) and role holder still matches the model, which the
        invariant and the postcondition of every successful call keep equal to the chain. (With no
        new block, ``check`` and ``is_valid`` answer as when the invariant last queried them.)
        """
        if error is None:
            send()
            return True
        block = self.latest_block()
        with pytest.raises(errors.ContractError) as raised:
            send()
        assert type(raised.value) is error
        assert self.latest_block() == block
        assert self.observe(keys) == self.predict(keys)
        return False

    def tx_time(self) -> int:
        """Block time of the next transaction (see ``world``)."""
        return self.chain.now() + 1

    # ─── Credentials ─────────────────────────────────────────────────────────────────────

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
            subject_status=self.institutions.get(subject, InstitutionStatus.NONE),
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

        if not self.attempt(error, send, key):
            return False
        self.credentials[key] = Credential(
            self.key_id(key),
            self.world.address(issuer),
            valid_from,
            valid_until,
            kind,
            CredentialStatus.ACTIVE,
            document,
        )
        assert self.reader.credentials.get(self.key_id(key)) == self.credentials[key]
        return True

    @rule(target=suspended, key=keys, caller=managers)
    def suspend(self, key: Key, caller: str) -> object:
        return key if self.manage("suspend", key, caller) else multiple()

    @rule(key=suspended, caller=managers)
    def reinstate(self, key: Key, caller: str) -> None:
        self.manage("reinstate", key, caller)

    @rule(key=keys, caller=managers)
    def revoke(self, key: Key, caller: str) -> None:
        self.manage("revoke", key, caller)

    def manage(self, action: str, key: Key, caller: str) -> bool:
        """Suspend, reinstate or revoke credential ``key`` as ``caller`` (a name, "issuer" or
        "other authority"), or see it rejected; True if it went through."""
        stored = self.credentials[key]
        issuer = self.names[stored.issuer]
        caller = self.caller_name(caller, issuer)
        by_regulator = caller == "regulator"
        error = management_error(
            action,
            stored.status,
            by_issuer=caller == issuer and issuer in self.authorities,
            by_regulator=by_regulator,
        )

        def send() -> object:
            return getattr(self.ledgers[caller].credentials, action)(stored.id)

        if not self.attempt(error, send, key):
            return False
        self.credentials[key] = replace(stored, status=status_after(action, by_regulator, stored.status))
        assert self.reader.credentials.get(stored.id) == self.credentials[key]
        return True

    def caller_name(self, caller: str, issuer: str) -> str:
        """``caller`` as a dev account's name: "issuer" and "other authority" are relative to ``issuer``."""
        if caller == "issuer":
            return issuer
        if caller == "other authority":
            return next(name for name in AUTHORITIES if name != issuer)
        return caller

    @rule(key=keys, caller=managers)
    def lift(self, key: Key, caller: str) -> None:
        stored = self.credentials[key]
        caller = self.caller_name(caller, self.names[stored.issuer])
        error = lift_error(stored.status, by_regulator=caller == "regulator")

        def send() -> object:
            return self.ledgers[caller].credentials.lift_regulator_hold(stored.id)

        if not self.attempt(error, send, key):
            return
        self.credentials[key] = replace(stored, status=status_after("lift", True, stored.status))
        assert self.reader.credentials.get(stored.id) == self.credentials[key]

    @rule(key=keys, caller=managers, new_issuer=st.sampled_from((*AUTHORITIES, "outsider")))
    def reassign(self, key: Key, caller: str, new_issuer: str) -> None:
        stored = self.credentials[key]
        caller = self.caller_name(caller, self.names[stored.issuer])
        error = reassign_error(
            stored.status,
            self.names[stored.issuer],
            new_issuer,
            by_regulator=caller == "regulator",
            new_issuer_is_authority=new_issuer in self.authorities,
        )

        def send() -> object:
            return self.ledgers[caller].credentials.reassign_issuer(stored.id, self.world.address(new_issuer))

        if not self.attempt(error, send, key):
            return
        self.credentials[key] = replace(stored, issuer=self.world.address(new_issuer))
        assert self.reader.credentials.get(stored.id) == self.credentials[key]

    # ─── Consortium ──────────────────────────────────────────────────────────────────────

    @rule(caller=st.sampled_from(("admin", "outsider")))
    def toggle_licensing_role(self, caller: str) -> None:
        """Remove authority2's role if it holds it, else restore it. (The other authority keeps
        its role throughout, so that credentials keep being issued and managed.)"""
        authority = "authority2"
        consortium = self.ledgers[caller].consortium
        grant = authority not in self.authorities
        change = consortium.add_licensing_authority if grant else consortium.remove_licensing_authority

        def send() -> object:
            return change(self.world.address(authority))

        error = None if caller == "admin" else errors.AccessControlUnauthorizedAccount
        if not self.attempt(error, send):
            return
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

        if not self.attempt(error, send):
            return
        self.institutions[institution] = InstitutionStatus.SUSPENDED if suspend else InstitutionStatus.ACTIVE
        record = self.reader.consortium.institution(self.world.address(institution))
        assert record.status is self.institutions[institution]

    @rule(seconds=time_steps)
    def advance_time(self, seconds: int) -> None:
        before = self.chain.now()
        self.chain.advance_time(seconds)
        assert self.chain.now() == before + seconds

    # ─── Invariants ──────────────────────────────────────────────────────────────────────

    @invariant()
    def check_follows_the_model(self) -> None:
        block = self.latest_block()
        if block == self.verified_block:
            return  # nothing was mined since the last query (the step was a rejected call)
        now = self.chain.now()
        for key, stored in self.credentials.items():
            expected = self.expected_check(key, now)
            assert self.check(key) is expected, (key, stored, now)
            subject, kind, scope = key
            is_valid = self.reader.credentials.is_valid(self.world.address(subject), kind, scope)
            assert is_valid is (expected is CredentialValidity.VALID)
        self.verified_block = block


CredentialLifecycle.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
TestCredentialLifecycle = CredentialLifecycle.TestCase


# ─── Trust rule: a regulator's hold binds ────────────────────────────────────────────────────

#: Who acts on the doctor's licence, relative to it ("issuer": authority while never issued).
HOLD_CALLERS = ("issuer", "other authority", "regulator", "outsider")
ACTIONS = ("suspend", "reinstate", "revoke", "lift")


class RegulatorHold(RuleBasedStateMachine):
    """The doctor's licence under random interleavings of its issuer, the other licensing
    authority, a regulator and an outsider: issue, suspend, reinstate, revoke, lift the hold,
    reassign the issuer, the other authority's role and time.

    Besides following the model, the machine checks the rule on its own terms, from who did what
    and nothing else: from a regulator's successful suspension or revocation until a regulator's
    successful reinstatement or lift, the licence never passes, whatever the authorities do.
    """

    def __init__(self) -> None:
        super().__init__()
        self.world = world()
        self.chain = self.world.chain
        self.snapshot = self.chain.snapshot()
        self.ledgers = self.world.ledgers()
        self.reader = self.ledgers["outsider"]
        self.names = {self.world.address(name): name for name in NAMES}
        self.doctor = self.world.address("doctor")
        self.id = credential_id(self.doctor, CredentialKind.LICENCE, 0)
        self.stored = never_issued(self.id)  # the model
        self.authorities: set[str] = set(AUTHORITIES)
        self.held = False  # a regulator suspended or revoked it, and no regulator lifted that since
        self.verified_block: bytes | None = None

    def teardown(self) -> None:
        self.chain.revert(self.snapshot)

    def name_of(self, caller: str) -> str:
        issuer = self.names.get(self.stored.issuer, "authority")
        if caller == "issuer":
            return issuer
        if caller == "other authority":
            return next(name for name in AUTHORITIES if name != issuer)
        return caller

    def go(self, error: type[errors.ContractError] | None, send: Action) -> bool:
        """Send; True if it went through, else it raised exactly ``error`` and mined nothing."""
        if error is None:
            send()
            return True
        assert_refused_unchanged(self.chain, error, send)
        return False

    @initialize(by=st.sampled_from(AUTHORITIES), window=live_windows)
    def licensed(self, by: str, window: Window) -> None:
        """Start from a live licence, so that most steps act on one."""
        self.issue(by, window)

    @rule(by=st.sampled_from((*AUTHORITIES, *AUTHORITIES, "regulator", "outsider")), window=mostly_live_windows)
    def issue(self, by: str, window: Window) -> None:
        tx_time = self.chain.now() + 1
        valid_from, valid_until = window.at(tx_time)
        error = issue_error(
            by_authority=by in self.authorities,
            kind=CredentialKind.LICENCE,
            subject_status=InstitutionStatus.NONE,
            previous=self.stored,
            valid_from=valid_from,
            valid_until=valid_until,
            tx_time=tx_time,
        )

        def send() -> object:
            return self.ledgers[by].credentials.issue(
                self.doctor, "licence", valid_from=valid_from, valid_until=valid_until
            )

        if self.go(error, send):
            self.stored = Credential(
                self.id, self.world.address(by), valid_from, valid_until,
                CredentialKind.LICENCE, CredentialStatus.ACTIVE, bytes(32),
            )  # fmt: skip

    # The regulator's doings, the authorities' (the issuer's or the other's) and an outsider's are
    # rules of their own, so that each gets its share of the steps whatever the others draw.

    @rule(action=st.sampled_from(ACTIONS))
    def regulator_acts(self, action: str) -> None:
        self.manage(action, "regulator")

    @rule(action=st.sampled_from(ACTIONS), caller=st.sampled_from(("issuer", "other authority")))
    def authority_acts(self, action: str, caller: str) -> None:
        self.manage(action, caller)

    @rule(action=st.sampled_from(ACTIONS), caller=st.sampled_from(("outsider", "admin")))
    def outsider_acts(self, action: str, caller: str) -> None:
        self.manage(action, caller)

    @rule(reviser=st.sampled_from(("issuer", "other authority")), window=live_windows)
    def revoke_and_reissue(self, reviser: str, window: Window) -> None:
        """The way out of a hold that the rule closes: the issuer revokes, then it or another
        authority issues the same licence again."""
        self.manage("revoke", "issuer")
        self.issue(self.name_of(reviser), window)

    def manage(self, action: str, caller: str) -> None:
        name = self.name_of(caller)
        by_regulator = name == "regulator"
        status = self.stored.status
        credentials = self.ledgers[name].credentials
        if action == "lift":
            error = lift_error(status, by_regulator=by_regulator)
            send: Action = lambda: credentials.lift_regulator_hold(self.id)  # noqa: E731
        else:
            by_issuer = self.world.address(name) == self.stored.issuer and name in self.authorities
            error = management_error(action, status, by_issuer=by_issuer, by_regulator=by_regulator)
            send = lambda: getattr(credentials, action)(self.id)  # noqa: E731
        if not self.go(error, send):
            return
        self.stored = replace(self.stored, status=status_after(action, by_regulator, status))
        if by_regulator:
            self.held = action in ("suspend", "revoke")

    @rule(caller=st.sampled_from((*HOLD_CALLERS, "regulator")), new_issuer=st.sampled_from((*AUTHORITIES, "outsider")))
    def reassign(self, caller: str, new_issuer: str) -> None:
        name = self.name_of(caller)
        error = reassign_error(
            self.stored.status,
            self.names.get(self.stored.issuer, ""),
            new_issuer,
            by_regulator=name == "regulator",
            new_issuer_is_authority=new_issuer in self.authorities,
        )

        def send() -> object:
            return self.ledgers[name].credentials.reassign_issuer(self.id, self.world.address(new_issuer))

        if self.go(error, send):
            self.stored = replace(self.stored, issuer=self.world.address(new_issuer))

    @rule()
    def toggle_licensing_role(self) -> None:
        """authority2 loses its role, or gets it back (the admin's doing)."""
        consortium, address = self.ledgers["admin"].consortium, self.world.address("authority2")
        if "authority2" in self.authorities:
            consortium.remove_licensing_authority(address)
            self.authorities.discard("authority2")
        else:
            consortium.add_licensing_authority(address)
            self.authorities.add("authority2")

    @rule(seconds=time_steps)
    def advance_time(self, seconds: int) -> None:
        self.chain.advance_time(seconds)

    @invariant()
    def a_hold_binds_and_check_follows_the_model(self) -> None:
        block = bytes(self.chain.w3.eth.get_block("latest")["hash"])
        if block == self.verified_block:
            return
        credentials = self.reader.credentials
        assert credentials.get(self.id) == self.stored
        authorities = {self.world.address(name) for name in self.authorities}
        expected = expected_validity(self.stored, self.chain.now(), authorities)
        validity = credentials.check(self.doctor, "licence")
        assert validity is expected
        if self.held:
            assert validity is not CredentialValidity.VALID
            assert not credentials.is_valid(self.doctor, "licence")
            assert self.stored.status in HELD
        self.verified_block = block


RegulatorHold.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
TestRegulatorHold = RegulatorHold.TestCase


# ─── Trust rule: an institution is judged only as an institution ─────────────────────────────

PRACTICE = (CredentialKind.LICENCE, CredentialKind.NURSE, CredentialKind.PHARMACIST)
STANDING_KINDS = (*PRACTICE, CredentialKind.ACCREDITATION)


class InstitutionStanding(RuleBasedStateMachine):
    """A wallet ("nurse") licensed as a practitioner and accredited as a clinic later (a
    one-doctor clinic, a pharmacist-run pharmacy), under random suspension and reinstatement of
    the institution, issuance, suspension and revocation (withdrawal) of its credentials, and time.

    Once it is an institution, whatever its status, ``isCredentialed`` is exactly "active and
    holding a valid accreditation" and no practitioner credential of it passes a check.
    """

    def __init__(self) -> None:
        super().__init__()
        self.world = world()
        self.chain = self.world.chain
        self.snapshot = self.chain.snapshot()
        self.ledgers = self.world.ledgers()
        self.reader = self.ledgers["outsider"]
        self.subject = self.world.address("nurse")  # never accredited in ``world``
        self.status = InstitutionStatus.NONE
        self.credentials = {kind: never_issued(credential_id(self.subject, kind, 0)) for kind in STANDING_KINDS}
        self.verified_block: bytes | None = None

    def teardown(self) -> None:
        self.chain.revert(self.snapshot)

    def go(self, error: type[errors.ContractError] | None, send: Action) -> bool:
        if error is None:
            send()
            return True
        assert_refused_unchanged(self.chain, error, send)
        return False

    @initialize(kind=st.sampled_from(PRACTICE), window=lasting_windows, accreditation=st.booleans())
    def a_practitioner_accredited_later(self, kind: CredentialKind, window: Window, accreditation: bool) -> None:
        """The wallet holds a practitioner credential, valid now and for a day or more, and is then
        accredited as a clinic (with an accreditation credential, or not yet)."""
        self.issue(kind, window)
        self.accredit("admin")
        if accreditation:
            self.issue(CredentialKind.ACCREDITATION, window)

    @rule(kind=st.sampled_from(STANDING_KINDS), window=mostly_live_windows)
    def issue(self, kind: CredentialKind, window: Window) -> None:
        tx_time = self.chain.now() + 1
        valid_from, valid_until = window.at(tx_time)
        error = issue_error(
            by_authority=True,
            kind=kind,
            subject_status=self.status,
            previous=self.credentials[kind],
            valid_from=valid_from,
            valid_until=valid_until,
            tx_time=tx_time,
        )

        def send() -> object:
            return self.ledgers["authority"].credentials.issue(
                self.subject, kind, valid_from=valid_from, valid_until=valid_until
            )

        if self.go(error, send):
            self.credentials[kind] = Credential(
                self.credentials[kind].id, self.world.address("authority"), valid_from, valid_until,
                kind, CredentialStatus.ACTIVE, bytes(32),
            )  # fmt: skip

    @rule(
        kind=st.sampled_from((CredentialKind.ACCREDITATION, *STANDING_KINDS)),
        action=st.sampled_from(ACTIONS),
        caller=st.sampled_from(("authority", "regulator")),
    )
    def manage(self, kind: CredentialKind, action: str, caller: str) -> None:
        """Revoking the accreditation is how the authority withdraws it."""
        stored = self.credentials[kind]
        by_regulator = caller == "regulator"
        credentials = self.ledgers[caller].credentials
        if action == "lift":
            error = lift_error(stored.status, by_regulator=by_regulator)
            send: Action = lambda: credentials.lift_regulator_hold(stored.id)  # noqa: E731
        else:
            error = management_error(action, stored.status, by_issuer=not by_regulator, by_regulator=by_regulator)
            send = lambda: getattr(credentials, action)(stored.id)  # noqa: E731
        if self.go(error, send):
            self.credentials[kind] = replace(stored, status=status_after(action, by_regulator, stored.status))

    @rule(caller=st.sampled_from(("admin", "outsider")))
    def accredit_again(self, caller: str) -> None:
        self.accredit(caller)

    def accredit(self, caller: str) -> None:
        if caller != "admin":
            error: type[errors.ContractError] | None = errors.AccessControlUnauthorizedAccount
        elif self.status is not InstitutionStatus.NONE:
            error = errors.InstitutionAlreadyAccredited
        else:
            error = None
        if self.go(error, lambda: self.ledgers[caller].consortium.accredit(self.subject, "clinic")):
            self.status = InstitutionStatus.ACTIVE

    @rule(suspend=st.booleans(), caller=st.sampled_from(("admin", "regulator")))
    def set_institution_status(self, suspend: bool, caller: str) -> None:
        if self.status is InstitutionStatus.NONE:
            error: type[errors.ContractError] | None = errors.InstitutionNotAccredited
        elif suspend and self.status is InstitutionStatus.SUSPENDED:
            error = errors.InstitutionAlreadySuspended
        elif not suspend and self.status is InstitutionStatus.ACTIVE:
            error = errors.InstitutionNotSuspended
        else:
            error = None
        consortium = self.ledgers[caller].consortium
        change = consortium.suspend if suspend else consortium.reinstate
        if self.go(error, lambda: change(self.subject)):
            self.status = InstitutionStatus.SUSPENDED if suspend else InstitutionStatus.ACTIVE

    @rule(seconds=time_steps)
    def advance_time(self, seconds: int) -> None:
        self.chain.advance_time(seconds)

    @invariant()
    def judged_only_as_an_institution(self) -> None:
        block = bytes(self.chain.w3.eth.get_block("latest")["hash"])
        if block == self.verified_block:
            return
        now, authorities = self.chain.now(), {self.world.address("authority")}
        institution = self.status is not InstitutionStatus.NONE
        credentials = self.reader.credentials
        checks = {kind: credentials.check(self.subject, kind) for kind in STANDING_KINDS}
        for kind, stored in self.credentials.items():
            assert credentials.get(stored.id) == stored
            assert checks[kind] is expected_validity(stored, now, authorities, subject_is_institution=institution)
        credentialed = credentials.is_credentialed(self.subject)
        if institution:
            # The rule itself, in the chain's own answers: active and a valid accreditation, exactly.
            accredited = checks[CredentialKind.ACCREDITATION] is CredentialValidity.VALID
            assert credentialed is (self.status is InstitutionStatus.ACTIVE and accredited)
            assert all(checks[kind] is not CredentialValidity.VALID for kind in PRACTICE)
        else:
            assert credentialed is any(checks[kind] is CredentialValidity.VALID for kind in PRACTICE)
        self.verified_block = block


InstitutionStanding.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
TestInstitutionStanding = InstitutionStanding.TestCase


# ─── Plain properties ────────────────────────────────────────────────────────────────────────


@settings(max_examples=12, deadline=None)
@given(
    window=windows,
    action=st.sampled_from((None, "suspend", "revoke")),
    issuer_keeps_role=st.booleans(),
    later=time_steps,
)
# The boundaries: valid from validFrom on (the second check), expired from validUntil on.
@example(window=Window(ends_in=2, length=1), action=None, issuer_keeps_role=True, later=1)
@example(window=Window(ends_in=1, length=1), action=None, issuer_keeps_role=True, later=1)
def test_check_of_a_new_credential_follows_window_status_and_issuer(
    window: Window, action: str | None, issuer_keeps_role: bool, later: int
) -> None:
    w = world()
    with isolated(w):
        ledgers = w.ledgers()
        credentials = ledgers["authority"].credentials
        doctor, issuer = w.address("doctor"), w.address("authority")
        valid_from, valid_until = window.at(w.chain.now() + 1)

        def issue() -> IssuedCredential:
            return credentials.issue(doctor, "licence", valid_from=valid_from, valid_until=valid_until)

        if window.ends_in <= 0 or window.length <= 0:  # over already, or empty
            with pytest.raises(errors.InvalidValidityWindow):
                issue()
            assert credentials.check(doctor, "licence") is CredentialValidity.UNKNOWN
            return
        key_id = issue().id
        if action is not None:
            getattr(credentials, action)(key_id)
        if not issuer_keeps_role:
            ledgers["admin"].consortium.remove_licensing_authority(issuer)
        stored = credentials.get(key_id)
        status = status_after(action, False, CredentialStatus.ACTIVE) if action else CredentialStatus.ACTIVE
        assert stored == Credential(
            key_id, issuer, valid_from, valid_until, CredentialKind.LICENCE, status, bytes(32)
        )
        authorities = {issuer} if issuer_keeps_role else set()
        for _ in range(2):  # right away, then ``later`` seconds on
            expected = expected_validity(stored, w.chain.now(), authorities)
            assert credentials.check(doctor, "licence") is expected
            assert credentials.is_valid(doctor, "licence") is (expected is CredentialValidity.VALID)
            w.chain.advance_time(later)


@settings(max_examples=12, deadline=None)
@given(
    first=live_windows,
    action=st.sampled_from((None, "suspend", "revoke")),
    by=st.sampled_from(("authority", "regulator")),
    wait=time_steps,
    second=windows,
)
# A suspended credential is not replaced even once it has expired.
@example(
    first=Window(ends_in=10, length=10), action="suspend", by="authority", wait=DAY,
    second=Window(ends_in=DAY, length=DAY),
)  # fmt: skip
# Nor is a regulator's revocation: a hold outlives the credential's window.
@example(
    first=Window(ends_in=10, length=10), action="revoke", by="regulator", wait=DAY,
    second=Window(ends_in=DAY, length=DAY),
)  # fmt: skip
def test_a_credential_is_replaced_only_once_revoked_or_expired_and_never_under_a_hold(
    first: Window, action: str | None, by: str, wait: int, second: Window
) -> None:
    """The issuer's (``by`` authority) or a regulator's suspension or revocation, then time, then
    another authority's issuance: replaced only when the model says so."""
    w = world()
    with isolated(w):
        ledgers = w.ledgers()
        doctor = w.address("doctor")
        valid_from, valid_until = first.at(w.chain.now() + 1)
        key_id = ledgers["authority"].credentials.issue(
            doctor, "licence", valid_from=valid_from, valid_until=valid_until
        ).id
        if action is not None:
            getattr(ledgers[by].credentials, action)(key_id)
        w.chain.advance_time(wait)
        previous = ledgers["outsider"].credentials.get(key_id)

        tx_time = w.chain.now() + 1
        valid_from, valid_until = second.at(tx_time)
        error = issue_error(
            by_authority=True,
            kind=CredentialKind.LICENCE,
            subject_status=InstitutionStatus.NONE,
            previous=previous,
            valid_from=valid_from,
            valid_until=valid_until,
            tx_time=tx_time,
        )

        def replace_it() -> IssuedCredential:
            return ledgers["authority2"].credentials.issue(
                doctor, "licence", valid_from=valid_from, valid_until=valid_until, document_hash=b"\x01" * 32
            )

        if error is not None:
            with pytest.raises(error):
                replace_it()
            assert ledgers["outsider"].credentials.get(key_id) == previous
            return
        replace_it()
        assert ledgers["outsider"].credentials.get(key_id) == Credential(
            key_id,
            w.address("authority2"),
            valid_from,
            valid_until,
            CredentialKind.LICENCE,
            CredentialStatus.ACTIVE,
            b"\x01" * 32,
        )


@settings(max_examples=12, deadline=None)
@given(
    issued=st.booleans(),
    issuer_keeps_role=st.booleans(),
    calls=st.lists(
        st.tuples(
            st.sampled_from(("suspend", "reinstate", "revoke", "lift")),
            st.sampled_from(("authority", "regulator", "authority2", "outsider")),
        ),
        min_size=1,
        max_size=5,
    ),
)
# The issuer suspends, a regulator takes the suspension over, the issuer may no longer lift it.
@example(
    issued=True,
    issuer_keeps_role=True,
    calls=[
        ("suspend", "authority"),
        ("suspend", "regulator"),
        ("reinstate", "authority"),
        ("reinstate", "regulator"),
    ],
)
# An issuer that lost its role keeps no power over what it issued.
@example(issued=True, issuer_keeps_role=False, calls=[("suspend", "authority"), ("revoke", "authority")])
# The issuer revokes under a regulator's suspension: the hold stays until a regulator lifts it.
@example(
    issued=True,
    issuer_keeps_role=True,
    calls=[("suspend", "regulator"), ("revoke", "authority"), ("lift", "authority"), ("lift", "regulator")],
)
def test_management_calls_follow_who_may_make_them(
    issued: bool, issuer_keeps_role: bool, calls: list[tuple[str, str]]
) -> None:
    """Suspend / reinstate / revoke / lift calls on the doctor's licence (issued by ``authority``,
    which may then lose its role; or never issued) go through or fail exactly as the model says,
    and only the former move it."""
    w = world()
    with isolated(w):
        ledgers = w.ledgers()
        doctor = w.address("doctor")
        key_id = credential_id(doctor, CredentialKind.LICENCE, 0)
        if issued:
            now = w.chain.now()
            ledgers["authority"].credentials.issue(doctor, "licence", valid_from=now, valid_until=now + DAY)
        if not issuer_keeps_role:
            ledgers["admin"].consortium.remove_licensing_authority(w.address("authority"))
        status = CredentialStatus.ACTIVE if issued else CredentialStatus.NONE
        for action, caller in calls:
            by_regulator = caller == "regulator"
            by_issuer = caller == "authority" and issuer_keeps_role
            if action == "lift":
                error = lift_error(status, by_regulator=by_regulator)
                send = ledgers[caller].credentials.lift_regulator_hold
            else:
                error = management_error(action, status, by_issuer=by_issuer, by_regulator=by_regulator)
                send = getattr(ledgers[caller].credentials, action)
            if error is None:
                send(key_id)
                status = status_after(action, by_regulator, status)
            else:
                with pytest.raises(error):
                    send(key_id)
            assert ledgers["outsider"].credentials.get(key_id).status is status


@settings(max_examples=30, deadline=None)
@given(subject=st.binary(min_size=20, max_size=20), kind=kinds, scope=st.integers(0, 2**64 - 1))
def test_client_credential_id_matches_the_contract(
    subject: bytes, kind: CredentialKind, scope: int
) -> None:
    address = to_checksum_address(subject)
    contract = world().ledgers()["outsider"].credentials.contract
    on_chain = contract.functions.credentialId(address, kind, scope).call()
    assert credential_id(address, kind, scope) == on_chain
