"""The offline toolchain: compiler discovery, the solcjs bridge, reproducible artifacts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from medledger import toolchain as tc
from medledger.errors import ToolchainError

ROOT = tc.project_root()


@pytest.fixture(scope="module")
def compiled() -> dict[str, dict]:
    return tc.compile_suite(ROOT)


def test_committed_artifacts_are_byte_identical_to_a_fresh_compile(compiled):
    committed = {p.stem for p in tc.ARTIFACTS_DIR.glob("*.json")}
    assert committed == set(compiled)
    for name, artifact in compiled.items():
        assert (tc.ARTIFACTS_DIR / f"{name}.json").read_text() == tc.render_artifact(artifact), name


def _opcodes(code: bytes):
    """Opcodes of runtime code, skipping PUSH data; stops at the CBOR metadata."""
    metadata_length = int.from_bytes(code[-2:], "big") + 2
    body = code[:-metadata_length]
    i = 0
    while i < len(body):
        op = body[i]
        yield op
        i += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)


@pytest.mark.parametrize("name", ["ConsortiumRegistry", "CredentialRegistry"])
def test_bytecode_uses_no_opcode_newer_than_shanghai(name):
    code = bytes.fromhex(tc.load_artifact(name)["deployedBytecode"][2:])
    cancun_only = {0x5C: "TLOAD", 0x5D: "TSTORE", 0x5E: "MCOPY", 0x49: "BLOBHASH", 0x4A: "BLOBBASEFEE"}
    used = {cancun_only[op] for op in _opcodes(code) if op in cancun_only}
    assert used == set()
    assert tc.load_artifact(name)["compiler"]["evmVersion"] == "shanghai"


def test_sources_include_openzeppelin_imports_transitively():
    sources = tc.collect_sources(ROOT)
    assert "contracts/ConsortiumRegistry.sol" in sources
    assert "node_modules/@openzeppelin/contracts/access/AccessControl.sol" in sources
    assert "node_modules/@openzeppelin/contracts/utils/Context.sol" in sources  # imported only by OZ itself


def test_bridge_answers_version_like_native_solc():
    shim = tc.solcjs_shim(ROOT)
    out = subprocess.run([str(shim), "--version"], capture_output=True, text=True, check=True).stdout
    assert f"Version: {tc.SOLC_VERSION}+commit." in out


def test_bridge_rejects_an_unknown_option_with_a_clear_message():
    shim = tc.solcjs_shim(ROOT)
    done = subprocess.run([str(shim), "--combined-json", "abi"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "unsupported option --combined-json" in done.stderr


def test_bridge_resolves_openzeppelin_imports_from_node_modules(tmp_path):
    source = 'pragma solidity ^0.8.24; import {Context} from "@openzeppelin/contracts/utils/Context.sol"; contract A is Context {}'
    request = {"language": "Solidity", "sources": {"A.sol": {"content": source}},
               "settings": {"outputSelection": {"*": {"*": ["abi"]}}}}  # fmt: skip
    done = subprocess.run(
        [str(tc.solcjs_shim(ROOT)), "--standard-json", "--base-path", str(tmp_path),
         "--include-path", str(ROOT / "node_modules")],
        input=json.dumps(request), capture_output=True, text=True, check=True,
    )  # fmt: skip
    output = json.loads(done.stdout)
    assert [e for e in output.get("errors", []) if e["severity"] == "error"] == []
    assert "A" in output["contracts"]["A.sol"]


def test_compiler_order_prefers_an_explicit_path(monkeypatch):
    shim = tc.solcjs_shim(ROOT)
    assert tc.find_compiler(shim).source == "explicit"
    monkeypatch.setenv("MEDLEDGER_SOLC", str(shim))
    assert tc.find_compiler(root=ROOT).source == "env"
    monkeypatch.delenv("MEDLEDGER_SOLC")
    assert tc.find_compiler(root=ROOT).source in {"solcx", "path", "solcjs"}


def test_an_explicit_compiler_of_another_version_is_refused(tmp_path):
    fake = tmp_path / "solc"
    fake.write_text("#!/bin/sh\necho 'Version: 0.8.19+commit.7dd6d404.Linux.g++'\n")
    fake.chmod(0o755)
    with pytest.raises(ToolchainError, match="is not solc 0.8.28"):
        tc.find_compiler(fake)


def _scratch_project(tmp_path: Path, source: str) -> Path:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    (tmp_path / "contracts" / "Broken.sol").write_text(source)
    return tmp_path


def test_a_compile_error_names_the_problem(tmp_path):
    root = _scratch_project(tmp_path, "pragma solidity ^0.8.24; contract Broken { function f() { x = 1; } }")
    with pytest.raises(ToolchainError, match="compilation failed"):
        tc.compile_suite(root, tc.find_compiler(root=ROOT))


def test_a_missing_import_names_the_file(tmp_path):
    root = _scratch_project(tmp_path, 'pragma solidity ^0.8.24; import "./Nope.sol"; contract Broken {}')
    with pytest.raises(ToolchainError, match="contracts/Nope.sol"):
        tc.collect_sources(root)
