"""ProductRegistry and BatchRegistry: products by GTIN, batches, quarantine, release, recall, verify.

In the ``world`` deployment ``spare`` is an accredited manufacturer holding a valid accreditation
and the GS1 company prefixes 9506000 and 4006381; ``pharmacy`` is an institution of another kind;
``regulator`` a regulator.
"""

from __future__ import annotations

import pytest

from medledger import errors, gs1
from medledger.client.batches import batch_id, lot_bytes
from medledger.client.products import format_gtin, name_hash, parse_gtin
from medledger.types import BatchStatus, BatchValidity, CredentialKind, InstitutionKind
from tests.helpers import DAY, events

GTIN = "09506000134352"
OTHER_GTIN = "4006381333931"
ROOT = b"\x5e" * 32
DOCUMENT = b"\xd0" * 32
NAME = "Amoxicillin 500 mg capsules, 21"
ZERO = "0x" + "00" * 20


@pytest.fixture
def maker(world, ml):
    """The manufacturer's ledger, with product GTIN registered."""
    ml.spare.products.register(GTIN, NAME, DOCUMENT)
    return ml.spare


def register_batch(world, ledger, lot: str = "L2026-11", *, gtin: str = GTIN, made: int = -DAY, expires: int = 365 * DAY,
                   quantity: int = 1000):  # fmt: skip
    now = world.chain.now()
    return ledger.batches.register(gtin, lot, quantity=quantity, manufactured_on=now + made, expires_on=now + expires,
                                   serial_root=ROOT, document_hash=DOCUMENT)  # fmt: skip


def raw_send(ledger, contract: str, name: str, *args):
    client = getattr(ledger, contract)
    return ledger.transactor.send(client.contract.get_function_by_name(name)(*args), ledger.signer)


# ─── GTIN ────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("gtin", ["09506000134352", "4006381333931", "036000291452", "96385074"])
def test_valid_gtins_pass_both_checks(ml, gtin):
    assert ml.outsider.products.contract.functions.isValidGtin(parse_gtin(gtin)).call()


@pytest.mark.parametrize("number", [9506000134353, 0, 10**14, 4006381333932])
def test_the_contract_rejects_a_wrong_check_digit_or_length(ml, number):
    assert not ml.outsider.products.contract.functions.isValidGtin(number).call()


def test_the_client_names_a_bad_gtin():
    with pytest.raises(errors.InvalidInput, match="check digit"):
        parse_gtin("09506000134353")
    with pytest.raises(errors.InvalidInput, match="digits"):
        parse_gtin("95060-ABC")
    assert format_gtin(parse_gtin("4006381333931")) == "04006381333931"


# ─── registerProduct ─────────────────────────────────────────────────────────────────────────


def test_a_licensed_manufacturer_registers_a_product(world, ml, actors):
    receipt = ml.spare.products.register(GTIN, NAME, DOCUMENT)
    product = ml.outsider.products.get(GTIN)
    assert (product.manufacturer, product.name_hash, product.document_hash) == (
        actors.spare.address, name_hash(NAME), DOCUMENT)
    assert events(ml.outsider.products, receipt, "ProductRegistered") == [
        {"gtin": parse_gtin(GTIN), "manufacturer": actors.spare.address, "nameHash": name_hash(NAME),
         "documentHash": DOCUMENT}
    ]  # fmt: skip
    assert ml.outsider.products.name_matches(GTIN, "  Amoxicillin 500 mg  capsules, 21 ")
    assert not ml.outsider.products.name_matches(GTIN, "Amoxicillin 250 mg capsules, 21")
    assert not ml.outsider.products.name_matches(OTHER_GTIN, NAME)


@pytest.mark.parametrize("who", ["pharmacy", "outsider", "hospital"])
def test_only_a_manufacturer_registers_products(world, ml, who):
    with pytest.raises(errors.NotLicensedManufacturer):
        getattr(ml, who).products.register(GTIN, NAME)
    assert not ml.outsider.products.get(GTIN).exists


def test_a_manufacturer_without_a_valid_accreditation_cannot_register(world, ml, actors):
    credential = ml.outsider.credentials.credential_id(actors.spare.address, CredentialKind.ACCREDITATION)
    ml.regulator.credentials.suspend(credential, 1)
    with pytest.raises(errors.NotLicensedManufacturer):
        ml.spare.products.register(GTIN, NAME)


def test_a_product_is_registered_once_and_a_bad_gtin_never(world, ml, maker):
    with pytest.raises(errors.ProductAlreadyRegistered):
        maker.products.register(GTIN, NAME)
    with pytest.raises(errors.InvalidGtin):
        raw_send(maker, "products", "registerProduct", 9506000134353, name_hash(NAME), DOCUMENT)


def test_a_product_needs_a_name(world, ml):
    with pytest.raises(errors.EmptyProductName):
        raw_send(ml.spare, "products", "registerProduct", parse_gtin(OTHER_GTIN), bytes(32), DOCUMENT)
    with pytest.raises(errors.InvalidInput, match="name is empty"):
        ml.spare.products.register(OTHER_GTIN, "   ")
    assert not ml.outsider.products.get(OTHER_GTIN).exists


# ─── registerBatch ───────────────────────────────────────────────────────────────────────────


def test_the_manufacturer_registers_a_batch(world, ml, actors, maker):
    registered = register_batch(world, maker, "LOT-7")
    assert registered.id == batch_id(GTIN, "LOT-7")
    assert registered.id == ml.outsider.batches.contract.functions.batchId(parse_gtin(GTIN), lot_bytes("LOT-7")).call()
    stored = ml.outsider.batches.get(registered.id)
    assert (stored.status, stored.quantity, stored.gtin, stored.serial_root) == (
        BatchStatus.ACTIVE, 1000, parse_gtin(GTIN), ROOT,
    )  # fmt: skip
    assert ml.outsider.batches.verify(registered.id) is BatchValidity.VERIFIED
    (event,) = events(ml.outsider.batches, registered.receipt, "BatchRegistered")
    assert (event["manufacturer"], event["lot"], event["quantity"]) == (actors.spare.address, lot_bytes("LOT-7"), 1000)


def test_only_the_products_manufacturer_registers_its_batches(world, ml, actors, maker):
    ml.admin.consortium.accredit(actors.authority2.address, InstitutionKind.MANUFACTURER)
    with pytest.raises(errors.NotProductManufacturer):
        register_batch(world, ml.authority2)
    with pytest.raises(errors.NotProductManufacturer):
        register_batch(world, ml.outsider)
    with pytest.raises(errors.ProductNotFound):
        register_batch(world, maker, gtin=OTHER_GTIN)


def test_a_manufacturer_suspended_since_cannot_register_batches(world, ml, actors, maker):
    ml.regulator.consortium.suspend(actors.spare.address, 1)
    with pytest.raises(errors.NotProductManufacturer):
        register_batch(world, maker)


@pytest.mark.parametrize(
    "case, error",
    [
        ("empty-lot", errors.EmptyLot),
        ("zero-quantity", errors.ZeroQuantity),
        ("zero-root", errors.ZeroSerialRoot),
        ("made-in-future", errors.InvalidBatchDates),
        ("already-expired", errors.InvalidBatchDates),
    ],
)
def test_a_batch_with_bad_arguments_is_rejected(world, ml, maker, case, error):
    now = world.chain.now()
    args = [parse_gtin(GTIN), lot_bytes("LOT-1"), 10, now - DAY, now + DAY, DOCUMENT, ROOT]
    if case == "empty-lot":
        args[1] = bytes(20)
    elif case == "zero-quantity":
        args[2] = 0
    elif case == "zero-root":
        args[6] = bytes(32)
    elif case == "made-in-future":
        args[3] = now + 10 * DAY
    else:
        args[4] = now - 1
    with pytest.raises(error):
        raw_send(maker, "batches", "registerBatch", *args)
    assert not ml.outsider.batches.get(batch_id(GTIN, "LOT-1")).exists


def test_a_batch_is_registered_once(world, ml, maker):
    register_batch(world, maker)
    with pytest.raises(errors.BatchAlreadyRegistered):
        register_batch(world, maker)


def test_the_client_checks_the_lot(world, maker):
    with pytest.raises(errors.InvalidInput, match="lot"):
        register_batch(world, maker, "L" * 21)


# ─── quarantine, release, recall, verify ─────────────────────────────────────────────────────


@pytest.fixture
def lot(world, maker) -> bytes:
    return register_batch(world, maker).id


def test_quarantine_and_release_by_the_manufacturer(world, ml, actors, lot):
    receipt = ml.spare.batches.quarantine(lot, 5)
    assert ml.outsider.batches.verify(lot) is BatchValidity.QUARANTINED
    assert events(ml.outsider.batches, receipt, "BatchQuarantined") == [
        {"batchId": lot, "by": actors.spare.address, "reasonCode": 5}
    ]
    ml.spare.batches.release(lot)
    assert ml.outsider.batches.verify(lot) is BatchValidity.VERIFIED


def test_a_regulators_quarantine_is_lifted_only_by_a_regulator(world, ml, lot):
    ml.spare.batches.quarantine(lot, 5)
    ml.regulator.batches.quarantine(lot, 6)  # takes over
    assert ml.outsider.batches.get(lot).status is BatchStatus.QUARANTINED_BY_REGULATOR
    with pytest.raises(errors.BatchStatusInvalid):
        ml.spare.batches.release(lot)
    ml.regulator.batches.release(lot)
    assert ml.outsider.batches.verify(lot) is BatchValidity.VERIFIED


@pytest.mark.parametrize("by", ["spare", "regulator"])
def test_a_recall_is_final(world, ml, lot, by):
    receipt = getattr(ml, by).batches.recall(lot, 9)
    assert ml.outsider.batches.verify(lot) is BatchValidity.RECALLED
    assert events(ml.outsider.batches, receipt, "BatchRecalled")[0]["reasonCode"] == 9
    for attempt in (lambda: ml.regulator.batches.release(lot), lambda: ml.spare.batches.quarantine(lot),
                    lambda: ml.regulator.batches.recall(lot)):  # fmt: skip
        with pytest.raises(errors.BatchStatusInvalid):
            attempt()
    assert ml.outsider.batches.get(lot).status is BatchStatus.RECALLED


@pytest.mark.parametrize("who", ["pharmacy", "outsider", "authority"])
def test_others_cannot_quarantine_release_or_recall(world, ml, lot, who):
    for action in ("quarantine", "recall", "release"):
        with pytest.raises(errors.NotManufacturerOrRegulator):
            getattr(getattr(ml, who).batches, action)(lot)
    assert ml.outsider.batches.get(lot).status is BatchStatus.ACTIVE


def test_managing_an_unknown_batch_is_rejected(world, ml):
    with pytest.raises(errors.BatchNotFound):
        ml.regulator.batches.recall(b"\x01" * 32)
    assert ml.outsider.batches.verify(b"\x01" * 32) is BatchValidity.UNKNOWN


def test_release_of_an_active_batch_is_rejected(world, ml, lot):
    with pytest.raises(errors.BatchStatusInvalid):
        ml.spare.batches.release(lot)


def test_an_expired_batch_does_not_verify(world, ml, maker):
    registered = register_batch(world, maker, "SHORT", expires=DAY)
    world.chain.advance_time(DAY + 1)
    assert ml.outsider.batches.verify(registered.id) is BatchValidity.EXPIRED


# ─── GS1 company prefixes: a GTIN belongs to the holder of its prefix ────────────────────────

UPC = "614141000012"  # a GTIN-12 (U.P.C. company prefix 614141): GS1 company prefix 0614141
FREE_GTIN = "4012345000009"  # under no assigned prefix in the world


@pytest.fixture
def rival(world, ml):
    """A second accredited manufacturer holding a valid accreditation, and no prefix."""
    from tests.conftest import wallet

    account = wallet("rival manufacturer")
    ml.admin.transactor.transfer(world.actors.admin, account.address, 10**20)
    ml.admin.consortium.accredit(account.address, InstitutionKind.MANUFACTURER, b"\x55" * 32)
    now = world.chain.now()
    ml.authority.credentials.issue(account.address, "accreditation", valid_from=now - 10, valid_until=now + 365 * DAY)
    return ml.admin.using(account)


def test_a_manufacturer_registers_only_gtins_inside_its_prefixes(world, ml, actors, rival):
    assert gs1.company_prefix(FREE_GTIN, 7).digits == "4012345"
    with pytest.raises(errors.GtinNotInCompanyPrefix) as exc:
        rival.products.register(GTIN, NAME)  # spare's prefix 9506000
    assert (exc.value.gtin, exc.value.account, exc.value.holder) == (parse_gtin(GTIN), rival.signer.address,
                                                                     actors.spare.address)  # fmt: skip
    with pytest.raises(errors.GtinNotInCompanyPrefix) as exc:
        ml.spare.products.register(FREE_GTIN, NAME)  # nobody's prefix
    assert exc.value.holder == ZERO
    ml.regulator.products.assign_prefix("4012345", rival.signer.address)
    rival.products.register(FREE_GTIN, NAME)
    assert ml.outsider.products.get(FREE_GTIN).manufacturer == rival.signer.address


def test_a_front_running_squatter_is_refused_and_the_owner_registers(world, ml, actors, rival):
    """The rogue copies the owner's pending registration and sends it first: refused, whatever the order."""
    with pytest.raises(errors.GtinNotInCompanyPrefix):
        raw_send(rival, "products", "registerProduct", parse_gtin(GTIN), name_hash(NAME), DOCUMENT)
    assert not ml.outsider.products.get(GTIN).exists
    ml.spare.products.register(GTIN, NAME, DOCUMENT)
    assert ml.outsider.products.get(GTIN).manufacturer == actors.spare.address


def test_the_leading_zeros_of_a_padded_gtin_belong_to_its_prefix(world, ml, actors, rival):
    """GTIN-12 614141000012 is 00614141000012: its GS1 company prefix is 0614141, not 614141."""
    ml.regulator.products.assign_prefix("614141", actors.spare.address)  # a GTIN-13 prefix: another range
    with pytest.raises(errors.GtinNotInCompanyPrefix):
        ml.spare.products.register(UPC, NAME)
    ml.regulator.products.assign_prefix("0614141", rival.signer.address)
    assert gs1.company_prefix(UPC, 7) == gs1.CompanyPrefix(7, 614141)
    found = ml.outsider.products.prefix_of(UPC)
    assert (found.prefix.digits, found.holder) == ("0614141", rival.signer.address)
    rival.products.register(UPC, NAME)
    assert ml.outsider.products.contract.functions.companyPrefixOf(parse_gtin(UPC)).call() == [
        7, 614141, rival.signer.address]


def test_a_regulator_or_the_admin_assigns_prefixes_with_an_event(world, ml, actors, rival):
    receipt = ml.regulator.products.assign_prefix("4012345", rival.signer.address)
    assert events(ml.outsider.products, receipt, "CompanyPrefixAssigned") == [
        {"length": 7, "value": 4012345, "manufacturer": rival.signer.address, "by": actors.regulator.address}]
    ml.admin.products.assign_prefix("87654321", rival.signer.address)
    shown = ml.outsider.products.prefix("87654321")
    assert (shown.assigned, shown.holder, shown.longer_assigned) == (True, rival.signer.address, 0)
    assert ml.outsider.products.prefix("8765432").longer_assigned == 1


@pytest.mark.parametrize("who", ["spare", "pharmacy", "authority", "doctor", "outsider"])
def test_others_cannot_assign_or_unassign_prefixes(world, ml, actors, who):
    with pytest.raises(errors.NotAdminOrRegulator):
        getattr(ml, who).products.assign_prefix("4012345", actors.spare.address)
    with pytest.raises(errors.NotAdminOrRegulator):
        getattr(ml, who).products.unassign_prefix("9506000")
    assert not ml.outsider.products.prefix("4012345").assigned
    assert ml.outsider.products.prefix("9506000").holder == actors.spare.address


def test_a_prefix_goes_only_to_an_active_manufacturer(world, ml, actors):
    for account in (actors.pharmacy.address, actors.outsider.address):
        with pytest.raises(errors.NotManufacturer):
            ml.regulator.products.assign_prefix("4012345", account)
    ml.regulator.consortium.suspend(actors.spare.address, 1)
    with pytest.raises(errors.NotManufacturer):
        ml.regulator.products.assign_prefix("4012345", actors.spare.address)


@pytest.mark.parametrize("length, value", [(3, 123), (13, 1), (0, 0), (4, 10_000), (7, 10**7), (12, 10**12),
                                           (4, 0), (12, 0)])  # fmt: skip
def test_a_bad_prefix_is_refused_on_chain(world, ml, actors, length, value):
    with pytest.raises(errors.InvalidCompanyPrefix) as exc:
        raw_send(ml.regulator, "products", "assignCompanyPrefix", length, value, actors.spare.address)
    assert (exc.value.length, exc.value.value) == (length, value)
    with pytest.raises(errors.InvalidCompanyPrefix):
        raw_send(ml.regulator, "products", "unassignCompanyPrefix", length, value)


@pytest.mark.parametrize("text", ["123", "1234567890123", "0000", "000000000000", "12a45", ""])
def test_the_client_names_a_bad_prefix(text):
    with pytest.raises(errors.InvalidInput, match="company prefix"):
        gs1.parse_company_prefix(text)


def test_prefixes_never_overlap(world, ml, actors, rival):
    with pytest.raises(errors.CompanyPrefixAlreadyAssigned) as exc:
        ml.regulator.products.assign_prefix("9506000", rival.signer.address)
    assert exc.value.holder == actors.spare.address
    for inside in ("95060001", "950600012345"):  # longer, beginning with spare's
        with pytest.raises(errors.CompanyPrefixOverlaps):
            ml.regulator.products.assign_prefix(inside, rival.signer.address)
    for outside in ("950600", "9506"):  # shorter, that spare's begins with
        with pytest.raises(errors.CompanyPrefixOverlaps):
            ml.regulator.products.assign_prefix(outside, rival.signer.address)
    ml.regulator.products.assign_prefix("0950600", rival.signer.address)  # leading zero: another prefix
    ml.regulator.products.assign_prefix("9506001", rival.signer.address)  # a neighbour


def test_unassigning_stops_new_registrations_and_frees_the_range(world, ml, actors, rival):
    ml.spare.products.register(GTIN, NAME)
    with pytest.raises(errors.CompanyPrefixNotAssigned):
        ml.regulator.products.unassign_prefix("4012345")
    receipt = ml.regulator.products.unassign_prefix("9506000")
    assert events(ml.outsider.products, receipt, "CompanyPrefixUnassigned") == [
        {"length": 7, "value": 9506000, "manufacturer": actors.spare.address, "by": actors.regulator.address}]
    with pytest.raises(errors.GtinNotInCompanyPrefix):
        ml.spare.products.register("09506000134369", NAME)
    assert ml.outsider.products.get(GTIN).live  # registered products stay live until taken over
    assert ml.outsider.products.get(GTIN).manufacturer == actors.spare.address
    assert ml.outsider.products.prefix("950600").longer_assigned == 0
    ml.regulator.products.assign_prefix("950600", rival.signer.address)  # the shorter range is free now
    rival.products.register("09506000134369", NAME)
    rival.products.register(GTIN, NAME)  # the new holder of GTIN's range takes spare's registration over
    assert ml.outsider.products.get(GTIN).manufacturer == rival.signer.address
    with pytest.raises(errors.ProductAlreadyRegistered):
        rival.products.register(GTIN, NAME)


# ─── voidProduct ─────────────────────────────────────────────────────────────────────────────


def test_a_regulator_voids_a_product_and_its_batches_stop_verifying(world, ml, actors, maker):
    lot_id = register_batch(world, maker).id
    receipt = ml.regulator.products.void(GTIN, 12)
    assert events(ml.outsider.products, receipt, "ProductVoided") == [
        {"gtin": parse_gtin(GTIN), "manufacturer": actors.spare.address, "by": actors.regulator.address,
         "reasonCode": 12}]  # fmt: skip
    stored = ml.outsider.products.get(GTIN)
    assert stored.exists and stored.voided and not stored.live and stored.manufacturer == actors.spare.address
    assert ml.outsider.products.contract.functions.manufacturerOf(parse_gtin(GTIN)).call() == ZERO
    assert ml.outsider.batches.verify(lot_id) is BatchValidity.PRODUCT_VOIDED
    with pytest.raises(errors.ProductNotFound):
        register_batch(world, maker, "LOT-NEW")
    with pytest.raises(errors.ProductAlreadyVoided):
        ml.regulator.products.void(GTIN, 12)
    with pytest.raises(errors.RegistrationVoided):  # the voided registrant never registers it again
        maker.products.register(GTIN, NAME)
    ml.regulator.batches.recall(lot_id, 1)  # a recall still applies, and says so first
    assert ml.outsider.batches.verify(lot_id) is BatchValidity.RECALLED


@pytest.mark.parametrize("who", ["admin", "spare", "pharmacy", "authority", "outsider"])
def test_only_a_regulator_voids(world, ml, maker, who):
    with pytest.raises(errors.NotRegulator):
        getattr(ml, who).products.void(GTIN, 1)
    assert ml.outsider.products.get(GTIN).live


def test_voiding_an_unknown_product_is_refused(world, ml):
    with pytest.raises(errors.ProductNotFound):
        ml.regulator.products.void(OTHER_GTIN, 1)


def test_the_rightful_holder_registers_a_voided_gtin_and_the_squatters_batches_stay_void(world, ml, actors, rival, maker):
    """spare got 9506000 in error and registered GTIN; the regulator voids it and gives the prefix to its owner."""
    squatted = register_batch(world, maker, "SQUAT").id
    ml.regulator.products.void(GTIN, 3)
    ml.regulator.products.unassign_prefix("9506000")
    ml.regulator.products.assign_prefix("9506000", rival.signer.address)
    with pytest.raises(errors.GtinNotInCompanyPrefix):
        maker.products.register(GTIN, NAME)
    rival.products.register(GTIN, "Rightful product")
    renewed = ml.outsider.products.get(GTIN)
    assert (renewed.manufacturer, renewed.voided, renewed.name_hash) == (rival.signer.address, False,
                                                                         name_hash("Rightful product"))  # fmt: skip
    assert ml.outsider.batches.verify(squatted) is BatchValidity.PRODUCT_VOIDED
    with pytest.raises(errors.BatchAlreadyRegistered):  # the squatter's lot number stays taken
        register_batch(world, rival, "SQUAT")
    assert ml.outsider.batches.verify(register_batch(world, rival, "OWN-1").id) is BatchValidity.VERIFIED


# ─── Prefix transfer: the former holder mints no new batch; the new holder takes over ────────


def holds_gtin(ml, account: str, gtin: str) -> bool:
    return ml.outsider.products.holds_gtin(account, gtin)


def stands(ml, gtin: str, manufacturer: str) -> bool:
    return bool(ml.outsider.products.contract.functions.registrationStands(parse_gtin(gtin), manufacturer).call())


def transfer_prefix(ml, to: str, prefix: str = "9506000") -> None:
    ml.regulator.products.unassign_prefix(prefix)
    ml.regulator.products.assign_prefix(prefix, to)


def test_a_former_prefix_holder_registers_no_new_batch_and_the_new_holder_takes_the_product_over(
    world, ml, actors, rival, maker
):
    """Rule: a GTIN belongs to the holder of its GS1 company prefix. After a prefix transfer the
    former holder registers no new batch under it and the new holder takes the registration over;
    batches registered before the transfer keep verifying (as GS1 does on a prefix transfer)."""
    old_lot = register_batch(world, maker, "OLD-LOT").id
    transfer_prefix(ml, rival.signer.address)
    assert ml.outsider.products.prefix_of(GTIN).holder == rival.signer.address
    assert not holds_gtin(ml, actors.spare.address, GTIN) and holds_gtin(ml, rival.signer.address, GTIN)

    with pytest.raises(errors.GtinNotInCompanyPrefix) as exc:  # the former holder mints no new batch
        register_batch(world, maker, "NEW-LOT")
    assert (exc.value.account, exc.value.holder) == (actors.spare.address, rival.signer.address)
    assert ml.outsider.batches.verify(old_lot) is BatchValidity.VERIFIED

    receipt = rival.products.register(GTIN, NAME, b"\xd1" * 32)  # the rightful holder registers its GTIN
    assert events(ml.outsider.products, receipt, "ProductTakenOver") == [
        {"gtin": parse_gtin(GTIN), "previousManufacturer": actors.spare.address, "manufacturer": rival.signer.address}
    ]
    taken = ml.outsider.products.get(GTIN)
    assert (taken.manufacturer, taken.live, taken.document_hash) == (rival.signer.address, True, b"\xd1" * 32)
    assert stands(ml, GTIN, actors.spare.address) and stands(ml, GTIN, rival.signer.address)
    assert ml.outsider.batches.verify(old_lot) is BatchValidity.VERIFIED  # handed over, not voided
    maker.batches.ship(old_lot, actors.pharmacy.address, 10)  # the old stock still moves
    with pytest.raises(errors.NotProductManufacturer):
        register_batch(world, maker, "NEW-LOT")
    assert ml.outsider.batches.verify(register_batch(world, rival, "RIVAL-1").id) is BatchValidity.VERIFIED
    with pytest.raises(errors.BatchAlreadyRegistered):  # the former holder's lot numbers stay taken
        register_batch(world, rival, "OLD-LOT")


def test_an_unassigned_prefix_leaves_no_one_minting_and_the_old_batches_valid(world, ml, actors, maker):
    old_lot = register_batch(world, maker, "OLD-LOT").id
    ml.regulator.products.unassign_prefix("9506000")
    with pytest.raises(errors.GtinNotInCompanyPrefix) as exc:
        register_batch(world, maker, "NEW-LOT")
    assert exc.value.holder == ZERO
    assert ml.outsider.batches.verify(old_lot) is BatchValidity.VERIFIED
    assert ml.outsider.products.get(GTIN).live
    ml.regulator.products.assign_prefix("9506000", actors.spare.address)  # given back: minting again
    assert ml.outsider.batches.verify(register_batch(world, maker, "NEW-LOT").id) is BatchValidity.VERIFIED


def test_a_takeover_keeps_the_products_name(world, ml, actors, rival, maker):
    transfer_prefix(ml, rival.signer.address)
    with pytest.raises(errors.ProductNameMismatch) as exc:  # a GTIN never names another item
        rival.products.register(GTIN, "Amoxicillin 250 mg capsules, 21")
    assert (exc.value.registered, exc.value.given) == (name_hash(NAME), name_hash("Amoxicillin 250 mg capsules, 21"))
    assert ml.outsider.products.get(GTIN).manufacturer == actors.spare.address


@pytest.mark.parametrize("who", ["spare", "pharmacy", "outsider", "regulator"])
def test_only_the_new_prefix_holder_takes_a_product_over(world, ml, actors, rival, maker, who):
    transfer_prefix(ml, rival.signer.address)
    expected = errors.GtinNotInCompanyPrefix if who == "spare" else errors.NotLicensedManufacturer
    with pytest.raises(expected):
        getattr(ml, who).products.register(GTIN, NAME)
    assert ml.outsider.products.get(GTIN).manufacturer == actors.spare.address


def test_voiding_a_taken_over_product_voids_only_the_new_registration(world, ml, actors, rival, maker):
    old_lot = register_batch(world, maker, "OLD-LOT").id
    transfer_prefix(ml, rival.signer.address)
    rival.products.register(GTIN, NAME)
    rival_lot = register_batch(world, rival, "RIVAL-1").id
    ml.regulator.products.void(GTIN, 4)
    assert ml.outsider.batches.verify(rival_lot) is BatchValidity.PRODUCT_VOIDED
    assert ml.outsider.batches.verify(old_lot) is BatchValidity.VERIFIED  # spare's registration was not voided
    ml.regulator.batches.recall(old_lot, 4)  # its batches the regulator recalls one by one
    assert ml.outsider.batches.verify(old_lot) is BatchValidity.RECALLED


def test_a_voided_registrant_never_takes_its_gtin_back(world, ml, actors, rival, maker):
    squatted = register_batch(world, maker, "SQUAT").id
    ml.regulator.products.void(GTIN, 3)
    transfer_prefix(ml, rival.signer.address)
    rival.products.register(GTIN, NAME)
    transfer_prefix(ml, actors.spare.address)  # the prefix comes back to the voided registrant
    with pytest.raises(errors.RegistrationVoided):
        maker.products.register(GTIN, NAME)
    assert ml.outsider.batches.verify(squatted) is BatchValidity.PRODUCT_VOIDED
    assert not stands(ml, GTIN, actors.spare.address)


def test_a_prefix_given_back_lets_its_first_holder_take_the_product_back(world, ml, actors, rival, maker):
    first = register_batch(world, maker, "FIRST").id
    transfer_prefix(ml, rival.signer.address)
    rival.products.register(GTIN, NAME)
    second = register_batch(world, rival, "SECOND").id
    transfer_prefix(ml, actors.spare.address)
    maker.products.register(GTIN, NAME)
    third = register_batch(world, maker, "THIRD").id
    assert all(ml.outsider.batches.verify(i) is BatchValidity.VERIFIED for i in (first, second, third))
    ml.regulator.products.void(GTIN, 5)  # voids spare's registration: all of spare's batches fall
    assert [ml.outsider.batches.verify(i) for i in (first, second, third)] == [
        BatchValidity.PRODUCT_VOIDED, BatchValidity.VERIFIED, BatchValidity.PRODUCT_VOIDED]


def test_no_registration_stands_for_no_manufacturer(world, ml, actors, maker):
    assert not stands(ml, GTIN, ZERO) and not stands(ml, OTHER_GTIN, ZERO)
    assert not stands(ml, OTHER_GTIN, actors.spare.address)
    assert stands(ml, GTIN, actors.spare.address)
    assert not holds_gtin(ml, ZERO, FREE_GTIN) and holds_gtin(ml, actors.spare.address, GTIN)
