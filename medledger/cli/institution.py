"""``medledger institution accredit|suspend|reinstate|show``."""

from __future__ import annotations

import click

from medledger.cli.common import Session, chain_options, receipt_fields, show_time
from medledger.cli.output import emit
from medledger.types import InstitutionKind

KINDS = [k.name.lower() for k in InstitutionKind]


@click.group()
def institution() -> None:
    """Accredit, suspend and look up consortium institutions."""


@institution.command()
@click.argument("address")
@click.option("--kind", type=click.Choice(KINDS), required=True, help="What the institution is.")
@click.option("--profile-hash", default="0x" + "00" * 32, help="Hash of its public registry profile.")
@chain_options
@click.pass_context
def accredit(ctx: click.Context, session: Session, address: str, kind: str, profile_hash: str) -> None:
    """Accredit ADDRESS as an institution of --kind (consortium admin)."""
    receipt = session.ledger().consortium.accredit(address, kind, profile_hash)
    emit(ctx, {"institution": address, "kind": kind, **receipt_fields(receipt)}, title="accredited")


@institution.command()
@click.argument("address")
@click.option("--reason", type=click.IntRange(0, 65535), default=0, help="Reason code of the rulebook.")
@chain_options
@click.pass_context
def suspend(ctx: click.Context, session: Session, address: str, reason: int) -> None:
    """Suspend ADDRESS (consortium admin or regulator)."""
    receipt = session.ledger().consortium.suspend(address, reason)
    emit(ctx, {"institution": address, "reason": reason, **receipt_fields(receipt)}, title="suspended")


@institution.command()
@click.argument("address")
@chain_options
@click.pass_context
def reinstate(ctx: click.Context, session: Session, address: str) -> None:
    """Lift the suspension of ADDRESS (consortium admin or regulator)."""
    receipt = session.ledger().consortium.reinstate(address)
    emit(ctx, {"institution": address, **receipt_fields(receipt)}, title="reinstated")


@institution.command()
@click.argument("address")
@chain_options
@click.pass_context
def show(ctx: click.Context, session: Session, address: str) -> None:
    """Show the membership record of ADDRESS."""
    record = session.ledger().consortium.institution(address)
    emit(
        ctx,
        {
            "institution": record.address,
            "status": record.status,
            "kind": "-" if record.kind is None else record.kind,
            "accredited_at": show_time(record.accredited_at),
            "profile_hash": record.profile_hash,
        },
        title="institution",
    )
