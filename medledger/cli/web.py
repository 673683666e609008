"""``medledger web`` (the patient wallet page) and ``medledger relay`` (relays signed grants)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from medledger.cli.common import Session, chain_options
from medledger.errors import InvalidInput
from medledger.web import QUEUED, READ_TIMEOUT, WALLET_PAGE_ORIGINS, WEB_PORT, WORKERS


def server_options(function: Any) -> Any:
    """``--workers``, ``--timeout`` and ``--public-name``: both servers bound their threads and how long
    a client may take, and answer only requests addressed to them."""
    function = click.option("--public-name", "public_names", multiple=True, metavar="NAME[:PORT]",
                            help="A name the server is also reached by (behind a reverse proxy); repeat for more. "
                                 "Requests whose Host is neither this nor 127.0.0.1/localhost/[::1] with the "
                                 "server's port are refused (421), against DNS rebinding.")(function)  # fmt: skip
    function = click.option("--timeout", type=click.FloatRange(0.1, 600), default=READ_TIMEOUT, show_default=True,
                            help="Seconds a client may stay silent; a request must arrive within 3x this.")(function)  # fmt: skip
    return click.option("--workers", type=click.IntRange(1, 256), default=WORKERS, show_default=True,
                        help=f"Requests served at once ({QUEUED} more wait; beyond that, 503).")(function)  # fmt: skip


def limits(workers: int, timeout: float, public_names: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"workers": workers, "timeout": timeout, "request_deadline": 3 * timeout, "public_names": public_names}


@click.command(name="web")
@click.option("--port", type=click.IntRange(0, 65535), default=WEB_PORT, show_default=True, help="0: a free port.")
@click.option("--relay-url", default=None, help="The relayer the page sends signed grants to (see `medledger relay`).")
@server_options
@chain_options
def web(session: Session, port: int, relay_url: str | None, workers: int, timeout: float,
        public_names: tuple[str, ...]) -> None:  # fmt: skip
    """Serve the patient wallet page on 127.0.0.1 until Ctrl-C. Patients connect MetaMask (or any
    EIP-1193 wallet) on the same chain, and grant, revoke or sign grants from their wallet."""
    from medledger.web import serve_until_interrupted, web_server

    server = web_server(session.ledger(), port=port, relay_url=relay_url, **limits(workers, timeout, public_names))
    serve_until_interrupted(server, lambda url: click.echo(f"wallet page at {url}/ (Ctrl-C stops it)", err=True))


def read_api_keys(path: Path | None) -> frozenset[bytes]:
    """The SHA-256 of each key in ``path`` (one a line; blank lines and # comments skipped)."""
    from medledger.relay import hash_key

    if path is None:
        return frozenset()
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise InvalidInput(f"--api-keys-file: cannot read {path}: {exc.strerror}") from None
    keys = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    if not keys:
        raise InvalidInput(f"--api-keys-file: {path} holds no key (one a line)")
    return frozenset(hash_key(key) for key in keys)


@click.command(name="relay")
@click.option("--port", type=click.IntRange(0, 65535), default=8601, show_default=True, help="0: a free port.")
@click.option("--allow-origin", "allow_origins", multiple=True, default=WALLET_PAGE_ORIGINS, show_default=True,
              help="A page origin allowed to call the relay from a browser (CORS); repeat for more; `*` for any.")
@click.option("--open/--closed", "open_", default=None,
              help="Pay for anyone, or only for --allow / --api-keys-file. Default: open on a local dev chain "
                   "(the node of `medledger node start`, or an anvil or Ganache node on its usual chain id), "
                   "closed elsewhere, whatever the chain id.")
@click.option("--allow", "allowed", multiple=True, metavar="ADDRESS",
              help="A signer served when closed, or a patient whose own and delegates' signatures are; repeat for more.")
@click.option("--api-keys-file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Keys accepted in `Authorization: Bearer KEY` when closed, one a line.")
@click.option("--max-gas", type=click.IntRange(21_000), default=150_000, show_default=True,
              help="Gas cap per transaction (a relayed grant costs about 75,000); also its gas limit.")
@click.option("--wallet-check-gas", type=click.IntRange(1, 1_000_000), default=50_000, show_default=True,
              help="Gas a contract wallet's isValidSignature may use when checked before sending.")
@click.option("--contract-wallet", "contract_wallets", multiple=True, metavar="ADDRESS",
              help="Accept only these contract-wallet signers (default: any, each checked by eth_call).")
@click.option("--no-contract-wallets", is_flag=True, help="Refuse every contract-wallet signer.")
@click.option("--signer-rate", default="10/1h", show_default=True, help="Requests per signer per period.")
@click.option("--global-rate", default="200/1h", show_default=True, help="Requests in all per period.")
@click.option("--gas-budget", default="10000000/1d", show_default=True,
              help="Gas the relayer spends per period (reverted transactions count).")
@click.option("--deadline-margin", type=click.IntRange(0), default=None,
              help="Seconds a signature's deadline must leave past the latest block [default: two block intervals].")
@server_options
@chain_options
@click.pass_context
def relay(ctx: click.Context, /, session: Session, port: int, allow_origins: tuple[str, ...], open_: bool | None,
          allowed: tuple[str, ...], api_keys_file: Path | None, max_gas: int, wallet_check_gas: int,
          contract_wallets: tuple[str, ...], no_contract_wallets: bool, signer_rate: str, global_rate: str,
          gas_budget: str, deadline_margin: int | None, workers: int, timeout: float,
          public_names: tuple[str, ...]) -> None:  # fmt: skip
    """Relay signed grants and revocations posted to http://127.0.0.1:PORT/relay, paying the gas
    from --account, within limits: who may use it, a gas cap per transaction, rates per signer and
    in all, a gas budget per period. Each consent is checked (domain, signature, signer, nonce,
    deadline, terms, dry run) before anything is sent."""
    from medledger.cli.output import wants_json
    from medledger.relay import RelayPolicy, Window, relay_server
    from medledger.web import serve_until_interrupted

    if contract_wallets and no_contract_wallets:
        raise InvalidInput("give --contract-wallet or --no-contract-wallets, not both")
    policy = RelayPolicy(
        max_gas=max_gas,
        wallet_check_gas=wallet_check_gas,
        contract_wallets=frozenset() if no_contract_wallets else (frozenset(contract_wallets) or None),
        signer_rate=Window.parse(signer_rate, "--signer-rate"),
        global_rate=Window.parse(global_rate, "--global-rate"),
        gas_budget=Window.parse(gas_budget, "--gas-budget"),
        open=open_,
        allowed=frozenset(allowed),
        api_key_hashes=read_api_keys(api_keys_file),
        deadline_margin=deadline_margin,
        allow_origins=tuple(allow_origins),
    )
    ledger = session.ledger()
    signer = session.require_signer()
    server = relay_server(ledger, port=port, policy=policy, **limits(workers, timeout, public_names))
    settings = policy.describe(ledger.w3)

    def announce(url: str) -> None:
        if wants_json(ctx):
            click.echo(json.dumps({"url": f"{url}/relay", "relayer": signer.address, "policy": settings}, indent=2))
        who = "anyone" if settings["open"] else f"{len(policy.allowed)} allowed address(es), {len(policy.api_key_hashes)} API key(s)"
        click.echo(f"relaying as {signer.address} at {url}/relay for {who}; at most {max_gas} gas a transaction, "
                   f"{policy.signer_rate} per signer, {policy.global_rate} in all, {policy.gas_budget} gas "
                   "(Ctrl-C stops it)", err=True)  # fmt: skip

    serve_until_interrupted(server, announce)
