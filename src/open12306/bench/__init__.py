"""Benchmarks: each module exposes ``run(...) -> dict`` of figures and ratios (not tests)."""
