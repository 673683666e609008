"""``medledger consent``, ``record`` and ``access`` against a persistent node: the referral story."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import (
    ADMIN, AUTHORITY, CLINIC, DOCTOR, HOSPITAL, NURSE, OUTSIDER, PATIENT, assert_user_error, run, run_json,
)  # fmt: skip

LAB_REPORT = b"potassium 4.1 mmol/L; sodium 139 mmol/L"


def test_grant_anchor_read_refer_break_glass_and_revoke(deployed):
    env = deployed
    home = Path(env["MEDLEDGER_HOME"])
    assert AUTHORITY and ADMIN
    run_json(env, "patient", "register", "--commitment", "0x" + "ab" * 32, "--account", "7")
    for account in ("4", "6", "9"):
        run_json(env, "key", "publish", "--account", account)

    granted = run_json(env, "consent", "grant", DOCTOR, "--categories", "labs,imaging", "--write", "labs",
                       "--days", "30", "--referral", "--account", "7")  # fmt: skip
    assert granted["categories"] == "labs,imaging" and granted["referral_allowed"] is True
    assert [row["grantee"] for row in run_json(env, "consent", "list", PATIENT)] == [DOCTOR]
    code, out, err = run(env, "consent", "show", PATIENT, DOCTOR, "--fhir")
    assert code == 0, err
    fhir = json.loads(out)
    assert fhir["resourceType"] == "Consent" and fhir["provision"]["purpose"][0]["code"] == "TREAT"

    report = home / "lab-report.txt"
    report.write_bytes(LAB_REPORT)
    code, out, err = run(env, "record", "anchor", str(report), "--patient", PATIENT, "--category", "labs",
                         "--account", "4", "--json")  # fmt: skip
    assert code == 0, err
    assert LAB_REPORT.decode() not in out
    record = json.loads(out)["record"]
    ciphertext = home / "vault" / "objects" / record[2:]
    assert run(env, "record", "verify", str(ciphertext))[0] == 0
    code, out, _ = run(env, "record", "verify", str(report), "--json")
    assert code == 3 and json.loads(out)["status"] == "unknown"

    plain = home / "read-by-doctor.txt"
    code, out, err = run(env, "record", "read", record, "--out", str(plain), "--account", "4", "--json")
    assert code == 0, err
    assert plain.read_bytes() == LAB_REPORT and LAB_REPORT.decode() not in out
    assert json.loads(out)["basis"] == "grant"

    # the doctor refers the patient to the clinic, which reads through the vault's custodian
    run_json(env, "consent", "refer", PATIENT, CLINIC, "--categories", "labs", "--days", "10", "--account", "4")
    by_clinic = home / "read-by-clinic.txt"
    read = run_json(env, "record", "read", record, "--out", str(by_clinic), "--account", "6")
    assert read["basis"] == "referral" and by_clinic.read_bytes() == LAB_REPORT

    # an emergency doctor breaks the glass; the patient sees it flagged, then closes it
    run_json(env, "credential", "issue", OUTSIDER, "--kind", "licence", "--days", "30", "--account", "2")
    opened = run_json(env, "access", "break-glass", PATIENT, "--reason", "5", "--minutes", "30", "--account", "5")
    assert opened["flagged"] == "BREAK-GLASS"
    assert run_json(env, "access", "log", record, "--account", "5")["basis"] == "break_glass"
    history = run_json(env, "access", "history", "--account", "7")
    assert [row["who"] for row in history if row["event"] == "read"] == [DOCTOR, CLINIC, OUTSIDER]
    assert {row["flag"] for row in history if row["who"] == OUTSIDER} == {"BREAK-GLASS"}
    run_json(env, "access", "break-glass", PATIENT, "--close", "--practitioner", OUTSIDER, "--account", "7")
    assert_user_error(*run(env, "access", "log", record, "--account", "5"), "AccessDenied")
    regulator_view = run_json(env, "access", "history", "--break-glass", "--account", "1")
    assert [row["event"] for row in regulator_view] == ["break-glass opened", "read", "break-glass closed"]

    # a signed grant relayed by someone else, then a signed revocation
    signed = home / "grant-nurse.json"
    run_json(env, "consent", "sign", NURSE, "--categories", "immunizations", "--days", "5", "--out", str(signed),
             "--account", "7")  # fmt: skip
    relayed = run_json(env, "consent", "relay", str(signed), "--account", "0")
    assert relayed["type"] == "Grant" and relayed["signed_by"] == PATIENT
    assert_user_error(*run(env, "consent", "relay", str(signed), "--account", "0"), "InvalidAccountNonce")
    revocation = home / "revoke-nurse.json"
    run_json(env, "consent", "sign", NURSE, "--revoke", "--out", str(revocation), "--account", "7")
    run_json(env, "consent", "relay", str(revocation), "--account", "0")
    unsigned = home / "for-wallet.json"
    run_json(env, "consent", "sign", NURSE, "--categories", "labs", "--days", "1", "--unsigned", "--out", str(unsigned),
             "--account", "7")  # fmt: skip
    assert json.loads(unsigned.read_text())["primaryType"] == "Grant"

    # revoking the doctor ends its access and the referral it made
    run_json(env, "consent", "revoke", DOCTOR, "--account", "7")
    assert_user_error(*run(env, "record", "read", record, "--out", str(plain), "--account", "4"), "AccessDenied")
    assert_user_error(*run(env, "access", "log", record, "--account", "6"), "AccessDenied")
    assert run_json(env, "consent", "list", PATIENT) == []


def test_consent_mistakes_are_clear(deployed):
    env = deployed
    code, _, err = run(env, "consent", "grant", DOCTOR, "--days", "3", "--account", "8")
    assert code == 2 and "--categories" in err
    assert_user_error(*run(env, "consent", "grant", DOCTOR, "--categories", "labs,horoscope", "--days", "3",
                           "--account", "8"), "unknown RecordCategory 'horoscope'")  # fmt: skip
    assert_user_error(*run(env, "consent", "grant", DOCTOR, "--categories", "labs", "--days", "3", "--account", "8"),
                      "PatientNotRegistered")  # fmt: skip
    code, _, err = run(env, "access", "break-glass", PATIENT, "--account", "4")
    assert code == 2 and "--reason" in err
    assert_user_error(*run(env, "record", "read", "0x" + "11" * 32, "--out", "/tmp/x", "--account", "4"),
                      "not anchored")  # fmt: skip
    policy = run_json(env, "access", "policy")
    assert policy["max_minutes"] == 24 * 60 and policy["sessions_per_window"] == 5
    code, _, err = run(env, "access", "policy", "--sessions", "3")
    assert code == 2 and "needs --max-minutes" in err
    assert_user_error(*run(env, "access", "policy", "--max-minutes", "60", "--window-hours", "24", "--sessions", "3",
                           "--account", "1"), "NotConsortiumAdmin")  # fmt: skip


def test_the_patient_amends_a_record_and_cancels_its_signatures(deployed):
    """Runs after the referral story (the patient, account 7, is registered)."""
    env = deployed
    home = Path(env["MEDLEDGER_HOME"])
    run_json(env, "key", "publish", "--account", "3")
    for writer in (HOSPITAL, CLINIC):
        run_json(env, "consent", "grant", writer, "--categories", "labs", "--write", "labs", "--days", "30",
                 "--account", "7")  # fmt: skip
    report = home / "hospital-report.txt"
    report.write_bytes(LAB_REPORT)
    record = run_json(env, "record", "anchor", str(report), "--patient", PATIENT, "--category", "labs",
                      "--account", "3")["record"]  # fmt: skip
    assert_user_error(*run(env, "record", "anchor", str(report), "--patient", PATIENT, "--category", "labs",
                           "--supersedes", record, "--account", "6"), "NotRecordAuthor")  # fmt: skip

    statement = home / "statement.txt"
    statement.write_bytes(b"the potassium sample was haemolysed")
    amended = run_json(env, "record", "amend", str(statement), "--original", record, "--share", HOSPITAL,
                       "--account", "7")  # fmt: skip
    assert amended["amends"] == record and amended["category"] == "labs"
    code, out, err = run(env, "record", "verify", record, "--json")
    assert code == 0, err  # an amended record is still the current version
    shown = json.loads(out)
    assert (shown["status"], shown["author"], shown["amended_by_patient"]) == ("current", HOSPITAL, amended["record"])
    versions = run_json(env, "record", "versions", record)
    assert [(row["record"], row["kind"], row["amends"]) for row in versions] == [
        (record, "entry", "-"), (amended["record"], "amendment", record),
    ]  # fmt: skip
    assert_user_error(*run(env, "record", "amend", str(statement), "--original", record, "--account", "3"),
                      "NotRecordPatient")  # fmt: skip

    signed = home / "grant-to-cancel.json"
    run_json(env, "consent", "sign", NURSE, "--categories", "labs", "--days", "5", "--out", str(signed),
             "--account", "7")  # fmt: skip
    cancelled = run_json(env, "consent", "cancel-signatures", "--account", "7")
    assert cancelled["patient"] == PATIENT
    assert cancelled["consent_manager_tx"].startswith("0x") and cancelled["patient_registry_tx"].startswith("0x")
    assert_user_error(*run(env, "consent", "relay", str(signed), "--account", "0"), "InvalidAccountNonce")
    assert_user_error(*run(env, "consent", "cancel-signatures", "--account", "4"), "PatientNotRegistered")
