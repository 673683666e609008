"""The scripts the README names run to completion: the demo story checks every step itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"medledger_script_{name}", SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_demo_tells_the_whole_story_without_a_failed_step(capsys):
    assert load("demo").main(["--chain", "embedded"]) == 0
    out = capsys.readouterr().out
    assert "demo complete" in out and "BREAK-GLASS" in out and "✘" not in out


@pytest.mark.nodes
@pytest.mark.parametrize("node", ["anvil", "ganache"])
def test_the_demo_runs_on_a_local_node(capsys, node):
    assert load("demo").main(["--chain", node]) == 0
    out = capsys.readouterr().out
    assert "demo complete" in out and f"on the {node} chain" in out and "✘" not in out
