"""Runs benchmarks by name: ``open12306 bench inventory|search|gate|booking|peak|all``."""

from __future__ import annotations

from typing import Any

from open12306.bench.steps import Tell, quiet
from open12306.shared.errors import DomainError

NAMES = ("inventory", "search", "gate", "booking", "peak")


def run_benchmarks(name: str, seconds: float, progress: Tell = quiet) -> dict[str, Any]:
    """Figures of one benchmark (or all), keyed by benchmark name; ``progress`` hears each
    one's phases (``stage, done, total``)."""
    if name != "all" and name not in NAMES:
        raise DomainError("name", "unknown_benchmark", f"name: use one of {', '.join(NAMES)}, all")
    chosen = NAMES if name == "all" else (name,)
    results: dict[str, Any] = {}
    for bench in chosen:
        if bench == "inventory":
            from open12306.bench import inventory

            results[bench] = inventory.run(seconds=seconds, progress=progress)
        elif bench == "search":
            from open12306.bench import search

            results[bench] = search.run(seconds=seconds, progress=progress)
        elif bench == "gate":
            from open12306.bench import gate

            results[bench] = gate.run(seconds=seconds, progress=progress)
        elif bench == "booking":
            from open12306.bench import booking

            results[bench] = booking.run(seconds=seconds, progress=progress)
        elif bench == "peak":
            from open12306.bench import peak

            results[bench] = peak.run(seconds=seconds, progress=progress)
    return results
