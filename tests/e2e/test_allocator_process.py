"""Ordering outside the server process: the order desk child (OPEN12306_ALLOCATOR=process) admits
and decides what the server hands it and sends the outcomes back; `open12306 allocator` beside a
server that allocates nothing (=none) decides what the server queued, and the waiting request
learns it from the change feed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from open12306.config import Settings
from tests.e2e.orders_support import reason
from tests.e2e.test_orders_payment_sandbox import Live, held_order, serve_live, signed_up
from tests.integration.payments_support import wait_for


@pytest.fixture
def child_allocates(demo_settings: Settings) -> Iterator[Live]:
    yield from serve_live(replace(demo_settings, allocator="process"))


@pytest.fixture
def nobody_allocates(demo_settings: Settings) -> Iterator[Live]:
    yield from serve_live(replace(demo_settings, allocator="none"))


def _second_class(live: Live, passenger: str, offset: int) -> dict[str, Any]:
    """An order body for one passenger in second class on the first Beijing-Shanghai train
    ``offset`` days ahead."""
    day = (live.container.window.today() + timedelta(days=offset)).isoformat()
    row = live.http.get(
        "/api/v1/search", params={"from": "北京", "to": "上海", "date": day}
    ).json()["trains"][0]
    return {
        "train": row["train"],
        "date": day,
        "from": row["from"]["code"],
        "to": row["to"]["code"],
        "seat_class": "second",
        "passengers": [passenger],
    }


def test_a_child_process_allocates_for_the_server(child_allocates: Live) -> None:
    live = child_allocates
    assert live.container.allocator_loop is not None
    assert not live.container.allocator_loop.allocate  # this process only admits
    headers, passenger = signed_up(live)
    order = held_order(live, headers, passenger, offset=3)
    assert order["state"] == "held" and order["passengers"][0]["seat"]


def test_the_desk_refuses_with_the_rule_and_reason_the_intake_gives(
    child_allocates: Live,
) -> None:
    live = child_allocates
    headers, passenger = signed_up(live)
    held_order(live, headers, passenger, offset=3)
    body = _second_class(live, passenger, offset=5)
    second = live.http.post("/api/v1/orders", json=body, headers=headers)
    assert reason(second)[1] == "too_many_unpaid"


def test_the_desk_signs_in_and_prepares_and_the_route_answers_a_signed_out_rider(
    child_allocates: Live,
) -> None:
    live = child_allocates
    headers, passenger = signed_up(live)
    body = _second_class(live, "P" + "0" * 15, offset=5)
    unknown = live.http.post("/api/v1/orders", json=body, headers=headers)
    assert reason(unknown) == (404, "not_found")  # refused while the desk prepared it
    assert live.http.delete("/api/v1/sessions/current", headers=headers).status_code == 204
    body["passengers"] = [passenger]
    signed_out = live.http.post("/api/v1/orders", json=body, headers=headers)
    assert reason(signed_out) == (401, "unauthenticated")
    assert live.container.orders.intake.pending == 0  # nothing went through this process


def _desk(live: Live) -> dict[str, Any]:
    health: dict[str, Any] = live.http.get("/api/v1/health").json()["allocator"]
    assert health["mode"] == "process"
    desk: dict[str, Any] = health["desk"]
    return desk


def test_a_killed_desk_is_started_again_and_takes_the_next_order(child_allocates: Live) -> None:
    live = child_allocates
    headers, passenger = signed_up(live)
    held_order(live, headers, passenger, offset=3)
    first = _desk(live)
    os.kill(first["process_id"], signal.SIGKILL)

    def again() -> dict[str, Any] | None:
        desk = _desk(live)
        moved = desk["restarts"] == 1 and desk["connected"]
        return desk if moved and desk["process_id"] != first["process_id"] else None

    wait_for(again, what="a new order desk", timeout=30.0)
    other_headers, other = signed_up(live)
    order = held_order(live, other_headers, other, offset=4)
    assert order["state"] == "held"


def test_a_separate_allocator_command_serves_a_server_that_allocates_nothing(
    nobody_allocates: Live, demo_settings: Settings
) -> None:
    live = nobody_allocates
    headers, passenger = signed_up(live)
    body = _second_class(live, passenger, offset=4)
    queued = live.http.post("/api/v1/orders", json=body, headers=headers).json()
    url = f"/api/v1/orders/{queued['number']}"
    still: dict[str, Any] = live.http.get(url, params={"wait": 1}, headers=headers).json()
    assert still["state"] == "queued"  # nobody allocates yet
    env = {**os.environ, "OPEN12306_DATABASE_URL": demo_settings.database_url}
    command = [sys.executable, "-c", "from open12306.cli.main import main; main()"]
    worker = subprocess.Popen([*command, "allocator"], env=env)
    try:
        decided = live.http.get(url, params={"wait": 20, "state": "queued"}, headers=headers).json()
    finally:
        worker.terminate()
        worker.wait(10)
    assert decided["state"] == "held"
