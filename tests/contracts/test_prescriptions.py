"""PrescriptionRegistry and dispensing: a prescription is filled only by a pharmacy, only with units
of its product proven in their batch, never beyond what it allows; a copied or unknown serial raises
a counterfeit alarm that stays on chain while nothing is dispensed.

World deployment: ``doctor`` is licensed, ``spare`` is the manufacturer, ``pharmacy`` an accredited
pharmacy (holding a valid accreditation once ``lot`` runs) holding 20 units of batch L1 (serials
SN00..SN39, 40 made), ``patient`` is registered.
"""

from __future__ import annotations

import pytest

from medledger import errors
from medledger.client.batches import batch_id
from medledger.client.prescriptions import patient_commitment
from medledger.serials import MultiProof, SerialTree, Unit
from medledger.transactions import translate
from medledger.types import (
    BatchValidity,
    InstitutionKind,
    PrescriptionStatus,
    PrescriptionValidity,
    Suspicion,
    UnitValidity,
)
from tests.helpers import DAY, events

GTIN = "09506000134352"
OTHER_GTIN = "09506000134369"
SERIALS = [f"SN{n:02d}" for n in range(40)]


@pytest.fixture
def lot(world, ml, actors) -> SerialTree:
    """Batch L1 of GTIN: 40 units made, 20 shipped to and received by the pharmacy, which holds a
    valid accreditation."""
    accredit_pharmacy(world, ml)
    ml.spare.products.register(GTIN, "Medicine A")
    tree = SerialTree(batch_id(GTIN, "L1"), SERIALS)
    now = world.chain.now()
    ml.spare.batches.register(GTIN, "L1", quantity=len(SERIALS), manufactured_on=now - DAY,
                              expires_on=now + 60 * DAY, serial_root=tree.root)  # fmt: skip
    shipped = ml.spare.batches.ship(tree.batch_id, actors.pharmacy.address, 20)
    ml.pharmacy.batches.receive(shipped.shipment)
    return tree


@pytest.fixture
def rx(world, ml, lot, patient) -> int:
    """A prescription of 2 packs per fill, 1 refill, valid 30 days."""
    return ml.doctor.prescriptions.issue(patient, GTIN, quantity_per_fill=2, refills=1,
                                         valid_until=world.chain.now() + 30 * DAY, document_hash=b"\x05" * 32).id  # fmt: skip


def accredit_pharmacy(world, ml, pharmacy: str | None = None) -> None:
    now = world.chain.now()
    ml.authority.credentials.issue(pharmacy or world.actors.pharmacy.address, "accreditation", valid_from=now - 10,
                                   valid_until=now + 365 * DAY)  # fmt: skip


def units(tree: SerialTree, *serials: str) -> MultiProof:
    return tree.multiproof(serials)


def shelf(ml, tree, who="pharmacy"):
    return ml.outsider.batches.holding(tree.batch_id, getattr(ml, who).signer.address)


# ─── Issuing ────────────────────────────────────────────────────────────────────────────────


def test_a_licensed_doctor_prescribes_for_a_registered_patient(world, ml, actors, lot, patient):
    valid_until = world.chain.now() + 30 * DAY
    issued = ml.doctor.prescriptions.issue(patient, GTIN, quantity_per_fill=3, refills=2, valid_until=valid_until)
    (event,) = events(ml.outsider.prescriptions, issued.receipt, "PrescriptionIssued")
    assert (event["id"], event["prescriber"], event["patientCommitment"]) == (1, actors.doctor.address,
                                                                            patient_commitment(patient, issued.slip.salt))  # fmt: skip
    assert (issued.slip.id, issued.slip.patient) == (1, patient) and len(issued.slip.salt) == 32
    stored = ml.outsider.prescriptions.get(issued.id)
    assert (stored.status, stored.quantity_per_fill, stored.refills, stored.fills, stored.valid_until) == (
        PrescriptionStatus.ACTIVE, 3, 2, 0, valid_until)
    assert stored.fills_left == 3 and ml.outsider.prescriptions.count() == 1
    assert ml.outsider.prescriptions.check(issued.id) is PrescriptionValidity.FILLABLE
    assert [p.id for p in ml.guardian.prescriptions.of_patient(patient, [issued.slip.salt])] == [issued.id]
    assert ml.guardian.prescriptions.of_patient(patient, [b"\x01" * 32]) == []
    assert ml.pharmacy.prescriptions.matches(issued.id, patient, issued.slip.salt)
    assert not ml.pharmacy.prescriptions.matches(issued.id, world.people.patient2.address, issued.slip.salt)
    assert [p.id for p in ml.outsider.prescriptions.by_prescriber(actors.doctor.address)] == [issued.id]


@pytest.mark.parametrize("caller", ["nurse", "pharmacy", "outsider", "patient2", "spare"])
def test_only_a_licensed_practitioner_prescribes(world, ml, lot, patient, caller):
    with pytest.raises(errors.NotLicensedPrescriber):
        getattr(ml, caller).prescriptions.issue(patient, GTIN, quantity_per_fill=1, valid_until=world.chain.now() + DAY)
    assert ml.outsider.prescriptions.count() == 0


def test_a_suspended_licence_prescribes_nothing(world, ml, actors, lot, patient):
    licence = ml.authority.credentials.credential_id(actors.doctor.address, "licence")
    ml.authority.credentials.suspend(licence, 3)
    with pytest.raises(errors.NotLicensedPrescriber):
        ml.doctor.prescriptions.issue(patient, GTIN, quantity_per_fill=1, valid_until=world.chain.now() + DAY)


def test_prescription_arguments_are_checked(world, ml, actors, lot, patient):
    now, issue = world.chain.now(), ml.doctor.prescriptions.issue
    with pytest.raises(errors.PatientNotRegistered):
        issue(world.people.patient2.address, GTIN, quantity_per_fill=1, valid_until=now + DAY)
    with pytest.raises(errors.SelfPrescription):
        issue(actors.doctor.address, GTIN, quantity_per_fill=1, valid_until=now + DAY)
    with pytest.raises(errors.ProductNotFound):
        issue(patient, OTHER_GTIN, quantity_per_fill=1, valid_until=now + DAY)
    for quantity, refills in ((0, 0), (10_001, 0), (1, 100)):
        with pytest.raises(errors.InvalidFillLimits):
            issue(patient, GTIN, quantity_per_fill=quantity, refills=refills, valid_until=now + DAY)
    assert issue(patient, GTIN, quantity_per_fill=10_000, refills=99, valid_until=now + DAY).id == 1
    with pytest.raises(errors.InvalidValidity):
        issue(patient, GTIN, quantity_per_fill=1, valid_until=now - 1)
    with pytest.raises(errors.InvalidValidity):
        issue(patient, GTIN, quantity_per_fill=1, valid_until=now + 367 * DAY)
    with pytest.raises(errors.InvalidInput, match="refills"):
        issue(patient, GTIN, quantity_per_fill=1, refills=256, valid_until=now + DAY)
    assert ml.outsider.prescriptions.count() == 1


def test_the_chain_refuses_an_empty_patient_commitment(world, ml, lot):
    bare = ml.doctor.prescriptions
    with pytest.raises(errors.EmptyPatientCommitment):
        bare._send("issuePrescription", bytes(32), int(GTIN), 1, 0, world.chain.now() + DAY, bytes(32))
    assert ml.outsider.prescriptions.count() == 0


def test_the_chain_takes_any_commitment_so_the_pharmacy_checks_the_slip(world, ml, actors, lot, patient):
    """What the chain cannot see, the pharmacy's client checks: the slip opens the commitment and
    names a registered patient other than the prescriber."""
    from medledger.client.prescriptions import Slip

    bare, until = ml.doctor.prescriptions, world.chain.now() + DAY
    salt = b"\x5a" * 32
    for wallet in (actors.doctor.address, world.people.patient2.address):
        bare._send("issuePrescription", patient_commitment(wallet, salt), int(GTIN), 1, 0, until, bytes(32))
    good = ml.doctor.prescriptions.issue(patient, GTIN, quantity_per_fill=1, valid_until=until)
    check = ml.pharmacy.prescriptions.check_slip
    with pytest.raises(errors.SelfPrescription):
        check(Slip(1, actors.doctor.address, salt, bare.address, world.chain.chain_id))
    with pytest.raises(errors.PatientNotRegistered):
        check(Slip(2, world.people.patient2.address, salt, bare.address, world.chain.chain_id))
    with pytest.raises(errors.InvalidInput, match="does not match"):
        check(Slip(3, patient, salt, bare.address, world.chain.chain_id))
    check(good.slip)


def test_a_regulator_restricts_a_product_to_a_specialty(world, ml, actors, lot, patient):
    oncology = 1234
    receipt = ml.regulator.prescriptions.set_specialty_requirement(GTIN, oncology)
    assert events(ml.outsider.prescriptions, receipt, "SpecialtyRequirementSet")[0]["specialty"] == oncology
    assert not ml.outsider.prescriptions.can_prescribe(actors.doctor.address, GTIN)
    with pytest.raises(errors.SpecialtyRequired) as exc:
        ml.doctor.prescriptions.issue(patient, GTIN, quantity_per_fill=1, valid_until=world.chain.now() + DAY)
    assert exc.value.specialty == oncology
    now = world.chain.now()
    ml.authority.credentials.issue(actors.doctor.address, "specialty", scope=oncology, valid_from=now - 1,
                                   valid_until=now + 90 * DAY)  # fmt: skip
    assert ml.outsider.prescriptions.can_prescribe(actors.doctor.address, GTIN)
    assert ml.doctor.prescriptions.issue(patient, GTIN, quantity_per_fill=1, valid_until=now + DAY).id == 1


def test_a_restriction_set_after_issue_binds_the_fills_still_to_come(world, ml, actors, lot, rx, patient):
    """The prescriber's standing is checked at fill: its licence, and the specialty required now."""
    oncology = 1234
    ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN01"))
    ml.regulator.prescriptions.set_specialty_requirement(GTIN, oncology)
    assert ml.outsider.prescriptions.check(rx) is PrescriptionValidity.PRESCRIBER_LACKS_SPECIALTY
    with pytest.raises(errors.PrescriptionNotFillable) as exc:
        ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN02"))
    assert exc.value.validity == PrescriptionValidity.PRESCRIBER_LACKS_SPECIALTY
    assert ml.outsider.prescriptions.get(rx).fills == 1 and shelf(ml, lot).dispensed == 1
    now = world.chain.now()
    ml.authority.credentials.issue(actors.doctor.address, "specialty", scope=oncology, valid_from=now - 1,
                                   valid_until=now + 90 * DAY)  # fmt: skip
    assert ml.outsider.prescriptions.check(rx) is PrescriptionValidity.FILLABLE
    assert ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN02")).filled


def test_a_prescription_meeting_the_restriction_fills_while_its_certification_holds(world, ml, actors, lot, patient):
    oncology, now = 1234, world.chain.now()
    ml.regulator.prescriptions.set_specialty_requirement(GTIN, oncology)
    ml.authority.credentials.issue(actors.doctor.address, "specialty", scope=oncology, valid_from=now - 1,
                                   valid_until=now + 90 * DAY)  # fmt: skip
    rx = ml.doctor.prescriptions.issue(patient, GTIN, quantity_per_fill=1, refills=1, valid_until=now + 30 * DAY).id
    assert ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN03")).filled
    certification = ml.outsider.credentials.credential_id(actors.doctor.address, "specialty", oncology)
    ml.regulator.credentials.suspend(certification, 2)
    assert ml.outsider.prescriptions.check(rx) is PrescriptionValidity.PRESCRIBER_LACKS_SPECIALTY
    ml.regulator.prescriptions.set_specialty_requirement(GTIN, 0)  # lifted: any licensed prescriber again
    assert ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN04")).filled


def test_only_a_regulator_restricts_and_only_known_products(ml, lot):
    for caller in ("doctor", "spare", "admin"):
        with pytest.raises(errors.NotRegulator):
            getattr(ml, caller).prescriptions.set_specialty_requirement(GTIN, 7)
    with pytest.raises(errors.ProductNotFound):
        ml.regulator.prescriptions.set_specialty_requirement(OTHER_GTIN, 7)
    assert ml.outsider.prescriptions.specialty_requirement(GTIN) == 0


# ─── Filling ────────────────────────────────────────────────────────────────────────────────


def test_a_pharmacy_fills_by_dispensing_proven_units(ml, actors, lot, rx):
    fill = ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN03", "SN17"))
    assert fill.filled and fill.alarm is None
    (filled,) = events(ml.outsider.prescriptions, fill.receipt, "PrescriptionFilled")
    assert (filled["id"], filled["pharmacy"], filled["quantity"], filled["fill"]) == (rx, actors.pharmacy.address, 2, 1)
    (dispensed,) = events(ml.outsider.batches, fill.receipt, "UnitsDispensed")
    assert sorted(s.rstrip(b"\0").decode() for s in dispensed["serials"]) == ["SN03", "SN17"]
    assert (shelf(ml, lot).held, shelf(ml, lot).dispensed) == (18, 2)
    stored = ml.outsider.prescriptions.get(rx)
    assert (stored.fills, stored.dispensed, stored.fills_left) == (1, 2, 1)
    assert ml.outsider.batches.is_dispensed(lot.batch_id, 3) and not ml.outsider.batches.is_dispensed(lot.batch_id, 4)
    verdict = ml.outsider.batches.verify_unit(lot.batch_id, lot.unit("SN03"), lot.proof("SN03"))
    assert verdict is UnitValidity.ALREADY_DISPENSED
    assert [f.quantity for f in ml.patient.prescriptions.fills(rx)] == [2]


def test_a_prescription_is_never_filled_beyond_what_it_allows(ml, lot, rx):
    with pytest.raises(errors.FillQuantityInvalid):
        ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN01", "SN02", "SN05"))
    ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN01"))
    ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN02", "SN05"))
    assert ml.outsider.prescriptions.check(rx) is PrescriptionValidity.FULLY_FILLED
    with pytest.raises(errors.PrescriptionNotFillable) as exc:
        ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN06"))
    assert exc.value.validity == PrescriptionValidity.FULLY_FILLED
    assert shelf(ml, lot).dispensed == 3 and ml.outsider.prescriptions.get(rx).dispensed == 3


def test_an_empty_fill_is_refused(ml, lot, rx):
    with pytest.raises(errors.FillQuantityInvalid):
        ml.pharmacy.prescriptions.fill(rx, lot.batch_id, MultiProof([], [], []))


def test_no_fill_after_expiry_cancellation_or_the_prescriber_losing_the_licence(world, ml, actors, lot, rx, patient):
    ml.doctor.prescriptions.cancel(rx, 2)
    assert ml.outsider.prescriptions.check(rx) is PrescriptionValidity.CANCELLED
    with pytest.raises(errors.PrescriptionNotFillable):
        ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN01"))
    later = ml.doctor.prescriptions.issue(patient, GTIN, quantity_per_fill=1, valid_until=world.chain.now() + DAY).id
    ml.authority.credentials.revoke(ml.authority.credentials.credential_id(actors.doctor.address, "licence"))
    assert ml.outsider.prescriptions.check(later) is PrescriptionValidity.PRESCRIBER_NOT_LICENSED
    with pytest.raises(errors.PrescriptionNotFillable):
        ml.pharmacy.prescriptions.fill(later, lot.batch_id, units(lot, "SN01"))
    assert shelf(ml, lot).dispensed == 0


def test_no_fill_after_expiry(world, ml, lot, rx):
    world.chain.advance_time(31 * DAY)
    assert ml.outsider.prescriptions.check(rx) is PrescriptionValidity.EXPIRED
    with pytest.raises(errors.PrescriptionNotFillable):
        ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN01"))
    assert ml.outsider.prescriptions.check(999) is PrescriptionValidity.UNKNOWN


@pytest.mark.parametrize("caller", ["hospital", "outsider", "doctor", "patient", "spare"])
def test_only_an_active_pharmacy_fills(ml, actors, lot, rx, caller):
    with pytest.raises(errors.NotLicensedPharmacy):
        getattr(ml, caller).prescriptions.fill(rx, lot.batch_id, units(lot, "SN01"))
    assert ml.outsider.prescriptions.get(rx).fills == 0


def test_a_suspended_pharmacy_fills_nothing(ml, actors, lot, rx):
    ml.regulator.consortium.suspend(actors.pharmacy.address, 1)
    assert not ml.outsider.prescriptions.is_licensed_pharmacy(actors.pharmacy.address)
    with pytest.raises(errors.NotLicensedPharmacy):
        ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN01"))


@pytest.mark.parametrize("loss", ["revoked", "suspended"])
def test_a_pharmacy_without_a_valid_accreditation_fills_nothing_until_accredited_again(world, ml, actors, lot, rx, loss):
    """The same standing rule as a manufacturer's: an active member holding a valid accreditation."""
    pharmacy = actors.pharmacy.address
    accreditation = ml.outsider.credentials.credential_id(pharmacy, "accreditation")
    if loss == "revoked":
        ml.authority.credentials.revoke(accreditation, 1)
    else:
        ml.authority.credentials.suspend(accreditation, 1)
    assert not ml.outsider.prescriptions.is_licensed_pharmacy(pharmacy)
    with pytest.raises(errors.NotLicensedPharmacy) as exc:
        ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN01"))
    assert exc.value.account == pharmacy and ml.outsider.prescriptions.get(rx).fills == 0
    assert shelf(ml, lot).held == 20
    if loss == "suspended":
        ml.authority.credentials.reinstate(accreditation)
    else:
        accredit_pharmacy(world, ml)  # a new accreditation over the revoked one
    assert ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN01")).filled


def test_only_the_prescription_registry_dispenses(ml, lot):
    bare = ml.pharmacy.batches
    with pytest.raises(errors.NotPrescriptionRegistry):
        bare._send("dispense", bare._ledger.signer.address, lot.batch_id, int(GTIN),
                   [lot.unit("SN01").as_tuple()], ([0], lot.proof("SN01"), []))  # fmt: skip


def test_the_batch_must_be_of_the_prescribed_product_and_on_the_shelf(world, ml, actors, lot, rx):
    ml.spare.products.register(OTHER_GTIN, "Medicine B")
    other = SerialTree(batch_id(OTHER_GTIN, "X1"), ["A1", "A2"])
    now = world.chain.now()
    ml.spare.batches.register(OTHER_GTIN, "X1", quantity=2, manufactured_on=now - DAY, expires_on=now + 9 * DAY,
                              serial_root=other.root)  # fmt: skip
    with pytest.raises(errors.WrongProduct):
        ml.pharmacy.prescriptions.fill(rx, other.batch_id, units(other, "A1"))
    second = SerialTree(batch_id(GTIN, "L2"), ["B1", "B2"])
    ml.spare.batches.register(GTIN, "L2", quantity=2, manufactured_on=now - DAY, expires_on=now + 9 * DAY,
                              serial_root=second.root)  # fmt: skip
    with pytest.raises(errors.InsufficientStock):
        ml.pharmacy.prescriptions.fill(rx, second.batch_id, units(second, "B1"))


@pytest.mark.parametrize("hold, validity", [("recall", BatchValidity.RECALLED), ("quarantine", BatchValidity.QUARANTINED)])
def test_a_held_batch_is_not_dispensed(ml, lot, rx, hold, validity):
    getattr(ml.regulator.batches, hold)(lot.batch_id, 9)
    with pytest.raises(errors.BatchNotMovable) as exc:
        ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN01"))
    assert exc.value.validity == validity and shelf(ml, lot).held == 20


def test_an_expired_batch_is_not_dispensed(world, ml, patient, lot):
    rx = ml.doctor.prescriptions.issue(patient, GTIN, quantity_per_fill=1, valid_until=world.chain.now() + 200 * DAY).id
    world.chain.advance_time(61 * DAY)
    with pytest.raises(errors.BatchNotMovable):
        ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN01"))


# ─── Counterfeit alarms ─────────────────────────────────────────────────────────────────────


def test_an_unknown_serial_raises_an_alarm_and_dispenses_nothing(ml, actors, lot, rx):
    proof = lot.multiproof(["SN01"])
    fake = MultiProof([Unit(1, "FAKE0001")], proof.proof, proof.flags)
    fill = ml.pharmacy.prescriptions.fill(rx, lot.batch_id, fake)
    assert not fill.filled and fill.receipt.raw["status"] == 1
    assert (fill.alarm.reason, fill.alarm.serials, fill.alarm.reporter) == (
        Suspicion.UNIT_NOT_IN_BATCH, ("FAKE0001",), actors.pharmacy.address)
    assert not events(ml.outsider.prescriptions, fill.receipt, "PrescriptionFilled")
    assert ml.outsider.prescriptions.get(rx).fills == 0 and shelf(ml, lot).held == 20
    assert [a.serials for a in ml.regulator.batches.alarms()] == [("FAKE0001",)]


def test_a_copied_serial_raises_an_alarm_and_nothing_of_the_call_is_dispensed(world, ml, lot, rx, patient):
    ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN07"))
    second = ml.doctor.prescriptions.issue(patient, GTIN, quantity_per_fill=3, valid_until=world.chain.now() + DAY).id
    fill = ml.pharmacy.prescriptions.fill(second, lot.batch_id, units(lot, "SN08", "SN07", "SN09"))
    assert not fill.filled
    assert (fill.alarm.reason, fill.alarm.serials) == (Suspicion.ALREADY_DISPENSED, ("SN07",))
    assert not any(ml.outsider.batches.is_dispensed(lot.batch_id, i) for i in (8, 9))
    assert (shelf(ml, lot).held, shelf(ml, lot).dispensed) == (19, 1)
    assert ml.outsider.prescriptions.get(second).fills == 0
    assert ml.pharmacy.prescriptions.fill(second, lot.batch_id, units(lot, "SN08", "SN09")).filled


def test_a_serial_twice_in_one_call_raises_an_alarm(ml, lot, rx):
    proof = lot.multiproof(["SN04"])
    twice = MultiProof([lot.unit("SN04"), lot.unit("SN04")], proof.proof, [False] * len(proof.proof) + [True])
    # Whether or not such a multiproof passes, nothing is dispensed and an alarm is on chain.
    fill = ml.pharmacy.prescriptions.fill(rx, lot.batch_id, twice)
    assert not fill.filled and fill.alarm is not None
    assert not ml.outsider.batches.is_dispensed(lot.batch_id, 4) and shelf(ml, lot).dispensed == 0


@pytest.fixture
def second_pharmacy(world, ml, actors, lot):
    """``authority2``, accredited as a pharmacy (a member holding a valid accreditation), holding
    units 20:30 (SN20..SN29) of batch L1."""
    ml.admin.consortium.accredit(actors.authority2.address, InstitutionKind.PHARMACY)
    accredit_pharmacy(world, ml, actors.authority2.address)
    shipped = ml.spare.batches.ship(lot.batch_id, actors.authority2.address, 10)
    ml.authority2.batches.receive(shipped.shipment)
    return ml.authority2


def test_a_unit_held_by_another_pharmacy_raises_an_alarm_and_dispenses_nothing(ml, actors, lot, rx, second_pharmacy):
    fill = ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN03", "SN25"))
    assert not fill.filled and fill.receipt.raw["status"] == 1
    assert (fill.alarm.reason, fill.alarm.serials, fill.alarm.reporter) == (
        Suspicion.HELD_BY_ANOTHER, ("SN25",), actors.pharmacy.address)
    assert not any(ml.outsider.batches.is_dispensed(lot.batch_id, i) for i in (3, 25))
    assert (shelf(ml, lot).held, shelf(ml, lot).dispensed, shelf(ml, lot, "authority2").held) == (20, 0, 10)
    assert ml.outsider.prescriptions.get(rx).fills == 0
    assert [a.reason for a in ml.regulator.batches.alarms()] == [Suspicion.HELD_BY_ANOTHER]
    # The pharmacy its custody reached dispenses it.
    assert second_pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN25")).filled
    assert shelf(ml, lot, "authority2").dispensed == 1


def test_a_unit_still_at_the_manufacturer_or_in_transit_is_held_by_another(ml, actors, lot, rx):
    assert ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN39")).alarm.reason is Suspicion.HELD_BY_ANOTHER
    shipped = ml.spare.batches.ship(lot.batch_id, actors.pharmacy.address, 10)  # units 20:30
    assert ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN21")).alarm.reason is Suspicion.HELD_BY_ANOTHER
    ml.pharmacy.batches.receive(shipped.shipment)
    # Once received, one fill takes units of two ranges on the shelf.
    fill = ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN19", "SN21"))
    assert fill.filled and (shelf(ml, lot).held, shelf(ml, lot).dispensed) == (28, 2)


def test_a_copied_serial_is_a_copy_wherever_it_is_presented(ml, lot, rx, second_pharmacy):
    ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN04"))
    fill = second_pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN04"))
    assert fill.alarm.reason is Suspicion.ALREADY_DISPENSED


def test_each_unit_must_name_the_range_that_holds_it(ml, lot, rx):
    fill = ml.pharmacy.prescriptions.fill
    with pytest.raises(errors.UnitsNotInRange) as exc:
        fill(rx, lot.batch_id, units(lot, "SN03"), range_starts=[20])  # a range, but not SN03's
    assert (exc.value.rangeStart, exc.value.rangeEnd, exc.value.start, exc.value.quantity) == (20, 40, 3, 1)
    with pytest.raises(errors.UnitsNotInRange):
        fill(rx, lot.batch_id, units(lot, "SN03"), range_starts=[2])  # no range begins at 2
    with pytest.raises(errors.RangeCountMismatch):
        fill(rx, lot.batch_id, units(lot, "SN03"), range_starts=[0, 0])
    assert ml.outsider.prescriptions.get(rx).fills == 0 and not ml.regulator.batches.alarms()
    assert fill(rx, lot.batch_id, units(lot, "SN03"), range_starts=[0]).filled


def test_a_pack_check_by_its_holder_tells_a_pack_held_elsewhere(ml, actors, lot):
    from medledger.types import PackVerdict

    check = ml.outsider.batches.check_pack
    unit, proof = lot.unit("SN30"), lot.proof("SN30")
    assert check(GTIN, "L1", unit, proof).verdict is PackVerdict.VERIFIED
    assert check(GTIN, "L1", unit, proof, holder=actors.pharmacy.address).verdict is PackVerdict.HELD_BY_ANOTHER
    assert check(GTIN, "L1", unit, proof, holder=actors.spare.address).verdict is PackVerdict.VERIFIED
    mine = lot.unit("SN01"), lot.proof("SN01")
    assert check(GTIN, "L1", *mine, holder=actors.pharmacy.address).verdict is PackVerdict.VERIFIED


def test_custody_history_shows_dispensing_and_alarms(ml, actors, lot, rx):
    ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN01"))
    ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN01"))
    steps = ml.outsider.batches.history(lot.batch_id)
    assert [s.step for s in steps] == ["commissioning", "shipping", "receiving", "dispensing", "suspect"]
    assert steps[3].serials == ("SN01",) and steps[3].actor == actors.pharmacy.address
    assert steps[4].reason_code == Suspicion.ALREADY_DISPENSED


# ─── Cancelling ─────────────────────────────────────────────────────────────────────────────


def test_only_the_prescriber_cancels_an_active_prescription_once(ml, actors, lot, rx):
    for caller in ("nurse", "patient", "pharmacy", "regulator"):
        with pytest.raises(errors.NotPrescriber):
            getattr(ml, caller).prescriptions.cancel(rx)
    receipt = ml.doctor.prescriptions.cancel(rx, 4)
    (event,) = events(ml.outsider.prescriptions, receipt, "PrescriptionCancelled")
    assert (event["prescriber"], event["reasonCode"]) == (actors.doctor.address, 4)
    assert ml.outsider.prescriptions.get(rx).status is PrescriptionStatus.CANCELLED
    with pytest.raises(errors.PrescriptionStatusInvalid):
        ml.doctor.prescriptions.cancel(rx)
    with pytest.raises(errors.PrescriptionStatusInvalid):
        ml.doctor.prescriptions.cancel(rx + 1)


# ─── Pack checks and wiring ─────────────────────────────────────────────────────────────────


def test_a_pack_check_answers_like_the_verification_router(world, ml, lot, rx):
    from medledger.client.batches import expiry_date
    from medledger.types import PackVerdict

    check = ml.outsider.batches.check_pack
    batch = ml.outsider.batches.get(lot.batch_id)
    printed = expiry_date(batch.expires_on)
    unit, proof = lot.unit("SN02"), lot.proof("SN02")
    assert check(GTIN, "L1", unit, proof, expiry=printed).verdict is PackVerdict.VERIFIED
    assert check(GTIN, "L1", unit, proof, expiry=printed.replace(day=1 + printed.day % 27)).verdict is PackVerdict.WRONG_EXPIRY
    now = world.chain.now()
    ml.spare.batches.register(GTIN, "L9", quantity=1, manufactured_on=now - DAY, expires_on=now + DAY,
                              serial_root=b"\x01" * 32)  # fmt: skip
    wrong = check(GTIN, "L9", unit, proof)
    assert wrong.verdict is PackVerdict.WRONG_LOT and wrong.proven_in == lot.batch_id
    assert check(GTIN, "L1", Unit(2, "NOPE"), proof).verdict is PackVerdict.NO_MATCH
    ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN02"))
    assert check(GTIN, "L1", unit, proof).verdict is PackVerdict.ALREADY_DISPENSED


def test_a_prescription_registry_must_be_the_one_its_batch_registry_names(world, ml):
    from medledger.toolchain import load_artifact

    artifact = load_artifact("PrescriptionRegistry")
    factory = world.chain.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    data = factory.constructor(ml.admin.batches.address, ml.admin.patients.address).build_transaction(
        {"from": world.actors.admin.address, "gas": 1, "gasPrice": 0, "nonce": 0})["data"]  # fmt: skip
    with pytest.raises(errors.BatchRegistryNotLinked):
        try:
            ml.admin.transactor.send_prepared({"data": data}, world.actors.admin)
        except errors.MedLedgerError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise translate(exc) from None


# ─── A voided product ───────────────────────────────────────────────────────────────────────


def test_a_voided_products_batches_and_units_no_longer_verify_move_or_fill(world, ml, actors, lot, rx, patient):
    from medledger.client.batches import expiry_date
    from medledger.types import PackVerdict

    pending = ml.spare.batches.ship(lot.batch_id, actors.pharmacy.address, 5).shipment
    ml.regulator.products.void(GTIN, 4)
    assert ml.outsider.batches.verify(lot.batch_id) is BatchValidity.PRODUCT_VOIDED
    assert ml.outsider.batches.verify_unit(lot.batch_id, lot.unit("SN05"), lot.proof("SN05")) is UnitValidity.PRODUCT_VOIDED
    printed = expiry_date(ml.outsider.batches.get(lot.batch_id).expires_on)
    assert ml.outsider.batches.check_pack(GTIN, "L1", lot.unit("SN05"), lot.proof("SN05"),
                                          expiry=printed).verdict is PackVerdict.PRODUCT_VOIDED  # fmt: skip
    for attempt in (lambda: ml.spare.batches.ship(lot.batch_id, actors.pharmacy.address, 1),
                    lambda: ml.pharmacy.batches.receive(pending),
                    lambda: ml.pharmacy.prescriptions.fill(rx, lot.batch_id, units(lot, "SN01"))):  # fmt: skip
        with pytest.raises(errors.BatchNotMovable) as exc:
            attempt()
        assert exc.value.validity == BatchValidity.PRODUCT_VOIDED
    with pytest.raises(errors.ProductNotFound):
        ml.doctor.prescriptions.issue(patient, GTIN, quantity_per_fill=1, valid_until=world.chain.now() + DAY)
    assert shelf(ml, lot).held == 20 and shelf(ml, lot).dispensed == 0
    assert ml.outsider.prescriptions.get(rx).fills == 0
