// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBatchRegistry} from "./interfaces/IBatchRegistry.sol";
import {IConsortiumRegistry} from "./interfaces/IConsortiumRegistry.sol";
import {IProductRegistry} from "./interfaces/IProductRegistry.sol";
import {Batch, BatchStatus, BatchValidity, Product} from "./types/MedLedgerTypes.sol";

/// @title BatchRegistry
/// @notice Batches of registered products, their quarantine and recall, and their verification.
contract BatchRegistry is IBatchRegistry {
    // ─── Storage ─────────────────────────────────────────────────────────────────────────────

    IProductRegistry private immutable _products;
    IConsortiumRegistry private immutable _consortium;

    // Manufacturer, dates and status share the first slot: a status check reads one slot.
    mapping(bytes32 batchId => Batch) private _batches;

    constructor(IProductRegistry products_) {
        _products = products_;
        _consortium = products_.consortium();
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
        Product memory registered = _products.product(gtin);
        if (registered.manufacturer == address(0)) revert ProductNotFound(gtin);
        if (msg.sender != registered.manufacturer || !_products.isLicensedManufacturer(msg.sender)) {
            revert NotProductManufacturer(msg.sender, gtin);
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
        emit BatchRegistered(id, gtin, msg.sender, lot, quantity, manufacturedOn, expiresOn, documentHash, serialRoot);
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
    function verify(bytes32 id) external view returns (BatchValidity) {
        Batch storage stored = _batches[id];
        BatchStatus status = stored.status;
        if (status == BatchStatus.None) return BatchValidity.Unknown;
        if (status == BatchStatus.Recalled) return BatchValidity.Recalled;
        if (status != BatchStatus.Active) return BatchValidity.Quarantined;
        if (_time() >= stored.expiresOn) return BatchValidity.Expired;
        return BatchValidity.Verified;
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
