// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    AccessBasis,
    BreakGlassPolicy,
    BreakGlassSession,
    BreakGlassUsage,
    Grant,
    Purpose,
    RecordCategory
} from "../types/MedLedgerTypes.sol";
import {IConsortiumRegistry} from "./IConsortiumRegistry.sol";
import {ICredentialRegistry} from "./ICredentialRegistry.sol";
import {IPatientRegistry} from "./IPatientRegistry.sol";

/// @title Patient consent to read records, referrals, and break-glass emergency access.
/// @notice A patient (or an active delegate) grants a grantee, practitioner or institution, access
/// to a set of record categories for a purpose until an expiry, by transaction or by an EIP-712
/// signature that anyone may relay; and revokes it the same two ways. A grant is one slot keyed by
/// (patient, grantee): granting again replaces it. Access also needs the grantee to be credentialed
/// at the moment of access (`ICredentialRegistry.isCredentialed`), so a revoked licence stops
/// every grant it carried with no per-grant write. A grant may allow one referral to a credentialed
/// institution, for no more categories and no longer than itself; revoking or replacing the
/// referring grant ends the referral too. In an emergency a licensed practitioner opens a
/// break-glass session without consent, bounded in time and in number, flagged in events that the
/// patient and the regulator filter on. Every read of a record is logged here by its reader, on the
/// ground and for the purpose this contract finds; a read without access reverts.
interface IConsentManager {
    /// @notice The terms of a grant, as the patient sets them.
    struct GrantTerms {
        address grantee; // practitioner or institution wallet
        uint16 categories; // mask of readable categories, bit `1 << RecordCategory`
        uint16 writeCategories; // subset of `categories` in which the grantee may anchor records
        Purpose purpose;
        uint40 validUntil; // end of the grant (exclusive)
        bool referralAllowed; // the grantee may refer the patient on once
    }

    // ─── Errors ──────────────────────────────────────────────────────────────────────────────

    /// @notice An address argument was the zero address.
    error ZeroAddress();

    /// @notice `patient` is not a registered patient.
    error PatientNotRegistered(address patient);

    /// @notice `account` is neither the patient `patient` nor one of its active delegates.
    error NotPatientOrDelegate(address account, address patient);

    /// @notice A patient cannot be the grantee of its own records.
    error SelfGrant(address patient);

    /// @notice The category mask `categories` is empty, names categories that do not exist, or is
    /// not within the categories it must be a subset of.
    error InvalidCategories(uint16 categories);

    /// @notice The end `validUntil` is not after `currentTime`, or is later than allowed (`limit`).
    error InvalidExpiry(uint40 validUntil, uint40 currentTime, uint40 limit);

    /// @notice `patient` has no grant for `grantee`.
    error GrantNotFound(address patient, address grantee);

    /// @notice `grantee`'s grant from `patient` has expired.
    error GrantExpired(address patient, address grantee);

    /// @notice `grantee`'s grant from `patient` does not allow a referral, or its referral was already used.
    error ReferralNotAllowed(address patient, address grantee);

    /// @notice `institution` is not an active institution with a valid accreditation.
    error NotCredentialedInstitution(address institution);

    /// @notice `account` is not credentialed (licence, nursing or pharmacist licence, or accreditation).
    error NotCredentialed(address account);

    /// @notice `grantee` already holds a live grant from `patient`; a referral never overrides the patient's own grant.
    error GrantAlreadyExists(address patient, address grantee);

    /// @notice `account` does not hold a valid medical licence.
    error NotLicensedPractitioner(address account);

    /// @notice The break-glass duration `duration` is zero or above the maximum `maxDuration`.
    error InvalidBreakGlassDuration(uint40 duration, uint40 maxDuration);

    /// @notice `practitioner` already has an open break-glass session for `patient`.
    error BreakGlassAlreadyOpen(address patient, address practitioner);

    /// @notice `practitioner` has no open break-glass session for `patient`.
    error BreakGlassNotOpen(address patient, address practitioner);

    /// @notice `practitioner` has opened the most break-glass sessions allowed until `windowEndsAt`.
    error BreakGlassLimitReached(address practitioner, uint40 windowEndsAt);

    /// @notice `account` may not close this session: only the patient, a delegate, the practitioner or a regulator.
    error NotBreakGlassParty(address account);

    /// @notice `account` is not the consortium admin.
    error NotConsortiumAdmin(address account);

    /// @notice The break-glass policy is invalid: every limit must be positive, a session no longer
    /// than the window, and the window at most 366 days.
    error InvalidBreakGlassPolicy();

    /// @notice The record id was zero.
    error ZeroRecord();

    /// @notice `reader` has no access to `patient`'s records of `category` right now.
    error AccessDenied(address reader, address patient, RecordCategory category);

    /// @notice The signature's deadline `deadline` has passed (now `currentTime`).
    error SignatureExpired(uint256 deadline, uint256 currentTime);

    /// @notice The signature is not a valid signature of `signer` over the request.
    error InvalidSignature(address signer);

    // ─── Events ──────────────────────────────────────────────────────────────────────────────

    /// @notice `by` (the patient or a delegate) granted `grantee` access to `patient`'s records.
    event AccessGranted(
        address indexed patient,
        address indexed grantee,
        address indexed by,
        uint16 categories,
        uint16 writeCategories,
        Purpose purpose,
        uint40 validUntil,
        bool referralAllowed
    );

    /// @notice `by` revoked `grantee`'s access to `patient`'s records.
    event AccessRevoked(address indexed patient, address indexed grantee, address indexed by);

    /// @notice `by` voided every signed consent of `patient` not yet relayed (nonce `nonce` used up).
    event SignaturesCancelled(address indexed patient, address indexed by, uint256 nonce);

    /// @notice `referrer` referred `patient` to `institution` for `categories` until `validUntil`.
    event PatientReferred(
        address indexed patient,
        address indexed referrer,
        address indexed institution,
        uint16 categories,
        uint16 writeCategories,
        uint40 validUntil
    );

    /// @notice `practitioner` opened emergency access to `patient` without consent, until `until`.
    event BreakGlassOpened(
        address indexed patient, address indexed practitioner, uint16 reasonCode, uint40 until
    );

    /// @notice The break-glass session of `practitioner` on `patient` was closed early by `by`.
    event BreakGlassClosed(address indexed patient, address indexed practitioner, address indexed by);

    /// @notice `reader` read record `record` (of `category`) of `patient` on ground `basis` for
    /// `purpose`. A `basis` of BreakGlass flags an emergency read without consent.
    event RecordAccessed(
        bytes32 indexed record,
        address indexed patient,
        address indexed reader,
        RecordCategory category,
        AccessBasis basis,
        Purpose purpose
    );

    /// @notice The consortium admin set the break-glass limits.
    event BreakGlassPolicySet(uint40 maxDuration, uint40 window, uint16 maxSessionsPerWindow);

    // ─── Grants ──────────────────────────────────────────────────────────────────────────────

    /// @notice Grants `terms.grantee` access to `patient`'s records, replacing any grant it held.
    /// The patient or an active delegate. Replacing a grant that made a referral ends the referral.
    function grantAccess(address patient, GrantTerms calldata terms) external;

    /// @notice Same as `grantAccess`, authorised by an EIP-712 `Grant` signature of the patient or
    /// an active delegate (`signer`), relayed by anyone. ERC-1271 contract wallets may sign.
    /// @param nonce the patient's current nonce, `nonces(patient)`
    /// @param deadline last second at which the signature may be used
    function grantAccessWithSignature(
        address patient,
        GrantTerms calldata terms,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Revokes `grantee`'s access to `patient`'s records, and any referral it made. The
    /// patient or an active delegate. It also voids every signed consent of the patient that was not
    /// relayed yet (it uses up the nonce), so a signed grant handed out earlier cannot bring the
    /// access back, and a stale signed revocation cannot end a later grant.
    function revokeAccess(address patient, address grantee) external;

    /// @notice Voids every signed grant and revocation of `patient` not yet relayed, by using up its
    /// nonce. The patient or an active delegate.
    function cancelSignatures(address patient) external;

    /// @notice Same as `revokeAccess`, authorised by an EIP-712 `Revoke` signature, relayed by anyone.
    function revokeAccessWithSignature(
        address patient,
        address grantee,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice The calling grantee refers `patient` to `institution`, once per grant: the
    /// institution gets a grant for the same purpose, with `categories` and `writeCategories`
    /// within the caller's, ending no later than the caller's grant. The caller must be
    /// credentialed, and the institution an active institution with a valid accreditation.
    function refer(
        address patient,
        address institution,
        uint16 categories,
        uint16 writeCategories,
        uint40 validUntil
    ) external;

    // ─── Break-glass ─────────────────────────────────────────────────────────────────────────

    /// @notice The calling practitioner, holding a valid medical licence, opens emergency access to
    /// all of `patient`'s records for `duration` seconds (at most the policy's maximum), within the
    /// policy's cap on sessions per window.
    /// @param reasonCode the emergency, as a code of the consortium's rulebook (no free text on chain)
    function openBreakGlass(address patient, uint16 reasonCode, uint40 duration) external;

    /// @notice Ends an open break-glass session now. The patient, an active delegate, the
    /// practitioner or a regulator.
    function closeBreakGlass(address patient, address practitioner) external;

    /// @notice Sets the break-glass limits. Only the consortium admin.
    function setBreakGlassPolicy(uint40 maxDuration, uint40 window, uint16 maxSessionsPerWindow) external;

    // ─── The access log ──────────────────────────────────────────────────────────────────────

    /// @notice Logs that the caller reads `record`, a record of `patient` in `category`; reverts
    /// with `AccessDenied` if it may not. The vault serves a ciphertext only against this entry,
    /// after checking that patient and category are the anchored record's (`IRecordRegistry.record`):
    /// keeping the log here, beside the grants, saves a call and a cold account on every read.
    /// @return basis the ground of the access (patient, grant, referral or break-glass)
    function logAccess(address patient, bytes32 record, RecordCategory category) external returns (AccessBasis basis);

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @notice Whether `grantee` may read `patient`'s records of `category` right now: the patient
    /// itself, a live grant covering the category with the grantee credentialed now, or an open
    /// break-glass session of a practitioner whose medical licence is valid now.
    function canAccess(address grantee, address patient, RecordCategory category) external view returns (bool);

    /// @notice Whether `grantee` may anchor `patient`'s records of `category` right now: the
    /// patient itself, or a live grant with write permission for it and the grantee credentialed.
    function canWrite(address grantee, address patient, RecordCategory category) external view returns (bool);

    /// @notice On what ground `reader` may read `patient`'s records of `category` now, and for which
    /// purpose; `AccessBasis.None` if it may not.
    function accessBasis(address reader, address patient, RecordCategory category)
        external
        view
        returns (AccessBasis basis, Purpose purpose);

    /// @notice The stored grant of `patient` to `grantee` (validUntil zero if none).
    function grantOf(address patient, address grantee) external view returns (Grant memory);

    /// @notice The institution `referrer` referred `patient` to under its current grant, or zero.
    function referralOf(address patient, address referrer) external view returns (address);

    /// @notice The break-glass session of `practitioner` on `patient` (until zero if none was opened).
    function breakGlassSession(address patient, address practitioner) external view returns (BreakGlassSession memory);

    /// @notice The break-glass limits.
    function breakGlassPolicy() external view returns (BreakGlassPolicy memory);

    /// @notice The break-glass sessions `practitioner` opened in its current window.
    function breakGlassUsage(address practitioner) external view returns (BreakGlassUsage memory);

    /// @notice The next nonce of `patient` for signed grants and revocations.
    function nonces(address patient) external view returns (uint256);

    /// @notice EIP-712 typehash of `Grant(address patient,address grantee,uint16 categories,uint16 writeCategories,uint8 purpose,uint40 validUntil,bool referralAllowed,uint256 nonce,uint256 deadline)`.
    function GRANT_TYPEHASH() external view returns (bytes32);

    /// @notice EIP-712 typehash of `Revoke(address patient,address grantee,uint256 nonce,uint256 deadline)`.
    function REVOKE_TYPEHASH() external view returns (bytes32);

    /// @notice The mask of every category that exists.
    function ALL_CATEGORIES() external view returns (uint16);

    /// @notice The registries this contract reads.
    function patients() external view returns (IPatientRegistry);

    function credentials() external view returns (ICredentialRegistry);

    function consortium() external view returns (IConsortiumRegistry);
}
