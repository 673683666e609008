"""``medledger key`` and ``medledger patient`` against a persistent node."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from medledger.identity import mrn_commitment
from tests.cli.conftest import GUARDIAN, HOSPITAL, PATIENT, assert_user_error, run, run_json

IDENTITY = {"name": "Ada Example", "birth_date": "1990-01-31", "national_id": "AB123456"}
MRN = "H-000731"


@pytest.fixture(scope="module")
def identity_file(deployed) -> Path:
    path = Path(deployed["MEDLEDGER_HOME"]) / "identity.json"
    path.write_text(json.dumps(IDENTITY))
    return path


def no_phi(text: str) -> None:
    for value in (*IDENTITY.values(), MRN):
        assert value not in text


def test_patient_registers_delegates_and_links_mrns(deployed, identity_file):
    env = deployed
    code, out, err = run(env, "patient", "register", "--identity", str(identity_file), "--account", "7", "--json")
    assert code == 0, err
    no_phi(out + err)
    registered = json.loads(out)
    key_file = Path(registered["salt_kept_in"])
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert json.loads(key_file.read_text())["encryption_private_key"] not in out
    shown = run_json(env, "patient", "show", PATIENT)
    assert shown["registered"] is True and shown["identity_commitment"] == registered["identity_commitment"]
    assert_user_error(*run(env, "patient", "register", "--identity", str(identity_file), "--account", "7"),
                      "PatientAlreadyRegistered")  # fmt: skip

    appointed = run_json(env, "patient", "delegate", GUARDIAN, "--days", "30", "--account", "7")
    assert appointed["delegate"] == GUARDIAN
    assert_user_error(*run(env, "patient", "delegate", PATIENT, "--days", "30", "--account", "7"), "SelfDelegation")

    # proposal by the hospital, acceptance by the guardian
    proposed = run_json(env, "patient", "link-mrn", "--patient", PATIENT, "--mrn", MRN, "--account", "3")
    assert proposed["status"] == "proposed" and "salt" in proposed and "proposal_salt" in proposed
    assert_user_error(*run(env, "patient", "accept-mrn", proposed["mrn_commitment"], "--institution", HOSPITAL,
                           "--proposal-salt", "0x" + "01" * 32, "--patient", PATIENT, "--account", "8"),
                      "MrnProposalMismatch")  # fmt: skip
    code, out, err = run(env, "patient", "accept-mrn", proposed["mrn_commitment"], "--institution", HOSPITAL,
                         "--proposal-salt", proposed["proposal_salt"], "--patient", PATIENT,
                         "--account", "8", "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["status"] == "linked"
    resolved = run_json(env, "patient", "resolve-mrn", "--institution", HOSPITAL, "--mrn", MRN,
                        "--salt", proposed["salt"])  # fmt: skip
    assert resolved["patient"] == PATIENT

    # one step with a signed consent file
    commitment = "0x" + mrn_commitment(HOSPITAL, "H-999", b"\x01" * 32).hex()
    consent_file = Path(env["MEDLEDGER_HOME"]) / "mrn-consent.json"
    signed = run_json(env, "patient", "sign-mrn-consent", "--institution", HOSPITAL, "--commitment", commitment,
                      "--out", str(consent_file), "--account", "7")  # fmt: skip
    assert signed["signer"] == PATIENT and consent_file.is_file()
    assert_user_error(*run(env, "patient", "link-mrn", "--patient", PATIENT, "--consent", str(consent_file),
                           "--account", "6"), "InvalidSignature")  # the clinic cannot use the hospital's consent
    linked = run_json(env, "patient", "link-mrn", "--patient", PATIENT, "--consent", str(consent_file),
                      "--account", "3")  # fmt: skip
    assert linked["status"] == "linked"
    assert_user_error(*run(env, "patient", "link-mrn", "--patient", PATIENT, "--consent", str(consent_file),
                           "--account", "3"), "MrnAlreadyLinked")  # fmt: skip

    run_json(env, "patient", "unlink-mrn", commitment, "--institution", HOSPITAL, "--account", "7")
    assert run_json(env, "patient", "resolve-mrn", "--institution", HOSPITAL, "--commitment", commitment)[
        "patient"
    ] == "not linked"
    removed = run_json(env, "patient", "delegate", GUARDIAN, "--remove", "--account", "7")
    assert removed["removed"] is True


def test_patient_mistakes_are_one_line_errors(deployed, identity_file):
    env = deployed
    code, _, err = run(env, "patient", "register", "--account", "5")
    assert code == 2 and "exactly one of --identity and --commitment" in err
    assert_user_error(*run(env, "patient", "register", "--commitment", "0x12", "--account", "5"), "32 bytes")
    assert_user_error(*run(env, "patient", "link-mrn", "--patient", PATIENT, "--mrn", MRN, "--account", "5"),
                      "NotActiveInstitution")  # fmt: skip
    assert_user_error(*run(env, "patient", "link-mrn", "--patient", PATIENT, "--mrn", MRN, "--salt", "zz",
                           "--account", "3"), "--salt")  # fmt: skip
    bad = Path(env["MEDLEDGER_HOME"]) / "not-json.json"
    bad.write_text("{not json")
    assert_user_error(*run(env, "patient", "register", "--identity", str(bad), "--account", "5"), "identity file")
    assert_user_error(*run(env, "patient", "link-mrn", "--patient", PATIENT, "--consent", str(bad),
                           "--account", "3"), "malformed")  # fmt: skip


def test_any_account_publishes_an_encryption_key(deployed):
    published = run_json(deployed, "key", "publish", "--account", "4")
    assert published["encryption_key"].startswith(("0x02", "0x03"))
    assert run_json(deployed, "key", "show", published["account"])["encryption_key"] == published["encryption_key"]
    assert_user_error(*run(deployed, "key", "publish", "--public-key", "0x02" + "00" * 32, "--account", "4"),
                      "secp256k1")  # fmt: skip
