"""Find a Solidity compiler, compile the suite, write artifacts.

Every compilation goes through :func:`solcx.compile_standard` with every source given as
content, so a native ``solc`` and the npm ``solc`` (solcjs, through ``solc_bridge.js``) see the
same input and produce byte-identical output. Nothing here downloads a compiler.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from medledger.errors import ToolchainError

SOLC_VERSION = "0.8.28"
# Shanghai: the newest fork that ganache 7.9.2, anvil and eth-tester all execute. Cancun targets
# make solc emit MCOPY on its own, which ganache rejects.
EVM_VERSION = "shanghai"
OPTIMIZER_RUNS = 10_000

PACKAGE_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = PACKAGE_DIR / "artifacts"
BRIDGE_SCRIPT = PACKAGE_DIR / "solc_bridge.js"

# An import directive starts a line or follows another top-level item (`;` or `}`).
_IMPORT_RE = re.compile(r"""(?:^|[;}])\s*import\s+(?:[^;]*?\s+from\s+)?["']([^"']+)["']\s*;""", re.MULTILINE)
_VERSION_RE = re.compile(r"Version:\s*(\d+\.\d+\.\d+)")


@dataclass(frozen=True)
class Compiler:
    """A compiler that answers ``--standard-json`` like solc, and where it was found."""

    path: Path
    source: str  # "explicit", "env", "solcx", "path" or "solcjs"


def project_root(start: Path | None = None) -> Path:
    """The folder holding ``contracts/``: the working directory or one of its parents, else the
    checkout this package lives in."""
    candidates = []
    here = (start or Path.cwd()).resolve()
    candidates.extend([here, *here.parents])
    candidates.extend([PACKAGE_DIR.parent, *PACKAGE_DIR.parent.parents])
    for folder in candidates:
        if (folder / "contracts").is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    raise ToolchainError(
        "cannot find the medledger project folder (one with contracts/ and pyproject.toml); "
        "run this from inside a medledger checkout"
    )


@lru_cache(maxsize=16)
def _binary_version(path: str) -> str | None:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=60, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION_RE.search(out)
    return match.group(1) if match else None


def solcjs_shim(root: Path) -> Path:
    """A ``solc``-like executable for the pinned npm solcjs of ``root``'s node_modules.

    It is a two-line shell script next to node_modules, naming the absolute paths of the bridge
    and of the solc package, so it works from any working directory (py-solc-x and brownie call
    it as a binary).
    """
    solc_package = root / "node_modules" / "solc"
    if not (solc_package / "package.json").is_file():
        raise ToolchainError(
            f"no npm solc in {root / 'node_modules'}: run `npm ci` (or `make setup`) in {root}"
        )
    installed = json.loads((solc_package / "package.json").read_text())["version"]
    if installed != SOLC_VERSION:
        raise ToolchainError(
            f"node_modules/solc is {installed}, medledger pins {SOLC_VERSION}: run `npm ci`"
        )
    node = shutil.which("node")
    if node is None:
        raise ToolchainError("node is not on PATH; solcjs needs Node.js 18 or newer")
    shim_dir = root / "node_modules" / ".cache" / "medledger"
    shim = shim_dir / f"solc-v{SOLC_VERSION}"
    body = (
        "#!/bin/sh\n"
        f"MEDLEDGER_SOLCJS='{solc_package}' exec '{node}' '{BRIDGE_SCRIPT}' \"$@\"\n"
    )
    if not shim.is_file() or shim.read_text() != body:
        shim_dir.mkdir(parents=True, exist_ok=True)
        shim.write_text(body)
        shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return shim


def find_compiler(explicit: str | os.PathLike[str] | None = None, root: Path | None = None) -> Compiler:
    """Find a compiler of the pinned version, in DESIGN.md's order: an explicit path, then
    ``$MEDLEDGER_SOLC``, a py-solc-x installed binary, a ``solc`` on PATH, the npm solcjs."""
    for given, source in ((explicit, "explicit"), (os.environ.get("MEDLEDGER_SOLC"), "env")):
        if given:
            path = Path(given)
            version = _binary_version(str(path))
            if version != SOLC_VERSION:
                raise ToolchainError(
                    f"{path} is not solc {SOLC_VERSION} (it reports {version or 'no version'})"
                )
            return Compiler(path, source)

    from solcx.install import get_executable  # imported late: it reads ~/.solcx at import time

    try:
        installed = get_executable(SOLC_VERSION)
    except Exception:  # solcx raises SolcNotInstalled, or OSError for a missing home
        installed = None
    if installed is not None and _binary_version(str(installed)) == SOLC_VERSION:
        return Compiler(Path(installed), "solcx")

    on_path = shutil.which("solc")
    if on_path and _binary_version(on_path) == SOLC_VERSION:
        return Compiler(Path(on_path), "path")

    return Compiler(solcjs_shim(root or project_root()), "solcjs")


#: Package imports and where they live. Written exactly as brownie-config.yaml writes them: the
#: remapping and the source unit names it yields end up in the metadata hash at the end of the
#: bytecode, so `medledger compile` and `brownie compile` agree byte for byte.
REMAPPINGS = {"@openzeppelin": "node_modules/@openzeppelin"}


def _resolve_import(importer: str, target: str) -> str:
    for prefix, folder in REMAPPINGS.items():
        if target.startswith(prefix + "/"):
            return folder + target[len(prefix):]
    if target.startswith("."):
        parts = importer.split("/")[:-1]
        for piece in target.split("/"):
            if piece == "..":
                if not parts:
                    raise ToolchainError(f"{importer}: import {target!r} leaves the source tree")
                parts.pop()
            elif piece != ".":
                parts.append(piece)
        return "/".join(parts)
    return target


def _source_file(root: Path, unit: str) -> Path:
    return root / unit


def collect_sources(root: Path) -> dict[str, str]:
    """Every source unit the suite needs, by source unit name, with its content: our own
    ``contracts/**.sol`` and what they import from node_modules, transitively."""
    contracts_dir = root / "contracts"
    pending = sorted(p.relative_to(root).as_posix() for p in contracts_dir.rglob("*.sol"))
    if not pending:
        raise ToolchainError(f"no Solidity sources under {contracts_dir}")
    sources: dict[str, str] = {}
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        path = _source_file(root, unit)
        if not path.is_file():
            raise ToolchainError(
                f"cannot find source {unit!r} (looked at {path}); is node_modules installed?"
            )
        text = path.read_text(encoding="utf-8")
        sources[unit] = text
        for target in _IMPORT_RE.findall(text):
            pending.append(_resolve_import(unit, target))
    return dict(sorted(sources.items()))


def standard_input(sources: dict[str, str]) -> dict[str, Any]:
    """The ``--standard-json`` input for the suite: pinned EVM version and optimizer settings."""
    return {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sources.items()},
        "settings": {
            "evmVersion": EVM_VERSION,
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "remappings": [f"{prefix}={folder}" for prefix, folder in REMAPPINGS.items()],
            "outputSelection": {
                "*": {
                    "*": [
                        "abi",
                        "evm.bytecode.object",
                        "evm.deployedBytecode.object",
                        "evm.deployedBytecode.immutableReferences",
                        "metadata",
                    ]
                }
            },
        },
    }


def compile_suite(root: Path | None = None, compiler: Compiler | None = None) -> dict[str, dict[str, Any]]:
    """Compile the suite; return one artifact per deployable contract in ``contracts/*.sol``."""
    import solcx
    from solcx.exceptions import SolcError

    root = root or project_root()
    compiler = compiler or find_compiler(root=root)
    sources = collect_sources(root)
    try:
        output = solcx.compile_standard(
            standard_input(sources), solc_binary=compiler.path, allow_paths=str(root)
        )
    except SolcError as exc:
        raise ToolchainError(f"compilation failed:\n{exc.message}") from None
    except (OSError, subprocess.SubprocessError, json.JSONDecodeError) as exc:
        raise ToolchainError(f"could not run the compiler {compiler.path}: {exc}") from None

    artifacts: dict[str, dict[str, Any]] = {}
    for unit, contracts in output.get("contracts", {}).items():
        if "/" in unit.removeprefix("contracts/"):
            continue  # interfaces/ and types/ hold no deployable code
        for name, compiled in contracts.items():
            bytecode = compiled["evm"]["bytecode"]["object"]
            if not bytecode:
                continue  # abstract contract or interface
            artifacts[name] = {
                "contractName": name,
                "sourceName": unit,
                "abi": compiled["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
                "immutableReferences": compiled["evm"]["deployedBytecode"].get(
                    "immutableReferences", {}
                ),
                "metadata": compiled["metadata"],
                "compiler": {
                    "version": SOLC_VERSION,
                    "evmVersion": EVM_VERSION,
                    "optimizerRuns": OPTIMIZER_RUNS,
                },
            }
    return dict(sorted(artifacts.items()))


def render_artifact(artifact: dict[str, Any]) -> str:
    """The exact text written for an artifact: stable key order, one trailing newline."""
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


def write_artifacts(artifacts: dict[str, dict[str, Any]], folder: Path = ARTIFACTS_DIR) -> list[Path]:
    """Write each artifact as ``<folder>/<Name>.json``; drop stale ones of contracts that are gone."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, artifact in artifacts.items():
        path = folder / f"{name}.json"
        path.write_text(render_artifact(artifact))
        written.append(path)
    for stale in folder.glob("*.json"):
        if stale.stem not in artifacts:
            stale.unlink()
    return written


def load_artifact(name: str, folder: Path = ARTIFACTS_DIR) -> dict[str, Any]:
    """The committed artifact of contract ``name``."""
    path = folder / f"{name}.json"
    if not path.is_file():
        raise ToolchainError(f"no artifact for {name} in {folder}; run `medledger compile`")
    artifact: dict[str, Any] = json.loads(path.read_text())
    return artifact


def mask_immutables(code: bytes, artifact: dict[str, Any]) -> bytes:
    """``code`` with the bytes of every immutable variable zeroed, as in the artifact, so runtime
    code read from a chain can be compared with the compiled ``deployedBytecode``."""
    masked = bytearray(code)
    for references in artifact.get("immutableReferences", {}).values():
        for ref in references:
            start, length = int(ref["start"]), int(ref["length"])
            masked[start : start + length] = bytes(length)
    return bytes(masked)


def artifact_hash(artifact: dict[str, Any]) -> str:
    """sha256 of the compiled runtime bytecode (immutables zeroed), recorded in manifests."""
    code = bytes.fromhex(artifact["deployedBytecode"][2:])
    return "sha256:" + hashlib.sha256(code).hexdigest()
