// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MrnLink} from "../types/MedLedgerTypes.sol";
import {IConsortiumRegistry} from "./IConsortiumRegistry.sol";

/// @title Patient identities, delegates, institutions' patient numbers and encryption keys.
/// @notice A patient is a wallet. It registers itself with a salted identity commitment (a hash of
/// its identity attributes and a secret salt, computed off chain) and an encryption public key, so
/// nothing on chain or in an event names the person. A patient names delegates (the guardian of a
/// minor, the family of an elderly patient) who may act for it in consent calls until an expiry.
/// An institution links its local patient number (MRN) as a salted commitment, with the patient's
/// consent given by transaction or by EIP-712 signature; whoever holds the MRN and its salt
/// resolves it to the wallet. Any account (practitioner, institution) can publish an encryption key
/// here too: it is where record keys are wrapped to.
///
/// Rules:
/// - Privacy of links: no event, storage word or calldata of a transaction that the patient (or
///   its delegate) did not send or sign links the patient's wallet to an institution. An
///   institution's proposal names the patient only through a salted patient commitment; the
///   wallet appears when the patient accepts, by its own transaction.
/// - Every signed consent can be cancelled before it is used: `cancelSignatures` uses up the
///   patient's nonce, so no `MrnLinkConsent` signed before it works afterwards.
interface IPatientRegistry {
    // ─── Errors ──────────────────────────────────────────────────────────────────────────────

    /// @notice An address argument was the zero address.
    error ZeroAddress();

    /// @notice A commitment was zero; a commitment is a hash and is never zero.
    error ZeroCommitment();

    /// @notice The encryption key is not a compressed secp256k1 key (33 bytes starting 0x02 or 0x03).
    error InvalidEncryptionKey();

    /// @notice `patient` is already registered.
    error PatientAlreadyRegistered(address patient);

    /// @notice `patient` is not a registered patient.
    error PatientNotRegistered(address patient);

    /// @notice A patient cannot be its own delegate.
    error SelfDelegation(address patient);

    /// @notice The delegation end `validUntil` is not after `currentTime`.
    error InvalidDelegationExpiry(uint40 validUntil, uint40 currentTime);

    /// @notice `delegate` is not a delegate of `patient`.
    error DelegateNotFound(address patient, address delegate);

    /// @notice `account` is neither the patient `patient` nor one of its active delegates.
    error NotPatientOrDelegate(address account, address patient);

    /// @notice `account` is not an accredited, active institution.
    error NotActiveInstitution(address account);

    /// @notice `institution`'s MRN commitment `mrnCommitment` is already proposed or linked.
    error MrnAlreadyLinked(address institution, bytes32 mrnCommitment);

    /// @notice `institution`'s MRN commitment `mrnCommitment` is not in the state the call needs.
    error MrnLinkStateInvalid(address institution, bytes32 mrnCommitment);

    /// @notice `account` is neither the patient (or a delegate) nor the institution of MRN link `mrnCommitment`
    /// (a proposal, which names no patient, is withdrawn by its institution only).
    error NotMrnLinkParty(address account, bytes32 mrnCommitment);

    /// @notice The patient and salt given do not open the patient commitment of `institution`'s
    /// proposal `mrnCommitment`: the proposal is for another patient, or the salt is wrong.
    error MrnProposalMismatch(address institution, bytes32 mrnCommitment);

    /// @notice The signature's deadline `deadline` has passed (now `currentTime`).
    error SignatureExpired(uint256 deadline, uint256 currentTime);

    /// @notice The signature is not a valid signature of `signer` over the request.
    error InvalidSignature(address signer);

    // ─── Events ──────────────────────────────────────────────────────────────────────────────

    /// @notice `patient` registered with identity commitment `identityCommitment`.
    event PatientRegistered(address indexed patient, bytes32 identityCommitment);

    /// @notice `patient` replaced its identity commitment with `identityCommitment`.
    event IdentityCommitmentRotated(address indexed patient, bytes32 identityCommitment);

    /// @notice `account` published `key` (compressed secp256k1) as its encryption key.
    event EncryptionKeyPublished(address indexed account, bytes key);

    /// @notice `patient` named `delegate` to act for it until `validUntil`.
    event DelegateAppointed(address indexed patient, address indexed delegate, uint40 validUntil);

    /// @notice `patient` removed `delegate`.
    event DelegateRemoved(address indexed patient, address indexed delegate);

    /// @notice `institution` proposed linking its MRN commitment `mrnCommitment` to the patient behind
    /// `patientCommitment` (see `proposeMrnLink`); no wallet is named.
    event MrnLinkProposed(bytes32 indexed mrnCommitment, address indexed institution, bytes32 patientCommitment);

    /// @notice MRN commitment `mrnCommitment` of `institution` now resolves to `patient`.
    event MrnLinked(bytes32 indexed mrnCommitment, address indexed patient, address indexed institution);

    /// @notice `institution`'s MRN commitment `mrnCommitment` was unlinked (or its proposal withdrawn) by `by`.
    event MrnUnlinked(bytes32 indexed mrnCommitment, address indexed institution, address indexed by);

    /// @notice `by` voided every `MrnLinkConsent` of `patient` not yet used (nonce `nonce` used up).
    /// Same event as `IConsentManager.SignaturesCancelled`, emitted by this contract for its own nonce.
    event SignaturesCancelled(address indexed patient, address indexed by, uint256 nonce);

    // ─── Identity and keys ───────────────────────────────────────────────────────────────────

    /// @notice Registers the calling wallet as a patient.
    /// @param identityCommitment hash of the patient's identity attributes and a secret salt
    /// (see `medledger.identity_commitment`); never the attributes themselves
    /// @param encryptionKey the patient's compressed secp256k1 public key for ECIES, 33 bytes
    function register(bytes32 identityCommitment, bytes calldata encryptionKey) external;

    /// @notice Replaces the calling patient's identity commitment (e.g. after a change of name, or a new salt).
    function rotateIdentityCommitment(bytes32 identityCommitment) external;

    /// @notice Publishes or replaces the caller's encryption key. Open to every account: patients,
    /// practitioners and institutions all receive record keys wrapped to their published key.
    /// @param encryptionKey compressed secp256k1 public key, 33 bytes
    function publishEncryptionKey(bytes calldata encryptionKey) external;

    // ─── Delegates ───────────────────────────────────────────────────────────────────────────

    /// @notice The calling patient names `delegate` to act for it in consent calls until
    /// `validUntil`; naming an existing delegate again replaces its expiry.
    function appointDelegate(address delegate, uint40 validUntil) external;

    /// @notice The calling patient removes `delegate` at once.
    function removeDelegate(address delegate) external;

    // ─── Institutions' patient numbers ───────────────────────────────────────────────────────

    /// @notice The calling (active) institution proposes linking its MRN commitment to a patient it
    /// names only by a salted patient commitment, so that neither the call nor its storage or event
    /// tells anyone which wallet visited the institution. It hands the patient the salt off chain
    /// (with the MRN commitment); the link takes effect when the patient or a delegate accepts with
    /// `acceptMrnLink`, revealing the wallet by its own transaction. A proposal the patient ignores
    /// links nothing; the institution may withdraw it with `unlinkMrn`.
    /// @param mrnCommitment `keccak256(abi.encode(institution, keccak256(mrn), salt))`, computed off chain
    /// @param patientCommitment `keccak256(abi.encode(institution, mrnCommitment, patient, proposalSalt))`
    /// with a fresh random 32-byte `proposalSalt`, computed off chain (never by a node call naming the patient)
    function proposeMrnLink(bytes32 mrnCommitment, bytes32 patientCommitment) external;

    /// @notice The patient (or an active delegate) accepts `institution`'s proposed link
    /// `mrnCommitment`, opening its patient commitment with `patient` and `proposalSalt`. The
    /// institution must still be active.
    function acceptMrnLink(address institution, bytes32 mrnCommitment, address patient, bytes32 proposalSalt) external;

    /// @notice The calling institution links its MRN commitment to `patient` in one step, with the
    /// consent of the patient or an active delegate (`signer`) given as an EIP-712 `MrnLinkConsent`
    /// signature. The signer's contract wallet may sign through ERC-1271.
    /// @param nonce the patient's current nonce, `nonces(patient)`
    /// @param deadline last second at which the signature may be used
    function linkMrnWithConsent(
        address patient,
        bytes32 mrnCommitment,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Removes `institution`'s linked MRN commitment (the patient, an active delegate, or the
    /// institution) or withdraws its proposal (the institution: a proposal names no patient).
    function unlinkMrn(address institution, bytes32 mrnCommitment) external;

    /// @notice Voids every `MrnLinkConsent` of `patient` not yet used, by using up its nonce. The
    /// patient or an active delegate. `IConsentManager.cancelSignatures` does the same for grants
    /// and revocations: each contract keeps its own nonce, so "cancel my signatures" calls both.
    function cancelSignatures(address patient) external;

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @notice The consortium whose institutions may link patient numbers.
    function consortium() external view returns (IConsortiumRegistry);

    /// @notice Whether `account` is a registered patient.
    function isRegistered(address account) external view returns (bool);

    /// @notice The identity commitment of `patient` (zero if not registered).
    function identityCommitment(address patient) external view returns (bytes32);

    /// @notice The published encryption key of `account`, 33 bytes, or empty if none.
    function encryptionKey(address account) external view returns (bytes memory);

    /// @notice The end (exclusive) of `delegate`'s delegation by `patient`; zero if none.
    function delegationExpiry(address patient, address delegate) external view returns (uint40);

    /// @notice True when `patient` is registered and `account` is the patient or an active delegate of it.
    function canActFor(address account, address patient) external view returns (bool);

    /// @notice The link stored under `institution`'s MRN commitment `mrnCommitment`; for a pending
    /// proposal, status Proposed with no patient (see `mrnProposal`).
    function mrnLink(address institution, bytes32 mrnCommitment) external view returns (MrnLink memory);

    /// @notice The patient commitment of `institution`'s pending proposal `mrnCommitment`; zero if none.
    function mrnProposal(address institution, bytes32 mrnCommitment) external view returns (bytes32);

    /// @notice The patient `institution`'s MRN commitment resolves to, or the zero address if it is not linked.
    function resolveMrn(address institution, bytes32 mrnCommitment) external view returns (address);

    /// @notice The next nonce of `patient` for signed consents.
    function nonces(address patient) external view returns (uint256);

    /// @notice EIP-712 typehash of `MrnLinkConsent(address patient,address institution,bytes32 mrnCommitment,uint256 nonce,uint256 deadline)`.
    function MRN_LINK_CONSENT_TYPEHASH() external view returns (bytes32);
}
