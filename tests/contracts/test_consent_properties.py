"""Property tests of ConsentManager, against a Python model of one patient's grants.

Invariants guarded:

* A revoked or expired grant never passes ``canAccess``; neither does a grant whose grantee lost
  its credential (suspended here by a regulator), and ``canAccess`` answers exactly what the
  model says for every grantee.
* A referral never widens its grant: its categories, write categories and end are within the
  referring grant's, and ending the referring grant (revoked or replaced) ends the referral.
* No call by a wrong caller, and no call in a wrong state, changes anything: it raises its typed
  error, no block is mined, and every stored grant still matches the model.
* No signature works twice, after its deadline, on another chain id or at another contract.

One embedded chain for the module; each example runs inside a snapshot.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import eth_tester  # noqa: F401  (imported before Hypothesis runs: py-evm raises the recursion limit)
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from medledger import consent, errors
from medledger.chain import embedded
from medledger.deploy import deploy_suite
from medledger.identity import identity_commitment, public_key
from medledger.types import ALL_CATEGORIES, InstitutionKind, RecordCategory
from tests.helpers import World, assert_refused_unchanged

DAY = 24 * 3600
HOUR = 3600
NAMES = ("admin", "regulator", "authority", "hospital", "clinic", "doctor", "nurse", "outsider", "patient", "guardian")
GRANTEES = ("doctor", "nurse", "hospital", "clinic", "outsider")
CREDENTIALS = {"doctor": "licence", "nurse": "nurse", "hospital": "accreditation", "clinic": "accreditation"}
INSTITUTIONS = ("hospital", "clinic")


@cache
def world() -> World:
    """A deployment with credentialed doctor, nurse, hospital and clinic, a registered patient with a
    guardian; chain time moved past the wall clock so every transaction lands one second after the
    latest block (see test_credential_properties)."""
    chain = embedded()
    signers = dict(zip(NAMES, chain.accounts, strict=True))
    deployment = deploy_suite(chain, signers["admin"])
    w = World(chain, deployment, signers)
    ml = w.ledgers()
    ml["admin"].consortium.add_regulator(w.address("regulator"))
    ml["admin"].consortium.add_licensing_authority(w.address("authority"))
    for name in INSTITUTIONS:
        ml["admin"].consortium.accredit(w.address(name), InstitutionKind.HOSPITAL)
    chain.advance_time(365 * DAY)
    now = chain.now()
    for name, kind in CREDENTIALS.items():
        ml["authority"].credentials.issue(w.address(name), kind, valid_from=now - 1, valid_until=now + 3 * 365 * DAY)
    ml["patient"].patients.register(identity_commitment({"name": "prop"}, b"\x01" * 32), public_key(b"\x02" * 32))
    ml["patient"].patients.appoint_delegate(w.address("guardian"), now + 3 * 365 * DAY)
    assert chain.now() > time.time() + 300 * DAY
    return w


@dataclass(frozen=True)
class ModelGrant:
    categories: int
    write: int
    purpose: int
    valid_until: int
    referral_allowed: bool
    referred_by: str  # a name, or "" for the patient's own grant


def bit(category: int) -> int:
    return 1 << category


# Mostly valid values, sometimes invalid ones, so that both calls that go through and calls that
# must fail come up in every run.
masks = st.one_of(st.integers(1, ALL_CATEGORIES), st.integers(1, ALL_CATEGORIES), st.sampled_from([0, 1 << 12, 1 << 15]))
ends = st.one_of(st.integers(1, 3 * DAY), st.integers(1, 3 * DAY), st.integers(-2 * HOUR, 0))
actors = st.sampled_from(("patient", "patient", "guardian", "outsider", "doctor"))


class ConsentLifecycle(RuleBasedStateMachine):
    """Random grant / revoke / refer / credential suspension / time sequences."""

    def __init__(self) -> None:
        super().__init__()
        self.world = world()
        self.chain = self.world.chain
        self.snapshot = self.chain.snapshot()
        self.ml = self.world.ledgers()
        self.patient = self.world.address("patient")
        self.grants: dict[str, ModelGrant] = {}
        self.referrals: dict[str, str] = {}
        self.credentialed = {name: name in CREDENTIALS for name in GRANTEES}
        self.steps = 0

    def teardown(self) -> None:
        self.chain.revert(self.snapshot)

    # ─── Helpers ─────────────────────────────────────────────────────────────────────────

    def tx_time(self) -> int:
        return self.chain.now() + 1

    def send(self, caller: str, name: str, *args: object) -> None:
        ledger = self.ml[caller]
        function = ledger.consent.contract.get_function_by_name(name)(*args)
        ledger.transactor.send(function, ledger.signer)

    def attempt(self, error: type[errors.ContractError] | None, send: Callable[[], None]) -> bool:
        if error is None:
            send()
            return True
        # No block is mined, so nothing changed; the invariant then compares every grant anyway.
        assert_refused_unchanged(self.chain, error, send)
        return False

    def end_referral(self, referrer: str) -> None:
        institution = self.referrals.pop(referrer, None)
        if institution and (g := self.grants.get(institution)) and g.referred_by == referrer:
            del self.grants[institution]

    # ─── Rules ───────────────────────────────────────────────────────────────────────────

    @initialize(categories=st.integers(1, ALL_CATEGORIES), write=masks)
    def grants_with_referral(self, categories: int, write: int) -> None:
        """Every run starts with grants that allow a referral, so referrals get exercised."""
        self.grant("patient", "doctor", ALL_CATEGORIES, write & ALL_CATEGORIES or 1, 2 * DAY, True, 0)
        self.grant("patient", "nurse", categories, write & categories, DAY, True, 3)

    @rule(by=actors, grantee=st.sampled_from(GRANTEES), categories=masks, write=masks, end=ends,
          referral=st.booleans(), purpose=st.integers(0, 7))  # fmt: skip
    def grant(self, by: str, grantee: str, categories: int, write: int, end: int, referral: bool, purpose: int) -> None:
        now = self.tx_time()
        write = write & categories if write % 3 else write  # mostly within the categories, sometimes not
        error: type[errors.ContractError] | None = None
        if by not in ("patient", "guardian"):
            error = errors.NotPatientOrDelegate
        elif categories == 0 or categories & ~ALL_CATEGORIES or write & ~categories:
            error = errors.InvalidCategories
        elif end <= 0:
            error = errors.InvalidExpiry
        terms = (self.world.address(grantee), categories, write, purpose, now + end, referral)
        if self.attempt(error, lambda: self.send(by, "grantAccess", self.patient, terms)):
            event("grant made")
            if grantee in self.grants:
                self.end_referral(grantee)
            self.grants[grantee] = ModelGrant(categories, write, purpose, now + end, referral, "")

    @rule(by=actors, grantee=st.sampled_from(GRANTEES))
    def revoke(self, by: str, grantee: str) -> None:
        error: type[errors.ContractError] | None = None
        if by not in ("patient", "guardian"):
            error = errors.NotPatientOrDelegate
        elif grantee not in self.grants:
            error = errors.GrantNotFound
        if self.attempt(error, lambda: self.send(by, "revokeAccess", self.patient, self.world.address(grantee))):
            del self.grants[grantee]
            self.end_referral(grantee)

    @rule(referrer=st.sampled_from(("doctor", "doctor", "nurse", "nurse", "hospital", "outsider")),
          institution=st.sampled_from(("hospital", "clinic", "clinic", "nurse")),
          categories=masks, write=masks, end=ends)  # fmt: skip
    def refer(self, referrer: str, institution: str, categories: int, write: int, end: int) -> None:
        now = self.tx_time()
        original = self.grants.get(referrer)
        if original and categories % 4:  # mostly a subset of the original, so referrals go through
            categories &= original.categories
            write &= original.write if write % 3 else ALL_CATEGORIES
        # Ends near the original's end hit both sides of the boundary.
        beyond = 1 if end % 5 == 0 else 0
        valid_until = (original.valid_until - end % 7 + beyond) if original and end % 3 else now + end
        target = self.grants.get(institution)
        error: type[errors.ContractError] | None = None
        if original is None:
            error = errors.GrantNotFound
        elif original.valid_until <= now:
            error = errors.GrantExpired
        elif not original.referral_allowed or referrer in self.referrals:
            error = errors.ReferralNotAllowed
        elif not self.credentialed[referrer]:
            error = errors.NotCredentialed
        elif institution not in INSTITUTIONS or not self.credentialed[institution]:
            error = errors.NotCredentialedInstitution
        elif categories == 0 or categories & ~original.categories:
            error = errors.InvalidCategories
        elif write & ~(categories & original.write):
            error = errors.InvalidCategories
        elif valid_until <= now or valid_until > original.valid_until:
            error = errors.InvalidExpiry
        elif target is not None and target.valid_until > now:
            error = errors.GrantAlreadyExists
        event(f"refer: {error.__name__ if error else 'made'}")
        args = (self.patient, self.world.address(institution), categories, write, valid_until)
        if self.attempt(error, lambda: self.send(referrer, "refer", *args)):
            assert original is not None
            if target is not None:
                self.end_referral(institution)
            self.referrals[referrer] = institution
            self.grants[institution] = ModelGrant(categories, write, original.purpose, valid_until, False, referrer)
            # the property itself: never wider than the grant it came from
            assert categories & ~original.categories == 0 and valid_until <= original.valid_until
            event("referral made")

    @rule(hours=st.integers(0, 30), toggled=st.sampled_from((None, None, *CREDENTIALS)))
    def time_passes(self, hours: int, toggled: str | None) -> None:
        """Time moves on, and a regulator may suspend (or reinstate) one grantee's credential."""
        if hours:
            self.chain.advance_time(hours * HOUR)
        if toggled is None:
            return
        credentials = self.ml["regulator"].credentials
        credential = credentials.credential_id(self.world.address(toggled), CREDENTIALS[toggled])
        if self.credentialed[toggled]:
            credentials.suspend(credential, 1)
        else:
            credentials.reinstate(credential)
        self.credentialed[toggled] = not self.credentialed[toggled]

    # ─── Invariants ──────────────────────────────────────────────────────────────────────

    def stored_grants_match(self) -> None:
        reader = self.ml["outsider"].consent
        for name in GRANTEES:
            stored = reader.grant_of(self.patient, self.world.address(name))
            model = self.grants.get(name)
            if model is None:
                assert not stored.exists, name
                continue
            mask = sum(bit(c) for c in stored.categories)
            write = sum(bit(c) for c in stored.write_categories)
            referred_by = self.world.address(model.referred_by) if model.referred_by else None
            assert (mask, write, int(stored.purpose), stored.valid_until, stored.referral_allowed,
                    stored.referred_by) == (model.categories, model.write, model.purpose, model.valid_until,
                                            model.referral_allowed, referred_by)  # fmt: skip

    @invariant()
    def access_is_exactly_the_model(self) -> None:
        self.steps += 1
        self.stored_grants_match()
        now = self.chain.now()
        reader = self.ml["outsider"].consent
        for offset, name in enumerate(GRANTEES):
            category = RecordCategory((self.steps + offset) % len(RecordCategory))
            model = self.grants.get(name)
            expected = bool(
                model and model.valid_until > now and model.categories & bit(category) and self.credentialed[name]
            )
            assert reader.can_access(self.world.address(name), self.patient, category) == expected, (name, category)


ConsentLifecycle.TestCase.settings = settings(max_examples=12, stateful_step_count=15, deadline=None)
TestConsentLifecycle = ConsentLifecycle.TestCase


# ─── Signatures ──────────────────────────────────────────────────────────────────────────────


@settings(max_examples=12, deadline=None)
@given(
    chain_shift=st.sampled_from([0, 0, 1, 31337]),
    other_contract=st.booleans(),
    deadline_offset=st.sampled_from([-2, 5, 60, DAY]),
    kind=st.sampled_from(["Grant", "Revoke"]),
)
def test_a_signature_works_once_on_its_own_chain_and_contract_before_its_deadline(
    chain_shift: int, other_contract: bool, deadline_offset: int, kind: str
) -> None:
    w = world()
    snapshot = w.chain.snapshot()
    try:
        ml = w.ledgers()
        patient, doctor = w.address("patient"), w.address("doctor")
        now = w.chain.now()
        if kind == "Revoke":
            ml["patient"].consent.grant(patient, doctor, "labs", valid_until=now + DAY)
        domain = ml["patient"].consent.domain()
        domain = dataclasses.replace(domain, chain_id=domain.chain_id + chain_shift)
        if other_contract:
            domain = dataclasses.replace(domain, verifying_contract=ml["patient"].patients.address)
        nonce = ml["patient"].consent.nonce(patient)
        deadline = w.chain.now() + 1 + deadline_offset  # relative to the relaying transaction's time
        message: dict[str, object] = {"patient": patient, "grantee": doctor, "nonce": nonce, "deadline": deadline}
        if kind == "Grant":
            message |= {"categories": 2, "writeCategories": 0, "purpose": 0, "validUntil": now + DAY,
                        "referralAllowed": False}  # fmt: skip
        signed = consent.sign_message(domain, kind, message, w.signers["patient"])
        tail = (patient, nonce, deadline, signed.signature)
        if kind == "Grant":
            function = ml["outsider"].consent.contract.functions.grantAccessWithSignature(
                patient, (doctor, 2, 0, 0, now + DAY, False), *tail)  # fmt: skip
        else:
            function = ml["outsider"].consent.contract.functions.revokeAccessWithSignature(patient, doctor, *tail)

        def relay() -> None:
            ml["outsider"].transactor.send(function, w.signers["outsider"])

        expired = deadline_offset < 0
        foreign = chain_shift != 0 or other_contract
        if expired:
            with pytest.raises(errors.SignatureExpired):
                relay()
        elif foreign:
            with pytest.raises(errors.InvalidSignature):
                relay()
        else:
            relay()
            assert ml["outsider"].consent.nonce(patient) == nonce + 1
            with pytest.raises(errors.InvalidAccountNonce):
                relay()
        granted = ml["outsider"].consent.grant_of(patient, doctor).exists
        assert granted == ((kind == "Grant") == (not expired and not foreign))
    finally:
        w.chain.revert(snapshot)
