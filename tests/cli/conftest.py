"""CLI fixtures: a private MEDLEDGER_HOME per module, and helpers to run commands in-process."""

from __future__ import annotations

import datetime
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from medledger.chain import dev_accounts
from medledger.cli import cli
from medledger.cli.context import pid_alive

ACCOUNTS = [a.address for a in dev_accounts()]
ADMIN, REGULATOR, AUTHORITY, HOSPITAL, DOCTOR, OUTSIDER, CLINIC, PATIENT, GUARDIAN, NURSE = ACCOUNTS[:10]
SECRETS = [a.key.hex().removeprefix("0x") for a in dev_accounts()]
#: A batch expiry years ahead of whenever the tests run (the persistent node keeps wall-clock time).
EXPIRES = datetime.date(datetime.date.today().year + 5, 1, 1)


def home_env(home: Path) -> dict[str, str]:
    """The environment of CLI calls whose node, manifests and deployments live under ``home``."""
    return {"MEDLEDGER_HOME": str(home), "MEDLEDGER_DEPLOYMENTS": str(home / "deployments")}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("medledger-home")
    environment = home_env(home)
    yield environment
    node_file = home / "node.json"
    if node_file.is_file():  # a failing test must not leave a node behind
        pid = json.loads(node_file.read_text())["pid"]
        if pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def deployed(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A running node with the suite deployed, a regulator, an authority, an accredited hospital and
    clinic, and a licensed doctor (account 4) and nurse (account 9)."""
    run_json(env, "node", "start")
    try:
        run_json(env, "deploy")
        run_json(env, "consortium", "add-regulator", REGULATOR)
        run_json(env, "consortium", "add-authority", AUTHORITY)
        run_json(env, "institution", "accredit", HOSPITAL, "--kind", "hospital")
        run_json(env, "institution", "accredit", CLINIC, "--kind", "clinic")
        run_json(env, "credential", "issue", DOCTOR, "--kind", "licence", "--days", "365", "--account", "2")
        run_json(env, "credential", "issue", NURSE, "--kind", "nurse", "--days", "365", "--account", "2")
        for institution in (HOSPITAL, CLINIC):
            run_json(env, "credential", "issue", institution, "--kind", "accreditation", "--days", "365",
                     "--account", "2")  # fmt: skip
        yield env
    finally:
        run(env, "node", "stop")


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run_json(env: dict[str, str], *args: str) -> dict:
    code, out, err = run(env, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def assert_user_error(code: int, out: str, err: str, fragment: str) -> None:
    assert code == 1, out + err
    assert err.startswith("error: ") and fragment in err, err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err
    assert not any(secret in out + err for secret in SECRETS)
