"""Sub-client of ConsentManager: grants by transaction or signature, revocations, referrals, checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from web3.contract.contract import ContractFunction

from medledger import consent
from medledger.client.base import SubClient, checksum, uint
from medledger.client.patients import deadline_from
from medledger.errors import InvalidInput, MedLedgerError, PartialCancellation
from medledger.transactions import Receipt
from medledger.types import AccessBasis, Categories, Purpose, RecordCategory, categories_in, category_mask

ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class Cancellation:
    """A patient's signatures voided in both contracts that accept them, one transaction each."""

    patient: str
    consent: Receipt  # ConsentManager: signed grants and revocations
    patients: Receipt  # PatientRegistry: signed MRN-link consents


@dataclass(frozen=True)
class Grant:
    """A patient's grant to one grantee, as stored on chain."""

    patient: str
    grantee: str
    categories: list[RecordCategory]
    write_categories: list[RecordCategory]
    purpose: Purpose
    valid_until: int  # unix seconds, exclusive; 0 when there is no grant
    referral_allowed: bool
    referred_by: str | None  # the referring grantee, for a grant made by a referral

    @property
    def exists(self) -> bool:
        return self.valid_until != 0

    def live_at(self, timestamp: int) -> bool:
        """Whether the grant's own terms hold at ``timestamp`` (credentials are checked separately)."""
        return self.valid_until > timestamp


@dataclass(frozen=True)
class GrantTerms:
    """What a patient grants: the arguments of ``grantAccess`` and of a signed ``Grant``."""

    grantee: str
    categories: int  # mask
    write_categories: int  # mask, within categories
    purpose: Purpose
    valid_until: int
    referral_allowed: bool = False

    @classmethod
    def build(
        cls,
        grantee: str,
        categories: Categories,
        *,
        purpose: Purpose | str | int = Purpose.TREATMENT,
        valid_until: int,
        write_categories: Categories = 0,
        referral_allowed: bool = False,
    ) -> GrantTerms:
        read = category_mask(categories)
        write = category_mask(write_categories)
        if read == 0:
            raise InvalidInput("a grant needs at least one record category")
        if write & ~read:
            raise InvalidInput("write categories must be among the granted categories")
        return cls(
            checksum(grantee, "grantee"),
            read,
            write,
            Purpose.parse(purpose) if not isinstance(purpose, Purpose) else purpose,
            uint(valid_until, 40, "grant end"),
            bool(referral_allowed),
        )

    def as_message(self) -> dict[str, Any]:
        """The terms as the fields of an EIP-712 ``Grant`` (nonce and deadline apart)."""
        return {
            "grantee": self.grantee,
            "categories": self.categories,
            "writeCategories": self.write_categories,
            "purpose": int(self.purpose),
            "validUntil": self.valid_until,
            "referralAllowed": self.referral_allowed,
        }

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> GrantTerms:
        """The terms of a signed ``Grant``, checked as :meth:`build` checks them."""
        return cls.build(
            message["grantee"], int(message["categories"]), purpose=int(message["purpose"]),
            valid_until=int(message["validUntil"]), write_categories=int(message["writeCategories"]),
            referral_allowed=bool(message["referralAllowed"]),
        )  # fmt: skip

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.grantee, self.categories, self.write_categories, int(self.purpose), self.valid_until,
            self.referral_allowed,
        )  # fmt: skip


class ConsentClient(SubClient):
    contract_name = "ConsentManager"

    # ─── Grants ──────────────────────────────────────────────────────────────────────────

    def grant(
        self,
        patient: str,
        grantee: str,
        categories: Categories,
        *,
        purpose: Purpose | str | int = Purpose.TREATMENT,
        valid_until: int,
        write_categories: Categories = 0,
        referral_allowed: bool = False,
    ) -> Receipt:
        """Grant ``grantee`` access to ``patient``'s records (signer: the patient or a delegate)."""
        terms = GrantTerms.build(
            grantee, categories, purpose=purpose, valid_until=valid_until,
            write_categories=write_categories, referral_allowed=referral_allowed,
        )  # fmt: skip
        return self._send("grantAccess", checksum(patient, "patient"), terms.as_tuple())

    def grant_message(
        self,
        patient: str,
        grantee: str,
        categories: Categories,
        *,
        purpose: Purpose | str | int = Purpose.TREATMENT,
        valid_until: int,
        write_categories: Categories = 0,
        referral_allowed: bool = False,
        deadline: int | None = None,
        lifetime: int | None = None,
    ) -> dict[str, Any]:
        """The fields of an EIP-712 ``Grant`` by ``patient`` with its current nonce: what a wallet signs."""
        terms = GrantTerms.build(
            grantee, categories, purpose=purpose, valid_until=valid_until,
            write_categories=write_categories, referral_allowed=referral_allowed,
        )  # fmt: skip
        patient = checksum(patient, "patient")
        return {
            "patient": patient,
            **terms.as_message(),
            "nonce": self.nonce(patient),
            "deadline": deadline_from(self.block_time(), lifetime, deadline),
        }

    def grant_typed_data(self, patient: str, grantee: str, categories: Categories, **terms: Any) -> dict[str, Any]:
        """The full ``eth_signTypedData_v4`` typed data of a ``Grant``, for a wallet to sign
        (the wallet page asks for it; the signature then goes to a relayer)."""
        return consent.typed_data(self.domain(), "Grant", self.grant_message(patient, grantee, categories, **terms))

    def sign_grant(
        self, grantee: str, categories: Categories, *, patient: str | None = None, **terms: Any
    ) -> consent.SignedMessage:
        """The signer's EIP-712 ``Grant``, for anyone to relay; ``terms`` as :meth:`grant_message`
        takes them (``valid_until`` is required). A delegate passes ``patient``."""
        signer = self._ledger.require_signer()
        message = self.grant_message(patient or signer.address, grantee, categories, **terms)
        return consent.sign_message(self.domain(), "Grant", message, signer)

    def revoke(self, patient: str, grantee: str) -> Receipt:
        """Revoke ``grantee``'s access (and any referral it made)."""
        return self._send("revokeAccess", checksum(patient, "patient"), checksum(grantee, "grantee"))

    def sign_revoke(
        self, grantee: str, *, patient: str | None = None, deadline: int | None = None, lifetime: int | None = None
    ) -> consent.SignedMessage:
        """The signer's EIP-712 ``Revoke``, for anyone to relay."""
        signer = self._ledger.require_signer()
        patient = checksum(patient or signer.address, "patient")
        message = {
            "patient": patient,
            "grantee": checksum(grantee, "grantee"),
            "nonce": self.nonce(patient),
            "deadline": deadline_from(self.block_time(), lifetime, deadline),
        }
        return consent.sign_message(self.domain(), "Revoke", message, signer)

    def cancel_signatures(self, patient: str | None = None) -> Cancellation:
        """Void every signed consent of ``patient`` (default: the signer) not yet used, in every
        contract that accepts one: grants and revocations (ConsentManager) and MRN-link consents
        (PatientRegistry). Each contract keeps its own nonce, so this is two transactions; both are
        tried. If both fail, the first error is raised (nothing changed); if one fails,
        :class:`PartialCancellation` says which contract's signatures are void and which are not."""
        patient = checksum(patient or self._ledger.require_signer().address, "patient")
        cancelled: dict[str, Receipt] = {}
        failed: dict[str, MedLedgerError] = {}
        attempts: list[tuple[str, Callable[[], Receipt]]] = [
            ("ConsentManager", lambda: self._send("cancelSignatures", patient)),
            ("PatientRegistry", lambda: self._ledger.patients.cancel_signatures(patient)),
        ]
        for name, attempt in attempts:
            try:
                cancelled[name] = attempt()
            except MedLedgerError as exc:
                failed[name] = exc
        if failed and not cancelled:
            raise next(iter(failed.values()))
        if failed:
            raise PartialCancellation(cancelled, failed)
        return Cancellation(patient, cancelled["ConsentManager"], cancelled["PatientRegistry"])

    def relay(self, signed: consent.SignedMessage) -> Receipt:
        """Send a signed ``Grant`` or ``Revoke`` (the relayer pays the gas)."""
        return self._ledger.transactor.send(self.relay_call(signed), self._ledger.require_signer())

    def relay_call(self, signed: consent.SignedMessage) -> ContractFunction:
        """The contract call that relays a signed ``Grant`` or ``Revoke`` (to estimate, then send)."""
        self._check_domain(signed)
        m = signed.message
        patient = checksum(m["patient"], "patient")
        tail = (checksum(signed.signer, "signer"), int(m["nonce"]), int(m["deadline"]), signed.signature)
        functions = self.contract.functions
        if signed.primary_type == "Grant":
            terms = GrantTerms.from_message(m)
            return functions.grantAccessWithSignature(patient, terms.as_tuple(), *tail)
        if signed.primary_type == "Revoke":
            return functions.revokeAccessWithSignature(patient, checksum(m["grantee"], "grantee"), *tail)
        raise InvalidInput(f"a {signed.primary_type} is not a consent to relay here (expected Grant or Revoke)")

    def refer(
        self,
        patient: str,
        institution: str,
        categories: Categories,
        *,
        valid_until: int,
        write_categories: Categories = 0,
    ) -> Receipt:
        """The signing grantee refers ``patient`` to ``institution`` (once, within its own grant)."""
        return self._send(
            "refer",
            checksum(patient, "patient"),
            checksum(institution, "institution"),
            category_mask(categories),
            category_mask(write_categories),
            uint(valid_until, 40, "referral end"),
        )

    # ─── Views ───────────────────────────────────────────────────────────────────────────

    def grant_of(self, patient: str, grantee: str) -> Grant:
        patient, grantee = checksum(patient, "patient"), checksum(grantee, "grantee")
        referred_by, categories, write, purpose, valid_until, referral = self._call("grantOf", patient, grantee)
        return Grant(
            patient=patient,
            grantee=grantee,
            categories=categories_in(int(categories)),
            write_categories=categories_in(int(write)),
            purpose=Purpose(purpose),
            valid_until=int(valid_until),
            referral_allowed=bool(referral),
            referred_by=None if str(referred_by) == ZERO_ADDRESS else str(referred_by),
        )

    def referral_of(self, patient: str, referrer: str) -> str | None:
        found = str(self._call("referralOf", checksum(patient, "patient"), checksum(referrer, "referrer")))
        return None if found == ZERO_ADDRESS else found

    def can_access(self, grantee: str, patient: str, category: RecordCategory | str | int) -> bool:
        return bool(self._call("canAccess", *self._triple(grantee, patient, category)))

    def can_write(self, grantee: str, patient: str, category: RecordCategory | str | int) -> bool:
        return bool(self._call("canWrite", *self._triple(grantee, patient, category)))

    def access_basis(
        self, reader: str, patient: str, category: RecordCategory | str | int
    ) -> tuple[AccessBasis, Purpose]:
        basis, purpose = self._call("accessBasis", *self._triple(reader, patient, category))
        return AccessBasis(basis), Purpose(purpose)

    def fhir_consent(self, patient: str, grantee: str) -> dict[str, Any]:
        """The grant as a FHIR R4 Consent resource (JSON), with when and by whom it was granted."""
        from medledger import fhir

        grant = self.grant_of(patient, grantee)
        if not grant.exists:
            raise InvalidInput(f"{grant.patient} has no grant for {grant.grantee}")
        granted_at = granted_by = None
        found = self._events("AccessGranted", {"patient": grant.patient, "grantee": grant.grantee})
        if grant.referred_by is None and found:
            latest = found[-1]
            granted_by = str(latest["args"]["by"])
            granted_at = self.block_time(int(latest["blockNumber"]))
        now = self.block_time()
        return fhir.grant_consent(grant, self._ledger.transactor.chain_id, now=now, granted_at=granted_at,
                                  granted_by=granted_by)  # fmt: skip

    def nonce(self, patient: str) -> int:
        return int(self._call("nonces", checksum(patient, "patient")))

    def grants_of(self, patient: str, from_block: int = 0) -> list[Grant]:
        """The patient's grants that still exist on chain (found through its grant and referral events)."""
        patient = checksum(patient, "patient")
        grantees = self._grantees(patient, from_block)
        return [g for g in (self.grant_of(patient, grantee) for grantee in grantees) if g.exists]

    def _grantees(self, patient: str, from_block: int) -> list[str]:
        seen: dict[str, None] = {}
        for log in self._events("AccessGranted", {"patient": patient}, from_block):
            seen[str(log["args"]["grantee"])] = None
        for log in self._events("PatientReferred", {"patient": patient}, from_block):
            seen[str(log["args"]["institution"])] = None
        return list(seen)

    @staticmethod
    def _triple(account: str, patient: str, category: RecordCategory | str | int) -> tuple[str, str, int]:
        return checksum(account, "account"), checksum(patient, "patient"), int(RecordCategory.parse(category))
