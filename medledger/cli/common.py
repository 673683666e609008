"""Options every command takes, and the helpers commands share."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import click

from medledger.cli.context import Session, open_session
from medledger.consent import SignedMessage
from medledger.transactions import Receipt

F = TypeVar("F", bound=Callable[..., Any])


def chain_options(function: F) -> F:
    """Add ``--chain``, ``--account`` and ``--json``; pass a lazily opened ``session``."""

    @click.option(
        "--chain",
        "chain_option",
        default="node",
        show_default=True,
        envvar="MEDLEDGER_CHAIN",
        help="`node` (the node from `medledger node start`) or an http(s):// / ws(s):// RPC URL.",
    )
    @click.option(
        "--account",
        "account_option",
        default=None,
        envvar="MEDLEDGER_ACCOUNT",
        help="Who acts: a dev account index on a local node (default 0), or a keystore file "
        "(password in MEDLEDGER_KEYSTORE_PASSWORD). On URL chains MEDLEDGER_PRIVATE_KEY also works.",
    )
    @json_option
    @functools.wraps(function)
    def wrapper(*args: Any, chain_option: str, account_option: str | None, **kwargs: Any) -> Any:
        session = open_session(chain_option, account_option)
        try:
            return function(*args, session=session, **kwargs)
        finally:
            session.chain.close()

    return wrapper  # type: ignore[return-value]


def json_option(function: F) -> F:
    """Add ``--json``: print machine-readable JSON instead of tables."""

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        ctx.ensure_object(dict)
        ctx.obj["json"] = ctx.obj.get("json") or value
        return value

    return click.option(
        "--json", "as_json", is_flag=True, expose_value=False, callback=remember,
        help="Print JSON instead of a table.",
    )(function)  # fmt: skip


def lifecycle_command(
    group: click.Group,
    name: str,
    help_text: str,
    *,
    argument: str,
    with_reason: bool,
    reason_help: str,
    act: Callable[[Any, str, int | None], Receipt],
    show: Callable[[Any, str], dict[str, Any]],
    title: str,
) -> None:
    """Add ``group name ARGUMENT [--reason CODE]``: ``act(ledger, id, reason)``, then print ``show``.

    The shape of every status change of the suite (suspend, reinstate, revoke, quarantine, ...)."""

    @group.command(name=name, help=help_text)
    @click.argument(argument)
    @click.option("--reason", type=click.IntRange(0, 65535), default=0, hidden=not with_reason, help=reason_help)
    @chain_options
    @click.pass_context
    def command(ctx: click.Context, /, session: Session, reason: int, **arguments: str) -> None:
        from medledger.cli.output import emit

        ledger = session.ledger()
        subject = arguments[argument]
        receipt = act(ledger, subject, reason if with_reason else None)
        fields = show(ledger, subject) | ({"reason": reason} if with_reason else {})
        emit(ctx, {**fields, **receipt_fields(receipt)}, title=title)


def receipt_fields(receipt: Receipt) -> dict[str, Any]:
    return {"tx_hash": receipt.tx_hash, "block": receipt.block_number, "gas_used": receipt.gas_used}


def parse_time(text: str) -> int:
    """A date (YYYY-MM-DD, UTC midnight), an ISO date-time, ``now``, or unix seconds."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if text == "now":
        return int(datetime.now(timezone.utc).timestamp())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date: use YYYY-MM-DD, an ISO date-time, `now` or unix seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def end_time(start: int, until: str | None, days: int | None, what: str = "--valid-until") -> int:
    """The end of a period from ``start``: exactly one of ``until`` (a time) or ``days``."""
    if (until is None) == (days is None):
        raise click.UsageError(f"give exactly one of {what} and --days")
    return start + days * 86400 if days is not None else parse_time(str(until))


def read_signed(path: Path) -> SignedMessage:
    """A signed consent file written by a ``sign`` command or a wallet page."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}") from None
    return SignedMessage.from_json(text)


def show_time(seconds: int) -> str:
    if seconds == 0:
        return "-"
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def document_hash(document: Path | None, given: str | None) -> bytes | str:
    """The 32-byte hash of a document: sha256 of ``document``, or ``given`` as 0x-hex."""
    if document is not None and given is not None:
        raise click.UsageError("give either --document or --document-hash, not both")
    if document is not None:
        return hashlib.sha256(document.read_bytes()).digest()
    return given or bytes(32)


__all__ = [
    "Session", "chain_options", "json_option", "receipt_fields", "parse_time", "show_time", "end_time",
    "read_signed", "lifecycle_command",
]  # fmt: skip
