"""Connect to a chain: the embedded eth-tester chain, a local anvil or ganache, or any RPC URL.

Local nodes come from the project's node_modules, listen on a free loopback port, are
health-checked before use and always stopped (``Chain.close``, or ``with connect(...)``).
Accounts are local signers: dev accounts on local chains, a key from the environment or an
encrypted keystore on URL chains. Keys are never printed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import Web3Exception, Web3RPCError
from web3.providers.rpc import HTTPProvider

from medledger.errors import ChainError, ConfigurationError, NodeNotRunning

ChainKind = Literal["embedded", "anvil", "ganache", "url"]
LOCAL_NODES = ("anvil", "ganache")

#: The well-known development mnemonic; both anvil and ganache are started with it, so the
#: dev accounts (and their keys, which hold nothing of value) are the same on both.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNTS = 10
DEV_BALANCE_ETH = 10_000
ANVIL_CHAIN_ID = 31337
GANACHE_CHAIN_ID = 1337
#: py-evm's chain id, which the embedded chain (eth-tester) keeps.
EMBEDDED_CHAIN_ID = 131277322940537
#: The chain ids of local development chains: the nodes medledger starts and the embedded chain.
#: An id alone proves nothing (1337 is also geth --dev's and many private Besu/GoQuorum
#: networks' id, 31337 hardhat's): :func:`is_dev_chain` decides, and these are one of its tests.
DEV_CHAIN_IDS = frozenset({ANVIL_CHAIN_ID, GANACHE_CHAIN_ID, EMBEDDED_CHAIN_ID})
#: The clients whose chains are local development chains (the first word of ``web3_clientVersion``,
#: lower-cased): anvil, ganache, and eth-tester (the embedded chain).
DEV_CLIENTS = frozenset({"anvil", "ganache", "ethereumtester"})
#: Per connection, whether it is a dev chain (connections medledger made for one are marked so).
_DEV_CHAINS: weakref.WeakKeyDictionary[Web3, bool] = weakref.WeakKeyDictionary()

Account.enable_unaudited_hdwallet_features()


def is_dev_chain(w3: Web3) -> bool:
    """Whether ``w3`` is connected to a local development chain, where blocks are reorganised only by
    their user's own snapshot or revert and gas is worthless: the trust defaults (an open relayer,
    a vault that serves at 0 confirmations) follow this, never a chain id alone.

    True only where medledger knows it: the embedded chain or a node medledger started (marked when
    connected), or a node whose ``web3_clientVersion`` names anvil, Ganache or EthereumTester *and*
    whose chain id is one of :data:`DEV_CHAIN_IDS`. Anything else (Besu, geth, GoQuorum, a node that
    does not say, whatever its chain id) is a network. Asked once per connection; a node that cannot
    be reached raises :class:`ChainError` (and is asked again next time)."""
    known = _DEV_CHAINS.get(w3)
    if known is not None:
        return known
    try:
        client = str(w3.client_version)
        chain_id = int(w3.eth.chain_id)
    except (Web3RPCError, ValueError):  # the node answers, but not this: it does not say it is a dev node
        _DEV_CHAINS[w3] = False
        return False
    except Exception as exc:  # noqa: BLE001 - the transport's errors vary: never a bare one
        raise ChainError(f"cannot ask the node what it is ({type(exc).__name__}: {exc})") from None
    dev = client.split("/", 1)[0].strip().lower() in DEV_CLIENTS and chain_id in DEV_CHAIN_IDS
    _DEV_CHAINS[w3] = dev
    return dev


def _mark_dev_chain(w3: Web3) -> None:
    """Record that ``w3`` reaches a dev chain medledger made or started itself."""
    _DEV_CHAINS[w3] = True


def dev_accounts(count: int = DEV_ACCOUNTS) -> list[LocalAccount]:
    """The dev accounts of local nodes, derived from :data:`DEV_MNEMONIC`."""
    return [
        Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)
    ]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a node could listen on 127.0.0.1:``port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def node_modules_bin(tool: str, root: Path | None = None) -> Path:
    """The executable of ``tool`` (anvil or ganache) installed by npm in the project."""
    from medledger.toolchain import project_root

    root = root or project_root()
    if tool == "anvil":
        # Call the platform binary directly: the npm wrapper is a node process that would
        # outlive a signal sent to it alone.
        for candidate in sorted((root / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
            if os.access(candidate, os.X_OK):
                return candidate
    path = root / "node_modules" / ".bin" / tool
    if not path.exists():
        raise ConfigurationError(f"{tool} is not installed in {root / 'node_modules'}: run `npm ci`")
    return path


@dataclass
class LocalNode:
    """A local anvil or ganache process that this program started and must stop."""

    kind: Literal["anvil", "ganache"]
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the node (SIGTERM, so anvil writes its state file), then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=5)


def node_command(
    kind: Literal["anvil", "ganache"], port: int, state_file: Path | None = None, root: Path | None = None
) -> list[str]:
    """The command line that starts a local node of ``kind`` on 127.0.0.1:``port``."""
    binary = str(node_modules_bin(kind, root))
    if kind == "anvil":
        cmd = [
            binary, "--host", "127.0.0.1", "--port", str(port), "--mnemonic", DEV_MNEMONIC,
            "--accounts", str(DEV_ACCOUNTS), "--balance", str(DEV_BALANCE_ETH),
            "--chain-id", str(ANVIL_CHAIN_ID), "--silent",
        ]  # fmt: skip
        if state_file is not None:
            cmd += ["--state", str(state_file), "--state-interval", "1"]
        return cmd
    if state_file is not None:
        raise ConfigurationError("a persistent state file is supported for anvil only")
    return [
        binary, "--server.host", "127.0.0.1", "--server.port", str(port),
        "--wallet.mnemonic", DEV_MNEMONIC, "--wallet.totalAccounts", str(DEV_ACCOUNTS),
        "--wallet.defaultBalance", str(DEV_BALANCE_ETH), "--chain.chainId", str(GANACHE_CHAIN_ID),
        "--chain.hardfork", "shanghai", "--logging.quiet",
    ]  # fmt: skip


class NodeExited(ChainError):
    """The node process ended while starting (a bad state file, or its port was taken)."""


def wait_for_rpc(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``eth_chainId`` at ``url`` until it answers, the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    # no retries inside web3: this loop polls, and must see the process exit between two polls
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 2}, exception_retry_configuration=None))
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise NodeExited(f"the node at {url} exited with code {process.returncode} while starting")
        try:
            w3.eth.chain_id
        except Exception:  # noqa: BLE001 - any failure here just means "not up yet"
            time.sleep(0.1)
            continue
        # checked after the answer too: an answer from whatever else holds the port is no start
        if process is None or process.poll() is None:
            return
    raise ChainError(f"the node at {url} did not answer within {timeout:.0f}s")


def _spawn(cmd: list[str], log_path: Path | None) -> subprocess.Popen[bytes]:
    """Run ``cmd`` in a session of its own, its output appended to ``log_path`` (or dropped)."""
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    try:
        return subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True
        )
    finally:
        if log_path:
            log.close()  # type: ignore[union-attr]


def start_node(
    kind: Literal["anvil", "ganache"],
    *,
    port: int | None = None,
    state_file: Path | None = None,
    log_path: Path | None = None,
    timeout: float = 60.0,
    extra_args: list[str] | None = None,
    root: Path | None = None,
) -> LocalNode:
    """Start anvil or ganache from node_modules and wait until it answers.

    The node runs in its own session, so it outlives this process unless
    :meth:`LocalNode.stop` is called (``medledger node start`` relies on that).
    """
    # A port picked here is free now, but something else may bind it before the node does: then
    # the node exits at once, and another free port is tried.
    attempts = 1 if port else 3
    for attempt in range(1, attempts + 1):
        chosen = port or free_port()
        cmd = node_command(kind, chosen, state_file, root) + list(extra_args or [])
        node = LocalNode(kind, chosen, _spawn(cmd, log_path), log_path)
        try:
            wait_for_rpc(node.url, timeout, node.process)
            return node
        except NodeExited as exited:
            node.stop()
            if attempt < attempts:
                continue
            if not port_is_free(chosen):
                raise NodeExited(f"cannot start {kind}: 127.0.0.1:{chosen} is already in use") from None
            raise exited from None
        except BaseException:
            node.stop()
            raise
    raise AssertionError("unreachable: the last attempt returns or raises")


@dataclass
class Chain:
    """A connection to one chain, with the accounts that can sign on it."""

    w3: Web3
    kind: ChainKind
    accounts: list[LocalAccount]
    node: LocalNode | None = None
    _tester: Any = field(default=None, repr=False)

    @property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    @property
    def is_local(self) -> bool:
        return self.kind != "url"

    def account(self, index: int = 0) -> LocalAccount:
        """Signer number ``index``."""
        if not 0 <= index < len(self.accounts):
            raise ConfigurationError(
                f"account index {index} is out of range: this chain has {len(self.accounts)} signer(s)"
            )
        return self.accounts[index]

    def now(self) -> int:
        """The timestamp of the latest block."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance_time(self, seconds: int) -> None:
        """Move chain time forward by ``seconds`` and mine a block (local chains only)."""
        if self.kind == "embedded":
            self._tester.time_travel(self.now() + seconds)
            self._tester.mine_blocks(1)
        elif self.kind in LOCAL_NODES:
            self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
            self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        else:
            raise ChainError("time can only be moved on a local chain")

    def snapshot(self) -> Any:
        """Take a state snapshot (local chains only)."""
        if self.kind == "embedded":
            return self._tester.take_snapshot()
        if self.kind in LOCAL_NODES:
            return self.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        raise ChainError("snapshots exist on local chains only")

    def revert(self, snapshot_id: Any) -> None:
        """Go back to ``snapshot_id``; the snapshot is used up."""
        if self.kind == "embedded":
            self._tester.revert_to_snapshot(snapshot_id)
        elif self.kind in LOCAL_NODES:
            self.w3.provider.make_request("evm_revert", [snapshot_id])  # type: ignore[arg-type]
        else:
            raise ChainError("snapshots exist on local chains only")

    def close(self) -> None:
        """Stop the node this connection started, if any."""
        if self.node is not None:
            self.node.stop()
            self.node = None

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def embedded() -> Chain:
    """A fresh in-process chain (eth-tester + py-evm) with ten funded dev accounts."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3.providers.eth_tester import EthereumTesterProvider

    backend = PyEVMBackend()
    tester = EthereumTester(backend)
    w3 = Web3(EthereumTesterProvider(tester))
    keys = [key.to_hex() if hasattr(key, "to_hex") else key for key in backend.account_keys]
    accounts = [Account.from_key(key) for key in keys]
    _mark_dev_chain(w3)
    return Chain(w3, "embedded", accounts, _tester=tester)


def url_accounts() -> list[LocalAccount]:
    """Signers for a URL chain: ``$MEDLEDGER_PRIVATE_KEY``, or ``$MEDLEDGER_KEYSTORE`` decrypted
    with ``$MEDLEDGER_KEYSTORE_PASSWORD``. None at all is allowed for read-only use."""
    key = os.environ.get("MEDLEDGER_PRIVATE_KEY")
    keystore = os.environ.get("MEDLEDGER_KEYSTORE")
    if key:
        return [load_key(key)]
    if keystore:
        return [load_keystore(Path(keystore), os.environ.get("MEDLEDGER_KEYSTORE_PASSWORD"))]
    return []


def load_key(key: str) -> LocalAccount:
    """A signer from a hex private key, with an error that never repeats the key."""
    try:
        return cast(LocalAccount, Account.from_key(key.strip()))
    except Exception:  # noqa: BLE001 - the message of the underlying error may echo the key
        raise ConfigurationError("the private key is not a valid 32-byte hex key") from None


def load_keystore(path: Path, password: str | None) -> LocalAccount:
    """A signer from an encrypted JSON keystore file (web3 secret storage)."""
    if password is None:
        raise ConfigurationError(f"keystore {path} needs a password (MEDLEDGER_KEYSTORE_PASSWORD)")
    try:
        encrypted = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigurationError(f"cannot read keystore {path}: {exc.strerror}") from None
    except json.JSONDecodeError:
        raise ConfigurationError(f"keystore {path} is not a JSON keystore file") from None
    try:
        key = Account.decrypt(encrypted, password)
    except ValueError:
        raise ConfigurationError(f"wrong password for keystore {path}") from None
    return cast(LocalAccount, Account.from_key(key))


def connect_url(url: str, accounts: list[LocalAccount] | None = None, timeout: float = 10.0) -> Chain:
    """Connect to an ``http(s)://`` or ``ws(s)://`` RPC URL and check that it answers."""
    if url.startswith(("http://", "https://")):
        w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": timeout}))
    elif url.startswith(("ws://", "wss://")):
        from medledger.providers import SyncWebSocketProvider

        w3 = Web3(SyncWebSocketProvider(url, timeout=timeout))
    else:
        raise ConfigurationError(
            f"unknown chain {url!r}: use embedded, anvil, ganache or an http(s):// or ws(s):// URL"
        )
    try:
        w3.eth.chain_id
    except (Web3Exception, OSError, ValueError) as exc:
        raise NodeNotRunning(f"no node answers at {url} ({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - requests/websockets errors vary by transport
        raise NodeNotRunning(f"no node answers at {url} ({type(exc).__name__})") from None
    return Chain(w3, "url", accounts if accounts is not None else url_accounts())


def connect_local(url: str, kind: Literal["anvil", "ganache"], node: LocalNode | None = None) -> Chain:
    """Connect to a local node at ``url`` whose accounts are the dev accounts: one medledger started
    (here, or by ``medledger node start``), so a dev chain (:func:`is_dev_chain`)."""
    chain = connect_url(url, accounts=dev_accounts())
    chain.kind = kind
    chain.node = node
    _mark_dev_chain(chain.w3)
    return chain


def connect(target: str = "embedded", **node_options: Any) -> Chain:
    """Connect by name: ``embedded`` (the default), ``anvil`` or ``ganache`` (a new node started
    from node_modules and stopped on close), or an RPC URL."""
    if target == "embedded":
        return embedded()
    if target in LOCAL_NODES:
        kind: Literal["anvil", "ganache"] = "anvil" if target == "anvil" else "ganache"
        node = start_node(kind, **node_options)
        try:
            return connect_local(node.url, kind, node)
        except BaseException:
            node.stop()
            raise
    return connect_url(target)
