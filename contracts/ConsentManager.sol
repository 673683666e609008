// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IConsentManager} from "./interfaces/IConsentManager.sol";
import {IConsortiumRegistry} from "./interfaces/IConsortiumRegistry.sol";
import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";
import {IPatientRegistry} from "./interfaces/IPatientRegistry.sol";
import {
    AccessBasis,
    BreakGlassPolicy,
    BreakGlassSession,
    BreakGlassUsage,
    CredentialKind,
    Grant,
    Purpose,
    RecordCategory
} from "./types/MedLedgerTypes.sol";

/// @title ConsentManager
/// @notice Patient grants by transaction or EIP-712 signature, one referral per grant, and bounded,
/// flagged break-glass access.
contract ConsentManager is IConsentManager, EIP712, Nonces {
    /// @inheritdoc IConsentManager
    bytes32 public constant GRANT_TYPEHASH = keccak256(
        "Grant(address patient,address grantee,uint16 categories,uint16 writeCategories,uint8 purpose,uint40 validUntil,bool referralAllowed,uint256 nonce,uint256 deadline)"
    );
    /// @inheritdoc IConsentManager
    bytes32 public constant REVOKE_TYPEHASH =
        keccak256("Revoke(address patient,address grantee,uint256 nonce,uint256 deadline)");
    /// @inheritdoc IConsentManager
    uint16 public constant ALL_CATEGORIES = uint16((1 << (uint256(type(RecordCategory).max) + 1)) - 1);
    // Bounds the policy so that window arithmetic on uint40 timestamps cannot overflow.
    uint40 private constant MAX_WINDOW = 366 days;

    // ─── Storage ─────────────────────────────────────────────────────────────────────────────

    IPatientRegistry private immutable _patients;
    ICredentialRegistry private immutable _credentials;
    IConsortiumRegistry private immutable _consortium;

    // One slot per (patient, grantee), so an access check reads one slot here and never iterates.
    mapping(address patient => mapping(address grantee => Grant)) private _grants;

    // The institution each grantee referred the patient to. Written only by a referral, so that
    // revoking the referring grant can end the referral in O(1), and cleared with that grant.
    mapping(address patient => mapping(address referrer => address institution)) private _referrals;

    mapping(address patient => mapping(address practitioner => BreakGlassSession)) private _breakGlass;
    mapping(address practitioner => BreakGlassUsage) private _breakGlassUsage;
    BreakGlassPolicy private _policy;

    constructor(
        IPatientRegistry patients_,
        ICredentialRegistry credentials_,
        BreakGlassPolicy memory policy
    ) EIP712("medledger ConsentManager", "1") {
        if (address(patients_) == address(0) || address(credentials_) == address(0)) revert ZeroAddress();
        _patients = patients_;
        _credentials = credentials_;
        _consortium = credentials_.consortium();
        _setBreakGlassPolicy(policy.maxDuration, policy.window, policy.maxSessionsPerWindow);
    }

    // ─── Grants ──────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IConsentManager
    function grantAccess(address patient, GrantTerms calldata terms) external {
        _requireActingFor(msg.sender, patient);
        _grant(patient, terms, msg.sender);
    }

    /// @inheritdoc IConsentManager
    function grantAccessWithSignature(
        address patient,
        GrantTerms calldata terms,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(
                GRANT_TYPEHASH,
                patient,
                terms.grantee,
                terms.categories,
                terms.writeCategories,
                terms.purpose,
                terms.validUntil,
                terms.referralAllowed,
                nonce,
                deadline
            )
        );
        _useSignature(patient, signer, nonce, deadline, structHash, signature);
        _grant(patient, terms, signer);
    }

    /// @inheritdoc IConsentManager
    function revokeAccess(address patient, address grantee) external {
        _requireActingFor(msg.sender, patient);
        _revoke(patient, grantee, msg.sender);
        emit SignaturesCancelled(patient, msg.sender, _useNonce(patient));
    }

    /// @inheritdoc IConsentManager
    function cancelSignatures(address patient) external {
        _requireActingFor(msg.sender, patient);
        emit SignaturesCancelled(patient, msg.sender, _useNonce(patient));
    }

    /// @inheritdoc IConsentManager
    function revokeAccessWithSignature(
        address patient,
        address grantee,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(abi.encode(REVOKE_TYPEHASH, patient, grantee, nonce, deadline));
        _useSignature(patient, signer, nonce, deadline, structHash, signature);
        _revoke(patient, grantee, signer);
    }

    /// @inheritdoc IConsentManager
    function refer(
        address patient,
        address institution,
        uint16 categories,
        uint16 writeCategories,
        uint40 validUntil
    ) external {
        Grant storage original = _grants[patient][msg.sender];
        uint40 originalEnd = original.validUntil;
        if (originalEnd == 0) revert GrantNotFound(patient, msg.sender);
        uint40 currentTime = _time();
        if (originalEnd <= currentTime) revert GrantExpired(patient, msg.sender);
        if (!original.referralAllowed || _referrals[patient][msg.sender] != address(0)) {
            revert ReferralNotAllowed(patient, msg.sender);
        }
        if (!_credentials.isCredentialed(msg.sender)) revert NotCredentialed(msg.sender);
        if (!_consortium.isActiveInstitution(institution) || !_credentials.isCredentialed(institution)) {
            revert NotCredentialedInstitution(institution);
        }
        if (institution == patient) revert SelfGrant(patient);
        _requireCategories(categories, original.categories);
        if (writeCategories & ~(categories & original.writeCategories) != 0) revert InvalidCategories(writeCategories);
        if (validUntil <= currentTime || validUntil > originalEnd) {
            revert InvalidExpiry(validUntil, currentTime, originalEnd);
        }
        Grant storage target = _grants[patient][institution];
        uint40 targetEnd = target.validUntil;
        if (targetEnd > currentTime) revert GrantAlreadyExists(patient, institution);
        if (targetEnd != 0) _endReferral(patient, institution, msg.sender);

        _referrals[patient][msg.sender] = institution;
        target.referredBy = msg.sender;
        target.categories = categories;
        target.writeCategories = writeCategories;
        target.purpose = original.purpose;
        target.validUntil = validUntil;
        target.referralAllowed = false;
        emit PatientReferred(patient, msg.sender, institution, categories, writeCategories, validUntil);
    }

    // ─── Break-glass ─────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IConsentManager
    function openBreakGlass(address patient, uint16 reasonCode, uint40 duration) external {
        if (!_credentials.isValid(msg.sender, CredentialKind.Licence, 0)) revert NotLicensedPractitioner(msg.sender);
        if (!_patients.isRegistered(patient)) revert PatientNotRegistered(patient);
        if (patient == msg.sender) revert SelfGrant(patient);
        BreakGlassPolicy memory policy = _policy;
        if (duration == 0 || duration > policy.maxDuration) {
            revert InvalidBreakGlassDuration(duration, policy.maxDuration);
        }
        BreakGlassSession storage session = _breakGlass[patient][msg.sender];
        uint40 currentTime = _time();
        if (session.until > currentTime) revert BreakGlassAlreadyOpen(patient, msg.sender);

        BreakGlassUsage storage usage = _breakGlassUsage[msg.sender];
        if (currentTime >= usage.windowStart + policy.window) {
            usage.windowStart = currentTime;
            usage.sessions = 0;
        }
        if (usage.sessions >= policy.maxSessionsPerWindow) {
            revert BreakGlassLimitReached(msg.sender, usage.windowStart + policy.window);
        }
        usage.sessions += 1;

        uint40 until = currentTime + duration;
        session.openedAt = currentTime;
        session.until = until;
        session.reasonCode = reasonCode;
        emit BreakGlassOpened(patient, msg.sender, reasonCode, until);
    }

    /// @inheritdoc IConsentManager
    function closeBreakGlass(address patient, address practitioner) external {
        BreakGlassSession storage session = _breakGlass[patient][practitioner];
        uint40 currentTime = _time();
        if (session.until <= currentTime) revert BreakGlassNotOpen(patient, practitioner);
        bool party = msg.sender == practitioner || _patients.canActFor(msg.sender, patient)
            || _consortium.isRegulator(msg.sender);
        if (!party) revert NotBreakGlassParty(msg.sender);
        session.until = currentTime;
        emit BreakGlassClosed(patient, practitioner, msg.sender);
    }

    /// @inheritdoc IConsentManager
    function setBreakGlassPolicy(uint40 maxDuration, uint40 window, uint16 maxSessionsPerWindow) external {
        // The consortium admin is the DEFAULT_ADMIN_ROLE holder of the consortium registry.
        if (!IAccessControl(address(_consortium)).hasRole(0x00, msg.sender)) revert NotConsortiumAdmin(msg.sender);
        _setBreakGlassPolicy(maxDuration, window, maxSessionsPerWindow);
    }

    // ─── The access log ──────────────────────────────────────────────────────────────────────

    /// @inheritdoc IConsentManager
    function logAccess(address patient, bytes32 record, RecordCategory category) external returns (AccessBasis basis) {
        if (record == 0) revert ZeroRecord();
        Purpose purpose;
        (basis, purpose) = accessBasis(msg.sender, patient, category);
        if (basis == AccessBasis.None) revert AccessDenied(msg.sender, patient, category);
        emit RecordAccessed(record, patient, msg.sender, category, basis, purpose);
    }

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IConsentManager
    function canAccess(address grantee, address patient, RecordCategory category) external view returns (bool) {
        (AccessBasis basis,) = accessBasis(grantee, patient, category);
        return basis != AccessBasis.None;
    }

    /// @inheritdoc IConsentManager
    function canWrite(address grantee, address patient, RecordCategory category) external view returns (bool) {
        if (grantee == patient) return _patients.isRegistered(patient);
        Grant storage stored = _grants[patient][grantee];
        return stored.validUntil > _time() && stored.writeCategories & _bit(category) != 0
            && _credentials.isCredentialed(grantee);
    }

    /// @inheritdoc IConsentManager
    function accessBasis(address reader, address patient, RecordCategory category)
        public
        view
        returns (AccessBasis, Purpose)
    {
        if (reader == patient) {
            return _patients.isRegistered(patient)
                ? (AccessBasis.Patient, Purpose.PatientRequest)
                : (AccessBasis.None, Purpose.Treatment);
        }
        uint40 currentTime = _time();
        Grant storage stored = _grants[patient][reader];
        if (
            stored.validUntil > currentTime && stored.categories & _bit(category) != 0
                && _credentials.isCredentialed(reader)
        ) {
            return (stored.referredBy == address(0) ? AccessBasis.Grant : AccessBasis.Referral, stored.purpose);
        }
        if (
            _breakGlass[patient][reader].until > currentTime
                && _credentials.isValid(reader, CredentialKind.Licence, 0)
        ) {
            return (AccessBasis.BreakGlass, Purpose.Emergency);
        }
        return (AccessBasis.None, Purpose.Treatment);
    }

    /// @inheritdoc IConsentManager
    function grantOf(address patient, address grantee) external view returns (Grant memory) {
        return _grants[patient][grantee];
    }

    /// @inheritdoc IConsentManager
    function referralOf(address patient, address referrer) external view returns (address) {
        return _referrals[patient][referrer];
    }

    /// @inheritdoc IConsentManager
    function breakGlassSession(address patient, address practitioner)
        external
        view
        returns (BreakGlassSession memory)
    {
        return _breakGlass[patient][practitioner];
    }

    /// @inheritdoc IConsentManager
    function breakGlassPolicy() external view returns (BreakGlassPolicy memory) {
        return _policy;
    }

    /// @inheritdoc IConsentManager
    function breakGlassUsage(address practitioner) external view returns (BreakGlassUsage memory) {
        return _breakGlassUsage[practitioner];
    }

    /// @inheritdoc IConsentManager
    function nonces(address patient) public view override(IConsentManager, Nonces) returns (uint256) {
        return super.nonces(patient);
    }

    /// @inheritdoc IConsentManager
    function patients() external view returns (IPatientRegistry) {
        return _patients;
    }

    /// @inheritdoc IConsentManager
    function credentials() external view returns (ICredentialRegistry) {
        return _credentials;
    }

    /// @inheritdoc IConsentManager
    function consortium() external view returns (IConsortiumRegistry) {
        return _consortium;
    }

    // ─── Internal ────────────────────────────────────────────────────────────────────────────

    /// @dev Block time as a uint40; virtual so a test harness can move time without a node.
    function _time() internal view virtual returns (uint40) {
        return uint40(block.timestamp);
    }

    function _bit(RecordCategory category) private pure returns (uint16) {
        return uint16(1 << uint8(category));
    }

    /// @dev `categories` must be non-empty and within `allowed`.
    function _requireCategories(uint16 categories, uint16 allowed) private pure {
        if (categories == 0 || categories & ~allowed != 0) revert InvalidCategories(categories);
    }

    function _requireActingFor(address account, address patient) private view {
        if (_patients.canActFor(account, patient)) return;
        if (!_patients.isRegistered(patient)) revert PatientNotRegistered(patient);
        revert NotPatientOrDelegate(account, patient);
    }

    /// @dev Checks a signed request: deadline, signer's standing, nonce (consumed), signature.
    function _useSignature(
        address patient,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes32 structHash,
        bytes calldata signature
    ) private {
        if (block.timestamp > deadline) revert SignatureExpired(deadline, block.timestamp);
        _requireActingFor(signer, patient);
        _useCheckedNonce(patient, nonce);
        if (!SignatureChecker.isValidSignatureNow(signer, _hashTypedDataV4(structHash), signature)) {
            revert InvalidSignature(signer);
        }
    }

    function _grant(address patient, GrantTerms calldata terms, address by) private {
        address grantee = terms.grantee;
        if (grantee == address(0)) revert ZeroAddress();
        if (grantee == patient) revert SelfGrant(patient);
        _requireCategories(terms.categories, ALL_CATEGORIES);
        if (terms.writeCategories & ~terms.categories != 0) revert InvalidCategories(terms.writeCategories);
        uint40 currentTime = _time();
        if (terms.validUntil <= currentTime) revert InvalidExpiry(terms.validUntil, currentTime, type(uint40).max);

        Grant storage stored = _grants[patient][grantee];
        if (stored.validUntil != 0) _endReferral(patient, grantee, by);
        _grants[patient][grantee] = Grant({
            referredBy: address(0),
            categories: terms.categories,
            writeCategories: terms.writeCategories,
            purpose: terms.purpose,
            validUntil: terms.validUntil,
            referralAllowed: terms.referralAllowed
        });
        emit AccessGranted(
            patient,
            grantee,
            by,
            terms.categories,
            terms.writeCategories,
            terms.purpose,
            terms.validUntil,
            terms.referralAllowed
        );
    }

    function _revoke(address patient, address grantee, address by) private {
        if (_grants[patient][grantee].validUntil == 0) revert GrantNotFound(patient, grantee);
        delete _grants[patient][grantee];
        emit AccessRevoked(patient, grantee, by);
        _endReferral(patient, grantee, by);
    }

    /// @dev Ends the referral `referrer` made, if the referred institution still holds that
    /// referral's grant (the patient may since have granted it directly; that grant stays).
    function _endReferral(address patient, address referrer, address by) private {
        address institution = _referrals[patient][referrer];
        if (institution == address(0)) return;
        delete _referrals[patient][referrer];
        if (_grants[patient][institution].referredBy == referrer) {
            delete _grants[patient][institution];
            emit AccessRevoked(patient, institution, by);
        }
    }

    function _setBreakGlassPolicy(uint40 maxDuration, uint40 window, uint16 maxSessionsPerWindow) private {
        bool valid = maxDuration != 0 && maxSessionsPerWindow != 0 && maxDuration <= window && window <= MAX_WINDOW;
        if (!valid) revert InvalidBreakGlassPolicy();
        _policy = BreakGlassPolicy(maxDuration, window, maxSessionsPerWindow);
        emit BreakGlassPolicySet(maxDuration, window, maxSessionsPerWindow);
    }
}
