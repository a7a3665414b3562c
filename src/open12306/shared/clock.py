"""Clocks: the port services read the time through, the system clock, and a fixed one for tests
and replays."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """The current time, timezone-aware. Injected so a sale day can be replayed."""

    def now(self) -> datetime: ...


@dataclass
class SystemClock:
    """Wall-clock time in the configured zone."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def now(self) -> datetime:
        return datetime.now(self.zone)


@dataclass
class FixedClock:
    """A clock that only moves when told to."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta
