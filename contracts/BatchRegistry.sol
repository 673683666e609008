// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";
import {IBatchRegistry} from "./interfaces/IBatchRegistry.sol";
import {IConsortiumRegistry} from "./interfaces/IConsortiumRegistry.sol";
import {IProductRegistry} from "./interfaces/IProductRegistry.sol";
import {
    Batch,
    BatchStatus,
    BatchValidity,
    CustodyRange,
    DispensingProof,
    Holding,
    Institution,
    InstitutionKind,
    InstitutionStatus,
    Shipment,
    ShipmentStatus,
    Suspicion,
    Unit,
    UnitValidity
} from "./types/MedLedgerTypes.sol";

/// @title BatchRegistry
/// @notice Batches of registered products, their quarantine and recall, and their verification.
contract BatchRegistry is IBatchRegistry {
    using BitMaps for BitMaps.BitMap;

    /// @dev The custody range a dispensing call read last (`end` 0: none yet), kept in memory.
    struct RangeRead {
        uint64 start;
        uint64 end;
        bool onShelf;
    }

    // ─── Storage ─────────────────────────────────────────────────────────────────────────────

    IProductRegistry private immutable _products;
    IConsortiumRegistry private immutable _consortium;
    // Fixed at construction (the deployer predicts its address; it checks the link back), so no
    // one ever holds a key that could dispense without a prescription.
    address private immutable _prescriptions;

    // Manufacturer, dates and status share the first slot: a status check reads one slot.
    mapping(bytes32 batchId => Batch) private _batches;

    // Held, in transit and dispensed share one slot, so a move rewrites two slots (sender, recipient).
    mapping(bytes32 batchId => mapping(address holder => Holding)) private _holdings;

    // Custody per unit, as ranges of unit indices keyed by their first index (see `CustodyRange`):
    // a shipment of a case costs one slot rewritten and at most two written, whatever its size,
    // and checking a unit's custody reads one slot, named by the caller and checked here.
    mapping(bytes32 batchId => mapping(uint64 start => CustodyRange)) private _ranges;

    // Only the status of a shipment is stored; its fields are the preimage of its id.
    mapping(bytes32 shipmentId => ShipmentStatus) private _shipments;
    uint64 private _shipmentCount;

    // One bit per unit index: 256 units share a word, so dispensing a box after the first of its
    // word costs a warm rewrite rather than a fresh slot.
    mapping(bytes32 batchId => BitMaps.BitMap) private _dispensedUnits;

    constructor(IProductRegistry products_, address prescriptions_) {
        _products = products_;
        _consortium = products_.consortium();
        _prescriptions = prescriptions_;
    }

    // ─── Operations ──────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IBatchRegistry
    function registerBatch(
        uint64 gtin,
        bytes20 lot,
        uint64 quantity,
        uint40 manufacturedOn,
        uint40 expiresOn,
        bytes32 documentHash,
        bytes32 serialRoot
    ) external returns (bytes32 id) {
        address manufacturer = _products.manufacturerOf(gtin);
        if (manufacturer == address(0)) revert ProductNotFound(gtin);
        if (msg.sender != manufacturer || !_products.isLicensedManufacturer(msg.sender)) {
            revert NotProductManufacturer(msg.sender, gtin);
        }
        // A GTIN belongs to the holder of its prefix: a former holder mints no new batch under it.
        if (!_products.holdsGtin(msg.sender, gtin)) {
            (,, address holder) = _products.companyPrefixOf(gtin);
            revert GtinNotInCompanyPrefix(gtin, msg.sender, holder);
        }
        if (lot == 0) revert EmptyLot();
        if (quantity == 0) revert ZeroQuantity();
        if (serialRoot == 0) revert ZeroSerialRoot();
        uint40 currentTime = _time();
        if (manufacturedOn > currentTime || expiresOn <= currentTime || expiresOn <= manufacturedOn) {
            revert InvalidBatchDates(manufacturedOn, expiresOn, currentTime);
        }
        id = _batchId(gtin, lot);
        Batch storage stored = _batches[id];
        if (stored.status != BatchStatus.None) revert BatchAlreadyRegistered(id);
        _batches[id] = Batch({
            manufacturer: msg.sender,
            manufacturedOn: manufacturedOn,
            expiresOn: expiresOn,
            status: BatchStatus.Active,
            gtin: gtin,
            quantity: quantity,
            documentHash: documentHash,
            serialRoot: serialRoot
        });
        _holdings[id][msg.sender].held = quantity;
        _ranges[id][0] = CustodyRange({holder: msg.sender, end: quantity, inTransit: false});
        emit BatchRegistered(id, gtin, msg.sender, lot, quantity, manufacturedOn, expiresOn, documentHash, serialRoot);
    }

    // ─── Custody ─────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IBatchRegistry
    function ship(bytes32 id, address to, uint64 start, uint64 quantity, uint64 rangeStart)
        external
        returns (Shipment memory shipment)
    {
        _requireMovable(id);
        if (quantity == 0) revert ZeroQuantity();
        InstitutionKind fromKind = _activeKind(msg.sender);
        Institution memory recipient = _consortium.institution(to);
        bool supplies = fromKind == InstitutionKind.Manufacturer || fromKind == InstitutionKind.Distributor;
        bool receives = recipient.status == InstitutionStatus.Active
            && (recipient.kind == InstitutionKind.Distributor || recipient.kind == InstitutionKind.Pharmacy
                || recipient.kind == InstitutionKind.Hospital);
        if (!supplies || !receives || to == msg.sender) revert RecipientNotAllowed(msg.sender, to);
        Holding storage sender = _holdings[id][msg.sender];
        if (sender.held < quantity) revert InsufficientStock(id, msg.sender, sender.held, quantity);

        uint64 end = _cutForShipping(id, rangeStart, start, quantity);
        sender.held -= quantity;
        sender.inTransit += quantity;
        shipment = Shipment(id, msg.sender, to, start, end, _shipmentCount++);
        bytes32 key = keccak256(abi.encode(shipment));
        _shipments[key] = ShipmentStatus.InTransit;
        emit Shipped(key, id, to, shipment);
    }

    /// @inheritdoc IBatchRegistry
    function receiveShipment(Shipment calldata shipment) external {
        bytes32 key = _inTransit(shipment);
        if (msg.sender != shipment.to) revert NotShipmentParty(msg.sender, key);
        _requireMovable(shipment.batchId);
        _activeKind(msg.sender); // a suspended member cannot take stock in
        _shipments[key] = ShipmentStatus.Received;
        // In transit, the range is exactly the shipment's: nothing cuts or dispenses a range in transit.
        _ranges[shipment.batchId][shipment.start] =
            CustodyRange({holder: msg.sender, end: shipment.end, inTransit: false});
        uint64 quantity = shipment.end - shipment.start;
        _holdings[shipment.batchId][shipment.from].inTransit -= quantity;
        _holdings[shipment.batchId][msg.sender].held += quantity;
        emit Received(key, shipment.batchId, msg.sender);
    }

    /// @inheritdoc IBatchRegistry
    function cancelShipment(Shipment calldata shipment) external {
        bytes32 key = _inTransit(shipment);
        if (msg.sender != shipment.from) revert NotShipmentParty(msg.sender, key);
        _shipments[key] = ShipmentStatus.Cancelled;
        _ranges[shipment.batchId][shipment.start] =
            CustodyRange({holder: msg.sender, end: shipment.end, inTransit: false});
        uint64 quantity = shipment.end - shipment.start;
        Holding storage sender = _holdings[shipment.batchId][msg.sender];
        sender.inTransit -= quantity;
        sender.held += quantity;
        emit ShipmentCancelled(key, shipment.batchId, msg.sender);
    }

    /// @inheritdoc IBatchRegistry
    function quarantineBatch(bytes32 id, uint16 reasonCode) external {
        (Batch storage stored, bool asRegulator) = _managedBatch(id);
        BatchStatus status = stored.status;
        // A regulator may take over the manufacturer's quarantine, so that only a regulator lifts it.
        bool takeover = status == BatchStatus.Quarantined && asRegulator;
        if (status != BatchStatus.Active && !takeover) revert BatchStatusInvalid(id, status);
        stored.status = asRegulator ? BatchStatus.QuarantinedByRegulator : BatchStatus.Quarantined;
        emit BatchQuarantined(id, msg.sender, reasonCode);
    }

    /// @inheritdoc IBatchRegistry
    function releaseBatch(bytes32 id) external {
        (Batch storage stored, bool asRegulator) = _managedBatch(id);
        BatchStatus status = stored.status;
        bool allowed = status == BatchStatus.Quarantined || (status == BatchStatus.QuarantinedByRegulator && asRegulator);
        if (!allowed) revert BatchStatusInvalid(id, status);
        stored.status = BatchStatus.Active;
        emit BatchReleased(id, msg.sender);
    }

    /// @inheritdoc IBatchRegistry
    function recallBatch(bytes32 id, uint16 reasonCode) external {
        (Batch storage stored,) = _managedBatch(id);
        if (stored.status == BatchStatus.Recalled) revert BatchStatusInvalid(id, BatchStatus.Recalled);
        stored.status = BatchStatus.Recalled;
        emit BatchRecalled(id, msg.sender, reasonCode);
    }

    // ─── Dispensing ──────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IBatchRegistry
    function dispense(
        address pharmacy,
        bytes32 id,
        uint64 gtin,
        Unit[] calldata units,
        DispensingProof calldata evidence
    ) external returns (bool dispensed) {
        if (msg.sender != _prescriptions) revert NotPrescriptionRegistry(msg.sender);
        bytes32 root = _dispensableRoot(id, gtin, pharmacy, units.length);
        uint64[] calldata rangeStarts = evidence.rangeStarts;
        if (rangeStarts.length != units.length) revert RangeCountMismatch(units.length, rangeStarts.length);
        if (!_provesUnits(id, root, units, evidence.proof, evidence.proofFlags)) {
            emit CounterfeitSuspected(id, pharmacy, Suspicion.UnitNotInBatch, _serials(units));
            return false;
        }
        return _decommission(id, pharmacy, units, rangeStarts);
    }

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IBatchRegistry
    function batchId(uint64 gtin, bytes20 lot) external pure returns (bytes32) {
        return _batchId(gtin, lot);
    }

    /// @inheritdoc IBatchRegistry
    function batch(bytes32 id) external view returns (Batch memory) {
        return _batches[id];
    }

    /// @inheritdoc IBatchRegistry
    function holding(bytes32 id, address holder) external view returns (Holding memory) {
        return _holdings[id][holder];
    }

    /// @inheritdoc IBatchRegistry
    function custodyRange(bytes32 id, uint64 start) external view returns (CustodyRange memory) {
        return _ranges[id][start];
    }

    /// @inheritdoc IBatchRegistry
    function custodyRanges(bytes32 id, uint64 fromStart, uint256 limit)
        external
        view
        returns (uint64[] memory starts, CustodyRange[] memory ranges)
    {
        mapping(uint64 => CustodyRange) storage stored = _ranges[id];
        uint256 count;
        for (uint64 at = fromStart; count < limit && stored[at].end != 0; at = stored[at].end) {
            ++count;
        }
        starts = new uint64[](count);
        ranges = new CustodyRange[](count);
        uint64 next = fromStart;
        for (uint256 i; i < count; ++i) {
            starts[i] = next;
            ranges[i] = stored[next];
            next = ranges[i].end;
        }
    }

    /// @inheritdoc IBatchRegistry
    function shipmentStatus(bytes32 key) external view returns (ShipmentStatus) {
        return _shipments[key];
    }

    /// @inheritdoc IBatchRegistry
    function shipmentId(Shipment calldata shipment) external pure returns (bytes32) {
        return keccak256(abi.encode(shipment));
    }

    /// @inheritdoc IBatchRegistry
    function verify(bytes32 id) public view returns (BatchValidity) {
        Batch storage stored = _batches[id];
        BatchStatus status = stored.status;
        if (status == BatchStatus.None) return BatchValidity.Unknown;
        if (status == BatchStatus.Recalled) return BatchValidity.Recalled;
        // The batch stands only on the registration it was registered under, while that one is live
        // or was handed over to a new prefix holder: never once voided, whoever registers the GTIN next.
        if (!_products.registrationStands(stored.gtin, stored.manufacturer)) return BatchValidity.ProductVoided;
        if (status != BatchStatus.Active) return BatchValidity.Quarantined;
        if (_time() >= stored.expiresOn) return BatchValidity.Expired;
        return BatchValidity.Verified;
    }

    /// @inheritdoc IBatchRegistry
    function verifyUnit(bytes32 id, Unit calldata unit, bytes32[] calldata proof) external view returns (UnitValidity) {
        Batch storage stored = _batches[id];
        if (stored.status == BatchStatus.None) return UnitValidity.NoMatch;
        if (!MerkleProof.verifyCalldata(proof, stored.serialRoot, _unitLeaf(id, unit))) return UnitValidity.NoMatch;
        BatchValidity validity = verify(id);
        if (validity == BatchValidity.Recalled) return UnitValidity.Recalled;
        if (validity == BatchValidity.ProductVoided) return UnitValidity.ProductVoided;
        if (_dispensedUnits[id].get(unit.index)) return UnitValidity.AlreadyDispensed;
        if (validity == BatchValidity.Quarantined) return UnitValidity.Quarantined;
        if (validity == BatchValidity.Expired) return UnitValidity.Expired;
        return UnitValidity.Verified;
    }

    /// @inheritdoc IBatchRegistry
    function areUnitsInBatch(bytes32 id, Unit[] calldata units, bytes32[] calldata proof, bool[] calldata proofFlags)
        external
        view
        returns (bool)
    {
        return _provesUnits(id, _batches[id].serialRoot, units, proof, proofFlags);
    }

    /// @inheritdoc IBatchRegistry
    function isDispensed(bytes32 id, uint64 index) external view returns (bool) {
        return _dispensedUnits[id].get(index);
    }

    /// @inheritdoc IBatchRegistry
    function prescriptions() external view returns (address) {
        return _prescriptions;
    }

    /// @inheritdoc IBatchRegistry
    function products() external view returns (IProductRegistry) {
        return _products;
    }

    // ─── Internal ────────────────────────────────────────────────────────────────────────────

    /// @dev Block time as a uint40; virtual so a test harness can move time without a node.
    function _time() internal view virtual returns (uint40) {
        return uint40(block.timestamp);
    }

    function _requireMovable(bytes32 id) private view {
        BatchValidity validity = verify(id);
        if (validity != BatchValidity.Verified) revert BatchNotMovable(id, validity);
    }

    /// @dev The kind of `account`, which must be an active member that may hold medicines.
    function _activeKind(address account) private view returns (InstitutionKind kind) {
        Institution memory member = _consortium.institution(account);
        kind = member.kind;
        bool holds = kind == InstitutionKind.Manufacturer || kind == InstitutionKind.Distributor
            || kind == InstitutionKind.Pharmacy || kind == InstitutionKind.Hospital;
        if (member.status != InstitutionStatus.Active || !holds) revert NotActiveSupplier(account);
    }

    /// @dev The serial root of batch `id`, after checking that `pharmacy` may dispense `count`
    /// units of it for a prescription of `gtin`: the batch is movable and of that product, the
    /// pharmacy active and holding enough.
    function _dispensableRoot(bytes32 id, uint64 gtin, address pharmacy, uint256 count)
        private
        view
        returns (bytes32)
    {
        _requireMovable(id);
        Batch storage stored = _batches[id];
        if (stored.gtin != gtin) revert WrongProduct(id, gtin);
        if (!_consortium.isMember(pharmacy, InstitutionKind.Pharmacy)) revert NotActivePharmacy(pharmacy);
        if (count == 0) revert ZeroQuantity();
        uint64 held = _holdings[id][pharmacy].held;
        if (held < count) revert InsufficientStock(id, pharmacy, held, uint64(count));
        return stored.serialRoot;
    }

    /// @dev Cuts the units `[start, start + quantity)` out of the caller's custody range that begins
    /// at `rangeStart` and marks them in transit, keyed by `start`; what lies before and after stays
    /// on the shelf. Keys inside a range are always empty (ranges never merge), so the cut writes
    /// fresh slots only. Returns the end of the cut.
    function _cutForShipping(bytes32 id, uint64 rangeStart, uint64 start, uint64 quantity)
        private
        returns (uint64 end)
    {
        mapping(uint64 => CustodyRange) storage ranges = _ranges[id];
        CustodyRange memory range = ranges[rangeStart];
        uint256 stop = uint256(start) + quantity;
        if (start < rangeStart || stop > range.end) revert UnitsNotInRange(id, rangeStart, range.end, start, quantity);
        if (range.holder != msg.sender || range.inTransit) revert RangeNotOnShelf(id, rangeStart, msg.sender);
        end = uint64(stop);
        if (start > rangeStart) ranges[rangeStart].end = start;
        if (end < range.end) ranges[end] = CustodyRange({holder: msg.sender, end: range.end, inTransit: false});
        ranges[start] = CustodyRange({holder: msg.sender, end: end, inTransit: true});
    }

    /// @dev Marks every unit dispensed and moves them off `pharmacy`'s shelf, or changes nothing:
    /// at the first unit already marked (dispensed before, or twice in `units`), or whose custody
    /// range `rangeStarts[i]` is not on `pharmacy`'s shelf, it restores the units this call marked
    /// and raises the alarm instead. A range start that does not contain its unit reverts.
    function _decommission(bytes32 id, address pharmacy, Unit[] calldata units, uint64[] calldata rangeStarts)
        private
        returns (bool)
    {
        BitMaps.BitMap storage decommissioned = _dispensedUnits[id];
        RangeRead memory read; // the packs of one case share their range: it is read once
        for (uint256 i; i < units.length; ++i) {
            uint64 index = units[i].index;
            bool onShelf = _isOnShelf(id, index, rangeStarts[i], pharmacy, read);
            Suspicion reason;
            if (decommissioned.get(index)) {
                reason = Suspicion.AlreadyDispensed;
            } else if (!onShelf) {
                reason = Suspicion.HeldByAnother;
            } else {
                decommissioned.set(index);
                continue;
            }
            for (uint256 j; j < i; ++j) {
                decommissioned.unset(units[j].index);
            }
            emit CounterfeitSuspected(id, pharmacy, reason, _serials(units[i:i + 1]));
            return false;
        }
        Holding storage shelf = _holdings[id][pharmacy];
        uint64 count = uint64(units.length);
        shelf.held -= count; // checked against `held` in `_dispensableRoot`
        shelf.dispensed += count;
        emit UnitsDispensed(id, pharmacy, _serials(units));
        return true;
    }

    /// @dev Whether the unit at `index` is on `holder`'s shelf: in its custody range that begins at
    /// `rangeStart`, received and not in transit. Reverts when that range does not contain `index`.
    /// `read` keeps the range last read, so a run of units naming the same range reads it once.
    function _isOnShelf(bytes32 id, uint64 index, uint64 rangeStart, address holder, RangeRead memory read)
        private
        view
        returns (bool)
    {
        if (read.end == 0 || read.start != rangeStart) {
            CustodyRange storage range = _ranges[id][rangeStart];
            (read.start, read.end, read.onShelf) = (rangeStart, range.end, range.holder == holder && !range.inTransit);
        }
        if (index < rangeStart || index >= read.end) revert UnitsNotInRange(id, rangeStart, read.end, index, 1);
        return read.onShelf;
    }

    function _inTransit(Shipment calldata shipment) private view returns (bytes32 key) {
        key = keccak256(abi.encode(shipment));
        if (_shipments[key] != ShipmentStatus.InTransit) revert ShipmentNotInTransit(key);
    }

    /// @dev OpenZeppelin's double-hashed leaf, so a leaf can never pass as an inner node.
    function _unitLeaf(bytes32 id, Unit calldata unit) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(id, unit.index, unit.serial))));
    }

    /// @dev Whether the multiproof shows every unit in the tree with `root` (false for no units or
    /// no batch; a malformed proof reverts in OpenZeppelin's MerkleProof).
    function _provesUnits(
        bytes32 id,
        bytes32 root,
        Unit[] calldata units,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) private pure returns (bool) {
        if (root == 0 || units.length == 0) return false;
        // One unit with a plain proof (no flags) skips the multiproof's bookkeeping.
        if (units.length == 1 && proofFlags.length == 0) {
            return MerkleProof.verifyCalldata(proof, root, _unitLeaf(id, units[0]));
        }
        bytes32[] memory leaves = new bytes32[](units.length);
        for (uint256 i; i < units.length; ++i) {
            leaves[i] = _unitLeaf(id, units[i]);
        }
        return MerkleProof.multiProofVerifyCalldata(proof, proofFlags, root, leaves);
    }

    function _serials(Unit[] calldata units) private pure returns (bytes20[] memory serials) {
        serials = new bytes20[](units.length);
        for (uint256 i; i < units.length; ++i) {
            serials[i] = units[i].serial;
        }
    }

    function _batchId(uint64 gtin, bytes20 lot) private pure returns (bytes32) {
        return keccak256(abi.encode(gtin, lot));
    }

    /// @dev The batch `id`, after checking it exists and the caller may manage it: its
    /// manufacturer, or a regulator. `asRegulator` tells which the caller acts as.
    function _managedBatch(bytes32 id) private view returns (Batch storage stored, bool asRegulator) {
        stored = _batches[id];
        if (stored.status == BatchStatus.None) revert BatchNotFound(id);
        if (msg.sender == stored.manufacturer) return (stored, false);
        if (!_consortium.isRegulator(msg.sender)) revert NotManufacturerOrRegulator(msg.sender, id);
        return (stored, true);
    }
}
