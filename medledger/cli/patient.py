"""``medledger patient register|show|rotate|delegate|link-mrn|sign-mrn-consent|accept-mrn|resolve-mrn|unlink-mrn``.

Identity attributes and MRNs are read, hashed with a salt and forgotten: only commitments reach the
chain, and no command prints an attribute, an MRN or a private key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from medledger.cli.common import Session, chain_options, end_time, read_signed, receipt_fields, show_time
from medledger.cli.context import key_file
from medledger.cli.output import emit
from medledger.client.base import bytes32
from medledger.errors import InvalidInput
from medledger.identity import identity_commitment, mrn_commitment, new_salt
from medledger.keyfile import IDENTITY_SALT

HEX32 = "32 bytes as 0x-hex"
F = TypeVar("F", bound=Callable[..., Any])


@click.group()
def patient() -> None:
    """Patient identity: registration, delegates, institutions' patient numbers (MRN)."""


def _identity(path: Path) -> dict[str, str]:
    try:
        attributes = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"cannot read identity file {path}: {exc}") from None
    if not isinstance(attributes, dict):
        raise InvalidInput(f"identity file {path} must hold a JSON object of attributes")
    return attributes


@patient.command()
@click.option("--identity", "identity_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="JSON object of identity attributes (name, birth_date, national_id, ...). "
              "They are hashed with a fresh salt; only the hash goes on chain.")  # fmt: skip
@click.option("--commitment", default=None, help=f"Or: an identity commitment computed elsewhere ({HEX32}).")
@click.option("--public-key", default=None,
              help="Encryption public key (hex); by default a key pair is made and kept in $MEDLEDGER_HOME/keys.")  # fmt: skip
@chain_options
@click.pass_context
def register(
    ctx: click.Context, session: Session, identity_path: Path | None, commitment: str | None, public_key: str | None
) -> None:
    """Register the acting account as a patient."""
    if (identity_path is None) == (commitment is None):
        raise click.UsageError("give exactly one of --identity and --commitment")
    signer = session.require_signer()
    keys = key_file(signer.address)
    fields: dict[str, object] = {"patient": signer.address}
    if identity_path is not None:
        salt = new_salt()
        value: bytes | str = identity_commitment(_identity(identity_path), salt)
        keys.set(IDENTITY_SALT, salt)
        fields["salt_kept_in"] = str(keys.path)
    else:
        value = str(commitment)
    published = public_key or keys.encryption_public_key(create=True)
    ledger = session.ledger()
    receipt = ledger.patients.register(value, published)
    record = ledger.patients.get(signer.address)
    fields |= {"identity_commitment": record.identity_commitment, "encryption_key": record.encryption_key}
    emit(ctx, {**fields, **receipt_fields(receipt)}, title="patient registered")


@patient.command()
@click.argument("address")
@chain_options
@click.pass_context
def show(ctx: click.Context, session: Session, address: str) -> None:
    """Show ADDRESS's registration."""
    record = session.ledger().patients.get(address)
    emit(
        ctx,
        {"patient": record.address, "registered": record.registered,
         "identity_commitment": record.identity_commitment, "encryption_key": record.encryption_key or "none"},  # fmt: skip
        title="patient",
    )


@patient.command()
@click.option("--identity", "identity_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="JSON object of identity attributes; hashed with a fresh salt.")  # fmt: skip
@chain_options
@click.pass_context
def rotate(ctx: click.Context, session: Session, identity_path: Path) -> None:
    """Replace the acting patient's identity commitment (new attributes or a new salt)."""
    signer = session.require_signer()
    salt = new_salt()
    value = identity_commitment(_identity(identity_path), salt)
    receipt = session.ledger().patients.rotate_identity_commitment(value)
    key_file(signer.address).set(IDENTITY_SALT, salt)
    emit(ctx, {"patient": signer.address, "identity_commitment": value, **receipt_fields(receipt)},
         title="identity commitment rotated")  # fmt: skip


@patient.command()
@click.argument("delegate")
@click.option("--until", default=None, help="End of the delegation: YYYY-MM-DD, ISO date-time or unix seconds.")
@click.option("--days", type=click.IntRange(1, 36500), default=None, help="Or: for this many days.")
@click.option("--remove", is_flag=True, help="Remove DELEGATE instead.")
@chain_options
@click.pass_context
def delegate(
    ctx: click.Context, session: Session, delegate: str, until: str | None, days: int | None, remove: bool
) -> None:
    """Name DELEGATE (guardian, family) to act for the acting patient in consent calls, or --remove it."""
    ledger = session.ledger()
    patient_address = session.require_signer().address
    if remove:
        if until is not None or days is not None:
            raise click.UsageError("--remove takes no --until or --days")
        receipt = ledger.patients.remove_delegate(delegate)
        emit(ctx, {"patient": patient_address, "delegate": delegate, "removed": True, **receipt_fields(receipt)},
             title="delegate removed")  # fmt: skip
        return
    end = end_time(session.chain.now(), until, days, "--until")
    receipt = ledger.patients.appoint_delegate(delegate, end)
    emit(ctx, {"patient": patient_address, "delegate": delegate, "valid_until": show_time(end),
               **receipt_fields(receipt)}, title="delegate appointed")  # fmt: skip


def _mrn_commitment(session: Session, institution: str | None, mrn: str | None, salt: str | None,
                    commitment: str | None) -> tuple[bytes | str, bytes | None]:  # fmt: skip
    """The MRN commitment given, or computed from the MRN and salt (a fresh salt if none)."""
    if commitment is not None:
        if mrn is not None or salt is not None:
            raise click.UsageError("give either --commitment or --mrn (with --salt), not both")
        return commitment, None
    if mrn is None:
        raise click.UsageError("give --mrn (and --salt) or --commitment")
    salt_bytes = bytes32(salt, "--salt") if salt else new_salt()
    owner = institution or session.require_signer().address
    return mrn_commitment(owner, mrn, salt_bytes), salt_bytes


MRN_OPTIONS = [
    click.option("--mrn", default=None, help="The institution's patient number; hashed, never sent or printed."),
    click.option("--salt", default=None, help=f"Salt of the MRN commitment ({HEX32}); a fresh one if omitted."),
    click.option("--commitment", default=None, help=f"Or: the MRN commitment itself ({HEX32})."),
]


def mrn_options(function: F) -> F:
    for option in reversed(MRN_OPTIONS):
        function = option(function)
    return function


@patient.command(name="link-mrn")
@click.option("--patient", "patient_address", required=True, help="The patient's wallet address.")
@mrn_options
@click.option("--consent", "consent_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="The patient's signed consent (from `patient sign-mrn-consent`): links "
              "at once. Without it the link is proposed under a salted patient commitment (the chain "
              "does not see the wallet) and waits for `patient accept-mrn`.")  # fmt: skip
@chain_options
@click.pass_context
def link_mrn(
    ctx: click.Context, session: Session, patient_address: str, mrn: str | None, salt: str | None,
    commitment: str | None, consent_path: Path | None,
) -> None:  # fmt: skip
    """Link the acting institution's MRN for a patient (with the patient's consent), or propose it.

    A proposal prints a `proposal_salt`: hand it to the patient with the MRN commitment, off chain
    (it is what lets the patient accept, and what would let anyone else tell the patient visited)."""
    ledger = session.ledger()
    fields: dict[str, object]
    if consent_path is not None:
        signed = read_signed(consent_path)
        value: bytes | str = signed.message["mrnCommitment"]
        if mrn is not None or commitment is not None:
            given, _ = _mrn_commitment(session, None, mrn, salt, commitment)
            if bytes32(given, "MRN commitment") != bytes32(value, "MRN commitment"):
                raise InvalidInput("the consent was signed for another MRN commitment than the one given")
        receipt = ledger.patients.link_mrn_with_consent(signed)
        used_salt = None
        link = ledger.patients.mrn_link(session.require_signer().address, value)
        fields = {"mrn_commitment": link.commitment, "patient": link.patient, "status": link.status}
    else:
        value, used_salt = _mrn_commitment(session, None, mrn, salt, commitment)
        proposal = ledger.patients.propose_mrn_link(patient_address, value)
        receipt = proposal.receipt
        link = ledger.patients.mrn_link(proposal.institution, value)
        fields = {"mrn_commitment": proposal.mrn_commitment, "patient": proposal.patient, "status": link.status,
                  "patient_commitment": proposal.patient_commitment, "proposal_salt": proposal.salt}  # fmt: skip
    if used_salt is not None and salt is None:
        fields["salt"] = used_salt  # the institution must keep it with the MRN to resolve it later
    emit(ctx, {**fields, **receipt_fields(receipt)}, title="MRN link")


@patient.command(name="sign-mrn-consent")
@click.option("--institution", required=True, help="The institution allowed to link its MRN.")
@click.option("--commitment", required=True, help=f"The MRN commitment the institution showed ({HEX32}).")
@click.option("--patient", "patient_address", default=None, help="The patient, when a delegate signs.")
@click.option("--valid-for", type=click.IntRange(60, 30 * 86400), default=3600, show_default=True,
              help="Seconds the signature stays usable.")  # fmt: skip
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the signed consent (JSON) for the institution.")  # fmt: skip
@chain_options
@click.pass_context
def sign_mrn_consent(
    ctx: click.Context, session: Session, institution: str, commitment: str, patient_address: str | None,
    valid_for: int, out: Path,
) -> None:  # fmt: skip
    """Sign (EIP-712, no transaction) the consent for an institution to link its MRN."""
    signed = session.ledger().patients.sign_mrn_consent(
        institution, commitment, patient=patient_address, deadline=session.chain.now() + valid_for
    )
    out.write_text(signed.to_json())
    emit(ctx, {"signer": signed.signer, "patient": signed.message["patient"], "institution": institution,
               "deadline": show_time(int(signed.message["deadline"])), "written_to": str(out)},
         title="MRN consent signed")  # fmt: skip


@patient.command(name="accept-mrn")
@click.argument("commitment")
@click.option("--institution", required=True, help="The institution that proposed the link.")
@click.option("--proposal-salt", required=True, help=f"The proposal salt the institution handed over ({HEX32}).")
@click.option("--patient", "patient_address", default=None, help="The patient, when a delegate accepts.")
@chain_options
@click.pass_context
def accept_mrn(
    ctx: click.Context, session: Session, commitment: str, institution: str, proposal_salt: str,
    patient_address: str | None,
) -> None:  # fmt: skip
    """Accept an institution's proposed MRN link (the patient or a delegate): this transaction is
    the first on chain to name the patient's wallet beside the institution."""
    ledger = session.ledger()
    receipt = ledger.patients.accept_mrn_link(institution, commitment, proposal_salt, patient=patient_address)
    link = ledger.patients.mrn_link(institution, commitment)
    emit(ctx, {"mrn_commitment": link.commitment, "patient": link.patient, "institution": link.institution,
               "status": link.status, **receipt_fields(receipt)}, title="MRN link accepted")  # fmt: skip


@patient.command(name="resolve-mrn")
@click.option("--institution", required=True, help="The institution whose MRN it is.")
@mrn_options
@chain_options
@click.pass_context
def resolve_mrn(
    ctx: click.Context, session: Session, institution: str, mrn: str | None, salt: str | None, commitment: str | None
) -> None:
    """Find the patient wallet behind an institution's MRN (needs the MRN and its salt)."""
    if mrn is not None and salt is None:
        raise click.UsageError("resolving needs the --salt the MRN was linked with")
    value, _ = _mrn_commitment(session, institution, mrn, salt, commitment)
    found = session.ledger().patients.resolve_mrn(institution, value)
    emit(ctx, {"mrn_commitment": value, "patient": found or "not linked"}, title="MRN")


@patient.command(name="unlink-mrn")
@click.argument("commitment")
@click.option("--institution", default=None, help="Whose MRN it is (default: the acting account, an institution).")
@chain_options
@click.pass_context
def unlink_mrn(ctx: click.Context, session: Session, commitment: str, institution: str | None) -> None:
    """Remove an MRN link (the patient, a delegate, or the institution) or withdraw a proposal (the institution)."""
    owner = institution or session.require_signer().address
    receipt = session.ledger().patients.unlink_mrn(owner, commitment)
    emit(ctx, {"mrn_commitment": commitment, "unlinked": True, **receipt_fields(receipt)}, title="MRN unlinked")
