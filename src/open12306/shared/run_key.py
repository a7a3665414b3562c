"""The key of a run: a train on a service date, e.g. ``("G1", date(2026, 12, 10))``."""

from __future__ import annotations

from datetime import date

RunKey = tuple[str, date]
