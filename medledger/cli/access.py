"""``medledger access log|break-glass|history|policy``."""

from __future__ import annotations

import click

from medledger.cli.common import Session, chain_options, receipt_fields, show_time
from medledger.cli.output import emit


@click.group()
def access() -> None:
    """The access log, break-glass emergency access, and the access history."""


@access.command()
@click.argument("record_id")
@chain_options
@click.pass_context
def log(ctx: click.Context, session: Session, record_id: str) -> None:
    """Log that the acting account reads RECORD_ID (fails if it has no access)."""
    logged = session.ledger().access.log_read(record_id)
    emit(ctx, {"record": logged.record, "basis": logged.basis, "purpose": logged.purpose,
               **receipt_fields(logged.receipt)}, title="read logged")  # fmt: skip


@access.command(name="break-glass")
@click.argument("patient")
@click.option("--reason", type=click.IntRange(0, 65535), default=None,
              help="Emergency reason code of the consortium's rulebook (to open).")  # fmt: skip
@click.option("--minutes", type=click.IntRange(1, 366 * 24 * 60), default=60, show_default=True,
              help="How long the session lasts (within the consortium's maximum).")  # fmt: skip
@click.option("--close", is_flag=True, help="Close an open session early instead.")
@click.option("--practitioner", default=None, help="With --close: whose session (default: the acting account).")
@chain_options
@click.pass_context
def break_glass(
    ctx: click.Context, session: Session, patient: str, reason: int | None, minutes: int, close: bool,
    practitioner: str | None,
) -> None:  # fmt: skip
    """Open emergency access to PATIENT's records without consent (licensed practitioner), or --close it."""
    ledger = session.ledger()
    if close:
        who = practitioner or session.require_signer().address
        receipt = ledger.access.close_break_glass(patient, who)
        emit(ctx, {"patient": patient, "practitioner": who, "closed": True, **receipt_fields(receipt)},
             title="break-glass closed")  # fmt: skip
        return
    if reason is None:
        raise click.UsageError("opening break-glass access needs --reason CODE")
    receipt = ledger.access.open_break_glass(patient, reason_code=reason, duration=minutes * 60)
    opened = ledger.access.break_glass_session(patient, session.require_signer().address)
    emit(ctx, {"patient": patient, "practitioner": opened.practitioner, "reason_code": reason,
               "until": show_time(opened.until), "flagged": "BREAK-GLASS", **receipt_fields(receipt)},
         title="break-glass opened")  # fmt: skip


@access.command()
@click.argument("patient", required=False)
@click.option("--reader", default=None, help="Only reads by this account.")
@click.option("--break-glass", "break_glass_only", is_flag=True,
              help="Only break-glass sessions and reads (a regulator's view when no PATIENT is given).")  # fmt: skip
@chain_options
@click.pass_context
def history(
    ctx: click.Context, session: Session, patient: str | None, reader: str | None, break_glass_only: bool
) -> None:
    """Who read PATIENT's records, when, on what ground; break-glass flagged."""
    ledger = session.ledger()
    if patient is None and reader is None and not break_glass_only:
        patient = session.require_signer().address
    ordered: list[tuple[tuple[int, int], dict[str, object]]] = [
        ((e.block_number, e.log_index), {"time": show_time(e.timestamp), "event": "read", "patient": e.patient, "who": e.reader, "record": e.record,
         "category": e.category, "basis": e.basis, "purpose": e.purpose,
         "flag": "BREAK-GLASS" if e.break_glass else ""})  # fmt: skip
        for e in ledger.access.history(patient, reader=reader)
        if e.break_glass or not break_glass_only
    ]
    if reader is None:
        ordered += [
            ((e.block_number, e.log_index), {"time": show_time(e.timestamp), "event": f"break-glass {e.kind}",
             "patient": e.patient, "who": e.by, "record": "-", "category": "-", "basis": "break_glass",
             "purpose": f"reason {e.reason_code}" if e.reason_code is not None else "-", "flag": "BREAK-GLASS"})  # fmt: skip
            for e in ledger.access.break_glass_events(patient)
        ]
    emit(ctx, [row for _, row in sorted(ordered, key=lambda item: item[0])], title="access history")


@access.command()
@click.option("--max-minutes", type=click.IntRange(1), default=None, help="Longest session.")
@click.option("--window-hours", type=click.IntRange(1), default=None, help="Window in which sessions are counted.")
@click.option("--sessions", type=click.IntRange(1, 65535), default=None, help="Sessions per practitioner per window.")
@chain_options
@click.pass_context
def policy(
    ctx: click.Context, session: Session, max_minutes: int | None, window_hours: int | None, sessions: int | None
) -> None:
    """Show the break-glass limits, or set them (consortium admin) with all three options."""
    ledger = session.ledger()
    given = [v is not None for v in (max_minutes, window_hours, sessions)]
    fields = {}
    if any(given):
        if not all(given):
            raise click.UsageError("setting the policy needs --max-minutes, --window-hours and --sessions")
        assert max_minutes is not None and window_hours is not None and sessions is not None
        fields = receipt_fields(ledger.access.set_break_glass_policy(
            max_duration=max_minutes * 60, window=window_hours * 3600, max_sessions_per_window=sessions))  # fmt: skip
    current = ledger.access.break_glass_policy()
    emit(ctx, {"max_minutes": current.max_duration // 60, "window_hours": current.window / 3600,
               "sessions_per_window": current.max_sessions_per_window, **fields}, title="break-glass policy")  # fmt: skip
