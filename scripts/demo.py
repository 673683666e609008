"""The medledger story, end to end, on the embedded chain (or --chain anvil|ganache|URL).

A consortium is set up, a licensing authority licenses a doctor, a hospital employs her, and
anyone can check the licence in one call; then the licence is suspended, reinstated, revoked, and
the authority loses its accreditation. Every step states what must happen; the demo exits
non-zero if anything else happens.

    python scripts/demo.py [--chain embedded|anvil|ganache|URL]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from medledger import chain as chainmod  # noqa: E402
from medledger.client import MedLedger  # noqa: E402
from medledger.deploy import deploy_suite  # noqa: E402
from medledger.errors import MedLedgerError, NotAuthorized  # noqa: E402
from medledger.types import CredentialValidity, InstitutionKind  # noqa: E402

console = Console()


class Story:
    """Runs steps, shows each with its outcome, and remembers whether every outcome was right."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def step(self, text: str, check: Callable[[], Any], expect: Any) -> None:
        try:
            got = check()
        except MedLedgerError as exc:
            got = type(exc)
        ok = got == expect or (isinstance(expect, type) and isinstance(got, type) and issubclass(got, expect))
        shown = got.__name__ if isinstance(got, type) else str(getattr(got, "name", got)).lower()
        mark = "[green]✔[/]" if ok else "[red]✘[/]"
        console.print(f"  {mark} {text} → [bold]{shown}[/]")
        if not ok:
            self.failures.append(f"{text}: expected {expect}, got {got}")


def chapter(title: str) -> None:
    console.print(f"\n[bold cyan]{title}[/]")


def run(target: str) -> int:
    started = time.monotonic()
    story = Story()
    console.print(Panel.fit("medledger demo: who may practise, checkable by anyone", style="bold"))
    with chainmod.connect(target) as chain:
        a = chain.accounts
        admin_acct, regulator, authority, hospital, doctor, outsider = a[0], a[1], a[2], a[3], a[4], a[5]
        chapter(f"1. The consortium deploys medledger on the {chain.kind} chain (id {chain.chain_id})")
        deployment = deploy_suite(chain, admin_acct)
        for name, entry in deployment.contracts.items():
            console.print(f"     {name:<20} {entry.address}")
        admin = MedLedger(chain.w3, deployment, admin_acct)
        as_ = admin.using

        chapter("2. The admin names a regulator and a licensing authority, and accredits a hospital")
        admin.consortium.add_regulator(regulator.address)
        admin.consortium.add_licensing_authority(authority.address)
        admin.consortium.accredit(hospital.address, InstitutionKind.HOSPITAL, b"\x11" * 32)
        story.step("the hospital is a member of kind hospital",
                   lambda: admin.consortium.is_member(hospital.address, "hospital"), True)  # fmt: skip
        story.step("an outsider tries to accredit itself",
                   lambda: as_(outsider).consortium.accredit(outsider.address, "pharmacy"), NotAuthorized)  # fmt: skip

        chapter("3. The authority licenses Dr. A (wallet only: no name on chain) for one year")
        now = chain.now()
        issued = as_(authority).credentials.issue(
            doctor.address, "licence", valid_from=now, valid_until=now + 365 * 86400,
            document_hash=b"\x42" * 32,
        )  # fmt: skip
        console.print(f"     credential {issued.id.hex()[:16]}… issued, {issued.receipt.gas_used:,} gas")
        check = lambda: admin.credentials.check(doctor.address, "licence")  # noqa: E731
        story.step("anyone checks: is Dr. A licensed today?", check, CredentialValidity.VALID)
        story.step("an outsider tries to revoke the licence",
                   lambda: as_(outsider).credentials.revoke(issued.id), NotAuthorized)  # fmt: skip

        chapter("4. The hospital employs Dr. A (offer, then acceptance)")
        as_(hospital).credentials.offer_employment(doctor.address)
        as_(doctor).credentials.accept_employment(hospital.address)
        story.step("Dr. A works at the hospital",
                   lambda: admin.credentials.is_employed_by(doctor.address, hospital.address), True)  # fmt: skip

        chapter("5. A complaint: the regulator suspends the licence, then the authority reinstates it")
        as_(regulator).credentials.suspend(issued.id, 12)
        story.step("the check while suspended", check, CredentialValidity.SUSPENDED)
        as_(authority).credentials.reinstate(issued.id)
        story.step("the check after reinstatement", check, CredentialValidity.VALID)

        chapter("6. The authority itself loses its accreditation")
        admin.consortium.remove_licensing_authority(authority.address)
        story.step("every licence it issued stops passing, with no per-licence write", check,
                   CredentialValidity.ISSUER_NOT_ACCREDITED)  # fmt: skip
        admin.consortium.add_licensing_authority(authority.address)
        story.step("accreditation restored: the licence passes again", check, CredentialValidity.VALID)

        chapter("7. The licence is revoked for good")
        as_(authority).credentials.revoke(issued.id, 31)
        story.step("the check after revocation", check, CredentialValidity.REVOKED)

    elapsed = time.monotonic() - started
    if story.failures:
        console.print(f"\n[red bold]demo failed[/] ({len(story.failures)} step(s) went wrong):")
        for failure in story.failures:
            console.print(f"  - {failure}")
        return 1
    console.print(f"\n[green bold]demo complete[/]: every step behaved as expected ({elapsed:.1f}s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the medledger demo story.")
    parser.add_argument("--chain", default="embedded", help="embedded (default), anvil, ganache or an RPC URL")
    args = parser.parse_args(argv if argv is not None else (sys.argv[1:] if __name__ == "__main__" else []))
    try:
        return run(args.chain)
    except MedLedgerError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
