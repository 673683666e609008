"""Rendering, in one place: ``--json`` prints JSON on stdout, otherwise a rich table or line."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

import click
from rich.console import Console
from rich.table import Table


def plain(value: Any) -> Any:
    """``value`` with bytes as 0x-hex and enums as lower-case names, for JSON and tables."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, Enum):
        return value.name.lower()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def wants_json(ctx: click.Context) -> bool:
    """Whether ``--json`` was given, on the command or on a group above it."""
    return bool(ctx.find_root().params.get("as_json") or (ctx.obj and ctx.obj.get("json")))


def emit(ctx: click.Context, data: dict[str, Any] | list[dict[str, Any]], title: str = "") -> None:
    """Print ``data`` as JSON (``--json``) or as a table: one row per item, or key/value pairs."""
    data = plain(data)
    if wants_json(ctx):
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    console = Console(soft_wrap=True)
    if isinstance(data, list):
        if not data:
            console.print(f"{title}: none" if title else "none")
            return
        table = Table(title=title or None)
        for column in data[0]:
            table.add_column(str(column).replace("_", " "))
        for row in data:
            table.add_row(*(str(row[c]) for c in data[0]))
        console.print(table)
        return
    table = Table(title=title or None, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in data.items():
        table.add_row(str(key).replace("_", " "), str(value))
    console.print(table)
