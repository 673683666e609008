"""``medledger audit``: sync the events of a chain into a local SQLite index, ask it questions,
export the answers. Queries and exports read the file only: no node is needed to answer."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from medledger.audit import AuditEvent, AuditIndex, export
from medledger.audit.index import DEFAULT_BATCH_SIZE
from medledger.cli.common import Session, chain_options, json_option, parse_time
from medledger.cli.context import home
from medledger.cli.output import emit, wants_json
from medledger.errors import ConfigurationError


def default_db() -> Path:
    """``$MEDLEDGER_AUDIT_DB``, else ``<home>/audit.sqlite``."""
    return Path(os.environ.get("MEDLEDGER_AUDIT_DB") or home() / "audit.sqlite")


def db_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="The index file (default: $MEDLEDGER_AUDIT_DB or <home>/audit.sqlite).",
    )(function)  # fmt: skip


@click.group()
def audit() -> None:
    """A reorg-safe SQLite index of every medledger event, for auditors and regulators."""


@audit.command(name="sync")
@db_option
@click.option("--batch-size", type=click.IntRange(1), default=DEFAULT_BATCH_SIZE, show_default=True,
              help="Blocks per eth_getLogs call.")  # fmt: skip
@click.option("--confirmations", type=click.IntRange(0), default=0, show_default=True,
              help="Leave the newest N blocks out (on networks where they may still be reorganised).")  # fmt: skip
@chain_options
@click.pass_context
def sync(ctx: click.Context, session: Session, db: Path | None, batch_size: int, confirmations: int) -> None:
    """Index every event of the deployment up to the head; resumes where the last sync stopped."""
    path = db or default_db()
    with AuditIndex(path, w3=session.chain.w3, deployment=session.deployment(),
                    batch_size=batch_size, confirmations=confirmations) as index:  # fmt: skip
        start = index.cursor
        console = Console(stderr=True)
        columns = (TextColumn("indexing blocks"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[events]} events"),
                   TimeRemainingColumn())  # fmt: skip
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task("sync", total=None, events=0)

            def advance(last: int, target: int, events: int) -> None:
                bar.update(task, total=max(target - start, 1), completed=last - start, events=events)

            report = index.sync(progress=advance)
        emit(ctx, {
            "db": str(path),
            "from_block": report.from_block,
            "to_block": report.to_block,
            "events_added": report.events_added,
            "events_in_index": index.count(),
            "reorgs": [{"fork_block": r.fork_block, "dropped_events": r.dropped_events} for r in report.reorgs],
        }, title="audit sync")  # fmt: skip


# ─── query and export: the same questions, shown or written ─────────────────────────────────


@audit.group()
def query() -> None:
    """Ask the index; break-glass rows are highlighted."""


@audit.group(name="export")
def export_group() -> None:
    """Write an answer of the index to a CSV or JSON file (or stdout)."""


def _show(ctx: click.Context, events: list[AuditEvent], title: str) -> None:
    if wants_json(ctx):
        click.echo(json.dumps([e.as_dict() for e in events], indent=2, sort_keys=True))
        return
    console = Console(soft_wrap=True)
    if not events:
        console.print(f"{title}: none")
        return
    table = Table(title=title)
    for column in ("block", "time (UTC)", "contract", "event"):
        table.add_column(column, no_wrap=True)
    table.add_column("details")
    for event in events:
        details = ", ".join(f"{k}={_short(v)}" for k, v in event.args.items())
        style = "bold red" if event.break_glass else None
        table.add_row(str(event.block), event.iso_time, event.contract, event.event, details, style=style)
    console.print(table)


def _short(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return text if len(text) <= 44 else text[:20] + "…" + text[-8:]


def _question(name: str, help_text: str, *params: Callable[..., Any]) -> Callable[[Callable[..., list[AuditEvent]]], None]:
    """Register ``ask(index, **options)`` as ``audit query NAME`` and ``audit export NAME``."""

    def register(ask: Callable[..., list[AuditEvent]]) -> None:
        def with_params(command: Callable[..., Any]) -> Callable[..., Any]:
            for param in reversed(params):
                command = param(command)
            return db_option(command)

        @query.command(name=name, help=help_text)
        @json_option
        @click.pass_context
        @with_params
        def show(ctx: click.Context, db: Path | None, **options: Any) -> None:
            with AuditIndex(db or default_db()) as index:
                _show(ctx, ask(index, **options), name)

        @export_group.command(name=name, help=help_text + " Written as CSV or JSON.")
        @click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
        @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                      help="The file to write (default: stdout).")  # fmt: skip
        @with_params
        def write(db: Path | None, fmt: str, out: Path | None, **options: Any) -> None:
            with AuditIndex(db or default_db()) as index:
                text = export(ask(index, **options), fmt)  # type: ignore[arg-type]
            if out is None:
                click.echo(text, nl=False)
            else:
                try:
                    out.write_text(text)
                except OSError as exc:
                    raise ConfigurationError(f"cannot write {out}: {exc.strerror}") from None
                click.echo(f"wrote {out}", err=True)

    return register


def _times(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option("--until", "until_", default=None, help="Up to this time (date, ISO time or unix seconds).")(function)
    return click.option("--since", default=None, help="From this time (date, ISO time or unix seconds).")(function)


def _window(since: str | None, until_: str | None) -> dict[str, int | None]:
    return {"since": parse_time(since) if since else None, "until": parse_time(until_) if until_ else None}


@_question("access", "A patient's access history: grants, revocations, referrals, break-glass, every read.",
           click.argument("patient"), _times)  # fmt: skip
def _access(index: AuditIndex, patient: str, since: str | None, until_: str | None) -> list[AuditEvent]:
    return index.access_history(patient, **_window(since, until_))


@_question("break-glass", "Break-glass sessions and the reads made under them, for a regulator.",
           click.option("--patient", default=None, help="Only this patient."), _times)  # fmt: skip
def _break_glass(index: AuditIndex, patient: str | None, since: str | None, until_: str | None) -> list[AuditEvent]:
    return index.break_glass(patient=patient, **_window(since, until_))


@_question("custody", "A batch's custody path: registration, shipments, receipts, dispensing, alarms, recalls.",
           click.argument("batch_id"))  # fmt: skip
def _custody(index: AuditIndex, batch_id: str) -> list[AuditEvent]:
    return index.custody_path(batch_id)


@_question("credentials", "A practitioner's or institution's credentials and what happened to them.",
           click.argument("subject"))  # fmt: skip
def _credentials(index: AuditIndex, subject: str) -> list[AuditEvent]:
    return index.credential_history(subject)


@_question("events", "Any events by name, filtered by indexed arguments (--where patient=0x...).",
           click.argument("names", nargs=-1),
           click.option("--where", "where", multiple=True, metavar="ARG=VALUE", help="An indexed argument's value."),
           click.option("--limit", type=click.IntRange(1), default=None), _times)  # fmt: skip
def _events(index: AuditIndex, names: tuple[str, ...], where: tuple[str, ...], limit: int | None,
            since: str | None, until_: str | None) -> list[AuditEvent]:  # fmt: skip
    filters: dict[str, str] = {}
    for item in where:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not ARG=VALUE", param_hint="--where")
        filters[key] = value
    return index.events(*names, where=filters, limit=limit, **_window(since, until_))
