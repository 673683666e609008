// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {RecordCategory, RecordDetails, RecordStatus} from "../types/MedLedgerTypes.sol";
import {IConsentManager} from "./IConsentManager.sol";
import {ICredentialRegistry} from "./ICredentialRegistry.sol";

/// @title Anchored medical records, their version chains and the patient's amendments.
/// @notice A provider with write permission for a category (a grant with write, checked in
/// `IConsentManager.canWrite`), or the patient, anchors a record: the hash of its ciphertext, the
/// patient, the category, where the ciphertext lives, and the version it supersedes. The anchor
/// records its author. Anyone holding a file checks with `verify` whether it is the current
/// version, an older one, or not a record at all, and with `verifyWithAuthor` who anchored it.
/// Reads are logged in `IConsentManager.logAccess`, next to the grants they rest on.
///
/// Rules:
/// - A record version is superseded only by its author, or by the institution it acted for. Its
///   author may always supersede it (with or without naming an institution). A practitioner acts
///   for an institution by saying so: `anchorRecordFor(..., institution)`, accepted only while it
///   is employed there (`ICredentialRegistry.isEmployedBy`), records the institution with the
///   author (`record(...).actingFor`, event `RecordAnchoredFor`), and that institution may then
///   supersede the record, whatever the practitioner's employment since. A record anchored with
///   `anchorRecord` acts for no institution: no employer of its author supersedes it, since the
///   chain cannot tell which of the author's employers (if any) it was written for. A record an
///   institution anchored itself may be superseded by a practitioner employed by it now (which,
///   as every writer other than the patient, is credentialed: `canWrite` requires it).
///   Anyone else is refused with `NotRecordAuthor`, even with write permission.
/// - A patient's own record is superseded only by the patient, and the patient changes another
///   author's record only by amendment: the employment paths never apply to the record's own
///   patient, neither as the employee nor as the author (so an employed patient does not supersede,
///   and thereby hide, its hospital's record about it, nor does its employer supersede its record).
///   An institution is never an employee (`ICredentialRegistry.isEmployedBy` is false for it), so it
///   never acts for another institution.
/// - A patient's amendment is a distinct kind of record (`RecordKind.Amendment`, anchored with
///   `amendRecord`) that refers to the record it amends and never hides it: the amended record
///   stays Current in `verify`, keeps its place in its version chain, and names its latest
///   amendment in `record`. A newer amendment of the same record supersedes the older amendment.
interface IRecordRegistry {
    // ─── Errors ──────────────────────────────────────────────────────────────────────────────

    /// @notice An address argument was the zero address.
    error ZeroAddress();

    /// @notice The content hash was zero.
    error ZeroContentHash();

    /// @notice A record with content hash `contentHash` is already anchored.
    error RecordAlreadyAnchored(bytes32 contentHash);

    /// @notice No record with content hash `contentHash` is anchored.
    error RecordNotFound(bytes32 contentHash);

    /// @notice `account` may not anchor records of `category` for `patient`.
    error NotAllowedToWrite(address account, address patient, RecordCategory category);

    /// @notice Record `previous` is of another patient or category than its new version.
    error VersionMismatch(bytes32 previous);

    /// @notice Record `previous` was already superseded; versions form a chain, never a fork.
    error RecordAlreadySuperseded(bytes32 previous);

    /// @notice The URI is empty or longer than 256 bytes (`length`).
    error InvalidUri(uint256 length);

    /// @notice `account` may not supersede record `previous`: only its author `author` (or the
    /// institution it acted for, see the rules above) anchors a new version of it.
    error NotRecordAuthor(address account, bytes32 previous, address author);

    /// @notice Record `previous` is a patient's amendment: the patient replaces it by amending the
    /// original record again (`amendRecord`), not by a new version.
    error AmendmentNotSupersedable(bytes32 previous);

    /// @notice `account` is not the patient of record `original`; only the patient amends a record.
    error NotRecordPatient(address account, bytes32 original);

    /// @notice `account` may not anchor for `institution`: it is the patient, or not employed by the
    /// institution now.
    error NotActingFor(address account, address institution);

    /// @notice Record `original` cannot be amended: it is itself an amendment, or the patient's own
    /// record (which the patient supersedes instead).
    error NotAmendable(bytes32 original);

    // ─── Events ──────────────────────────────────────────────────────────────────────────────

    /// @notice `author` anchored record `contentHash` of `patient`, replacing `supersedes` (zero if new).
    /// An amendment is anchored with this event too, followed by `RecordAmended`.
    event RecordAnchored(
        bytes32 indexed contentHash,
        address indexed patient,
        address indexed author,
        RecordCategory category,
        bytes32 supersedes,
        string uri
    );

    /// @notice `author` anchored record `contentHash` for `institution`, which may supersede it
    /// (emitted right after its `RecordAnchored`).
    event RecordAnchoredFor(bytes32 indexed contentHash, address indexed author, address indexed institution);

    /// @notice `patient` anchored `amendment` as its amendment of record `original`.
    event RecordAmended(bytes32 indexed original, bytes32 indexed amendment, address indexed patient);

    // ─── Operations ──────────────────────────────────────────────────────────────────────────

    /// @notice Anchors a record. The patient itself, or a grantee with write permission for
    /// `category`; a new version (`supersedes` non-zero) only by the author of the version it
    /// replaces, or the institution it acted for (see the rules above).
    /// @param contentHash SHA-256 of the ciphertext file
    /// @param uri where the ciphertext can be fetched (no personal data: e.g. `vault://<hash>`), at most 256 bytes
    /// @param supersedes the current version this one replaces, of the same patient and category; zero if none
    function anchorRecord(
        address patient,
        RecordCategory category,
        bytes32 contentHash,
        string calldata uri,
        bytes32 supersedes
    ) external;

    /// @notice `anchorRecord` by a practitioner acting for `institution`, which employs it now
    /// (`NotActingFor` otherwise, and for the patient): the record is the institution's too, and the
    /// institution may supersede it (see the rules above).
    /// @param institution the institution the caller writes this record for
    function anchorRecordFor(
        address patient,
        RecordCategory category,
        bytes32 contentHash,
        string calldata uri,
        bytes32 supersedes,
        address institution
    ) external;

    /// @notice The patient anchors its amendment of `original` (a record another author anchored
    /// for it): a statement of correction or disagreement, of the same category, that refers to
    /// `original` and leaves it Current. A later amendment of the same record supersedes the earlier one.
    /// @param contentHash SHA-256 of the amendment's ciphertext file
    /// @param uri where the amendment's ciphertext can be fetched, at most 256 bytes
    function amendRecord(bytes32 original, bytes32 contentHash, string calldata uri) external;

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @notice Whether a file with hash `contentHash` is an anchored record's current version, an
    /// older one, or unknown. An amended record stays Current.
    function verify(bytes32 contentHash) external view returns (RecordStatus);

    /// @notice `verify`, and who anchored the record (zero if unknown).
    function verifyWithAuthor(bytes32 contentHash) external view returns (RecordStatus status, address author);

    /// @notice The anchored record `contentHash` (patient zero if unknown), its author, the
    /// institution it was anchored for (zero if none) and its latest amendment.
    function record(bytes32 contentHash) external view returns (RecordDetails memory);

    /// @notice The patient's latest amendment of record `original`; zero if none.
    function latestAmendment(bytes32 original) external view returns (bytes32);

    /// @notice The consent manager that decides who may read and write.
    function consent() external view returns (IConsentManager);

    /// @notice The credential registry whose employments say which institution a practitioner acts for.
    function credentials() external view returns (ICredentialRegistry);
}
