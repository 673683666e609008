"""A wallet-side file of one account's off-chain secrets: its encryption private key and salts.

The chain holds only public keys and salted hashes; what opens them stays here, in a JSON file
readable by its owner only (mode 0600), written atomically. Nothing in it is ever printed.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from pathlib import Path

from medledger.errors import ConfigurationError
from medledger.identity import public_key

ENCRYPTION_KEY = "encryption_private_key"
IDENTITY_SALT = "identity_salt"


class KeyFile:
    """The secrets of one account, kept in ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, str]:
        if not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"key file {self.path} is unreadable ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigurationError(f"key file {self.path} is malformed")
        return {str(k): str(v) for k, v in data.items()}

    def get(self, name: str) -> bytes | None:
        value = self._read().get(name)
        if value is None:
            return None
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise ConfigurationError(f"key file {self.path}: {name} is not hex") from None

    def set(self, name: str, value: bytes) -> None:
        data = self._read()
        data[name] = value.hex()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(self.path, json.dumps(data, indent=2, sort_keys=True))

    def encryption_key(self, create: bool = False) -> bytes:
        """The account's encryption private key; with ``create``, a fresh one is made and kept."""
        key = self.get(ENCRYPTION_KEY)
        if key is None:
            if not create:
                raise ConfigurationError(f"no encryption key in {self.path}: register or publish a key first")
            key = secrets.token_bytes(32)
            public_key(key)  # a 32-byte random value is a valid key with overwhelming probability
            self.set(ENCRYPTION_KEY, key)
        return key

    def encryption_public_key(self, create: bool = False) -> bytes:
        return public_key(self.encryption_key(create))


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (mode 0600), atomically: a crash leaves
    the previous file or the new one, never half of either."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
