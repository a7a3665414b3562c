"""Benchmarks tell their phases to a progress bar, from 0 to the whole."""

from __future__ import annotations

from open12306.bench.runner import run_benchmarks


def test_a_benchmark_reports_each_phase_up_to_its_total() -> None:
    heard: list[tuple[str, int, int]] = []
    run_benchmarks("gate", 0.2, lambda stage, done, total: heard.append((stage, done, total)))
    assert heard[0] == ("gate", 0, 5) and heard[-1] == ("gate", 5, 5)
    assert [done for _, done, _ in heard] == sorted(done for _, done, _ in heard)
    heard.clear()
    run_benchmarks("inventory", 0.1, lambda stage, done, total: heard.append((stage, done, total)))
    assert heard[-1] == ("inventory", 3, 3)
