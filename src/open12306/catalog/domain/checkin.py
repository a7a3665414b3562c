"""The check-in gate (检票口) printed on a ticket for its boarding station.

Real gate plans are a station's own and change with the day's platform working; 12306 prints
the one in force when the ticket is issued. We have no station's plan, so the gate is a stable
synthetic assignment: a station's trains are spread over ``GATES_PER_HALL`` gates in two
waiting halls (A, B) by a hash of station and train, the same for every ticket of that train
at that station. Replace ``checkin_gate`` with a lookup when real plans are available.
"""

from __future__ import annotations

import zlib

GATES_PER_HALL = 12


def checkin_gate(station: str, train_code: str) -> str:
    """The gate for boarding ``train_code`` at ``station``, e.g. ``A7``."""
    digest = zlib.crc32(f"{station.upper()}|{train_code.upper()}".encode())
    hall = "AB"[digest & 1]
    return f"{hall}{1 + (digest >> 1) % GATES_PER_HALL}"
