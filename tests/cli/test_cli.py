"""The medledger command line, against a real persistent node, in-process and as a subprocess."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from medledger.cli import cli
from medledger.deploy import CONTRACT_NAMES
from tests.cli.conftest import AUTHORITY, DOCTOR, HOSPITAL, OUTSIDER, REGULATOR, assert_user_error, home_env, run, run_json
from tests.helpers import busy_port


def _leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _leaf_commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


LEAVES = list(_leaf_commands(cli))


@pytest.mark.parametrize("path", [p for p, _ in LEAVES], ids=lambda p: " ".join(p))
def test_every_command_has_help_and_json(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    if path[:2] == ("audit", "export"):  # exports write CSV or JSON by --format
        assert "--format" in result.output
    else:
        assert "--json" in result.output
    offline = path[0] in ("node", "compile", "serials") or path[:2] in (("audit", "query"), ("audit", "export"))
    if not offline:
        assert "--chain" in result.output


def test_without_a_node_the_cli_says_how_to_start_one(env):
    assert_user_error(*run(env, "institution", "show", HOSPITAL), "medledger node start")


def test_a_node_on_a_taken_port_is_one_clear_line(tmp_path):
    with busy_port() as port:
        assert_user_error(*run(home_env(tmp_path), "node", "start", "--port", str(port)),
                          f"127.0.0.1:{port} is already in use")  # fmt: skip
    assert not (tmp_path / "node.json").exists()


def test_the_embedded_chain_is_refused_with_the_reason(env):
    assert_user_error(*run(env, "institution", "show", HOSPITAL, "--chain", "embedded"), "one process")


def test_full_credential_flow_with_a_persistent_node(env):
    started = run_json(env, "node", "start")
    try:
        assert started["status"] == "running"
        _flow(env)
        run_json(env, "node", "stop")
        run_json(env, "node", "start")
        # state survived the restart: the revoked licence is still revoked
        code, out, _ = run(env, "credential", "verify", DOCTOR, "--kind", "licence", "--json")
        assert code == 3 and json.loads(out)["result"] == "revoked"
    finally:
        run(env, "node", "stop")
    assert run_json(env, "node", "status")["status"] == "stopped"


def _flow(env: dict[str, str]) -> None:
    assert_user_error(*run(env, "institution", "show", HOSPITAL), "medledger deploy")
    deployed = run_json(env, "deploy")
    assert {row["contract"] for row in deployed} == set(CONTRACT_NAMES)
    assert run_json(env, "deploy") == deployed  # reused, not redeployed

    run_json(env, "consortium", "add-authority", AUTHORITY)
    run_json(env, "consortium", "add-regulator", REGULATOR)
    roles = run_json(env, "consortium", "show", "--check", AUTHORITY)
    assert roles["licensing_authority"] is True and roles["regulator"] is False

    run_json(env, "institution", "accredit", HOSPITAL, "--kind", "hospital")
    shown = run_json(env, "institution", "show", HOSPITAL)
    assert shown["status"] == "active" and shown["kind"] == "hospital"
    assert_user_error(*run(env, "institution", "accredit", HOSPITAL, "--kind", "clinic"),
                      "InstitutionAlreadyAccredited")  # fmt: skip
    assert_user_error(*run(env, "institution", "accredit", "0x1234", "--kind", "clinic"),
                      "is not an Ethereum address")  # fmt: skip
    assert_user_error(*run(env, "institution", "accredit", OUTSIDER, "--kind", "lab", "--account", "5"),
                      "AccessControlUnauthorizedAccount")  # fmt: skip

    issued = run_json(env, "credential", "issue", DOCTOR, "--kind", "licence", "--days", "365", "--account", "2")
    credential = issued["credential_id"]
    assert_user_error(*run(env, "credential", "issue", DOCTOR, "--kind", "nurse", "--days", "30",
                           "--account", "5"), "NotLicensingAuthority")  # fmt: skip
    code, out, _ = run(env, "credential", "verify", DOCTOR, "--kind", "licence", "--json")
    assert code == 0 and json.loads(out)["valid"] is True

    suspended = run_json(env, "credential", "suspend", credential, "--reason", "4", "--account", "2")
    assert suspended["status"] == "suspended"
    code, out, _ = run(env, "credential", "verify", DOCTOR, "--kind", "licence", "--json")
    assert code == 3 and json.loads(out)["result"] == "suspended"
    assert_user_error(*run(env, "credential", "suspend", credential, "--account", "2"), "CredentialAlreadySuspended")
    run_json(env, "credential", "reinstate", credential, "--account", "2")
    # a regulator's suspension is lifted only by a regulator
    locked = run_json(env, "credential", "suspend", credential, "--reason", "5", "--account", "1")
    assert locked["status"] == "suspended_by_regulator"
    assert_user_error(*run(env, "credential", "reinstate", credential, "--account", "2"),
                      "CredentialSuspendedByRegulator")  # fmt: skip
    run_json(env, "credential", "reinstate", credential, "--account", "1")
    # a regulator's revocation is a hold: no authority issues that licence again until a regulator lifts it
    held = run_json(env, "credential", "revoke", credential, "--reason", "8", "--account", "1")
    assert held["status"] == "revoked_by_regulator"
    assert_user_error(*run(env, "credential", "issue", DOCTOR, "--kind", "licence", "--days", "365",
                           "--account", "2"), "CredentialHeldByRegulator")  # fmt: skip
    assert_user_error(*run(env, "credential", "lift-hold", credential, "--account", "2"), "NotRegulator")
    assert run_json(env, "credential", "lift-hold", credential, "--account", "1")["status"] == "revoked"
    run_json(env, "credential", "issue", DOCTOR, "--kind", "licence", "--days", "365", "--account", "2")
    # one slot per doctor, kind and scope: a regulator hands a credential to another authority
    assert_user_error(*run(env, "credential", "reassign", credential, OUTSIDER, "--account", "1"),
                      "NotLicensingAuthority")  # fmt: skip
    assert_user_error(*run(env, "credential", "reassign", credential, AUTHORITY, "--account", "2"), "NotRegulator")
    assert_user_error(*run(env, "credential", "reassign", credential, "0x12", "--account", "1"),
                      "is not an Ethereum address")  # fmt: skip
    run_json(env, "consortium", "add-authority", OUTSIDER)
    moved = run_json(env, "credential", "reassign", credential, OUTSIDER, "--account", "1")
    assert (moved["previous_issuer"], moved["issuer"], moved["status"]) == (AUTHORITY, OUTSIDER, "active")
    run_json(env, "credential", "reassign", credential, AUTHORITY, "--account", "1")
    run_json(env, "consortium", "remove-authority", OUTSIDER)
    # an institution is judged only as an institution: no practitioner credential for it
    assert_user_error(*run(env, "credential", "issue", HOSPITAL, "--kind", "licence", "--days", "30",
                           "--account", "2"), "SubjectIsInstitution")  # fmt: skip
    run_json(env, "credential", "revoke", credential, "--reason", "9", "--account", "2")
    assert run_json(env, "credential", "show", credential)["status"] == "revoked"

    document = Path(env["MEDLEDGER_HOME"]) / "nursing-licence.pdf"
    document.write_bytes(b"%PDF-1.7 a nursing licence")
    nursing = run_json(env, "credential", "issue", DOCTOR, "--kind", "nurse", "--days", "30",
                       "--document", str(document), "--account", "2")  # fmt: skip
    shown = run_json(env, "credential", "show", nursing["credential_id"])
    assert shown["document_hash"] == "0x" + hashlib.sha256(document.read_bytes()).hexdigest()
    code, _, err = run(env, "credential", "issue", DOCTOR, "--kind", "nurse", "--days", "30",
                       "--valid-until", "2030-01-01", "--account", "2")  # fmt: skip
    assert code == 2 and "exactly one of --valid-until and --days" in err and "Traceback" not in err

    assert_user_error(*run(env, "credential", "show", "0x" + "00" * 32), "no credential")
    assert_user_error(*run(env, "credential", "show", "0x12"), "must be 32 bytes")
    assert_user_error(*run(env, "credential", "revoke", "0x" + "ab" * 32, "--account", "2"), "CredentialNotFound")
    assert_user_error(*run(env, "institution", "show", HOSPITAL, "--account", "99"), "out of range")


def test_bad_option_values_are_usage_errors_not_tracebacks(env):
    result = CliRunner().invoke(cli, ["credential", "issue", DOCTOR, "--kind", "wizard", "--days", "1"], env=env)
    assert result.exit_code == 2 and "wizard" in result.stderr and "Traceback" not in result.output


def test_as_a_subprocess_a_user_mistake_is_one_line_on_stderr(env):
    done = subprocess.run(
        [sys.executable, "-m", "medledger", "credential", "verify", "0xnot-an-address", "--kind", "licence"],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "Traceback" not in done.stderr + done.stdout


def test_compile_check_passes_on_committed_artifacts():
    result = CliRunner().invoke(cli, ["compile", "--check", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["contract"] for r in rows} == set(CONTRACT_NAMES)
    assert all(r["evm"] == "shanghai" for r in rows)
