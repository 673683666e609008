from medledger.errors import AccessControlUnauthorizedAccount
import pytest


def test_fixture_roles(suite):
    a = suite.actors
    ml = suite.ledger(a.outsider)
    assert ml.consortium.is_regulator(a.regulator.address)
    assert ml.consortium.is_member(a.hospital.address, "hospital")
    with pytest.raises(AccessControlUnauthorizedAccount):
        ml.consortium.accredit(a.spare.address, "lab")
