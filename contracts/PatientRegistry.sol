// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IPatientRegistry} from "./interfaces/IPatientRegistry.sol";
import {IConsortiumRegistry} from "./interfaces/IConsortiumRegistry.sol";
import {EncryptionKey, MrnLink, MrnLinkStatus} from "./types/MedLedgerTypes.sol";

/// @title PatientRegistry
/// @notice Patient wallets with salted identity commitments, their delegates, institutions' patient
/// numbers linked with consent, and the encryption keys records are wrapped to.
contract PatientRegistry is IPatientRegistry, EIP712, Nonces {
    /// @inheritdoc IPatientRegistry
    bytes32 public constant MRN_LINK_CONSENT_TYPEHASH = keccak256(
        "MrnLinkConsent(address patient,address institution,bytes32 mrnCommitment,uint256 nonce,uint256 deadline)"
    );

    // ─── Storage ─────────────────────────────────────────────────────────────────────────────

    IConsortiumRegistry private immutable _consortium;

    // A non-zero commitment is what makes a wallet a registered patient: no separate flag to keep in step.
    mapping(address patient => bytes32) private _identityCommitments;

    mapping(address account => EncryptionKey) private _encryptionKeys;

    // One slot per pair: the expiry alone says whether the delegation is active.
    mapping(address patient => mapping(address delegate => uint40 validUntil)) private _delegations;

    // Keyed by institution first: a commitment is only a hash the contract cannot open, so keying by
    // it alone would let one institution squat another's commitment.
    mapping(address institution => mapping(bytes32 mrnCommitment => MrnLink)) private _mrnLinks;

    // Pending proposals, apart from the links: a proposal holds a patient commitment (32 bytes, so
    // it cannot share a link's slot) and never a wallet. One slot per proposal, deleted on acceptance.
    mapping(address institution => mapping(bytes32 mrnCommitment => bytes32 patientCommitment)) private _mrnProposals;

    constructor(IConsortiumRegistry consortium_) EIP712("medledger PatientRegistry", "1") {
        if (address(consortium_) == address(0)) revert ZeroAddress();
        _consortium = consortium_;
    }

    // ─── Identity and keys ───────────────────────────────────────────────────────────────────

    /// @inheritdoc IPatientRegistry
    function register(bytes32 commitment, bytes calldata key) external {
        if (_identityCommitments[msg.sender] != 0) revert PatientAlreadyRegistered(msg.sender);
        if (commitment == 0) revert ZeroCommitment();
        _identityCommitments[msg.sender] = commitment;
        emit PatientRegistered(msg.sender, commitment);
        _publishEncryptionKey(key);
    }

    /// @inheritdoc IPatientRegistry
    function rotateIdentityCommitment(bytes32 commitment) external {
        _requireRegistered(msg.sender);
        if (commitment == 0) revert ZeroCommitment();
        _identityCommitments[msg.sender] = commitment;
        emit IdentityCommitmentRotated(msg.sender, commitment);
    }

    /// @inheritdoc IPatientRegistry
    function publishEncryptionKey(bytes calldata key) external {
        _publishEncryptionKey(key);
    }

    // ─── Delegates ───────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IPatientRegistry
    function appointDelegate(address delegate, uint40 validUntil) external {
        _requireRegistered(msg.sender);
        if (delegate == address(0)) revert ZeroAddress();
        if (delegate == msg.sender) revert SelfDelegation(msg.sender);
        uint40 currentTime = _time();
        if (validUntil <= currentTime) revert InvalidDelegationExpiry(validUntil, currentTime);
        _delegations[msg.sender][delegate] = validUntil;
        emit DelegateAppointed(msg.sender, delegate, validUntil);
    }

    /// @inheritdoc IPatientRegistry
    function removeDelegate(address delegate) external {
        if (_delegations[msg.sender][delegate] == 0) revert DelegateNotFound(msg.sender, delegate);
        delete _delegations[msg.sender][delegate];
        emit DelegateRemoved(msg.sender, delegate);
    }

    // ─── Institutions' patient numbers ───────────────────────────────────────────────────────

    /// @inheritdoc IPatientRegistry
    function proposeMrnLink(bytes32 mrnCommitment, bytes32 patientCommitment) external {
        _requireNewMrnLink(mrnCommitment);
        if (patientCommitment == 0) revert ZeroCommitment();
        _mrnProposals[msg.sender][mrnCommitment] = patientCommitment;
        emit MrnLinkProposed(mrnCommitment, msg.sender, patientCommitment);
    }

    /// @inheritdoc IPatientRegistry
    function acceptMrnLink(address institution, bytes32 mrnCommitment, address patient, bytes32 proposalSalt)
        external
    {
        bytes32 proposed = _mrnProposals[institution][mrnCommitment];
        if (proposed == 0) revert MrnLinkStateInvalid(institution, mrnCommitment);
        if (!canActFor(msg.sender, patient)) revert NotPatientOrDelegate(msg.sender, patient);
        if (keccak256(abi.encode(institution, mrnCommitment, patient, proposalSalt)) != proposed) {
            revert MrnProposalMismatch(institution, mrnCommitment);
        }
        // An institution suspended since its proposal must not gain a link.
        if (!_consortium.isActiveInstitution(institution)) revert NotActiveInstitution(institution);
        delete _mrnProposals[institution][mrnCommitment];
        _mrnLinks[institution][mrnCommitment] = MrnLink(patient, MrnLinkStatus.Linked, _time());
        emit MrnLinked(mrnCommitment, patient, institution);
    }

    /// @inheritdoc IPatientRegistry
    function linkMrnWithConsent(
        address patient,
        bytes32 mrnCommitment,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _requireNewMrnLink(mrnCommitment);
        _requireRegistered(patient);
        if (block.timestamp > deadline) revert SignatureExpired(deadline, block.timestamp);
        if (!canActFor(signer, patient)) revert NotPatientOrDelegate(signer, patient);
        _useCheckedNonce(patient, nonce);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(MRN_LINK_CONSENT_TYPEHASH, patient, msg.sender, mrnCommitment, nonce, deadline))
        );
        if (!SignatureChecker.isValidSignatureNow(signer, digest, signature)) revert InvalidSignature(signer);
        _mrnLinks[msg.sender][mrnCommitment] = MrnLink(patient, MrnLinkStatus.Linked, _time());
        emit MrnLinked(mrnCommitment, patient, msg.sender);
    }

    /// @inheritdoc IPatientRegistry
    function unlinkMrn(address institution, bytes32 mrnCommitment) external {
        MrnLink storage link = _mrnLinks[institution][mrnCommitment];
        if (link.status == MrnLinkStatus.Linked) {
            if (msg.sender != institution && !canActFor(msg.sender, link.patient)) {
                revert NotMrnLinkParty(msg.sender, mrnCommitment);
            }
            delete _mrnLinks[institution][mrnCommitment];
        } else if (_mrnProposals[institution][mrnCommitment] != 0) {
            if (msg.sender != institution) revert NotMrnLinkParty(msg.sender, mrnCommitment);
            delete _mrnProposals[institution][mrnCommitment];
        } else {
            revert MrnLinkStateInvalid(institution, mrnCommitment);
        }
        emit MrnUnlinked(mrnCommitment, institution, msg.sender);
    }

    // ─── Signed consents ─────────────────────────────────────────────────────────────────────

    /// @inheritdoc IPatientRegistry
    function cancelSignatures(address patient) external {
        if (!canActFor(msg.sender, patient)) {
            _requireRegistered(patient);
            revert NotPatientOrDelegate(msg.sender, patient);
        }
        emit SignaturesCancelled(patient, msg.sender, _useNonce(patient));
    }

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IPatientRegistry
    function consortium() external view returns (IConsortiumRegistry) {
        return _consortium;
    }

    /// @inheritdoc IPatientRegistry
    function isRegistered(address account) public view returns (bool) {
        return _identityCommitments[account] != 0;
    }

    /// @inheritdoc IPatientRegistry
    function identityCommitment(address patient) external view returns (bytes32) {
        return _identityCommitments[patient];
    }

    /// @inheritdoc IPatientRegistry
    function encryptionKey(address account) external view returns (bytes memory) {
        EncryptionKey storage key = _encryptionKeys[account];
        if (key.prefix == 0) return "";
        return abi.encodePacked(key.prefix, key.x);
    }

    /// @inheritdoc IPatientRegistry
    function delegationExpiry(address patient, address delegate) external view returns (uint40) {
        return _delegations[patient][delegate];
    }

    /// @inheritdoc IPatientRegistry
    function canActFor(address account, address patient) public view returns (bool) {
        if (!isRegistered(patient)) return false;
        return account == patient || _delegations[patient][account] > _time();
    }

    /// @inheritdoc IPatientRegistry
    function mrnLink(address institution, bytes32 mrnCommitment) external view returns (MrnLink memory) {
        if (_mrnProposals[institution][mrnCommitment] != 0) return MrnLink(address(0), MrnLinkStatus.Proposed, 0);
        return _mrnLinks[institution][mrnCommitment];
    }

    /// @inheritdoc IPatientRegistry
    function mrnProposal(address institution, bytes32 mrnCommitment) external view returns (bytes32) {
        return _mrnProposals[institution][mrnCommitment];
    }

    /// @inheritdoc IPatientRegistry
    function resolveMrn(address institution, bytes32 mrnCommitment) external view returns (address) {
        MrnLink storage link = _mrnLinks[institution][mrnCommitment];
        return link.status == MrnLinkStatus.Linked ? link.patient : address(0);
    }

    /// @inheritdoc IPatientRegistry
    function nonces(address patient) public view override(IPatientRegistry, Nonces) returns (uint256) {
        return super.nonces(patient);
    }

    // ─── Internal ────────────────────────────────────────────────────────────────────────────

    /// @dev Block time as a uint40; virtual so a test harness can move time without a node.
    function _time() internal view virtual returns (uint40) {
        return uint40(block.timestamp);
    }

    function _requireRegistered(address patient) private view {
        if (!isRegistered(patient)) revert PatientNotRegistered(patient);
    }

    /// @dev Checks shared by both ways of linking: an active institution, a commitment the
    /// institution has neither linked nor proposed yet.
    function _requireNewMrnLink(bytes32 mrnCommitment) private view {
        if (!_consortium.isActiveInstitution(msg.sender)) revert NotActiveInstitution(msg.sender);
        if (mrnCommitment == 0) revert ZeroCommitment();
        if (
            _mrnLinks[msg.sender][mrnCommitment].status != MrnLinkStatus.None
                || _mrnProposals[msg.sender][mrnCommitment] != 0
        ) {
            revert MrnAlreadyLinked(msg.sender, mrnCommitment);
        }
    }

    function _publishEncryptionKey(bytes calldata key) private {
        if (key.length != 33 || (key[0] != 0x02 && key[0] != 0x03)) revert InvalidEncryptionKey();
        _encryptionKeys[msg.sender] = EncryptionKey(bytes32(key[1:]), uint8(key[0]));
        emit EncryptionKeyPublished(msg.sender, key);
    }
}
