"""Serial trees: roots, proofs and multiproofs that OpenZeppelin's MerkleProof accepts on chain."""

from __future__ import annotations

import json

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from medledger import errors
from medledger.client.batches import batch_id
from medledger.serials import MultiProof, SerialTree, Unit, generate, leaf, serial_bytes
from medledger.types import UnitValidity
from tests.helpers import DAY

GTIN = "09506000134352"
SERIALS = [f"SN{n:06d}" for n in range(1, 24)]  # 23: an incomplete last layer


@pytest.fixture
def units(world, ml):
    """A batch of 23 units whose serial root is the tree of SERIALS."""
    ml.spare.products.register(GTIN, "Medicine A")
    tree = SerialTree(batch_id(GTIN, "LOT-S"), SERIALS)
    now = world.chain.now()
    registered = ml.spare.batches.register(GTIN, "LOT-S", quantity=len(SERIALS), manufactured_on=now - DAY,
                                           expires_on=now + 30 * DAY, serial_root=tree.root)  # fmt: skip
    assert registered.id == tree.batch_id
    return tree


def test_every_unit_verifies_on_chain_with_its_proof(ml, units):
    for serial in SERIALS[::5]:
        unit = units.unit(serial)
        assert unit.index == SERIALS.index(serial)
        assert ml.outsider.batches.verify_unit(units.batch_id, unit, units.proof(serial)) is UnitValidity.VERIFIED


def test_a_serial_not_in_the_batch_a_wrong_index_or_a_wrong_proof_is_no_match(ml, units):
    verify = ml.outsider.batches.verify_unit
    first = units.unit("SN000001")
    assert verify(units.batch_id, Unit(0, "SN999999"), units.proof("SN000001")) is UnitValidity.NO_MATCH
    assert verify(units.batch_id, Unit(1, "SN000001"), units.proof("SN000001")) is UnitValidity.NO_MATCH
    assert verify(units.batch_id, units.unit("SN000002"), units.proof("SN000001")) is UnitValidity.NO_MATCH
    assert verify(b"\x09" * 32, first, units.proof("SN000001")) is UnitValidity.NO_MATCH


@pytest.mark.parametrize("hold, answer", [("recall", UnitValidity.RECALLED), ("quarantine", UnitValidity.QUARANTINED)])
def test_a_unit_of_a_held_batch_says_why(ml, units, hold, answer):
    getattr(ml.regulator.batches, hold)(units.batch_id, 1)
    assert ml.outsider.batches.verify_unit(units.batch_id, units.unit("SN000003"), units.proof("SN000003")) is answer


def test_a_unit_of_an_expired_batch_is_expired(world, ml, units):
    world.chain.advance_time(31 * DAY)
    unit = units.unit("SN000003")
    assert ml.outsider.batches.verify_unit(units.batch_id, unit, units.proof("SN000003")) is UnitValidity.EXPIRED


@pytest.mark.parametrize("picked", [[0], [0, 1], [3, 7, 8, 22], list(range(23)), [5, 11, 17, 21, 2, 9, 14, 19, 1]])
def test_multiproofs_verify_on_chain(ml, units, picked):
    proof = units.multiproof([SERIALS[i] for i in picked])
    assert ml.outsider.batches.are_units_in_batch(units.batch_id, proof)
    forged = proof.units[:-1] + [Unit(proof.units[-1].index, "SN999999")]
    assert not ml.outsider.batches.are_units_in_batch(units.batch_id, MultiProof(forged, proof.proof, proof.flags))


def test_a_malformed_multiproof_is_a_typed_error(ml, units):
    proof = units.multiproof(SERIALS[:3])
    with pytest.raises(errors.MerkleProofInvalidMultiproof):
        padded = MultiProof(proof.units, proof.proof + [b"\x00" * 32], proof.flags)
        ml.outsider.batches.are_units_in_batch(units.batch_id, padded)


@settings(max_examples=40, deadline=None)
@given(count=st.integers(1, 40), data=st.data())
def test_proofs_rebuild_the_root(count, data):
    serials = [f"U{n}" for n in range(count)]
    tree = SerialTree(b"\x07" * 32, serials)
    serial = data.draw(st.sampled_from(serials))
    node = leaf(tree.batch_id, Unit(serials.index(serial), serial))
    for sibling in tree.proof(serial):
        node = keccak(min(node, sibling) + max(node, sibling))
    assert node == tree.root
    chosen = data.draw(st.lists(st.sampled_from(serials), min_size=1, unique=True))
    multi = tree.multiproof(chosen)
    assert sorted(multi.serials) == sorted(chosen)
    if len(chosen) == 1:
        assert (multi.proof, multi.flags) == (tree.proof(chosen[0]), [])
    else:
        assert len(multi.serials) + len(multi.proof) == len(multi.flags) + 1


def test_generated_serials_are_distinct_and_fit():
    serials = generate(500)
    assert len(set(serials)) == 500 and all(len(serial_bytes(s)) == 20 for s in serials)


def test_bad_serials_and_trees_are_named():
    with pytest.raises(errors.InvalidInput, match="serial"):
        serial_bytes("X" * 21)
    with pytest.raises(errors.InvalidInput, match="distinct"):
        SerialTree(b"\x01" * 32, ["A", "A"])
    with pytest.raises(errors.InvalidInput, match="not in this batch"):
        SerialTree(b"\x01" * 32, ["A", "B"]).proof("C")


def test_the_proofs_file_holds_every_unit_and_rebuilds_the_tree():
    tree = SerialTree(b"\x01" * 32, ["C", "A", "B"])
    saved = json.loads(tree.to_json())
    assert saved["root"] == "0x" + tree.root.hex() and saved["serials"] == ["C", "A", "B"]
    assert saved["units"]["B"] == {"index": 2, "proof": ["0x" + p.hex() for p in tree.proof("B")]}
    rebuilt = SerialTree.from_json(tree.to_json())
    assert rebuilt.root == tree.root and rebuilt.unit("A") == Unit(1, "A")


def test_a_damaged_proofs_file_is_refused():
    saved = json.loads(SerialTree(b"\x01" * 32, ["A", "B", "C"]).to_json())
    saved["serials"][0] = "Z"
    with pytest.raises(errors.InvalidInput, match="damaged"):
        SerialTree.from_json(json.dumps(saved))
    with pytest.raises(errors.InvalidInput, match="not a medledger proofs file"):
        SerialTree.from_json("{}")
