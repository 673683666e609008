"""``medledger web`` (the patient wallet page) and ``medledger relay`` (relays signed grants)."""

from __future__ import annotations

import click

from medledger.cli.common import Session, chain_options


@click.command(name="web")
@click.option("--port", type=click.IntRange(0, 65535), default=8600, show_default=True, help="0: a free port.")
@click.option("--relay-url", default=None, help="The relayer the page sends signed grants to (see `medledger relay`).")
@chain_options
def web(session: Session, port: int, relay_url: str | None) -> None:
    """Serve the patient wallet page on 127.0.0.1 until Ctrl-C. Patients connect MetaMask (or any
    EIP-1193 wallet) on the same chain, and grant, revoke or sign grants from their wallet."""
    from medledger.web import serve_until_interrupted, web_server

    server = web_server(session.ledger(), port=port, relay_url=relay_url)
    serve_until_interrupted(server, lambda url: click.echo(f"wallet page at {url}/ (Ctrl-C stops it)", err=True))


@click.command(name="relay")
@click.option("--port", type=click.IntRange(0, 65535), default=8601, show_default=True, help="0: a free port.")
@click.option("--allow-origin", default="*", show_default=True,
              help="The page origin allowed to call the relay from a browser (CORS).")  # fmt: skip
@chain_options
def relay(session: Session, port: int, allow_origin: str) -> None:
    """Relay signed grants and revocations posted to http://127.0.0.1:PORT/relay, paying the gas
    from --account. Each is checked (domain, signature, signer, nonce, deadline, terms, dry run)
    before anything is sent."""
    from medledger.relay import relay_server
    from medledger.web import serve_until_interrupted

    ledger = session.ledger()
    signer = session.require_signer()
    server = relay_server(ledger, port=port, allow_origin=allow_origin)
    serve_until_interrupted(server, lambda url: click.echo(f"relaying as {signer.address} at {url}/relay (Ctrl-C stops it)", err=True))
