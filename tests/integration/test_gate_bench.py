"""The gate benchmark runs and reports its figures (no timing is asserted)."""

from open12306.bench.gate import run


def test_the_benchmark_reports_latency_rates_and_floors() -> None:
    figures = run(seconds=0.2)
    assert figures["code_bytes"] == 213
    assert figures["qr"].startswith("version 10-M")
    assert figures["image_to_decision_ms"]["samples"] >= 20
    for key in ("p50", "p99"):
        assert figures["image_to_decision_ms"][key] > 0
        assert figures["zxing_floor_ms"][key] > 0
    assert figures["scans_per_s_per_core"] > 0
    assert figures["ed25519_verifies_per_s_floor"] > 0
    assert figures["ratio_to_floor"] > 0
