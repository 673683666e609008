// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRecordRegistry} from "./interfaces/IRecordRegistry.sol";
import {IConsentManager} from "./interfaces/IConsentManager.sol";
import {Record, RecordCategory, RecordStatus} from "./types/MedLedgerTypes.sol";

/// @title RecordRegistry
/// @notice Record anchors with version chains.
contract RecordRegistry is IRecordRegistry {
    uint256 private constant MAX_URI_LENGTH = 256;

    // ─── Storage ─────────────────────────────────────────────────────────────────────────────

    IConsentManager private immutable _consent;

    // Keyed by the ciphertext's hash, so `verify(hash)` is one read. Patient, category, time and
    // the superseded flag share one slot; the author, URI and predecessor live in the event only.
    mapping(bytes32 contentHash => Record) private _records;

    constructor(IConsentManager consent_) {
        if (address(consent_) == address(0)) revert ZeroAddress();
        _consent = consent_;
    }

    // ─── Operations ──────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IRecordRegistry
    function anchorRecord(
        address patient,
        RecordCategory category,
        bytes32 contentHash,
        string calldata uri,
        bytes32 supersedes
    ) external {
        if (contentHash == 0) revert ZeroContentHash();
        if (bytes(uri).length == 0 || bytes(uri).length > MAX_URI_LENGTH) revert InvalidUri(bytes(uri).length);
        if (_records[contentHash].patient != address(0)) revert RecordAlreadyAnchored(contentHash);
        if (!_consent.canWrite(msg.sender, patient, category)) revert NotAllowedToWrite(msg.sender, patient, category);
        if (supersedes != 0) {
            Record storage previous = _records[supersedes];
            if (previous.patient == address(0)) revert RecordNotFound(supersedes);
            if (previous.patient != patient || previous.category != category) revert VersionMismatch(supersedes);
            if (previous.superseded) revert RecordAlreadySuperseded(supersedes);
            previous.superseded = true;
        }
        _records[contentHash] = Record(patient, category, _time(), false);
        emit RecordAnchored(contentHash, patient, msg.sender, category, supersedes, uri);
    }

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IRecordRegistry
    function verify(bytes32 contentHash) external view returns (RecordStatus) {
        Record storage stored = _records[contentHash];
        if (stored.patient == address(0)) return RecordStatus.Unknown;
        return stored.superseded ? RecordStatus.Superseded : RecordStatus.Current;
    }

    /// @inheritdoc IRecordRegistry
    function record(bytes32 contentHash) external view returns (Record memory) {
        return _records[contentHash];
    }

    /// @inheritdoc IRecordRegistry
    function consent() external view returns (IConsentManager) {
        return _consent;
    }

    // ─── Internal ────────────────────────────────────────────────────────────────────────────

    /// @dev Block time as a uint40; virtual so a test harness can move time without a node.
    function _time() internal view virtual returns (uint40) {
        return uint40(block.timestamp);
    }
}
