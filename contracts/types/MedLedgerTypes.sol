// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Shared value types of the medledger suite. Enums are stored as uint8; their order is part of the
// ABI and of stored state, so new members are only ever appended.

/// @notice What an accredited consortium member is. Other contracts gate calls on it
/// (only a pharmacy dispenses, only a manufacturer registers batches, ...).
enum InstitutionKind {
    Hospital,
    Clinic,
    Lab,
    Pharmacy,
    Manufacturer,
    Distributor,
    Insurer
}

/// @notice Lifecycle of an institution's accreditation.
enum InstitutionStatus {
    None, // never accredited: the zero value of unwritten storage
    Active,
    Suspended
}

/// @notice What a credential attests. A credential is identified by (subject, kind, scope).
enum CredentialKind {
    Licence, // licence to practise medicine
    Specialty, // board certification in a specialty (scope = specialty code)
    Pharmacist, // licence to practise pharmacy
    Nurse, // nursing licence
    Accreditation // accreditation of an institution by a licensing authority
}

/// @notice Lifecycle of a credential. Expiry is not a status: it follows from the validity window.
/// The two `...ByRegulator` members are a regulator's hold: no licensing authority can lift,
/// replace or outlast them; only a regulator can (`reinstateCredential`, `liftRegulatorHold`).
enum CredentialStatus {
    None, // never issued
    Active,
    Suspended, // suspended by its issuer; the issuer or a regulator may reinstate it
    Revoked, // final for this issuance; a new issuance may replace it
    SuspendedByRegulator, // suspended by a regulator; only a regulator may reinstate it or lift the hold
    RevokedByRegulator // revoked under a regulator's hold; no new issuance until a regulator lifts it
}

/// @notice Why a credential check passes or fails, so a verifier can tell the holder what is wrong.
enum CredentialValidity {
    Valid,
    Unknown, // no credential of this kind and scope was ever issued to the subject
    NotYetValid, // before validFrom
    Expired, // at or after validUntil
    Suspended, // suspended, by its issuer or by a regulator
    Revoked, // revoked, by its issuer or under a regulator's hold
    IssuerNotAccredited, // the issuing authority has since lost its licensing-authority role
    SubjectIsInstitution // a practitioner kind asked of an institution's address: it is judged only as an institution
}

/// @notice Lifecycle of the link between a practitioner and an institution.
enum EmploymentStatus {
    None, // no link, or the link was ended
    Offered, // the institution offered, the practitioner has not accepted yet
    Active
}

/// @notice An accredited member of the consortium. Two storage slots.
struct Institution {
    InstitutionKind kind; // what the institution is; fixed at accreditation
    InstitutionStatus status; // None until accredited
    uint40 accreditedAt; // block timestamp of the accreditation
    bytes32 profileHash; // hash of the public registry profile (legal name, registration number, site)
}

/// @notice A credential issued by a licensing authority. Two storage slots; subject, kind and scope
/// are the key (see `ICredentialRegistry.credentialId`) and are not stored again.
struct Credential {
    address issuer; // licensing authority that issued it; must still hold the role for the credential to pass
    uint40 validFrom; // first second of validity (inclusive)
    uint40 validUntil; // end of validity (exclusive)
    CredentialKind kind; // repeated from the key so a lookup by id can tell what it is
    CredentialStatus status; // None until issued
    bytes32 documentHash; // hash of the signed licence document held by the authority and the holder
}

/// @notice A practitioner's link to an institution. One storage slot.
struct Employment {
    EmploymentStatus status;
    uint40 since; // timestamp of acceptance; zero while only offered
}

/// @notice Lifecycle of the link between an institution's local patient number (MRN) and a patient.
enum MrnLinkStatus {
    None, // no link under this commitment, or it was unlinked
    Proposed, // the institution proposed it under a patient commitment; the patient (or a delegate) has not accepted yet
    Linked
}

/// @notice A secp256k1 public key in compressed form (33 bytes: prefix 0x02/0x03, then X), split so
/// it packs into two slots. Records' symmetric keys are wrapped to it with ECIES.
struct EncryptionKey {
    bytes32 x; // the X coordinate
    uint8 prefix; // 0x02 if Y is even, 0x03 if odd; 0 when no key was published
}

/// @notice An institution's patient number, linked to a patient wallet. Keyed by (institution,
/// salted MRN commitment): holding the MRN and its salt is what lets anyone resolve it, and no
/// institution can take another's commitment. One storage slot. A proposal is stored apart, as a
/// patient commitment only (see `IPatientRegistry.proposeMrnLink`).
struct MrnLink {
    address patient; // the patient wallet the MRN belongs to; zero while only proposed (a proposal names no wallet)
    MrnLinkStatus status;
    uint40 since; // time of the link; zero while only proposed (the proposal's time is its event's)
}

/// @notice Why a grantee may read a patient's records; each maps to an HL7 v3 ActReason purpose of
/// use in FHIR Consent.provision.purpose (in brackets).
enum Purpose {
    Treatment, // [TREAT]
    Referral, // care passed on to another provider [COC, coordination of care]
    Insurance, // payment of a claim [HPAYMT]
    Research, // [HRESCH]
    Emergency, // the purpose of every break-glass access [ETREAT]
    PatientRequest, // the patient asked for the disclosure [PATRQT]
    PublicHealth, // [PUBHLTH]
    Operations // healthcare operations such as quality review [HOPERAT]
}

/// @notice Record categories. A set of categories is a uint16 mask with bit `1 << category`.
enum RecordCategory {
    Summary, // patient summary: problems, allergies, current medication
    Labs,
    Imaging,
    Medications, // prescriptions and dispensations
    ClinicalNotes,
    Genomics,
    MentalHealth,
    SexualHealth, // sexual and reproductive health
    SubstanceUse,
    Immunizations,
    Procedures,
    Documents // scanned letters and other documents
}

/// @notice A patient's grant to one grantee: what it may read (and write), why, and until when.
/// Keyed by (patient, grantee), so a new grant replaces the old one. One storage slot.
struct Grant {
    address referredBy; // for a grant made by a referral: the referring grantee; zero for the patient's own grants
    uint16 categories; // mask of categories the grantee may read
    uint16 writeCategories; // subset of `categories` in which the grantee may also anchor records
    Purpose purpose;
    uint40 validUntil; // end of the grant (exclusive); zero when there is no grant
    bool referralAllowed; // whether the grantee may refer the patient on, once
}

/// @notice Limits on break-glass access, set by the consortium admin. One storage slot.
struct BreakGlassPolicy {
    uint40 maxDuration; // longest session a practitioner may open, in seconds
    uint40 window; // length of the window in which sessions are counted, in seconds
    uint16 maxSessionsPerWindow; // sessions one practitioner may open per window, over all patients
}

/// @notice An emergency access session of one practitioner to one patient. One storage slot.
struct BreakGlassSession {
    uint40 openedAt;
    uint40 until; // end (exclusive); the patient, the practitioner or a regulator may bring it forward
    uint16 reasonCode; // the emergency, as a code of the consortium's rulebook (no free text)
}

/// @notice Break-glass sessions a practitioner opened in the current window. One storage slot.
struct BreakGlassUsage {
    uint40 windowStart;
    uint16 sessions;
}

/// @notice On what ground a reader may read a record, as the access log records it.
enum AccessBasis {
    None, // no access: the read is refused
    Patient, // the patient reads its own record
    Grant, // a live grant from the patient (or a delegate)
    Referral, // a live grant made by a referral
    BreakGlass // an open emergency session
}

/// @notice What an anchored record is: a version of the record itself, or a patient's amendment to one.
enum RecordKind {
    Entry, // the record (or a new version of it), anchored by its author
    Amendment // the patient's statement on another author's record; it never replaces that record
}

/// @notice An anchored record, as stored: the ciphertext's hash is the key; the data stays off
/// chain. One slot (20 + 1 + 5 + 1 + 1 + 4 bytes): the author is stored as a number (see
/// `RecordRegistry`), so that the author costs no second slot per record.
struct Record {
    address patient; // whose record it is
    RecordCategory category;
    uint40 anchoredAt;
    bool superseded; // a newer version was anchored over it
    RecordKind kind;
    uint32 authorId; // 0: the patient itself; otherwise the number the registry gave the author at its first anchor
}

/// @notice An anchored record as `RecordRegistry.record` shows it: the author resolved to its address.
struct RecordDetails {
    address patient; // whose record it is; zero if no such record
    address author; // who anchored it (the patient for its own records and amendments)
    RecordCategory category;
    RecordKind kind;
    uint40 anchoredAt;
    bool superseded; // a newer version was anchored over it
    bytes32 latestAmendment; // the patient's latest amendment of this record; zero if none
    address actingFor; // the institution the author anchored it for (`anchorRecordFor`); zero if none
}

/// @notice What `RecordRegistry.verify` says about a file's hash. A record the patient amended
/// stays Current: an amendment is told apart by `RecordDetails.latestAmendment`, it never hides the record.
enum RecordStatus {
    Unknown, // never anchored: not a medledger record, or altered
    Current, // anchored and not superseded
    Superseded // anchored, but a newer version replaced it
}

/// @notice A medicinal product (GS1 trade item), registered by the holder of its GS1 company prefix.
/// Three storage slots; manufacturer and the voided flag share the first, so "is this registration
/// live, and whose" is one SLOAD.
struct Product {
    address manufacturer; // the accredited manufacturer that registered it (kept when voided)
    uint40 registeredAt;
    bool voided; // a regulator voided this registration (registered in error): its batches no longer verify
    bytes32 nameHash; // keccak256 of the product's name as labelled (UTF-8, NFC, trimmed): a name anyone can check
    bytes32 documentHash; // hash of the product's regulatory dossier or label
}

/// @notice A GS1 company prefix as assigned on chain, keyed by (length, value): `0614141` is length 7,
/// value 614141, distinct from `614141` (length 6). One storage slot.
struct CompanyPrefix {
    address holder; // the manufacturer it is assigned to; zero when unassigned
    uint32 longerAssigned; // assigned prefixes that begin with this one; while non-zero it cannot be assigned
}

/// @notice Lifecycle of a batch. Expiry is not a status: it follows from the expiry date.
enum BatchStatus {
    None, // never registered
    Active,
    Quarantined, // put on hold by its manufacturer; the manufacturer or a regulator may release it
    QuarantinedByRegulator, // put on hold by a regulator; only a regulator may release it
    Recalled // final: the batch never moves or is dispensed again
}

/// @notice What `BatchRegistry.verify` says of a batch, in the style of DSCSA verification answers.
enum BatchValidity {
    Verified, // registered, active, not expired
    Unknown, // no batch with this product and lot
    Expired,
    Quarantined, // suspect: on hold
    Recalled,
    ProductVoided // a regulator voided the product registration the batch was registered under
}

/// @notice A batch (lot) of a product. Keyed by `batchId(gtin, lot)`; four storage slots.
struct Batch {
    address manufacturer;
    uint40 manufacturedOn; // unix time of manufacture
    uint40 expiresOn; // unix time of expiry (exclusive)
    BatchStatus status;
    uint64 gtin; // GTIN-14 of the product, as a number
    uint64 quantity; // units made
    bytes32 documentHash; // hash of the batch record / certificate of analysis
    bytes32 serialRoot; // Merkle root of the units' serial numbers (leaves: see `IBatchRegistry.serialRoot`)
}

/// @notice Units of one batch at one holder. One storage slot; made = held + in transit + dispensed
/// summed over holders, at every step.
struct Holding {
    uint64 held; // on the holder's shelf
    uint64 inTransit; // shipped by the holder, not yet received or cancelled
    uint64 dispensed; // dispensed to patients by the holder
}

/// @notice Lifecycle of a shipment.
enum ShipmentStatus {
    None,
    InTransit,
    Received,
    Cancelled
}

/// @notice A shipment, as the shipper and recipient name it: the units `start` to `end - 1` of the
/// batch's serial list (a case, a pallet: the serial tree keeps the manufacturer's packing order,
/// so what is packed together is a contiguous range). Only its status is stored, under
/// `keccak256(abi.encode(shipment))`; the fields travel in calldata and events.
struct Shipment {
    bytes32 batchId;
    address from;
    address to;
    uint64 start; // index of the first unit shipped
    uint64 end; // one past the index of the last unit shipped: the shipment carries `end - start` units
    uint64 sequence; // the registry's shipment counter at shipping, so equal shipments differ
}

/// @notice Custody of the contiguous units `start` (its key) to `end - 1` of a batch. The ranges
/// of a batch partition its units `0` to `quantity - 1` at every step: registration gives the
/// manufacturer one range, a shipment cuts its units out of one of the shipper's ranges, and
/// ranges never merge, so a unit's range always begins at the last cut at or below its index.
/// One storage slot.
struct CustodyRange {
    address holder; // who has custody: the shipper while the range is in transit
    uint64 end; // one past the range's last index; 0 when no range begins at this key
    bool inTransit; // shipped by `holder` and neither received nor cancelled yet
}

/// @notice What `BatchRegistry.verifyUnit` says of one unit, in the style of the DSCSA
/// verification router (wrong lot or expiry are checked by the client against the batch).
enum UnitValidity {
    Verified,
    NoMatch, // no match for product and serial: the serial is not in the batch, or no such batch
    Expired,
    Quarantined, // suspect: the batch is on hold
    Recalled,
    AlreadyDispensed, // the unit was dispensed to a patient: another box with its serial is suspect
    ProductVoided // a regulator voided the product registration its batch was registered under
}

/// @notice One serialised unit (saleable pack) of a batch, as the serial tree commits to it.
struct Unit {
    uint64 index; // position of the unit in the manufacturer's serial list (0-based); keys the dispensed bitmap
    bytes20 serial; // GS1 serial (AI 21), at most 20 characters, left-aligned
}

/// @notice What shows that units presented for dispensing may leave the shelf: where each one's
/// custody is, and that they are in the batch's serial tree.
struct DispensingProof {
    uint64[] rangeStarts; // per unit, the first index of the custody range that contains it, whoever holds it
    bytes32[] proof; // an OpenZeppelin multiproof of the units (for one unit, its plain proof)
    bool[] proofFlags; // the multiproof's flags (none for one unit's plain proof)
}

/// @notice Why a dispensing call raised a counterfeit alarm instead of dispensing.
enum Suspicion {
    UnitNotInBatch, // the serials presented do not prove membership of the batch's serial tree
    AlreadyDispensed, // a serial presented was already dispensed: a copied serial
    HeldByAnother // a serial presented is in the batch but its custody is at another holder, or in transit
}

/// @notice Lifecycle of a prescription. Expiry and exhaustion are not statuses: they follow from
/// `validUntil` and the fill count.
enum PrescriptionStatus {
    None, // never issued
    Active,
    Cancelled // cancelled by its prescriber; final
}

/// @notice What `PrescriptionRegistry.check` says of a prescription, so a pharmacist sees why it
/// may not be filled.
enum PrescriptionValidity {
    Fillable,
    Unknown, // no such prescription
    Cancelled,
    Expired,
    FullyFilled, // every fill it allows was made
    PrescriberNotLicensed, // the prescriber's medical licence is no longer valid
    PrescriberLacksSpecialty // the product is restricted to a specialty the prescriber holds no valid certification in
}

/// @notice A prescription (maps to FHIR MedicationRequest). Three storage slots; a fill rewrites
/// only the first. The patient is not stored: only the `PrescriptionIssued` event carries a salted
/// commitment to the patient's wallet (see `IPrescriptionRegistry`).
struct Prescription {
    address prescriber; // the licensed practitioner who issued it
    uint40 validUntil; // end of validity (exclusive): FHIR dispenseRequest.validityPeriod.end
    PrescriptionStatus status;
    uint8 refills; // fills allowed after the first: FHIR dispenseRequest.numberOfRepeatsAllowed
    uint8 fills; // fills made so far
    uint32 dispensed; // units dispensed over all fills
    uint64 gtin; // the product: FHIR medicationCodeableConcept (GS1 GTIN)
    uint32 quantityPerFill; // most units one fill dispenses: FHIR dispenseRequest.quantity
    bytes32 documentHash; // hash of the signed prescription document (dosage text stays off chain)
}
