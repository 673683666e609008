"""The slither gate (scripts/slither_check.py) fails on a new high finding and passes a triaged one.

Slither itself is not run here (`make slither` does): the script is fed slither-shaped JSON.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("slither_check", ROOT / "scripts" / "slither_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


check = load_script()


def contract(name: str, lines: list[int]) -> dict[str, Any]:
    return {"type": "contract", "name": name,
            "source_mapping": {"filename_relative": f"contracts/{name}.sol", "lines": lines}}  # fmt: skip


def function(name: str, in_contract: str, lines: list[int]) -> dict[str, Any]:
    return {"type": "function", "name": name, "source_mapping": {"filename_relative": f"contracts/{in_contract}.sol",
            "lines": lines}, "type_specific_fields": {"parent": contract(in_contract, [1, 200])}}  # fmt: skip


def reentrancy(lines: list[int]) -> dict[str, Any]:
    """A slither result like the real one for PrescriptionRegistry.fill, at ``lines``."""
    fill = function("fill", "PrescriptionRegistry", lines)
    written = {"type": "node", "name": "stored.fills = fillNumber", "source_mapping": {"lines": [lines[0] + 3]},
               "type_specific_fields": {"parent": fill},
               "additional_fields": {"underlying_type": "variables_written", "variable_name": "_prescriptions"}}  # fmt: skip
    return {"check": "reentrancy-no-eth", "impact": "Medium", "confidence": "Medium",
            "description": f"Reentrancy in PrescriptionRegistry.fill (#{lines[0]})\n...", "elements": [fill, written]}  # fmt: skip


def arbitrary_send(lines: list[int]) -> dict[str, Any]:
    """A fabricated high finding: nothing like it is triaged."""
    return {"check": "arbitrary-send-eth", "impact": "High", "confidence": "Medium",
            "description": "BatchRegistry.sweep(address) sends eth to an arbitrary user\n",
            "elements": [function("sweep", "BatchRegistry", lines)]}  # fmt: skip


def output(*results: dict[str, Any]) -> dict[str, Any]:
    return {"success": True, "error": None, "results": {"detectors": list(results)}}


@pytest.fixture
def triage(tmp_path: Path) -> Path:
    path = tmp_path / "slither-triage.json"
    accepted = check.entry_for(check.findings(output(reentrancy([98, 117])))[0], "the callee is our own registry")
    path.write_text(json.dumps({"about": "test", "accepted": [accepted]}))
    return path


def gate(tmp_path: Path, triage: Path, slither_output: dict[str, Any], *extra: str) -> int:
    saved = tmp_path / "slither.json"
    saved.write_text(json.dumps(slither_output))
    return int(check.main(["--from-json", str(saved), "--triage", str(triage), *extra]))


def test_a_triaged_finding_passes_even_after_its_lines_moved(tmp_path, triage, capsys):
    assert gate(tmp_path, triage, output(reentrancy([98, 117]))) == 0
    assert gate(tmp_path, triage, output(reentrancy([140, 161]))) == 0  # code added above it
    assert "all triaged" in capsys.readouterr().out


def test_a_new_high_finding_fails(tmp_path, triage, capsys):
    assert gate(tmp_path, triage, output(reentrancy([98, 117]), arbitrary_send([30, 34]))) == 1
    captured = capsys.readouterr()
    assert "NEW High arbitrary-send-eth BatchRegistry.sweep" in captured.out and "FAILED" in captured.err


def test_the_same_check_on_another_variable_is_new(tmp_path, triage):
    other = reentrancy([98, 117])
    other["elements"][1]["additional_fields"]["variable_name"] = "_refills"
    assert gate(tmp_path, triage, output(other)) == 1


def test_add_new_writes_a_todo_entry_that_still_fails_until_it_has_a_reason(tmp_path, triage):
    both = output(reentrancy([98, 117]), arbitrary_send([30, 34]))
    assert gate(tmp_path, triage, both, "--add-new") == 1
    entries = json.loads(triage.read_text())["accepted"]
    added = next(e for e in entries if e["check"] == "arbitrary-send-eth")
    assert (added["contract"], added["function"], added["reason"][:5]) == ("BatchRegistry", "sweep", "TODO:")
    assert gate(tmp_path, triage, both) == 1  # a TODO reason is not a triage
    added["reason"] = "sweep sends only to the consortium admin"
    triage.write_text(json.dumps({"about": "test", "accepted": entries}))
    assert gate(tmp_path, triage, both) == 0


def test_a_gone_finding_is_reported_not_failed(tmp_path, triage, capsys):
    assert gate(tmp_path, triage, output()) == 0
    assert "no longer reported" in capsys.readouterr().out


def test_a_failed_slither_run_fails_the_gate(tmp_path, triage):
    assert gate(tmp_path, triage, {"success": False, "error": "Invalid compilation", "results": {}}) == 2


def test_low_and_informational_results_are_not_judged(tmp_path, triage):
    low = copy.deepcopy(arbitrary_send([1, 2])) | {"impact": "Low", "check": "timestamp"}
    assert gate(tmp_path, triage, output(reentrancy([98, 117]), low)) == 0


def test_the_committed_triage_file_gives_every_finding_a_reason():
    entries = json.loads((ROOT / "slither-triage.json").read_text())["accepted"]
    assert entries, "the committed triage file lists the accepted findings"
    for entry in entries:
        assert {"check", "contract", "function", "variables", "reason"} <= set(entry)
        assert entry["reason"].strip() and not entry["reason"].startswith(check.TODO), entry
