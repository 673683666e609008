"""ConsortiumRegistry: accreditation, suspension, roles and the two-step admin transfer.

The base fixture accredits ``hospital`` (HOSPITAL) and ``pharmacy`` (PHARMACY), names ``regulator``
and the licensing authorities ``authority`` and ``authority2``; ``outsider`` and ``spare`` hold nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_utils import keccak
from web3.logs import DISCARD

from medledger import errors
from tests.helpers import block_time
from medledger.client import MedLedger
from medledger.transactions import Receipt
from medledger.types import InstitutionKind, InstitutionStatus

ZERO_ADDRESS = "0x" + "00" * 20
DEFAULT_ADMIN_ROLE = bytes(32)
REGULATOR_ROLE = keccak(text="medledger.role.regulator")
LICENSING_AUTHORITY_ROLE = keccak(text="medledger.role.licensing-authority")
PROFILE = b"\x5a" * 32
HOSPITAL_PROFILE = b"\x11" * 32  # as accredited by the base fixture

Ledger = Callable[[str], MedLedger]


@pytest.fixture
def ledger(suite) -> Ledger:
    """``ledger("regulator")``: the suite acting as that actor.

    All share one transactor, so the nonces of an account stay coherent within a test."""
    root = suite.ledger(suite.actors.admin)
    cache: dict[str, MedLedger] = {}

    def acting_as(name: str) -> MedLedger:
        if name not in cache:
            cache[name] = root.using(getattr(suite.actors, name))
        return cache[name]

    return acting_as


@pytest.fixture
def address(suite) -> Callable[[str], str]:
    return lambda name: getattr(suite.actors, name).address


def events(ml: MedLedger, receipt: Receipt, name: str) -> list:
    """The arguments of every ``name`` event the consortium emitted in ``receipt``."""
    event = getattr(ml.consortium.contract.events, name)()
    return [log.args for log in event.process_receipt(receipt.raw, errors=DISCARD)]


def is_active_institution(ml: MedLedger, account: str) -> bool:
    return ml.consortium.is_active_institution(account)


def status_of(ml: MedLedger, account: str) -> InstitutionStatus:
    return ml.consortium.institution(account).status


# ─── accreditInstitution ─────────────────────────────────────────────────────────────────────


def test_accredit_records_an_active_member_and_emits_event(ledger, address):
    admin = ledger("admin")
    receipt = admin.consortium.accredit(address("spare"), InstitutionKind.LAB, PROFILE)

    record = admin.consortium.institution(address("spare"))
    assert record.kind is InstitutionKind.LAB
    assert record.status is InstitutionStatus.ACTIVE
    assert record.accredited_at == block_time(admin, receipt)
    assert record.profile_hash == PROFILE
    assert is_active_institution(admin, address("spare"))
    assert admin.consortium.is_member(address("spare"), "lab")
    (event,) = events(admin, receipt, "InstitutionAccredited")
    assert (event.institution, event.kind, event.profileHash) == (
        address("spare"),
        InstitutionKind.LAB,
        PROFILE,
    )


@pytest.mark.parametrize("caller", ["regulator", "outsider"])
def test_accredit_by_non_admin_is_rejected(ledger, address, caller):
    with pytest.raises(errors.AccessControlUnauthorizedAccount) as exc:
        ledger(caller).consortium.accredit(address("spare"), "clinic", PROFILE)

    assert exc.value.account == address(caller)
    assert exc.value.neededRole == DEFAULT_ADMIN_ROLE
    assert status_of(ledger("admin"), address("spare")) is InstitutionStatus.NONE


@pytest.mark.parametrize("suspended_first", [False, True], ids=["active", "suspended"])
def test_accredit_an_accredited_institution_again_is_rejected(ledger, address, suspended_first):
    admin = ledger("admin")
    if suspended_first:
        admin.consortium.suspend(address("hospital"))
    before = admin.consortium.institution(address("hospital"))

    with pytest.raises(errors.InstitutionAlreadyAccredited) as exc:
        admin.consortium.accredit(address("hospital"), "insurer", PROFILE)

    assert exc.value.institution == address("hospital")
    assert admin.consortium.institution(address("hospital")) == before
    assert before.kind is InstitutionKind.HOSPITAL and before.profile_hash == HOSPITAL_PROFILE


def test_accredit_zero_address_is_rejected_by_the_contract(ledger):
    with pytest.raises(errors.ZeroAddress):
        ledger("admin").consortium.accredit(ZERO_ADDRESS, "lab", PROFILE)


@pytest.mark.parametrize(
    ("account", "kind", "profile"),
    [
        ("0x1234", "lab", PROFILE),
        ("spare", 7, PROFILE),
        ("spare", "lab", b"\x01" * 31),
        ("spare", "lab", "0x" + "zz" * 32),
    ],
    ids=["malformed-address", "kind-out-of-range", "short-profile-hash", "non-hex-profile-hash"],
)
def test_accredit_rejects_malformed_arguments_before_sending(ledger, address, account, kind, profile):
    target = address(account) if account == "spare" else account
    with pytest.raises(errors.InvalidInput):
        ledger("admin").consortium.accredit(target, kind, profile)
    assert status_of(ledger("admin"), address("spare")) is InstitutionStatus.NONE


def test_institution_status_tells_an_institution_for_good_from_a_never_accredited_account(ledger, address):
    """What the credential registry asks to judge an institution only as one, suspended or not."""
    ml = ledger("authority")
    assert ml.consortium.institution_status(address("doctor")) is InstitutionStatus.NONE
    assert ml.consortium.institution_status(address("hospital")) is InstitutionStatus.ACTIVE
    ledger("regulator").consortium.suspend(address("hospital"), 1)
    assert ml.consortium.institution_status(address("hospital")) is InstitutionStatus.SUSPENDED
    with pytest.raises(errors.InvalidInput):
        ml.consortium.institution_status("0xhospital")


# ─── suspendInstitution ──────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("suspender", "reason"), [("admin", 0), ("regulator", 65535)])
def test_suspend_fails_every_membership_check_and_emits_event(ledger, address, suspender, reason):
    ml = ledger(suspender)
    receipt = ml.consortium.suspend(address("hospital"), reason)

    record = ml.consortium.institution(address("hospital"))
    assert record.status is InstitutionStatus.SUSPENDED
    assert record.kind is InstitutionKind.HOSPITAL  # the record is kept, only the status changes
    assert not ml.consortium.is_member(address("hospital"), "hospital")
    assert not is_active_institution(ml, address("hospital"))
    assert ml.consortium.is_member(address("pharmacy"), "pharmacy")  # others are untouched
    (event,) = events(ml, receipt, "InstitutionSuspended")
    assert (event.institution, event.by, event.reasonCode) == (
        address("hospital"),
        address(suspender),
        reason,
    )


@pytest.mark.parametrize("caller", ["authority", "pharmacy"])
def test_suspend_by_neither_admin_nor_regulator_is_rejected(ledger, address, caller):
    with pytest.raises(errors.NotAdminOrRegulator) as exc:
        ledger(caller).consortium.suspend(address("hospital"), 1)

    assert exc.value.account == address(caller)
    assert status_of(ledger("admin"), address("hospital")) is InstitutionStatus.ACTIVE


def test_suspend_a_suspended_institution_is_rejected(ledger, address):
    regulator = ledger("regulator")
    regulator.consortium.suspend(address("hospital"), 1)

    with pytest.raises(errors.InstitutionAlreadySuspended) as exc:
        regulator.consortium.suspend(address("hospital"), 2)

    assert exc.value.institution == address("hospital")
    assert status_of(regulator, address("hospital")) is InstitutionStatus.SUSPENDED


def test_suspend_a_never_accredited_account_is_not_found(ledger, address):
    with pytest.raises(errors.InstitutionNotAccredited) as exc:
        ledger("regulator").consortium.suspend(address("doctor"), 1)

    assert exc.value.institution == address("doctor")
    assert isinstance(exc.value, errors.NotFound)
    assert status_of(ledger("regulator"), address("doctor")) is InstitutionStatus.NONE


@pytest.mark.parametrize(
    ("account", "reason"),
    [("hospital", -1), ("hospital", 65536), ("0xnothex", 1)],
    ids=["negative-reason", "reason-too-large", "malformed-address"],
)
def test_suspend_rejects_malformed_arguments_before_sending(ledger, address, account, reason):
    target = address(account) if account == "hospital" else account
    with pytest.raises(errors.InvalidInput):
        ledger("regulator").consortium.suspend(target, reason)
    assert status_of(ledger("regulator"), address("hospital")) is InstitutionStatus.ACTIVE


# ─── reinstateInstitution ────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("reinstater", ["admin", "regulator"])
def test_reinstate_restores_membership_and_emits_event(ledger, address, reinstater):
    ledger("regulator").consortium.suspend(address("pharmacy"), 3)
    ml = ledger(reinstater)

    receipt = ml.consortium.reinstate(address("pharmacy"))

    assert status_of(ml, address("pharmacy")) is InstitutionStatus.ACTIVE
    assert ml.consortium.is_member(address("pharmacy"), "pharmacy")
    assert is_active_institution(ml, address("pharmacy"))
    (event,) = events(ml, receipt, "InstitutionReinstated")
    assert (event.institution, event.by) == (address("pharmacy"), address(reinstater))


@pytest.mark.parametrize("caller", ["pharmacy", "outsider"])
def test_reinstate_by_neither_admin_nor_regulator_is_rejected(ledger, address, caller):
    ledger("admin").consortium.suspend(address("pharmacy"))

    with pytest.raises(errors.NotAdminOrRegulator) as exc:
        ledger(caller).consortium.reinstate(address("pharmacy"))

    assert exc.value.account == address(caller)
    assert status_of(ledger("admin"), address("pharmacy")) is InstitutionStatus.SUSPENDED


def test_reinstate_an_active_institution_is_rejected(ledger, address):
    with pytest.raises(errors.InstitutionNotSuspended) as exc:
        ledger("regulator").consortium.reinstate(address("hospital"))

    assert exc.value.institution == address("hospital")
    assert status_of(ledger("regulator"), address("hospital")) is InstitutionStatus.ACTIVE


def test_reinstate_a_never_accredited_account_is_not_found(ledger, address):
    with pytest.raises(errors.InstitutionNotAccredited) as exc:
        ledger("admin").consortium.reinstate(address("outsider"))

    assert exc.value.institution == address("outsider")
    assert status_of(ledger("admin"), address("outsider")) is InstitutionStatus.NONE


def test_reinstate_rejects_a_malformed_address_before_sending(ledger):
    with pytest.raises(errors.InvalidInput):
        ledger("admin").consortium.reinstate("hospital")


# ─── Roles: grantRole / revokeRole ───────────────────────────────────────────────────────────

#: (role name in the client's method names, role id, the actor holding it in the base fixture)
ROLES = pytest.mark.parametrize(
    ("role_name", "role", "holder"),
    [
        ("regulator", REGULATOR_ROLE, "regulator"),
        ("licensing_authority", LICENSING_AUTHORITY_ROLE, "authority"),
    ],
    ids=["regulator", "licensing-authority"],
)


def grant(ml: MedLedger, role_name: str, account: str) -> Receipt:
    return getattr(ml.consortium, f"add_{role_name}")(account)


def revoke(ml: MedLedger, role_name: str, account: str) -> Receipt:
    return getattr(ml.consortium, f"remove_{role_name}")(account)


def holds(ml: MedLedger, role_name: str, account: str) -> bool:
    return bool(getattr(ml.consortium, f"is_{role_name}")(account))


def test_role_ids_are_the_hashes_of_their_names(ledger):
    consortium = ledger("outsider").consortium
    assert consortium.regulator_role() == REGULATOR_ROLE
    assert consortium.licensing_authority_role() == LICENSING_AUTHORITY_ROLE


def test_fixture_roles_are_in_place(ledger, address):
    consortium = ledger("outsider").consortium
    assert consortium.is_regulator(address("regulator"))
    assert consortium.is_licensing_authority(address("authority"))
    assert consortium.is_licensing_authority(address("authority2"))
    assert not consortium.is_regulator(address("authority"))
    assert not consortium.is_licensing_authority(address("regulator"))


@ROLES
def test_admin_grants_role_and_event_is_emitted(ledger, address, role_name, role, holder):
    admin = ledger("admin")
    receipt = grant(admin, role_name, address("spare"))

    assert holds(admin, role_name, address("spare"))
    (event,) = events(admin, receipt, "RoleGranted")
    assert (event.role, event.account, event.sender) == (role, address("spare"), address("admin"))


@ROLES
def test_admin_revokes_role_and_event_is_emitted(ledger, address, role_name, role, holder):
    admin = ledger("admin")
    receipt = revoke(admin, role_name, address(holder))

    assert not holds(admin, role_name, address(holder))
    (event,) = events(admin, receipt, "RoleRevoked")
    assert (event.role, event.account, event.sender) == (role, address(holder), address("admin"))


def test_a_new_regulator_can_suspend(ledger, address):
    ledger("admin").consortium.add_regulator(address("spare"))
    ledger("spare").consortium.suspend(address("hospital"), 9)
    assert status_of(ledger("spare"), address("hospital")) is InstitutionStatus.SUSPENDED


def test_a_removed_regulator_can_no_longer_suspend(ledger, address):
    ledger("admin").consortium.remove_regulator(address("regulator"))
    with pytest.raises(errors.NotAdminOrRegulator):
        ledger("regulator").consortium.suspend(address("hospital"), 9)
    assert status_of(ledger("regulator"), address("hospital")) is InstitutionStatus.ACTIVE


@ROLES
def test_role_grant_by_non_admin_is_rejected(ledger, address, role_name, role, holder):
    # The holder of the role itself cannot pass it on: only the admin administers roles.
    with pytest.raises(errors.AccessControlUnauthorizedAccount) as exc:
        grant(ledger(holder), role_name, address("spare"))

    assert (exc.value.account, exc.value.neededRole) == (address(holder), DEFAULT_ADMIN_ROLE)
    assert not holds(ledger("admin"), role_name, address("spare"))


@pytest.mark.parametrize("caller", ["regulator", "authority2"])
def test_role_revoke_by_non_admin_is_rejected(ledger, address, caller):
    with pytest.raises(errors.AccessControlUnauthorizedAccount) as exc:
        ledger(caller).consortium.remove_licensing_authority(address("authority"))

    assert (exc.value.account, exc.value.neededRole) == (address(caller), DEFAULT_ADMIN_ROLE)
    assert ledger("admin").consortium.is_licensing_authority(address("authority"))


def test_granting_a_held_role_changes_nothing_and_emits_no_event(ledger, address):
    admin = ledger("admin")
    receipt = admin.consortium.add_regulator(address("regulator"))

    assert events(admin, receipt, "RoleGranted") == []
    assert admin.consortium.is_regulator(address("regulator"))


def test_revoking_a_role_not_held_changes_nothing_and_emits_no_event(ledger, address):
    admin = ledger("admin")
    receipt = admin.consortium.remove_licensing_authority(address("outsider"))

    assert events(admin, receipt, "RoleRevoked") == []
    assert not admin.consortium.is_licensing_authority(address("outsider"))


@pytest.mark.parametrize("method", ["add_regulator", "remove_regulator", "add_licensing_authority"])
def test_role_changes_reject_a_malformed_address_before_sending(ledger, method):
    with pytest.raises(errors.InvalidInput):
        getattr(ledger("admin").consortium, method)("0x" + "g" * 40)


@pytest.mark.parametrize("method", ["add_regulator", "add_licensing_authority"])
def test_a_role_cannot_be_granted_to_the_zero_address(ledger, method):
    with pytest.raises(errors.ZeroAddress):
        getattr(ledger("admin").consortium, method)(ZERO_ADDRESS)
    assert not ledger("admin").consortium.is_regulator(ZERO_ADDRESS)
    assert not ledger("admin").consortium.is_licensing_authority(ZERO_ADDRESS)


def test_admin_role_cannot_be_granted_directly(ledger, address):
    """The admin role only moves through the two-step transfer."""
    admin = ledger("admin")
    direct_grant = admin.consortium.contract.functions.grantRole(DEFAULT_ADMIN_ROLE, address("spare"))

    with pytest.raises(errors.AccessControlEnforcedDefaultAdminRules):
        admin.transactor.send(direct_grant, admin.signer)

    assert admin.consortium.admin() == address("admin")


# ─── Two-step admin transfer ─────────────────────────────────────────────────────────────────


def schedule_admin_transfer(suite, ledger, address, to: str = "spare") -> None:
    """The admin schedules a transfer to ``to``; then time moves past the 0 s delay.

    The acceptance needs a block later than the schedule, which anvil and ganache do not
    guarantee for the next transaction's gas estimate."""
    ledger("admin").consortium.begin_admin_transfer(address(to))
    suite.chain.advance_time(1)


def test_begin_admin_transfer_schedules_the_new_admin(ledger, address):
    admin = ledger("admin")
    receipt = admin.consortium.begin_admin_transfer(address("spare"))

    pending = admin.consortium.pending_admin()
    assert pending.new_admin == address("spare")
    assert pending.accept_after == block_time(admin, receipt)  # local deployments use a 0 s delay
    assert admin.consortium.admin() == address("admin")  # nothing moves before the acceptance
    (event,) = events(admin, receipt, "DefaultAdminTransferScheduled")
    assert (event.newAdmin, event.acceptSchedule) == (address("spare"), pending.accept_after)


def test_accept_admin_transfer_moves_the_admin_role(suite, ledger, address):
    schedule_admin_transfer(suite, ledger, address)

    receipt = ledger("spare").consortium.accept_admin_transfer()

    viewer = ledger("outsider")
    assert viewer.consortium.admin() == address("spare")
    assert viewer.consortium.pending_admin().new_admin is None
    assert viewer.consortium.pending_admin().accept_after == 0
    (revoked,) = events(viewer, receipt, "RoleRevoked")
    (granted,) = events(viewer, receipt, "RoleGranted")
    assert (revoked.role, revoked.account) == (DEFAULT_ADMIN_ROLE, address("admin"))
    assert (granted.role, granted.account) == (DEFAULT_ADMIN_ROLE, address("spare"))


def test_after_the_transfer_only_the_new_admin_administers(suite, ledger, address):
    schedule_admin_transfer(suite, ledger, address)
    ledger("spare").consortium.accept_admin_transfer()
    old, new = ledger("admin").consortium, ledger("spare").consortium

    with pytest.raises(errors.AccessControlUnauthorizedAccount) as exc:
        old.accredit(address("outsider"), "lab")
    assert exc.value.account == address("admin")
    with pytest.raises(errors.NotAdminOrRegulator):
        old.suspend(address("hospital"))
    new.accredit(address("outsider"), "lab")
    assert new.is_member(address("outsider"), "lab")


@pytest.mark.parametrize("caller", ["regulator", "spare"])
def test_begin_admin_transfer_by_non_admin_is_rejected(ledger, address, caller):
    with pytest.raises(errors.AccessControlUnauthorizedAccount) as exc:
        ledger(caller).consortium.begin_admin_transfer(address(caller))

    assert (exc.value.account, exc.value.neededRole) == (address(caller), DEFAULT_ADMIN_ROLE)
    assert ledger("admin").consortium.pending_admin().new_admin is None


@pytest.mark.parametrize("caller", ["outsider", "admin"])
def test_accept_admin_transfer_by_someone_other_than_the_pending_admin_is_rejected(
    suite, ledger, address, caller
):
    schedule_admin_transfer(suite, ledger, address)

    with pytest.raises(errors.AccessControlInvalidDefaultAdmin) as exc:
        ledger(caller).consortium.accept_admin_transfer()

    assert exc.value.defaultAdmin == address(caller)
    assert ledger("admin").consortium.admin() == address("admin")
    assert ledger("admin").consortium.pending_admin().new_admin == address("spare")


@pytest.mark.parametrize("scenario", ["never-scheduled", "cancelled", "already-accepted"])
def test_accept_admin_transfer_without_a_pending_transfer_is_rejected(suite, ledger, address, scenario):
    if scenario != "never-scheduled":
        schedule_admin_transfer(suite, ledger, address)
    if scenario == "cancelled":
        ledger("admin").consortium.cancel_admin_transfer()
    if scenario == "already-accepted":
        ledger("spare").consortium.accept_admin_transfer()
    consortium = ledger("outsider").consortium
    admin_before = consortium.admin()

    with pytest.raises(errors.AccessControlInvalidDefaultAdmin) as exc:
        ledger("spare").consortium.accept_admin_transfer()

    assert exc.value.defaultAdmin == address("spare")
    assert consortium.admin() == admin_before
    assert consortium.pending_admin().new_admin is None


def test_begin_admin_transfer_rejects_a_malformed_address_before_sending(ledger):
    with pytest.raises(errors.InvalidInput):
        ledger("admin").consortium.begin_admin_transfer("0x" + "1" * 39)
    assert ledger("admin").consortium.pending_admin().new_admin is None


# ─── Views ───────────────────────────────────────────────────────────────────────────────────


def test_is_member_requires_an_active_institution_of_that_kind(ledger, address):
    consortium = ledger("outsider").consortium
    expected = {
        ("hospital", InstitutionKind.HOSPITAL): True,
        ("hospital", InstitutionKind.PHARMACY): False,
        ("hospital", InstitutionKind.CLINIC): False,
        ("pharmacy", InstitutionKind.PHARMACY): True,
        ("pharmacy", InstitutionKind.HOSPITAL): False,
        ("outsider", InstitutionKind.HOSPITAL): False,  # never accredited: its zero kind must not match
        ("regulator", InstitutionKind.HOSPITAL): False,
    }
    actual = {(name, kind): consortium.is_member(address(name), kind) for name, kind in expected}
    assert actual == expected


def test_is_member_accepts_kind_names_and_numbers(ledger, address):
    consortium = ledger("outsider").consortium
    assert consortium.is_member(address("pharmacy"), "Pharmacy")
    assert consortium.is_member(address("pharmacy"), 3)
    with pytest.raises(errors.InvalidInput):
        consortium.is_member(address("pharmacy"), "chemist")


def test_is_active_institution_is_true_for_accredited_active_members_only(ledger, address):
    viewer = ledger("outsider")
    names = ("hospital", "pharmacy", "doctor")
    actual = {name: is_active_institution(viewer, address(name)) for name in names}
    assert actual == {"hospital": True, "pharmacy": True, "doctor": False}


def test_institution_of_a_never_accredited_account_is_empty(ledger, address):
    record = ledger("outsider").consortium.institution(address("outsider"))
    assert record.status is InstitutionStatus.NONE
    assert record.kind is None  # not the enum's zero value, HOSPITAL
    assert not record.is_active
    assert record.accredited_at == 0
    assert record.profile_hash == bytes(32)


def test_institution_of_a_fixture_member(ledger, address):
    record = ledger("outsider").consortium.institution(address("hospital").lower())
    assert record.address == address("hospital")  # returned checksummed
    assert (record.kind, record.status) == (InstitutionKind.HOSPITAL, InstitutionStatus.ACTIVE)
    assert record.profile_hash == HOSPITAL_PROFILE
    assert record.accredited_at > 0
