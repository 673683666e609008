"""``medledger audit``: sync from the node, then questions and exports answered from the file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from medledger.client.credentials import credential_id
from tests.cli.conftest import DOCTOR, OUTSIDER, PATIENT, assert_user_error, run, run_json


def test_sync_query_and_export_a_break_glass_story(deployed, tmp_path):
    env = deployed
    db = str(tmp_path / "audit.sqlite")
    run_json(env, "patient", "register", "--commitment", "0x" + "cd" * 32, "--account", "7")
    run_json(env, "credential", "issue", OUTSIDER, "--kind", "licence", "--days", "30", "--account", "2")
    run_json(env, "access", "break-glass", PATIENT, "--reason", "9", "--minutes", "30", "--account", "5")
    licence = "0x" + credential_id(DOCTOR, "licence", 0).hex()
    run_json(env, "credential", "suspend", licence, "--reason", "4", "--account", "2")

    first = run_json(env, "audit", "sync", "--db", db, "--batch-size", "3")
    assert first["events_added"] == first["events_in_index"] > 0 and first["reorgs"] == []
    again = run_json(env, "audit", "sync", "--db", db)
    assert again["events_added"] == 0 and again["events_in_index"] == first["events_in_index"]

    # Questions need only the file: no --chain, and they work with the node's address unknown.
    history = run_json(env, "audit", "query", "access", PATIENT, "--db", db)
    assert [row["event"] for row in history] == ["BreakGlassOpened"]
    assert history[0]["break_glass"] is True and history[0]["args"]["reasonCode"] == 9
    regulator = run_json(env, "audit", "query", "break-glass", "--db", db)
    assert [row["args"]["practitioner"] for row in regulator] == [OUTSIDER]
    credentials = run_json(env, "audit", "query", "credentials", DOCTOR, "--db", db)
    assert [row["event"] for row in credentials] == ["CredentialIssued", "CredentialSuspended"]
    by_name = run_json(env, "audit", "query", "events", "CredentialIssued", "--where", f"subject={OUTSIDER}", "--db", db)
    assert len(by_name) == 1 and by_name[0]["args"]["kind"] == "licence"

    code, out, err = run(env, "audit", "query", "break-glass", "--db", db)
    assert code == 0, err
    assert "BreakGlassOpened" in out

    out_file = tmp_path / "credentials.csv"
    code, _, err = run(env, "audit", "export", "credentials", DOCTOR, "--db", db, "--out", str(out_file))
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out_file.read_text())))
    assert [r["event"] for r in rows] == ["CredentialIssued", "CredentialSuspended"]
    assert json.loads(rows[1]["args"])["reasonCode"] == 4
    code, out, err = run(env, "audit", "export", "break-glass", "--db", db, "--format", "json")
    assert code == 0, err
    assert json.loads(out) == regulator


def test_audit_mistakes_end_in_one_line(deployed, tmp_path):
    env = deployed
    missing = str(tmp_path / "none.sqlite")
    assert_user_error(*run(env, "audit", "query", "access", PATIENT, "--db", missing), "medledger audit sync")
    assert not Path(missing).exists()
    db = str(tmp_path / "audit.sqlite")
    run_json(env, "audit", "sync", "--db", db)
    assert_user_error(*run(env, "audit", "query", "access", "0xnope", "--db", db), "not an Ethereum address")
    assert_user_error(*run(env, "audit", "query", "events", "Nope", "--db", db), "no event named 'Nope'")
    assert_user_error(*run(env, "audit", "query", "events", "AccessGranted", "--where", "purpose=1", "--db", db),
                      "not an indexed argument")  # fmt: skip
    code, _, err = run(env, "audit", "query", "events", "AccessGranted", "--where", "patient", "--db", db)
    assert code == 2 and "ARG=VALUE" in err
    code, _, err = run(env, "audit", "query", "break-glass", "--since", "yesterday-ish", "--db", db)
    assert code == 2 and "not a date" in err
    nowhere = str(tmp_path / "no-such-folder" / "out.csv")
    assert_user_error(*run(env, "audit", "export", "break-glass", "--db", db, "--out", nowhere), "cannot write")
