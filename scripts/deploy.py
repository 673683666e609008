"""Deploy the medledger suite.

    python scripts/deploy.py                      # embedded chain (in memory, for a dry run)
    python scripts/deploy.py --chain anvil        # a fresh anvil from node_modules, stopped after
    python scripts/deploy.py --chain node         # the node of `medledger node start`
    python scripts/deploy.py --chain https://...  # a real network: MEDLEDGER_PRIVATE_KEY or keystore

Manifests go to deployments/<chain id>.json (local chains' manifests are git-ignored).
Brownie runs the same file with `brownie run scripts/deploy.py [--network anvil]`: then the
suite is deployed with brownie's contract containers and accounts (scripts/brownie_suite.py),
and the same manifest is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

DEPLOYMENTS = ROOT / "deployments"


def under_brownie() -> bool:
    """True when `brownie run` runs this file (brownie is imported and connected)."""
    brownie = sys.modules.get("brownie")
    return brownie is not None and brownie.network.is_connected()


def main(argv: list[str] | None = None) -> int:
    if under_brownie():
        from scripts.brownie_suite import deploy

        for name, contract in deploy(manifest_dir=DEPLOYMENTS).items():
            print(f"  {name:<20} {contract.address}")
        return 0
    from rich.console import Console
    from rich.table import Table

    from medledger import chain as chainmod
    from medledger.cli.context import open_session
    from medledger.deploy import deploy_suite
    from medledger.errors import ConfigurationError, MedLedgerError

    parser = argparse.ArgumentParser(description="Deploy the medledger suite.")
    parser.add_argument("--chain", default="embedded", help="embedded, anvil, ganache, node or an RPC URL")
    parser.add_argument("--admin", default=None, help="consortium admin (default: the deployer)")
    parser.add_argument("--fresh", action="store_true", help="deploy even if a verified manifest exists")
    args = parser.parse_args(argv if argv is not None else (sys.argv[1:] if __name__ == "__main__" else []))
    console = Console()
    try:
        if args.chain in ("embedded", *chainmod.LOCAL_NODES):
            connected = chainmod.connect(args.chain)
            signer = connected.account(0)
        else:
            session = open_session(args.chain, None)
            connected, signer = session.chain, session.signer
        with connected:
            if signer is None:
                raise ConfigurationError("no deploying account: set MEDLEDGER_PRIVATE_KEY or MEDLEDGER_KEYSTORE")
            manifest_dir = None if args.chain == "embedded" else DEPLOYMENTS
            deployment = deploy_suite(connected, signer, admin=args.admin, manifest_dir=manifest_dir,
                                      reuse=not args.fresh)  # fmt: skip
    except MedLedgerError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    table = Table(title=f"medledger on chain {deployment.chain_id}")
    table.add_column("contract")
    table.add_column("address")
    table.add_column("block", justify="right")
    for name, entry in deployment.contracts.items():
        table.add_row(name, entry.address, str(entry.block))
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
