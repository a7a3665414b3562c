"""Paying orders (credit line, channel confirmations), late payments, ticket refunds and the
ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from open12306.accounts.ports import Account
from open12306.inventory.domain.seats import SeatClass
from open12306.sales.domain import OrderState, TicketState
from open12306.sales.domain.ledger import EntryKind, balance_check
from open12306.sales.ports import OrderRecord
from open12306.shared.errors import DomainError
from tests.integration.orders_support import ADULT_ID, CHILD_ID, DAY, World, build_world, request


@pytest.fixture
def world(db_url: str) -> World:
    return build_world(db_url)


def held_order(world: World) -> tuple[Account, OrderRecord]:
    account, ids = world.account("zhang_san", ("张三", ADULT_ID), ("张小", CHILD_ID))
    record = world.orders.submit(account, request(*ids))
    world.allocator.run_once()
    return account, world.orders.get(account, record.number)


def balanced(world: World, number: str) -> bool:
    order = world.orders_store.get(number)
    assert order is not None
    return balance_check(world.orders_store.entries(number), order.order.tickets) == []


def test_credit_pays_at_once_issues_tickets_and_balances(world: World) -> None:
    account, record = held_order(world)
    prompt = world.settlement.start(account, record.number, "credit")
    assert prompt.state == "paid"
    paid = world.orders.get(account, record.number).order
    assert paid.state is OrderState.PAID and len(paid.tickets) == 2
    assert [e.kind for e in world.orders_store.entries(record.number)] == [EntryKind.PAYMENT]
    assert balanced(world, record.number)
    with pytest.raises(DomainError) as again:
        world.settlement.start(account, record.number, "credit")
    assert again.value.reason == "not_payable"


def test_a_repeated_confirmation_changes_nothing(world: World) -> None:
    _, record = held_order(world)
    amount = record.order.total_fen
    assert world.settlement.confirm("alipay", record.number, amount, "T1").result == "paid"
    assert world.settlement.confirm("alipay", record.number, amount, "T1").result == "duplicate"
    assert len(world.orders_store.entries(record.number)) == 1


def test_a_wrong_amount_or_late_payment_is_refunded_whole(world: World) -> None:
    account, record = held_order(world)
    wrong = world.settlement.confirm("alipay", record.number, 1, "T1")
    assert wrong.result == "refunded"
    assert world.orders.get(account, record.number).order.state is OrderState.HELD
    world.clock.advance(timedelta(minutes=31))
    late = world.settlement.confirm("wechatpay", record.number, record.order.total_fen, "W1")
    assert late.result == "refunded"
    assert world.orders.get(account, record.number).order.state is OrderState.EXPIRED
    kinds = [e.kind for e in world.orders_store.entries(record.number)]
    assert kinds == [EntryKind.PAYMENT, EntryKind.REFUND] * 2
    assert balanced(world, record.number)


def test_refund_applies_the_fee_ladder_and_frees_the_seat(world: World) -> None:
    key = ("G1", DAY)
    account, record = held_order(world)
    world.settlement.start(account, record.number, "credit")
    free_before = world.read_model.remaining(key, SeatClass.SECOND, 0, 2)
    ticket = world.orders.get(account, record.number).order.tickets[0]
    # 09:00 on the 10th, the train leaves 09:00 on the 12th: 48 h ahead, the 5 % band
    quote = world.settlement.refund(account, record.number, ticket.number)
    assert quote.rate == 500 and quote.fee_fen >= 200
    assert quote.fee_fen + quote.refund_fen == ticket.fare_fen
    assert world.read_model.remaining(key, SeatClass.SECOND, 0, 2) == free_before + 1
    after = world.orders.get(account, record.number).order
    assert after.ticket(ticket.number).state is TicketState.REFUNDED
    assert balanced(world, record.number)
    with pytest.raises(DomainError) as twice:
        world.settlement.refund(account, record.number, ticket.number)
    assert twice.value.reason == "bad_state"


def test_the_credit_line_has_a_limit(world: World) -> None:
    account, record = held_order(world)
    world.settlement.credit_limit_fen = record.order.total_fen - 1
    with pytest.raises(DomainError) as refused:
        world.settlement.start(account, record.number, "credit")
    assert refused.value.reason == "credit_limit"
    assert world.orders.get(account, record.number).order.state is OrderState.HELD
