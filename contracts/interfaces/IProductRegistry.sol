// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CompanyPrefix, Product} from "../types/MedLedgerTypes.sol";
import {IConsortiumRegistry} from "./IConsortiumRegistry.sol";
import {ICredentialRegistry} from "./ICredentialRegistry.sol";

/// @title Medicinal products, identified by their GS1 GTIN-14, owned by their GS1 company prefix.
/// @notice Trust rule, as in GS1: a GTIN belongs to the holder of its GS1 company prefix. A regulator
/// (or the consortium admin) assigns company prefixes (4 to 12 digits) to accredited manufacturers
/// and may unassign them; assigned prefixes never overlap (none begins with another), so every GTIN
/// has at most one owner. An accredited manufacturer holding a valid accreditation registers a
/// product only under a GTIN inside a prefix assigned to it: no one else can take that GTIN, even by
/// sending its transaction first. The GTIN's check digit is verified on chain, so a mistyped code
/// is refused rather than registered (an NDC maps into a GTIN-14).
///
/// GTIN-14 structure: indicator digit (packaging level; 0 for a GTIN-13, 12 or 8 written in 14
/// digits), then the company prefix, the item reference and the check digit. The company prefix
/// always starts at the second digit; the leading zeros of a padded GTIN-12 belong to it (the
/// U.P.C. company prefix 614141 is the GS1 company prefix 0614141, length 7). A GTIN-8 has no
/// company prefix: a regulator assigns one by its 12 digits after the indicator (00000 followed by
/// the GTIN-8's first seven digits).
///
/// A regulator voids a product registered in error: the registration stays readable but is no
/// longer live (`manufacturerOf` answers zero), so its batches no longer verify, move or dispense.
/// The current prefix holder may register the voided GTIN again, unless it is a manufacturer whose
/// registration of that GTIN was voided (GS1 healthcare never reuses a GTIN for another item, and a
/// manufacturer must not undo a regulator's void by registering again): batches registered under a
/// voided registration never verify again, whoever registers the GTIN next.
///
/// A prefix transfer moves its GTINs, as in GS1: once a prefix is unassigned, its former holder
/// registers no new product and no new batch under it (`holdsGtin`), though its registrations stay
/// live and its batches keep verifying. When a regulator assigns the prefix to another
/// manufacturer, that new holder takes over each registration inside it by registering the GTIN
/// under the same product name (a GTIN never names another item): the registration then names the
/// new holder, and the former holder's registration is handed over, not voided, so the batches it
/// registered before keep verifying, moving and dispensing (`registrationStands`), while only the
/// new holder registers new batches. A regulator voids only the live registration; a handed-over
/// registration's batches it recalls one by one.
///
/// Finding a GTIN's prefix is a bounded walk over the nine possible lengths, shortest first, that
/// stops at the first assigned prefix or at the first length no assigned prefix extends (one
/// SLOAD per length walked: four for a GTIN under a 7-digit prefix). The caller does not name the
/// prefix, so the GTIN alone decides who may register it.
interface IProductRegistry {
    // ─── Errors ──────────────────────────────────────────────────────────────────────────────

    /// @notice `gtin` is not a GTIN-14 with a correct GS1 check digit.
    error InvalidGtin(uint64 gtin);

    /// @notice `account` is not an active, credentialed manufacturer.
    error NotLicensedManufacturer(address account);

    /// @notice A product with GTIN `gtin` is already registered.
    error ProductAlreadyRegistered(uint64 gtin);

    /// @notice The product's name hash is zero: a product needs a name.
    error EmptyProductName();

    /// @notice `account` is neither the consortium admin nor a regulator.
    error NotAdminOrRegulator(address account);

    /// @notice `account` is not a regulator.
    error NotRegulator(address account);

    /// @notice `account` is not an active manufacturer member, so no company prefix is assigned to it.
    error NotManufacturer(address account);

    /// @notice `value` of `length` digits is not a company prefix: the length must be 4 to 12 and
    /// the value non-zero with at most `length` digits.
    error InvalidCompanyPrefix(uint8 length, uint64 value);

    /// @notice The company prefix (`length`, `value`) is already assigned, to `holder`.
    error CompanyPrefixAlreadyAssigned(uint8 length, uint64 value, address holder);

    /// @notice The company prefix (`length`, `value`) overlaps an assigned one: it begins with an
    /// assigned prefix, or an assigned prefix begins with it.
    error CompanyPrefixOverlaps(uint8 length, uint64 value);

    /// @notice The company prefix (`length`, `value`) is not assigned.
    error CompanyPrefixNotAssigned(uint8 length, uint64 value);

    /// @notice `gtin` is not inside a company prefix assigned to `account` (`holder` holds its
    /// prefix, zero if no assigned prefix contains it).
    error GtinNotInCompanyPrefix(uint64 gtin, address account, address holder);

    /// @notice `account`'s registration of `gtin` was voided by a regulator: it may not register
    /// that GTIN again.
    error RegistrationVoided(uint64 gtin, address account);

    /// @notice No product is registered under `gtin`.
    error ProductNotFound(uint64 gtin);

    /// @notice Taking over product `gtin` from a former prefix holder needs the name it was
    /// registered under (`registered`); `given` differs (a GTIN never names another item).
    error ProductNameMismatch(uint64 gtin, bytes32 registered, bytes32 given);

    /// @notice The product `gtin` is already voided.
    error ProductAlreadyVoided(uint64 gtin);

    // ─── Events ──────────────────────────────────────────────────────────────────────────────

    /// @notice `manufacturer` registered product `gtin`.
    event ProductRegistered(uint64 indexed gtin, address indexed manufacturer, bytes32 nameHash, bytes32 documentHash);

    /// @notice `by` assigned the company prefix (`length`, `value`) to `manufacturer`.
    event CompanyPrefixAssigned(uint8 length, uint64 indexed value, address indexed manufacturer, address indexed by);

    /// @notice `by` took the company prefix (`length`, `value`) back from `manufacturer`.
    event CompanyPrefixUnassigned(uint8 length, uint64 indexed value, address indexed manufacturer, address indexed by);

    /// @notice `manufacturer`, the new holder of the GTIN's company prefix, took over product `gtin`
    /// from `previousManufacturer`, whose batches keep standing.
    event ProductTakenOver(uint64 indexed gtin, address indexed previousManufacturer, address indexed manufacturer);

    /// @notice Regulator `by` voided `manufacturer`'s registration of product `gtin` for `reasonCode`.
    event ProductVoided(uint64 indexed gtin, address indexed manufacturer, address indexed by, uint16 reasonCode);

    // ─── Operations ──────────────────────────────────────────────────────────────────────────

    /// @notice Registers product `gtin` for the calling manufacturer, which must hold the GTIN's
    /// company prefix now. A voided GTIN may be registered again by its prefix holder, unless that
    /// holder's own registration of it was voided. A GTIN registered live by a former holder of its
    /// prefix is taken over, under the same name: the former holder's registration is handed over
    /// and its batches keep standing.
    /// @param gtin GTIN-14 as a number (e.g. 09506000134352), check digit included
    /// @param nameHash keccak256 of the product's name as labelled (see `medledger.client.products.name_hash`)
    /// @param documentHash hash of the product's dossier or label
    function registerProduct(uint64 gtin, bytes32 nameHash, bytes32 documentHash) external;

    /// @notice A regulator or the consortium admin assigns the company prefix `value` of `length`
    /// digits (leading zeros count: `0614141` is length 7, value 614141) to `manufacturer`, an
    /// active manufacturer member. The prefix must not overlap an assigned one.
    function assignCompanyPrefix(uint8 length, uint64 value, address manufacturer) external;

    /// @notice A regulator or the consortium admin takes back an assigned company prefix: its holder
    /// registers no new product or batch under it; its registrations stay live (and their batches
    /// valid) until a new holder takes them over or a regulator voids them.
    function unassignCompanyPrefix(uint8 length, uint64 value) external;

    /// @notice A regulator voids the registration of product `gtin`, registered in error: its
    /// batches no longer verify, move or dispense.
    /// @param reasonCode the reason, as a code of the regulator's rulebook (no free text on chain)
    function voidProduct(uint64 gtin, uint16 reasonCode) external;

    // ─── Views ───────────────────────────────────────────────────────────────────────────────

    /// @notice The shortest company prefix length, in digits.
    function MIN_PREFIX_LENGTH() external view returns (uint8);

    /// @notice The longest company prefix length, in digits.
    function MAX_PREFIX_LENGTH() external view returns (uint8);

    /// @notice The product registered under `gtin` (manufacturer zero if none; `voided` if a
    /// regulator voided it).
    function product(uint64 gtin) external view returns (Product memory);

    /// @notice The manufacturer of the live registration of product `gtin`: zero if none or voided.
    /// One slot, for the registries that only need to know the product is live and whose it is.
    function manufacturerOf(uint64 gtin) external view returns (address);

    /// @notice The company prefix (`length`, `value`): its holder and how many assigned prefixes
    /// extend it.
    function companyPrefix(uint8 length, uint64 value) external view returns (CompanyPrefix memory);

    /// @notice The assigned company prefix that contains `gtin` and its holder; all zero if none.
    function companyPrefixOf(uint64 gtin) external view returns (uint8 length, uint64 value, address holder);

    /// @notice Whether `account` holds the company prefix of `gtin` now (the prefix walk of
    /// `companyPrefixOf`): only then may it register products or batches under that GTIN.
    function holdsGtin(address account, uint64 gtin) external view returns (bool);

    /// @notice Whether batches `manufacturer` registered under `gtin` stand on a registration: its
    /// registration of `gtin` is live, or was handed over to a new prefix holder and not voided.
    /// One slot while the registration is live (BatchRegistry's verify asks this).
    function registrationStands(uint64 gtin, address manufacturer) external view returns (bool);

    /// @notice Whether `gtin` is a GTIN-14 with a correct GS1 check digit.
    function isValidGtin(uint64 gtin) external pure returns (bool);

    /// @notice Whether `account` may register products and batches now: an active manufacturer
    /// member holding a valid accreditation.
    function isLicensedManufacturer(address account) external view returns (bool);

    /// @notice The consortium registry members and regulators are checked against.
    function consortium() external view returns (IConsortiumRegistry);

    /// @notice The credential registry accreditations are checked against.
    function credentials() external view returns (ICredentialRegistry);
}
