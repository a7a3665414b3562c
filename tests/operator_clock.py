"""The operator's clock, for the tests that drive a real command or server.

A command run in-process (``CliRunner``) or a live server reads the system clock in the
operator's zone (``OPEN12306_TIMEZONE``, Asia/Shanghai), not the machine's zone (UTC on CI):
a test that names "today" to such a command asks this module, built the same way as the
product's own clock. Tests of services and the domain use a ``FixedClock`` instead. This is
the one module under tests/ that may read the machine's clock (tests/unit/test_clock_reads.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from open12306.config import Settings
from open12306.shared.clock import SystemClock


def operator_clock(settings: Settings | None = None) -> SystemClock:
    """The clock the product builds for ``settings`` (default: from the environment)."""
    return SystemClock(ZoneInfo((settings or Settings.from_env()).timezone))


def operator_today(settings: Settings | None = None, offset: int = 0) -> date:
    """The operator's date today, plus ``offset`` days."""
    return operator_clock(settings).now().date() + timedelta(days=offset)
