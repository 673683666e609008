// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    DispensingProof, Prescription, PrescriptionStatus, PrescriptionValidity, Unit
} from "../types/MedLedgerTypes.sol";
import {IBatchRegistry} from "./IBatchRegistry.sol";
import {IPatientRegistry} from "./IPatientRegistry.sol";

/// @title Electronic prescriptions, filled once per allowed fill, atomically with dispensing.
/// @notice A practitioner with a valid medical licence (and, for a product a regulator restricted
/// to a specialty, a valid certification in it) prescribes a registered product for a registered
/// patient: units per fill, refills, validity and the hash of the signed document. An active
/// pharmacy fills it by dispensing serialised units of a batch of that product in the same call,
/// so a prescription is never filled without units leaving a shelf, nor units dispensed without
/// a prescription. A prescription never dispenses more than `quantityPerFill` per fill, nor more
/// than `1 + refills` fills, nor after its validity, its cancellation or its prescriber's licence.
/// It maps to FHIR MedicationRequest: `dispenseRequest.quantity`, `numberOfRepeatsAllowed`,
/// `validityPeriod`.
interface IPrescriptionRegistry {
    // ─── Errors ──────────────────────────────────────────────────────────────────────────────

    /// @notice The BatchRegistry given at construction does not name this registry as its dispenser.
    error BatchRegistryNotLinked(address batches);

    /// @notice `account` holds no valid medical licence.
    error NotLicensedPrescriber(address account);

    /// @notice Product `gtin` may only be prescribed with a valid certification in `specialty`,
    /// which `prescriber` lacks.
    error SpecialtyRequired(address prescriber, uint64 gtin, uint64 specialty);

    /// @notice `patient` is not a registered patient.
    error PatientNotRegistered(address patient);

    /// @notice A practitioner may not prescribe for its own wallet.
    error SelfPrescription(address prescriber);

    /// @notice No product is registered under `gtin`.
    error ProductNotFound(uint64 gtin);

    /// @notice `quantityPerFill` packs per fill and `refills` refills: the quantity must be 1 to
    /// `MAX_QUANTITY_PER_FILL`, the refills at most `MAX_REFILLS`.
    error InvalidFillLimits(uint32 quantityPerFill, uint8 refills);

    /// @notice Valid until `validUntil` is not in the future (now `currentTime`) or is more than
    /// `MAX_VALIDITY` ahead.
    error InvalidValidity(uint40 validUntil, uint40 currentTime);

    /// @notice `account` is not the prescriber of prescription `id`.
    error NotPrescriber(address account, uint256 id);

    /// @notice Prescription `id` is `status`, which the call does not allow.
    error PrescriptionStatusInvalid(uint256 id, PrescriptionStatus status);

    /// @notice Prescription `id` may not be filled now: `validity`.
    error PrescriptionNotFillable(uint256 id, PrescriptionValidity validity);

    /// @notice A fill of prescription `id` of `quantity` units: it must be 1 to `quantityPerFill`.
    error FillQuantityInvalid(uint256 id, uint256 quantity, uint32 quantityPerFill);

    /// @notice `account` is not a regulator.
    error NotRegulator(address account);

    // ─── Events ──────────────────────────────────────────────────────────────────────────────

    /// @notice `prescriber` prescribed product `gtin` for `patient` as prescription `id`.
    event PrescriptionIssued(
        uint256 indexed id,
        address indexed prescriber,
        address indexed patient,
        uint64 gtin,
        uint32 quantityPerFill,
        uint8 refills,
        uint40 validUntil,
        bytes32 documentHash
    );

    /// @notice `pharmacy` made fill number `fill` (1 for the first) of prescription `id`: `quantity`
    /// units of batch `batchId`.
    event PrescriptionFilled(
        uint256 indexed id, address indexed pharmacy, bytes32 indexed batchId, uint32 quantity, uint8 fill
    );

    /// @notice The prescriber cancelled prescription `id` for `reasonCode`.
    event PrescriptionCancelled(uint256 indexed id, address indexed prescriber, uint16 reasonCode);

    /// @notice Regulator `by` restricted product `gtin` to prescribers certified in `specialty`
    /// (0: any licensed practitioner).
    event SpecialtyRequirementSet(uint64 indexed gtin, uint64 specialty, address indexed by);

    // ─── Operations ──────────────────────────────────────────────────────────────────────────

    /// @notice Prescribes product `gtin` for `patient`. Only a licensed practitioner (certified in
    /// the product's required specialty, if any), not for itself.
    /// @param quantityPerFill the most units (packs) one fill dispenses
    /// @param refills fills allowed after the first
    /// @param validUntil end of validity (exclusive), at most `MAX_VALIDITY` from now
    /// @param documentHash hash of the signed prescription document (dosage instructions stay off chain)
    /// @return id the prescription's number, counted from 1
    function issuePrescription(
        address patient,
        uint64 gtin,
        uint32 quantityPerFill,
        uint8 refills,
        uint40 validUntil,
        bytes32 documentHash
    ) external returns (uint256 id);

    /// @notice The calling pharmacy fills prescription `id` by dispensing `units` of batch
    /// `batchId` (see `IBatchRegistry.dispense`), units that must be on its own shelf. When the
    /// units raise a counterfeit alarm, the call succeeds, the alarm stays on chain, and neither the
    /// prescription nor any shelf changes.
    /// @param evidence each unit's custody range and the units' proof in the batch's serial tree
    /// @return filled true when the units were dispensed and the fill counted
    function fill(uint256 id, bytes32 batchId, Unit[] calldata units, DispensingProof calldata evidence)
        external
        returns (bool filled);

    /// @notice The prescriber cancels an active prescription for good.
    /// @param reasonCode the reason, as a code of the consortium's rulebook (no free text on chain)
    function cancelPrescription(uint256 id, uint16 reasonCode) external;

    /// @notice A regulator restricts product `gtin` to prescribers certified in `specialty`
    /// (a `CredentialKind.Specialty` scope), or lifts the restriction with 0. Applies to new
    /// prescriptions.
    function setSpecialtyRequirement(uint64 gtin, uint64 specialty) external;

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @notice The longest validity a prescription may have, in seconds (one year).
    function MAX_VALIDITY() external view returns (uint40);

    /// @notice The most packs one fill may dispense.
    function MAX_QUANTITY_PER_FILL() external view returns (uint32);

    /// @notice The most refills a prescription may allow.
    function MAX_REFILLS() external view returns (uint8);

    /// @notice The stored prescription `id` (status None if never issued).
    function prescription(uint256 id) external view returns (Prescription memory);

    /// @notice Whether prescription `id` may be filled now, and if not why.
    function check(uint256 id) external view returns (PrescriptionValidity);

    /// @notice Whether `prescriber` may prescribe product `gtin` now.
    function canPrescribe(address prescriber, uint64 gtin) external view returns (bool);

    /// @notice The specialty product `gtin` is restricted to (0: none).
    function specialtyRequirement(uint64 gtin) external view returns (uint64);

    /// @notice How many prescriptions were issued; ids run from 1 to this.
    function prescriptionCount() external view returns (uint256);

    /// @notice The batch registry that dispenses for this registry.
    function batches() external view returns (IBatchRegistry);

    /// @notice The patient registry prescriptions are checked against.
    function patients() external view returns (IPatientRegistry);
}
