// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Product} from "../types/MedLedgerTypes.sol";
import {IConsortiumRegistry} from "./IConsortiumRegistry.sol";
import {ICredentialRegistry} from "./ICredentialRegistry.sol";

/// @title Medicinal products, identified by their GS1 GTIN-14.
/// @notice An accredited manufacturer holding a valid accreditation registers a product under its
/// GTIN (an NDC maps into a GTIN-14). The GTIN's check digit is verified on chain, so a mistyped
/// code is refused rather than registered.
interface IProductRegistry {
    /// @notice `gtin` is not a GTIN-14 with a correct GS1 check digit.
    error InvalidGtin(uint64 gtin);

    /// @notice `account` is not an active, credentialed manufacturer.
    error NotLicensedManufacturer(address account);

    /// @notice A product with GTIN `gtin` is already registered.
    error ProductAlreadyRegistered(uint64 gtin);

    /// @notice The product's name hash is zero: a product needs a name.
    error EmptyProductName();

    /// @notice `manufacturer` registered product `gtin`.
    event ProductRegistered(uint64 indexed gtin, address indexed manufacturer, bytes32 nameHash, bytes32 documentHash);

    /// @notice Registers product `gtin` for the calling manufacturer.
    /// @param gtin GTIN-14 as a number (e.g. 09506000134352), check digit included
    /// @param nameHash keccak256 of the product's name as labelled (see `medledger.client.products.name_hash`)
    /// @param documentHash hash of the product's dossier or label
    function registerProduct(uint64 gtin, bytes32 nameHash, bytes32 documentHash) external;

    /// @notice The product registered under `gtin` (manufacturer zero if none).
    function product(uint64 gtin) external view returns (Product memory);

    /// @notice The manufacturer of product `gtin`, zero if none: one slot, for the registries
    /// that only need to know the product exists and whose it is.
    function manufacturerOf(uint64 gtin) external view returns (address);

    /// @notice Whether `gtin` is a GTIN-14 with a correct GS1 check digit.
    function isValidGtin(uint64 gtin) external pure returns (bool);

    /// @notice Whether `account` may register products and batches now: an active manufacturer
    /// member holding a valid accreditation.
    function isLicensedManufacturer(address account) external view returns (bool);

    function consortium() external view returns (IConsortiumRegistry);

    function credentials() external view returns (ICredentialRegistry);
}
