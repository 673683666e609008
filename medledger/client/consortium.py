"""Sub-client of ConsortiumRegistry: institutions, regulators, licensing authorities, the admin."""

from __future__ import annotations

from dataclasses import dataclass

from medledger.client.base import SubClient, bytes32, checksum, uint
from medledger.transactions import Receipt
from medledger.types import InstitutionKind, InstitutionStatus

REGULATOR_ROLE_NAME = "medledger.role.regulator"
LICENSING_AUTHORITY_ROLE_NAME = "medledger.role.licensing-authority"


@dataclass(frozen=True)
class Institution:
    """An institution's membership record."""

    address: str
    kind: InstitutionKind | None  # None if never accredited
    status: InstitutionStatus
    accredited_at: int  # unix seconds; 0 if never accredited
    profile_hash: bytes

    @property
    def is_active(self) -> bool:
        return self.status is InstitutionStatus.ACTIVE


@dataclass(frozen=True)
class PendingAdmin:
    """A scheduled transfer of the consortium admin role."""

    new_admin: str | None
    accept_after: int  # unix seconds; 0 when nothing is scheduled


class ConsortiumClient(SubClient):
    contract_name = "ConsortiumRegistry"

    # ─── Institutions ────────────────────────────────────────────────────────────────────

    def accredit(
        self, institution: str, kind: InstitutionKind | str, profile_hash: bytes | str = bytes(32)
    ) -> Receipt:
        """Accredit ``institution`` as a member of ``kind`` (consortium admin only)."""
        return self._send(
            "accreditInstitution",
            checksum(institution, "institution"),
            int(InstitutionKind.parse(kind)),
            bytes32(profile_hash, "profile hash"),
        )

    def suspend(self, institution: str, reason_code: int = 0) -> Receipt:
        """Suspend ``institution`` (admin or regulator); it fails every membership check at once."""
        return self._send(
            "suspendInstitution", checksum(institution, "institution"), uint(reason_code, 16, "reason code")
        )

    def reinstate(self, institution: str) -> Receipt:
        """Lift the suspension of ``institution`` (admin or regulator)."""
        return self._send("reinstateInstitution", checksum(institution, "institution"))

    def institution(self, address: str) -> Institution:
        """The membership record of ``address`` (status NONE if never accredited)."""
        address = checksum(address, "institution")
        kind, status, accredited_at, profile_hash = self._call("institution", address)
        status = InstitutionStatus(status)
        return Institution(
            address=address,
            kind=None if status is InstitutionStatus.NONE else InstitutionKind(kind),
            status=status,
            accredited_at=int(accredited_at),
            profile_hash=bytes(profile_hash),
        )

    def is_member(self, address: str, kind: InstitutionKind | str) -> bool:
        """True when ``address`` is an active institution of ``kind``."""
        return bool(self._call("isMember", checksum(address), int(InstitutionKind.parse(kind))))

    def is_active_institution(self, address: str) -> bool:
        """True when ``address`` is an active institution of any kind."""
        return bool(self._call("isActiveInstitution", checksum(address)))

    def institution_status(self, address: str) -> InstitutionStatus:
        """NONE if ``address`` was never accredited, else ACTIVE or SUSPENDED (an institution for good)."""
        return InstitutionStatus(self._call("institutionStatus", checksum(address)))

    # ─── Roles ───────────────────────────────────────────────────────────────────────────

    def regulator_role(self) -> bytes:
        return bytes(self._call("REGULATOR_ROLE"))

    def licensing_authority_role(self) -> bytes:
        return bytes(self._call("LICENSING_AUTHORITY_ROLE"))

    def add_regulator(self, account: str) -> Receipt:
        """Name ``account`` a regulator (consortium admin only)."""
        account = checksum(account, "regulator")
        return self._send("grantRole", self.regulator_role(), account)

    def remove_regulator(self, account: str) -> Receipt:
        account = checksum(account, "regulator")
        return self._send("revokeRole", self.regulator_role(), account)

    def add_licensing_authority(self, account: str) -> Receipt:
        """Name ``account`` a licensing authority (consortium admin only)."""
        account = checksum(account, "licensing authority")
        return self._send("grantRole", self.licensing_authority_role(), account)

    def remove_licensing_authority(self, account: str) -> Receipt:
        """Withdraw the role: every credential ``account`` issued stops passing checks, and it
        loses its power to suspend, reinstate or revoke them."""
        account = checksum(account, "licensing authority")
        return self._send("revokeRole", self.licensing_authority_role(), account)

    def is_regulator(self, account: str) -> bool:
        return bool(self._call("isRegulator", checksum(account)))

    def is_licensing_authority(self, account: str) -> bool:
        return bool(self._call("isLicensingAuthority", checksum(account)))

    # ─── Admin (two-step transfer with a delay) ──────────────────────────────────────────

    def admin(self) -> str:
        return str(self._call("defaultAdmin"))

    def begin_admin_transfer(self, new_admin: str) -> Receipt:
        """Schedule the transfer of the admin role to ``new_admin`` (current admin only)."""
        return self._send("beginDefaultAdminTransfer", checksum(new_admin, "new admin"))

    def cancel_admin_transfer(self) -> Receipt:
        return self._send("cancelDefaultAdminTransfer")

    def accept_admin_transfer(self) -> Receipt:
        """Accept a scheduled transfer (the new admin, once the delay has passed)."""
        return self._send("acceptDefaultAdminTransfer")

    def pending_admin(self) -> PendingAdmin:
        new_admin, schedule = self._call("pendingDefaultAdmin")
        empty = int(new_admin, 16) == 0
        return PendingAdmin(None if empty else str(new_admin), int(schedule))
