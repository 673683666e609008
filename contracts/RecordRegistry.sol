// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRecordRegistry} from "./interfaces/IRecordRegistry.sol";
import {IConsentManager} from "./interfaces/IConsentManager.sol";
import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";
import {Record, RecordCategory, RecordDetails, RecordKind, RecordStatus} from "./types/MedLedgerTypes.sol";

/// @title RecordRegistry
/// @notice Record anchors with their authors, version chains and patients' amendments.
contract RecordRegistry is IRecordRegistry {
    uint256 private constant MAX_URI_LENGTH = 256;

    // ─── Storage ─────────────────────────────────────────────────────────────────────────────

    IConsentManager private immutable _consent;
    ICredentialRegistry private immutable _credentials;

    // Keyed by the ciphertext's hash, so `verify(hash)` is one read. Patient, category, time, kind,
    // the superseded flag and the author's number share one slot; the URI and predecessor live in
    // the event only.
    mapping(bytes32 contentHash => Record) private _records;

    // Authors are few (institutions, practitioners) and records many, so an author is stored in a
    // record as a 32-bit number given at its first anchor: the author costs a record no second slot
    // (20,000 gas each), and an author pays two slots once. The patient, already in the record, is
    // number 0 and never numbered.
    mapping(address author => uint32) private _authorIds;
    mapping(uint32 authorId => address) private _authors;
    uint32 private _authorCount;

    // Only written by `amendRecord`, so an anchor pays nothing for amendments.
    mapping(bytes32 original => bytes32 amendment) private _latestAmendments;

    constructor(IConsentManager consent_) {
        if (address(consent_) == address(0)) revert ZeroAddress();
        _consent = consent_;
        _credentials = consent_.credentials();
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
        _requireNewRecord(contentHash, uri);
        if (!_consent.canWrite(msg.sender, patient, category)) revert NotAllowedToWrite(msg.sender, patient, category);
        uint32 authorId = msg.sender == patient ? 0 : _authorIdOf(msg.sender);
        if (supersedes != 0) {
            Record storage previous = _records[supersedes];
            if (previous.patient == address(0)) revert RecordNotFound(supersedes);
            if (previous.patient != patient || previous.category != category) revert VersionMismatch(supersedes);
            if (previous.kind != RecordKind.Entry) revert AmendmentNotSupersedable(supersedes);
            if (previous.superseded) revert RecordAlreadySuperseded(supersedes);
            if (previous.authorId != authorId) {
                address author = _author(previous);
                if (!_actsForAuthor(msg.sender, author, previous.anchoredAt)) {
                    revert NotRecordAuthor(msg.sender, supersedes, author);
                }
            }
            previous.superseded = true;
        }
        _records[contentHash] = Record(patient, category, _time(), false, RecordKind.Entry, authorId);
        emit RecordAnchored(contentHash, patient, msg.sender, category, supersedes, uri);
    }

    /// @inheritdoc IRecordRegistry
    function amendRecord(bytes32 original, bytes32 contentHash, string calldata uri) external {
        _requireNewRecord(contentHash, uri);
        Record storage amended = _records[original];
        address patient = amended.patient;
        if (patient == address(0)) revert RecordNotFound(original);
        if (msg.sender != patient) revert NotRecordPatient(msg.sender, original);
        if (amended.kind != RecordKind.Entry || amended.authorId == 0) revert NotAmendable(original);
        RecordCategory category = amended.category;
        bytes32 previous = _latestAmendments[original];
        if (previous != 0) _records[previous].superseded = true;
        _latestAmendments[original] = contentHash;
        _records[contentHash] = Record(patient, category, _time(), false, RecordKind.Amendment, 0);
        emit RecordAnchored(contentHash, patient, msg.sender, category, previous, uri);
        emit RecordAmended(original, contentHash, patient);
    }

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IRecordRegistry
    function verify(bytes32 contentHash) public view returns (RecordStatus) {
        Record storage stored = _records[contentHash];
        if (stored.patient == address(0)) return RecordStatus.Unknown;
        return stored.superseded ? RecordStatus.Superseded : RecordStatus.Current;
    }

    /// @inheritdoc IRecordRegistry
    function verifyWithAuthor(bytes32 contentHash) external view returns (RecordStatus status, address author) {
        Record storage stored = _records[contentHash];
        return (verify(contentHash), _author(stored));
    }

    /// @inheritdoc IRecordRegistry
    function record(bytes32 contentHash) external view returns (RecordDetails memory) {
        Record storage stored = _records[contentHash];
        return RecordDetails({
            patient: stored.patient,
            author: _author(stored),
            category: stored.category,
            kind: stored.kind,
            anchoredAt: stored.anchoredAt,
            superseded: stored.superseded,
            latestAmendment: _latestAmendments[contentHash]
        });
    }

    /// @inheritdoc IRecordRegistry
    function latestAmendment(bytes32 original) external view returns (bytes32) {
        return _latestAmendments[original];
    }

    /// @inheritdoc IRecordRegistry
    function consent() external view returns (IConsentManager) {
        return _consent;
    }

    /// @inheritdoc IRecordRegistry
    function credentials() external view returns (ICredentialRegistry) {
        return _credentials;
    }

    // ─── Internal ────────────────────────────────────────────────────────────────────────────

    /// @dev Block time as a uint40; virtual so a test harness can move time without a node.
    function _time() internal view virtual returns (uint40) {
        return uint40(block.timestamp);
    }

    function _requireNewRecord(bytes32 contentHash, string calldata uri) private view {
        if (contentHash == 0) revert ZeroContentHash();
        if (bytes(uri).length == 0 || bytes(uri).length > MAX_URI_LENGTH) revert InvalidUri(bytes(uri).length);
        if (_records[contentHash].patient != address(0)) revert RecordAlreadyAnchored(contentHash);
    }

    /// @dev The author's number, given now if this is its first anchor. Reverts (overflow) after
    /// 2^32 - 1 authors.
    function _authorIdOf(address author) private returns (uint32 id) {
        id = _authorIds[author];
        if (id == 0) {
            id = ++_authorCount;
            _authorIds[author] = id;
            _authors[id] = author;
        }
    }

    /// @dev The address behind a stored record's author number (the patient for number 0; zero for no record).
    function _author(Record storage stored) private view returns (address) {
        uint32 id = stored.authorId;
        return id == 0 ? stored.patient : _authors[id];
    }

    /// @dev Whether `account` acts for `author`, who anchored a record at `anchoredAt`: a practitioner
    /// employed now by the authoring institution, or the institution that has employed the
    /// authoring practitioner since no later than the record.
    function _actsForAuthor(address account, address author, uint40 anchoredAt) private view returns (bool) {
        if (_credentials.isEmployedBy(account, author)) return true;
        return _credentials.isEmployedBy(author, account) && _credentials.employment(author, account).since <= anchoredAt;
    }
}
