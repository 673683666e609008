// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    Batch,
    BatchStatus,
    BatchValidity,
    CustodyRange,
    DispensingProof,
    Holding,
    Shipment,
    ShipmentStatus,
    Suspicion,
    Unit,
    UnitValidity
} from "../types/MedLedgerTypes.sol";
import {IProductRegistry} from "./IProductRegistry.sol";

/// @title Batches (lots) of registered products: registration, custody, quarantine, recall, verification.
/// @notice The product's manufacturer registers a batch: lot, quantity, manufacture and expiry
/// dates, a document hash and the Merkle root of its unit serials. The batch id is
/// `keccak256(abi.encode(gtin, lot))`, so anyone holding a box (GTIN and lot printed on it) finds
/// it. Units are leaves `keccak256(bytes.concat(keccak256(abi.encode(batchId, index, serial))))`
/// (OpenZeppelin's double-hashed leaves; `index` is the unit's place in the manufacturer's serial
/// list, `serial` the GS1 serial, at most 20 characters, as `bytes20`). The manufacturer or a regulator quarantines a batch (a regulator's quarantine only a
/// regulator lifts) or recalls it; a recall is final.
/// Custody moves by two-step handover: the holder ships a quantity to an active member of a kind it
/// may supply (manufacturer to distributor, pharmacy or hospital; distributor to the same three),
/// the recipient receives it, or the shipper cancels it before. Only an active, unexpired batch
/// moves; every step keeps made = held + in transit + dispensed.
/// Custody is kept per unit, as GS1 aggregation does, by ranges of unit indices: the serial tree
/// keeps the manufacturer's packing order, so a case or a pallet is a contiguous range. At
/// registration the manufacturer holds the range `[0, quantity)`; a shipment carries a range cut
/// out of one range on the shipper's shelf (at most two new ranges), and the receipt hands that
/// range to the recipient. Ranges never merge, so each one is one storage slot keyed by its first
/// index and a call names the range it means by that index (`rangeStart`), which the contract checks.
/// Trust rule: a unit (serial) can be dispensed only by the holder its custody reached, that is
/// the pharmacy holding the range that contains the unit's index, received and not in transit.
/// Units leave the chain of custody only by dispensing, through the PrescriptionRegistry fixed at
/// construction: each unit is proven in the batch's serial tree, checked to be on the dispensing
/// pharmacy's shelf and decommissioned in a bitmap. A serial that fails its proof, was already
/// dispensed or is held by another member (or in transit) raises `CounterfeitSuspected`, naming
/// which, from a call that succeeds and dispenses nothing, because a reverted call would leave the
/// regulator no trace.
/// Trust rule: a GTIN belongs to the holder of its GS1 company prefix: only the manufacturer whose
/// registration of the GTIN is live, and who holds its prefix now, registers new batches of it.
interface IBatchRegistry {
    // ─── Errors ──────────────────────────────────────────────────────────────────────────────

    /// @notice No product is registered under `gtin`.
    error ProductNotFound(uint64 gtin);

    /// @notice `account` is not the manufacturer of product `gtin`, or is no longer a licensed manufacturer.
    error NotProductManufacturer(address account, uint64 gtin);

    /// @notice `gtin` is not inside a company prefix `account` holds now (`holder` holds it, zero if
    /// no one): a former prefix holder registers no new batch under it.
    error GtinNotInCompanyPrefix(uint64 gtin, address account, address holder);

    /// @notice The lot number is empty.
    error EmptyLot();

    /// @notice The quantity is zero.
    error ZeroQuantity();

    /// @notice The Merkle root of the serials is zero.
    error ZeroSerialRoot();

    /// @notice Manufactured `manufacturedOn` and expiring `expiresOn` do not fit: manufacture must
    /// not be in the future (now `currentTime`) and expiry must be after both.
    error InvalidBatchDates(uint40 manufacturedOn, uint40 expiresOn, uint40 currentTime);

    /// @notice Batch `batchId` is already registered.
    error BatchAlreadyRegistered(bytes32 batchId);

    /// @notice No batch `batchId` is registered.
    error BatchNotFound(bytes32 batchId);

    /// @notice `account` is neither the manufacturer of batch `batchId` nor a regulator.
    error NotManufacturerOrRegulator(address account, bytes32 batchId);

    /// @notice Batch `batchId` is `status`, which the call does not allow.
    error BatchStatusInvalid(bytes32 batchId, BatchStatus status);

    /// @notice `holder` holds `held` units of batch `batchId`, fewer than the `wanted`.
    error InsufficientStock(bytes32 batchId, address holder, uint64 held, uint64 wanted);

    /// @notice `from` may not ship to `to`: `to` is not an active member of a kind `from` supplies.
    error RecipientNotAllowed(address from, address to);

    /// @notice `account` is not an active member allowed to hold and ship medicines.
    error NotActiveSupplier(address account);

    /// @notice Batch `batchId` may not move now: `validity`.
    error BatchNotMovable(bytes32 batchId, BatchValidity validity);

    /// @notice The shipment `shipmentId` is not in transit.
    error ShipmentNotInTransit(bytes32 shipmentId);

    /// @notice `account` is not the party of shipment `shipmentId` that the call needs.
    error NotShipmentParty(address account, bytes32 shipmentId);

    /// @notice The units `start` to `start + quantity - 1` of batch `batchId` do not lie in the
    /// custody range that begins at `rangeStart` and ends before `rangeEnd` (0 when no range begins there).
    error UnitsNotInRange(bytes32 batchId, uint64 rangeStart, uint64 rangeEnd, uint64 start, uint64 quantity);

    /// @notice The custody range of batch `batchId` that begins at `rangeStart` is not on
    /// `account`'s shelf: another member holds it, or it is in transit.
    error RangeNotOnShelf(bytes32 batchId, uint64 rangeStart, address account);

    /// @notice `units` units were presented with `rangeStarts` custody ranges: one range per unit is needed.
    error RangeCountMismatch(uint256 units, uint256 rangeStarts);

    /// @notice Only the PrescriptionRegistry dispenses; `account` is not it.
    error NotPrescriptionRegistry(address account);

    /// @notice Batch `batchId` is not of product `gtin`.
    error WrongProduct(bytes32 batchId, uint64 gtin);

    /// @notice `account` is not an active pharmacy.
    error NotActivePharmacy(address account);

    // ─── Events ──────────────────────────────────────────────────────────────────────────────

    /// @notice `manufacturer` registered batch `batchId` of product `gtin`, lot `lot`, `quantity` units.
    event BatchRegistered(
        bytes32 indexed batchId,
        uint64 indexed gtin,
        address indexed manufacturer,
        bytes20 lot,
        uint64 quantity,
        uint40 manufacturedOn,
        uint40 expiresOn,
        bytes32 documentHash,
        bytes32 serialRoot
    );

    /// @notice `shipment.from` shipped the units `shipment.start` to `shipment.end - 1` of `batchId` to `to`.
    event Shipped(bytes32 indexed shipmentId, bytes32 indexed batchId, address indexed to, Shipment shipment);

    /// @notice `to` received shipment `shipmentId` of batch `batchId`.
    event Received(bytes32 indexed shipmentId, bytes32 indexed batchId, address indexed to);

    /// @notice The shipper cancelled shipment `shipmentId` of batch `batchId`; the units are back on its shelf.
    event ShipmentCancelled(bytes32 indexed shipmentId, bytes32 indexed batchId, address indexed from);

    /// @notice `by` quarantined batch `batchId` for `reasonCode`.
    event BatchQuarantined(bytes32 indexed batchId, address indexed by, uint16 reasonCode);

    /// @notice `by` released batch `batchId` from quarantine.
    event BatchReleased(bytes32 indexed batchId, address indexed by);

    /// @notice `by` recalled batch `batchId` for `reasonCode`.
    event BatchRecalled(bytes32 indexed batchId, address indexed by, uint16 reasonCode);

    /// @notice `pharmacy` dispensed the units with `serials` of batch `batchId`; they are decommissioned.
    event UnitsDispensed(bytes32 indexed batchId, address indexed pharmacy, bytes20[] serials);

    /// @notice `reporter` presented `serials` of batch `batchId` for dispensing and they failed as
    /// `reason` says: all the serials presented when they are not proven in the batch; otherwise
    /// the first serial that was already dispensed (a copy) or is held by another member or in
    /// transit (`HeldByAnother`: a genuine unit that did not reach the reporter). Nothing was dispensed.
    event CounterfeitSuspected(
        bytes32 indexed batchId, address indexed reporter, Suspicion indexed reason, bytes20[] serials
    );

    // ─── Operations ──────────────────────────────────────────────────────────────────────────

    /// @notice Registers a batch of product `gtin`. Only the product's manufacturer, while licensed
    /// and while it holds the GTIN's company prefix (a GTIN belongs to the holder of its prefix: a
    /// former holder registers no new batch, though the batches it registered before stand).
    /// @param lot the lot number (GS1 AI 10, up to 20 characters) as left-aligned bytes
    /// @param serialRoot Merkle root of the unit serials (see the contract notice for the leaves)
    /// @return batchId `keccak256(abi.encode(gtin, lot))`
    function registerBatch(
        uint64 gtin,
        bytes20 lot,
        uint64 quantity,
        uint40 manufacturedOn,
        uint40 expiresOn,
        bytes32 documentHash,
        bytes32 serialRoot
    ) external returns (bytes32 batchId);

    /// @notice Ships the units `start` to `start + quantity - 1` of batch `batchId` from the
    /// caller's shelf to `to`. They must lie in one custody range on the caller's shelf, the one that
    /// begins at `rangeStart` (see `custodyRanges`); the rest of that range stays on the shelf.
    /// @return shipment what the recipient receives and the shipper may cancel, by value
    function ship(bytes32 batchId, address to, uint64 start, uint64 quantity, uint64 rangeStart)
        external
        returns (Shipment memory shipment);

    /// @notice The recipient takes `shipment` onto its shelf, with custody of its range of units.
    /// The batch must still be movable.
    function receiveShipment(Shipment calldata shipment) external;

    /// @notice The shipper takes back a shipment still in transit (any batch status, so stock of a
    /// recalled batch returns to its shipper for destruction).
    function cancelShipment(Shipment calldata shipment) external;

    /// @notice Puts an active batch on hold. Its manufacturer or a regulator (who may also take
    /// over the manufacturer's quarantine, so the manufacturer cannot lift it).
    /// @param reasonCode the reason, as a code of the regulator's rulebook (no free text on chain)
    function quarantineBatch(bytes32 batchId, uint16 reasonCode) external;

    /// @notice Releases a quarantined batch. Its manufacturer or a regulator; only a regulator if a
    /// regulator quarantined it.
    function releaseBatch(bytes32 batchId) external;

    /// @notice Recalls a batch for good. Its manufacturer or a regulator.
    function recallBatch(bytes32 batchId, uint16 reasonCode) external;

    /// @notice Dispenses `units` of batch `batchId` from `pharmacy`'s shelf, for a prescription of
    /// product `gtin`. Only the PrescriptionRegistry calls it, within a fill. Each unit must be in
    /// a custody range that `pharmacy` received: a unit held by another member, or in transit, raises
    /// the alarm `HeldByAnother` instead.
    /// @param units the units in the order the multiproof expects (see `medledger.serials`)
    /// @param evidence for each unit, the first index of the custody range that contains it,
    /// whoever holds it (a range that does not contain its unit reverts with `UnitsNotInRange`);
    /// and an OpenZeppelin multiproof of `units` in the batch's serial tree (for a single unit,
    /// its plain proof with no flags)
    /// @return dispensed true when the units were dispensed; false when a counterfeit alarm was
    /// raised instead (`CounterfeitSuspected`), in which case nothing changed but the alarm
    function dispense(
        address pharmacy,
        bytes32 batchId,
        uint64 gtin,
        Unit[] calldata units,
        DispensingProof calldata evidence
    ) external returns (bool dispensed);

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @notice `keccak256(abi.encode(gtin, lot))`.
    function batchId(uint64 gtin, bytes20 lot) external pure returns (bytes32);

    /// @notice The stored batch (status None if never registered).
    function batch(bytes32 batchId) external view returns (Batch memory);

    /// @notice The units of batch `batchId` at `holder`.
    function holding(bytes32 batchId, address holder) external view returns (Holding memory);

    /// @notice The custody range of batch `batchId` that begins at unit index `start` (`end` 0 when none does).
    function custodyRange(bytes32 batchId, uint64 start) external view returns (CustodyRange memory);

    /// @notice Up to `limit` consecutive custody ranges of batch `batchId`, in index order, from the
    /// one that begins at `fromStart` (0 for the first): page on from the last range's `end`.
    /// @return starts the first index of each range
    /// @return ranges the ranges, in the order of `starts`
    function custodyRanges(bytes32 batchId, uint64 fromStart, uint256 limit)
        external
        view
        returns (uint64[] memory starts, CustodyRange[] memory ranges);

    /// @notice The status of the shipment whose id is `shipmentId(shipment)`.
    function shipmentStatus(bytes32 shipmentId) external view returns (ShipmentStatus);

    /// @notice `keccak256(abi.encode(shipment))`.
    function shipmentId(Shipment calldata shipment) external pure returns (bytes32);

    /// @notice Whether batch `batchId` may be trusted now, and if not why. A batch stands on the
    /// product registration it was registered under: once a regulator voids that registration
    /// (`IProductRegistry.voidProduct`) the batch answers `ProductVoided`, and it never moves or is
    /// dispensed again, even if the GTIN's prefix holder registers the GTIN anew. When a new holder
    /// of the GTIN's prefix takes the registration over (a prefix transfer), the registration is
    /// handed over, not voided: batches registered before keep standing (`IProductRegistry.registrationStands`).
    function verify(bytes32 batchId) external view returns (BatchValidity);

    /// @notice Whether `unit` belongs to batch `batchId` (by `proof`, from the batch's serial
    /// tree) and may be trusted now, and if not why.
    function verifyUnit(bytes32 batchId, Unit calldata unit, bytes32[] calldata proof)
        external
        view
        returns (UnitValidity);

    /// @notice Whether all `units` belong to batch `batchId`, by one OpenZeppelin multiproof
    /// (`units` in the order the proof expects: see `medledger.serials`), or by the plain proof of
    /// a single unit with no flags.
    function areUnitsInBatch(bytes32 batchId, Unit[] calldata units, bytes32[] calldata proof, bool[] calldata proofFlags)
        external
        view
        returns (bool);

    /// @notice Whether the unit at `index` of batch `batchId`'s serial list was dispensed.
    function isDispensed(bytes32 batchId, uint64 index) external view returns (bool);

    /// @notice The PrescriptionRegistry, the only caller of `dispense`.
    function prescriptions() external view returns (address);

    /// @notice The product registry whose products batches belong to.
    function products() external view returns (IProductRegistry);
}
