"""``medledger relay``: an HTTP endpoint that relays signed grants and revocations, paying the gas.

``POST /relay`` takes a signed consent as ``medledger consent sign`` writes it (``{"typedData",
"signer", "signature"}``), checks everything the contract would check and more, before any gas
is spent, and sends it:

- it is a ``Grant`` or ``Revoke`` for this chain's ConsentManager (domain: name, version, chain
  id, contract);
- the signature recovers to the signer (or the signer is a contract wallet, checked on chain by
  ERC-1271), and the signer is the patient or one of the patient's active delegates;
- the nonce is the patient's current one and the deadline has not passed;
- the terms are well-formed (categories, write subset, purpose, end in the future);
- the transaction would succeed (a dry run; a revert comes back as the typed error's message).

The answer is ``{"tx_hash", "block", "gas_used"}``, or ``{"error": ...}`` with status 400.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from typing import Any

from medledger.client import MedLedger
from medledger.client.consent import GrantTerms
from medledger.consent import SignedMessage
from medledger.errors import InvalidInput
from medledger.web import JsonHandler, Server

MAX_BODY = 64 * 1024


def check_signed(ledger: MedLedger, signed: SignedMessage) -> None:
    """Raise :class:`InvalidInput` naming the first thing wrong with ``signed`` as a consent to relay."""
    if signed.primary_type not in ("Grant", "Revoke"):
        raise InvalidInput(f"a {signed.primary_type} cannot be relayed here: only Grant and Revoke")
    consent = ledger.consent
    consent._check_domain(signed)
    message = signed.message
    patient = str(message.get("patient", ""))
    code = ledger.w3.eth.get_code(signed.signer)  # type: ignore[arg-type]
    if not code:
        signed.verify()
    if not ledger.patients.can_act_for(signed.signer, patient):
        raise InvalidInput(f"{signed.signer} is neither the patient {patient} nor an active delegate")
    if int(message["nonce"]) != consent.nonce(patient):
        raise InvalidInput(
            f"nonce {message['nonce']} is not the patient's current one ({consent.nonce(patient)}): "
            "the consent was relayed already or cancelled; sign again"
        )
    now = consent.block_time()
    if int(message["deadline"]) < now:
        raise InvalidInput("the signature's deadline has passed: sign again")
    if signed.primary_type == "Grant":
        terms = GrantTerms.from_message(message)
        if terms.valid_until <= now:
            raise InvalidInput("the grant would end before it starts")


def relay_server(ledger: MedLedger, *, host: str = "127.0.0.1", port: int = 0, allow_origin: str = "*") -> Server:
    """The relay's server (not started), sending as ``ledger``'s signer. ``port`` 0: a free one."""
    ledger.require_signer()
    lock = threading.Lock()  # one transaction at a time: one nonce sequence, one web3 provider

    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/health":
                self.send_json(HTTPStatus.OK, {"relayer": ledger.require_signer().address,
                                               "chainId": ledger.deployment.chain_id})  # fmt: skip
            else:
                self.send_error_json(HTTPStatus.NOT_FOUND, "POST a signed consent to /relay")

        def do_POST(self) -> None:  # noqa: N802
            if self.path != "/relay":
                self.send_error_json(HTTPStatus.NOT_FOUND, "POST a signed consent to /relay")
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if not 0 < length <= MAX_BODY:
                    raise InvalidInput(f"the body must be a signed consent of at most {MAX_BODY} bytes")
                signed = SignedMessage.from_json(self.rfile.read(length).decode())
                with lock:
                    check_signed(ledger, signed)
                    receipt = ledger.consent.relay(signed)
            except Exception as exc:  # noqa: BLE001 - every failure is an answer, not a traceback
                self.send_failure(exc)
                return
            self.send_json(HTTPStatus.OK, {"tx_hash": receipt.tx_hash, "block": receipt.block_number,
                                           "gas_used": receipt.gas_used})  # fmt: skip

    Handler.allow_origin = allow_origin
    return Server(Handler, host, port)

