"""``medledger relay``: an HTTP endpoint that relays signed grants and revocations, paying the gas.

``POST /relay`` takes a signed consent as ``medledger consent sign`` writes it (``{"typedData",
"signer", "signature"}``). A relayer spends its own money for others, so it bounds what it pays
(DESIGN.md, "Trust rules"): per transaction, per signer, per period, and it never pays for a
signature it cannot check cheaply. In this order, before any gas is spent:

- an API key, if one is sent (``Authorization: Bearer KEY``), is one of the relayer's: 401;
- it is a ``Grant`` or ``Revoke`` for this chain's ConsentManager, with the contract's types,
  uints as numbers or 0x-hex, booleans as JSON booleans (:func:`medledger.consent.parse_typed_data`);
- the signature recovers to the signer, or the signer is a contract wallet (allow-listed if the
  policy lists them) whose ERC-1271 ``isValidSignature`` accepts it in an ``eth_call`` of at most
  :attr:`RelayPolicy.wallet_check_gas`: a wallet that burns gas is refused for that much;
- who may use it (:class:`RelayPolicy`), decided on the verified signer: anyone on a local dev
  chain (:func:`medledger.chain.is_dev_chain`, never a chain id alone); otherwise holders of an
  API key, signers on the allow-list, or the patient or an active delegate of a patient on the
  allow-list (the message's ``patient`` field alone proves nothing): 401/403;
- the signer is the patient or one of the patient's active delegates; the nonce is the patient's
  current one; the deadline leaves a margin past the latest block (two block intervals by
  default), so it cannot expire before the transaction is mined; the terms are well-formed;
- the same signed message did not revert on chain before, with nothing about the signer changed
  since (patient nonce, delegation, wallet code): a message that reverted once (front-run, or a
  wallet that says yes to a dry run and no when mined) is not paid for again;
- the dry run passes and needs at most :attr:`RelayPolicy.max_gas` (a grant costs about 75,000),
  which is also the transaction's gas limit; and the gas budget of the period has room for it;
- the global request rate and the signer's request rate have room: 429 with ``Retry-After``.

The rates count only requests the relayer pays for: one that passed every check above, counted
when it is sent (a transaction mined as a revert was paid for, so it counts). A refused request
(a replayed old signature, a stale nonce, a stranger naming a listed patient, a bad signature)
counts against no one, so nobody spends another signer's allowance, or everyone's, with old or
invalid messages; what such junk costs is bounded by the server's worker pool and read timeouts.
A full rate refuses at once, before the node is asked anything.

The answer is ``{"tx_hash", "block", "gas_used"}``, or ``{"error", "code", ...}`` with a 4xx
status; a node that fails is a 502. A transaction mined as a revert answers 409 with the
contract's decoded error (``reverted_on_chain``), and the same message is refused afterwards
(``reverted_before``).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from eth_abi import encode
from eth_utils import is_address, keccak, to_checksum_address
from web3 import Web3

from medledger import consent as consent_messages
from medledger.chain import is_dev_chain
from medledger.client import MedLedger
from medledger.client.consent import GrantTerms
from medledger.consent import SignedMessage
from medledger.errors import ConfigurationError, ContractError, GasError, InvalidInput, MedLedgerError
from medledger.transactions import gas_limit
from medledger.web import WALLET_PAGE_ORIGINS, JsonHandler, Refused, Server

MAX_BODY = 64 * 1024
#: ERC-1271: ``isValidSignature(bytes32,bytes)``'s selector, also the value meaning "valid".
ERC1271_MAGIC = keccak(text="isValidSignature(bytes32,bytes)")[:4]
#: Failed messages remembered (oldest forgotten first): enough for hours of refusals.
REMEMBERED_FAILURES = 10_000
#: How often the block interval (for the deadline margin) is measured again, in seconds.
INTERVAL_REFRESH = 60.0
#: The header of a 401 answer.
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="medledger relay"'}


@dataclass(frozen=True)
class Window:
    """At most ``limit`` (requests, or gas) in any ``seconds``."""

    limit: int
    seconds: float

    UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    @classmethod
    def parse(cls, text: str, what: str = "a limit") -> Window:
        """``COUNT/PERIOD``: ``10/1h``, ``200/3600`` (seconds), ``5000000/1d``; units s, m, h, d."""
        found = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*([smhd]?)\s*", text)
        if not found or int(found[2]) == 0:
            raise InvalidInput(f"{what} must be COUNT/PERIOD such as 10/1h or 200/3600, got {text!r}")
        return cls(int(found[1]), int(found[2]) * cls.UNITS[found[3] or "s"])

    def __str__(self) -> str:
        for unit, size in reversed(self.UNITS.items()):
            if self.seconds % size == 0:
                return f"{self.limit}/{int(self.seconds // size)}{unit}"
        return f"{self.limit}/{self.seconds}s"


def _addresses(values: Iterable[str], what: str) -> frozenset[str]:
    bad = [v for v in values if not is_address(v)]
    if bad:
        raise InvalidInput(f"{what} {bad[0]!r} is not an Ethereum address")
    return frozenset(to_checksum_address(v) for v in values)


def hash_key(key: str) -> bytes:
    """What the relayer keeps of an API key: its SHA-256 (the key itself is never stored or shown)."""
    return hashlib.sha256(key.strip().encode()).digest()


@dataclass(frozen=True)
class RelayPolicy:
    """What the relayer pays for, and for whom. The defaults suit a local dev chain; on another
    chain ``open`` is off unless set, and an allow-list or API keys are required."""

    #: Gas cap per transaction: a larger dry-run estimate is refused; it is also the gas limit.
    max_gas: int = 150_000
    #: Gas given to a contract wallet's ``isValidSignature`` when checked before sending.
    wallet_check_gas: int = 50_000
    #: Contract wallets accepted as signers: None, any (each checked by ``eth_call``); else only these.
    contract_wallets: frozenset[str] | None = None
    #: Requests per signer, requests in all, and gas spent (reverted transactions too), per period.
    signer_rate: Window = Window(10, 3600)
    global_rate: Window = Window(200, 3600)
    gas_budget: Window = Window(10_000_000, 86400)
    #: Anyone may use it: None, only on a dev chain (:func:`medledger.chain.is_dev_chain`: the
    #: embedded chain, a node medledger started, an anvil or Ganache node; never a chain id alone).
    open: bool | None = None
    #: Patients and signers served: a listed signer, or the patient or an active delegate of a
    #: listed patient (the signer verified first; the message's ``patient`` alone proves nothing).
    allowed: frozenset[str] = frozenset()
    #: SHA-256 of the API keys accepted in ``Authorization: Bearer KEY`` (see :func:`hash_key`).
    api_key_hashes: frozenset[bytes] = frozenset()
    #: Seconds a deadline must leave past the latest block; None: two block intervals, measured.
    deadline_margin: int | None = None
    #: Browser origins allowed to call it (CORS): the wallet page of ``medledger web``.
    allow_origins: tuple[str, ...] = field(default=WALLET_PAGE_ORIGINS)

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed", _addresses(self.allowed, "allowed address"))
        if self.contract_wallets is not None:
            object.__setattr__(self, "contract_wallets", _addresses(self.contract_wallets, "contract wallet"))
        if self.max_gas < 21_000 or self.wallet_check_gas < 1:
            raise InvalidInput("the gas cap must be at least 21000, and the wallet check's gas positive")
        if self.deadline_margin is not None and self.deadline_margin < 0:
            raise InvalidInput("the deadline margin cannot be negative")

    def describe(self, w3: Web3) -> dict[str, Any]:
        """The settings on ``w3``'s chain, for ``/health`` and the CLI (API keys only counted)."""
        return {
            "open": self.is_open(w3),
            "allowed": sorted(self.allowed),
            "api_keys": len(self.api_key_hashes),
            "max_gas": self.max_gas,
            "wallet_check_gas": self.wallet_check_gas,
            "contract_wallets": "any" if self.contract_wallets is None else sorted(self.contract_wallets),
            "signer_rate": str(self.signer_rate),
            "global_rate": str(self.global_rate),
            "gas_budget": str(self.gas_budget),
            "deadline_margin": "two block intervals" if self.deadline_margin is None else self.deadline_margin,
            "allow_origins": list(self.allow_origins),
        }

    def is_open(self, w3: Web3) -> bool:
        """Whether anyone may use it on ``w3``'s chain: the setting, else only on a dev chain."""
        return self.open if self.open is not None else is_dev_chain(w3)


class SlidingLog:
    """What was spent (requests, gas) in the last ``window.seconds``."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self._spent: deque[tuple[float, int]] = deque()
        self._total = 0

    def _prune(self, now: float) -> None:
        while self._spent and self._spent[0][0] <= now - self.window.seconds:
            self._total -= self._spent.popleft()[1]

    def wait(self, amount: int, now: float) -> float:
        """0 if ``amount`` fits now, else the seconds until it does."""
        self._prune(now)
        if self._total + amount <= self.window.limit:
            return 0.0
        if amount > self.window.limit:
            return self.window.seconds
        freed, needed = 0, self._total + amount - self.window.limit
        for at, spent in self._spent:
            freed += spent
            if freed >= needed:
                return at + self.window.seconds - now
        return self.window.seconds

    def total(self, now: float) -> int:
        """What was spent in the window ending ``now``."""
        self._prune(now)
        return self._total

    def add(self, amount: int, now: float) -> None:
        self._spent.append((now, amount))
        self._total += amount

    @property
    def empty(self) -> bool:
        return not self._spent


def _too_many(code: str, message: str, wait: float, **details: Any) -> Refused:
    seconds = max(1, math.ceil(wait))
    return Refused(HTTPStatus.TOO_MANY_REQUESTS, code, f"{message}: retry in {seconds} s",
                   headers={"Retry-After": str(seconds)}, retry_after=seconds, **details)  # fmt: skip


def _bad(code: str, message: str, **details: Any) -> Refused:
    return Refused(HTTPStatus.BAD_REQUEST, code, message, **details)


@dataclass(frozen=True)
class _Failure:
    fingerprint: tuple[Any, ...]
    tx_hash: str
    reason: str


class Relayer:
    """Checks signed consents against the chain and :class:`RelayPolicy`, and sends them as
    ``ledger``'s signer. ``clock`` (monotonic seconds) drives the rate limits."""

    def __init__(self, ledger: MedLedger, policy: RelayPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.ledger = ledger
        self.account = ledger.require_signer()
        self.policy = policy or RelayPolicy()
        self.chain_id = ledger.deployment.chain_id
        self.open = self.policy.is_open(ledger.w3)
        if not (self.open or self.policy.allowed or self.policy.api_key_hashes):
            raise ConfigurationError(
                f"chain {self.chain_id} is not a local dev chain medledger knows (the embedded chain, a node it "
                "started, an anvil or Ganache node), so the relayer serves only whom it is told to: "
                "give allowed patients or signers (--allow), API keys (--api-keys-file), or --open to pay for anyone"
            )
        self._clock = clock
        self._chain = threading.Lock()  # one transaction at a time: one nonce sequence, one web3 provider
        self._limits = threading.Lock()
        self._global = SlidingLog(self.policy.global_rate)
        self._gas = SlidingLog(self.policy.gas_budget)
        self._signers: dict[str, SlidingLog] = {}
        self._failed: OrderedDict[bytes, _Failure] = OrderedDict()
        self._interval: tuple[float, int] | None = None

    # ─── Who may use it, and how often ───────────────────────────────────────────────────

    def check_api_key(self, authorization: str | None) -> bool:
        """Whether the request holds one of the relayer's API keys (401 for one that is not);
        constant time, nothing asked of the node. An open relayer ignores keys."""
        if self.open or not authorization:
            return False
        key = hash_key(authorization.removeprefix("Bearer "))
        if any(hmac.compare_digest(key, known) for known in self.policy.api_key_hashes):
            return True
        raise Refused(HTTPStatus.UNAUTHORIZED, "bad_api_key", "the API key is not one of this relayer's",
                      headers=_CHALLENGE)  # fmt: skip

    def authorize(self, signer: str, patient: str, acts_for_patient: bool) -> None:
        """Refuse (401/403) a verified ``signer`` this relayer does not serve: it is served if it is
        listed, or if it acts for ``patient`` (is the patient or an active delegate) and the patient
        is listed."""
        if self.open or signer in self.policy.allowed or (acts_for_patient and patient in self.policy.allowed):
            return
        who = f"{signer} is not on this relayer's allow-list"
        if patient in self.policy.allowed:
            who += f", and does not act for the listed patient {patient}"
        if self.policy.api_key_hashes:
            raise Refused(HTTPStatus.UNAUTHORIZED, "api_key_required", f"{who}: send an API key (Authorization: Bearer KEY)",
                          headers=_CHALLENGE)  # fmt: skip
        raise Refused(HTTPStatus.FORBIDDEN, "not_allowed", f"{who}: ask its operator to add you")

    def _room(self, log: SlidingLog, code: str, message: str, now: float) -> None:
        """429 if ``log`` has no room for one more request now (nothing is counted)."""
        wait = log.wait(1, now)
        if wait:
            raise _too_many(code, f"{message} ({log.window})", wait)

    def _global_room(self) -> None:
        with self._limits:
            self._room(self._global, "global_rate", "the relayer's request limit is reached", self._clock())

    def _signer_room(self, signer: str) -> None:
        log = self._signer_log(signer)
        with self._limits:
            self._room(log, "signer_rate", f"{signer} has sent its limit of requests", self._clock())

    def _spend_request(self, signer: str) -> None:
        """Count a request about to be paid for against both rates (429, counting nothing, if either is full)."""
        log = self._signer_log(signer)
        with self._limits:
            now = self._clock()
            self._room(self._global, "global_rate", "the relayer's request limit is reached", now)
            self._room(log, "signer_rate", f"{signer} has sent its limit of requests", now)
            self._global.add(1, now)
            log.add(1, now)

    def _signer_log(self, signer: str) -> SlidingLog:
        with self._limits:
            if len(self._signers) > REMEMBERED_FAILURES:
                now = self._clock()
                for key in [k for k, log in self._signers.items() if log.wait(0, now) == 0 and log.empty]:
                    del self._signers[key]
            return self._signers.setdefault(signer, SlidingLog(self.policy.signer_rate))

    def usage(self) -> dict[str, int]:
        """Requests paid for and gas (reverted transactions too) spent in the current periods."""
        with self._limits:
            now = self._clock()
            return {"requests": self._global.total(now), "gas": self._gas.total(now)}

    # ─── Relaying ────────────────────────────────────────────────────────────────────────

    def relay(self, signed: SignedMessage, authorization: str | None = None) -> dict[str, Any]:
        """Check ``signed`` and send it; the answer's fields, or :class:`Refused`."""
        keyed = self.check_api_key(authorization)
        self._global_room()
        with self._chain:
            return self._relay(signed, keyed)

    def _relay(self, signed: SignedMessage, keyed: bool) -> dict[str, Any]:
        ledger, consent = self.ledger, self.ledger.consent
        if signed.primary_type not in ("Grant", "Revoke"):
            raise _bad("wrong_type", f"a {signed.primary_type} cannot be relayed here: only Grant and Revoke")
        try:
            consent._check_domain(signed)
        except InvalidInput as exc:
            raise _bad("wrong_domain", str(exc)) from None
        digest = consent_messages.digest(signed.data)
        code = bytes(ledger.w3.eth.get_code(signed.signer))  # type: ignore[arg-type]
        if code:
            self._check_contract_wallet(signed, digest)
        else:
            try:
                signed.verify()
            except InvalidInput as exc:
                raise _bad("bad_signature", str(exc)) from None

        message = signed.message
        patient = str(message["patient"])
        acts = ledger.patients.can_act_for(signed.signer, patient)
        if not keyed:
            self.authorize(signed.signer, patient, acts)
        self._signer_room(signed.signer)
        if not acts:
            raise _bad("not_patient_or_delegate", f"{signed.signer} is neither the patient {patient} nor an active delegate")
        nonce = consent.nonce(patient)
        if int(message["nonce"]) != nonce:
            raise _bad("stale_nonce", f"nonce {message['nonce']} is not the patient's current one ({nonce}): "
                                      "the consent was relayed already or cancelled; sign again")  # fmt: skip
        self._check_times(signed)
        delegation = 0 if signed.signer == patient else ledger.patients.delegation_expiry(patient, signed.signer)
        fingerprint = (nonce, delegation, keccak(code))
        failed = self._failed.get(digest)
        if failed is not None and failed.fingerprint == fingerprint:
            raise Refused(HTTPStatus.CONFLICT, "reverted_before",
                          f"this signed {signed.primary_type} was sent once and reverted on chain ({failed.tx_hash}: "
                          f"{failed.reason}); nothing about its signer has changed since, so it is not sent again: "
                          "sign a new one", tx_hash=failed.tx_hash, reason=failed.reason)  # fmt: skip
        return self._send(signed, digest, fingerprint)

    def _check_contract_wallet(self, signed: SignedMessage, digest: bytes) -> None:
        """An ERC-1271 signer must be allowed and accept the signature within a small gas allowance."""
        wallets = self.policy.contract_wallets
        if wallets is not None and signed.signer not in wallets:
            raise Refused(HTTPStatus.FORBIDDEN, "contract_wallet_not_allowed",
                          f"{signed.signer} is a contract wallet, and this relayer accepts only listed ones")  # fmt: skip
        gas = self.policy.wallet_check_gas
        call = {
            "from": self.account.address,
            "to": signed.signer,
            "gas": gas,
            "data": ERC1271_MAGIC + encode(["bytes32", "bytes"], [digest, signed.signature]),
        }
        try:
            answer = bytes(self.ledger.w3.eth.call(call))  # type: ignore[arg-type]
        except OSError:
            raise  # the node, not the wallet: a 502
        except Exception:  # noqa: BLE001 - a revert or running out of gas: the wallet says no
            raise _bad("wallet_check_failed",
                       f"the contract wallet {signed.signer} did not accept the signature within {gas} gas "
                       "(isValidSignature reverted or ran out of gas): it is not relayed") from None  # fmt: skip
        if answer[:32] != ERC1271_MAGIC.ljust(32, b"\x00"):
            raise _bad("bad_signature", f"the contract wallet {signed.signer} does not accept the signature "
                                        f"(isValidSignature did not answer 0x{ERC1271_MAGIC.hex()})")  # fmt: skip

    def _check_times(self, signed: SignedMessage) -> None:
        """The deadline, and a grant's end, must leave the margin past the latest block."""
        now = self.ledger.consent.block_time()
        margin = self.deadline_margin()
        deadline = int(signed.message["deadline"])
        if deadline < now:
            raise _bad("deadline_passed", "the signature's deadline has passed: sign again")
        if deadline < now + margin:
            raise _bad("deadline_too_soon",
                       f"the signature's deadline ({deadline}) is less than {margin} s after the latest block "
                       f"({now}): it could pass before the transaction is mined; sign again", margin=margin)  # fmt: skip
        if signed.primary_type == "Grant":
            try:
                terms = GrantTerms.from_message(signed.message)
            except InvalidInput as exc:
                raise _bad("bad_terms", str(exc)) from None
            if terms.valid_until < now + margin:
                raise _bad("bad_terms", "the grant would end before it starts")

    def deadline_margin(self) -> int:
        """Seconds a deadline must leave past the latest block: the setting, or two block
        intervals (the median of the last 8, at least 1 s), measured once a minute."""
        if self.policy.deadline_margin is not None:
            return self.policy.deadline_margin
        now = self._clock()
        if self._interval is None or now - self._interval[0] > INTERVAL_REFRESH:
            eth = self.ledger.w3.eth
            latest = eth.get_block("latest")
            first = max(0, int(latest["number"]) - 8)
            stamps = [int(eth.get_block(n)["timestamp"]) for n in range(first, int(latest["number"]))]
            stamps.append(int(latest["timestamp"]))
            gaps = sorted(b - a for a, b in zip(stamps, stamps[1:]))
            self._interval = (now, max(1, gaps[len(gaps) // 2] if gaps else 1))
        return 2 * self._interval[1]

    def _send(self, signed: SignedMessage, digest: bytes, fingerprint: tuple[Any, ...]) -> dict[str, Any]:
        cap = self.policy.max_gas
        function = self.ledger.consent.relay_call(signed)
        try:
            estimate = self.ledger.transactor.estimate(function, self.account)
        except ContractError as exc:
            raise _bad("would_revert", f"the transaction would revert: {exc}", reason=str(exc),
                       revert=type(exc).__name__) from None  # fmt: skip
        except GasError as exc:
            raise _bad("gas_cap", f"the transaction's gas cannot be estimated within the node's limit ({exc})",
                       cap=cap) from None  # fmt: skip
        if estimate > cap:
            raise _bad("gas_cap", f"the transaction needs {estimate} gas, above this relayer's cap of {cap} per "
                                  "transaction", gas=estimate, cap=cap)  # fmt: skip
        limit = min(gas_limit(estimate), cap)
        with self._limits:
            wait = self._gas.wait(limit, self._clock())
        if wait:
            raise _too_many("gas_budget", f"the relayer's gas budget ({self.policy.gas_budget}) is spent", wait)
        self._spend_request(signed.signer)  # every check passed: this one is paid for
        try:
            receipt = self.ledger.transactor.send(function, self.account, gas=limit)
        except MedLedgerError as exc:
            if exc.tx_hash is None:
                raise
            return self._mined_failure(exc, exc.tx_hash, digest, fingerprint, limit)
        with self._limits:
            self._gas.add(receipt.gas_used, self._clock())
        self._failed.pop(digest, None)
        return {"tx_hash": receipt.tx_hash, "block": receipt.block_number, "gas_used": receipt.gas_used}

    def _mined_failure(self, exc: MedLedgerError, tx_hash: str, digest: bytes, fingerprint: tuple[Any, ...],
                       limit: int) -> dict[str, Any]:  # fmt: skip
        """Count the gas a reverted transaction cost, remember its message, and answer 409."""
        try:
            gas_used = int(self.ledger.w3.eth.get_transaction_receipt(tx_hash)["gasUsed"])  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - count the worst case if the receipt cannot be read again
            gas_used = limit
        with self._limits:
            self._gas.add(gas_used, self._clock())
        self._failed[digest] = _Failure(fingerprint, tx_hash, str(exc))
        while len(self._failed) > REMEMBERED_FAILURES:
            self._failed.popitem(last=False)
        raise Refused(HTTPStatus.CONFLICT, "reverted_on_chain",
                      f"the transaction {tx_hash} was mined and reverted: {exc}; this signed message will not be "
                      "sent again", tx_hash=tx_hash, reason=str(exc), revert=type(exc).__name__, gas_used=gas_used)  # fmt: skip


def relay_server(
    ledger: MedLedger,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    policy: RelayPolicy | None = None,
    clock: Callable[[], float] = time.monotonic,
    **limits: Any,
) -> Server:
    """The relay's server (not started), sending as ``ledger``'s signer under ``policy``.
    ``port`` 0: a free one; ``limits`` are :class:`medledger.web.Server`'s."""
    relayer = Relayer(ledger, policy, clock)

    class Handler(JsonHandler):
        allow_origins = relayer.policy.allow_origins

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/health":
                self.send_json(HTTPStatus.OK, {"relayer": relayer.account.address, "chainId": relayer.chain_id,
                                               "policy": relayer.policy.describe(ledger.w3),
                                               "spent": relayer.usage()})  # fmt: skip
            else:
                self.send_error_json(HTTPStatus.NOT_FOUND, "POST a signed consent to /relay")

        def do_POST(self) -> None:  # noqa: N802
            if self.path != "/relay":
                self.send_error_json(HTTPStatus.NOT_FOUND, "POST a signed consent to /relay")
                return
            try:
                body = self.read_body(MAX_BODY)  # a client too slow to send it: TimeoutError closes it
            except Refused as exc:
                self.send_failure(exc)
                return
            try:
                try:
                    signed = SignedMessage.from_json(body.decode())
                except (InvalidInput, UnicodeDecodeError) as exc:
                    raise _bad("malformed", str(exc)) from None
                answer = relayer.relay(signed, self.headers.get("Authorization"))
            except Exception as exc:  # noqa: BLE001 - every failure is an answer, not a traceback
                self.send_failure(exc)
                return
            self.send_json(HTTPStatus.OK, answer)

    return Server(Handler, host, port, **limits)
