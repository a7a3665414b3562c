"""The settlement benchmark's generated city day and its report (no timing assertions)."""

from __future__ import annotations

from collections import Counter

from open12306.bench import settlement
from open12306.transit.domain import TapDirection


def test_city_day_is_seeded_and_has_duplicates_and_broken_journeys() -> None:
    operators, taps = settlement.city_day(5_000, seed=7)
    _, again = settlement.city_day(5_000, seed=7)
    assert taps == again
    assert len(taps) >= 5_000
    assert set(operators) == {"metro", "bus", "rail"}
    repeated = Counter(t.tap_id for t in taps)
    assert any(n > 1 for n in repeated.values())
    kinds = Counter(t.direction for t in taps)
    assert kinds[TapDirection.BOARD] > 0
    assert kinds[TapDirection.ENTRY] != kinds[TapDirection.EXIT]


def test_run_reports_rates_and_charges() -> None:
    report = settlement.run(seconds=0.0, taps=3_000, repeats=2)
    assert report["repeats"] == 2
    assert report["taps"] >= 3_000
    assert report["accounts_charged"] > 0
    assert 0 < report["flagged_accounts"] < report["accounts_charged"]
    assert report["taps_per_s"] > 0
    assert report["floor_sort_taps_per_s"] > 0
    assert report["ratio_to_floor"] > 0
