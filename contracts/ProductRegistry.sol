// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";
import {IProductRegistry} from "./interfaces/IProductRegistry.sol";
import {IConsortiumRegistry} from "./interfaces/IConsortiumRegistry.sol";
import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";
import {CompanyPrefix, InstitutionKind, Product} from "./types/MedLedgerTypes.sol";

/// @title ProductRegistry
/// @notice Products registered by the holders of their GS1 company prefixes, keyed by GTIN-14.
contract ProductRegistry is IProductRegistry {
    /// @inheritdoc IProductRegistry
    uint8 public constant MIN_PREFIX_LENGTH = 4;
    /// @inheritdoc IProductRegistry
    uint8 public constant MAX_PREFIX_LENGTH = 12;

    uint64 private constant GTIN_LIMIT = 1e14; // a GTIN-14 has at most 14 digits
    // The 13 digits after the indicator: company prefix, item reference, check digit.
    uint64 private constant AFTER_INDICATOR = 1e13;

    // ─── Storage ─────────────────────────────────────────────────────────────────────────────

    ICredentialRegistry private immutable _credentials;
    IConsortiumRegistry private immutable _consortium;

    // Manufacturer, registration time and the voided flag share the first slot: BatchRegistry's
    // verify asks `manufacturerOf`, one SLOAD.
    mapping(uint64 gtin => Product) private _products;

    // Keyed by (length, value) because leading zeros are part of a prefix. Holder and the count of
    // longer assigned prefixes share one slot, so the walk in `_companyPrefixOf` reads one slot a length.
    mapping(uint8 length => mapping(uint64 value => CompanyPrefix)) private _prefixes;

    /// @dev How a manufacturer's registration of a GTIN last ended, once it is no longer live.
    enum RegistrationEnd {
        None, // never ended (live, or never registered)
        HandedOver, // taken over by a new holder of the GTIN's prefix: its batches keep standing
        Voided // voided by a regulator: its batches never stand again, and it never registers the GTIN again
    }

    // Per GTIN and manufacturer: a registration is a manufacturer's registration of a GTIN. Voided
    // is final (the manufacturer never registers the GTIN again, so nothing overwrites it).
    mapping(uint64 gtin => mapping(address manufacturer => RegistrationEnd)) private _ended;

    constructor(ICredentialRegistry credentials_) {
        _credentials = credentials_;
        _consortium = credentials_.consortium();
    }

    // ─── Operations ──────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IProductRegistry
    function registerProduct(uint64 gtin, bytes32 nameHash, bytes32 documentHash) external {
        if (!isLicensedManufacturer(msg.sender)) revert NotLicensedManufacturer(msg.sender);
        if (!isValidGtin(gtin)) revert InvalidGtin(gtin);
        if (nameHash == 0) revert EmptyProductName();
        (,, address holder) = _companyPrefixOf(gtin);
        if (holder != msg.sender) revert GtinNotInCompanyPrefix(gtin, msg.sender, holder);
        Product storage stored = _products[gtin];
        address previous = stored.manufacturer;
        bool takeover;
        if (previous != address(0)) {
            if (_ended[gtin][msg.sender] == RegistrationEnd.Voided) revert RegistrationVoided(gtin, msg.sender);
            if (!stored.voided) {
                // Live: the caller holds the prefix, so a registrant other than the caller is a
                // former holder, whose registration the caller takes over under the same name.
                if (previous == msg.sender) revert ProductAlreadyRegistered(gtin);
                if (stored.nameHash != nameHash) revert ProductNameMismatch(gtin, stored.nameHash, nameHash);
                takeover = true;
                _ended[gtin][previous] = RegistrationEnd.HandedOver;
            }
        }
        stored.manufacturer = msg.sender;
        stored.registeredAt = uint40(block.timestamp);
        stored.voided = false;
        stored.nameHash = nameHash;
        stored.documentHash = documentHash;
        if (takeover) emit ProductTakenOver(gtin, previous, msg.sender);
        emit ProductRegistered(gtin, msg.sender, nameHash, documentHash);
    }

    /// @inheritdoc IProductRegistry
    function assignCompanyPrefix(uint8 length, uint64 value, address manufacturer) external {
        _requirePrefixAuthority();
        _requireValidPrefix(length, value);
        if (!_consortium.isMember(manufacturer, InstitutionKind.Manufacturer)) revert NotManufacturer(manufacturer);
        CompanyPrefix storage stored = _prefixes[length][value];
        if (stored.holder != address(0)) revert CompanyPrefixAlreadyAssigned(length, value, stored.holder);
        if (stored.longerAssigned != 0) revert CompanyPrefixOverlaps(length, value);
        // Every shorter prefix of this one must be free; each then counts one more assigned extension.
        uint64 divisor = 10;
        for (uint8 shorter = length - 1; shorter >= MIN_PREFIX_LENGTH; --shorter) {
            CompanyPrefix storage outer = _prefixes[shorter][value / divisor];
            if (outer.holder != address(0)) revert CompanyPrefixOverlaps(length, value);
            ++outer.longerAssigned;
            divisor *= 10;
        }
        stored.holder = manufacturer;
        emit CompanyPrefixAssigned(length, value, manufacturer, msg.sender);
    }

    /// @inheritdoc IProductRegistry
    function unassignCompanyPrefix(uint8 length, uint64 value) external {
        _requirePrefixAuthority();
        _requireValidPrefix(length, value);
        CompanyPrefix storage stored = _prefixes[length][value];
        address holder = stored.holder;
        if (holder == address(0)) revert CompanyPrefixNotAssigned(length, value);
        uint64 divisor = 10;
        for (uint8 shorter = length - 1; shorter >= MIN_PREFIX_LENGTH; --shorter) {
            --_prefixes[shorter][value / divisor].longerAssigned;
            divisor *= 10;
        }
        stored.holder = address(0);
        emit CompanyPrefixUnassigned(length, value, holder, msg.sender);
    }

    /// @inheritdoc IProductRegistry
    function voidProduct(uint64 gtin, uint16 reasonCode) external {
        if (!_consortium.isRegulator(msg.sender)) revert NotRegulator(msg.sender);
        Product storage stored = _products[gtin];
        address manufacturer = stored.manufacturer;
        if (manufacturer == address(0)) revert ProductNotFound(gtin);
        if (stored.voided) revert ProductAlreadyVoided(gtin);
        stored.voided = true;
        _ended[gtin][manufacturer] = RegistrationEnd.Voided;
        emit ProductVoided(gtin, manufacturer, msg.sender, reasonCode);
    }

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc IProductRegistry
    function product(uint64 gtin) external view returns (Product memory) {
        return _products[gtin];
    }

    /// @inheritdoc IProductRegistry
    function manufacturerOf(uint64 gtin) external view returns (address) {
        Product storage stored = _products[gtin];
        return stored.voided ? address(0) : stored.manufacturer;
    }

    /// @inheritdoc IProductRegistry
    function companyPrefix(uint8 length, uint64 value) external view returns (CompanyPrefix memory) {
        return _prefixes[length][value];
    }

    /// @inheritdoc IProductRegistry
    function companyPrefixOf(uint64 gtin) external view returns (uint8 length, uint64 value, address holder) {
        return _companyPrefixOf(gtin);
    }

    /// @inheritdoc IProductRegistry
    function holdsGtin(address account, uint64 gtin) external view returns (bool) {
        (,, address holder) = _companyPrefixOf(gtin);
        return holder == account && account != address(0);
    }

    /// @inheritdoc IProductRegistry
    function registrationStands(uint64 gtin, address manufacturer) external view returns (bool) {
        Product storage stored = _products[gtin];
        if (stored.manufacturer == manufacturer) return manufacturer != address(0) && !stored.voided; // one slot
        return _ended[gtin][manufacturer] == RegistrationEnd.HandedOver;
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

    // ─── Internal ────────────────────────────────────────────────────────────────────────────

    /// @dev The assigned prefix containing `gtin`: lengths 4 to 12 from the second digit, shortest
    /// first. Assigned prefixes never overlap, so the first found is the only one; a length that no
    /// assigned prefix extends ends the walk early. At most nine SLOADs.
    function _companyPrefixOf(uint64 gtin) private view returns (uint8, uint64, address) {
        uint64 digits = gtin % AFTER_INDICATOR;
        uint64 divisor = uint64(10) ** (13 - MIN_PREFIX_LENGTH);
        for (uint8 length = MIN_PREFIX_LENGTH; length <= MAX_PREFIX_LENGTH; ++length) {
            uint64 value = digits / divisor;
            CompanyPrefix storage found = _prefixes[length][value];
            address holder = found.holder;
            if (holder != address(0)) return (length, value, holder);
            if (found.longerAssigned == 0) break;
            divisor /= 10;
        }
        return (0, 0, address(0));
    }

    function _requirePrefixAuthority() private view {
        bool admin = msg.sender == IAccessControlDefaultAdminRules(address(_consortium)).defaultAdmin();
        if (!admin && !_consortium.isRegulator(msg.sender)) revert NotAdminOrRegulator(msg.sender);
    }

    function _requireValidPrefix(uint8 length, uint64 value) private pure {
        if (length < MIN_PREFIX_LENGTH || length > MAX_PREFIX_LENGTH || value == 0 || value >= uint64(10) ** length) {
            revert InvalidCompanyPrefix(length, value);
        }
    }
}
