"""``medledger node start|stop|status``: a persistent local node for CLI calls."""

from __future__ import annotations

import json
import os
import signal
import time

import click

from medledger import chain as chainmod
from medledger.cli.common import json_option
from medledger.cli.context import home, node_file, pid_alive, read_node
from medledger.cli.output import emit
from medledger.errors import ConfigurationError, NodeNotRunning


@click.group()
def node() -> None:
    """Start, stop and inspect the local node that CLI calls use."""


@node.command()
@click.option("--kind", type=click.Choice(["anvil", "ganache"]), default="anvil", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Default: a free port.")
@click.option("--fresh", is_flag=True, help="Discard the saved chain state and start empty.")
@json_option
@click.pass_context
def start(ctx: click.Context, kind: str, port: int | None, fresh: bool) -> None:
    """Start a node in the background; its chain state is saved and survives stop/start.

    anvil keeps its state in a file, ganache in a database folder, both under MEDLEDGER_HOME.
    """
    info = read_node()
    if info is not None and pid_alive(int(info["pid"])):
        raise ConfigurationError(
            f"a {info['kind']} node is already running at {info['url']} (pid {info['pid']}); "
            "stop it first with `medledger node stop`"
        )
    folder = home() / "node"
    folder.mkdir(parents=True, exist_ok=True)
    state = folder / ("anvil-state.json" if kind == "anvil" else "ganache-db")
    if fresh and state.exists():
        if state.is_dir():
            import shutil

            shutil.rmtree(state)
        else:
            state.unlink()
    started = chainmod.start_node(
        "anvil" if kind == "anvil" else "ganache",
        port=port,
        state_file=state if kind == "anvil" else None,
        extra_args=["--database.dbPath", str(state)] if kind == "ganache" else None,
        log_path=folder / f"{kind}.log",
    )
    record = {"kind": kind, "url": started.url, "port": started.port, "pid": started.process.pid,
              "state": str(state), "log": str(folder / f"{kind}.log")}  # fmt: skip
    node_file().write_text(json.dumps(record, indent=2))
    emit(ctx, {"status": "running", **record}, title="medledger node")


@node.command()
@json_option
@click.pass_context
def stop(ctx: click.Context) -> None:
    """Stop the node (its state is saved first)."""
    info = read_node()
    if info is None or not pid_alive(int(info["pid"])):
        node_file().unlink(missing_ok=True)
        raise NodeNotRunning("no medledger node is running")
    pid = int(info["pid"])
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 15
    while pid_alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.1)
    if pid_alive(pid):
        os.killpg(pid, signal.SIGKILL)
    node_file().unlink(missing_ok=True)
    emit(ctx, {"status": "stopped", "kind": info["kind"], "url": info["url"]}, title="medledger node")


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


@node.command()
@json_option
@click.pass_context
def status(ctx: click.Context) -> None:
    """Say whether the node runs, where, and its chain id and block height."""
    info = read_node()
    if info is None or not pid_alive(int(info["pid"])):
        emit(ctx, {"status": "stopped"}, title="medledger node")
        return
    connected = chainmod.connect_local(info["url"], info["kind"])
    emit(
        ctx,
        {"status": "running", **info, "chain_id": connected.chain_id,
         "block": int(connected.w3.eth.block_number)},  # fmt: skip
        title="medledger node",
    )
