"""Property tests of RecordRegistry's version rules, against a Python model of one patient's labs.

Invariants guarded:

* A version is superseded only by its author, by the institution it was anchored for
  (``anchorRecordFor``, accepted only from a practitioner the institution employs now), or, for a
  record an institution anchored itself, by a practitioner employed there now; every other
  supersede, by any writer, is refused with ``NotRecordAuthor`` and changes nothing. The employment
  paths never apply to the record's own patient (employed by an institution too in the sequences):
  neither as the employee nor as the author. Employment comes and goes, and time moves.
* A patient's amendment never hides the record it amends: ``verify`` of every record answers what
  the model says (an amended record stays Current), a later amendment supersedes the earlier one
  only, and ``verifyWithAuthor`` names every record's author (``record`` the institution it was
  anchored for).

One embedded chain for the module; each example runs inside a snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache

import eth_tester  # noqa: F401  (imported before Hypothesis runs: py-evm raises the recursion limit)
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from medledger import errors
from medledger.chain import embedded
from medledger.client.records import content_hash
from medledger.deploy import deploy_suite
from medledger.identity import identity_commitment, public_key
from medledger.types import InstitutionKind, RecordCategory, RecordKind, RecordStatus
from tests.helpers import World, assert_refused_unchanged

DAY = 24 * 3600
NAMES = ("admin", "authority", "hospital", "clinic", "doctor", "nurse", "outsider", "patient")
INSTITUTIONS = ("hospital", "clinic")
PRACTITIONERS = ("doctor", "nurse")
WRITERS = (*INSTITUTIONS, *PRACTITIONERS, "patient")
CREDENTIALS = {"doctor": "licence", "nurse": "nurse", "hospital": "accreditation", "clinic": "accreditation"}
LABS = RecordCategory.LABS


@cache
def world() -> World:
    """Credentialed hospital, clinic, doctor and nurse, each with a grant to write the patient's labs;
    chain time moved past the wall clock so that every transaction lands after the latest block."""
    chain = embedded()
    signers = dict(zip(NAMES, chain.accounts, strict=False))
    deployment = deploy_suite(chain, signers["admin"])
    w = World(chain, deployment, signers)
    ml = w.ledgers()
    ml["admin"].consortium.add_licensing_authority(w.address("authority"))
    for name in INSTITUTIONS:
        ml["admin"].consortium.accredit(w.address(name), InstitutionKind.HOSPITAL)
    chain.advance_time(365 * DAY)
    now = chain.now()
    for name, kind in CREDENTIALS.items():
        ml["authority"].credentials.issue(w.address(name), kind, valid_from=now - 1, valid_until=now + 3 * 365 * DAY)
    patient = w.address("patient")
    ml["patient"].patients.register(identity_commitment({"name": "rec"}, b"\x01" * 32), public_key(b"\x02" * 32))
    for name in (*INSTITUTIONS, *PRACTITIONERS):
        ml["patient"].consent.grant(patient, w.address(name), [LABS], write_categories=[LABS],
                                    valid_until=now + 3 * 365 * DAY)  # fmt: skip
    assert chain.now() > time.time() + 300 * DAY
    return w


@dataclass(frozen=True)
class ModelRecord:
    author: str  # a name
    anchored_at: int
    kind: RecordKind
    superseded: bool = False
    latest_amendment: bytes | None = None
    amends: bytes | None = None
    acting_for: str | None = None  # the institution it was anchored for (a name)


EMPLOYEES = (*PRACTITIONERS, "patient")  # the patient works at an institution too, in some runs
ACTING_FOR = (None, None, *INSTITUTIONS)  # two plain anchors in four


class RecordVersions(RuleBasedStateMachine):
    """Random anchor / supersede / amend / employment / time sequences."""

    def __init__(self) -> None:
        super().__init__()
        self.world = world()
        self.chain = self.world.chain
        self.snapshot = self.chain.snapshot()
        self.ml = self.world.ledgers()
        self.patient = self.world.address("patient")
        self.records: dict[bytes, ModelRecord] = {}
        self.employed_since: dict[tuple[str, str], int] = {}  # (practitioner, institution) → since
        self.counter = 0

    def teardown(self) -> None:
        self.chain.revert(self.snapshot)

    # ─── Helpers ─────────────────────────────────────────────────────────────────────────

    def new_id(self) -> bytes:
        self.counter += 1
        return content_hash(f"record {self.counter}".encode())

    def attempt(self, error: type[errors.ContractError] | None, send: Callable[[], object]) -> bool:
        if error is None:
            send()
            return True
        assert_refused_unchanged(self.chain, error, send)
        return False

    def acts_for(self, by: str, old: ModelRecord) -> bool:
        """The rule, as the model states it."""
        if by == old.author:
            return True
        if "patient" in (by, old.author):  # the patient's records are its own; it amends the others
            return False
        if old.acting_for is not None:  # the institution it was anchored for, and no one else
            return by == old.acting_for
        # a practitioner employed now by the authoring institution
        return old.author in INSTITUTIONS and (by, old.author) in self.employed_since

    def acting_error(self, by: str, acting_for: str | None) -> type[errors.ContractError] | None:
        """anchorRecordFor's own check: a practitioner employed by the institution now, never the patient."""
        if acting_for is None:
            return None
        return None if by in PRACTITIONERS and (by, acting_for) in self.employed_since else errors.NotActingFor

    def anchored(self, record: bytes) -> int:
        return self.ml["outsider"].records.get(record).anchored_at

    # ─── Rules ───────────────────────────────────────────────────────────────────────────

    @initialize()
    def a_record_older_than_its_authors_employment(self) -> None:
        """Every run starts with the nurse's record and, a minute later, the nurse hired by the
        hospital: the hospital must not supersede what the nurse wrote before it employed her."""
        self.anchor("nurse")
        self.wait(60)
        self.employ("nurse", "hospital")

    @rule(by=st.sampled_from(WRITERS), acting_for=st.sampled_from(ACTING_FOR))
    def anchor(self, by: str, acting_for: str | None = None) -> None:
        record = self.new_id()
        address = None if acting_for is None else self.world.address(acting_for)
        if self.attempt(self.acting_error(by, acting_for), lambda: self.ml[by].records.anchor(
                self.patient, LABS, record, "vault://r", acting_for=address)):  # fmt: skip
            self.records[record] = ModelRecord(by, self.anchored(record), RecordKind.ENTRY, acting_for=acting_for)

    @precondition(lambda self: bool(self.records))
    @rule(by=st.sampled_from(WRITERS), pick=st.integers(0, 10**6), acting_for=st.sampled_from(ACTING_FOR))
    def supersede(self, by: str, pick: int, acting_for: str | None) -> None:
        previous = sorted(self.records)[pick % len(self.records)]
        old = self.records[previous]
        error = self.acting_error(by, acting_for)
        if error is not None:
            pass
        elif old.kind is RecordKind.AMENDMENT:
            error = errors.AmendmentNotSupersedable
        elif old.superseded:
            error = errors.RecordAlreadySuperseded
        elif not self.acts_for(by, old):
            error = errors.NotRecordAuthor
        record = self.new_id()
        address = None if acting_for is None else self.world.address(acting_for)
        if self.attempt(error, lambda: self.ml[by].records.anchor(
                self.patient, LABS, record, "vault://r", supersedes=previous, acting_for=address)):  # fmt: skip
            self.records[previous] = replace(old, superseded=True)
            self.records[record] = ModelRecord(by, self.anchored(record), RecordKind.ENTRY, acting_for=acting_for)

    @precondition(lambda self: bool(self.records))
    @rule(pick=st.integers(0, 10**6))
    def amend(self, pick: int) -> None:
        original = sorted(self.records)[pick % len(self.records)]
        old = self.records[original]
        amendable = old.kind is RecordKind.ENTRY and old.author != "patient"
        record = self.new_id()
        if self.attempt(None if amendable else errors.NotAmendable,
                        lambda: self.ml["patient"].records.amend(original, record, "vault://a")):  # fmt: skip
            if old.latest_amendment is not None:
                self.records[old.latest_amendment] = replace(self.records[old.latest_amendment], superseded=True)
            self.records[original] = replace(old, latest_amendment=record)
            self.records[record] = ModelRecord("patient", self.anchored(record), RecordKind.AMENDMENT, amends=original)

    @rule(practitioner=st.sampled_from(EMPLOYEES), institution=st.sampled_from(INSTITUTIONS))
    def employ(self, practitioner: str, institution: str) -> None:
        if (practitioner, institution) in self.employed_since:
            return
        self.ml[institution].credentials.offer_employment(self.world.address(practitioner))
        self.ml[practitioner].credentials.accept_employment(self.world.address(institution))
        since = self.ml["outsider"].credentials.employment(self.world.address(practitioner),
                                                            self.world.address(institution)).since  # fmt: skip
        self.employed_since[(practitioner, institution)] = since

    @rule(practitioner=st.sampled_from(EMPLOYEES), institution=st.sampled_from(INSTITUTIONS))
    def end_employment(self, practitioner: str, institution: str) -> None:
        if self.employed_since.pop((practitioner, institution), None) is not None:
            self.ml[practitioner].credentials.end_employment(self.world.address(practitioner),
                                                             self.world.address(institution))  # fmt: skip

    @rule(seconds=st.integers(1, DAY))
    def wait(self, seconds: int) -> None:
        self.chain.advance_time(seconds)

    # ─── Invariants ──────────────────────────────────────────────────────────────────────

    @invariant()
    def every_record_is_as_the_model_says(self) -> None:
        records = self.ml["outsider"].records
        for record, model in self.records.items():
            expected = RecordStatus.SUPERSEDED if model.superseded else RecordStatus.CURRENT
            assert records.verify_with_author(record) == (expected, self.world.address(model.author))
            stored = records.get(record)
            assert (stored.kind, stored.latest_amendment) == (model.kind, model.latest_amendment)
            acting_for = None if model.acting_for is None else self.world.address(model.acting_for)
            assert stored.acting_for == acting_for


RecordVersions.TestCase.settings = settings(max_examples=12, stateful_step_count=15, deadline=None)
TestRecordVersions = RecordVersions.TestCase
