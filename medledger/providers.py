"""A synchronous JSON-RPC provider over WebSocket.

web3.py 8 keeps only an asyncio WebSocketProvider; medledger's client is synchronous, so ws(s)://
URLs go through this small provider built on the `websockets` package's sync client (a web3
dependency already). One connection, one request at a time, guarded by a lock.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from typing import Any

from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse
from websockets.sync.client import ClientConnection, connect


class SyncWebSocketProvider(JSONBaseProvider):
    def __init__(self, endpoint_uri: str, timeout: float = 10.0) -> None:
        super().__init__()
        self.endpoint_uri = endpoint_uri
        self.timeout = timeout
        self._connection: ClientConnection | None = None
        self._stack = ExitStack()
        self._lock = threading.Lock()

    def _socket(self) -> ClientConnection:
        if self._connection is None:
            self._connection = self._stack.enter_context(
                connect(self.endpoint_uri, open_timeout=self.timeout, max_size=None)
            )
        return self._connection

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        request = self.encode_rpc_request(method, params)
        with self._lock:
            connection = self._socket()
            try:
                connection.send(request.decode())
                raw = connection.recv(timeout=self.timeout)
            except Exception:
                self.close()
                raise
        return self.decode_rpc_response(raw if isinstance(raw, bytes) else raw.encode())

    def is_connected(self, show_traceback: bool = False) -> bool:
        try:
            return "result" in self.make_request(RPCEndpoint("web3_clientVersion"), [])
        except Exception:
            if show_traceback:
                raise
            return False

    def close(self) -> None:
        self._stack.close()
        self._connection = None
