"""Several server processes on one database: what a deployment with ``--workers N`` shares.

Real `open12306 serve` processes on loopback. Two servers on two ports over one database are
two workers the test addresses in turn (a session made on A is used on B, a sale made on A is
searched on B); a booking storm goes through ``--workers 2`` on one port, where the kernel
spreads the connections and both workers' allocators decide orders of the same hot run.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from open12306.bench import booking
from open12306.bootstrap import build
from open12306.config import Settings
from open12306.http.app import CROSS_WORKER_STALENESS_SECONDS
from tests.conftest import fresh_postgres
from tests.e2e.workers_support import Served, demo_database, serving, two_workers
from tests.unit.accounts_support import resident_id

pytestmark = pytest.mark.operator_day

PASSWORD = "rail-pass-2026"
_serial = itertools.count(301)
# A loaded two-core machine (CI runs these beside other tests, once under faketime) may answer
# late by this much; the bound itself is the app's.
SCHEDULING_SLACK = 3.0
# How long the workers of the logout test trust a session they read, and the bound it must beat.
TRUSTED_SECONDS = 60
LOADED_MACHINE_BOUND = 10.0


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return demo_database(tmp_path_factory.mktemp("workers"))


@pytest.fixture(scope="module")
def pair(settings: Settings) -> Iterator[tuple[Served, Served]]:
    with two_workers(settings) as servers:
        yield servers


def _account(on: Served) -> tuple[dict[str, str], str]:
    """A fresh account with one saved passenger, made on ``on``: auth header, passenger id."""
    serial = next(_serial)
    credentials = {"username": f"worker_rider_{serial}", "password": PASSWORD}
    assert on.http.post("/api/v1/accounts", json=credentials).status_code == 201
    token = on.http.post("/api/v1/sessions", json=credentials).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    number = resident_id(f"11010119900101{serial:03d}")
    saved = on.http.post(
        "/api/v1/passengers",
        json={"name": "李四", "id_type": "resident_id", "id_number": number},
        headers=headers,
    )
    assert saved.status_code == 201, saved.text
    return headers, saved.json()["id"]


def test_a_session_made_on_one_worker_is_live_on_the_other(pair: tuple[Served, Served]) -> None:
    a, b = pair
    headers, passenger = _account(a)
    me = b.http.get("/api/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    listed = b.http.get("/api/v1/passengers", headers=headers).json()
    assert [p["id"] for p in listed["passengers"]] == [passenger]


@pytest.fixture(scope="module")
def trusting_pair(settings: Settings) -> Iterator[tuple[Served, Served]]:
    """Two workers that trust a session they have read for a minute."""
    with two_workers(settings, OPEN12306_SESSION_CACHE_SECONDS=str(TRUSTED_SECONDS)) as servers:
        yield servers


def test_a_logout_on_one_worker_ends_the_session_on_the_other(
    trusting_pair: tuple[Served, Served],
) -> None:
    """Worker B has just read the session (and would trust it for a minute without reading it
    again); the logout on A reaches B through the store's revocation count, long before."""
    a, b = trusting_pair
    headers, _ = _account(a)
    assert b.http.get("/api/v1/me", headers=headers).status_code == 200
    assert a.http.delete("/api/v1/sessions/current", headers=headers).status_code == 204
    assert a.http.get("/api/v1/me", headers=headers).status_code == 401
    # The follower looks every FOLLOW_IDLE_SECONDS; the bound is loose for a loaded machine
    # (CI runs this under faketime beside other tests) and far below the trusted minute.
    elapsed = _seconds_until(
        lambda: b.http.get("/api/v1/me", headers=headers).status_code == 401, TRUSTED_SECONDS
    )
    assert elapsed <= LOADED_MACHINE_BOUND


def test_failed_logins_count_on_every_worker(pair: tuple[Served, Served]) -> None:
    """The throttle's counts are rows in the database: five failures spread over A and B
    make the next attempt on either refused (one process would refuse it the same way)."""
    a, b = pair
    credentials = {"username": f"worker_rider_{next(_serial)}", "password": PASSWORD}
    assert a.http.post("/api/v1/accounts", json=credentials).status_code == 201
    for attempt in range(5):
        on = (a, b)[attempt % 2]
        wrong = {**credentials, "password": f"wrong-{attempt}-password"}
        assert on.http.post("/api/v1/sessions", json=wrong).status_code == 401
    for on in (a, b):
        refused = on.http.post("/api/v1/sessions", json=credentials)
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["reason"] == "rate_limited"


def _remaining(on: Served, params: dict[str, str], train: str) -> int:
    found = on.http.get("/api/v1/search", params=params)
    assert found.status_code == 200, found.text
    row = next(r for r in found.json()["trains"] if r["train"] == train)
    return int(next(c["remaining"] for c in row["classes"] if c["class"] == "second"))


def _seconds_until(check: Any, timeout: float, every: float = 0.05) -> float:
    """Seconds until ``check()`` holds (``timeout`` + 1 when it never did)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(every)
    return timeout + 1


def test_a_sale_on_one_worker_shows_in_the_others_search_within_the_bound(
    pair: tuple[Served, Served], settings: Settings
) -> None:
    a, b = pair
    headers, passenger = _account(a)
    day = (build(settings, materialise=False).window.today() + timedelta(days=3)).isoformat()
    params = {"from": "北京", "to": "上海", "date": day}
    rows = b.http.get("/api/v1/search", params=params).json()["trains"]
    row = next(
        r for r in rows if any(c["class"] == "second" and c["remaining"] > 0 for c in r["classes"])
    )
    before = _remaining(b, params, row["train"])  # B holds this answer now
    body = {
        "train": row["train"],
        "date": day,
        "from": row["from"]["code"],
        "to": row["to"]["code"],
        "seat_class": "second",
        "passengers": [passenger],
    }
    queued = a.http.post("/api/v1/orders", json=body, headers=headers)
    assert queued.status_code == 202, queued.text
    url = f"/api/v1/orders/{queued.json()['number']}"
    order = a.http.get(url, params={"wait": 20, "state": "queued"}, headers=headers).json()
    assert order["state"] == "held", order
    elapsed = _seconds_until(lambda: _remaining(b, params, row["train"]) < before, 10)
    assert elapsed <= CROSS_WORKER_STALENESS_SECONDS + SCHEDULING_SLACK
    assert _remaining(b, params, row["train"]) == before - 1
    assert _remaining(a, params, row["train"]) == before - 1


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_booking_storm_through_two_workers_oversells_nothing(
    backend: str, tmp_path: Path
) -> None:
    """Four times more requests than business seats on one emu-8 run, over 16 connections to
    ``--workers 2``: both workers admit and both allocators decide (each with the run's
    inventory kept in memory); every request is answered and no seat-segment is sold twice."""
    url = None if backend == "sqlite" else fresh_postgres()
    settings = demo_database(tmp_path, url)
    container = build(settings, materialise=False)
    rng = random.Random(12306)
    hot_day = container.window.today() + timedelta(days=1)
    ((code, pairs),) = booking._hot_targets(container, hot_day, 1, "business", rng)
    seats = sum(1 for s in container.allocator.seats_of(code) if s.seat_class.value == "business")
    parties = [rng.choice((1, 1, 2, 3)) for _ in range(seats * 4)]
    jobs = [(r, rng.choice(pairs)) for r in booking.make_riders(container, parties, 0)]
    with serving(settings, workers=2) as served:
        port = int(served.url.rsplit(":", 1)[1])
        tally = asyncio.run(booking._load(port, jobs, None, 16))
    audit = booking._oversold(container, code, hot_day, "business")
    container.store.engine.dispose()
    assert not tally.errors
    assert len(tally.outcomes) == len(jobs)
    states = {o.state if o.reason is None else f"{o.state}:{o.reason}" for o in tally.outcomes}
    assert states <= {"held", "failed:sold_out", "rejected:queue_exceeds_seats"}
    assert "held" in states
    assert audit["oversold"] == 0, audit
    assert audit["held_seat_segments"] == audit["inventory_sold_seat_segments"]
    assert audit["held_seat_segments"] <= audit["capacity_seat_segments"]


def test_granian_serves_the_app_with_two_workers(settings: Settings) -> None:
    """`serve --server granian`: the same app (lifespan, fast search path, orders) under it."""
    day = (build(settings, materialise=False).window.today() + timedelta(days=4)).isoformat()
    with serving(settings, workers=2, server="granian") as served:
        headers, passenger = _account(served)
        assert served.http.get("/api/v1/me", headers=headers).status_code == 200
        found = served.http.get(
            "/api/v1/search", params={"from": "北京", "to": "上海", "date": day}
        )
        assert found.status_code == 200 and found.json()["count"] > 0
        row = found.json()["trains"][0]
        body = {
            "train": row["train"],
            "date": day,
            "from": row["from"]["code"],
            "to": row["to"]["code"],
            "seat_class": row["classes"][0]["class"],
            "passengers": [passenger],
        }
        queued = served.http.post("/api/v1/orders", json=body, headers=headers)
        assert queued.status_code == 202, queued.text
        url = f"/api/v1/orders/{queued.json()['number']}"
        order = served.http.get(url, params={"wait": 20, "state": "queued"}, headers=headers)
        assert order.json()["state"] in {"held", "failed"}
