"""``medledger record anchor|amend|verify|read|versions``: encrypted records in a vault, anchored on chain.

The vault here is a local folder (``--vault``, default ``$MEDLEDGER_HOME/vault``) that plays both
the store and its custodian service; its custodian key lives in the folder, readable by its owner
only. Record contents are never printed: ``read`` writes the plaintext to a file.

The vault serves a logged read only once it is confirmed (``--confirmations``; 0 on the node of
``medledger node start`` or an anvil/Ganache node on a dev chain id, 12 blocks or the node's
finalized block elsewhere: :func:`medledger.chain.is_dev_chain`).
``read`` waits up to ``--wait`` seconds for that, then ends with one line and exit status 75 that
names the logged transaction; ``read --log-tx TX`` presents that read again without logging another.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from medledger.cli.common import Session, chain_options, receipt_fields, show_time
from medledger.cli.context import home, key_file
from medledger.cli.output import emit, wants_json
from medledger.errors import ConfigurationError, InvalidInput
from medledger.keyfile import KeyFile
from medledger.client import MedLedger
from medledger.types import RecordCategory, RecordStatus
from medledger.vault import Confirmations, ReadNotConfirmed, ReadRequest, Sealed, Vault, open_delivery, parse_confirmations

F = TypeVar("F", bound=Callable[..., Any])
CATEGORIES = [c.name.lower().replace("_", "-") for c in RecordCategory]
#: Exit status of `record verify` when the file is not the current version of an anchored record.
NOT_CURRENT_EXIT = 3
#: Exit status of `record read` when the logged read is not confirmed yet (EX_TEMPFAIL: retry).
NOT_CONFIRMED_EXIT = 75
#: How long `record read` waits for its logged read to be confirmed, by default.
DEFAULT_WAIT = 300


def vault_option(function: F) -> F:
    return click.option("--vault", "vault_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="The vault folder (default: $MEDLEDGER_HOME/vault).")(function)  # fmt: skip


def open_vault(folder: Path | None, confirmations: Confirmations | None = None) -> Vault:
    root = folder or home() / "vault"
    custodian = KeyFile(root / "custodian.json").encryption_key(create=True)
    return Vault(root, custodian_key=custodian, confirmations=confirmations)


def confirmations_option(function: F) -> F:
    def parse(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Confirmations | None:
        try:
            return None if value is None else parse_confirmations(value)
        except ConfigurationError as exc:
            raise click.BadParameter(str(exc)) from None

    return click.option(
        "--confirmations", default=None, callback=parse, metavar="N|finalized",
        help="Blocks mined on top of the logged read before the vault serves it, or `finalized` "
        "(default: 0 on the node of `medledger node start` or an anvil/Ganache node, else 12, or sooner "
        "once the node's finalized block covers it).",
    )(function)  # fmt: skip


@click.group()
def record() -> None:
    """Encrypt records into the vault and anchor them; verify files; read with a logged access."""


def _seal(ledger: MedLedger, author: str, file: Path, patient: str, category: str | RecordCategory,
          share_with: tuple[str, ...], vault_dir: Path | None) -> Sealed:  # fmt: skip
    """Encrypt FILE into the vault, its key wrapped for the author, the patient and ``share_with``."""
    recipients: dict[str, bytes] = {author: key_file(author).encryption_public_key(create=True)}
    for address in (patient, *share_with):
        if address in recipients:
            continue
        published = ledger.patients.encryption_key(address)
        if not published:
            raise InvalidInput(f"{address} has published no encryption key (`medledger key publish`)")
        recipients[address] = published
    return open_vault(vault_dir).seal(file.read_bytes(), patient, category, recipients)


@record.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--patient", "patient_address", required=True, help="Whose record it is.")
@click.option("--category", type=click.Choice(CATEGORIES), required=True)
@click.option("--share", "share_with", multiple=True,
              help="Also wrap the key for this address's published encryption key (repeatable).")  # fmt: skip
@click.option("--supersedes", default=None,
              help="The record id this version replaces (only its author, or the institution it was anchored for).")  # fmt: skip
@click.option("--for", "acting_for", default=None,
              help="The institution you write this record for (it must employ you); it may then supersede it.")  # fmt: skip
@vault_option
@chain_options
@click.pass_context
def anchor(
    ctx: click.Context, session: Session, file: Path, patient_address: str, category: str, share_with: tuple[str, ...],
    supersedes: str | None, acting_for: str | None, vault_dir: Path | None,
) -> None:  # fmt: skip
    """Encrypt FILE into the vault for the patient, the author and --share readers, and anchor its hash."""
    ledger = session.ledger()
    author = str(session.require_signer().address)
    sealed = _seal(ledger, author, file, patient_address, category, share_with, vault_dir)
    receipt = ledger.records.anchor(
        patient_address, category, sealed.record, sealed.uri, supersedes=supersedes, acting_for=acting_for
    )
    emit(ctx, {"record": sealed.record, "patient": patient_address, "category": category, "uri": sealed.uri,
               **({"acting_for": acting_for} if acting_for else {}),
               "keys_wrapped_for": ", ".join(sealed.recipients), **receipt_fields(receipt)},
         title="record anchored")  # fmt: skip


@record.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--original", required=True, help="The record id this amendment is about (another author's record).")
@click.option("--share", "share_with", multiple=True,
              help="Also wrap the key for this address's published encryption key (repeatable), e.g. the record's author.")  # fmt: skip
@vault_option
@chain_options
@click.pass_context
def amend(
    ctx: click.Context, session: Session, file: Path, original: str, share_with: tuple[str, ...],
    vault_dir: Path | None,
) -> None:  # fmt: skip
    """The acting patient's amendment of a record (a correction or a statement of disagreement):
    FILE is encrypted into the vault and anchored as an amendment; the original stays current."""
    ledger = session.ledger()
    patient_address = str(session.require_signer().address)
    amended = ledger.records.require(original)
    sealed = _seal(ledger, patient_address, file, patient_address, amended.category, share_with, vault_dir)
    receipt = ledger.records.amend(amended.id, sealed.record, sealed.uri)
    emit(ctx, {"record": sealed.record, "amends": amended.id, "patient": patient_address,
               "category": amended.category, "uri": sealed.uri, "keys_wrapped_for": ", ".join(sealed.recipients),
               **receipt_fields(receipt)}, title="amendment anchored")  # fmt: skip


@record.command()
@click.argument("file_or_id")
@chain_options
@click.pass_context
def verify(ctx: click.Context, session: Session, file_or_id: str) -> None:
    """Is a ciphertext FILE (or record id) the current anchored version? Exit 0 if so, 3 if not.

    A record the patient amended is still current (exit 0); `amended_by_patient` names the latest amendment."""
    ledger = session.ledger()
    path = Path(file_or_id)
    if path.is_file():
        digest, status = ledger.records.verify_file(path)
    else:
        status = ledger.records.verify(file_or_id)
        digest = ledger.records.get(file_or_id).id
    fields: dict[str, object] = {"record": digest, "status": status}
    if status is not RecordStatus.UNKNOWN:
        stored = ledger.records.get(digest)
        fields |= {"patient": stored.patient, "author": stored.author, "kind": stored.kind,
                   "category": stored.category, "anchored": show_time(stored.anchored_at),
                   "amended_by_patient": stored.latest_amendment or "-"}  # fmt: skip
    emit(ctx, fields, title="record check")
    if status is not RecordStatus.CURRENT:
        ctx.exit(NOT_CURRENT_EXIT)


@record.command()
@click.argument("record_id")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the decrypted record (mode 0600).")  # fmt: skip
@confirmations_option
@click.option("--wait", type=click.IntRange(0), default=DEFAULT_WAIT, show_default=True,
              help="Seconds to wait for the logged read to be confirmed.")  # fmt: skip
@click.option("--log-tx", default=None, help="Present the read that this transaction logged (from an "
              "earlier `record read` that was not confirmed yet) instead of logging another.")  # fmt: skip
@vault_option
@chain_options
@click.pass_context
def read(
    ctx: click.Context, session: Session, record_id: str, out: Path, confirmations: Confirmations | None, wait: int,
    log_tx: str | None, vault_dir: Path | None,
) -> None:  # fmt: skip
    """Log the read on chain, fetch the ciphertext from the vault against that entry once it is
    confirmed, decrypt it. Exit 75 if it is not confirmed within --wait seconds (retry with --log-tx)."""
    ledger = session.ledger()
    reader = session.require_signer()
    stored = ledger.records.require(record_id)
    vault = open_vault(vault_dir, confirmations)
    logged = ledger.access.log_read(stored.id) if log_tx is None else ledger.access.logged_read(log_tx, stored.id)
    request = ReadRequest.sign(reader, stored.id, logged.receipt.tx_hash, ledger.transactor.chain_id, vault.id)
    told: list[ReadNotConfirmed] = []

    def waiting(not_yet: ReadNotConfirmed) -> None:
        if not told:
            click.echo(f"waiting up to {wait} s for the logged read to be confirmed: {not_yet.progress}", err=True)
        told.append(not_yet)

    try:
        delivery = vault.serve_when_confirmed(request, ledger, timeout=wait, waiting=waiting)
    except ReadNotConfirmed as not_yet:
        if wants_json(ctx):
            emit(ctx, {"status": "not_confirmed", "record": stored.id, "log_tx": logged.receipt.tx_hash,
                       "block": not_yet.block, "confirmations": not_yet.confirmations,
                       "required": not_yet.required})  # fmt: skip
        click.echo(f"error: {not_yet} with --log-tx {logged.receipt.tx_hash}", err=True)
        ctx.exit(NOT_CONFIRMED_EXIT)
    plaintext = open_delivery(delivery, key_file(reader.address).encryption_key(), stored.patient, stored.category)
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(plaintext)
    emit(ctx, {"record": stored.id, "patient": stored.patient, "category": stored.category, "basis": logged.basis,
               "purpose": logged.purpose, "bytes_written": len(plaintext), "written_to": str(out),
               **receipt_fields(logged.receipt)}, title="record read (logged)")  # fmt: skip


@record.command()
@click.argument("record_id")
@chain_options
@click.pass_context
def versions(ctx: click.Context, session: Session, record_id: str) -> None:
    """The version chain through RECORD_ID, oldest first, then the patient's amendments of its versions."""
    records = session.ledger().records
    chain = records.chain_of(record_id)
    ids = {v.id for v in chain}
    amendments = [v for v in records.versions_of(chain[0].patient) if v.amends in ids]
    emit(ctx, [{"record": v.id, "kind": v.kind, "author": v.author, "category": v.category, "block": v.block_number,
                "supersedes": v.supersedes or "-", "amends": v.amends or "-"} for v in chain + amendments],
         title="versions")  # fmt: skip
