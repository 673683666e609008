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
    // (20,000 gas each), and an author pays two slots once. A practitioner anchoring for an
    // institution (`anchorRecordFor`) is numbered apart, as the pair, and pays a third slot once per
    // institution: the pair's number carries the institution at no cost per record. The patient,
    // already in the record, is number 0 and never numbered.
    mapping(address author => mapping(address actingFor => uint32)) private _authorIds;
    mapping(uint32 authorId => address) private _authors;
    mapping(uint32 authorId => address institution) private _actingFor; // only for a pair's number
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
        _anchor(patient, category, contentHash, uri, supersedes, address(0));
    }

    /// @inheritdoc IRecordRegistry
    function anchorRecordFor(
        address patient,
        RecordCategory category,
        bytes32 contentHash,
        string calldata uri,
        bytes32 supersedes,
        address institution
    ) external {
        if (institution == address(0)) revert ZeroAddress();
        // Only a practitioner employed by the institution now (never the patient, never an institution).
        if (msg.sender == patient || !_credentials.isEmployedBy(msg.sender, institution)) {
            revert NotActingFor(msg.sender, institution);
        }
        _anchor(patient, category, contentHash, uri, supersedes, institution);
        emit RecordAnchoredFor(contentHash, msg.sender, institution);
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
            latestAmendment: _latestAmendments[contentHash],
            actingFor: _actingFor[stored.authorId]
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

    /// @dev `anchorRecord`, by `msg.sender` acting for `actingFor` (zero: for no institution).
    function _anchor(
        address patient,
        RecordCategory category,
        bytes32 contentHash,
        string calldata uri,
        bytes32 supersedes,
        address actingFor
    ) private {
        _requireNewRecord(contentHash, uri);
        if (!_consent.canWrite(msg.sender, patient, category)) revert NotAllowedToWrite(msg.sender, patient, category);
        uint32 authorId = msg.sender == patient ? 0 : _authorIdOf(msg.sender, actingFor);
        if (supersedes != 0) {
            Record storage previous = _records[supersedes];
            if (previous.patient == address(0)) revert RecordNotFound(supersedes);
            if (previous.patient != patient || previous.category != category) revert VersionMismatch(supersedes);
            if (previous.kind != RecordKind.Entry) revert AmendmentNotSupersedable(supersedes);
            if (previous.superseded) revert RecordAlreadySuperseded(supersedes);
            uint32 previousId = previous.authorId;
            // The patient's own records are the patient's alone, and the patient changes another
            // author's record only by amendment: no employment makes it, or its employer, a supersessor.
            if (previousId != authorId && (authorId == 0 || previousId == 0 || !_actsForAuthor(previousId))) {
                revert NotRecordAuthor(msg.sender, supersedes, _author(previous));
            }
            previous.superseded = true;
        }
        _records[contentHash] = Record(patient, category, _time(), false, RecordKind.Entry, authorId);
        emit RecordAnchored(contentHash, patient, msg.sender, category, supersedes, uri);
    }

    /// @dev The number of `author` acting for `actingFor` (zero: for no institution), given now if
    /// this is its first such anchor. Reverts (overflow) after 2^32 - 1 numbers.
    function _authorIdOf(address author, address actingFor) private returns (uint32 id) {
        id = _authorIds[author][actingFor];
        if (id == 0) {
            id = ++_authorCount;
            _authorIds[author][actingFor] = id;
            _authors[id] = author;
            if (actingFor != address(0)) _actingFor[id] = actingFor;
        }
    }

    /// @dev The address behind a stored record's author number (the patient for number 0; zero for no record).
    function _author(Record storage stored) private view returns (address) {
        uint32 id = stored.authorId;
        return id == 0 ? stored.patient : _authors[id];
    }

    /// @dev Whether the caller (not the patient) may supersede a record of author number `authorId`
    /// (not the patient): the same author (acting for another institution or none), the institution
    /// the author anchored it for, or, for a record an institution anchored itself, a practitioner
    /// employed by it now. (`canWrite` has already required the caller to be credentialed.)
    function _actsForAuthor(uint32 authorId) private view returns (bool) {
        address author = _authors[authorId];
        if (msg.sender == author) return true;
        address institution = _actingFor[authorId];
        if (institution != address(0)) return msg.sender == institution;
        // False when `author` is a practitioner (not an active institution) or the caller an institution.
        return _credentials.isEmployedBy(msg.sender, author);
    }
}
