"""Encrypted off-chain records: AES-GCM ciphertexts in a folder, keys wrapped per reader with ECIES.

Writing: :func:`seal` encrypts a record with a fresh 256-bit key (AES-GCM, the patient and the
category bound in as associated data), names the ciphertext by its SHA-256 (the id anchored on
chain), and wraps the key with ECIES for each recipient's secp256k1 public key. Sharing with one
more reader (:meth:`Vault.share`) re-wraps the key; the ciphertext is never re-encrypted.

Serving: :meth:`Vault.serve` hands out a ciphertext and the reader's wrapped key only against a
logged read: the reader presents the transaction of its ``RecordAccessed`` entry and a signature by
its wallet over the request. The vault checks the signature, the receipt's event (reader, record,
and the anchored record's patient and category), the entry's age, that the reader's access still
holds, and that the entry was not used before. A read that skips the log gets nothing, so the
on-chain trail is complete by construction.

Confirmations: the vault serves only against a logged read the chain will keep. The entry's block
must still be on the chain and have ``confirmations`` blocks mined on top of it (default: 0 on a
local dev chain, :data:`NETWORK_CONFIRMATIONS` elsewhere), or lie at or below the node's
``finalized`` block where the node has one (probed once per chain; on dev chains their
``finalized`` tag means nothing and is not used). A dev chain is one medledger knows is one
(:func:`medledger.chain.is_dev_chain`: the embedded chain, a node medledger started, or an anvil,
Ganache or eth-tester node on a dev chain id), never a chain id alone: a private network on id
1337 or 31337 waits for its confirmations like any other. A read not yet that deep raises
:class:`ReadNotConfirmed` ("retry"), which uses nothing up: the same request is served once the
read is confirmed, unless a reorganisation dropped it, which makes it a refusal.

A vault may hold a custodian key (the operator's, e.g. the hospital's records service): keys are
then also wrapped for it, and the vault can wrap a record's key for a reader who was never given
one (a referred hospital, a break-glass doctor) after the checks above pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import ecies
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3.exceptions import BlockNotFound, Web3RPCError
from web3.logs import DISCARD

from medledger.chain import is_dev_chain
from medledger.client.base import bytes32, checksum
from medledger.errors import ChainError, ConfigurationError, MedLedgerError
from medledger.identity import compressed_public_key
from medledger.types import RecordCategory

if TYPE_CHECKING:
    from web3 import Web3

    from medledger.client.facade import MedLedger

NONCE_BYTES = 12
#: How old a logged read may be when the reader presents it, by default.
DEFAULT_MAX_LOG_AGE = 15 * 60
#: Blocks mined on top of a logged read before the vault serves it, on a chain that is not a
#: local dev chain, unless the node's ``finalized`` block already covers it. Twelve is the usual
#: depth for Ethereum-like chains (about 2.4 minutes on mainnet, well inside DEFAULT_MAX_LOG_AGE).
NETWORK_CONFIRMATIONS = 12
#: The confirmation setting that accepts only reads at or below the node's finalized block.
FINALIZED: Literal["finalized"] = "finalized"
#: How deep a logged read must be: blocks on top of its block, or ``"finalized"``.
Confirmations = int | Literal["finalized"]


class VaultError(MedLedgerError):
    """The vault cannot do what was asked (unknown record, missing key, bad request)."""


class ReadRefused(VaultError):
    """The vault refuses to serve: the read was not logged, not by this reader, or no longer allowed."""


class ReadNotConfirmed(VaultError):
    """The logged read is on chain but not yet as deep as this vault requires: retry later.

    Not a refusal: nothing was used up, and the same request is served once the read is confirmed.
    ``confirmations`` is how many blocks sit on top of the read's block now, ``required`` the
    setting (a number or ``"finalized"``), ``finalized`` the node's finalized block if it has one."""

    def __init__(self, block: int, confirmations: int, required: Confirmations, finalized: int | None) -> None:
        self.block = block
        self.confirmations = confirmations
        self.required = required
        self.finalized = finalized
        if required == FINALIZED:
            shown = "none" if finalized is None else str(finalized)
            progress = f"block {block} is not finalized yet (finalized: {shown})"
        else:
            progress = f"{confirmations} of {required} confirmations"
        self.progress = progress
        super().__init__(f"the access-log entry is not confirmed yet: {progress}, retry")


class TamperedRecord(VaultError):
    """The ciphertext or its key was altered: the hash or the AES-GCM tag does not match."""


def default_confirmations(w3: Web3) -> int:
    """The depth the vault waits for on ``w3``'s chain unless told: 0 on a local dev chain
    (:func:`medledger.chain.is_dev_chain`), where only its user's own revert drops a block, else
    :data:`NETWORK_CONFIRMATIONS`."""
    return 0 if is_dev_chain(w3) else NETWORK_CONFIRMATIONS


def parse_confirmations(value: str | int) -> Confirmations:
    """A confirmation setting from text: a number of blocks (0 or more) or ``finalized``."""
    text = str(value).strip().lower()
    if text == FINALIZED:
        return FINALIZED
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 0:
        raise ConfigurationError(f"confirmations must be a number of blocks (0 or more) or 'finalized', got {value!r}")
    return count


def record_aad(patient: str, category: RecordCategory | str | int) -> bytes:
    """Associated data: a ciphertext opens only as the record of this patient and category."""
    code = int(RecordCategory.parse(category))
    return b"medledger.record.v1" + bytes.fromhex(checksum(patient, "patient")[2:]) + bytes([code])


def _record_hex(record: bytes | str) -> str:
    return bytes32(record, "record id").hex()


@dataclass(frozen=True)
class Sealed:
    record: bytes  # SHA-256 of the ciphertext: the id to anchor
    uri: str  # where the vault serves it
    recipients: list[str]


@dataclass(frozen=True)
class ReadRequest:
    """What a reader presents: the record, its access-log transaction, and its signature over both."""

    record: bytes
    reader: str
    log_tx: str  # 0x-prefixed, lower case
    chain_id: int
    vault: str  # the id of the vault asked, so a request serves at one vault only
    signature: bytes

    @staticmethod
    def text(record: bytes, reader: str, log_tx: str, chain_id: int, vault: str) -> str:
        return (
            "medledger vault read\n"
            f"record: 0x{record.hex()}\nreader: {to_checksum_address(reader)}\n"
            f"access log transaction: {log_tx}\nchain: {chain_id}\nvault: {vault}"
        )

    @classmethod
    def sign(
        cls, account: LocalAccount, record: bytes | str, log_tx: str, chain_id: int, vault: str
    ) -> ReadRequest:
        key = bytes32(record, "record id")
        tx = "0x" + bytes32(log_tx, "access-log transaction hash").hex()
        message = encode_defunct(text=cls.text(key, account.address, tx, chain_id, vault))
        return cls(key, account.address, tx, chain_id, vault, bytes(account.sign_message(message).signature))

    def signer(self) -> str:
        message = encode_defunct(text=self.text(self.record, self.reader, self.log_tx, self.chain_id, self.vault))
        try:
            return str(Account.recover_message(message, signature=self.signature))
        except Exception:  # noqa: BLE001 - any malformed signature is a refusal
            raise ReadRefused("the read request's signature is malformed") from None

    def to_json(self) -> str:
        return json.dumps({
            "record": "0x" + self.record.hex(), "reader": self.reader, "log_tx": self.log_tx,
            "chain_id": self.chain_id, "vault": self.vault, "signature": "0x" + self.signature.hex(),
        }, indent=2)  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> ReadRequest:
        try:
            raw = json.loads(text)
            return cls(bytes32(raw["record"], "record id"), to_checksum_address(raw["reader"]),
                       "0x" + bytes32(raw["log_tx"], "access-log transaction hash").hex(), int(raw["chain_id"]),
                       str(raw["vault"]), bytes.fromhex(str(raw["signature"]).removeprefix("0x")))  # fmt: skip
        except (ValueError, KeyError, TypeError, MedLedgerError) as exc:
            raise VaultError(f"the read request is malformed ({exc})") from None


@dataclass(frozen=True)
class Delivery:
    """What the vault hands a reader: the ciphertext and the record key wrapped for that reader."""

    record: bytes
    ciphertext: bytes
    wrapped_key: bytes


def open_delivery(delivery: Delivery, private_key: bytes, patient: str, category: RecordCategory | str | int) -> bytes:
    """Decrypt a delivery with the reader's encryption private key; fail loudly on any tampering."""
    if hashlib.sha256(delivery.ciphertext).digest() != delivery.record:
        raise TamperedRecord("the ciphertext does not hash to the record id anchored on chain")
    try:
        key = ecies.decrypt(private_key, delivery.wrapped_key)
    except Exception:  # noqa: BLE001 - eciespy raises several kinds for a wrong key or altered data
        raise TamperedRecord("the wrapped key does not open with this private key (wrong key or altered)") from None
    return _decrypt(delivery.ciphertext, key, patient, category)


def _decrypt(ciphertext: bytes, key: bytes, patient: str, category: RecordCategory | str | int) -> bytes:
    aad = record_aad(patient, category)
    nonce, body = ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except (InvalidTag, ValueError):
        raise TamperedRecord("the ciphertext fails its AES-GCM check: altered, or not this patient's record") from None


class Vault:
    """A folder of ciphertexts (``objects/<sha256>``) and wrapped keys (``keys/<sha256>/<address>``)."""

    def __init__(
        self,
        root: Path,
        *,
        custodian_key: bytes | None = None,
        max_log_age: int = DEFAULT_MAX_LOG_AGE,
        confirmations: Confirmations | None = None,
    ) -> None:
        self.root = root
        self._custodian_key = custodian_key
        self.custodian = Account.from_key(custodian_key).address if custodian_key else None
        self.max_log_age = max_log_age
        #: Blocks on top of a logged read before it is served, or "finalized"; None: the chain's default.
        self.confirmations = None if confirmations is None else parse_confirmations(confirmations)
        #: Per chain id: whether the node answers the ``finalized`` block tag (asked once).
        self._has_finalized: dict[int, bool] = {}
        for folder in ("objects", "keys", "sealed", "served"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        identity = root / "vault-id"
        if not identity.is_file():
            self._write(identity, secrets.token_hex(16).encode())
        #: Named in every read request, so an access-log entry is served by one vault only.
        self.id = identity.read_text().strip()

    # ─── Writing ─────────────────────────────────────────────────────────────────────────

    def seal(
        self,
        plaintext: bytes,
        patient: str,
        category: RecordCategory | str | int,
        recipients: dict[str, bytes],
    ) -> Sealed:
        """Encrypt ``plaintext`` as ``patient``'s record of ``category`` and wrap its key for each
        recipient (address → encryption public key) and for the custodian, if any."""
        category = RecordCategory.parse(category)
        key = AESGCM.generate_key(bit_length=256)
        nonce = secrets.token_bytes(NONCE_BYTES)
        ciphertext = nonce + AESGCM(key).encrypt(nonce, plaintext, record_aad(patient, category))
        record = hashlib.sha256(ciphertext).digest()
        self._write(self.root / "objects" / record.hex(), ciphertext)
        # What it was sealed as: the vault serves it only if it is anchored as exactly that, so a
        # record anchored first by someone else (its hash seen in a pending transaction) is refused.
        sealed_as = json.dumps({"patient": checksum(patient, "patient"), "category": int(category)})
        self._write(self.root / "sealed" / record.hex(), sealed_as.encode())
        wrapped_for = dict(recipients)
        if self._custodian_key is not None and self.custodian is not None:
            from medledger.identity import public_key

            wrapped_for[self.custodian] = public_key(self._custodian_key)
        for address, public in wrapped_for.items():
            self._wrap(record, address, public, key)
        return Sealed(record, self.uri(record), sorted(checksum(a) for a in wrapped_for))

    def share(self, record: bytes | str, holder: str, holder_private_key: bytes, reader: str, reader_key: bytes) -> None:
        """Wrap ``record``'s key for one more reader, from a holder's wrapped key: no re-encryption."""
        key = self._unwrap(_record_hex(record), holder, holder_private_key)
        self._wrap(bytes32(record, "record id"), reader, reader_key, key)

    def uri(self, record: bytes) -> str:
        return f"vault://{record.hex()}"

    def ciphertext(self, record: bytes | str) -> bytes:
        path = self.root / "objects" / _record_hex(record)
        if not path.is_file():
            raise VaultError(f"record 0x{_record_hex(record)} is not in this vault")
        return path.read_bytes()

    def holders(self, record: bytes | str) -> list[str]:
        folder = self.root / "keys" / _record_hex(record)
        return sorted(to_checksum_address(p.name) for p in folder.iterdir()) if folder.is_dir() else []

    # ─── Serving ─────────────────────────────────────────────────────────────────────────

    def required_confirmations(self, w3: Web3) -> Confirmations:
        """How deep a logged read must be on ``w3``'s chain: the setting, else the chain's default."""
        return self.confirmations if self.confirmations is not None else default_confirmations(w3)

    def serve(self, request: ReadRequest, ledger: MedLedger) -> Delivery:
        """The ciphertext and the reader's wrapped key, once, for a read logged on chain and
        confirmed (:class:`ReadNotConfirmed` until it is; that attempt uses nothing up)."""
        record_hex = request.record.hex()
        ciphertext = self.ciphertext(request.record)
        if request.signer().lower() != request.reader.lower():
            raise ReadRefused("the read request was not signed by the reader it names")
        if request.vault != self.id:
            raise ReadRefused(f"the read request is for vault {request.vault}, not this one ({self.id})")
        if request.chain_id != ledger.transactor.chain_id:
            raise ReadRefused(f"the read request is for chain {request.chain_id}, this vault serves {ledger.transactor.chain_id}")
        entry = self._logged_entry(request, ledger)
        anchored = ledger.records.get(request.record)
        if not anchored.exists:
            raise ReadRefused(f"record 0x{record_hex} is not anchored on chain")
        sealed_as = self._sealed_as(record_hex)
        if sealed_as != (anchored.patient.lower(), int(anchored.category)):
            raise ReadRefused("the record is anchored for another patient or category than it was sealed for")
        if (entry["patient"].lower(), int(entry["category"])) != sealed_as:
            raise ReadRefused("the access-log entry names another patient or category than the anchored record")
        if not ledger.consent.can_access(request.reader, anchored.patient, anchored.category):
            raise ReadRefused("the reader's access has ended since the read was logged")
        wrapped = self._wrapped_for(record_hex, request.reader, ledger)
        self._claim(f"{entry['tx_hash']}-{entry['log_index']}")
        return Delivery(request.record, ciphertext, wrapped)

    def _sealed_as(self, record_hex: str) -> tuple[str, int]:
        path = self.root / "sealed" / record_hex
        if not path.is_file():
            raise VaultError(f"record 0x{record_hex} has no sealing record in this vault")
        raw = json.loads(path.read_text())
        return str(raw["patient"]).lower(), int(raw["category"])

    def _logged_entry(self, request: ReadRequest, ledger: MedLedger) -> dict[str, Any]:
        from medledger.transactions import translate

        try:
            receipt = ledger.w3.eth.get_transaction_receipt(request.log_tx)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001
            error = translate(exc)
            raise ReadRefused(f"the access-log transaction {request.log_tx} was not found ({error})") from None
        if receipt is None:
            raise ReadRefused(f"the access-log transaction {request.log_tx} was not found")
        if receipt["status"] != 1:
            raise ReadRefused("the access-log transaction failed")
        consent_address = ledger.consent.address.lower()
        entries = [
            {**event["args"], "log_index": int(event["logIndex"])}
            for event in ledger.consent.contract.events.RecordAccessed().process_receipt(receipt, errors=DISCARD)
            if str(event["address"]).lower() == consent_address
        ]
        matching = [
            e for e in entries
            if bytes(e["record"]) == request.record and str(e["reader"]).lower() == request.reader.lower()
        ]  # fmt: skip
        if not matching:
            raise ReadRefused("the transaction holds no access-log entry of this reader for this record")
        block_time = ledger.records.block_time(int(receipt["blockNumber"]))
        newest = ledger.records.block_time()
        if max(newest, int(time.time())) - block_time > self.max_log_age:
            raise ReadRefused(f"the access-log entry is older than {self.max_log_age} s: log the read again")
        self._require_kept(receipt, ledger)
        return {
            "patient": str(matching[0]["patient"]),
            "category": int(matching[0]["category"]),
            "tx_hash": "0x" + bytes(receipt["transactionHash"]).hex(),  # the node's spelling, not the request's
            "log_index": matching[0]["log_index"],
        }

    def serve_when_confirmed(
        self, request: ReadRequest, ledger: MedLedger, *, timeout: float, interval: float = 2.0,
        waiting: Callable[[ReadNotConfirmed], None] | None = None,
    ) -> Delivery:  # fmt: skip
        """:meth:`serve`, asking again every ``interval`` seconds while the read is not confirmed,
        for up to ``timeout`` seconds; then the last :class:`ReadNotConfirmed` is raised.
        ``waiting`` is told each time the answer is "not yet"."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.serve(request, ledger)
            except ReadNotConfirmed as not_yet:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise
                if waiting is not None:
                    waiting(not_yet)
                time.sleep(min(interval, left))

    def _require_kept(self, receipt: Any, ledger: MedLedger) -> None:
        """Refuse an entry whose block left the chain; raise :class:`ReadNotConfirmed` for one
        that is not yet as deep as :meth:`required_confirmations` asks."""
        from medledger.transactions import translate

        w3 = ledger.w3
        number = int(receipt["blockNumber"])
        chain_id = ledger.transactor.chain_id
        required = self.required_confirmations(w3)
        try:
            canonical = w3.eth.get_block(number)
            head = int(w3.eth.block_number)
        except BlockNotFound:
            canonical = None
        except Exception as exc:  # noqa: BLE001 - never a bare web3 error
            raise translate(exc) from None
        if canonical is None or bytes(canonical["hash"]) != bytes(receipt["blockHash"]):
            raise ReadRefused("the access-log entry's block was reorganised away: log the read again")
        depth = head - number
        if isinstance(required, int) and depth >= required:
            return
        finalized = None
        if required == FINALIZED or not is_dev_chain(w3):
            finalized = self._finalized_block(ledger, chain_id)
            if finalized is not None and number <= finalized:
                return
        if required == FINALIZED and finalized is None:
            raise ConfigurationError(
                f"the node of chain {chain_id} reports no finalized block: set a number of confirmations instead"
            )
        raise ReadNotConfirmed(number, depth, required, finalized)

    def _finalized_block(self, ledger: MedLedger, chain_id: int) -> int | None:
        """The node's finalized block number, or None where the node has no ``finalized`` tag
        (asked once per chain: a node that refuses it then is counted by block number after)."""
        from medledger.transactions import translate

        if self._has_finalized.get(chain_id) is False:
            return None
        try:
            block = ledger.w3.eth.get_block("finalized")
        except (Web3RPCError, BlockNotFound, ValueError):
            if chain_id in self._has_finalized:  # it answered before: this is a node failure
                raise ChainError("the node stopped answering for its finalized block") from None
            self._has_finalized[chain_id] = False
            return None
        except Exception as exc:  # noqa: BLE001
            raise translate(exc) from None
        self._has_finalized[chain_id] = True
        return int(block["number"])

    def _claim(self, entry: str) -> None:
        """One logged read, one delivery: remember the log entry, refuse it a second time."""
        marker = self.root / "served" / entry
        try:
            descriptor = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            raise ReadRefused("this access-log entry was already used for a read: log the read again") from None
        os.close(descriptor)

    def _wrapped_for(self, record_hex: str, reader: str, ledger: MedLedger) -> bytes:
        path = self._key_path(record_hex, reader)
        if path.is_file():
            return path.read_bytes()
        if self._custodian_key is None or self.custodian is None:
            raise VaultError(f"no key of this record is wrapped for {checksum(reader)}: ask the patient to share it")
        published = ledger.patients.encryption_key(reader)
        if not published:
            raise VaultError(f"{checksum(reader)} has published no encryption key: `medledger key publish` first")
        key = self._unwrap(record_hex, self.custodian, self._custodian_key)
        self._wrap(bytes.fromhex(record_hex), reader, published, key)
        return path.read_bytes()

    # ─── Files ───────────────────────────────────────────────────────────────────────────

    def _key_path(self, record_hex: str, address: str) -> Path:
        return self.root / "keys" / record_hex / checksum(address, "address").lower()

    def _wrap(self, record: bytes, address: str, public: bytes, key: bytes) -> None:
        wrapped = ecies.encrypt(compressed_public_key(public), key)
        self._write(self._key_path(record.hex(), address), wrapped)

    def _unwrap(self, record_hex: str, holder: str, private_key: bytes) -> bytes:
        path = self._key_path(record_hex, holder)
        if not path.is_file():
            raise VaultError(f"no key of record 0x{record_hex} is wrapped for {checksum(holder)}")
        try:
            return bytes(ecies.decrypt(private_key, path.read_bytes()))
        except Exception:  # noqa: BLE001
            raise TamperedRecord("the holder's wrapped key does not open with the given private key") from None

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        temporary.write_bytes(data)
        os.replace(temporary, path)
