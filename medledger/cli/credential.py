"""``medledger credential issue|suspend|reinstate|revoke|lift-hold|reassign|verify|show``."""

from __future__ import annotations

from pathlib import Path

import click

from medledger.cli.common import (
    Session,
    chain_options,
    end_time,
    lifecycle_command,
    parse_time,
    receipt_fields,
    show_time,
)
from medledger.cli.common import document_hash as hash_of_document
from medledger.cli.output import emit
from medledger.client.credentials import Credential, credential_id
from medledger.errors import CredentialNotFound
from medledger.types import CredentialKind, CredentialValidity

KINDS = [k.name.lower() for k in CredentialKind]
#: Exit status of `credential verify` when the check ran but the credential does not pass.
NOT_VALID_EXIT = 3


@click.group()
def credential() -> None:
    """Issue, suspend, revoke and verify practitioner and institution credentials."""


@credential.command()
@click.argument("subject")
@click.option("--kind", type=click.Choice(KINDS), required=True)
@click.option("--scope", type=click.IntRange(0, 2**64 - 1), default=0, show_default=True,
              help="Code in the authority's code system (e.g. a specialty); 0 = general.")  # fmt: skip
@click.option("--valid-from", "valid_from", default="now", show_default=True,
              help="YYYY-MM-DD, ISO date-time, `now` or unix seconds.")  # fmt: skip
@click.option("--valid-until", "valid_until", default=None, help="End of validity (exclusive).")
@click.option("--days", type=click.IntRange(1, 36500), default=None, help="Or: valid for this many days.")
@click.option("--document", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The licence document; its sha256 is recorded.")  # fmt: skip
@click.option("--document-hash", default=None, help="Or: the 32-byte document hash as 0x-hex.")
@chain_options
@click.pass_context
def issue(
    ctx: click.Context,
    session: Session,
    subject: str,
    kind: str,
    scope: int,
    valid_from: str,
    valid_until: str | None,
    days: int | None,
    document: Path | None,
    document_hash: str | None,
) -> None:
    """Issue a credential of --kind to SUBJECT (licensing authority)."""
    start = session.chain.now() if valid_from == "now" else parse_time(valid_from)
    end = end_time(start, valid_until, days)
    digest = hash_of_document(document, document_hash)
    issued = session.ledger().credentials.issue(
        subject, kind, scope=scope, valid_from=start, valid_until=end, document_hash=digest
    )
    emit(
        ctx,
        {"credential_id": issued.id, "subject": subject, "kind": kind, "scope": scope,
         "valid_from": show_time(start), "valid_until": show_time(end),
         **receipt_fields(issued.receipt)},  # fmt: skip
        title="credential issued",
    )


def _lifecycle(name: str, method: str, with_reason: bool, help_text: str) -> None:
    lifecycle_command(
        credential, name, help_text, argument="credential_id", with_reason=with_reason,
        reason_help="Reason code of the authority's rulebook.",
        act=lambda ledger, key, reason: getattr(ledger.credentials, method)(
            key, *(() if reason is None else (reason,))),
        show=lambda ledger, key: {"credential_id": key, "status": ledger.credentials.get(key).status},
        title=f"credential {name}",
    )  # fmt: skip


_lifecycle("suspend", "suspend", True,
           "Suspend CREDENTIAL_ID (its issuer or a regulator; a regulator's suspension is a hold).")
_lifecycle("reinstate", "reinstate", False,
           "Lift a suspension, back to active (its issuer or a regulator; only a regulator ends a hold).")
_lifecycle("revoke", "revoke", True,
           "Revoke CREDENTIAL_ID for good (its issuer or a regulator; a regulator's revocation is a hold).")
_lifecycle("lift-hold", "lift_regulator_hold", False,
           "End a regulator's hold on CREDENTIAL_ID (regulator): a held suspension becomes the issuer's, "
           "a held revocation a plain one that a new issuance may replace.")  # fmt: skip


@credential.command()
@click.argument("credential_id")
@click.argument("new_issuer")
@chain_options
@click.pass_context
def reassign(ctx: click.Context, session: Session, credential_id: str, new_issuer: str) -> None:
    """Hand CREDENTIAL_ID to licensing authority NEW_ISSUER (regulator); its status stays."""
    ledger = session.ledger()
    previous = ledger.credentials.get(credential_id).issuer
    receipt = ledger.credentials.reassign_issuer(credential_id, new_issuer)
    record = ledger.credentials.get(credential_id)
    emit(
        ctx,
        {"credential_id": record.id, "previous_issuer": previous, "issuer": record.issuer,
         "status": record.status, **receipt_fields(receipt)},  # fmt: skip
        title="credential reassigned",
    )


@credential.command()
@click.argument("subject")
@click.option("--kind", type=click.Choice(KINDS), required=True)
@click.option("--scope", type=click.IntRange(0, 2**64 - 1), default=0, show_default=True)
@chain_options
@click.pass_context
def verify(ctx: click.Context, session: Session, subject: str, kind: str, scope: int) -> None:
    """Is SUBJECT credentialed for --kind/--scope right now? Exit 0 if valid, 3 if not."""
    ledger = session.ledger()
    result = ledger.credentials.check(subject, kind, scope)
    emit(
        ctx,
        {"subject": subject, "kind": kind, "scope": scope, "valid": result is CredentialValidity.VALID,
         "result": result, "credential_id": credential_id(subject, kind, scope)},  # fmt: skip
        title="credential check",
    )
    if result is not CredentialValidity.VALID:
        ctx.exit(NOT_VALID_EXIT)


@credential.command()
@click.argument("credential_id")
@chain_options
@click.pass_context
def show(ctx: click.Context, session: Session, credential_id: str) -> None:
    """Show the stored credential CREDENTIAL_ID."""
    record = session.ledger().credentials.get(credential_id)
    if not record.exists:
        raise CredentialNotFound({"id": record.id}, message=f"no credential {credential_id} was ever issued")
    emit(ctx, _credential_fields(record), title="credential")


def _credential_fields(record: Credential) -> dict[str, object]:
    return {
        "credential_id": record.id,
        "kind": record.kind,
        "status": record.status,
        "issuer": record.issuer,
        "valid_from": show_time(record.valid_from),
        "valid_until": show_time(record.valid_until),
        "document_hash": record.document_hash,
    }
