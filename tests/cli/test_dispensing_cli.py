"""``medledger serials``, ``unit`` and ``rx`` against a persistent node: a pharmacist's day.

Accounts: 5 is the manufacturer, 8 a pharmacy, 4 the licensed doctor, 7 the patient, 3 a hospital.
"""

from __future__ import annotations

import datetime
import json
from xml.etree import ElementTree

import pytest

from medledger.client.batches import expiry_date
from tests.cli.conftest import DOCTOR, EXPIRES, GUARDIAN, OUTSIDER, PATIENT, assert_user_error, run, run_json

GTIN = "09506000134352"
PHARMACY = GUARDIAN


@pytest.fixture(scope="module")
def stocked(deployed, tmp_path_factory):
    """Serials for lot RX-1 (12 packs), the batch registered with their root, 10 packs at the pharmacy,
    the patient registered; returns (env, proofs file, serials in order, batch id)."""
    env = deployed
    proofs = tmp_path_factory.mktemp("serials") / "rx-1.json"
    made = run_json(env, "serials", "generate", "--gtin", GTIN, "--lot", "RX-1", "--count", "12", "--out", str(proofs))
    assert made["units"] == 12 and proofs.is_file()
    run_json(env, "institution", "accredit", OUTSIDER, "--kind", "manufacturer")
    run_json(env, "institution", "accredit", PHARMACY, "--kind", "pharmacy")
    for member in (OUTSIDER, PHARMACY):
        run_json(env, "credential", "issue", member, "--kind", "accreditation", "--days", "365", "--account", "2")
    run_json(env, "product", "prefix", "assign", "9506000", "--to", OUTSIDER, "--account", "1")
    run_json(env, "product", "register", GTIN, "--name", "Medicine A", "--account", "5")
    batch = run_json(env, "batch", "register", "--gtin", GTIN, "--lot", "RX-1", "--quantity", "12",
                     "--expires", EXPIRES.isoformat(), "--serial-root", made["serial_root"], "--account", "5")["batch_id"]  # fmt: skip
    assert batch == made["batch_id"]
    shipped = run_json(env, "batch", "ship", batch, "--to", PHARMACY, "--quantity", "10", "--account", "5")
    run_json(env, "batch", "receive", shipped["shipment_id"], "--account", "8")
    run_json(env, "patient", "register", "--commitment", "0x" + "ab" * 32, "--account", "7")
    return env, proofs, json.loads(proofs.read_text())["serials"], batch


def test_the_proofs_file_names_its_batch_and_each_unit(stocked):
    env, proofs, serials, batch = stocked
    shown = run_json(env, "serials", "show", str(proofs), "--serial", serials[4])
    assert (shown["batch_id"], shown["units"], shown["index"], shown["lot"]) == (batch, 12, 4, "RX-1")
    code, _, err = run(env, "serials", "generate", "--gtin", GTIN, "--lot", "RX-1", "--count", "3", "--out", str(proofs))
    assert code == 2 and "never overwritten" in err and "Traceback" not in err


def test_a_pharmacist_verifies_a_pack_in_hand(stocked):
    env, proofs, serials, batch = stocked
    checked = run_json(env, "unit", "verify", "--proofs", str(proofs), "--serial", serials[0])
    assert checked["verified"] and checked["result"] == "verified" and checked["batch_id"] == batch
    printed = expiry_date(int(datetime.datetime.combine(EXPIRES, datetime.time(), datetime.timezone.utc).timestamp()))
    element = f"(01){GTIN}(17){printed:%y%m%d}(10)RX-1(21){serials[0]}"
    assert run_json(env, "unit", "verify", "--proofs", str(proofs), "--pack", element)["result"] == "verified"
    wrong_expiry = f"(01){GTIN}(17){printed.replace(year=printed.year - 1):%y%m%d}(10)RX-1(21){serials[0]}"
    code, out, _ = run(env, "unit", "verify", "--proofs", str(proofs), "--pack", wrong_expiry, "--json")
    assert code == 3 and json.loads(out)["result"] == "wrong_expiry"
    code, out, _ = run(env, "unit", "verify", "--proofs", str(proofs), "--serial", "NOTMADE1", "--json")
    assert code == 3 and json.loads(out)["result"] == "no_match"
    # A genuine pack still at the manufacturer is not the pharmacy's: custody did not reach it.
    held = run(env, "unit", "verify", "--proofs", str(proofs), "--serial", serials[11], "--holder", PHARMACY, "--json")
    assert held[0] == 3 and json.loads(held[1])["result"] == "held_by_another"
    mine = run_json(env, "unit", "verify", "--proofs", str(proofs), "--serial", serials[9], "--holder", PHARMACY)
    assert mine["result"] == "verified"
    assert_user_error(*run(env, "unit", "verify", "--proofs", str(proofs), "--pack", "(01)123"), "element string")


def test_a_slip_that_cannot_be_kept_stops_the_prescription_before_it_is_sent(stocked, tmp_path):
    """The slip holds the only salt that opens the prescription's commitment: where it cannot be
    written, nothing is issued; a refused issue leaves no slip behind."""
    env, *_ = stocked
    args = ("rx", "issue", "--patient", PATIENT, "--gtin", GTIN, "--quantity", "1", "--days", "9")
    kept = tmp_path / "kept"
    kept.mkdir()
    before = run_json(env, *args, "--slip", str(kept / "a.json"), "--account", "4")["id"]
    code, _, err = run(env, *args, "--slip", str(tmp_path / "missing" / "rx.json"), "--account", "4")
    assert code == 2 and "is not a folder" in err and "Traceback" not in err
    assert_user_error(*run(env, *args, "--slip", str(tmp_path / "refused.json"), "--account", "9"), "NotLicensedPrescriber")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]  # no slip, no pending slip
    after = run_json(env, *args, "--slip", str(kept / "b.json"), "--account", "4")["id"]
    assert after == before + 1  # nothing was issued in between


def test_prescribe_fill_and_catch_a_copied_serial(stocked):
    env, proofs, serials, batch = stocked
    slip = proofs.parent / "rx-slip.json"
    first = run_json(env, "rx", "issue", "--patient", PATIENT, "--gtin", GTIN, "--quantity", "2", "--refills", "1",
                     "--days", "30", "--slip", str(slip), "--account", "4")  # fmt: skip
    assert (first["prescriber"], first["fills_left"], first["fillable"]) == (DOCTOR, 2, "fillable")
    assert first["patient"] == PATIENT and json.loads(slip.read_text())["salt"] == first["patient_salt"]
    assert slip.stat().st_mode & 0o777 == 0o600 and not slip.with_name(slip.name + ".pending").exists()
    code, _, err = run(env, "rx", "issue", "--patient", PATIENT, "--gtin", GTIN, "--quantity", "1", "--days", "9",
                       "--slip", str(slip), "--account", "4")  # fmt: skip
    assert code == 2 and "never overwritten" in err
    assert_user_error(*run(env, "rx", "issue", "--patient", PATIENT, "--gtin", GTIN, "--quantity", "1", "--days", "9",
                           "--account", "9"), "NotLicensedPrescriber")  # fmt: skip
    rx = str(first["id"])
    assert_user_error(*run(env, "rx", "fill", rx, "--proofs", str(proofs), "--serial", serials[1], "--account", "3"),
                      "NotLicensedPharmacy")  # fmt: skip
    filled = run_json(env, "rx", "fill", rx, "--proofs", str(proofs), "--serial", serials[1], "--serial", serials[2],
                      "--slip", str(slip), "--account", "8")  # fmt: skip
    assert filled["filled"] and sorted(filled["units"]) == sorted(serials[1:3])
    code, out, _ = run(env, "unit", "verify", "--proofs", str(proofs), "--serial", serials[1], "--json")
    assert code == 3 and json.loads(out)["result"] == "already_dispensed"

    code, out, err = run(env, "unit", "dispense", "--rx", rx, "--proofs", str(proofs), "--serial", serials[1],
                         "--account", "8", "--json")  # fmt: skip
    alarm = json.loads(out)
    assert code == 3 and alarm["alarm"] == "already_dispensed" and alarm["serials"] == [serials[1]], err
    code, out, _ = run(env, "rx", "fill", rx, "--proofs", str(proofs), "--serial", "FAKE0001", "--account", "8", "--json")
    assert code == 3 and json.loads(out)["alarm"] == "unit_not_in_batch"
    code, out, _ = run(env, "rx", "fill", rx, "--proofs", str(proofs), "--serial", serials[11], "--account", "8", "--json")
    assert code == 3 and json.loads(out)["alarm"] == "held_by_another"
    shown = run_json(env, "rx", "show", rx)
    assert (shown["fills"], shown["dispensed"], len(shown["fill_history"])) == (1, 2, 1)
    assert "patient" not in shown and shown["patient_commitment"] == first["patient_commitment"]
    request = run_json(env, "rx", "show", rx, "--fhir")
    assert (request["resourceType"], request["status"], request["dispenseRequest"]["numberOfRepeatsAllowed"]) == (
        "MedicationRequest", "active", 1)
    assert request["subject"]["identifier"]["value"] == first["patient_commitment"]
    request = run_json(env, "rx", "show", rx, "--fhir", "--slip", str(slip))
    assert request["subject"]["identifier"]["value"].endswith(PATIENT)
    image, events = proofs.parent / "custody.svg", proofs.parent / "custody.jsonld"
    steps = [row["step"] for row in run_json(env, "batch", "history", batch, "--graph", str(image),
                                             "--epcis", str(events))]  # fmt: skip
    exported = json.loads(events.read_text())["epcisBody"]["eventList"]
    assert [e["bizStep"] for e in exported] == ["commissioning", "shipping", "receiving", "dispensing", "inspecting",
                                                 "inspecting", "inspecting"]  # fmt: skip
    assert exported[0]["ilmd"]["cbvmda:lotNumber"] == "RX-1" and len(exported[3]["epcList"]) == 2
    assert exported[1]["medledger:units"] == {"start": 0, "end": 10}
    assert [e["medledger:suspicion"] for e in exported[4:]] == ["already_dispensed", "unit_not_in_batch", "held_by_another"]
    assert steps[-4:] == ["dispensing", "suspect", "suspect", "suspect"]
    drawn = image.read_text()
    assert "2 dispensed" in drawn and "10 received" in drawn and "alarm" in drawn
    svg = ElementTree.fromstring(drawn)  # well-formed
    assert svg.tag.endswith("svg") and len(svg.findall("{http://www.w3.org/2000/svg}rect")) == 3  # manufacturer, pharmacy, patients


def test_the_patient_sees_and_the_prescriber_cancels(stocked):
    env, proofs, serials, _ = stocked
    issued = run_json(env, "rx", "issue", "--patient", PATIENT, "--gtin", GTIN, "--quantity", "1", "--days", "5",
                      "--account", "4")  # fmt: skip
    rx = str(issued["id"])
    listed = run_json(env, "rx", "list", "--patient", PATIENT, "--salt", issued["patient_salt"], "--account", "7")
    assert [str(p["id"]) for p in listed] == [rx]
    assert run_json(env, "rx", "list", "--patient", PATIENT, "--salt", "0x" + "01" * 32) == []
    code, _, err = run(env, "rx", "list", "--patient", PATIENT)
    assert code == 2 and "--salt" in err
    assert_user_error(*run(env, "rx", "cancel", rx, "--account", "7"), "NotPrescriber")
    assert run_json(env, "rx", "cancel", rx, "--reason", "2", "--account", "4")["status"] == "cancelled"
    assert_user_error(*run(env, "rx", "fill", rx, "--proofs", str(proofs), "--serial", serials[5], "--account", "8"),
                      "PrescriptionNotFillable")  # fmt: skip
    assert_user_error(*run(env, "rx", "show", "999"), "no prescription 999")
