"""No personal identifier reaches the chain: a full scenario, then every byte it left is scanned.

The patient's name, birth date, national number and hospital MRN are the scenario's inputs (as
identity attributes, as an MRN, and inside the record's plaintext). Afterwards every transaction's
input, every event (topics and data) and every storage word written is searched for those values in
the encodings a careless contract would use: UTF-8 text, ABI-padded text, unsalted keccak256 and
SHA-256 digests, and the birth date as a number or a timestamp. Nothing may match. anvil's
prestate tracer gives the storage writes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest
from eth_utils import keccak

from medledger import chain as chainmod
from medledger.client import MedLedger
from medledger.client.records import content_hash
from medledger.deploy import deploy_suite
from medledger.identity import identity_commitment, mrn_commitment, new_salt, public_key
from medledger.types import InstitutionKind
from medledger.vault import ReadRequest, Vault

NAME = "Ada Lovelace-Byron"
BIRTH_DATE = "1815-12-10"
NATIONAL_ID = "GB-1815-AL-0042"
MRN = "MRN-20250117-7731"
IDENTITY = {"name": NAME, "birth_date": BIRTH_DATE, "national_id": NATIONAL_ID}
RECORD = f'{{"resourceType": "Bundle", "patient": "{NAME}", "birthDate": "{BIRTH_DATE}", "mrn": "{MRN}"}}'.encode()


def needles() -> dict[str, bytes]:
    """Every encoding of every identifier that must not appear anywhere on chain."""
    found: dict[str, bytes] = {}
    for label, value in (("name", NAME), ("birth date", BIRTH_DATE), ("national id", NATIONAL_ID), ("mrn", MRN)):
        for variant in {value, value.lower(), value.upper(), value.replace("-", "")}:
            raw = variant.encode()
            found[f"{label} as text {variant!r}"] = raw
            found[f"{label} utf-16 {variant!r}"] = variant.encode("utf-16-be")
            found[f"{label} keccak256 of {variant!r}"] = keccak(raw)
            found[f"{label} sha256 of {variant!r}"] = hashlib.sha256(raw).digest()
    born = datetime.fromisoformat(BIRTH_DATE).replace(tzinfo=timezone.utc)
    found["birth date as yyyymmdd number"] = int(BIRTH_DATE.replace("-", "")).to_bytes(4, "big")
    found["birth date as unix time"] = int(born.timestamp()).to_bytes(8, "big", signed=True)
    return found


def run_scenario(node) -> None:
    """Register, link an MRN both ways, grant, refer, anchor, read, break glass, revoke."""
    a = node.accounts
    admin_account, regulator, authority, hospital, clinic, doctor, er_doctor, patient, relayer = a[:9]
    deployment = deploy_suite(node, admin_account)
    admin = MedLedger(node.w3, deployment, admin_account)
    admin.consortium.add_regulator(regulator.address)
    admin.consortium.add_licensing_authority(authority.address)
    admin.consortium.accredit(hospital.address, InstitutionKind.HOSPITAL, b"\x01" * 32)
    admin.consortium.accredit(clinic.address, InstitutionKind.CLINIC, b"\x02" * 32)
    now = node.now()
    for subject, kind in ((hospital, "accreditation"), (clinic, "accreditation"), (doctor, "licence"),
                          (er_doctor, "licence")):  # fmt: skip
        admin.using(authority).credentials.issue(subject.address, kind, valid_from=now - 1, valid_until=now + 86400 * 30)

    me = admin.using(patient)
    me.patients.register(identity_commitment(IDENTITY, new_salt()), public_key(b"\x07" * 32))
    salt = new_salt()
    proposed = mrn_commitment(hospital.address, MRN, salt)
    proposal = admin.using(hospital).patients.propose_mrn_link(patient.address, proposed)
    me.patients.accept_mrn_link(hospital.address, proposed, proposal.salt)
    signed_link = me.patients.sign_mrn_consent(clinic.address, mrn_commitment(clinic.address, MRN, new_salt()))
    admin.using(clinic).patients.link_mrn_with_consent(signed_link)

    end = now + 86400 * 7
    me.consent.grant(patient.address, doctor.address, ["labs", "mental-health"], write_categories=["labs"],
                     valid_until=end, referral_allowed=True)  # fmt: skip
    admin.using(relayer).consent.relay(me.consent.sign_grant(hospital.address, "labs", valid_until=end))
    admin.using(doctor).consent.refer(patient.address, clinic.address, ["labs"], valid_until=end)

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        vault = Vault(Path(folder), custodian_key=b"\x09" * 32)
        sealed = vault.seal(RECORD, patient.address, "labs", {patient.address: public_key(b"\x07" * 32)})
        assert sealed.record == content_hash(vault.ciphertext(sealed.record))
        admin.using(doctor).records.anchor(patient.address, "labs", sealed.record, sealed.uri)
        read = admin.using(doctor).access.log_read(sealed.record)
        admin.using(doctor).patients.publish_encryption_key(public_key(b"\x08" * 32))
        vault.serve(ReadRequest.sign(doctor, sealed.record, read.receipt.tx_hash, node.chain_id, vault.id), admin)
    admin.using(er_doctor).access.open_break_glass(patient.address, reason_code=4, duration=3600)
    admin.using(er_doctor).access.log_read(sealed.record)
    me.access.close_break_glass(patient.address, er_doctor.address)
    admin.using(relayer).consent.relay(me.consent.sign_revoke(doctor.address))


def chain_bytes(node, *, first_block: int = 1, exclude_sender: str | None = None) -> list[tuple[str, bytes]]:
    """(where, bytes) for every transaction input, event, storage slot written and value stored on
    the chain from ``first_block`` on, leaving out transactions sent by ``exclude_sender``."""
    w3 = node.w3
    found: list[tuple[str, bytes]] = []
    for number in range(first_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if exclude_sender is not None and tx["from"].lower() == exclude_sender.lower():
                continue
            tx_hash = tx["hash"].to_0x_hex()
            found.append((f"input of {tx_hash}", bytes(tx["input"])))
            for log in w3.eth.get_transaction_receipt(tx_hash)["logs"]:
                data = b"".join(bytes(t) for t in log["topics"]) + bytes(log["data"])
                found.append((f"event in {tx_hash}", data))
            diff = w3.provider.make_request(
                "debug_traceTransaction", [tx_hash, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}]
            )["result"]
            for address, post in diff["post"].items():
                for slot, value in post.get("storage", {}).items():
                    found.append((f"storage {address}[{slot}]", bytes.fromhex(value[2:].rjust(64, "0"))))
                    found.append((f"storage slot {address}[{slot}]", bytes.fromhex(slot[2:].rjust(64, "0"))))
    return found


@pytest.mark.nodes
def test_no_identifier_appears_in_any_input_event_or_storage_word():
    with chainmod.connect("anvil") as node:
        run_scenario(node)
        written = chain_bytes(node)
    assert sum(1 for where, _ in written if where.startswith("storage")) > 25  # the scan saw real writes
    assert sum(1 for where, _ in written if where.startswith("event")) > 20
    leaks = [(where, label) for where, data in written for label, needle in needles().items() if needle in data]
    assert leaks == []


def test_the_needles_would_catch_a_leak():
    """The scan is not vacuous: a value written the naive way is found."""
    abi_text = NAME.encode().ljust(64, b"\x00")
    assert any(needle in abi_text for needle in needles().values())
    assert any(needle in keccak(MRN.encode()) for needle in needles().values())


def wallet_needles(wallet: str, others: list[str]) -> dict[str, bytes]:
    """Every form in which a contract could write ``wallet``: the raw 20 bytes (which also catch it
    ABI-padded or indexed), its hex text, and the storage slots of mappings keyed by it (at any of
    the first 64 slots, alone or beside one of ``others``)."""
    raw = bytes.fromhex(wallet[2:])
    found = {"wallet as bytes": raw, "wallet as hex text": wallet[2:].lower().encode(),
             "wallet as checksum text": wallet[2:].encode()}  # fmt: skip
    word = raw.rjust(32, b"\x00")
    found["keccak256 of the wallet"], found["keccak256 of the padded wallet"] = keccak(raw), keccak(word)
    for slot in range(64):
        inner = keccak(word + slot.to_bytes(32, "big"))
        found[f"slot of a mapping at {slot} keyed by the wallet"] = inner
        for other in others:
            other_word = bytes.fromhex(other[2:]).rjust(32, b"\x00")
            found[f"slot keyed by the wallet under {other} at {slot}"] = keccak(word + keccak(other_word + slot.to_bytes(32, "big")))
            found[f"slot keyed by {other} under the wallet at {slot}"] = keccak(other_word + inner)
    return found


@pytest.mark.nodes
def test_an_mrn_proposal_links_no_wallet_to_the_institution_until_the_patient_acts():
    """Privacy of links: after an institution proposes to link its MRN to a patient, and before the
    patient acts, no transaction input, event, storage slot or stored value on the chain (leaving out
    the patient's own registration) contains the patient's wallet. The patient's acceptance, its
    own transaction, is the first to show it; the same scan finds it there, so it is not vacuous."""
    with chainmod.connect("anvil") as node:
        admin_account, hospital, patient = node.accounts[0], node.accounts[3], node.accounts[7]
        deployment = deploy_suite(node, admin_account)
        admin = MedLedger(node.w3, deployment, admin_account)
        admin.consortium.accredit(hospital.address, InstitutionKind.HOSPITAL, b"\x01" * 32)
        me = admin.using(patient)
        me.patients.register(identity_commitment(IDENTITY, new_salt()), public_key(b"\x07" * 32))
        mrn = mrn_commitment(hospital.address, MRN, new_salt())
        proposal = admin.using(hospital).patients.propose_mrn_link(patient.address, mrn)
        before = chain_bytes(node, exclude_sender=patient.address)
        accepted = me.patients.accept_mrn_link(hospital.address, mrn, proposal.salt)
        acceptance = chain_bytes(node, first_block=accepted.block_number)
    needles = wallet_needles(patient.address, [hospital.address, admin_account.address])
    assert any(where.startswith(f"input of {proposal.receipt.tx_hash}") for where, _ in before)
    assert sum(1 for where, _ in before if where.startswith("storage")) > 10  # the scan saw real writes
    leaks = [(where, label) for where, data in before for label, needle in needles.items() if needle in data]
    assert leaks == []
    shown = {where.split(" ")[0] for where, data in acceptance for needle in needles.values() if needle in data}
    assert {"input", "event", "storage"} <= shown


def run_prescription_scenario(node) -> tuple[str, bytes]:
    """A product made, shipped and received; a prescription issued for a patient and filled.
    Returns the patient's wallet and the salt of its slip. The patient sends only its registration."""
    from medledger.client.batches import batch_id
    from medledger.serials import SerialTree

    a = node.accounts
    admin_account, regulator, authority, maker, pharmacy, doctor, patient = a[:7]
    admin = MedLedger(node.w3, deploy_suite(node, admin_account), admin_account)
    admin.consortium.add_regulator(regulator.address)
    admin.consortium.add_licensing_authority(authority.address)
    admin.consortium.accredit(maker.address, InstitutionKind.MANUFACTURER, b"\x01" * 32)
    admin.consortium.accredit(pharmacy.address, InstitutionKind.PHARMACY, b"\x02" * 32)
    now = node.now()
    for subject, kind in ((maker, "accreditation"), (pharmacy, "accreditation"), (doctor, "licence")):
        admin.using(authority).credentials.issue(subject.address, kind, valid_from=now - 1, valid_until=now + 86400 * 30)
    admin.using(regulator).products.assign_prefix("9506000", maker.address)
    admin.using(patient).patients.register(identity_commitment(IDENTITY, new_salt()), public_key(b"\x07" * 32))

    gtin, lot = "09506000134352", "PRIV-1"
    tree = SerialTree(batch_id(gtin, lot), [f"PRIV{n:04d}" for n in range(8)])
    admin.using(maker).products.register(gtin, "Medicine P")
    admin.using(maker).batches.register(gtin, lot, quantity=8, manufactured_on=now - 10, expires_on=now + 86400 * 60,
                                        serial_root=tree.root)  # fmt: skip
    shipped = admin.using(maker).batches.ship(tree.batch_id, pharmacy.address, 4)
    admin.using(pharmacy).batches.receive(shipped.shipment)
    issued = admin.using(doctor).prescriptions.issue(patient.address, gtin, quantity_per_fill=2, refills=1,
                                                     valid_until=now + 86400 * 20)  # fmt: skip
    admin.using(pharmacy).prescriptions.check_slip(issued.slip)  # the pharmacy matches the patient's slip
    assert admin.using(pharmacy).prescriptions.fill(issued.id, tree.batch_id, tree.multiproof(tree.serials[:2])).filled
    return patient.address, issued.slip.salt


@pytest.mark.nodes
def test_no_prescription_transaction_links_the_patients_wallet_to_a_product():
    """Privacy of links: the patient does not act when its prescription is issued or filled, so no
    input, event or storage write of a transaction it did not send contains its wallet."""
    from medledger.client.prescriptions import patient_commitment

    with chainmod.connect("anvil") as node:
        patient, salt = run_prescription_scenario(node)
        others = chain_bytes(node, exclude_sender=patient)
        everything = chain_bytes(node)
    commitment = patient_commitment(patient, salt)
    assert any(commitment in data for where, data in others if where.startswith("event"))  # the issue was scanned
    assert sum(1 for where, _ in others if where.startswith("storage")) > 25
    leaks = [(where, label) for where, data in others for label, needle in wallet_needles(patient, []).items()
             if needle in data]  # fmt: skip
    assert leaks == []
    # Not vacuous: the scan finds the wallet where the patient acted (its own registration's event).
    assert any(wallet_needles(patient, [])["wallet as bytes"] in data for where, data in everything if where.startswith("event"))
