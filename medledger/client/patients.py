"""Sub-client of PatientRegistry: registration, keys, delegates, institutions' patient numbers."""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak

from medledger import consent
from medledger.client.base import SubClient, bytes32, checksum, uint
from medledger.errors import InvalidInput
from medledger.identity import compressed_public_key, new_salt
from medledger.transactions import Receipt
from medledger.types import MrnLinkStatus

ZERO_ADDRESS = "0x" + "00" * 20
#: How long a signed consent stays usable when the caller gives no deadline.
DEFAULT_SIGNATURE_LIFETIME = 3600


@dataclass(frozen=True)
class Patient:
    address: str
    registered: bool
    identity_commitment: bytes
    encryption_key: bytes  # compressed secp256k1, empty if none published


@dataclass(frozen=True)
class MrnLink:
    commitment: bytes
    patient: str
    status: MrnLinkStatus
    since: int  # unix seconds of the link; 0 while only proposed
    institution: str


@dataclass(frozen=True)
class MrnProposal:
    """An institution's proposal, as the institution hands it to the patient off chain.

    The chain holds only ``patient_commitment``; ``patient`` and ``salt`` open it, and whoever holds
    them can tell that the patient is the institution's. Give them to the patient alone."""

    institution: str
    mrn_commitment: bytes
    patient: str
    salt: bytes
    patient_commitment: bytes
    receipt: Receipt


def patient_commitment(institution: str, mrn_commitment: bytes | str, patient: str, salt: bytes | str) -> bytes:
    """``keccak256(abi.encode(institution, mrnCommitment, patient, salt))``: how a proposal names its
    patient without naming the wallet. Computed here, never by a node call that would show the wallet."""
    return keccak(
        encode(
            ["address", "bytes32", "address", "bytes32"],
            [checksum(institution, "institution"), bytes32(mrn_commitment, "MRN commitment"),
             checksum(patient, "patient"), bytes32(salt, "proposal salt")],
        )  # fmt: skip
    )


def deadline_from(now: int, seconds: int | None, deadline: int | None) -> int:
    """An absolute deadline: ``deadline`` if given, else chain time ``now`` plus ``seconds`` (one hour)."""
    if deadline is not None:
        return uint(deadline, 256, "deadline")
    return now + (DEFAULT_SIGNATURE_LIFETIME if seconds is None else seconds)


class PatientsClient(SubClient):
    contract_name = "PatientRegistry"

    # ─── Identity and keys ───────────────────────────────────────────────────────────────

    def register(self, identity_commitment: bytes | str, encryption_key: bytes | str) -> Receipt:
        """Register the signing wallet as a patient (see :func:`medledger.identity.identity_commitment`)."""
        return self._send(
            "register", bytes32(identity_commitment, "identity commitment"), compressed_public_key(encryption_key)
        )

    def rotate_identity_commitment(self, identity_commitment: bytes | str) -> Receipt:
        return self._send("rotateIdentityCommitment", bytes32(identity_commitment, "identity commitment"))

    def publish_encryption_key(self, encryption_key: bytes | str) -> Receipt:
        """Publish the signer's encryption key (any account: patient, practitioner, institution)."""
        return self._send("publishEncryptionKey", compressed_public_key(encryption_key))

    # ─── Delegates ───────────────────────────────────────────────────────────────────────

    def appoint_delegate(self, delegate: str, valid_until: int) -> Receipt:
        return self._send(
            "appointDelegate", checksum(delegate, "delegate"), uint(valid_until, 40, "delegation end")
        )

    def remove_delegate(self, delegate: str) -> Receipt:
        return self._send("removeDelegate", checksum(delegate, "delegate"))

    # ─── Institutions' patient numbers ───────────────────────────────────────────────────

    def propose_mrn_link(
        self, patient: str, mrn_commitment: bytes | str, *, salt: bytes | str | None = None
    ) -> MrnProposal:
        """The signing institution proposes its MRN commitment for ``patient``, naming the patient on
        chain only by a salted commitment (a fresh salt unless ``salt`` is given). Hand the returned
        proposal's ``mrn_commitment`` and ``salt`` to the patient, who accepts with
        :meth:`accept_mrn_link`."""
        institution = self._ledger.require_signer().address
        patient = checksum(patient, "patient")
        mrn = bytes32(mrn_commitment, "MRN commitment")
        proposal_salt = new_salt() if salt is None else bytes32(salt, "proposal salt")
        hidden = patient_commitment(institution, mrn, patient, proposal_salt)
        receipt = self._send("proposeMrnLink", mrn, hidden)
        return MrnProposal(institution, mrn, patient, proposal_salt, hidden, receipt)

    def accept_mrn_link(
        self, institution: str, mrn_commitment: bytes | str, salt: bytes | str, *, patient: str | None = None
    ) -> Receipt:
        """The signing patient (or a delegate, for ``patient``) accepts ``institution``'s proposed link,
        opening its patient commitment with the proposal's ``salt``."""
        patient = checksum(patient or self._ledger.require_signer().address, "patient")
        return self._send(
            "acceptMrnLink", checksum(institution, "institution"), bytes32(mrn_commitment, "MRN commitment"),
            patient, bytes32(salt, "proposal salt"),
        )  # fmt: skip

    def sign_mrn_consent(
        self,
        institution: str,
        mrn_commitment: bytes | str,
        *,
        patient: str | None = None,
        deadline: int | None = None,
        lifetime: int | None = None,
    ) -> consent.SignedMessage:
        """The signer's EIP-712 consent for ``institution`` to link ``mrn_commitment``.

        The signer is the patient, or a delegate signing for ``patient``."""
        signer = self._ledger.require_signer()
        patient = checksum(patient or signer.address, "patient")
        message = {
            "patient": patient,
            "institution": checksum(institution, "institution"),
            "mrnCommitment": bytes32(mrn_commitment, "MRN commitment"),
            "nonce": self.nonce(patient),
            "deadline": deadline_from(self.block_time(), lifetime, deadline),
        }
        return consent.sign_message(self.domain(), "MrnLinkConsent", message, signer)

    def link_mrn_with_consent(self, signed: consent.SignedMessage) -> Receipt:
        """The signing institution links an MRN with the patient's signed consent."""
        if signed.primary_type != "MrnLinkConsent":
            raise InvalidInput(f"expected a MrnLinkConsent, got a {signed.primary_type}")
        self._check_domain(signed)
        m = signed.message
        return self._send(
            "linkMrnWithConsent",
            checksum(m["patient"], "patient"),
            bytes32(m["mrnCommitment"], "MRN commitment"),
            checksum(signed.signer, "signer"),
            int(m["nonce"]),
            int(m["deadline"]),
            signed.signature,
        )

    def unlink_mrn(self, institution: str, mrn_commitment: bytes | str) -> Receipt:
        """Remove ``institution``'s link (the patient, a delegate, or the institution) or withdraw its
        proposal (the institution)."""
        return self._send(
            "unlinkMrn", checksum(institution, "institution"), bytes32(mrn_commitment, "MRN commitment")
        )

    def cancel_signatures(self, patient: str | None = None) -> Receipt:
        """Void every signed MRN-link consent of ``patient`` (default: the signer) not yet used.

        Grants and revocations are signed for ConsentManager, under its own nonce:
        :meth:`medledger.client.consent.ConsentClient.cancel_signatures` cancels in both."""
        patient = checksum(patient or self._ledger.require_signer().address, "patient")
        return self._send("cancelSignatures", patient)

    # ─── Views ───────────────────────────────────────────────────────────────────────────

    def get(self, account: str) -> Patient:
        account = checksum(account, "patient")
        commitment = bytes(self._call("identityCommitment", account))
        return Patient(
            address=account,
            registered=commitment != bytes(32),
            identity_commitment=commitment,
            encryption_key=self.encryption_key(account),
        )

    def is_registered(self, account: str) -> bool:
        return bool(self._call("isRegistered", checksum(account, "account")))

    def encryption_key(self, account: str) -> bytes:
        """The account's published compressed encryption key, or ``b""``."""
        return bytes(self._call("encryptionKey", checksum(account, "account")))

    def delegation_expiry(self, patient: str, delegate: str) -> int:
        return int(self._call("delegationExpiry", checksum(patient, "patient"), checksum(delegate, "delegate")))

    def can_act_for(self, account: str, patient: str) -> bool:
        return bool(self._call("canActFor", checksum(account, "account"), checksum(patient, "patient")))

    def mrn_link(self, institution: str, mrn_commitment: bytes | str) -> MrnLink:
        institution = checksum(institution, "institution")
        key = bytes32(mrn_commitment, "MRN commitment")
        patient, status, since = self._call("mrnLink", institution, key)
        return MrnLink(key, str(patient), MrnLinkStatus(status), int(since), institution)

    def mrn_proposal(self, institution: str, mrn_commitment: bytes | str) -> bytes | None:
        """The patient commitment of ``institution``'s pending proposal, or None."""
        found = bytes(self._call("mrnProposal", checksum(institution, "institution"),
                                 bytes32(mrn_commitment, "MRN commitment")))  # fmt: skip
        return found if any(found) else None

    def resolve_mrn(self, institution: str, mrn_commitment: bytes | str) -> str | None:
        """The patient wallet ``institution``'s MRN commitment is linked to, or None."""
        patient = str(self._call("resolveMrn", checksum(institution, "institution"),
                                 bytes32(mrn_commitment, "MRN commitment")))  # fmt: skip
        return None if patient == ZERO_ADDRESS else patient

    def nonce(self, patient: str) -> int:
        return int(self._call("nonces", checksum(patient, "patient")))
