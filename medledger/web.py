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

import json
import mimetypes
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class JsonHandler(BaseHTTPRequestHandler):
    """Shared plumbing: JSON answers, CORS for the page's origin, quiet logs (addresses only)."""

    server_version = "medledger"
    allow_origin = "*"

    def send_json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", self.allow_origin)
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def send_error_json(self, status: int, message: str) -> None:
        self.send_json(status, {"error": message})

    def send_failure(self, exc: Exception) -> None:
        """A refused request (400) or a node that failed (502), with the reason; never a traceback."""
        if isinstance(exc, ChainError) or not isinstance(exc, MedLedgerError | ValueError | KeyError | TypeError):
            self.send_error_json(HTTPStatus.BAD_GATEWAY, str(translate(exc)))
        elif isinstance(exc, KeyError):
            self.send_error_json(HTTPStatus.BAD_REQUEST, f"the request lacks {exc.args[0]!r}")
        else:
            self.send_error_json(HTTPStatus.BAD_REQUEST, str(exc) or type(exc).__name__)

    def do_OPTIONS(self) -> None:  # noqa: N802 - CORS preflight
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Access-Control-Allow-Origin", self.allow_origin)
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Requests are not logged: query strings carry wallet addresses, and logs outlive them."""


class Server:
    """A threaded HTTP server on 127.0.0.1, started and stopped by its owner."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str, port: int) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigurationError(f"the server listens on loopback only, not {host!r}")
        try:
            self.httpd = ThreadingHTTPServer((host, port), handler)
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
) -> Server:
    """The wallet page's server (not started). ``port`` 0 picks a free port."""
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

    return Server(Handler, host, port)


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
