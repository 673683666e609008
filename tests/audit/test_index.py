"""The audit index: every event once, resumable, reorg-safe, and the questions it answers."""

from __future__ import annotations

import json
import signal
import sqlite3
import time

import pytest
from eth_utils import keccak

from medledger import chain as chainmod
from medledger.audit import AuditIndex, export
from medledger.audit.store import Store
from medledger.client import MedLedger
from medledger.deploy import Deployment, deploy_suite
from medledger.errors import ChainError, ConfigurationError, InvalidInput
from medledger.types import RecordCategory
from tests.helpers import register, until

LABS = RecordCategory.LABS
RECORD = keccak(text="audit test record")


def canonical_logs(w3, deployment: Deployment) -> list[tuple[int, int, bytes]]:
    """(block, log index, block hash) of every log of the deployment, straight from the node."""
    first = min(c.block for c in deployment.contracts.values())
    logs = w3.eth.get_logs(
        {"fromBlock": first, "toBlock": "latest", "address": [c.address for c in deployment.contracts.values()]}
    )
    return [(int(log["blockNumber"]), int(log["logIndex"]), bytes(log["blockHash"])) for log in logs]


def indexed_logs(path) -> list[tuple[int, int, bytes]]:
    with sqlite3.connect(path) as db:
        return [
            (n, i, bytes(h))
            for n, i, h in db.execute("SELECT block_number, log_index, block_hash FROM events ORDER BY 1, 2")
        ]


def activity(ml, actors, patient: str, world) -> None:
    """A patient's records read under a grant, then under break-glass; a licence suspended."""
    ml.patient.records.anchor(patient, LABS, RECORD, "vault://audit-test")
    ml.patient.consent.grant(patient, actors.doctor.address, [LABS], valid_until=until(world))
    ml.doctor.access.log_read(RECORD)
    ml.patient.consent.revoke(patient, actors.doctor.address)
    ml.doctor.access.open_break_glass(patient, reason_code=7, duration=600)
    ml.doctor.access.log_read(RECORD)
    licence = ml.outsider.credentials.credential_id(actors.doctor.address, "licence")
    ml.authority.credentials.suspend(licence, reason_code=3)
    ml.authority.credentials.reinstate(licence)


# ─── On every chain: completeness and the queries ────────────────────────────────────────────


def test_sync_indexes_every_event_of_the_deployment_once(world, ml, actors, patient, tmp_path):
    activity(ml, actors, patient, world)
    path = tmp_path / "audit.sqlite"
    with AuditIndex(path, w3=world.chain.w3, deployment=world.deployment, batch_size=7) as index:
        report = index.sync()
        assert report.events_added == index.count() > 0
        assert index.sync().events_added == 0  # nothing new: nothing added, nothing doubled
    assert indexed_logs(path) == canonical_logs(world.chain.w3, world.deployment)


def test_the_patient_access_history_flags_break_glass(world, ml, actors, patient, tmp_path):
    activity(ml, actors, patient, world)
    with AuditIndex(tmp_path / "a.sqlite", w3=world.chain.w3, deployment=world.deployment) as index:
        index.sync()
        history = index.access_history(patient)
        assert [e.event for e in history] == [
            "AccessGranted", "RecordAccessed", "AccessRevoked", "BreakGlassOpened", "RecordAccessed",
        ]  # fmt: skip
        assert [e.break_glass for e in history] == [False, False, False, True, True]
        assert history[1].args["basis"] == "grant" and history[4].args["basis"] == "break_glass"
        assert {e.args["patient"] for e in history} == {patient}
        assert history[3].args["reasonCode"] == 7
        assert all(e.time is not None and e.time > 0 for e in history)
        # Another patient's history is empty; the regulator's view lists the session and the read.
        assert index.access_history(world.people.patient2.address) == []
        regulator_view = index.break_glass()
        assert [(e.event, e.args["practitioner" if "practitioner" in e.args else "reader"]) for e in regulator_view] == [
            ("BreakGlassOpened", actors.doctor.address), ("RecordAccessed", actors.doctor.address),
        ]  # fmt: skip
        after = history[-1].time
        assert index.break_glass(since=after + 1) == []
        assert index.break_glass(until=history[3].time - 1) == []


def test_the_credential_history_of_a_practitioner(world, ml, actors, patient, tmp_path):
    activity(ml, actors, patient, world)
    with AuditIndex(tmp_path / "a.sqlite", w3=world.chain.w3, deployment=world.deployment) as index:
        index.sync()
        history = index.credential_history(actors.doctor.address)
        assert [e.event for e in history] == ["CredentialIssued", "CredentialSuspended", "CredentialReinstated"]
        assert history[0].args["kind"] == "licence" and history[0].args["subject"] == actors.doctor.address
        assert history[1].args["reasonCode"] == 3
        assert index.credential_history(actors.outsider.address) == []


def test_the_credential_history_shows_a_regulators_hold_lifted_and_a_reassignment(world, ml, actors, tmp_path):
    licence = ml.outsider.credentials.credential_id(actors.doctor.address, "licence")
    ml.regulator.credentials.revoke(licence, 4)
    ml.regulator.credentials.lift_regulator_hold(licence)
    ml.regulator.credentials.reassign_issuer(licence, actors.authority2.address)
    with AuditIndex(tmp_path / "a.sqlite", w3=world.chain.w3, deployment=world.deployment) as index:
        index.sync()
        history = index.credential_history(actors.doctor.address)
        assert [e.event for e in history] == [
            "CredentialIssued", "CredentialRevoked", "RegulatorHoldLifted", "CredentialIssuerReassigned",
        ]  # fmt: skip
        assert history[2].args == {"id": "0x" + licence.hex(), "by": actors.regulator.address}
        assert (history[3].args["previousIssuer"], history[3].args["newIssuer"]) == (
            actors.authority.address, actors.authority2.address)  # fmt: skip


def test_exports_hold_the_same_events_as_the_query(world, ml, actors, patient, tmp_path):
    activity(ml, actors, patient, world)
    with AuditIndex(tmp_path / "a.sqlite", w3=world.chain.w3, deployment=world.deployment) as index:
        index.sync()
        history = index.access_history(patient)
    as_json = json.loads(export(history, "json"))
    assert [row["event"] for row in as_json] == [e.event for e in history]
    assert as_json[3]["break_glass"] is True and as_json[3]["args"]["patient"] == patient
    lines = export(history, "csv").splitlines()
    assert lines[0] == "block,log_index,time,tx_hash,contract,event,break_glass,args"
    assert len(lines) == len(history) + 1 and ",BreakGlassOpened,true," in lines[4]
    with pytest.raises(InvalidInput, match="xml"):
        export(history, "xml")  # type: ignore[arg-type]


# ─── Arguments and files ─────────────────────────────────────────────────────────────────────


def test_queries_name_what_is_wrong(world, tmp_path):
    with AuditIndex(tmp_path / "a.sqlite", w3=world.chain.w3, deployment=world.deployment) as index:
        with pytest.raises(InvalidInput, match="no event named 'Nope'"):
            index.events("Nope")
        with pytest.raises(InvalidInput, match="'purpose' is not an indexed argument of AccessGranted"):
            index.events("AccessGranted", where={"purpose": 1})
        with pytest.raises(InvalidInput, match="not an Ethereum address"):
            index.access_history("0x1234")
        with pytest.raises(InvalidInput, match="needs the event name"):
            index.events(where={"patient": world.people.patient.address})
        with pytest.raises(InvalidInput, match="limit"):
            index.events("AccessGranted", limit=0)


def test_an_index_belongs_to_one_deployment(world, base_suite, tmp_path):
    path = tmp_path / "a.sqlite"
    AuditIndex(path, w3=world.chain.w3, deployment=world.deployment).close()
    with pytest.raises(ConfigurationError, match="indexes another deployment"):
        AuditIndex(path, w3=world.chain.w3, deployment=base_suite.deployment)
    with pytest.raises(ConfigurationError, match="no audit index at .*new.sqlite"):
        AuditIndex(tmp_path / "new.sqlite")
    assert not (tmp_path / "new.sqlite").exists()
    Store(tmp_path / "empty.sqlite").close()
    with pytest.raises(ConfigurationError, match="empty audit index"):
        AuditIndex(tmp_path / "empty.sqlite")
    offline = AuditIndex(path)  # queries need no chain
    assert offline.contracts == {n: c.address for n, c in world.deployment.contracts.items()}
    with pytest.raises(ConfigurationError, match="without a chain"):
        offline.sync()
    offline.close()
    (tmp_path / "junk.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(ConfigurationError, match="not a medledger audit index"):
        Store(tmp_path / "junk.sqlite")


@pytest.mark.parametrize(("option", "value"), [("batch_size", 0), ("confirmations", -1)])
def test_sync_options_are_checked(world, tmp_path, option, value):
    with pytest.raises(ConfigurationError, match=option.replace("_", " ")):
        AuditIndex(tmp_path / "a.sqlite", w3=world.chain.w3, deployment=world.deployment, **{option: value})


def test_confirmations_hold_back_the_newest_blocks(world, ml, actors, patient, tmp_path):
    activity(ml, actors, patient, world)
    w3 = world.chain.w3
    with AuditIndex(tmp_path / "a.sqlite", w3=w3, deployment=world.deployment, confirmations=3) as index:
        report = index.sync()
        head = w3.eth.block_number
        assert index.cursor == report.to_block == head - 3
        expected = [log for log in canonical_logs(w3, world.deployment) if log[0] <= head - 3]
        assert [(e.block, e.log_index) for e in index.events()] == [(n, i) for n, i, _ in expected]


def test_a_sync_stopped_mid_way_resumes_without_loss_or_double(world, ml, actors, patient, tmp_path):
    activity(ml, actors, patient, world)
    path = tmp_path / "a.sqlite"
    steps = []

    def interrupt(last: int, target: int, events: int) -> None:
        steps.append(last)
        if len(steps) == 3:
            raise KeyboardInterrupt

    with AuditIndex(path, w3=world.chain.w3, deployment=world.deployment, batch_size=2) as index:
        with pytest.raises(KeyboardInterrupt):
            index.sync(progress=interrupt)
        assert index.cursor == steps[-1]  # the interrupted step's events are in: it had committed
        index.sync()
    assert indexed_logs(path) == canonical_logs(world.chain.w3, world.deployment)


# ─── On anvil: real reorgs and a node that dies ──────────────────────────────────────────────


@pytest.fixture
def anvil_world(tmp_path):
    """A fresh anvil with its state in a file, the suite, a licensed doctor and a registered patient."""
    from tests.conftest import own_anvil

    state = tmp_path / "anvil-state.json"
    with own_anvil(state) as suite:
        register(suite.ledger(suite.people.patient), 1)
        yield suite, state


def grants(suite, count: int, start: int = 0) -> None:
    """``count`` grant/revoke events for the patient, with distinct terms."""
    ledger = suite.ledger(suite.people.patient)
    patient = suite.people.patient.address
    for n in range(start, start + count):
        ledger.consent.grant(patient, suite.actors.doctor.address, [LABS], valid_until=until(suite, 30 + n))


@pytest.mark.nodes
def test_a_reorg_is_found_rolled_back_and_indexed_again(anvil_world, tmp_path):
    suite, _ = anvil_world
    w3 = suite.chain.w3
    path = tmp_path / "a.sqlite"
    grants(suite, 3)
    fork_point = w3.eth.block_number
    snapshot = suite.chain.snapshot()
    grants(suite, 4, start=10)
    with AuditIndex(path, w3=w3, deployment=suite.deployment, batch_size=3) as index:
        index.sync()
        stale = indexed_logs(path)
        # The chain forks at fork_point: the last four grants vanish, five others take their place.
        suite.chain.revert(snapshot)
        grants(suite, 5, start=20)
        report = index.sync()
        assert len(report.reorgs) == 1
        assert report.reorgs[0].fork_block == fork_point
        assert report.reorgs[0].dropped_events == 4
        fresh = indexed_logs(path)
        assert fresh == canonical_logs(w3, suite.deployment)
        assert not set(stale[-4:]) & set(fresh)  # none of the abandoned fork's events remain
        assert len(index.events("AccessGranted", where={"patient": suite.people.patient.address})) == 3 + 5


@pytest.mark.nodes
def test_a_chain_that_got_shorter_loses_its_dropped_blocks(anvil_world, tmp_path):
    suite, _ = anvil_world
    w3 = suite.chain.w3
    snapshot = suite.chain.snapshot()
    grants(suite, 3)
    with AuditIndex(tmp_path / "a.sqlite", w3=w3, deployment=suite.deployment) as index:
        index.sync()
        suite.chain.revert(snapshot)
        report = index.sync()
        assert report.reorgs and report.reorgs[0].dropped_events == 3
        assert index.cursor == w3.eth.block_number
    assert indexed_logs(tmp_path / "a.sqlite") == canonical_logs(w3, suite.deployment)


@pytest.mark.nodes
def test_anvil_reorg_replaces_the_last_blocks(anvil_world, tmp_path):
    suite, _ = anvil_world
    w3 = suite.chain.w3
    grants(suite, 4)
    path = tmp_path / "a.sqlite"
    with AuditIndex(path, w3=w3, deployment=suite.deployment) as index:
        index.sync()
        before = indexed_logs(path)
        answer = w3.provider.make_request("anvil_reorg", [2, []])
        assert "error" not in answer, answer
        report = index.sync()
        assert report.reorgs and report.reorgs[0].fork_block == w3.eth.block_number - 2
        after = indexed_logs(path)
    assert after == canonical_logs(w3, suite.deployment)
    assert len(after) == len(before) - 2  # the two replaced blocks held one grant each


def settled_state(state, head: int, into):
    """A copy of anvil's state file once it holds block ``head``. Anvil rewrites the file every
    second, and not atomically, so a node killed at any moment may leave it cut short."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            text = state.read_text()
            best = json.loads(text)["best_block_number"]
            if (int(best, 0) if isinstance(best, str) else int(best)) >= head:
                into.write_text(text)
                return into
        except (OSError, ValueError, KeyError):
            pass  # not written yet, or caught mid-write
        time.sleep(0.1)
    raise AssertionError(f"anvil did not save block {head} to {state} within 30 s")


@pytest.mark.nodes
def test_a_node_killed_mid_sync_and_restarted_loses_and_doubles_nothing(anvil_world, tmp_path):
    suite, state = anvil_world
    grants(suite, 12)
    w3 = suite.chain.w3
    saved = settled_state(state, w3.eth.block_number, tmp_path / "saved-state.json")
    node = suite.chain.node
    path = tmp_path / "a.sqlite"
    steps = []

    def kill_the_node(last: int, target: int, events: int) -> None:
        steps.append(last)
        if len(steps) == 2:
            node.process.send_signal(signal.SIGKILL)
            node.process.wait()

    with AuditIndex(path, w3=w3, deployment=suite.deployment, batch_size=4) as index:
        with pytest.raises(ChainError):
            index.sync(progress=kill_the_node)
        assert index.cursor == steps[-1]
    restarted = chainmod.start_node("anvil", state_file=saved, port=node.port)
    try:
        with AuditIndex(path, w3=w3, deployment=suite.deployment, batch_size=4) as index:
            report = index.sync()
            assert report.from_block == steps[-1] + 1 and not report.reorgs
        assert indexed_logs(path) == canonical_logs(w3, suite.deployment)
    finally:
        restarted.stop()
