"""``medledger web``: the patient wallet page, served on 127.0.0.1.

The page (``web/``) is static: plain HTML, CSS and an ES module using ethers (the pinned npm
package, served from node_modules), with no build step. The server adds what the page cannot know:

- ``GET /config.json``: chain id, the addresses and ABIs of the contracts the page calls, the
  record categories and purposes, and the relayer's URL;
- ``GET /api/grant-typed-data?patient=&grantee=&categories=&days=``: the EIP-712 ``Grant`` to
  sign, built by :mod:`medledger.consent` with the patient's current nonce, so the wallet signs
  exactly the typed data the library and the contract check.

The page talks to the chain through the wallet (EIP-1193); nothing it shows or signs passes
through this server except that typed-data request, which holds addresses and terms only.
"""

from __future__ import annotations

import io
import json
import mimetypes
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from medledger.client import MedLedger
from medledger.errors import ChainError, ConfigurationError, InvalidInput, MedLedgerError
from medledger.toolchain import load_artifact, project_root
from medledger.transactions import translate
from medledger.types import Purpose, RecordCategory

#: The contracts the page calls, through the wallet.
PAGE_CONTRACTS = ("PatientRegistry", "ConsentManager", "RecordRegistry")
DAY = 24 * 3600


#: ``medledger web``'s port, and so the origins of the wallet page the relayer answers by default.
WEB_PORT = 8600
WALLET_PAGE_ORIGINS = (f"http://127.0.0.1:{WEB_PORT}", f"http://localhost:{WEB_PORT}")

#: Both servers: this many worker threads, and at most this many connections waiting for one.
WORKERS = 8
QUEUED = 32
#: A silent client is dropped after this many seconds without a byte; a trickling one (slowloris)
#: after this many seconds in all to send its request.
READ_TIMEOUT = 10.0
REQUEST_DEADLINE = 30.0
#: The names of the loopback address both servers listen on, as a ``Host`` header spells them.
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})


class Refused(MedLedgerError):
    """A request answered with ``status`` and a typed body ``{"error", "code", **details}``."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = dict(headers or {})
        self.details = details


def split_host(value: str) -> tuple[str, int | None] | None:
    """A ``Host`` header (or a configured name) as (lower-case name, port or None); None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        name, rest = (value[: end + 1], value[end + 1 :]) if end > 0 else ("", "")
    else:
        name, colon, port = value.partition(":")
        rest = colon + port
    if not name or any(c in name for c in "/@?# \t"):
        return None
    if not rest:
        return name, None
    if rest[0] != ":" or not rest[1:].isdigit() or not 0 < int(rest[1:]) < 65536:
        return None
    return name, int(rest[1:])


def parse_public_names(values: Iterable[str]) -> frozenset[tuple[str, int | None]]:
    """Public names (``NAME`` or ``NAME:PORT``) a server is also reached by, checked."""
    names = set()
    for value in values:
        parsed = split_host(value)
        if parsed is None:
            raise ConfigurationError(f"a public name is a host name with an optional :PORT, not {value!r}")
        names.add(parsed)
    return frozenset(names)


class _DeadlineReader(io.RawIOBase):
    """A socket's bytes, each read bounded by ``timeout`` and all of them by ``deadline``
    (monotonic seconds): a client that trickles a byte now and then still runs out of time."""

    def __init__(self, sock: socket.socket, timeout: float, deadline: float) -> None:
        self._sock, self._timeout, self._deadline = sock, timeout, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request took too long to arrive")
        self._sock.settimeout(min(self._timeout, left))
        return self._sock.recv_into(buffer)


class JsonHandler(BaseHTTPRequestHandler):
    """Shared plumbing: JSON answers, CORS for allowed origins only, quiet logs (addresses only),
    bounded reads (see :data:`READ_TIMEOUT` and :data:`REQUEST_DEADLINE`), and only requests
    addressed to this server.

    A request is answered only if its ``Host`` names the address the server listens on
    (``127.0.0.1:PORT``, ``localhost:PORT`` or ``[::1]:PORT``) or one of its configured
    :attr:`public_names`; any other (or none) is refused 421 before anything else is done. A
    browser always sends the name it resolved, so a page of another site that rebinds its own name
    to 127.0.0.1 (DNS rebinding) cannot read ``/health``, ``/config.json`` or anything else."""

    server_version = "medledger"
    #: Browser origins allowed to read answers (CORS); none by default: a page served by the same
    #: server needs no CORS. ``"*"`` allows any.
    allow_origins: tuple[str, ...] = ()
    #: Names the server is also reached by (e.g. behind a proxy), with a port, or None for any.
    public_names: frozenset[tuple[str, int | None]] = frozenset()
    timeout = READ_TIMEOUT
    request_deadline = REQUEST_DEADLINE

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.addressed_here(self.headers.get("Host")):
            return True
        self.close_connection = True
        self.send_error_json(HTTPStatus.MISDIRECTED_REQUEST,
                             "this server answers only requests addressed to it (Host: the loopback address and "
                             "port it listens on, or a configured public name)", "wrong_host")  # fmt: skip
        return False

    def addressed_here(self, host: str | None) -> bool:
        """Whether a ``Host`` header names this server (see the class's description)."""
        parsed = split_host(host) if host else None
        if parsed is None:
            return False
        name, port = parsed
        if name in LOOPBACK_NAMES:
            address = self.server.server_address
            return isinstance(address, tuple) and (80 if port is None else port) == int(address[1])
        return any(name == known and known_port in (None, port) for known, known_port in self.public_names)

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.timeout)
        reader = _DeadlineReader(self.connection, self.timeout, time.monotonic() + self.request_deadline)
        self.rfile = io.BufferedReader(reader)

    def read_body(self, limit: int) -> bytes:
        """The request's body, of 1 to ``limit`` bytes (else a 400 or 413 answer)."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise Refused(HTTPStatus.BAD_REQUEST, "bad_request", "Content-Length must be a number") from None
        if length <= 0:
            raise Refused(HTTPStatus.BAD_REQUEST, "bad_request", f"the body must be JSON of at most {limit} bytes")
        if length > limit:
            raise Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large", f"the body must be at most {limit} bytes")
        return self.rfile.read(length)

    def _cors(self) -> None:
        origin = self.headers.get("Origin")
        if "*" in self.allow_origins:
            self.send_header("Access-Control-Allow-Origin", "*")
        elif origin and origin in self.allow_origins:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self._cors()
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_error_json(self, status: int, message: str, code: str = "not_found") -> None:
        self.send_json(status, {"error": message, "code": code})

    def send_failure(self, exc: Exception) -> None:
        """A refused request (4xx, typed) or a node that failed (502), with the reason; never a traceback."""
        if isinstance(exc, Refused):
            self.send_json(exc.status, {"error": str(exc), "code": exc.code, **exc.details}, exc.headers)
        elif isinstance(exc, ChainError) or not isinstance(exc, MedLedgerError | ValueError | KeyError | TypeError):
            self.send_error_json(HTTPStatus.BAD_GATEWAY, str(translate(exc)), "node_failed")
        elif isinstance(exc, KeyError):
            self.send_error_json(HTTPStatus.BAD_REQUEST, f"the request lacks {exc.args[0]!r}", "bad_request")
        else:
            self.send_error_json(HTTPStatus.BAD_REQUEST, str(exc) or type(exc).__name__, "bad_request")

    def do_OPTIONS(self) -> None:  # noqa: N802 - CORS preflight
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors()
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type, Authorization")
        self.send_header("Access-Control-Max-Age", "600")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Requests are not logged: query strings carry wallet addresses, and logs outlive them."""


class _PooledHTTPServer(HTTPServer):
    """An HTTP server whose connections are handled by ``workers`` threads, with at most
    ``queued`` connections waiting; beyond that a connection is answered 503 and closed at once,
    so no number of clients makes the server start more threads."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], workers: int, queued: int) -> None:
        self._waiting: queue.Queue[tuple[Any, Any] | None] = queue.Queue(maxsize=max(1, queued))
        self._workers: list[threading.Thread] = []
        super().__init__(address, handler)  # binds (or fails, closing: so the fields come first)
        self._workers = [threading.Thread(target=self._work, daemon=True, name=f"medledger-http-{i}") for i in range(workers)]
        for worker in self._workers:
            worker.start()

    def process_request(self, request: Any, client_address: Any) -> None:
        try:
            self._waiting.put_nowait((request, client_address))
        except queue.Full:
            self._busy(request)
            self.shutdown_request(request)

    @staticmethod
    def _busy(request: socket.socket) -> None:
        body = b'{"error": "the server is busy: try again shortly", "code": "busy"}'
        head = (f"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n")  # fmt: skip
        try:
            request.settimeout(1.0)
            request.sendall(head.encode() + body)
        except OSError:
            pass

    def _work(self) -> None:
        while (item := self._waiting.get()) is not None:
            request, client_address = item
            try:
                self.finish_request(request, client_address)
            except Exception:  # noqa: BLE001 - a broken connection ends that connection only
                pass
            finally:
                self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        for _ in self._workers:
            try:
                self._waiting.put_nowait(None)
            except queue.Full:
                break


class Server:
    """An HTTP server on 127.0.0.1 with a bounded pool of workers and bounded reads, answering only
    requests addressed to it (:class:`JsonHandler`; ``public_names``: ``NAME`` or ``NAME:PORT`` it
    is also reached by, e.g. behind a reverse proxy), started and stopped by its owner."""

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        host: str,
        port: int,
        *,
        workers: int = WORKERS,
        queued: int = QUEUED,
        timeout: float = READ_TIMEOUT,
        request_deadline: float = REQUEST_DEADLINE,
        public_names: Iterable[str] = (),
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigurationError(f"the server listens on loopback only, not {host!r}")
        if workers < 1 or queued < 0 or timeout <= 0 or request_deadline <= 0:
            raise ConfigurationError("workers must be at least 1, and timeouts positive")
        settings = {"timeout": timeout, "request_deadline": request_deadline,
                    "public_names": parse_public_names(public_names)}  # fmt: skip
        bounded = type(handler.__name__, (handler,), settings)
        try:
            self.httpd = _PooledHTTPServer((host, port), bounded, workers, queued)
        except OSError as exc:
            raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> Server:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread is not None:
            self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def page_config(ledger: MedLedger, relay_url: str | None) -> dict[str, Any]:
    return {
        "chainId": ledger.deployment.chain_id,
        "contracts": {
            name: {"address": ledger.deployment.address(name), "abi": load_artifact(name)["abi"]}
            for name in PAGE_CONTRACTS
        },
        "deployedAt": min(c.block for c in ledger.deployment.contracts.values()),
        "categories": [c.name.lower().replace("_", "-") for c in RecordCategory],
        "purposes": [p.name.lower().replace("_", "-") for p in Purpose],
        "relayUrl": relay_url,
    }


def web_server(
    ledger: MedLedger,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    relay_url: str | None = None,
    root: Path | None = None,
    **limits: Any,
) -> Server:
    """The wallet page's server (not started). ``port`` 0 picks a free port; ``limits`` are
    :class:`Server`'s (workers, queued, timeout, request_deadline)."""
    root = root or project_root()
    files = {
        "/": root / "web" / "index.html",
        "/index.html": root / "web" / "index.html",
        "/app.js": root / "web" / "app.js",
        "/style.css": root / "web" / "style.css",
        "/vendor/ethers.min.js": root / "node_modules" / "ethers" / "dist" / "ethers.min.js",
    }
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise ConfigurationError(f"the wallet page is incomplete, missing {', '.join(missing)}: run `make setup`")
    config = page_config(ledger, relay_url)
    lock = threading.Lock()  # web3 providers are not meant to be shared by threads

    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            if url.path == "/config.json":
                self.send_json(HTTPStatus.OK, config)
            elif url.path == "/api/grant-typed-data":
                self._typed_data(parse_qs(url.query))
            elif url.path in files:
                self._file(files[url.path])
            else:
                self.send_error_json(HTTPStatus.NOT_FOUND, f"no such page: {url.path}")

        def _file(self, path: Path) -> None:
            data = path.read_bytes()
            kind = "text/javascript" if path.suffix == ".js" else mimetypes.guess_type(path.name)[0] or "text/plain"
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _typed_data(self, query: dict[str, list[str]]) -> None:
            def one(name: str) -> str:
                values = query.get(name)
                if not values or not values[0]:
                    raise InvalidInput(f"missing {name}")
                return values[0]

            try:
                days = int(one("days"))
                if not 1 <= days <= 3650:
                    raise InvalidInput(f"days must be 1 to 3650, got {days}")
                with lock:
                    now = ledger.consent.block_time()
                    typed = ledger.consent.grant_typed_data(
                        one("patient"), one("grantee"), one("categories"),
                        purpose=query.get("purpose", ["treatment"])[0], valid_until=now + days * DAY,
                    )  # fmt: skip
            except Exception as exc:  # noqa: BLE001 - every failure is an answer, not a traceback
                self.send_failure(exc)
                return
            self.send_json(HTTPStatus.OK, typed)

    return Server(Handler, host, port, **limits)


def serve_until_interrupted(server: Server, announce: Callable[[str], None]) -> None:
    """Run ``server`` in the foreground until Ctrl-C."""
    server.start()
    announce(server.url)
    try:
        assert server.thread is not None
        while server.thread.is_alive():
            server.thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
