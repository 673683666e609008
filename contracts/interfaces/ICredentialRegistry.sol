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

    /// @notice Credential `id` is suspended, or active and not expired: it must be revoked, or
    /// reinstated and left to expire, before it can be issued again.
    error CredentialAlreadyIssued(bytes32 id);

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

    /// @notice `institution` offered `practitioner` an employment link.
    event EmploymentOffered(address indexed practitioner, address indexed institution);

    /// @notice `practitioner` accepted the link with `institution`.
    event EmploymentAccepted(address indexed practitioner, address indexed institution);

    /// @notice The link between `practitioner` and `institution` was ended by `by`.
    event EmploymentEnded(address indexed practitioner, address indexed institution, address indexed by);

    // ─── Credentials ─────────────────────────────────────────────────────────────────────────

    /// @notice Issues a credential to `subject`. Only a licensing authority. Replaces an earlier
    /// issuance of the same (subject, kind, scope) only if that one is revoked, or active and
    /// expired: a suspended credential cannot be washed out by letting it expire and reissuing.
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
    /// regulator. A regulator's suspension can only be lifted by a regulator; a regulator may also
    /// take over a suspension made by the issuer.
    /// @param reasonCode the reason, as a code of the authority's rulebook (no free text on chain)
    function suspendCredential(bytes32 id, uint16 reasonCode) external;

    /// @notice Lifts the suspension of credential `id`. Its issuer (while still a licensing
    /// authority) or a regulator; only a regulator if a regulator suspended it.
    function reinstateCredential(bytes32 id) external;

    /// @notice Revokes credential `id` for good. Its issuer (while still a licensing authority) or a regulator.
    function revokeCredential(bytes32 id, uint16 reasonCode) external;

    // ─── Employment ──────────────────────────────────────────────────────────────────────────

    /// @notice The calling institution offers `practitioner` a link. Only an active institution.
    function offerEmployment(address practitioner) external;

    /// @notice The calling practitioner accepts the offer of `institution`, which must still be active.
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
    /// @dev Example: `check(doctor, CredentialKind.Licence, 0) == CredentialValidity.Valid`.
    function check(address subject, CredentialKind kind, uint64 scope) external view returns (CredentialValidity);

    /// @notice True only when `check(subject, kind, scope)` is Valid.
    function isValid(address subject, CredentialKind kind, uint64 scope) external view returns (bool);

    /// @notice Whether `account` may be trusted with patient data right now: an active institution
    /// holding a valid accreditation (scope 0), or a practitioner holding a valid licence, nursing
    /// licence or pharmacist licence (scope 0). Consent checks call this at every access, so a
    /// revoked licence or a suspended institution stops every grant it carried at once.
    function isCredentialed(address account) external view returns (bool);

    /// @notice The link between `practitioner` and `institution`.
    function employment(address practitioner, address institution) external view returns (Employment memory);

    /// @notice True when the link is active and `institution` is still an active institution.
    function isEmployedBy(address practitioner, address institution) external view returns (bool);
}
