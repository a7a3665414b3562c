"""Taps for settlement from the rows a gate journal uploads (``GateJournal.export_taps``).

Only accepted ride-code taps are journeys: rejected taps, reserved tickets and ID-card taps
are left out. The account is read from the credential inside the scan code (its opaque token,
as hex); a row whose code does not open is left out too, as it was never a valid ride.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from open12306.transit.domain.taps import Tap, TapDirection
from open12306.travel.domain.codes import CodeError, open_scan


def taps_from_gate_rows(rows: Iterable[Mapping[str, object]], operator: str) -> list[Tap]:
    """The accepted ride taps among ``rows``, as taps of ``operator``."""
    taps: list[Tap] = []
    for row in rows:
        if row.get("kind") != "ride" or row.get("accepted") is not True:
            continue
        try:
            scan = open_scan(bytes.fromhex(str(row["code"])))
        except (CodeError, ValueError):
            continue
        token = scan.credential.value.account_token.hex()
        direction = TapDirection(str(row["direction"]))
        at = row["gate_clock"]
        if not isinstance(at, int):
            continue
        taps.append(Tap(str(row["tap_id"]), token, operator, str(row["station"]), direction, at))
    return taps
