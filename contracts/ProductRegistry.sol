// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IProductRegistry} from "./interfaces/IProductRegistry.sol";
import {IConsortiumRegistry} from "./interfaces/IConsortiumRegistry.sol";
import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";
import {InstitutionKind, Product} from "./types/MedLedgerTypes.sol";

/// @title ProductRegistry
/// @notice Products registered by licensed manufacturers, keyed by GTIN-14.
contract ProductRegistry is IProductRegistry {
    uint64 private constant GTIN_LIMIT = 1e14; // a GTIN-14 has at most 14 digits

    ICredentialRegistry private immutable _credentials;
    IConsortiumRegistry private immutable _consortium;

    mapping(uint64 gtin => Product) private _products;

    constructor(ICredentialRegistry credentials_) {
        _credentials = credentials_;
        _consortium = credentials_.consortium();
    }

    /// @inheritdoc IProductRegistry
    function registerProduct(uint64 gtin, bytes32 nameHash, bytes32 documentHash) external {
        if (!isLicensedManufacturer(msg.sender)) revert NotLicensedManufacturer(msg.sender);
        if (!isValidGtin(gtin)) revert InvalidGtin(gtin);
        if (nameHash == 0) revert EmptyProductName();
        Product storage stored = _products[gtin];
        if (stored.manufacturer != address(0)) revert ProductAlreadyRegistered(gtin);
        stored.manufacturer = msg.sender;
        stored.registeredAt = uint40(block.timestamp);
        stored.nameHash = nameHash;
        stored.documentHash = documentHash;
        emit ProductRegistered(gtin, msg.sender, nameHash, documentHash);
    }

    /// @inheritdoc IProductRegistry
    function product(uint64 gtin) external view returns (Product memory) {
        return _products[gtin];
    }

    /// @inheritdoc IProductRegistry
    function manufacturerOf(uint64 gtin) external view returns (address) {
        return _products[gtin].manufacturer;
    }

    /// @inheritdoc IProductRegistry
    function isValidGtin(uint64 gtin) public pure returns (bool) {
        if (gtin == 0 || gtin >= GTIN_LIMIT) return false;
        // GS1 mod-10: from the right, digits after the check digit weigh 3, 1, 3, ...
        uint64 body = gtin / 10;
        uint256 sum;
        for (uint256 position; position < 13; ++position) {
            sum += (body % 10) * (position % 2 == 0 ? 3 : 1);
            body /= 10;
        }
        return (10 - (sum % 10)) % 10 == gtin % 10;
    }

    /// @inheritdoc IProductRegistry
    function isLicensedManufacturer(address account) public view returns (bool) {
        return _consortium.isMember(account, InstitutionKind.Manufacturer) && _credentials.isCredentialed(account);
    }

    /// @inheritdoc IProductRegistry
    function consortium() external view returns (IConsortiumRegistry) {
        return _consortium;
    }

    /// @inheritdoc IProductRegistry
    function credentials() external view returns (ICredentialRegistry) {
        return _credentials;
    }
}
