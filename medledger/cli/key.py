"""``medledger key publish|show``: the encryption key records are wrapped to."""

from __future__ import annotations

import click

from medledger.cli.common import Session, chain_options, receipt_fields
from medledger.cli.context import key_file
from medledger.cli.output import emit


@click.group()
def key() -> None:
    """Publish and look up encryption public keys (any account: patient, practitioner, institution)."""


@key.command()
@click.option("--public-key", default=None,
              help="A compressed or uncompressed secp256k1 public key as hex; by default medledger makes "
              "a key pair and keeps the private half in $MEDLEDGER_HOME/keys (mode 0600).")  # fmt: skip
@chain_options
@click.pass_context
def publish(ctx: click.Context, session: Session, public_key: str | None) -> None:
    """Publish the acting account's encryption public key."""
    signer = session.require_signer()
    keys = key_file(signer.address)
    published = public_key or keys.encryption_public_key(create=True)
    receipt = session.ledger().patients.publish_encryption_key(published)
    fields = {"account": signer.address, "encryption_key": session.ledger().patients.encryption_key(signer.address)}
    if public_key is None:
        fields["private_key_file"] = str(keys.path)
    emit(ctx, {**fields, **receipt_fields(receipt)}, title="encryption key published")


@key.command()
@click.argument("account")
@chain_options
@click.pass_context
def show(ctx: click.Context, session: Session, account: str) -> None:
    """Show ACCOUNT's published encryption key."""
    found = session.ledger().patients.encryption_key(account)
    emit(ctx, {"account": account, "encryption_key": found or "none published"}, title="encryption key")
