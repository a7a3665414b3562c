"""A gate's settings: where it stands and how much it tolerates."""

from __future__ import annotations

from dataclasses import dataclass

from open12306.shared.errors import DomainError
from open12306.travel.domain.codes.fields import check_code_text


def _non_negative(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DomainError(name, "invalid", f"{name}: must be a non-negative integer")


@dataclass(frozen=True, slots=True)
class GateConfig:
    """Settings of one gate (or of all gates of a station).

    Check-in for a run opens ``check_in_opens_minutes`` before its departure from this station
    and closes ``closes_minutes_before`` it. ``clock_skew_seconds`` is how far a phone's or the
    issuer's clock may be from the gate's; a scan code is fresh for ``scan_validity_seconds``.
    A ticket may leave at its destination up to ``exit_grace_minutes`` after its check-in
    window closed. A rider recorded as inside is forgotten after ``inside_expiry_minutes``
    (they may have left through another station's gate). An exit at the entry station within
    ``cancel_minutes`` of entering is a cancelled trip.
    """

    station: str
    check_in_opens_minutes: int = 120
    closes_minutes_before: int = 5
    clock_skew_seconds: int = 90
    scan_validity_seconds: int = 60
    exit_grace_minutes: int = 48 * 60
    inside_expiry_minutes: int = 6 * 60
    cancel_minutes: int = 20
    gate_id: str = "gate-1"

    def __post_init__(self) -> None:
        check_code_text("station", self.station)
        for name in (
            "check_in_opens_minutes",
            "closes_minutes_before",
            "clock_skew_seconds",
            "scan_validity_seconds",
            "exit_grace_minutes",
            "inside_expiry_minutes",
            "cancel_minutes",
        ):
            _non_negative(name, getattr(self, name))
        if self.closes_minutes_before > self.check_in_opens_minutes:
            raise DomainError(
                "closes_minutes_before", "invalid", "check-in must close after it opens"
            )
        if not self.gate_id or not self.gate_id.isprintable():
            raise DomainError("gate_id", "invalid", "gate_id: must be printable text")

    @property
    def skew(self) -> int:
        return self.clock_skew_seconds
