"""One exception tree for medledger.

Every failure a caller can meet is a :class:`MedLedgerError`. A revert with a custom error of the
suite becomes the subclass of the same name (``CredentialAlreadyRevoked``, ...) with the error's
arguments as attributes; each also sits under a category (:class:`NotAuthorized`,
:class:`InvalidState`, :class:`InvalidArgument`, :class:`NotFound`) so callers can catch broadly.
Node, connection, nonce and gas failures are wrapped too: no bare web3 exception gets out.
"""

from __future__ import annotations

from typing import Any, ClassVar


class MedLedgerError(Exception):
    """Base of every medledger exception."""

    #: The mined transaction that failed, when the failure came from one (its gas was spent).
    tx_hash: str | None = None


class ToolchainError(MedLedgerError):
    """The compiler could not be found or run, or the sources do not compile."""


class ConfigurationError(MedLedgerError):
    """A setting, key, keystore or manifest is missing or wrong."""


class InvalidInput(MedLedgerError, ValueError):
    """An argument was rejected before anything was sent (bad address, bad date, ...)."""


class ChainError(MedLedgerError):
    """The node could not be reached or answered with an error."""


class NodeNotRunning(ChainError):
    """No node answers where one was expected."""


class DeploymentError(MedLedgerError):
    """The suite is not deployed on this chain, or its code does not match the manifest."""


class TransactionError(MedLedgerError):
    """A transaction could not be sent or mined (not a contract revert)."""


class NonceError(TransactionError):
    """The nonce was too low or already used: another sender is using the same account."""


class GasError(TransactionError):
    """Gas could not be estimated or the transaction ran out of gas."""


class InsufficientFunds(TransactionError):
    """The sender cannot pay for gas."""


class TransactionFailed(TransactionError):
    """The transaction was mined but failed with no revert data to decode."""


class PartialCancellation(MedLedgerError):
    """"Cancel my signatures" used up the nonce in some contracts and failed in others.

    ``cancelled`` maps each contract whose signatures are void to its receipt; ``failed`` maps each
    other contract to the error it gave. Signatures for the failed contracts may still be used."""

    def __init__(self, cancelled: dict[str, Any], failed: dict[str, MedLedgerError]) -> None:
        self.cancelled = dict(cancelled)
        self.failed = dict(failed)
        done = ", ".join(f"{name} (tx {receipt.tx_hash})" for name, receipt in self.cancelled.items())
        missed = "; ".join(f"{name}: {error}" for name, error in self.failed.items())
        super().__init__(
            f"signatures cancelled only in part: void in {done}, but NOT in {missed}. "
            f"Signatures for {', '.join(self.failed)} may still be used: cancel again."
        )


# ─── Contract reverts ────────────────────────────────────────────────────────────────────────


class ContractError(MedLedgerError):
    """A contract call reverted. ``error_name`` and ``fields`` describe what the contract said."""

    error_name: ClassVar[str] = ""

    def __init__(self, fields: dict[str, Any] | None = None, message: str | None = None) -> None:
        self.fields: dict[str, Any] = dict(fields or {})
        for key, value in self.fields.items():
            setattr(self, key, value)
        name = self.error_name or type(self).__name__
        if message is None:
            shown = ", ".join(f"{k}={_show(v)}" for k, v in self.fields.items())
            message = f"{name}({shown})"
        super().__init__(message)


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


class NotAuthorized(ContractError):
    """The caller does not hold the role or relation the call needs."""


class InvalidState(ContractError):
    """The call is not allowed in the current state (already done, suspended, revoked, ...)."""


class InvalidArgument(ContractError):
    """An argument was rejected by the contract."""


class NotFound(ContractError):
    """The thing named does not exist on chain."""


class Reverted(ContractError):
    """A revert with a plain reason string, or with no data at all."""

    reason: str


class Panic(ContractError):
    """A Solidity panic (assert, overflow, division by zero, ...): a bug, never a user mistake."""

    code: int


class UnknownContractError(ContractError):
    """A custom error whose selector is not in medledger's ABIs."""

    selector: str
    data: bytes


# ─── Errors of the suite: one class per custom error, named as in Solidity ─────────────────────


class ZeroAddress(InvalidArgument):
    """An address argument was the zero address."""


class AccessControlUnauthorizedAccount(NotAuthorized):
    """``account`` lacks ``neededRole`` (OpenZeppelin AccessControl)."""

    account: str
    neededRole: bytes


class AccessControlBadConfirmation(InvalidArgument):
    """renounceRole was called for another account (OpenZeppelin AccessControl)."""


class AccessControlInvalidDefaultAdmin(InvalidArgument):
    """``defaultAdmin`` is not a valid admin for the transfer."""

    defaultAdmin: str


class AccessControlEnforcedDefaultAdminRules(InvalidState):
    """The admin role can only move through the two-step transfer."""


class AccessControlEnforcedDefaultAdminDelay(InvalidState):
    """The admin transfer or delay change is not due before ``schedule``."""

    schedule: int


class SafeCastOverflowedUintDowncast(InvalidArgument):
    """A value did not fit the smaller integer type (OpenZeppelin SafeCast)."""

    bits: int
    value: int


class InstitutionAlreadyAccredited(InvalidState):
    institution: str


class InstitutionNotAccredited(NotFound):
    institution: str


class InstitutionAlreadySuspended(InvalidState):
    institution: str


class InstitutionNotSuspended(InvalidState):
    institution: str


class NotAdminOrRegulator(NotAuthorized):
    account: str


class NotLicensingAuthority(NotAuthorized):
    account: str


class NotIssuerOrRegulator(NotAuthorized):
    account: str
    id: bytes


class InvalidValidityWindow(InvalidArgument):
    validFrom: int
    validUntil: int
    currentTime: int


class SubjectNotInstitution(InvalidArgument):
    subject: str


class SubjectIsInstitution(InvalidArgument):
    subject: str


class CredentialAlreadyIssued(InvalidState):
    id: bytes


class CredentialHeldByRegulator(InvalidState):
    id: bytes


class CredentialNotHeldByRegulator(InvalidState):
    id: bytes


class CredentialIssuerUnchanged(InvalidArgument):
    id: bytes
    issuer: str


class CredentialNotFound(NotFound):
    id: bytes


class CredentialAlreadyRevoked(InvalidState):
    id: bytes


class CredentialAlreadySuspended(InvalidState):
    id: bytes


class CredentialNotSuspended(InvalidState):
    id: bytes


class CredentialSuspendedByRegulator(NotAuthorized):
    id: bytes


class SelfEmployment(InvalidArgument):
    institution: str


class PractitionerIsInstitution(InvalidArgument):
    account: str


class NotActiveInstitution(NotAuthorized):
    account: str


class EmploymentStateInvalid(InvalidState):
    practitioner: str
    institution: str


class NotEmploymentParty(NotAuthorized):
    account: str



class InvalidAccountNonce(InvalidState):
    """The signed nonce is not the account's current nonce: used already, or signed out of order."""

    account: str
    currentNonce: int



class InvalidShortString(InvalidArgument):
    """A short string held more than 31 bytes (OpenZeppelin ShortStrings; EIP-712 names only)."""


class StringTooLong(InvalidArgument):
    """A string was too long to be a short string (OpenZeppelin ShortStrings)."""

    str: str


class MerkleProofInvalidMultiproof(InvalidArgument):
    """The multiproof's lengths do not fit together (OpenZeppelin MerkleProof)."""

# ─── PatientRegistry ─────────────────────────────────────────────────────────────────────────


class ZeroCommitment(InvalidArgument):
    """A commitment argument was zero."""


class InvalidEncryptionKey(InvalidArgument):
    """The encryption key is not a 33-byte compressed secp256k1 key."""


class PatientAlreadyRegistered(InvalidState):
    patient: str


class PatientNotRegistered(NotFound):
    patient: str


class SelfDelegation(InvalidArgument):
    patient: str


class InvalidDelegationExpiry(InvalidArgument):
    validUntil: int
    currentTime: int


class DelegateNotFound(NotFound):
    patient: str
    delegate: str


class NotPatientOrDelegate(NotAuthorized):
    account: str
    patient: str


class MrnAlreadyLinked(InvalidState):
    institution: str
    mrnCommitment: bytes


class MrnLinkStateInvalid(InvalidState):
    institution: str
    mrnCommitment: bytes


class NotMrnLinkParty(NotAuthorized):
    account: str
    mrnCommitment: bytes


class MrnProposalMismatch(NotAuthorized):
    institution: str
    mrnCommitment: bytes


class SignatureExpired(InvalidState):
    deadline: int
    currentTime: int


class InvalidSignature(NotAuthorized):
    signer: str


# ─── ConsentManager ──────────────────────────────────────────────────────────────────────────


class SelfGrant(InvalidArgument):
    patient: str


class InvalidCategories(InvalidArgument):
    categories: int


class InvalidExpiry(InvalidArgument):
    validUntil: int
    currentTime: int
    limit: int


class GrantNotFound(NotFound):
    patient: str
    grantee: str


class GrantExpired(InvalidState):
    patient: str
    grantee: str


class ReferralNotAllowed(NotAuthorized):
    patient: str
    grantee: str


class NotCredentialedInstitution(InvalidArgument):
    institution: str


class NotCredentialed(NotAuthorized):
    account: str


class GrantAlreadyExists(InvalidState):
    patient: str
    grantee: str


class NotLicensedPractitioner(NotAuthorized):
    account: str


class InvalidBreakGlassDuration(InvalidArgument):
    duration: int
    maxDuration: int


class BreakGlassAlreadyOpen(InvalidState):
    patient: str
    practitioner: str


class BreakGlassNotOpen(InvalidState):
    patient: str
    practitioner: str


class BreakGlassLimitReached(InvalidState):
    practitioner: str
    windowEndsAt: int


class NotBreakGlassParty(NotAuthorized):
    account: str


class NotConsortiumAdmin(NotAuthorized):
    account: str


class InvalidBreakGlassPolicy(InvalidArgument):
    """The break-glass limits are not positive, or a session would outlast the window."""


# ─── RecordRegistry ──────────────────────────────────────────────────────────────────────────


class ZeroContentHash(InvalidArgument):
    """The content hash was zero."""


class RecordAlreadyAnchored(InvalidState):
    contentHash: bytes


class RecordNotFound(NotFound):
    contentHash: bytes


class NotAllowedToWrite(NotAuthorized):
    account: str
    patient: str
    category: int


class VersionMismatch(InvalidArgument):
    previous: bytes


class RecordAlreadySuperseded(InvalidState):
    previous: bytes


class InvalidUri(InvalidArgument):
    length: int


class NotRecordAuthor(NotAuthorized):
    account: str
    previous: bytes
    author: str


class NotActingFor(NotAuthorized):
    account: str
    institution: str


class AmendmentNotSupersedable(InvalidArgument):
    previous: bytes


class NotRecordPatient(NotAuthorized):
    account: str
    original: bytes


class NotAmendable(InvalidArgument):
    original: bytes


class ZeroRecord(InvalidArgument):
    """The record id was zero."""


class AccessDenied(NotAuthorized):
    reader: str
    patient: str
    category: int


# ─── ProductRegistry and BatchRegistry ──────────────────────────────────────────────────────


class InvalidGtin(InvalidArgument):
    gtin: int


class NotLicensedManufacturer(NotAuthorized):
    account: str


class ProductAlreadyRegistered(InvalidState):
    gtin: int


class ProductNotFound(NotFound):
    gtin: int


class EmptyProductName(InvalidArgument):
    """The product's name hash is zero."""


class NotManufacturer(InvalidArgument):
    account: str


class InvalidCompanyPrefix(InvalidArgument):
    length: int
    value: int


class CompanyPrefixAlreadyAssigned(InvalidState):
    length: int
    value: int
    holder: str


class CompanyPrefixOverlaps(InvalidState):
    length: int
    value: int


class CompanyPrefixNotAssigned(NotFound):
    length: int
    value: int


class GtinNotInCompanyPrefix(NotAuthorized):
    gtin: int
    account: str
    holder: str


class RegistrationVoided(NotAuthorized):
    gtin: int
    account: str


class ProductAlreadyVoided(InvalidState):
    gtin: int


class ProductNameMismatch(InvalidArgument):
    """Taking over a former prefix holder's product needs the name it was registered under."""

    gtin: int
    registered: bytes
    given: bytes


class NotProductManufacturer(NotAuthorized):
    account: str
    gtin: int


class EmptyLot(InvalidArgument):
    """The lot number is empty."""


class ZeroQuantity(InvalidArgument):
    """The quantity is zero."""


class ZeroSerialRoot(InvalidArgument):
    """The Merkle root of the serials is zero."""


class InvalidBatchDates(InvalidArgument):
    manufacturedOn: int
    expiresOn: int
    currentTime: int


class BatchAlreadyRegistered(InvalidState):
    batchId: bytes


class BatchNotFound(NotFound):
    batchId: bytes


class NotManufacturerOrRegulator(NotAuthorized):
    account: str
    batchId: bytes


class BatchStatusInvalid(InvalidState):
    batchId: bytes
    status: int


class InsufficientStock(InvalidState):
    batchId: bytes
    holder: str
    held: int
    wanted: int


class RecipientNotAllowed(NotAuthorized):
    to: str


class NotActiveSupplier(NotAuthorized):
    account: str


class BatchNotMovable(InvalidState):
    batchId: bytes
    validity: int


class ShipmentNotInTransit(InvalidState):
    shipmentId: bytes


class NotShipmentParty(NotAuthorized):
    account: str
    shipmentId: bytes


class UnitsNotInRange(InvalidArgument):
    batchId: bytes
    rangeStart: int
    rangeEnd: int
    start: int
    quantity: int


class RangeNotOnShelf(NotAuthorized):
    batchId: bytes
    rangeStart: int
    account: str


class RangeCountMismatch(InvalidArgument):
    units: int
    rangeStarts: int


class NotPrescriptionRegistry(NotAuthorized):
    account: str


class WrongProduct(InvalidArgument):
    batchId: bytes
    gtin: int


class NotActivePharmacy(NotAuthorized):
    account: str


# ─── PrescriptionRegistry ──────────────────────────────────────────────────────────────────


class BatchRegistryNotLinked(InvalidArgument):
    batches: str


class NotLicensedPrescriber(NotAuthorized):
    account: str


class SpecialtyRequired(NotAuthorized):
    prescriber: str
    gtin: int
    specialty: int


class SelfPrescription(InvalidArgument):
    """Raised by the client before issuing (the chain cannot see the patient's wallet)."""

    prescriber: str


class EmptyPatientCommitment(InvalidArgument):
    """The patient commitment is zero."""


class NotLicensedPharmacy(NotAuthorized):
    account: str


class InvalidFillLimits(InvalidArgument):
    quantityPerFill: int
    refills: int


class InvalidValidity(InvalidArgument):
    validUntil: int
    currentTime: int


class NotPrescriber(NotAuthorized):
    account: str
    id: int


class PrescriptionStatusInvalid(InvalidState):
    id: int
    status: int


class PrescriptionNotFillable(InvalidState):
    id: int
    validity: int


class FillQuantityInvalid(InvalidArgument):
    id: int
    quantity: int
    quantityPerFill: int


class NotRegulator(NotAuthorized):
    account: str

def _collect() -> dict[str, type[ContractError]]:
    found: dict[str, type[ContractError]] = {}
    pending: list[type[ContractError]] = [ContractError]
    categories = {ContractError, NotAuthorized, InvalidState, InvalidArgument, NotFound}
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            pending.append(sub)
            if sub not in categories and sub not in (Reverted, Panic, UnknownContractError):
                found[sub.__name__] = sub
    return found


#: Custom error name → exception class, for every custom error the suite can revert with.
CONTRACT_ERRORS: dict[str, type[ContractError]] = _collect()


# ─── Decoding ──────────────────────────────────────────────────────────────────────────────────

_PANIC_SELECTOR = bytes.fromhex("4e487b71")
_ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")


def _selector_table() -> dict[bytes, tuple[str, list[str], list[str], str]]:
    """selector → (error name, argument types, argument names, NatSpec notice)."""
    import json

    from eth_utils import keccak

    from medledger.toolchain import ARTIFACTS_DIR, load_artifact

    table: dict[bytes, tuple[str, list[str], list[str], str]] = {}
    for path in sorted(ARTIFACTS_DIR.glob("*.json")):
        artifact = load_artifact(path.stem)
        userdoc = json.loads(artifact["metadata"])["output"].get("userdoc", {}).get("errors", {})
        for item in artifact["abi"]:
            if item["type"] != "error":
                continue
            types = [_abi_type(arg) for arg in item["inputs"]]
            names = [arg["name"] or f"arg{i}" for i, arg in enumerate(item["inputs"])]
            signature = f"{item['name']}({','.join(types)})"
            notice = next((doc["notice"] for doc in userdoc.get(signature, []) if "notice" in doc), "")
            table[keccak(text=signature)[:4]] = (item["name"], types, names, notice)
    return table


def _abi_type(arg: dict[str, Any]) -> str:
    kind: str = arg["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in arg["components"])
        return f"({inner}){kind[5:]}"
    return kind


_SELECTORS: dict[bytes, tuple[str, list[str], list[str], str]] | None = None


def decode_revert(data: bytes | str | None) -> ContractError:
    """The typed exception for revert ``data`` (custom error, Error(string) or Panic(uint256))."""
    global _SELECTORS
    from eth_abi import decode
    from eth_utils import to_checksum_address

    if isinstance(data, str):
        text = data[2:] if data.startswith("0x") else data
        try:
            data = bytes.fromhex(text)
        except ValueError:
            return Reverted({"reason": text}, message=f"reverted: {text}")
    if not data:
        return Reverted({"reason": ""}, message="reverted without a reason")
    selector, body = data[:4], data[4:]
    if selector == _ERROR_STRING_SELECTOR:
        (reason,) = decode(["string"], body)
        return Reverted({"reason": reason}, message=f"reverted: {reason}")
    if selector == _PANIC_SELECTOR:
        (code,) = decode(["uint256"], body)
        return Panic({"code": code}, message=f"panic 0x{code:02x} (a contract bug, not a user mistake)")
    if _SELECTORS is None:
        _SELECTORS = _selector_table()
    known = _SELECTORS.get(selector)
    if known is None:
        return UnknownContractError(
            {"selector": "0x" + selector.hex(), "data": data},
            message=f"unknown custom error 0x{selector.hex()}",
        )
    name, types, names, notice = known
    values = decode(types, body)
    fields = {
        field_name: to_checksum_address(value) if kind == "address" else value
        for field_name, kind, value in zip(names, types, values, strict=True)
    }
    notice = notice or _LIBRARY_NOTICES.get(name, "")
    shown = {k: _role_name(v) if k == "neededRole" and isinstance(v, bytes) else v for k, v in fields.items()}
    message = f"{name}: {_fill(notice, shown)}" if notice else None
    cls = CONTRACT_ERRORS.get(name)
    if cls is None:
        return UnknownContractError(fields | {"selector": "0x" + selector.hex()}, message=message or name)
    return cls(fields, message=message)


#: Notices for OpenZeppelin errors, whose NatSpec is developer documentation only.
_LIBRARY_NOTICES = {
    "AccessControlUnauthorizedAccount": "`account` lacks the role `neededRole`.",
    "AccessControlBadConfirmation": "an account can only renounce its own roles.",
    "AccessControlEnforcedDefaultAdminRules": "the admin role moves only by the two-step admin transfer.",
    "AccessControlEnforcedDefaultAdminDelay": "the admin transfer cannot complete before `schedule`.",
    "AccessControlInvalidDefaultAdmin": "`defaultAdmin` cannot take the admin role.",
    "MerkleProofInvalidMultiproof": "the multiproof's lengths do not fit together.",
    "InvalidAccountNonce": "the signed nonce is not the current nonce `currentNonce` of `account`.",
}


def _role_name(role: bytes) -> str:
    from eth_utils import keccak

    names = {
        bytes(32): "consortium admin",
        keccak(text="medledger.role.regulator"): "regulator",
        keccak(text="medledger.role.licensing-authority"): "licensing authority",
    }
    return names.get(role, "0x" + role.hex())


def _fill(notice: str, fields: dict[str, Any]) -> str:
    """The NatSpec notice with each `field` replaced by its value."""
    for key, value in fields.items():
        notice = notice.replace(f"`{key}`", _show(value))
    return notice
