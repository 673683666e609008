"""Sub-client of CredentialRegistry: issue, suspend, reinstate, revoke, check; employment links."""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak

from medledger.client.base import SubClient, bytes32, checksum, uint
from medledger.transactions import Receipt
from medledger.types import CredentialKind, CredentialStatus, CredentialValidity, EmploymentStatus


@dataclass(frozen=True)
class Credential:
    """A credential as stored on chain."""

    id: bytes
    issuer: str
    valid_from: int  # unix seconds, inclusive
    valid_until: int  # unix seconds, exclusive
    kind: CredentialKind
    status: CredentialStatus
    document_hash: bytes

    @property
    def exists(self) -> bool:
        return self.status is not CredentialStatus.NONE


@dataclass(frozen=True)
class IssuedCredential:
    id: bytes
    receipt: Receipt


@dataclass(frozen=True)
class Employment:
    practitioner: str
    institution: str
    status: EmploymentStatus
    since: int  # unix seconds of acceptance; 0 while only offered


def credential_id(subject: str, kind: CredentialKind | str, scope: int) -> bytes:
    """``keccak256(abi.encode(subject, kind, scope))``, as the contract computes it."""
    return keccak(
        encode(
            ["address", "uint8", "uint64"],
            [checksum(subject, "subject"), int(CredentialKind.parse(kind)), uint(scope, 64, "scope")],
        )
    )


class CredentialsClient(SubClient):
    contract_name = "CredentialRegistry"

    # ─── Credentials ─────────────────────────────────────────────────────────────────────

    @staticmethod
    def credential_id(subject: str, kind: CredentialKind | str, scope: int = 0) -> bytes:
        """The id of ``subject``'s credential of ``kind`` and ``scope`` (computed locally)."""
        return credential_id(subject, kind, scope)

    def issue(
        self,
        subject: str,
        kind: CredentialKind | str,
        *,
        scope: int = 0,
        valid_from: int,
        valid_until: int,
        document_hash: bytes | str = bytes(32),
    ) -> IssuedCredential:
        """Issue a credential (licensing authority only); returns its id and the receipt."""
        kind = CredentialKind.parse(kind)
        subject = checksum(subject, "subject")
        receipt = self._send(
            "issueCredential",
            subject,
            int(kind),
            uint(scope, 64, "scope"),
            uint(valid_from, 40, "valid-from time"),
            uint(valid_until, 40, "valid-until time"),
            bytes32(document_hash, "document hash"),
        )
        return IssuedCredential(credential_id(subject, kind, scope), receipt)

    def suspend(self, credential: bytes | str, reason_code: int = 0) -> Receipt:
        """Suspend a credential (its issuer or a regulator)."""
        return self._send(
            "suspendCredential", bytes32(credential, "credential id"), uint(reason_code, 16, "reason code")
        )

    def reinstate(self, credential: bytes | str) -> Receipt:
        """Lift a suspension, back to active (its issuer, or a regulator; only a regulator ends
        a regulator's hold)."""
        return self._send("reinstateCredential", bytes32(credential, "credential id"))

    def revoke(self, credential: bytes | str, reason_code: int = 0) -> Receipt:
        """Revoke a credential for good (its issuer or a regulator). A regulator's revocation is a
        hold: nobody issues that subject, kind and scope again until a regulator lifts it."""
        return self._send(
            "revokeCredential", bytes32(credential, "credential id"), uint(reason_code, 16, "reason code")
        )

    def lift_regulator_hold(self, credential: bytes | str) -> Receipt:
        """End a regulator's hold (regulator only): a held suspension becomes the issuer's own
        suspension, a held revocation a plain one that a new issuance may replace."""
        return self._send("liftRegulatorHold", bytes32(credential, "credential id"))

    def reassign_issuer(self, credential: bytes | str, new_issuer: str) -> Receipt:
        """Hand a credential to licensing authority ``new_issuer`` (regulator only); its status,
        a hold included, stays as it is."""
        return self._send(
            "reassignCredentialIssuer", bytes32(credential, "credential id"), checksum(new_issuer, "new issuer")
        )

    def get(self, credential: bytes | str) -> Credential:
        """The stored credential (status NONE if it was never issued)."""
        key = bytes32(credential, "credential id")
        issuer, valid_from, valid_until, kind, status, document_hash = self._call("credential", key)
        return Credential(
            id=key,
            issuer=str(issuer),
            valid_from=int(valid_from),
            valid_until=int(valid_until),
            kind=CredentialKind(kind),
            status=CredentialStatus(status),
            document_hash=bytes(document_hash),
        )

    def check(self, subject: str, kind: CredentialKind | str, scope: int = 0) -> CredentialValidity:
        """Whether ``subject`` holds a passing credential of ``kind`` and ``scope`` now, and if not why."""
        result = self._call(
            "check", checksum(subject, "subject"), int(CredentialKind.parse(kind)), uint(scope, 64, "scope")
        )
        return CredentialValidity(result)

    def is_valid(self, subject: str, kind: CredentialKind | str, scope: int = 0) -> bool:
        return self.check(subject, kind, scope) is CredentialValidity.VALID

    def is_credentialed(self, account: str) -> bool:
        """Whether consent checks trust ``account`` now: an institution (ever accredited) only while
        active with a valid accreditation; anyone else with a valid licence, nursing or pharmacist licence."""
        return bool(self._call("isCredentialed", checksum(account, "account")))

    # ─── Employment ──────────────────────────────────────────────────────────────────────

    def offer_employment(self, practitioner: str) -> Receipt:
        """The signing institution offers ``practitioner`` a link."""
        return self._send("offerEmployment", checksum(practitioner, "practitioner"))

    def accept_employment(self, institution: str) -> Receipt:
        """The signing practitioner accepts ``institution``'s offer."""
        return self._send("acceptEmployment", checksum(institution, "institution"))

    def end_employment(self, practitioner: str, institution: str) -> Receipt:
        return self._send(
            "endEmployment", checksum(practitioner, "practitioner"), checksum(institution, "institution")
        )

    def employment(self, practitioner: str, institution: str) -> Employment:
        practitioner = checksum(practitioner, "practitioner")
        institution = checksum(institution, "institution")
        status, since = self._call("employment", practitioner, institution)
        return Employment(practitioner, institution, EmploymentStatus(status), int(since))

    def is_employed_by(self, practitioner: str, institution: str) -> bool:
        return bool(
            self._call(
                "isEmployedBy", checksum(practitioner, "practitioner"), checksum(institution, "institution")
            )
        )
