// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Institution, InstitutionKind, InstitutionStatus} from "../types/MedLedgerTypes.sol";

/// @title Consortium membership: who is an accredited institution, a regulator or a licensing authority.
/// @notice The consortium admin (in production a multisig or timelock) accredits institutions and
/// grants the REGULATOR_ROLE and LICENSING_AUTHORITY_ROLE. Admin transfer is two-step with a delay
/// (OpenZeppelin AccessControlDefaultAdminRules). Every other medledger contract asks this one
/// whether an address is an active member of a given kind.
interface IConsortiumRegistry {
    // ─── Errors ──────────────────────────────────────────────────────────────────────────────

    /// @notice An address argument was the zero address.
    error ZeroAddress();

    /// @notice `institution` is already accredited (active or suspended).
    error InstitutionAlreadyAccredited(address institution);

    /// @notice `institution` was never accredited.
    error InstitutionNotAccredited(address institution);

    /// @notice `institution` is suspended, so it cannot be suspended again.
    error InstitutionAlreadySuspended(address institution);

    /// @notice `institution` is active, so there is nothing to reinstate.
    error InstitutionNotSuspended(address institution);

    /// @notice `account` is neither the consortium admin nor a regulator.
    error NotAdminOrRegulator(address account);

    // ─── Events ──────────────────────────────────────────────────────────────────────────────

    /// @notice `institution` was accredited as a member of `kind`.
    event InstitutionAccredited(address indexed institution, InstitutionKind indexed kind, bytes32 profileHash);

    /// @notice `institution` was suspended by `by` for `reasonCode` (a code of the consortium's rulebook).
    event InstitutionSuspended(address indexed institution, address indexed by, uint16 reasonCode);

    /// @notice `institution` was reinstated by `by`.
    event InstitutionReinstated(address indexed institution, address indexed by);

    // ─── Operations ──────────────────────────────────────────────────────────────────────────

    /// @notice Accredits `institution` as a member of `kind`. Only the consortium admin.
    /// @param institution the institution's operating address (its wallet or multisig)
    /// @param kind what it is: hospital, clinic, lab, pharmacy, manufacturer, distributor, insurer
    /// @param profileHash hash of its public registry profile, so anyone can check the off-chain record
    function accreditInstitution(address institution, InstitutionKind kind, bytes32 profileHash) external;

    /// @notice Suspends an active institution; it stops passing every membership check at once.
    /// Only the consortium admin or a regulator.
    /// @param reasonCode the reason, as a code of the consortium's rulebook (no free text on chain)
    function suspendInstitution(address institution, uint16 reasonCode) external;

    /// @notice Lifts the suspension of `institution`. Only the consortium admin or a regulator.
    function reinstateInstitution(address institution) external;

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @notice The role of regulators: they may suspend members and credentials and see flagged events.
    function REGULATOR_ROLE() external view returns (bytes32);

    /// @notice The role of licensing authorities: they issue credentials.
    function LICENSING_AUTHORITY_ROLE() external view returns (bytes32);

    /// @notice The stored record of `account` (status None if it was never accredited).
    function institution(address account) external view returns (Institution memory);

    /// @notice True when `account` is an accredited, not suspended institution of `kind`.
    /// @dev Example: `isMember(pharmacy, InstitutionKind.Pharmacy)` gates dispensing.
    function isMember(address account, InstitutionKind kind) external view returns (bool);

    /// @notice True when `account` is an accredited, not suspended institution of any kind.
    function isActiveInstitution(address account) external view returns (bool);

    /// @notice The status of `account` as an institution: None if it was never accredited, else
    /// Active or Suspended. An accreditation is never undone, so anything but None means `account`
    /// is an institution for good (the credential registry then judges it only as one).
    function institutionStatus(address account) external view returns (InstitutionStatus);

    /// @notice True when `account` currently holds the regulator role.
    function isRegulator(address account) external view returns (bool);

    /// @notice True when `account` currently holds the licensing-authority role.
    function isLicensingAuthority(address account) external view returns (bool);
}
