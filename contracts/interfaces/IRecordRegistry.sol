// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Record, RecordCategory, RecordStatus} from "../types/MedLedgerTypes.sol";
import {IConsentManager} from "./IConsentManager.sol";

/// @title Anchored medical records and their version chains.
/// @notice A provider with write permission for a category (a grant with write, checked in
/// `IConsentManager.canWrite`), or the patient, anchors a record: the hash of its ciphertext, the
/// patient, the category, where the ciphertext lives, and the version it supersedes. Anyone
/// holding a file checks with `verify` whether it is the current version, an older one, or not a
/// record at all. Reads are logged in `IConsentManager.logAccess`, next to the grants they rest on.
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

    // ─── Events ──────────────────────────────────────────────────────────────────────────────

    /// @notice `author` anchored record `contentHash` of `patient`, replacing `supersedes` (zero if new).
    event RecordAnchored(
        bytes32 indexed contentHash,
        address indexed patient,
        address indexed author,
        RecordCategory category,
        bytes32 supersedes,
        string uri
    );

    // ─── Operations ──────────────────────────────────────────────────────────────────────────

    /// @notice Anchors a record. The patient itself, or a grantee with write permission for `category`.
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

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @notice Whether a file with hash `contentHash` is an anchored record's current version, an older one, or unknown.
    function verify(bytes32 contentHash) external view returns (RecordStatus);

    /// @notice The anchored record `contentHash` (patient zero if unknown).
    function record(bytes32 contentHash) external view returns (Record memory);

    /// @notice The consent manager that decides who may read and write.
    function consent() external view returns (IConsentManager);
}
