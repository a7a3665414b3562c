"""A reduced peak benchmark: every phase ran, answered without errors, and gave its figures."""

from __future__ import annotations

from open12306.bench.peak import run


def test_reduced_peak_bench_reports_every_phase_and_ratio() -> None:
    figures = run(
        seconds=0.5, rounds=1, riders_per_round=40, booking_connections=4, search_connections=4
    )
    for phase, unit in (
        ("search_alone", "answers_per_s"),
        ("search_under_booking", "answers_per_s"),
        ("booking_alone", "tickets_per_s"),
        ("booking_under_search", "tickets_per_s"),
    ):
        assert figures[phase][unit] > 0, phase
        assert figures[phase]["p99_ms"] > 0, phase
    assert figures["errors"] == 0
    assert figures["search_paths"] > 0
    assert figures["ratio_search_under_booking"] > 0
    assert figures["ratio_booking_under_search"] > 0
