"""Peak benchmark: one server takes search at full rate and bookings at once.

Builds its own SQLite database with the demo network (like ``bench booking``), creates riders
before timing, starts ``open12306 serve``'s app under uvicorn (one worker) and measures, for
``seconds`` each and ``rounds`` times (medians reported):

- search alone: city-pair searches (half with one-change itineraries) on the first day
  bookings go to (after one request per pair, untimed: the route searches the warmer holds),
  over ``search_connections`` keep-alive sockets from wrk when installed (a C load generator
  that takes little of the cores the server needs), else from a Python load process;
- booking alone: ``bench booking``'s spread load (submit, long-poll to the outcome);
- both at once: the same two loads together.

Figures: answers/s and p99 latency of search, tickets/s and p99 time to outcome of booking,
and the ratios under load vs alone. The machine's cores are shared with the load generators
(and, on the development box, with other people's work): read the ratios, not the absolutes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import shutil
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from open12306.bench import booking, http_load
from open12306.bench.search import _pairs, _serve, _stop, _wait_ready, wait_warm
from open12306.bench.steps import Steps, Tell, quiet

TARGETS = {
    "search_under_booking_ratio": 0.7,
    "search_under_booking_per_s": 5000,
    "search_under_booking_p99_ms": 200,
    "booking_under_search_tickets_per_s": 1000,
}


async def _search_client(
    port: int, paths: Sequence[bytes], deadline: float, offset: int, times: list[float]
) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = errors = 0
    n = offset
    try:
        while time.perf_counter() < deadline:
            path = paths[n % len(paths)]
            n += 1
            start = time.perf_counter()
            writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: bench\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            times.append(time.perf_counter() - start)
            done += 1
            if int(head[9:12]) >= 500:
                errors += 1
    finally:
        writer.close()
    return done, errors


async def _search_load(
    port: int, paths: Sequence[bytes], seconds: float, connections: int
) -> dict[str, float]:
    times: list[float] = []
    start = time.perf_counter()
    deadline = start + seconds
    results = await asyncio.gather(
        *(_search_client(port, paths, deadline, k * 7, times) for k in range(connections))
    )
    elapsed = time.perf_counter() - start
    return {
        "answers_per_s": sum(r[0] for r in results) / elapsed,
        "p99_ms": 1000 * booking._percentile(times, 0.99),
        "errors": sum(r[1] for r in results),
    }


def _search_process(
    port: int, paths: list[bytes], seconds: float, connections: int, out: Any
) -> None:
    if shutil.which("wrk"):
        result = http_load.load("127.0.0.1", port, paths, seconds, connections)
        out.put(
            {
                "answers_per_s": result.rate,
                "p99_ms": result.p99_ms or 0.0,
                "errors": result.errors,
                "tool": "wrk",
            }
        )
        return
    out.put({**asyncio.run(_search_load(port, paths, seconds, connections)), "tool": "python"})


def _start_search(
    port: int, paths: list[bytes], seconds: float, connections: int
) -> tuple[Any, Any]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_search_process, args=(port, paths, seconds, connections, out))
    process.start()
    return process, out


def _finish_search(started: tuple[Any, Any]) -> dict[str, Any]:
    process, out = started
    figures: dict[str, Any] = out.get(timeout=600)
    process.join(timeout=30)
    return figures


def _booking_figures(tally: booking.Tally) -> dict[str, float]:
    seconds = [o.seconds for o in tally.outcomes]
    return {
        "tickets_per_s": tally.rate,
        "p99_ms": 1000 * booking._percentile(seconds, 0.99),
        "orders": len(tally.outcomes),
        "errors": len(tally.errors),
    }


def _search_paths(container: Any, day: Any) -> list[bytes]:
    paths = []
    for n, params in enumerate(_pairs(container, day.isoformat())):
        query = {**params, "transfers": "1" if n % 2 == 0 else "0"}
        paths.append(b"/api/v1/search?" + urlencode(query).encode())
    random.Random(12306).shuffle(paths)
    return paths


def _median(rounds: Sequence[dict[str, Any]], key: str) -> float:
    return round(float(statistics.median(r[key] for r in rounds)), 1)


def run(
    seconds: float = 5.0,
    *,
    rounds: int = 3,
    riders_per_round: int = 4000,
    booking_connections: int = 32,
    search_connections: int = 32,
    seed: int = 12306,
    progress: Tell = quiet,
) -> dict[str, Any]:
    """Search alone, booking alone, and both at once on one server; medians of ``rounds``."""
    steps = Steps(progress, "peak", 1 + 3 * rounds)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="open12306-bench-") as tmp:
        folder = Path(tmp)
        settings = booking._settings(f"sqlite:///{folder}/peak.db", folder)
        container = booking._prepare(settings)
        today = container.window.today()
        days = [today + timedelta(days=d) for d in (2, 3, 4)]
        targets = booking._targets(container, days, rng)
        paths = _search_paths(container, days[0])
        serial = 0
        jobs = []
        for _ in range(2 * rounds):
            parties = [rng.choice((1, 1, 2, 3)) for _ in range(riders_per_round)]
            riders = booking.make_riders(container, parties, serial)
            serial += sum(parties)
            jobs.append([(r, rng.choice(targets)) for r in riders])
        env = {
            "OPEN12306_DATABASE_URL": settings.database_url,
            "OPEN12306_DOCUMENT_KEY_FILE": str(folder / "document-key"),
        }
        steps.step()
        server, port = _serve("open12306.http.asgi:app", env, 1)
        try:
            _wait_ready(port, "/api/v1/health")
            wait_warm(port)
            for path in paths:  # each pair's itineraries, before timing (what the warmer holds)
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path.decode()}").read()
            search_alone, search_both, booking_alone, booking_both = [], [], [], []
            for k in range(rounds):
                search_alone.append(
                    _finish_search(_start_search(port, paths, seconds, search_connections))
                )
                steps.step()
                tally = asyncio.run(booking._load(port, jobs[2 * k], seconds, booking_connections))
                booking_alone.append(_booking_figures(tally))
                steps.step()
                started = _start_search(port, paths, seconds, search_connections)
                tally = asyncio.run(
                    booking._load(port, jobs[2 * k + 1], seconds, booking_connections)
                )
                search_both.append(_finish_search(started))
                booking_both.append(_booking_figures(tally))
                steps.step()
        finally:
            _stop(server)
        container.store.engine.dispose()

    search_rate = _median(search_alone, "answers_per_s")
    search_under = _median(search_both, "answers_per_s")
    booking_rate = _median(booking_alone, "tickets_per_s")
    booking_under = _median(booking_both, "tickets_per_s")
    return {
        "search_alone": {
            "answers_per_s": search_rate,
            "p99_ms": _median(search_alone, "p99_ms"),
        },
        "search_under_booking": {
            "answers_per_s": search_under,
            "p99_ms": _median(search_both, "p99_ms"),
        },
        "booking_alone": {
            "tickets_per_s": booking_rate,
            "p99_ms": _median(booking_alone, "p99_ms"),
        },
        "booking_under_search": {
            "tickets_per_s": booking_under,
            "p99_ms": _median(booking_both, "p99_ms"),
        },
        "ratio_search_under_booking": round(search_under / search_rate, 3) if search_rate else None,
        "ratio_booking_under_search": (
            round(booking_under / booking_rate, 3) if booking_rate else None
        ),
        "rounds": {
            "search_alone": search_alone,
            "search_under_booking": search_both,
            "booking_alone": booking_alone,
            "booking_under_search": booking_both,
        },
        "search_paths": len(paths),
        "errors": sum(
            r["errors"] for r in [*search_alone, *search_both, *booking_alone, *booking_both]
        ),
        "server_workers": int(os.environ.get("OPEN12306_BENCH_WORKERS") or 1),
        "server": os.environ.get("OPEN12306_BENCH_SERVER") or "uvicorn",
        "search_load": search_alone[0]["tool"],
        "database": "sqlite",
        "targets": TARGETS,
    }
