"""The ``medledger`` command line. Commands are thin: parse, call the library, render.

A user mistake ends in one line on stderr and a non-zero exit, never a traceback
(set MEDLEDGER_DEBUG=1 to see one for an unexpected failure).
"""

from __future__ import annotations

import os
from typing import Any

import click

from medledger.cli.access import access
from medledger.cli.audit import audit
from medledger.cli.consent import consent
from medledger.cli.consortium import consortium
from medledger.cli.credential import credential
from medledger.cli.dispensing import rx, serials, unit
from medledger.cli.institution import institution
from medledger.cli.key import key
from medledger.cli.medicine import batch, product
from medledger.cli.node import node
from medledger.cli.patient import patient
from medledger.cli.record import record
from medledger.cli.toolchain import compile_command, deploy
from medledger.cli.web import relay, web
from medledger.errors import MedLedgerError

#: Exit status for a failure the user can fix (bad argument, wrong role, node down, ...).
USER_ERROR_EXIT = 1
#: Exit status for a failure that is a bug in medledger.
INTERNAL_ERROR_EXIT = 70


class MedLedgerGroup(click.Group):
    """Turns every medledger error into one line and an exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MedLedgerError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(USER_ERROR_EXIT)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
            if os.environ.get("MEDLEDGER_DEBUG"):
                raise
            click.echo(
                f"internal error: {type(exc).__name__}: {exc} "
                "(this is a medledger bug; rerun with MEDLEDGER_DEBUG=1 for details)",
                err=True,
            )
            ctx.exit(INTERNAL_ERROR_EXIT)


@click.group(cls=MedLedgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="medledger")
def cli() -> None:
    """medledger: consortium, credentials, patients, consent, records and their access log, on an Ethereum chain."""


cli.add_command(compile_command)
cli.add_command(deploy)
cli.add_command(node)
cli.add_command(consortium)
cli.add_command(institution)
cli.add_command(credential)
cli.add_command(key)
cli.add_command(patient)
cli.add_command(consent)
cli.add_command(record)
cli.add_command(access)
cli.add_command(product)
cli.add_command(batch)
cli.add_command(serials)
cli.add_command(unit)
cli.add_command(rx)
cli.add_command(audit)
cli.add_command(web)
cli.add_command(relay)


def main() -> None:
    cli(prog_name="medledger")


if __name__ == "__main__":
    main()
