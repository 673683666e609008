// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBatchRegistry} from "./interfaces/IBatchRegistry.sol";
import {IConsortiumRegistry} from "./interfaces/IConsortiumRegistry.sol";
import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";
import {IPatientRegistry} from "./interfaces/IPatientRegistry.sol";
import {IPrescriptionRegistry} from "./interfaces/IPrescriptionRegistry.sol";
import {IProductRegistry} from "./interfaces/IProductRegistry.sol";
import {
    CredentialKind,
    DispensingProof,
    InstitutionKind,
    Prescription,
    PrescriptionStatus,
    PrescriptionValidity,
    Unit
} from "./types/MedLedgerTypes.sol";

/// @title PrescriptionRegistry
/// @notice Prescriptions and their fills; the only dispenser of the BatchRegistry.
contract PrescriptionRegistry is IPrescriptionRegistry {
    /// @inheritdoc IPrescriptionRegistry
    uint40 public constant MAX_VALIDITY = 366 days;

    /// @inheritdoc IPrescriptionRegistry
    uint32 public constant MAX_QUANTITY_PER_FILL = 10_000;

    /// @inheritdoc IPrescriptionRegistry
    /// @dev Below uint8's maximum so the fill counter never overflows; the packs a prescription
    /// may dispense (10,000 × 100) stay far inside the uint32 `dispensed` counter.
    uint8 public constant MAX_REFILLS = 99;

    // A medical licence is the general (scope 0) licence credential.
    uint64 private constant GENERAL_SCOPE = 0;

    // ─── Storage ─────────────────────────────────────────────────────────────────────────────

    IBatchRegistry private immutable _batches;
    IPatientRegistry private immutable _patients;
    IProductRegistry private immutable _products;
    ICredentialRegistry private immutable _credentials;
    IConsortiumRegistry private immutable _consortium;

    // Prescriber, validity, status and the fill counters share the first slot: a fill reads and
    // rewrites it, and reads the second (product, quantity) once. The patient commitment lives in
    // the `PrescriptionIssued` event only: no rule on chain reads it.
    mapping(uint256 id => Prescription) private _prescriptions;
    uint256 private _prescriptionCount;

    mapping(uint64 gtin => uint64 specialty) private _specialtyRequirements;

    constructor(IBatchRegistry batches_, IPatientRegistry patients_) {
        if (batches_.prescriptions() != address(this)) revert BatchRegistryNotLinked(address(batches_));
        _batches = batches_;
        _patients = patients_;
        _products = batches_.products();
        _credentials = _products.credentials();
        _consortium = _products.consortium();
    }

    // ─── Operations ──────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IPrescriptionRegistry
    function issuePrescription(
        bytes32 patientCommitment,
        uint64 gtin,
        uint32 quantityPerFill,
        uint8 refills,
        uint40 validUntil,
        bytes32 documentHash
    ) external returns (uint256 id) {
        if (!_isLicensed(msg.sender)) revert NotLicensedPrescriber(msg.sender);
        if (_products.manufacturerOf(gtin) == address(0)) revert ProductNotFound(gtin);
        (bool certified, uint64 specialty) = _meetsSpecialty(msg.sender, gtin);
        if (!certified) revert SpecialtyRequired(msg.sender, gtin, specialty);
        if (patientCommitment == 0) revert EmptyPatientCommitment();
        if (quantityPerFill == 0 || quantityPerFill > MAX_QUANTITY_PER_FILL || refills > MAX_REFILLS) {
            revert InvalidFillLimits(quantityPerFill, refills);
        }
        uint40 currentTime = _time();
        if (validUntil <= currentTime || validUntil > currentTime + MAX_VALIDITY) {
            revert InvalidValidity(validUntil, currentTime);
        }
        id = ++_prescriptionCount;
        _prescriptions[id] = Prescription({
            prescriber: msg.sender,
            validUntil: validUntil,
            status: PrescriptionStatus.Active,
            refills: refills,
            fills: 0,
            dispensed: 0,
            gtin: gtin,
            quantityPerFill: quantityPerFill,
            documentHash: documentHash
        });
        emit PrescriptionIssued(id, msg.sender, patientCommitment, gtin, quantityPerFill, refills, validUntil, documentHash);
    }

    /// @inheritdoc IPrescriptionRegistry
    function fill(uint256 id, bytes32 batchId, Unit[] calldata units, DispensingProof calldata evidence)
        external
        returns (bool filled)
    {
        if (!isLicensedPharmacy(msg.sender)) revert NotLicensedPharmacy(msg.sender);
        Prescription storage stored = _prescriptions[id];
        PrescriptionValidity validity = _check(stored);
        if (validity != PrescriptionValidity.Fillable) revert PrescriptionNotFillable(id, validity);
        uint32 perFill = stored.quantityPerFill;
        if (units.length == 0 || units.length > perFill) revert FillQuantityInvalid(id, units.length, perFill);

        // Checks the pharmacy, the batch and the units; an alarm returns false with nothing dispensed.
        filled = _batches.dispense(msg.sender, batchId, stored.gtin, units, evidence);
        if (!filled) return false;

        uint32 quantity = uint32(units.length);
        uint8 fillNumber = stored.fills + 1;
        stored.fills = fillNumber;
        stored.dispensed += quantity;
        emit PrescriptionFilled(id, msg.sender, batchId, quantity, fillNumber);
    }

    /// @inheritdoc IPrescriptionRegistry
    function cancelPrescription(uint256 id, uint16 reasonCode) external {
        Prescription storage stored = _prescriptions[id];
        PrescriptionStatus status = stored.status;
        if (status == PrescriptionStatus.None) revert PrescriptionStatusInvalid(id, status);
        if (msg.sender != stored.prescriber) revert NotPrescriber(msg.sender, id);
        if (status != PrescriptionStatus.Active) revert PrescriptionStatusInvalid(id, status);
        stored.status = PrescriptionStatus.Cancelled;
        emit PrescriptionCancelled(id, msg.sender, reasonCode);
    }

    /// @inheritdoc IPrescriptionRegistry
    function setSpecialtyRequirement(uint64 gtin, uint64 specialty) external {
        if (!_consortium.isRegulator(msg.sender)) revert NotRegulator(msg.sender);
        if (_products.manufacturerOf(gtin) == address(0)) revert ProductNotFound(gtin);
        _specialtyRequirements[gtin] = specialty;
        emit SpecialtyRequirementSet(gtin, specialty, msg.sender);
    }

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IPrescriptionRegistry
    function prescription(uint256 id) external view returns (Prescription memory) {
        return _prescriptions[id];
    }

    /// @inheritdoc IPrescriptionRegistry
    function check(uint256 id) external view returns (PrescriptionValidity) {
        return _check(_prescriptions[id]);
    }

    /// @inheritdoc IPrescriptionRegistry
    function canPrescribe(address prescriber, uint64 gtin) external view returns (bool) {
        if (!_isLicensed(prescriber) || _products.manufacturerOf(gtin) == address(0)) return false;
        (bool certified,) = _meetsSpecialty(prescriber, gtin);
        return certified;
    }

    /// @inheritdoc IPrescriptionRegistry
    function isLicensedPharmacy(address account) public view returns (bool) {
        return _consortium.isMember(account, InstitutionKind.Pharmacy) && _credentials.isCredentialed(account);
    }

    /// @inheritdoc IPrescriptionRegistry
    function specialtyRequirement(uint64 gtin) external view returns (uint64) {
        return _specialtyRequirements[gtin];
    }

    /// @inheritdoc IPrescriptionRegistry
    function prescriptionCount() external view returns (uint256) {
        return _prescriptionCount;
    }

    /// @inheritdoc IPrescriptionRegistry
    function batches() external view returns (IBatchRegistry) {
        return _batches;
    }

    /// @inheritdoc IPrescriptionRegistry
    function patients() external view returns (IPatientRegistry) {
        return _patients;
    }

    // ─── Internal ────────────────────────────────────────────────────────────────────────────

    /// @dev Block time as a uint40; virtual so a test harness can move time without a node.
    function _time() internal view virtual returns (uint40) {
        return uint40(block.timestamp);
    }

    function _check(Prescription storage stored) private view returns (PrescriptionValidity) {
        PrescriptionStatus status = stored.status;
        if (status == PrescriptionStatus.None) return PrescriptionValidity.Unknown;
        if (status == PrescriptionStatus.Cancelled) return PrescriptionValidity.Cancelled;
        if (_time() >= stored.validUntil) return PrescriptionValidity.Expired;
        if (stored.fills > stored.refills) return PrescriptionValidity.FullyFilled;
        // A pharmacist must not fill for a practitioner whose licence lapsed since prescribing.
        address prescriber = stored.prescriber;
        if (!_isLicensed(prescriber)) return PrescriptionValidity.PrescriberNotLicensed;
        // Likewise for the specialty a regulator requires of the product now, even if set after issue.
        (bool certified,) = _meetsSpecialty(prescriber, stored.gtin);
        if (!certified) return PrescriptionValidity.PrescriberLacksSpecialty;
        return PrescriptionValidity.Fillable;
    }

    /// @dev Whether `prescriber` holds the specialty certification product `gtin` requires now
    /// (true when none is required), and that specialty.
    function _meetsSpecialty(address prescriber, uint64 gtin) private view returns (bool, uint64 specialty) {
        specialty = _specialtyRequirements[gtin];
        return (specialty == 0 || _credentials.isValid(prescriber, CredentialKind.Specialty, specialty), specialty);
    }

    function _isLicensed(address account) private view returns (bool) {
        return _credentials.isValid(account, CredentialKind.Licence, GENERAL_SCOPE);
    }
}
