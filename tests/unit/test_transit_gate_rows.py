"""Gate journal rows become settlement taps: accepted ride codes only, account from the code."""

from __future__ import annotations

from typing import Any

from open12306.transit.domain import Tap, TapDirection, taps_from_gate_rows
from tests.unit.gate_support import T0, TOKEN, scan_code


def row(seq: int, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "seq": seq,
        "tap_id": f"g1/j1/{seq}",
        "gate_id": "g1",
        "station": "VNP",
        "direction": "entry",
        "gate_clock": T0 + seq,
        "kind": "ride",
        "accepted": True,
        "reason": "ok",
        "subject": "serial:5",
        "serial": 5,
        "counter": seq,
        "notes": [],
        "code": scan_code(counter=seq).hex(),
    }
    base.update(changes)
    return base


def test_accepted_ride_taps_carry_the_credential_account_token() -> None:
    rows = [row(1), row(2, direction="exit", station="TJP")]
    assert taps_from_gate_rows(rows, "jingjin") == [
        Tap("g1/j1/1", TOKEN.hex(), "jingjin", "VNP", TapDirection.ENTRY, T0 + 1),
        Tap("g1/j1/2", TOKEN.hex(), "jingjin", "TJP", TapDirection.EXIT, T0 + 2),
    ]


def test_rejected_ticket_and_unreadable_rows_are_left_out() -> None:
    rows = [
        row(1, accepted=False, reason="replayed"),
        row(2, kind="ticket"),
        row(3, code="00ff"),
        row(4, code="not hex"),
        row(5),
    ]
    assert [t.tap_id for t in taps_from_gate_rows(rows, "metro")] == ["g1/j1/5"]
