"""ProductRegistry and BatchRegistry: products by GTIN, batches, quarantine, release, recall, verify.

In the ``world`` deployment ``spare`` is an accredited manufacturer holding a valid accreditation;
``pharmacy`` is an institution of another kind; ``regulator`` a regulator.
"""

from __future__ import annotations

import pytest

from medledger import errors
from medledger.client.batches import batch_id, lot_bytes
from medledger.client.products import format_gtin, name_hash, parse_gtin
from medledger.types import BatchStatus, BatchValidity, CredentialKind, InstitutionKind
from tests.helpers import DAY, events

GTIN = "09506000134352"
OTHER_GTIN = "4006381333931"
ROOT = b"\x5e" * 32
DOCUMENT = b"\xd0" * 32
NAME = "Amoxicillin 500 mg capsules, 21"


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
