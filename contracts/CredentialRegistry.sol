// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";
import {IConsortiumRegistry} from "./interfaces/IConsortiumRegistry.sol";
import {
    Credential,
    CredentialKind,
    CredentialStatus,
    CredentialValidity,
    Employment,
    EmploymentStatus,
    InstitutionStatus
} from "./types/MedLedgerTypes.sol";

/// @title CredentialRegistry
/// @notice Credentials issued by the consortium's licensing authorities, and employment links.
contract CredentialRegistry is ICredentialRegistry {
    // ─── Storage ─────────────────────────────────────────────────────────────────────────────

    IConsortiumRegistry private immutable _consortium;

    // Keyed by credentialId(subject, kind, scope): the key answers "licensed for X" without an index.
    // Issuer, window, kind and status share the first slot, so a check reads one slot.
    mapping(bytes32 id => Credential) private _credentials;

    mapping(address practitioner => mapping(address institution => Employment)) private _employments;

    constructor(IConsortiumRegistry consortium_) {
        if (address(consortium_) == address(0)) revert ZeroAddress();
        _consortium = consortium_;
    }

    // ─── Credentials ─────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICredentialRegistry
    function issueCredential(
        address subject,
        CredentialKind kind,
        uint64 scope,
        uint40 validFrom,
        uint40 validUntil,
        bytes32 documentHash
    ) external returns (bytes32 id) {
        if (!_consortium.isLicensingAuthority(msg.sender)) revert NotLicensingAuthority(msg.sender);
        if (subject == address(0)) revert ZeroAddress();
        uint40 currentTime = _time();
        if (validUntil <= validFrom || validUntil <= currentTime) {
            revert InvalidValidityWindow(validFrom, validUntil, currentTime);
        }
        // Accreditations to active institutions only, practitioner credentials never to an institution.
        InstitutionStatus standing = _consortium.institutionStatus(subject);
        if (kind == CredentialKind.Accreditation) {
            if (standing != InstitutionStatus.Active) revert SubjectNotInstitution(subject);
        } else if (standing != InstitutionStatus.None) {
            revert SubjectIsInstitution(subject);
        }
        id = _credentialId(subject, kind, scope);
        Credential storage stored = _credentials[id];
        CredentialStatus previous = stored.status;
        // A hold outlives expiry: only Active is replaceable once expired.
        if (_isHeld(previous)) revert CredentialHeldByRegulator(id);
        bool replaceable = previous == CredentialStatus.None || previous == CredentialStatus.Revoked
            || (previous == CredentialStatus.Active && stored.validUntil <= currentTime);
        if (!replaceable) revert CredentialAlreadyIssued(id);
        // A regulator's hold on one practising licence is not undone by another kind of licence.
        if (scope == 0 && _isPractice(kind)) _requireNoPracticeHold(subject, kind);

        stored.issuer = msg.sender;
        stored.validFrom = validFrom;
        stored.validUntil = validUntil;
        stored.kind = kind;
        stored.status = CredentialStatus.Active;
        stored.documentHash = documentHash;
        emit CredentialIssued(id, subject, msg.sender, kind, scope, validFrom, validUntil, documentHash);
    }

    /// @inheritdoc ICredentialRegistry
    function suspendCredential(bytes32 id, uint16 reasonCode) external {
        (Credential storage stored, bool asRegulator) = _managedCredential(id);
        CredentialStatus status = stored.status;
        if (_isRevoked(status)) revert CredentialAlreadyRevoked(id);
        // A regulator may take over an issuer's suspension, so that the issuer can no longer lift it.
        bool takeover = status == CredentialStatus.Suspended && asRegulator;
        if (status != CredentialStatus.Active && !takeover) revert CredentialAlreadySuspended(id);
        stored.status = asRegulator ? CredentialStatus.SuspendedByRegulator : CredentialStatus.Suspended;
        emit CredentialSuspended(id, msg.sender, reasonCode);
    }

    /// @inheritdoc ICredentialRegistry
    function reinstateCredential(bytes32 id) external {
        (Credential storage stored, bool asRegulator) = _managedCredential(id);
        CredentialStatus status = stored.status;
        if (_isRevoked(status)) revert CredentialAlreadyRevoked(id);
        if (status == CredentialStatus.Active) revert CredentialNotSuspended(id);
        if (status == CredentialStatus.SuspendedByRegulator && !asRegulator) {
            revert CredentialSuspendedByRegulator(id);
        }
        stored.status = CredentialStatus.Active;
        emit CredentialReinstated(id, msg.sender);
    }

    /// @inheritdoc ICredentialRegistry
    function revokeCredential(bytes32 id, uint16 reasonCode) external {
        (Credential storage stored, bool asRegulator) = _managedCredential(id);
        CredentialStatus status = stored.status;
        // A regulator may take over the issuer's revocation, so that it binds; nothing revokes twice.
        bool takeover = status == CredentialStatus.Revoked && asRegulator;
        if (_isRevoked(status) && !takeover) revert CredentialAlreadyRevoked(id);
        // The revocation is a hold when a regulator makes it, or when a regulator's suspension stood.
        stored.status = asRegulator || status == CredentialStatus.SuspendedByRegulator
            ? CredentialStatus.RevokedByRegulator
            : CredentialStatus.Revoked;
        emit CredentialRevoked(id, msg.sender, reasonCode);
    }

    /// @inheritdoc ICredentialRegistry
    function liftRegulatorHold(bytes32 id) external {
        Credential storage stored = _regulatedCredential(id);
        CredentialStatus status = stored.status;
        if (status == CredentialStatus.SuspendedByRegulator) {
            stored.status = CredentialStatus.Suspended;
        } else if (status == CredentialStatus.RevokedByRegulator) {
            stored.status = CredentialStatus.Revoked;
        } else {
            revert CredentialNotHeldByRegulator(id);
        }
        emit RegulatorHoldLifted(id, msg.sender);
    }

    /// @inheritdoc ICredentialRegistry
    function reassignCredentialIssuer(bytes32 id, address newIssuer) external {
        Credential storage stored = _regulatedCredential(id);
        if (newIssuer == address(0)) revert ZeroAddress();
        if (!_consortium.isLicensingAuthority(newIssuer)) revert NotLicensingAuthority(newIssuer);
        address previousIssuer = stored.issuer;
        if (newIssuer == previousIssuer) revert CredentialIssuerUnchanged(id, newIssuer);
        stored.issuer = newIssuer;
        emit CredentialIssuerReassigned(id, previousIssuer, newIssuer, msg.sender);
    }

    // ─── Employment ──────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICredentialRegistry
    function offerEmployment(address practitioner) external {
        if (!_consortium.isActiveInstitution(msg.sender)) revert NotActiveInstitution(msg.sender);
        if (practitioner == address(0)) revert ZeroAddress();
        if (practitioner == msg.sender) revert SelfEmployment(msg.sender);
        if (_consortium.institutionStatus(practitioner) != InstitutionStatus.None) {
            revert PractitionerIsInstitution(practitioner);
        }
        Employment storage link = _employments[practitioner][msg.sender];
        if (link.status != EmploymentStatus.None) revert EmploymentStateInvalid(practitioner, msg.sender);
        link.status = EmploymentStatus.Offered;
        emit EmploymentOffered(practitioner, msg.sender);
    }

    /// @inheritdoc ICredentialRegistry
    function acceptEmployment(address institution) external {
        Employment storage link = _employments[msg.sender][institution];
        if (link.status != EmploymentStatus.Offered) revert EmploymentStateInvalid(msg.sender, institution);
        if (!_consortium.isActiveInstitution(institution)) revert NotActiveInstitution(institution);
        if (_consortium.institutionStatus(msg.sender) != InstitutionStatus.None) {
            revert PractitionerIsInstitution(msg.sender);
        }
        link.status = EmploymentStatus.Active;
        link.since = _time();
        emit EmploymentAccepted(msg.sender, institution);
    }

    /// @inheritdoc ICredentialRegistry
    function endEmployment(address practitioner, address institution) external {
        if (msg.sender != practitioner && msg.sender != institution) revert NotEmploymentParty(msg.sender);
        if (_employments[practitioner][institution].status == EmploymentStatus.None) {
            revert EmploymentStateInvalid(practitioner, institution);
        }
        delete _employments[practitioner][institution];
        emit EmploymentEnded(practitioner, institution, msg.sender);
    }

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICredentialRegistry
    function consortium() external view returns (IConsortiumRegistry) {
        return _consortium;
    }

    /// @inheritdoc ICredentialRegistry
    function credentialId(address subject, CredentialKind kind, uint64 scope) external pure returns (bytes32) {
        return _credentialId(subject, kind, scope);
    }

    /// @inheritdoc ICredentialRegistry
    function credential(bytes32 id) external view returns (Credential memory) {
        return _credentials[id];
    }

    /// @inheritdoc ICredentialRegistry
    function check(address subject, CredentialKind kind, uint64 scope) public view returns (CredentialValidity) {
        return _check(subject, kind, scope, kind != CredentialKind.Accreditation);
    }

    /// @inheritdoc ICredentialRegistry
    function isValid(address subject, CredentialKind kind, uint64 scope) external view returns (bool) {
        return check(subject, kind, scope) == CredentialValidity.Valid;
    }

    /// @inheritdoc ICredentialRegistry
    function isCredentialed(address account) external view returns (bool) {
        // One lookup tells which branch judges the account; neither branch asks the consortium again.
        InstitutionStatus standing = _consortium.institutionStatus(account);
        if (standing != InstitutionStatus.None) {
            return standing == InstitutionStatus.Active
                && _check(account, CredentialKind.Accreditation, 0, false) == CredentialValidity.Valid;
        }
        return _check(account, CredentialKind.Licence, 0, false) == CredentialValidity.Valid
            || _check(account, CredentialKind.Nurse, 0, false) == CredentialValidity.Valid
            || _check(account, CredentialKind.Pharmacist, 0, false) == CredentialValidity.Valid;
    }

    /// @inheritdoc ICredentialRegistry
    function employment(address practitioner, address institution) external view returns (Employment memory) {
        return _employments[practitioner][institution];
    }

    /// @inheritdoc ICredentialRegistry
    function isEmployedBy(address practitioner, address institution) external view returns (bool) {
        return _employments[practitioner][institution].status == EmploymentStatus.Active
            && _consortium.isActiveInstitution(institution)
            && _consortium.institutionStatus(practitioner) == InstitutionStatus.None;
    }

    // ─── Internal ────────────────────────────────────────────────────────────────────────────

    /// @dev Block time as a uint40; virtual so a test harness can move time without a node.
    function _time() internal view virtual returns (uint40) {
        return uint40(block.timestamp);
    }

    function _credentialId(address subject, CredentialKind kind, uint64 scope) private pure returns (bytes32) {
        return keccak256(abi.encode(subject, kind, scope));
    }

    /// @dev `check`, in its documented order. `refuseInstitution`: whether to ask the consortium if
    /// `subject` is an institution (for a practitioner kind); false when the caller already knows
    /// it is not, or for an accreditation.
    function _check(address subject, CredentialKind kind, uint64 scope, bool refuseInstitution)
        private
        view
        returns (CredentialValidity)
    {
        Credential storage stored = _credentials[_credentialId(subject, kind, scope)];
        CredentialStatus status = stored.status;
        if (status == CredentialStatus.None) return CredentialValidity.Unknown;
        if (refuseInstitution && _consortium.institutionStatus(subject) != InstitutionStatus.None) {
            return CredentialValidity.SubjectIsInstitution;
        }
        if (_isRevoked(status)) return CredentialValidity.Revoked;
        if (status != CredentialStatus.Active) return CredentialValidity.Suspended;
        uint40 currentTime = _time();
        if (currentTime < stored.validFrom) return CredentialValidity.NotYetValid;
        if (currentTime >= stored.validUntil) return CredentialValidity.Expired;
        if (!_consortium.isLicensingAuthority(stored.issuer)) return CredentialValidity.IssuerNotAccredited;
        return CredentialValidity.Valid;
    }

    function _isRevoked(CredentialStatus status) private pure returns (bool) {
        return status == CredentialStatus.Revoked || status == CredentialStatus.RevokedByRegulator;
    }

    /// @dev The practising licences `isCredentialed` accepts (at scope 0).
    function _isPractice(CredentialKind kind) private pure returns (bool) {
        return kind == CredentialKind.Licence || kind == CredentialKind.Nurse || kind == CredentialKind.Pharmacist;
    }

    /// @dev Reverts with `CredentialHeldByRegulator` if a regulator holds one of `subject`'s practising
    /// licences (scope 0) other than `kind`: three kinds, so at most two reads.
    function _requireNoPracticeHold(address subject, CredentialKind kind) private view {
        CredentialKind[3] memory practice = [CredentialKind.Licence, CredentialKind.Nurse, CredentialKind.Pharmacist];
        for (uint256 i = 0; i < practice.length; ++i) {
            if (practice[i] == kind) continue;
            bytes32 heldId = _credentialId(subject, practice[i], 0);
            if (_isHeld(_credentials[heldId].status)) revert CredentialHeldByRegulator(heldId);
        }
    }

    /// @dev A regulator's hold: suspended or revoked by a regulator, not lifted since.
    function _isHeld(CredentialStatus status) private pure returns (bool) {
        return status == CredentialStatus.SuspendedByRegulator || status == CredentialStatus.RevokedByRegulator;
    }

    /// @dev The credential `id`, after checking it exists and the caller is a regulator.
    function _regulatedCredential(bytes32 id) private view returns (Credential storage stored) {
        stored = _credentials[id];
        if (stored.status == CredentialStatus.None) revert CredentialNotFound(id);
        if (!_consortium.isRegulator(msg.sender)) revert NotRegulator(msg.sender);
    }

    /// @dev The credential `id`, after checking it exists and the caller may manage it: its issuer
    /// while still a licensing authority (a withdrawn authority keeps no power over what it issued),
    /// or a regulator. `asRegulator` tells which of the two the caller acts as.
    function _managedCredential(bytes32 id) private view returns (Credential storage stored, bool asRegulator) {
        stored = _credentials[id];
        if (stored.status == CredentialStatus.None) revert CredentialNotFound(id);
        if (msg.sender == stored.issuer && _consortium.isLicensingAuthority(msg.sender)) {
            return (stored, false);
        }
        if (!_consortium.isRegulator(msg.sender)) revert NotIssuerOrRegulator(msg.sender, id);
        return (stored, true);
    }
}
