"""``medledger consortium show|add-regulator|add-authority|remove-authority``."""

from __future__ import annotations

import click

from medledger.cli.common import Session, chain_options, receipt_fields
from medledger.cli.output import emit


@click.group()
def consortium() -> None:
    """The consortium's admin, regulators and licensing authorities."""


@consortium.command()
@click.option("--check", "address", default=None, help="Also say which roles ADDRESS holds.")
@chain_options
@click.pass_context
def show(ctx: click.Context, session: Session, address: str | None) -> None:
    """Show the deployment and the consortium admin."""
    ledger = session.ledger()
    pending = ledger.consortium.pending_admin()
    data = {
        "chain_id": ledger.deployment.chain_id,
        **{name: entry.address for name, entry in ledger.deployment.contracts.items()},
        "admin": ledger.consortium.admin(),
        "pending_admin": pending.new_admin or "-",
    }
    if address:
        data["regulator"] = ledger.consortium.is_regulator(address)
        data["licensing_authority"] = ledger.consortium.is_licensing_authority(address)
    emit(ctx, data, title="consortium")


def _role_command(name: str, method: str, help_text: str) -> None:
    @consortium.command(name=name, help=help_text)
    @click.argument("address")
    @chain_options
    @click.pass_context
    def command(ctx: click.Context, session: Session, address: str) -> None:
        receipt = getattr(session.ledger().consortium, method)(address)
        emit(ctx, {"account": address, "change": name, **receipt_fields(receipt)}, title=name)


_role_command("add-regulator", "add_regulator", "Name ADDRESS a regulator (consortium admin).")
_role_command("remove-regulator", "remove_regulator", "Remove regulator ADDRESS (consortium admin).")
_role_command("add-authority", "add_licensing_authority",
              "Name ADDRESS a licensing authority (consortium admin).")  # fmt: skip
_role_command("remove-authority", "remove_licensing_authority",
              "Remove licensing authority ADDRESS; its credentials stop passing (consortium admin).")  # fmt: skip
