"""``medledger product`` and ``medledger batch`` against a persistent node."""

from __future__ import annotations

import json

from tests.cli.conftest import AUTHORITY, EXPIRES, GUARDIAN, HOSPITAL, OUTSIDER, assert_user_error, run, run_json

GTIN = "09506000134352"


def test_product_and_batch_lifecycle(deployed):
    env = deployed
    assert AUTHORITY
    run_json(env, "institution", "accredit", OUTSIDER, "--kind", "manufacturer")
    assert_user_error(*run(env, "product", "register", GTIN, "--name", "Medicine A", "--account", "5"), "NotLicensedManufacturer")
    run_json(env, "credential", "issue", OUTSIDER, "--kind", "accreditation", "--days", "365", "--account", "2")
    assert_user_error(*run(env, "product", "register", GTIN, "--name", "Medicine A", "--account", "5"), "GtinNotInCompanyPrefix")
    assert_user_error(*run(env, "product", "prefix", "assign", "9506000", "--to", OUTSIDER, "--account", "5"),
                      "NotAdminOrRegulator")  # fmt: skip
    assigned = run_json(env, "product", "prefix", "assign", "9506000", "--to", OUTSIDER, "--account", "1")
    assert (assigned["prefix"], assigned["length"], assigned["holder"]) == ("9506000", 7, OUTSIDER)
    assert run_json(env, "product", "prefix", "show", "--gtin", GTIN)["prefix"] == "9506000"
    assert_user_error(*run(env, "product", "prefix", "assign", "123", "--to", OUTSIDER, "--account", "1"), "4 to 12 digits")
    registered = run_json(env, "product", "register", GTIN, "--name", "Medicine A", "--account", "5")
    assert registered["gtin"] == GTIN and registered["manufacturer"] == OUTSIDER
    assert run_json(env, "product", "show", "9506000134352")["manufacturer"] == OUTSIDER
    assert run_json(env, "product", "show", GTIN, "--name", " Medicine  A")["name_matches"] is True
    assert run_json(env, "product", "show", GTIN, "--name", "Medicine B")["name_matches"] is False
    assert_user_error(*run(env, "product", "register", "09506000134353", "--name", "X", "--account", "5"), "check digit")

    batch = run_json(env, "batch", "register", "--gtin", GTIN, "--lot", "L-77", "--quantity", "500",
                     "--expires", EXPIRES.isoformat(), "--serial-root", "0x" + "5e" * 32, "--account", "5")["batch_id"]  # fmt: skip
    code, out, _ = run(env, "batch", "verify", batch, "--json")
    assert code == 0
    shipped = run_json(env, "batch", "ship", batch, "--to", HOSPITAL, "--quantity", "40", "--account", "5")
    assert_user_error(*run(env, "batch", "receive", shipped["shipment_id"], "--account", "6"), "NotShipmentParty")
    assert run_json(env, "batch", "receive", shipped["shipment_id"], "--account", "3")["status"] == "received"
    again = run_json(env, "batch", "ship", batch, "--to", HOSPITAL, "--quantity", "5", "--account", "5")
    assert run_json(env, "batch", "cancel", again["shipment_id"], "--account", "5")["status"] == "cancelled"
    assert_user_error(*run(env, "batch", "ship", batch, "--to", HOSPITAL, "--quantity", "999", "--account", "5"),
                      "InsufficientStock")  # fmt: skip
    case = run_json(env, "batch", "ship", batch, "--to", HOSPITAL, "--range", "100:124", "--account", "5")
    assert (case["units"], case["quantity"]) == ("100:124", 24)
    assert run_json(env, "batch", "ship", batch, "--to", HOSPITAL, "--quantity", "6", "--from-index", "124",
                    "--account", "5")["units"] == "124:130"  # fmt: skip
    custody = run_json(env, "batch", "show", batch)["custody"]
    assert [(r["start"], r["end"], r["in_transit"]) for r in custody] == [
        (0, 40, False), (40, 45, False), (45, 100, False), (100, 124, True), (124, 130, True), (130, 500, False)]
    assert custody[0]["holder"] == HOSPITAL and custody[1]["holder"] == OUTSIDER
    assert_user_error(*run(env, "batch", "ship", batch, "--to", HOSPITAL, "--quantity", "10", "--from-index", "95",
                           "--account", "5"), "not all in one range")  # fmt: skip
    assert_user_error(*run(env, "batch", "ship", batch, "--to", HOSPITAL, "--quantity", "400", "--account", "5"),
                      "several ranges")  # fmt: skip
    split = run_json(env, "batch", "ship", batch, "--to", HOSPITAL, "--quantity", "61", "--split", "--account", "5")
    assert [s["units"] for s in split] == ["40:45", "45:100", "130:131"]
    for wrong, said in ((("--range", "9:3"), "START:END"), ((), "say what to ship"),
                        (("--range", "0:5", "--quantity", "5"), "--range names the units")):  # fmt: skip
        code, _, err = run(env, "batch", "ship", batch, "--to", HOSPITAL, *wrong, "--account", "5")
        assert code == 2 and said in err and "Traceback" not in err
    assert run_json(env, "batch", "quarantine", batch, "--reason", "3", "--account", "5")["status"] == "quarantined"
    code, _, _ = run(env, "batch", "verify", batch)
    assert code == 3
    run_json(env, "batch", "release", batch, "--account", "5")
    assert run_json(env, "batch", "recall", batch, "--reason", "8", "--account", "1")["status"] == "recalled"
    assert_user_error(*run(env, "batch", "release", batch, "--account", "1"), "BatchStatusInvalid")
    assert_user_error(*run(env, "batch", "recall", batch, "--account", "6"), "NotManufacturerOrRegulator")
    assert_user_error(*run(env, "batch", "show", "0x" + "00" * 32), "no batch")
    path = [(row["step"], row["quantity"], row["units"]) for row in run_json(env, "batch", "history", batch)]
    assert path[:5] == [("commissioning", 500, "0:500"), ("shipping", 40, "0:40"), ("receiving", "-", "0:40"),
                        ("shipping", 5, "40:45"), ("cancelled", "-", "40:45")]  # fmt: skip
    assert [step for step, _, _ in path[5:]] == ["shipping"] * 5 + ["quarantined", "released", "recalled"]
    assert_user_error(*run(env, "batch", "receive", "0x" + "11" * 32, "--account", "3"), "no shipment")
    assert_user_error(*run(env, "batch", "register", "--gtin", GTIN, "--lot", "L" * 25, "--quantity", "5",
                           "--expires", EXPIRES.isoformat(), "--serial-root", "0x" + "5e" * 32, "--account", "5"), "lot")  # fmt: skip


def test_a_regulator_voids_a_product_and_takes_back_a_prefix(deployed):
    env, gtin, maker = deployed, "04006381333931", GUARDIAN  # account 8, a manufacturer here
    run_json(env, "institution", "accredit", maker, "--kind", "manufacturer")
    run_json(env, "credential", "issue", maker, "--kind", "accreditation", "--days", "365", "--account", "2")
    run_json(env, "product", "prefix", "assign", "4006381", "--to", maker, "--account", "0")  # the admin may too
    run_json(env, "product", "register", gtin, "--name", "Medicine V", "--account", "8")
    batch = run_json(env, "batch", "register", "--gtin", gtin, "--lot", "V-1", "--quantity", "5",
                     "--expires", EXPIRES.isoformat(), "--serial-root", "0x" + "5e" * 32, "--account", "8")["batch_id"]  # fmt: skip
    assert_user_error(*run(env, "product", "void", gtin, "--account", "8"), "NotRegulator")
    voided = run_json(env, "product", "void", gtin, "--reason", "4", "--account", "1")
    assert (voided["voided"], voided["reason"]) == (True, 4)
    assert run_json(env, "product", "show", gtin)["voided"] is True
    code, out, _ = run(env, "batch", "verify", batch, "--json")
    assert code == 3 and json.loads(out)["result"] == "product_voided"
    assert_user_error(*run(env, "product", "void", gtin, "--account", "1"), "ProductAlreadyVoided")
    taken = run_json(env, "product", "prefix", "unassign", "4006381", "--account", "1")
    assert (taken["assigned"], taken["holder"]) == (False, "-")
    assert run_json(env, "product", "prefix", "show", "4006381")["assigned"] is False
    assert_user_error(*run(env, "product", "prefix", "show", "--gtin", gtin), "no assigned company prefix")
    assert_user_error(*run(env, "product", "prefix", "unassign", "4006381", "--account", "1"), "CompanyPrefixNotAssigned")
