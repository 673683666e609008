"""``medledger record read`` against a persistent node: a read is served only once it is confirmed."""

from __future__ import annotations

import json
from pathlib import Path

from web3 import HTTPProvider, Web3

from medledger.cli.record import NOT_CONFIRMED_EXIT
from tests.cli.conftest import DOCTOR, PATIENT, SECRETS, assert_user_error, run, run_json

LAB_REPORT = b"TSH 2.1 mU/L"


def mine(env: dict[str, str], blocks: int) -> None:
    url = json.loads((Path(env["MEDLEDGER_HOME"]) / "node.json").read_text())["url"]
    answer = Web3(HTTPProvider(url)).provider.make_request("anvil_mine", [hex(blocks)])  # type: ignore[arg-type]
    assert "error" not in answer, answer


def test_record_read_waits_for_confirmations_and_retries_with_the_logged_read(deployed):
    env = deployed
    home = Path(env["MEDLEDGER_HOME"])
    run_json(env, "patient", "register", "--commitment", "0x" + "cd" * 32, "--account", "7")
    run_json(env, "key", "publish", "--account", "4")
    run_json(env, "consent", "grant", DOCTOR, "--categories", "labs", "--write", "labs", "--days", "30", "--account", "7")
    report = home / "thyroid.txt"
    report.write_bytes(LAB_REPORT)
    record = run_json(env, "record", "anchor", str(report), "--patient", PATIENT, "--category", "labs",
                      "--account", "4")["record"]  # fmt: skip

    plain = home / "read.txt"
    code, out, err = run(env, "record", "read", record, "--out", str(plain), "--account", "4",
                         "--confirmations", "2", "--wait", "0")  # fmt: skip
    assert code == NOT_CONFIRMED_EXIT, out + err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert err.startswith("error: the access-log entry is not confirmed yet: 0 of 2 confirmations, retry with --log-tx 0x")
    assert not any(secret in out + err for secret in SECRETS)
    log_tx = err.strip().rsplit(" ", 1)[-1]
    assert not plain.exists()

    code, out, err = run(env, "record", "read", record, "--out", str(plain), "--account", "4", "--confirmations", "2",
                         "--wait", "0", "--log-tx", log_tx, "--json")  # fmt: skip
    assert code == NOT_CONFIRMED_EXIT
    answer = json.loads(out)
    assert answer["status"] == "not_confirmed" and answer["log_tx"] == log_tx
    assert (answer["confirmations"], answer["required"]) == (0, 2)  # presenting it again logs nothing
    mine(env, 2)
    read = run_json(env, "record", "read", record, "--out", str(plain), "--account", "4", "--confirmations", "2",
                    "--log-tx", log_tx)  # fmt: skip
    assert read["tx_hash"] == log_tx and read["basis"] == "grant"
    assert plain.read_bytes() == LAB_REPORT
    assert_user_error(*run(env, "record", "read", record, "--out", str(plain), "--account", "4", "--log-tx", log_tx),
                      "already used")  # fmt: skip
    assert_user_error(*run(env, "record", "read", record, "--out", str(plain), "--account", "4",
                           "--log-tx", "0x" + "22" * 32), "was not found")  # fmt: skip

    # on the node of `medledger node start` the default is 0: served at once
    assert run_json(env, "record", "read", record, "--out", str(plain), "--account", "4")["bytes_written"] == len(LAB_REPORT)


def test_record_read_mistakes_are_one_line(deployed):
    env = deployed
    code, _, err = run(env, "record", "read", "0x" + "11" * 32, "--out", "/tmp/x", "--confirmations", "soon")
    assert code == 2 and "number of blocks" in err and "Traceback" not in err  # click's usage error
