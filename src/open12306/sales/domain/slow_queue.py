"""The slow queue for suspect orders, and the queue's own limits.

12306 serves orders from accounts or addresses that submit far above a human's rate after
everyone else's (on 2025-01-11 it diverted 4.07 M such orders). ``SlowQueueRule`` says what
"far above" means: more than ``max_per_account`` submissions from one account, or more than
``max_per_address`` from one client address (None: addresses are not counted; many people
share one address behind a carrier's NAT, and a load generator on loopback is one address),
within ``window_seconds``. A suspect order is
queued as if it had been submitted ``delay_seconds`` later: it is allocated after every order
submitted in that time, and not before its delayed moment.

``SubmissionRates`` counts the submissions it is shown (times come from the caller's clock).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class SlowQueueRule:
    """When a submitter is suspect and how much later its orders are served."""

    window_seconds: float = 60.0
    max_per_account: int = 10
    max_per_address: int | None = None
    delay_seconds: float = 30.0
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.window_seconds <= 0 or self.delay_seconds < 0:
            raise ValueError("window_seconds must be > 0 and delay_seconds ≥ 0")
        address_limit = 1 if self.max_per_address is None else self.max_per_address
        if self.max_per_account < 1 or address_limit < 1:
            raise ValueError("the per-account and per-address limits must be at least 1")

    @property
    def delay(self) -> timedelta:
        return timedelta(seconds=self.delay_seconds)


DEFAULT_SLOW_QUEUE = SlowQueueRule()


class SubmissionRates:
    """Recent submissions per account and per address; whether a new one is suspect."""

    def __init__(self, rule: SlowQueueRule = DEFAULT_SLOW_QUEUE) -> None:
        self.rule = rule
        self._by_account: dict[str, deque[datetime]] = {}
        self._by_address: dict[str, deque[datetime]] = {}

    def record(self, account: str, address: str | None, at: datetime) -> bool:
        """Count one submission at ``at``; True when its submitter is now above a limit."""
        if not self.rule.enabled:
            return False
        over = self._count(self._by_account, account, at) > self.rule.max_per_account
        if address and self.rule.max_per_address is not None:
            over |= self._count(self._by_address, address, at) > self.rule.max_per_address
        return over

    def _count(self, table: dict[str, deque[datetime]], key: str, at: datetime) -> int:
        times = table.setdefault(key, deque())
        start = at - timedelta(seconds=self.rule.window_seconds)
        while times and times[0] <= start:
            times.popleft()
        times.append(at)
        if len(table) > 100_000:  # forget idle submitters so the table stays bounded
            for idle in [k for k, t in table.items() if not t or t[-1] <= start]:
                del table[idle]
        return len(times)
