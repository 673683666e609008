"""``medledger compile`` and ``medledger deploy``."""

from __future__ import annotations

import click

from medledger import toolchain as tc
from medledger.cli.common import Session, chain_options, json_option
from medledger.cli.context import deployments_dir
from medledger.cli.output import emit
from medledger.deploy import CONTRACT_NAMES, deploy_suite
from medledger.errors import ConfigurationError, ToolchainError


@click.command(name="compile")
@click.option("--check", is_flag=True, help="Fail if the committed artifacts differ from a fresh compile.")
@click.option("--solc", "solc_path", default=None, help="Path of a solc binary of the pinned version.")
@json_option
@click.pass_context
def compile_command(ctx: click.Context, check: bool, solc_path: str | None) -> None:
    """Compile contracts/ and write ABI, bytecode and metadata to medledger/artifacts/."""
    compiler = tc.find_compiler(solc_path)
    artifacts = tc.compile_suite(compiler=compiler)
    if check:
        stale = [
            name for name, artifact in artifacts.items()
            if not (tc.ARTIFACTS_DIR / f"{name}.json").is_file()
            or (tc.ARTIFACTS_DIR / f"{name}.json").read_text() != tc.render_artifact(artifact)
        ]  # fmt: skip
        if stale:
            raise ToolchainError(f"artifacts are stale for {', '.join(stale)}: run `medledger compile`")
    else:
        tc.write_artifacts(artifacts)
    emit(
        ctx,
        [{"contract": name, "runtime_bytes": (len(a["deployedBytecode"]) - 2) // 2,
          "compiler": compiler.source, "solc": tc.SOLC_VERSION, "evm": tc.EVM_VERSION}
         for name, a in artifacts.items()],  # fmt: skip
        title="artifacts up to date" if check else "compiled",
    )


@click.command()
@click.option("--admin", default=None, help="Consortium admin (default: the deploying account).")
@click.option("--admin-delay", type=click.IntRange(0, 2**48 - 1), default=None,
              help="Seconds an admin transfer waits (default 0 on local nodes, 2 days elsewhere).")  # fmt: skip
@click.option("--fresh", is_flag=True, help="Deploy anew even if a verified manifest exists.")
@chain_options
@click.pass_context
def deploy(ctx: click.Context, session: Session, admin: str | None, admin_delay: int | None, fresh: bool) -> None:
    """Deploy the suite (or reuse the verified deployment) and write its manifest."""
    if session.signer is None:
        raise ConfigurationError("deploying needs a signing account (--account or MEDLEDGER_PRIVATE_KEY)")
    if admin is not None:
        from medledger.client.base import checksum

        admin = checksum(admin, "admin")
    deployment = deploy_suite(
        session.chain, session.signer, admin=admin, admin_delay=admin_delay,
        manifest_dir=deployments_dir(), reuse=not fresh,
    )  # fmt: skip
    emit(
        ctx,
        [{"contract": name, "address": deployment.contracts[name].address, "block": deployment.contracts[name].block}
         for name in CONTRACT_NAMES],  # fmt: skip
        title=f"medledger on chain {deployment.chain_id} (admin {deployment.admin})",
    )
