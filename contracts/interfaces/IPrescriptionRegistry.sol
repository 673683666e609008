// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    DispensingProof, Prescription, PrescriptionStatus, PrescriptionValidity, Unit
} from "../types/MedLedgerTypes.sol";
import {IBatchRegistry} from "./IBatchRegistry.sol";
import {IPatientRegistry} from "./IPatientRegistry.sol";

/// @title Electronic prescriptions, filled once per allowed fill, atomically with dispensing.
/// @notice A practitioner with a valid medical licence (and, for a product a regulator restricted
/// to a specialty, a valid certification in it) prescribes a registered product for a patient:
/// units per fill, refills, validity and the hash of the signed document. A licensed pharmacy fills
/// it by dispensing serialised units of a batch of that product in the same call, so a
/// prescription is never filled without units leaving a shelf, nor units dispensed without a
/// prescription. A prescription never dispenses more than `quantityPerFill` per fill, nor more than
/// `1 + refills` fills, nor after its validity or its cancellation.
///
/// Trust rules. The same standing rule for the same role everywhere: a pharmacy fills only while it
/// is an active pharmacy member holding a valid accreditation (`ICredentialRegistry.isCredentialed`),
/// as a manufacturer needs both to register. The prescriber's standing is checked at every fill, not
/// only at issue: its medical licence, and the specialty certification a regulator requires for the
/// product now (a restriction set after issue applies to the fills still to come).
///
/// Privacy of links: the patient does not act when a prescription is issued or filled, so no event,
/// storage or calldata of those transactions names the patient's wallet. A prescription carries
/// only `patientCommitment = keccak256(abi.encode(patientWallet, salt))`, in its `PrescriptionIssued`
/// event (the contract never reads it, so it is not stored): the prescriber's client picks a random
/// 32-byte salt and hands it to the patient with the prescription (printed or as a QR code). The
/// patient, and the pharmacy the patient shows it to, can match the prescription; nobody else can
/// tell whose it is. The price: the chain can no longer check that the patient is registered or is
/// not the prescriber. medledger's client checks both before issuing (a view call, which reveals the
/// wallet to the node queried but leaves nothing on chain), and the pharmacy's client checks the
/// slip the patient presents against the commitment before filling.
///
/// It maps to FHIR MedicationRequest: `dispenseRequest.quantity`, `numberOfRepeatsAllowed`,
/// `validityPeriod`; `subject` is the patient's wallet when the reader holds the salt, otherwise
/// the commitment as an identifier.
interface IPrescriptionRegistry {
    // ─── Errors ──────────────────────────────────────────────────────────────────────────────

    /// @notice The BatchRegistry given at construction does not name this registry as its dispenser.
    error BatchRegistryNotLinked(address batches);

    /// @notice `account` holds no valid medical licence.
    error NotLicensedPrescriber(address account);

    /// @notice Product `gtin` may only be prescribed with a valid certification in `specialty`,
    /// which `prescriber` lacks.
    error SpecialtyRequired(address prescriber, uint64 gtin, uint64 specialty);

    /// @notice The patient commitment is zero: a prescription is for someone.
    error EmptyPatientCommitment();

    /// @notice `account` is not an active pharmacy member holding a valid accreditation.
    error NotLicensedPharmacy(address account);

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

    /// @notice `prescriber` prescribed product `gtin` as prescription `id` for the patient whose
    /// wallet and salt hash to `patientCommitment` (`keccak256(abi.encode(wallet, salt))`).
    event PrescriptionIssued(
        uint256 indexed id,
        address indexed prescriber,
        bytes32 indexed patientCommitment,
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

    /// @notice Prescribes product `gtin` for the patient committed to by `patientCommitment`. Only a
    /// licensed practitioner (certified in the product's required specialty, if any).
    /// @param patientCommitment `keccak256(abi.encode(patientWallet, salt))`, salt chosen by the
    /// prescriber's client and handed to the patient; never the wallet itself
    /// @param quantityPerFill the most units (packs) one fill dispenses
    /// @param refills fills allowed after the first
    /// @param validUntil end of validity (exclusive), at most `MAX_VALIDITY` from now
    /// @param documentHash hash of the signed prescription document (dosage instructions stay off chain)
    /// @return id the prescription's number, counted from 1
    function issuePrescription(
        bytes32 patientCommitment,
        uint64 gtin,
        uint32 quantityPerFill,
        uint8 refills,
        uint40 validUntil,
        bytes32 documentHash
    ) external returns (uint256 id);

    /// @notice The calling pharmacy (an active pharmacy member holding a valid accreditation) fills
    /// prescription `id` by dispensing `units` of batch `batchId` (see `IBatchRegistry.dispense`),
    /// units that must be on its own shelf, if `check(id)` says it is fillable now. When the units
    /// raise a counterfeit alarm, the call succeeds, the alarm stays on chain, and neither the
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
    /// prescriptions and to every later fill of existing ones (their prescriber must then hold it).
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

    /// @notice Whether prescription `id` may be filled now, and if not why: its status, validity and
    /// fill count, its prescriber's licence, and the specialty the product requires now.
    function check(uint256 id) external view returns (PrescriptionValidity);

    /// @notice Whether `prescriber` may prescribe product `gtin` now.
    function canPrescribe(address prescriber, uint64 gtin) external view returns (bool);

    /// @notice Whether `account` may fill prescriptions now: an active pharmacy member holding a
    /// valid accreditation.
    function isLicensedPharmacy(address account) external view returns (bool);

    /// @notice The specialty product `gtin` is restricted to (0: none).
    function specialtyRequirement(uint64 gtin) external view returns (uint64);

    /// @notice How many prescriptions were issued; ids run from 1 to this.
    function prescriptionCount() external view returns (uint256);

    /// @notice The batch registry that dispenses for this registry.
    function batches() external view returns (IBatchRegistry);

    /// @notice The patient registry clients check patients against before issuing (not on chain:
    /// the call would name the patient's wallet).
    function patients() external view returns (IPatientRegistry);
}
