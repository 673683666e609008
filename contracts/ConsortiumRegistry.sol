// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IConsortiumRegistry} from "./interfaces/IConsortiumRegistry.sol";
import {Institution, InstitutionKind, InstitutionStatus} from "./types/MedLedgerTypes.sol";

/// @title ConsortiumRegistry
/// @notice Accredited institutions, regulators and licensing authorities of a medledger consortium.
contract ConsortiumRegistry is IConsortiumRegistry, AccessControlDefaultAdminRules {
    /// @inheritdoc IConsortiumRegistry
    bytes32 public constant REGULATOR_ROLE = keccak256("medledger.role.regulator");
    /// @inheritdoc IConsortiumRegistry
    bytes32 public constant LICENSING_AUTHORITY_ROLE = keccak256("medledger.role.licensing-authority");

    // ─── Storage ─────────────────────────────────────────────────────────────────────────────

    // Kind, status and accreditation time share one slot, so a membership check is one SLOAD.
    mapping(address account => Institution) private _institutions;

    /// @param initialAdmin the consortium admin; use a multisig or timelock in production
    /// @param adminTransferDelay seconds a scheduled admin transfer waits before it can be accepted
    constructor(address initialAdmin, uint48 adminTransferDelay)
        AccessControlDefaultAdminRules(adminTransferDelay, initialAdmin)
    {}

    // ─── Operations ──────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IConsortiumRegistry
    function accreditInstitution(address account, InstitutionKind kind, bytes32 profileHash)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (account == address(0)) revert ZeroAddress();
        Institution storage record = _institutions[account];
        if (record.status != InstitutionStatus.None) revert InstitutionAlreadyAccredited(account);
        record.kind = kind;
        record.status = InstitutionStatus.Active;
        record.accreditedAt = uint40(block.timestamp);
        record.profileHash = profileHash;
        emit InstitutionAccredited(account, kind, profileHash);
    }

    /// @inheritdoc IConsortiumRegistry
    function suspendInstitution(address account, uint16 reasonCode) external {
        (Institution storage record, InstitutionStatus status) = _managedInstitution(account);
        if (status == InstitutionStatus.Suspended) revert InstitutionAlreadySuspended(account);
        record.status = InstitutionStatus.Suspended;
        emit InstitutionSuspended(account, msg.sender, reasonCode);
    }

    /// @inheritdoc IConsortiumRegistry
    function reinstateInstitution(address account) external {
        (Institution storage record, InstitutionStatus status) = _managedInstitution(account);
        if (status == InstitutionStatus.Active) revert InstitutionNotSuspended(account);
        record.status = InstitutionStatus.Active;
        emit InstitutionReinstated(account, msg.sender);
    }

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IConsortiumRegistry
    function institution(address account) external view returns (Institution memory) {
        return _institutions[account];
    }

    /// @inheritdoc IConsortiumRegistry
    function isMember(address account, InstitutionKind kind) external view returns (bool) {
        Institution storage record = _institutions[account];
        return record.status == InstitutionStatus.Active && record.kind == kind;
    }

    /// @inheritdoc IConsortiumRegistry
    function isActiveInstitution(address account) external view returns (bool) {
        return _institutions[account].status == InstitutionStatus.Active;
    }

    /// @inheritdoc IConsortiumRegistry
    function institutionStatus(address account) external view returns (InstitutionStatus) {
        return _institutions[account].status;
    }

    /// @inheritdoc IConsortiumRegistry
    function isRegulator(address account) external view returns (bool) {
        return hasRole(REGULATOR_ROLE, account);
    }

    /// @inheritdoc IConsortiumRegistry
    function isLicensingAuthority(address account) external view returns (bool) {
        return hasRole(LICENSING_AUTHORITY_ROLE, account);
    }

    // ─── Internal ────────────────────────────────────────────────────────────────────────────

    /// @dev Every role grant (regulator, licensing authority, admin transfer) refuses the zero address.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (account == address(0)) revert ZeroAddress();
        return super._grantRole(role, account);
    }

    /// @dev The record of `account` and its status, after checking that the caller is the admin
    /// or a regulator and that `account` was accredited.
    function _managedInstitution(address account)
        private
        view
        returns (Institution storage record, InstitutionStatus status)
    {
        if (msg.sender != defaultAdmin() && !hasRole(REGULATOR_ROLE, msg.sender)) {
            revert NotAdminOrRegulator(msg.sender);
        }
        record = _institutions[account];
        status = record.status;
        if (status == InstitutionStatus.None) revert InstitutionNotAccredited(account);
    }
}
