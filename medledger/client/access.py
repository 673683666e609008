"""Sub-client for emergency access: break-glass sessions and their limits (ConsentManager)."""

from __future__ import annotations

from dataclasses import dataclass

from medledger.client.base import SubClient, checksum, uint
from medledger.transactions import Receipt


@dataclass(frozen=True)
class BreakGlassSession:
    patient: str
    practitioner: str
    opened_at: int  # unix seconds; 0 if never opened
    until: int  # end (exclusive)
    reason_code: int

    def open_at(self, timestamp: int) -> bool:
        return self.until > timestamp


@dataclass(frozen=True)
class BreakGlassPolicy:
    max_duration: int  # seconds
    window: int  # seconds
    max_sessions_per_window: int


@dataclass(frozen=True)
class BreakGlassUsage:
    window_start: int
    sessions: int


class AccessClient(SubClient):
    contract_name = "ConsentManager"

    def open_break_glass(self, patient: str, *, reason_code: int, duration: int) -> Receipt:
        """The signing licensed practitioner opens emergency access to ``patient`` for ``duration`` seconds."""
        return self._send(
            "openBreakGlass",
            checksum(patient, "patient"),
            uint(reason_code, 16, "reason code"),
            uint(duration, 40, "duration"),
        )

    def close_break_glass(self, patient: str, practitioner: str) -> Receipt:
        """End a session early (the patient, a delegate, the practitioner or a regulator)."""
        return self._send("closeBreakGlass", checksum(patient, "patient"), checksum(practitioner, "practitioner"))

    def set_break_glass_policy(self, *, max_duration: int, window: int, max_sessions_per_window: int) -> Receipt:
        """Set the break-glass limits (consortium admin)."""
        return self._send(
            "setBreakGlassPolicy",
            uint(max_duration, 40, "maximum duration"),
            uint(window, 40, "window"),
            uint(max_sessions_per_window, 16, "sessions per window"),
        )

    def break_glass_session(self, patient: str, practitioner: str) -> BreakGlassSession:
        patient, practitioner = checksum(patient, "patient"), checksum(practitioner, "practitioner")
        opened_at, until, reason = self._call("breakGlassSession", patient, practitioner)
        return BreakGlassSession(patient, practitioner, int(opened_at), int(until), int(reason))

    def break_glass_policy(self) -> BreakGlassPolicy:
        max_duration, window, sessions = self._call("breakGlassPolicy")
        return BreakGlassPolicy(int(max_duration), int(window), int(sessions))

    def break_glass_usage(self, practitioner: str) -> BreakGlassUsage:
        window_start, sessions = self._call("breakGlassUsage", checksum(practitioner, "practitioner"))
        return BreakGlassUsage(int(window_start), int(sessions))
