"""12306's queue, visible: a queued order's place and wait, the up-front refusal when the
queue already takes every seat left (排队人数已超过余票), and the slow queue for suspect
submitters, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from open12306.inventory.domain.seats import SeatClass
from open12306.sales.domain import OrderState
from open12306.sales.domain.slow_queue import SlowQueueRule
from open12306.sales.services.intake import OrderIntake
from open12306.sales.services.orders import OrderRequest
from open12306.shared.errors import DomainError
from tests.integration.orders_support import DAY, World, build_world, request
from tests.unit.accounts_support import resident_id

NAMES = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"


@pytest.fixture
def world(db_url: str) -> World:
    return build_world(db_url)


def riders(world: World, count: int, prefix: str = "rider") -> list[tuple[object, list[str]]]:
    """``count`` accounts with one passenger each (different people)."""
    return [
        world.account(
            f"{prefix}_{n:03d}",
            ("乘客" + NAMES[n % len(NAMES)] + NAMES[n // len(NAMES)], _document(prefix, n)),
        )
        for n in range(count)
    ]


_DAYS = {"rider": 1, "probe": 2, "bot": 3, "human": 4}


def _document(prefix: str, n: int) -> str:
    return resident_id(f"1101011980{_DAYS[prefix]:02d}01{n:03d}")


def business(*ids: str) -> OrderRequest:
    return OrderRequest("G3", DAY, "VNP", "AOH", SeatClass.BUSINESS, tuple(ids))


def later(world: World) -> None:
    """A moment on: orders queued at one instant are served in their numbers' order."""
    world.clock.advance(timedelta(milliseconds=1))


def test_a_queued_order_shows_its_place_and_an_estimated_wait(world: World) -> None:
    (a, a_ids), (b, b_ids), (c, c_ids) = riders(world, 3)
    first = world.orders.submit(a, request(*a_ids))
    later(world)
    second = world.orders.submit(b, request(*b_ids))
    other_class = world.orders.submit(c, request(*c_ids, seat_class=SeatClass.FIRST))
    one = world.orders.queue_place(first)
    two = world.orders.queue_place(second)
    alone = world.orders.queue_place(other_class)
    assert one is not None and two is not None and alone is not None
    assert (one.position, one.ahead) == (1, 0)
    assert (two.position, two.ahead) == (2, 1)
    assert (alone.position, alone.ahead) == (1, 0)  # each class of a run is its own queue
    assert two.wait_seconds >= one.wait_seconds >= 1
    world.allocator.run_once()
    decided = world.orders.get(a, first.number)
    assert decided.order.state is OrderState.HELD
    assert world.orders.queue_place(decided) is None


def test_the_wait_grows_with_the_passengers_ahead(world: World) -> None:
    world.orders.queue_rate = 2.0
    accounts = riders(world, 5)
    records = []
    for acc, ids in accounts:
        records.append(world.orders.submit(acc, request(*ids)))
        later(world)
    places = [world.orders.queue_place(r) for r in records]
    assert [p.position for p in places if p] == [1, 2, 3, 4, 5]
    assert [p.wait_seconds for p in places if p] == [1, 1, 2, 2, 3]


def test_a_queue_longer_than_the_seats_left_refuses_up_front(world: World) -> None:
    probe_account, probe_ids = riders(world, 1, "probe")[0]
    seats = world.orders.seats_left(world.orders.prepare(probe_account, business(*probe_ids)))
    assert 0 < seats < 40
    accounts = riders(world, seats + 1)
    queued = [world.orders.submit(acc, business(*ids)) for acc, ids in accounts[:seats]]
    assert all(r.order.state is OrderState.QUEUED for r in queued)
    late, late_ids = accounts[seats]
    with pytest.raises(DomainError) as refused:
        world.orders.submit(late, business(*late_ids))
    assert refused.value.reason == "queue_exceeds_seats" and refused.value.status == 409
    assert refused.value.field == "seat_class"
    assert "排队人数已超过余票" in refused.value.message
    assert world.orders.list(late) == []  # nothing written for the refused order
    # another class of the same run still takes orders
    assert world.orders.submit(late, request(*late_ids, train="G3")).order.state is (
        OrderState.QUEUED
    )


def test_a_batch_is_refused_past_the_seats_left_too(world: World) -> None:
    probe_account, probe_ids = riders(world, 1, "probe")[0]
    seats = world.orders.seats_left(world.orders.prepare(probe_account, business(*probe_ids)))
    accounts = riders(world, seats + 2)
    batch = [world.orders.prepare(acc, business(*ids)) for acc, ids in accounts]
    outcomes = world.orders.intake.admit(batch)
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(refused) == 2 and {e.reason for e in refused} == {"queue_exceeds_seats"}
    assert not any(isinstance(o, DomainError) for o in outcomes[:seats])


def test_an_empty_queue_leaves_the_answer_to_the_allocator(world: World) -> None:
    world.orders.intake.seats_left = lambda _: 0  # the read model sees no seat left
    (a, ids), (b, b_ids) = riders(world, 2)
    first = world.orders.submit(a, business(*ids))  # nobody queued: the allocator decides
    assert first.order.state is OrderState.QUEUED
    with pytest.raises(DomainError) as refused:
        world.orders.submit(b, business(*b_ids))
    assert refused.value.reason == "queue_exceeds_seats"


def test_a_bot_submitted_first_is_allocated_after_a_human_submitted_later(world: World) -> None:
    rule = SlowQueueRule(window_seconds=60, max_per_account=5, max_per_address=3, delay_seconds=30)
    world.orders.intake = OrderIntake(
        world.orders_store, world.clock, world.orders.rules, slow_queue=rule
    )
    bots = riders(world, 4, "bot")
    human, human_ids = riders(world, 1, "human")[0]
    farm = "203.0.113.66"
    bot_orders = [
        world.orders.submit(acc, request(*ids), client=farm) for acc, ids in bots
    ]  # the fourth from one address within a minute is suspect
    world.clock.advance(timedelta(seconds=2))
    mine = world.orders.submit(human, request(*human_ids), client="198.51.100.7")
    suspect = bot_orders[-1]
    place_bot = world.orders.queue_place(suspect)
    place_human = world.orders.queue_place(mine)
    assert place_bot is not None and place_human is not None
    assert place_human.position < place_bot.position  # the human is served first
    assert place_bot.wait_seconds >= 28 > place_human.wait_seconds  # the delay is in the wait
    world.clock.advance(timedelta(seconds=1))
    world.allocator.run_once()
    states = {
        r.number: world.orders.get(acc, r.number).order.state
        for r, (acc, _) in zip(bot_orders, bots, strict=True)
    }
    assert world.orders.get(human, mine.number).order.state is OrderState.HELD
    assert [states[r.number] for r in bot_orders[:3]] == [OrderState.HELD] * 3
    assert states[suspect.number] is OrderState.QUEUED  # still in the slow queue
    world.clock.advance(timedelta(seconds=30))
    world.allocator.run_once()
    bot_account = bots[-1][0]
    decided = world.orders.get(bot_account, suspect.number)
    assert decided.order.state is OrderState.HELD
    assert decided.order.queued_at < mine.order.queued_at  # submitted first, served last


def test_the_control_without_the_slow_queue_serves_the_bot_first(world: World) -> None:
    rule = SlowQueueRule(max_per_address=3, enabled=False)
    world.orders.intake = OrderIntake(
        world.orders_store, world.clock, world.orders.rules, slow_queue=rule
    )
    bots = riders(world, 4, "bot")
    human, human_ids = riders(world, 1, "human")[0]
    bot_orders = [
        world.orders.submit(acc, request(*ids), client="203.0.113.66") for acc, ids in bots
    ]
    world.clock.advance(timedelta(seconds=2))
    mine = world.orders.submit(human, request(*human_ids), client="198.51.100.7")
    place_bot = world.orders.queue_place(bot_orders[-1])
    place_human = world.orders.queue_place(mine)
    assert place_bot is not None and place_human is not None
    assert place_bot.position < place_human.position
