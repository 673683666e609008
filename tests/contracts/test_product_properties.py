"""Property test of ProductRegistry against a model: a GTIN belongs to the holder of its GS1 company prefix.

Random sequences of prefix assignments and withdrawals (by regulators, the admin and others),
product registrations by two manufacturers, voids and batch registrations. After every step:

* assigned prefixes never overlap, and the chain finds for every GTIN the one the model expects;
* a product's live registration is the model's, made by the holder of its prefix at the time;
* a manufacturer whose registration of a GTIN was voided never holds it live again;
* only the manufacturer with the live registration that holds the GTIN's prefix now registers a
  batch (a former prefix holder mints none); the new holder takes a former holder's live
  registration over;
* a batch verifies exactly while the registration it was registered under is live or was handed
  over at a prefix transfer (after a void, never again, even when the GTIN is registered anew).

The prefixes nest (9506, 950600, 9506000, 95060001) and include a leading-zero twin (0950600), so
overlaps and the walk over lengths come up in most runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import eth_tester  # noqa: F401  (imported before Hypothesis runs: py-evm raises the recursion limit)
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from medledger import errors
from medledger.chain import embedded
from medledger.client.batches import batch_id
from medledger.client.products import parse_gtin
from medledger.deploy import deploy_suite
from medledger.gs1 import CompanyPrefix, parse_company_prefix
from medledger.types import BatchValidity, InstitutionKind
from tests.helpers import World, assert_refused_unchanged

DAY = 24 * 3600
ZERO = "0x" + "00" * 20
NAMES = ("admin", "regulator", "authority", "m1", "m2", "pharmacy", "outsider")
MAKERS = ("m1", "m2")
PREFIXES = tuple(parse_company_prefix(p) for p in ("9506", "950600", "9506000", "95060001", "0950600", "4006381"))
# Under 95060001 (and so 9506000, 950600, 9506); under 9506000 but not 95060001; under 0950600; under 4006381.
GTINS = ("09506000134352", "09506000200002", "00950600000002", "04006381333931")


@cache
def world() -> World:
    chain = embedded()
    w = World(chain, deploy_suite(chain, chain.accounts[0]), dict(zip(NAMES, chain.accounts, strict=False)))
    ml = w.ledgers()
    ml["admin"].consortium.add_regulator(w.address("regulator"))
    ml["admin"].consortium.add_licensing_authority(w.address("authority"))
    now = chain.now()
    for name in MAKERS:
        ml["admin"].consortium.accredit(w.address(name), InstitutionKind.MANUFACTURER)
        ml["authority"].credentials.issue(w.address(name), "accreditation", valid_from=now - 1, valid_until=now + 3 * 365 * DAY)
    ml["admin"].consortium.accredit(w.address("pharmacy"), InstitutionKind.PHARMACY)
    return w


def overlaps(a: CompanyPrefix, b: CompanyPrefix) -> bool:
    return a.digits.startswith(b.digits) or b.digits.startswith(a.digits)


@dataclass
class Model:
    prefixes: dict[CompanyPrefix, str] = field(default_factory=dict)  # assigned prefix → holder
    products: dict[str, tuple[str, bool]] = field(default_factory=dict)  # gtin → (registrant, voided)
    voided: set[tuple[str, str]] = field(default_factory=set)  # (gtin, manufacturer) whose registration was voided
    handed_over: set[tuple[str, str]] = field(default_factory=set)  # (gtin, manufacturer) taken over, not voided
    batches: list[tuple[bytes, str, str]] = field(default_factory=list)  # (batch id, gtin, manufacturer)

    def owner(self, gtin: str) -> tuple[CompanyPrefix, str] | None:
        found = [(p, holder) for p, holder in self.prefixes.items() if p.contains(parse_gtin(gtin))]
        assert len(found) <= 1  # prefixes never overlap, so a GTIN has at most one owner
        return found[0] if found else None

    def live(self, gtin: str) -> str | None:
        registrant, voided = self.products.get(gtin, (None, False))
        return None if voided else registrant


class ProductOwnership(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = world()
        self.chain = self.world.chain
        self.snapshot = self.chain.snapshot()
        self.ml = self.world.ledgers()
        self.model = Model()

    def teardown(self) -> None:
        self.chain.revert(self.snapshot)

    def attempt(self, error: type[errors.ContractError] | None, send: Callable[[], object]) -> bool:
        if error is None:
            send()
            return True
        assert_refused_unchanged(self.chain, error, send)
        return False

    def name_of(self, address: str) -> str:
        return next(name for name in NAMES if self.world.address(name) == address)

    @initialize(first=st.sampled_from(MAKERS))
    def each_maker_holds_a_prefix(self, first: str) -> None:
        """Start with 9506000 and 4006381 assigned, so registrations and voids come up in every run."""
        other = "m2" if first == "m1" else "m1"
        for prefix, holder in ((PREFIXES[2], first), (PREFIXES[5], other)):
            self.assign(prefix, holder, "regulator")

    @rule(gtin=st.sampled_from(GTINS))
    def hand_over(self, gtin: str) -> None:
        """A regulator moves the prefix of ``gtin`` to the other manufacturer (the squatter case)."""
        owner = self.model.owner(gtin)
        if owner is None:
            return
        self.unassign(owner[0], "regulator")
        self.assign(owner[0], "m2" if owner[1] == "m1" else "m1", "regulator")

    @rule(prefix=st.sampled_from(PREFIXES), to=st.sampled_from(("m1", "m2", "m1", "m2", "pharmacy")),
          by=st.sampled_from(("regulator", "regulator", "admin", "m1", "outsider")))  # fmt: skip
    def assign(self, prefix: CompanyPrefix, to: str, by: str) -> None:
        m = self.model
        error: type[errors.ContractError] | None = None
        if by not in ("regulator", "admin"):
            error = errors.NotAdminOrRegulator
        elif to == "pharmacy":
            error = errors.NotManufacturer
        elif prefix in m.prefixes:
            error = errors.CompanyPrefixAlreadyAssigned
        elif any(overlaps(prefix, other) for other in m.prefixes):
            error = errors.CompanyPrefixOverlaps
        if self.attempt(error, lambda: self.ml[by].products.assign_prefix(prefix, self.world.address(to))):
            event("prefix assigned")
            m.prefixes[prefix] = to

    @rule(prefix=st.sampled_from(PREFIXES), by=st.sampled_from(("regulator", "admin", "m2")))
    def unassign(self, prefix: CompanyPrefix, by: str) -> None:
        error: type[errors.ContractError] | None = None
        if by not in ("regulator", "admin"):
            error = errors.NotAdminOrRegulator
        elif prefix not in self.model.prefixes:
            error = errors.CompanyPrefixNotAssigned
        if self.attempt(error, lambda: self.ml[by].products.unassign_prefix(prefix)):
            event("prefix unassigned")
            del self.model.prefixes[prefix]

    @rule(gtin=st.sampled_from(GTINS), by=st.sampled_from(("holder", "holder", *MAKERS)))
    def register(self, gtin: str, by: str) -> None:
        """Mostly by the holder of the GTIN's prefix, sometimes by whichever manufacturer (a squatter)."""
        m = self.model
        owner = m.owner(gtin)
        if by == "holder":
            by = owner[1] if owner else "m1"
        live = m.live(gtin)
        error: type[errors.ContractError] | None = None
        if owner is None or owner[1] != by:
            error = errors.GtinNotInCompanyPrefix
        elif (gtin, by) in m.voided:
            error = errors.RegistrationVoided
        elif live == by:
            error = errors.ProductAlreadyRegistered
        if self.attempt(error, lambda: self.ml[by].products.register(gtin, f"Product {gtin}")):
            if live is not None:  # a former prefix holder's live registration: taken over
                event("taken over")
                m.handed_over.add((gtin, live))
            else:
                event("registered again after a void" if gtin in m.products else "registered")
            m.products[gtin] = (by, False)

    @rule(gtin=st.sampled_from(GTINS), by=st.sampled_from(("regulator", "regulator", "admin")))
    def void(self, gtin: str, by: str) -> None:
        m = self.model
        error: type[errors.ContractError] | None = None
        if by != "regulator":
            error = errors.NotRegulator
        elif gtin not in m.products:
            error = errors.ProductNotFound
        elif m.products[gtin][1]:
            error = errors.ProductAlreadyVoided
        if self.attempt(error, lambda: self.ml[by].products.void(gtin, 1)):
            event("voided")
            registrant = m.products[gtin][0]
            m.products[gtin] = (registrant, True)
            m.voided.add((gtin, registrant))
            m.handed_over.discard((gtin, registrant))

    @rule(gtin=st.sampled_from(GTINS), by=st.sampled_from(("registrant", *MAKERS)))
    def register_batch(self, gtin: str, by: str) -> None:
        m = self.model
        live = m.live(gtin)
        if by == "registrant":
            by = live or "m2"
        error: type[errors.ContractError] | None = None
        if live is None:
            error = errors.ProductNotFound
        elif live != by:
            error = errors.NotProductManufacturer
        elif (owner := m.owner(gtin)) is None or owner[1] != by:
            error = errors.GtinNotInCompanyPrefix  # a former prefix holder mints no new batch
        lot = f"L{len(m.batches)}"
        now = self.chain.now()
        send = lambda: self.ml[by].batches.register(gtin, lot, quantity=5, manufactured_on=now - DAY,  # noqa: E731
                                                    expires_on=now + 365 * DAY, serial_root=b"\x01" * 32)  # fmt: skip
        if self.attempt(error, send):
            m.batches.append((batch_id(gtin, lot), gtin, by))

    # ─── Invariants ──────────────────────────────────────────────────────────────────────

    @invariant()
    def every_gtin_has_the_models_owner_and_registration(self) -> None:
        products = self.ml["outsider"].products
        for gtin in GTINS:
            owner = self.model.owner(gtin)
            length, value, holder = products.contract.functions.companyPrefixOf(parse_gtin(gtin)).call()
            assert (CompanyPrefix(length, value), self.name_of(holder)) == owner if owner else holder == ZERO
            stored = products.get(gtin)
            registrant, voided = self.model.products.get(gtin, (None, False))
            assert (stored.manufacturer if stored.exists else None, stored.voided) == (
                self.world.address(registrant) if registrant else None, voided)
            live = self.model.live(gtin)
            assert (live is None) or (gtin, live) not in self.model.voided  # a voided registrant never again

    @invariant()
    def a_batch_verifies_only_while_its_registration_is_live_or_handed_over(self) -> None:
        batches = self.ml["outsider"].batches
        for key, gtin, maker in self.model.batches:
            stands = self.model.live(gtin) == maker or (gtin, maker) in self.model.handed_over
            expected = BatchValidity.VERIFIED if stands else BatchValidity.PRODUCT_VOIDED
            assert batches.verify(key) is expected


ProductOwnership.TestCase.settings = settings(max_examples=10, stateful_step_count=20, deadline=None)
TestProductOwnership = ProductOwnership.TestCase
