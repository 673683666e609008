"""``medledger consent grant|revoke|sign|relay|cancel-signatures|refer|list|show``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from medledger import consent as messages
from medledger.cli.common import Session, chain_options, end_time, read_signed, receipt_fields, show_time
from medledger.cli.output import emit
from medledger.client.consent import Grant
from medledger.types import Purpose

F = TypeVar("F", bound=Callable[..., Any])
PURPOSES = [p.name.lower().replace("_", "-") for p in Purpose]


@click.group()
def consent() -> None:
    """Patient consent: grant, revoke (by transaction or signature), refer, list, export as FHIR."""


def grant_options(function: F) -> F:
    options = [
        click.option("--categories", default=None,
                     help="Comma-separated record categories (labs,imaging,...) or `all`. Required for a grant."),  # fmt: skip
        click.option("--write", "write_categories", default="", help="Categories the grantee may also anchor records in."),
        click.option("--purpose", type=click.Choice(PURPOSES), default="treatment", show_default=True),
        click.option("--until", default=None, help="End of the grant: YYYY-MM-DD, ISO date-time or unix seconds."),
        click.option("--days", type=click.IntRange(1, 36500), default=None, help="Or: for this many days."),
        click.option("--referral", is_flag=True, help="Allow the grantee to refer the patient on, once."),
        click.option("--patient", "patient_address", default=None,
                     help="The patient, when a delegate acts (default: the acting account)."),  # fmt: skip
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _required_categories(categories: str | None) -> str:
    if categories is None:
        raise click.UsageError("a grant needs --categories (e.g. --categories labs,imaging)")
    return categories


def _grant_fields(grant: Grant) -> dict[str, Any]:
    return {
        "patient": grant.patient,
        "grantee": grant.grantee,
        "categories": ",".join(c.name.lower() for c in grant.categories) or "-",
        "write": ",".join(c.name.lower() for c in grant.write_categories) or "-",
        "purpose": grant.purpose,
        "valid_until": show_time(grant.valid_until),
        "referral_allowed": grant.referral_allowed,
        "referred_by": grant.referred_by or "-",
    }


@consent.command()
@click.argument("grantee")
@grant_options
@chain_options
@click.pass_context
def grant(
    ctx: click.Context, session: Session, grantee: str, categories: str | None, write_categories: str, purpose: str,
    until: str | None, days: int | None, referral: bool, patient_address: str | None,
) -> None:  # fmt: skip
    """Grant GRANTEE (practitioner or institution) access to the patient's records, by transaction."""
    categories = _required_categories(categories)
    ledger = session.ledger()
    patient = patient_address or session.require_signer().address
    end = end_time(session.chain.now(), until, days, "--until")
    receipt = ledger.consent.grant(patient, grantee, categories, purpose=purpose, valid_until=end,
                                   write_categories=write_categories, referral_allowed=referral)  # fmt: skip
    emit(ctx, {**_grant_fields(ledger.consent.grant_of(patient, grantee)), **receipt_fields(receipt)},
         title="access granted")  # fmt: skip


@consent.command()
@click.argument("grantee")
@click.option("--patient", "patient_address", default=None, help="The patient, when a delegate acts.")
@chain_options
@click.pass_context
def revoke(ctx: click.Context, session: Session, grantee: str, patient_address: str | None) -> None:
    """Revoke GRANTEE's access (and any referral it made), by transaction."""
    patient = patient_address or session.require_signer().address
    receipt = session.ledger().consent.revoke(patient, grantee)
    emit(ctx, {"patient": patient, "grantee": grantee, "revoked": True, **receipt_fields(receipt)},
         title="access revoked")  # fmt: skip


@consent.command()
@click.argument("grantee")
@grant_options
@click.option("--revoke", "revoking", is_flag=True, help="Sign a revocation of GRANTEE's access instead.")
@click.option("--valid-for", type=click.IntRange(60, 30 * 86400), default=3600, show_default=True,
              help="Seconds the signature stays usable.")  # fmt: skip
@click.option("--unsigned", is_flag=True,
              help="Write the typed data for a browser wallet's eth_signTypedData_v4 instead of signing here.")  # fmt: skip
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write (JSON).")
@chain_options
@click.pass_context
def sign(
    ctx: click.Context, session: Session, grantee: str, categories: str | None, write_categories: str, purpose: str,
    until: str | None, days: int | None, referral: bool, patient_address: str | None, revoking: bool,
    valid_for: int, unsigned: bool, out: Path,
) -> None:  # fmt: skip
    """Sign a grant (or with --revoke a revocation) for anyone to relay: EIP-712, no transaction, no gas."""
    ledger = session.ledger()
    deadline = session.chain.now() + valid_for
    if revoking:
        signed = ledger.consent.sign_revoke(grantee, patient=patient_address, deadline=deadline)
    else:
        end = end_time(session.chain.now(), until, days, "--until")
        signed = ledger.consent.sign_grant(grantee, _required_categories(categories), purpose=purpose, valid_until=end,
                                           write_categories=write_categories, referral_allowed=referral,
                                           patient=patient_address, deadline=deadline)  # fmt: skip
    out.write_text(messages.to_json(signed.data) if unsigned else signed.to_json())
    emit(ctx, {"type": signed.primary_type, "patient": signed.message["patient"], "grantee": grantee,
               "signed_by": "-" if unsigned else signed.signer, "deadline": show_time(deadline),
               "written_to": str(out)}, title="typed data written" if unsigned else "consent signed")  # fmt: skip


@consent.command()
@click.argument("signed_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@chain_options
@click.pass_context
def relay(ctx: click.Context, session: Session, signed_file: Path) -> None:
    """Send a signed grant or revocation (the acting account pays the gas)."""
    signed = read_signed(signed_file)
    signed.verify()
    receipt = session.ledger().consent.relay(signed)
    emit(ctx, {"type": signed.primary_type, "patient": signed.message["patient"],
               "grantee": signed.message["grantee"], "signed_by": signed.signer, **receipt_fields(receipt)},
         title="consent relayed")  # fmt: skip


@consent.command(name="cancel-signatures")
@click.option("--patient", "patient_address", default=None, help="The patient, when a delegate acts.")
@chain_options
@click.pass_context
def cancel_signatures(ctx: click.Context, session: Session, patient_address: str | None) -> None:
    """Void every consent the patient signed and nobody used yet: grants and revocations
    (ConsentManager) and MRN-link consents (PatientRegistry). Two transactions; if only one goes
    through, the error says which signatures are void and which are not."""
    done = session.ledger().consent.cancel_signatures(patient_address)
    emit(ctx, {"patient": done.patient, "consent_manager_tx": done.consent.tx_hash,
               "patient_registry_tx": done.patients.tx_hash,
               "gas_used": done.consent.gas_used + done.patients.gas_used}, title="signatures cancelled")  # fmt: skip


@consent.command()
@click.argument("patient")
@click.argument("institution")
@click.option("--categories", required=True, help="Categories to pass on (within the acting grantee's own).")
@click.option("--write", "write_categories", default="", help="Categories the institution may write.")
@click.option("--until", default=None, help="End of the referral (no later than the acting grantee's grant).")
@click.option("--days", type=click.IntRange(1, 36500), default=None, help="Or: for this many days.")
@chain_options
@click.pass_context
def refer(
    ctx: click.Context, session: Session, patient: str, institution: str, categories: str, write_categories: str,
    until: str | None, days: int | None,
) -> None:  # fmt: skip
    """Refer PATIENT to INSTITUTION (the acting grantee, once per grant)."""
    ledger = session.ledger()
    end = end_time(session.chain.now(), until, days, "--until")
    receipt = ledger.consent.refer(patient, institution, categories, valid_until=end, write_categories=write_categories)
    emit(ctx, {**_grant_fields(ledger.consent.grant_of(patient, institution)), **receipt_fields(receipt)},
         title="patient referred")  # fmt: skip


@consent.command(name="list")
@click.argument("patient", required=False)
@chain_options
@click.pass_context
def list_grants(ctx: click.Context, session: Session, patient: str | None) -> None:
    """List PATIENT's grants that still exist (default: the acting account's)."""
    patient = patient or session.require_signer().address
    grants = session.ledger().consent.grants_of(patient)
    emit(ctx, [_grant_fields(g) for g in grants], title=f"grants of {patient}")


@consent.command()
@click.argument("patient")
@click.argument("grantee")
@click.option("--fhir", "as_fhir", is_flag=True, help="Print the grant as an HL7 FHIR R4 Consent resource.")
@chain_options
@click.pass_context
def show(ctx: click.Context, session: Session, patient: str, grantee: str, as_fhir: bool) -> None:
    """Show PATIENT's grant to GRANTEE, and whether GRANTEE may read now."""
    ledger = session.ledger()
    if as_fhir:
        click.echo(json.dumps(ledger.consent.fhir_consent(patient, grantee), indent=2))
        return
    found = ledger.consent.grant_of(patient, grantee)
    credentialed = ledger.credentials.is_credentialed(found.grantee)
    emit(ctx, {**_grant_fields(found), "exists": found.exists, "grantee_credentialed_now": credentialed},
         title="grant")  # fmt: skip
