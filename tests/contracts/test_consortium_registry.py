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
    """``ledger("regulator")``: the suite acting as that actor. One transactor for all, so nonces agree."""
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
    # The client has no wrapper for this view; call it directly.
    return bool(ml.consortium.contract.functions.isActiveInstitution(account).call())


def status_of(ml: MedLedger, account: str) -> InstitutionStatus:
    return ml.consortium.institution(account).status


def block_time(ml: MedLedger, receipt: Receipt) -> int:
    return int(ml.w3.eth.get_block(receipt.block_number)["timestamp"])


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
    assert (event.institution, event.kind, event.profileHash) == (address("spare"), InstitutionKind.LAB, PROFILE)


@pytest.mark.parametrize("caller", ["regulator", "authority", "hospital", "outsider"])
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
        ("0x1234", "lab", PROFILE),  # malformed address
        ("spare", "veterinary", PROFILE),  # unknown kind
        ("spare", 7, PROFILE),  # kind number out of range
        ("spare", "lab", b"\x01" * 31),  # short profile hash
        ("spare", "lab", "0x" + "ab" * 33),  # long hex profile hash
        ("spare", "lab", "zz" * 32),  # not hex
    ],
    ids=["bad-address", "unknown-kind", "kind-out-of-range", "short-hash", "long-hash", "non-hex-hash"],
)
def test_accredit_rejects_malformed_arguments_before_sending(ledger, address, account, kind, profile):
    target = address(account) if account == "spare" else account
    with pytest.raises(errors.InvalidInput):
        ledger("admin").consortium.accredit(target, kind, profile)
    assert status_of(ledger("admin"), address("spare")) is InstitutionStatus.NONE


# ─── suspendInstitution ──────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("suspender", ["admin", "regulator"])
@pytest.mark.parametrize("reason", [0, 65535])
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
    assert (event.institution, event.by, event.reasonCode) == (address("hospital"), address(suspender), reason)


@pytest.mark.parametrize("caller", ["authority", "hospital", "pharmacy", "outsider"])
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


@pytest.mark.parametrize("account", ["outsider", "doctor"])
def test_suspend_a_never_accredited_account_is_not_found(ledger, address, account):
    with pytest.raises(errors.InstitutionNotAccredited) as exc:
        ledger("regulator").consortium.suspend(address(account), 1)

    assert exc.value.institution == address(account)
    assert isinstance(exc.value, errors.NotFound)
    assert status_of(ledger("regulator"), address(account)) is InstitutionStatus.NONE


@pytest.mark.parametrize(
    ("account", "reason"),
    [("hospital", -1), ("hospital", 65536), ("hospital", True), ("0xnothex", 1)],
    ids=["negative-reason", "reason-too-large", "bool-reason", "bad-address"],
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


@pytest.mark.parametrize("caller", ["authority", "pharmacy", "outsider"])
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

GRANTS = pytest.mark.parametrize(
    ("grant", "revoke", "holds", "role"),
    [
        ("add_regulator", "remove_regulator", "is_regulator", REGULATOR_ROLE),
        (
            "add_licensing_authority",
            "remove_licensing_authority",
            "is_licensing_authority",
            LICENSING_AUTHORITY_ROLE,
        ),
    ],
    ids=["regulator", "licensing-authority"],
)


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


@GRANTS
def test_admin_grants_role_and_event_is_emitted(ledger, address, grant, revoke, holds, role):
    admin = ledger("admin")
    receipt = getattr(admin.consortium, grant)(address("spare"))

    assert getattr(admin.consortium, holds)(address("spare"))
    (event,) = events(admin, receipt, "RoleGranted")
    assert (event.role, event.account, event.sender) == (role, address("spare"), address("admin"))


@GRANTS
def test_admin_revokes_role_and_event_is_emitted(ledger, address, grant, revoke, holds, role):
    admin = ledger("admin")
    getattr(admin.consortium, grant)(address("spare"))

    receipt = getattr(admin.consortium, revoke)(address("spare"))

    assert not getattr(admin.consortium, holds)(address("spare"))
    (event,) = events(admin, receipt, "RoleRevoked")
    assert (event.role, event.account, event.sender) == (role, address("spare"), address("admin"))


@GRANTS
@pytest.mark.parametrize("caller", ["regulator", "authority", "outsider"])
def test_role_grant_by_non_admin_is_rejected(ledger, address, grant, revoke, holds, role, caller):
    with pytest.raises(errors.AccessControlUnauthorizedAccount) as exc:
        getattr(ledger(caller).consortium, grant)(address("spare"))

    assert (exc.value.account, exc.value.neededRole) == (address(caller), DEFAULT_ADMIN_ROLE)
    assert not getattr(ledger("admin").consortium, holds)(address("spare"))


@pytest.mark.parametrize("caller", ["regulator", "authority2", "outsider"])
def test_role_revoke_by_non_admin_is_rejected(ledger, address, caller):
    with pytest.raises(errors.AccessControlUnauthorizedAccount) as exc:
        ledger(caller).consortium.remove_licensing_authority(address("authority"))

    assert (exc.value.account, exc.value.neededRole) == (address(caller), DEFAULT_ADMIN_ROLE)
    assert ledger("admin").consortium.is_licensing_authority(address("authority"))


@GRANTS
def test_granting_a_held_role_changes_nothing_and_emits_no_event(ledger, address, grant, revoke, holds, role):
    admin = ledger("admin")
    getattr(admin.consortium, grant)(address("spare"))

    receipt = getattr(admin.consortium, grant)(address("spare"))

    assert events(admin, receipt, "RoleGranted") == []
    assert getattr(admin.consortium, holds)(address("spare"))


@GRANTS
def test_revoking_a_role_not_held_changes_nothing_and_emits_no_event(
    ledger, address, grant, revoke, holds, role
):
    admin = ledger("admin")
    receipt = getattr(admin.consortium, revoke)(address("outsider"))

    assert events(admin, receipt, "RoleRevoked") == []
    assert not getattr(admin.consortium, holds)(address("outsider"))


@GRANTS
@pytest.mark.parametrize("account", ["0x", "0x" + "g" * 40, 42])
def test_role_changes_reject_a_malformed_address_before_sending(ledger, grant, revoke, holds, role, account):
    with pytest.raises(errors.InvalidInput):
        getattr(ledger("admin").consortium, grant)(account)
    with pytest.raises(errors.InvalidInput):
        getattr(ledger("admin").consortium, revoke)(account)


def test_a_new_regulator_can_suspend_and_a_removed_one_cannot(ledger, address):
    admin, spare = ledger("admin"), ledger("spare")
    admin.consortium.add_regulator(address("spare"))
    spare.consortium.suspend(address("hospital"), 9)
    admin.consortium.remove_regulator(address("spare"))

    with pytest.raises(errors.NotAdminOrRegulator):
        spare.consortium.reinstate(address("hospital"))
    assert status_of(admin, address("hospital")) is InstitutionStatus.SUSPENDED


def test_admin_role_cannot_be_granted_directly(ledger, address):
    """The admin role only moves through the two-step transfer."""
    admin = ledger("admin")
    grant = admin.consortium.contract.functions.grantRole(DEFAULT_ADMIN_ROLE, address("spare"))

    with pytest.raises(errors.AccessControlEnforcedDefaultAdminRules):
        admin.transactor.send(grant, admin.signer)

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
    new.suspend(address("hospital"))
    assert new.is_member(address("outsider"), "lab")
    assert status_of(ledger("outsider"), address("hospital")) is InstitutionStatus.SUSPENDED


@pytest.mark.parametrize("caller", ["regulator", "outsider", "spare"])
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
    admin = ledger("admin").consortium
    if scenario != "never-scheduled":
        schedule_admin_transfer(suite, ledger, address)
    if scenario == "cancelled":
        admin.cancel_admin_transfer()
    if scenario == "already-accepted":
        ledger("spare").consortium.accept_admin_transfer()
    admin_before = admin.admin()

    with pytest.raises(errors.AccessControlInvalidDefaultAdmin) as exc:
        ledger("spare").consortium.accept_admin_transfer()

    assert exc.value.defaultAdmin == address("spare")
    assert admin.admin() == admin_before
    assert admin.pending_admin().new_admin is None


def test_begin_admin_transfer_rejects_a_malformed_address_before_sending(ledger):
    with pytest.raises(errors.InvalidInput):
        ledger("admin").consortium.begin_admin_transfer("0x" + "1" * 39)
    assert ledger("admin").consortium.pending_admin().new_admin is None


# ─── Views ───────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("account", "kind", "expected"),
    [
        ("hospital", InstitutionKind.HOSPITAL, True),
        ("hospital", InstitutionKind.PHARMACY, False),
        ("hospital", InstitutionKind.CLINIC, False),
        ("pharmacy", InstitutionKind.PHARMACY, True),
        ("pharmacy", InstitutionKind.HOSPITAL, False),
        ("outsider", InstitutionKind.HOSPITAL, False),  # never accredited: kind 0 must not match
        ("regulator", InstitutionKind.HOSPITAL, False),
    ],
)
def test_is_member_requires_an_active_institution_of_that_kind(ledger, address, account, kind, expected):
    assert ledger("outsider").consortium.is_member(address(account), kind) is expected


def test_is_member_accepts_kind_names(ledger, address):
    consortium = ledger("outsider").consortium
    assert consortium.is_member(address("pharmacy"), "Pharmacy")
    assert consortium.is_member(address("pharmacy"), 3)
    with pytest.raises(errors.InvalidInput):
        consortium.is_member(address("pharmacy"), "chemist")


@pytest.mark.parametrize(("account", "expected"), [("hospital", True), ("pharmacy", True), ("doctor", False)])
def test_is_active_institution_is_true_for_accredited_active_members(ledger, address, account, expected):
    assert is_active_institution(ledger("outsider"), address(account)) is expected


def test_suspended_institution_fails_membership_views_until_reinstated(ledger, address):
    regulator = ledger("regulator")
    regulator.consortium.suspend(address("hospital"), 4)
    assert not regulator.consortium.is_member(address("hospital"), "hospital")
    assert not is_active_institution(regulator, address("hospital"))

    regulator.consortium.reinstate(address("hospital"))
    assert regulator.consortium.is_member(address("hospital"), "hospital")
    assert is_active_institution(regulator, address("hospital"))


def test_institution_of_a_never_accredited_account_is_empty(ledger, address):
    record = ledger("outsider").consortium.institution(address("outsider"))
    assert record.status is InstitutionStatus.NONE
    assert not record.is_active
    assert record.accredited_at == 0
    assert record.profile_hash == bytes(32)


def test_institution_of_a_fixture_member(ledger, address):
    record = ledger("outsider").consortium.institution(address("hospital").lower())
    assert record.address == address("hospital")  # returned checksummed
    assert (record.kind, record.status) == (InstitutionKind.HOSPITAL, InstitutionStatus.ACTIVE)
    assert record.profile_hash == HOSPITAL_PROFILE
    assert record.accredited_at > 0
