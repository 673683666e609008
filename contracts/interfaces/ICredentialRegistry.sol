// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    Credential,
    CredentialKind,
    CredentialStatus,
    CredentialValidity,
    Employment
} from "../types/MedLedgerTypes.sol";
import {IConsortiumRegistry} from "./IConsortiumRegistry.sol";

/// @title Practitioner and institution credentials, and employment links.
/// @notice Licensing authorities (accredited in the consortium) issue credentials: licence, specialty,
/// pharmacist, nurse, institution accreditation. A credential is identified by
/// `credentialId(subject, kind, scope)`: one live credential per subject, kind and scope, so
/// "is this doctor licensed for X today" is a single call, `check(subject, kind, scope)`.
/// A credential passes only inside its validity window, while neither suspended nor revoked, and
/// while its issuer still holds the licensing-authority role. Practitioners are linked to
/// institutions by an offer from the institution and an acceptance by the practitioner; either
/// side ends the link.
///
/// Trust rules:
/// - A regulator's suspension or revocation binds. Once a regulator suspends or revokes a
///   credential it is held (status `SuspendedByRegulator` or `RevokedByRegulator`): no call by a
///   licensing authority, its issuer or another, makes that subject, kind and scope pass again,
///   not a reinstatement, not a revocation followed by a new issuance, not waiting for it to
///   expire. Only a regulator ends a hold: `reinstateCredential` (back to Active at once) or
///   `liftRegulatorHold` (back to the authorities: a held suspension becomes the issuer's own
///   suspension, a held revocation a plain revocation that a new issuance may replace).
/// - An address that is an institution (accredited at any time, whatever its status now) is judged
///   only as an institution: it is credentialed only while it is an active institution with a
///   valid accreditation, never through a practitioner credential. Practitioner credentials
///   (licence, specialty, pharmacist, nurse) are not issued to institutions and accreditations are
///   issued only to active institutions; and as an address may be accredited after it was
///   licensed, `check` of a practitioner kind answers `SubjectIsInstitution` for any institution,
///   so every caller of `isValid(x, Licence, 0)` (break-glass, prescribing) refuses institutions.
/// - One national register: there is one slot per (subject, kind, scope) across all licensing
///   authorities, by design (as a national practitioner register), so that the check stays one
///   call and two authorities can never give one doctor two contradicting answers. Scopes are the
///   consortium's code system (a specialty code, or a jurisdiction code where authorities are
///   regional). A slot taken by the wrong authority, or left by an authority that lost its role,
///   is resolved by a regulator: `reassignCredentialIssuer` hands the credential to the rightful
///   authority (which may then manage it, revoke it and issue anew), or the regulator revokes it
///   and lifts the hold, which frees the slot for any authority.
/// - A regulator's hold on one practising licence holds the practitioner. The practising licences
///   are those `isCredentialed` accepts: licence, nurse and pharmacist, at scope 0. While a
///   regulator holds any one of a subject's practising licences, no licensing authority issues that
///   subject another practising licence (`CredentialHeldByRegulator(heldId)` names the held one),
///   so that a licence of another kind does not bring back what the hold stopped. Practising
///   licences the subject held before the hold are not touched by it: each is a credential of its
///   own, which the regulator sees (`check`) and suspends or revokes too if it means to stop them
///   (`isCredentialed` reads no more than the credential that passes, so that every consented read
///   stays cheap).
/// - An institution is never a practitioner. An address accredited as an institution (at any time,
///   whatever its status now) is neither offered nor accepts employment as a practitioner
///   (`PractitionerIsInstitution`), and `isEmployedBy` is false for it as the practitioner, also for
///   a link made before it was accredited.
interface ICredentialRegistry {
    // ─── Errors ──────────────────────────────────────────────────────────────────────────────

    /// @notice An address argument was the zero address.
    error ZeroAddress();

    /// @notice `account` does not hold the licensing-authority role.
    error NotLicensingAuthority(address account);

    /// @notice `account` is neither the issuer of credential `id` (still a licensing authority) nor a regulator.
    error NotIssuerOrRegulator(address account, bytes32 id);

    /// @notice The window [`validFrom`, `validUntil`) is empty or already over at `currentTime`.
    error InvalidValidityWindow(uint40 validFrom, uint40 validUntil, uint40 currentTime);

    /// @notice An accreditation credential can only be issued to an accredited institution.
    error SubjectNotInstitution(address subject);

    /// @notice `subject` is an institution (accredited at some time): it cannot hold a practitioner credential.
    error SubjectIsInstitution(address subject);

    /// @notice Credential `id` is suspended, or active and not expired: it must be revoked, or
    /// reinstated and left to expire, before it can be issued again.
    error CredentialAlreadyIssued(bytes32 id);

    /// @notice Credential `id` is held by a regulator (suspended or revoked by one): nothing replaces
    /// it until a regulator lifts the hold.
    error CredentialHeldByRegulator(bytes32 id);

    /// @notice Credential `id` is not held by a regulator, so there is no hold to lift.
    error CredentialNotHeldByRegulator(bytes32 id);

    /// @notice `account` is not a regulator.
    error NotRegulator(address account);

    /// @notice Credential `id` is already managed by `issuer`.
    error CredentialIssuerUnchanged(bytes32 id, address issuer);

    /// @notice No credential `id` was ever issued.
    error CredentialNotFound(bytes32 id);

    /// @notice Credential `id` is revoked; a revocation is final for that issuance.
    error CredentialAlreadyRevoked(bytes32 id);

    /// @notice Credential `id` is already suspended.
    error CredentialAlreadySuspended(bytes32 id);

    /// @notice Credential `id` is not suspended, so there is nothing to reinstate.
    error CredentialNotSuspended(bytes32 id);

    /// @notice Credential `id` was suspended by a regulator; only a regulator can reinstate it.
    error CredentialSuspendedByRegulator(bytes32 id);

    /// @notice `account` is not an accredited, active institution.
    error NotActiveInstitution(address account);

    /// @notice The link between `practitioner` and `institution` is not in the state the call needs.
    error EmploymentStateInvalid(address practitioner, address institution);

    /// @notice `account` is neither the practitioner nor the institution of the link.
    error NotEmploymentParty(address account);

    /// @notice An institution cannot employ itself.
    error SelfEmployment(address institution);

    /// @notice `account` is an institution (accredited at some time): it is never employed as a practitioner.
    error PractitionerIsInstitution(address account);

    // ─── Events ──────────────────────────────────────────────────────────────────────────────

    /// @notice `issuer` issued credential `id` to `subject`.
    event CredentialIssued(
        bytes32 indexed id,
        address indexed subject,
        address indexed issuer,
        CredentialKind kind,
        uint64 scope,
        uint40 validFrom,
        uint40 validUntil,
        bytes32 documentHash
    );

    /// @notice Credential `id` was suspended by `by` for `reasonCode`.
    event CredentialSuspended(bytes32 indexed id, address indexed by, uint16 reasonCode);

    /// @notice Credential `id` was reinstated by `by`.
    event CredentialReinstated(bytes32 indexed id, address indexed by);

    /// @notice Credential `id` was revoked by `by` for `reasonCode`.
    event CredentialRevoked(bytes32 indexed id, address indexed by, uint16 reasonCode);

    /// @notice Regulator `by` lifted its hold on credential `id`: it is now the issuer's suspension,
    /// or a plain revocation.
    event RegulatorHoldLifted(bytes32 indexed id, address indexed by);

    /// @notice Regulator `by` handed credential `id` from `previousIssuer` to `newIssuer`.
    event CredentialIssuerReassigned(
        bytes32 indexed id, address indexed previousIssuer, address indexed newIssuer, address by
    );

    /// @notice `institution` offered `practitioner` an employment link.
    event EmploymentOffered(address indexed practitioner, address indexed institution);

    /// @notice `practitioner` accepted the link with `institution`.
    event EmploymentAccepted(address indexed practitioner, address indexed institution);

    /// @notice The link between `practitioner` and `institution` was ended by `by`.
    event EmploymentEnded(address indexed practitioner, address indexed institution, address indexed by);

    // ─── Credentials ─────────────────────────────────────────────────────────────────────────

    /// @notice Issues a credential to `subject`. Only a licensing authority. Replaces an earlier
    /// issuance of the same (subject, kind, scope) only if that one is revoked, or active and
    /// expired: a suspended credential cannot be washed out by letting it expire and reissuing, and
    /// a credential held by a regulator is never replaced (`CredentialHeldByRegulator`). An
    /// accreditation goes only to an active institution, a practitioner credential never to an
    /// institution (`SubjectIsInstitution`). A practising licence (licence, nurse or pharmacist at
    /// scope 0) is not issued while a regulator holds another of the subject's practising licences
    /// (`CredentialHeldByRegulator` with the held credential's id).
    /// @param subject the practitioner's wallet, or for `Accreditation` the institution's address
    /// @param kind licence, specialty, pharmacist, nurse or accreditation
    /// @param scope a code of the authority's code system (e.g. a specialty code); 0 for a general licence
    /// @param validFrom first second of validity; may be in the future
    /// @param validUntil end of validity (exclusive); must be after validFrom and in the future
    /// @param documentHash hash of the licence document, so a holder can prove which document it is
    /// @return id the credential id, `credentialId(subject, kind, scope)`
    function issueCredential(
        address subject,
        CredentialKind kind,
        uint64 scope,
        uint40 validFrom,
        uint40 validUntil,
        bytes32 documentHash
    ) external returns (bytes32 id);

    /// @notice Suspends credential `id`. Only its issuer (while still a licensing authority) or a
    /// regulator. A regulator's suspension is a hold that only a regulator ends; a regulator may
    /// also take over a suspension made by the issuer, which then becomes a hold.
    /// @param reasonCode the reason, as a code of the authority's rulebook (no free text on chain)
    function suspendCredential(bytes32 id, uint16 reasonCode) external;

    /// @notice Lifts the suspension of credential `id`, back to Active. Its issuer (while still a
    /// licensing authority) or a regulator; only a regulator if a regulator suspended it (this ends
    /// the hold and reinstates in one step).
    function reinstateCredential(bytes32 id) external;

    /// @notice Revokes credential `id` for good. Its issuer (while still a licensing authority) or a
    /// regulator. A regulator's revocation is a hold (`RevokedByRegulator`): no authority can issue
    /// that subject, kind and scope again until a regulator lifts it. The issuer's revocation of a
    /// credential a regulator suspended keeps the hold. A regulator may take over the issuer's
    /// revocation, so that it binds.
    /// @param reasonCode the reason, as a code of the authority's rulebook (no free text on chain)
    function revokeCredential(bytes32 id, uint16 reasonCode) external;

    /// @notice Ends a regulator's hold on credential `id` and hands it back to the licensing
    /// authorities: `SuspendedByRegulator` becomes `Suspended` (the issuer, or a regulator, may then
    /// reinstate or revoke it), `RevokedByRegulator` becomes `Revoked` (any authority may then issue
    /// it anew). Only a regulator. To reinstate at once, a regulator calls `reinstateCredential`.
    function liftRegulatorHold(bytes32 id) external;

    /// @notice Hands credential `id` to licensing authority `newIssuer`, which may manage it from
    /// then on (and whose role the check then follows); its status, a hold included, is unchanged.
    /// Only a regulator: the resolution of a slot taken by the wrong authority or left by one that
    /// lost its role (see "One national register" above).
    function reassignCredentialIssuer(bytes32 id, address newIssuer) external;

    // ─── Employment ──────────────────────────────────────────────────────────────────────────

    /// @notice The calling institution offers `practitioner` a link. Only an active institution, and
    /// never to an institution (`PractitionerIsInstitution`).
    function offerEmployment(address practitioner) external;

    /// @notice The calling practitioner accepts the offer of `institution`, which must still be
    /// active. An institution (accredited since the offer) cannot accept (`PractitionerIsInstitution`).
    function acceptEmployment(address institution) external;

    /// @notice Ends an offered or active link. Either the practitioner or the institution.
    function endEmployment(address practitioner, address institution) external;

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @notice The consortium whose licensing authorities and institutions this registry trusts.
    function consortium() external view returns (IConsortiumRegistry);

    /// @notice The id of the credential of `kind` and `scope` held by `subject`:
    /// `keccak256(abi.encode(subject, kind, scope))`.
    function credentialId(address subject, CredentialKind kind, uint64 scope) external pure returns (bytes32);

    /// @notice The stored credential `id` (status None if never issued).
    function credential(bytes32 id) external view returns (Credential memory);

    /// @notice Whether `subject` holds a passing credential of `kind` and `scope` right now, and if not, why.
    /// The reasons are tested in this order: unknown, subject is an institution (for a practitioner
    /// kind), revoked, suspended (a regulator's hold included), not yet valid, expired, issuer not accredited.
    /// @dev Example: `check(doctor, CredentialKind.Licence, 0) == CredentialValidity.Valid`.
    function check(address subject, CredentialKind kind, uint64 scope) external view returns (CredentialValidity);

    /// @notice True only when `check(subject, kind, scope)` is Valid.
    function isValid(address subject, CredentialKind kind, uint64 scope) external view returns (bool);

    /// @notice Whether `account` may be trusted with patient data right now. An institution
    /// (accredited at any time) passes only while active and holding a valid accreditation (scope
    /// 0), whatever practitioner credential the address may hold; any other account passes with a
    /// valid licence, nursing licence or pharmacist licence (scope 0). Consent checks call this at
    /// every access, so a revoked licence or a suspended institution stops every grant it carried at once.
    function isCredentialed(address account) external view returns (bool);

    /// @notice The link between `practitioner` and `institution`.
    function employment(address practitioner, address institution) external view returns (Employment memory);

    /// @notice True when the link is active, `institution` is still an active institution, and
    /// `practitioner` was never accredited as an institution.
    function isEmployedBy(address practitioner, address institution) external view returns (bool);
}
