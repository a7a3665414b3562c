"""The queue over HTTP: the order answer's place in the queue, the up-front refusal, and
overload shed with 429 and Retry-After (never a timeout)."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from open12306.sales.ports import OrderRecord
from open12306.sales.services.allocator import AllocatorLoop
from open12306.sales.services.intake import Submission
from tests.e2e.orders_support import order_body, orders_app, signed_up, sqlite_world
from tests.integration.orders_support import ADULT_ID, OTHER_ID, World, request


@pytest.fixture
def world(tmp_path: Path) -> World:
    return sqlite_world(tmp_path)


@pytest.fixture
def client(world: World) -> TestClient:
    return TestClient(orders_app(world))


def test_the_order_answer_carries_its_place_in_the_queue(client: TestClient, world: World) -> None:
    headers, passenger = signed_up(client, "zhang_san", "张三", ADULT_ID)
    other_headers, other = signed_up(client, "li_si_01", "李四", OTHER_ID)
    first = client.post("/api/v1/orders", json=order_body(passenger), headers=headers)
    assert first.status_code == 202
    assert first.json()["queue"]["position"] == 1 and first.json()["queue"]["ahead"] == 0
    world.clock.advance(timedelta(milliseconds=5))
    second = client.post("/api/v1/orders", json=order_body(other), headers=other_headers)
    queue = second.json()["queue"]
    assert queue["position"] == 2 and queue["ahead"] == 1 and queue["wait_seconds"] >= 1
    number = second.json()["number"]
    read = client.get(f"/api/v1/orders/{number}", headers=other_headers).json()
    assert read["state"] == "queued" and read["queue"] == queue
    loop = AllocatorLoop(world.allocator, interval=0.05)
    loop.start()
    try:
        held = client.get(f"/api/v1/orders/{number}?wait=10", headers=other_headers).json()
    finally:
        loop.stop()
    assert held["state"] == "held" and held["queue"] is None


def test_a_queue_past_the_seats_left_is_a_clear_409(client: TestClient, world: World) -> None:
    headers, passenger = signed_up(client, "zhang_san", "张三", ADULT_ID)
    other_headers, other = signed_up(client, "li_si_01", "李四", OTHER_ID)
    world.orders.intake.seats_left = lambda _: 1
    assert (
        client.post("/api/v1/orders", json=order_body(passenger), headers=headers).status_code
        == 202
    )
    refused = client.post("/api/v1/orders", json=order_body(other), headers=other_headers)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["field"] == "seat_class" and error["reason"] == "queue_exceeds_seats"
    assert "排队人数已超过余票" in error["message"]
    assert client.get("/api/v1/orders", headers=other_headers).json()["orders"] == []


def test_a_full_intake_sheds_at_once_with_429_and_retry_after(
    client: TestClient, world: World
) -> None:
    headers, passenger = signed_up(client, "zhang_san", "张三", ADULT_ID)
    intake = world.orders.intake
    intake.background = True  # a flush would admit it; none runs, so the intake only fills
    intake.max_pending = 1
    intake.timeout = 0.5  # before the fix the request waited this long and answered 503
    waiting: Future[OrderRecord] | None = intake.enqueue(_someone_else(world))
    assert waiting is not None
    shed = client.post("/api/v1/orders", json=order_body(passenger), headers=headers)
    assert shed.status_code == 429
    assert int(shed.headers["Retry-After"]) >= 1
    error = shed.json()["error"]
    assert error["reason"] == "busy" and error["field"] == "order"
    assert error["retry_after"] == int(shed.headers["Retry-After"])
    assert client.get("/api/v1/orders", headers=headers).json()["orders"] == []
    intake.background = False
    intake.flush()  # the one that was waiting is admitted as usual
    assert waiting.result(1).order.state.value == "queued"


def _someone_else(world: World) -> Submission:
    """Another rider's order, prepared and not yet admitted."""
    account, ids = world.account("li_si_01", ("李四", OTHER_ID))
    return world.orders.prepare(account, request(*ids))


def test_one_request_submits_and_waits_for_the_allocators_answer(
    client: TestClient, world: World
) -> None:
    headers, passenger = signed_up(client, "zhang_san", "张三", ADULT_ID)
    loop = AllocatorLoop(world.allocator, interval=0.05)
    loop.start()
    try:
        answer = client.post("/api/v1/orders?wait=10", json=order_body(passenger), headers=headers)
    finally:
        loop.stop()
    assert answer.status_code == 202
    held = answer.json()
    assert held["state"] == "held" and held["queue"] is None and held["pay_deadline"]
    stored = client.get(f"/api/v1/orders/{held['number']}", headers=headers).json()
    assert stored["state"] == "held" and stored["passengers"] == held["passengers"]


def test_a_submit_whose_wait_runs_out_answers_queued_with_its_place(
    client: TestClient, world: World
) -> None:
    headers, passenger = signed_up(client, "zhang_san", "张三", ADULT_ID)
    answer = client.post("/api/v1/orders?wait=0.2", json=order_body(passenger), headers=headers)
    assert answer.status_code == 202
    assert answer.json()["state"] == "queued" and answer.json()["queue"]["position"] == 1
    bad = client.post("/api/v1/orders?wait=31", json=order_body(passenger), headers=headers)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "wait"
