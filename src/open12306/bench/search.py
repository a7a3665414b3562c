"""Search benchmark: city-to-city answers/s in process and over HTTP, against bare uvicorn.

Builds its own SQLite database with the demo network (real stations, corridors, generated
timetable, simulated sales on the first day), then measures:
- in process: the search service itself (no answer cache; also with one-change itineraries,
  and with every seat count taken afresh), the route search alone (the floor: what an
  uncached answer cost before itineraries were precomputed), and the cached answer path;
- over HTTP: `open12306 serve`'s app (fast path + cache) and, as the floor, bare uvicorn
  returning the same bytes, both with the same workers and the same load generator.
Figures are medians of ``repeats`` runs; ratios are against the floor of the same run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from open12306.bench.http_load import load
from open12306.bench.steps import Steps, Tell, quiet
from open12306.config import Settings

CITIES = (
    "北京",
    "上海",
    "广州",
    "深圳",
    "南京",
    "杭州",
    "武汉",
    "长沙",
    "郑州",
    "西安",
    "济南",
    "天津",
    "徐州",
    "昆明",
    "贵阳",
    "兰州",
    "石家庄",
    "苏州",
    "沈阳",
    "哈尔滨",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(port: int, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


BENCH_SERVERS = ("uvicorn", "granian")


def _server_command(app: str, port: int, workers: int, server: str) -> list[str]:
    if server not in BENCH_SERVERS:
        raise ValueError(f"server: use one of {', '.join(BENCH_SERVERS)}, not {server!r}")
    if server == "granian":
        return [
            *(sys.executable, "-m", "granian", app, "--interface", "asgi"),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
            *("--log-level", "warning"),
        ]
    return [
        *(sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)),
        *("--workers", str(workers), "--no-access-log", "--log-level", "warning"),
    ]


def _serve(
    app: str, env: dict[str, str], workers: int, *, server: str | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``app`` on a free loopback port under ``server`` (default OPEN12306_BENCH_SERVER,
    else uvicorn) with ``workers`` processes (OPEN12306_BENCH_WORKERS, when set, overrides the
    count every benchmark asks for, to measure them all with N workers)."""
    chosen = server or os.environ.get("OPEN12306_BENCH_SERVER") or "uvicorn"
    count = int(os.environ.get("OPEN12306_BENCH_WORKERS") or workers)
    port = _free_port()
    command = _server_command(app, port, count, chosen)
    # A new session: _stop ends the whole group (granian's and uvicorn's workers with it).
    process = subprocess.Popen(command, env={**os.environ, **env}, start_new_session=True)
    return process, port


def _health(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health") as answer:
        found: dict[str, Any] = json.loads(answer.read())
    return found


def wait_warm(port: int, limit: float = 120.0) -> float:
    """Wait until the server's allocator (or its order desk) has decoded the runs on sale, as
    a server started before the sale opens would have; seconds waited. No wait when the
    server allocates nothing (``OPEN12306_ALLOCATOR=none``)."""
    start = time.perf_counter()
    last, steady = -1, start
    while time.perf_counter() - start < limit:
        health = _health(port)
        allocator = health.get("allocator", {})
        decoded = allocator.get("decoded_runs")
        if decoded is None or decoded >= min(health["runs"], allocator["cache_runs"]):
            break
        if decoded != last:
            last, steady = decoded, time.perf_counter()
        elif time.perf_counter() - steady > 2.0:
            break
        time.sleep(0.2)
    return time.perf_counter() - start


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and its workers (SIGTERM to its process group, then SIGKILL)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def _rate_in_process(call: Any, items: list[Any], seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for item in items:
            call(item)
        done += len(items)
    return done / (time.perf_counter() - start)


def _prepare(folder: Path) -> tuple[Settings, Any]:
    from open12306.bootstrap import build
    from open12306.bootstrap.tasks import load_demo
    from open12306.database.migrate import upgrade

    settings = replace(Settings.from_env(), database_url=f"sqlite:///{folder}/bench.db")
    upgrade(settings.database_url)
    load_demo(
        settings, seed=settings.demo_seed, trains=settings.demo_trains, fill=0.5, days=2, force=True
    )
    return settings, build(settings, materialise=False)


def _pairs(container: Any, day: str) -> list[dict[str, str]]:
    from open12306.search.services.query import parse_search

    pairs = []
    for a in CITIES:
        for b in CITIES:
            if a == b:
                continue
            params = {"from": a, "to": b, "date": day}
            try:
                answer = container.search.search(parse_search(params))
            except Exception:  # a city missing from the network is simply not benchmarked
                continue
            if answer["count"] > 0:
                pairs.append(params)
    return pairs


def _counted_fresh(search: Any, query: Any) -> Any:
    """An answer with every seat count taken again (no counted row reused)."""
    search._rows.clear()
    return search.search(query)


def run(
    seconds: float = 3.0, repeats: int = 3, workers: int = 2, progress: Tell = quiet
) -> dict[str, Any]:
    from open12306.http.app import SearchCache
    from open12306.search.services.query import parse_search

    with tempfile.TemporaryDirectory(prefix="open12306-bench-") as tmp:
        folder = Path(tmp)
        steps = Steps(progress, "search", 9)
        settings, container = _prepare(folder)
        steps.step()
        day = (container.window.today() + timedelta(days=1)).isoformat()
        pairs = _pairs(container, day)
        queries = [parse_search(p) for p in pairs]
        strings = [urlencode(p).encode() for p in pairs]
        cache = SearchCache(container)
        direct = [container.search.search(q)["count"] for q in queries]
        uncached = [
            _rate_in_process(container.search.search, queries, seconds) for _ in range(repeats)
        ]
        steps.step()
        with_transfers = [replace(q, transfers=True) for q in queries]
        # The floor: the route search itself, what every uncached answer cost before the
        # itineraries were precomputed.
        book = container.search.itineraries
        ends = [
            (
                frozenset(s.code for s in container.search.resolve(q.origin, "from")),
                frozenset(s.code for s in container.search.resolve(q.destination, "to")),
                q.day,
            )
            for q in with_transfers
        ]
        floor_route_search = [
            _rate_in_process(lambda e: book.compute(*e), ends, seconds) for _ in range(repeats)
        ]
        steps.step()
        transfers_counted = [
            _rate_in_process(lambda q: _counted_fresh(container.search, q), with_transfers, seconds)
            for _ in range(repeats)
        ]
        steps.step()
        transfers_uncached = [
            _rate_in_process(container.search.search, with_transfers, seconds)
            for _ in range(repeats)
        ]
        steps.step()
        cached = [_rate_in_process(cache.answer, strings, seconds) for _ in range(repeats)]
        steps.step()
        paths = [b"/api/v1/search?" + s for s in strings]
        first_body = cache.answer(strings[0])[1]
        body_file = folder / "body.json"
        body_file.write_bytes(first_body)

        env = {"OPEN12306_DATABASE_URL": settings.database_url}
        ours, port = _serve("open12306.http.asgi:app", env, workers)
        try:
            _wait_ready(port, "/api/v1/health")
            wait_warm(port)  # the order desk decodes runs in a process of its own meanwhile
            for path in paths:  # warm every worker's cache
                for _ in range(workers * 2):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path.decode()}").read()
            mixed = [load("127.0.0.1", port, paths, seconds) for _ in range(repeats)]
            steps.step()
            single = [load("127.0.0.1", port, paths[:1], seconds) for _ in range(repeats)]
            steps.step()
        finally:
            _stop(ours)
        bare, bare_port = _serve(
            "open12306.bench.bare_app:app", {"OPEN12306_BENCH_BODY": str(body_file)}, workers
        )
        try:
            _wait_ready(bare_port, "/")
            floor = [load("127.0.0.1", bare_port, paths[:1], seconds) for _ in range(repeats)]
            steps.step()
        finally:
            _stop(bare)

    floor_rate = statistics.median(r.rate for r in floor)
    mixed_rate = statistics.median(r.rate for r in mixed)
    single_rate = statistics.median(r.rate for r in single)
    return {
        "city_pairs": len(pairs),
        "trains_per_answer_median": statistics.median(direct),
        "answer_bytes_first_pair": len(first_body),
        "in_process_uncached_per_s": round(statistics.median(uncached)),
        "in_process_cached_per_s": round(statistics.median(cached)),
        "in_process_transfers_uncached_per_s": round(statistics.median(transfers_uncached)),
        "in_process_transfers_every_count_fresh_per_s": round(statistics.median(transfers_counted)),
        "in_process_floor_route_search_per_s": round(statistics.median(floor_route_search)),
        "ratio_transfers_uncached_vs_route_search": round(
            statistics.median(transfers_uncached) / statistics.median(floor_route_search), 2
        ),
        "target_in_process_transfers_uncached_per_s": 1_000,
        "http_mixed_pairs_per_s": round(mixed_rate),
        "http_single_pair_per_s": round(single_rate),
        "http_floor_bare_uvicorn_per_s": round(floor_rate),
        "ratio_http_mixed_vs_floor": round(mixed_rate / floor_rate, 3),
        "ratio_http_single_vs_floor": round(single_rate / floor_rate, 3),
        "http_errors": sum(r.errors for r in mixed + single),
        "load_tool": mixed[0].tool,
        "server_workers": workers,
        "target_http_per_s": 10_000,
    }
