"""Static analysis gate: slither on contracts/, failing on any high or medium finding not triaged.

    .venv/bin/python scripts/slither_check.py              # run slither (.venv-slither), compare
    .venv/bin/python scripts/slither_check.py --add-new    # also append new findings, reason "TODO: ..."
    .venv/bin/python scripts/slither_check.py --from-json saved.json   # compare a saved `--json` output

Slither runs offline with the project's own compiler (``medledger.toolchain.find_compiler``: the
npm solcjs bridge unless a native solc 0.8.28 is configured) in crytic-compile's
``--solc-standard-json`` mode, with the project's remappings. Only high and medium detectors run,
and OpenZeppelin's files (node_modules) are filtered out. Each finding is keyed by its check, the
contract and function it sits in and the variables it names; never by line, so the accepted
findings in ``slither-triage.json`` survive edits elsewhere in the contracts. A finding that is
not in the file fails the run; an entry whose finding is gone is reported, not failed.

Exit status: 0 all triaged, 1 new (or untriaged) findings, 2 slither could not run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TRIAGE_FILE = ROOT / "slither-triage.json"
SLITHER = ROOT / ".venv-slither" / "bin" / "slither"
#: The impacts this gate judges; low, informational and optimization findings are not run.
GATED = ("High", "Medium")
TODO = "TODO: "


@dataclass(frozen=True, order=True)
class Key:
    """What identifies a finding across edits: no line numbers, no expression text."""

    check: str
    contract: str
    function: str
    variables: tuple[str, ...]

    def show(self) -> str:
        where = f"{self.contract}.{self.function}" if self.function else self.contract or "(no contract)"
        return f"{self.check} {where}" + (f" [{', '.join(self.variables)}]" if self.variables else "")


@dataclass(frozen=True)
class Finding:
    key: Key
    impact: str
    confidence: str
    description: str
    location: str  # file#lines of the first element, for the reader only


def _enclosing(element: dict[str, Any]) -> tuple[str, str]:
    """The (contract, function) an element of slither's JSON sits in, walking up its parents."""
    contract = function = ""
    current: dict[str, Any] | None = element
    while current:
        kind, name = current.get("type"), str(current.get("name", ""))
        if kind == "function" and not function:
            function = name
        elif kind == "contract" and not contract:
            contract = name
        current = current.get("type_specific_fields", {}).get("parent")
    return contract, function


def findings(output: dict[str, Any]) -> list[Finding]:
    """The high and medium findings of a ``slither --json`` output."""
    if not output.get("success", False):
        raise RuntimeError(f"slither failed: {output.get('error') or 'no error given'}")
    found = []
    for result in output.get("results", {}).get("detectors", []):
        if result.get("impact") not in GATED:
            continue
        elements = result.get("elements", [])
        contract, function = _enclosing(elements[0]) if elements else ("", "")
        variables = {str(e["name"]) for e in elements if e.get("type") == "variable"}
        variables |= {str(e["additional_fields"]["variable_name"]) for e in elements
                      if e.get("additional_fields", {}).get("variable_name")}  # fmt: skip
        location = ""
        if elements:
            mapping = elements[0].get("source_mapping", {})
            lines = mapping.get("lines") or [0]
            location = f"{mapping.get('filename_relative', '?')}#{lines[0]}-{lines[-1]}"
        found.append(Finding(
            Key(str(result["check"]), contract, function, tuple(sorted(variables))),
            str(result["impact"]), str(result.get("confidence", "")),
            str(result.get("description", "")).strip().splitlines()[0] if result.get("description") else "",
            location,
        ))  # fmt: skip
    return sorted(found, key=lambda f: f.key)


def load_triage(path: Path) -> dict[Key, dict[str, Any]]:
    if not path.is_file():
        return {}
    entries = json.loads(path.read_text())["accepted"]
    return {
        Key(e["check"], e["contract"], e.get("function", ""), tuple(sorted(e.get("variables", [])))): e
        for e in entries
    }


def write_triage(path: Path, triage: dict[Key, dict[str, Any]]) -> None:
    document = json.loads(path.read_text()) if path.is_file() else {"about": "", "accepted": []}
    document["accepted"] = [triage[key] for key in sorted(triage)]
    path.write_text(json.dumps(document, indent=2) + "\n")


def entry_for(finding: Finding, reason: str) -> dict[str, Any]:
    key = finding.key
    return {"check": key.check, "impact": finding.impact, "contract": key.contract, "function": key.function,
            "variables": list(key.variables), "reason": reason}  # fmt: skip


def compare(found: list[Finding], triage: dict[Key, dict[str, Any]]) -> tuple[list[Finding], list[Finding], list[Key]]:
    """(new findings, triaged ones whose reason is missing or TODO, entries no finding matches)."""
    new = [f for f in found if f.key not in triage]
    untriaged = [f for f in found if f.key in triage
                 and (not str(triage[f.key].get("reason", "")).strip() or str(triage[f.key]["reason"]).startswith(TODO))]  # fmt: skip
    seen = {f.key for f in found}
    stale = [key for key in sorted(triage) if key not in seen]
    return new, untriaged, stale


def run_slither(slither: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from medledger.toolchain import REMAPPINGS, find_compiler

    if not slither.is_file():
        raise RuntimeError(f"no slither at {slither}: run `make slither-setup`")
    compiler = find_compiler(root=ROOT)
    command = [
        str(slither), "contracts", "--solc-standard-json", "--solc", str(compiler.path),
        "--solc-remaps", " ".join(f"{prefix}/={folder}/" for prefix, folder in REMAPPINGS.items()),
        "--filter-paths", "node_modules",
        "--exclude-informational", "--exclude-low", "--exclude-optimization",
        "--json", "-",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    try:
        output: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"slither printed no JSON (exit {done.returncode}): {done.stderr.strip()[-2000:]}") from None
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-json", type=Path, help="a saved `slither --json` output to check instead of running slither")
    parser.add_argument("--triage", type=Path, default=TRIAGE_FILE, help="the triage file (default: %(default)s)")
    parser.add_argument("--slither", type=Path, default=SLITHER, help="the slither executable (default: %(default)s)")
    parser.add_argument("--add-new", action="store_true",
                        help=f"append new findings to the triage file with reason '{TODO}...' (the run still fails)")  # fmt: skip
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        output = json.loads(args.from_json.read_text()) if args.from_json else run_slither(args.slither)
        found = findings(output)
    except (RuntimeError, OSError, json.JSONDecodeError) as exc:
        print(f"slither-check: error: {exc}", file=sys.stderr)
        return 2
    triage = load_triage(args.triage)
    new, untriaged, stale = compare(found, triage)
    for key in stale:
        print(f"slither-check: note: triaged finding no longer reported (remove it from {args.triage.name}): {key.show()}")
    for finding in new:
        print(f"slither-check: NEW {finding.impact} {finding.key.show()} at {finding.location}: {finding.description}")
    for finding in untriaged:
        print(f"slither-check: UNTRIAGED {finding.impact} {finding.key.show()}: give it a one-line reason in {args.triage.name}")
    if args.add_new and new:
        for finding in new:
            triage[finding.key] = entry_for(finding, TODO + "fix it, or say in one line why it is accepted")
        write_triage(args.triage, triage)
        print(f"slither-check: added {len(new)} entr{'y' if len(new) == 1 else 'ies'} to {args.triage}: write their reasons")
    elapsed = time.monotonic() - started
    if new or untriaged:
        print(f"slither-check: FAILED: {len(new)} new and {len(untriaged)} untriaged high/medium finding(s). Fix the "
              f"contract, or accept the finding in {args.triage.name} with a one-line reason "
              "(--add-new writes the entries for you).", file=sys.stderr)  # fmt: skip
        return 1
    print(f"slither-check: {len(found)} high/medium finding(s), all triaged ({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
