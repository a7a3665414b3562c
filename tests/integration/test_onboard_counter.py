"""On-board sales paid by scanning the passenger's payment code, through the real Alipay SDK
against the sandbox: the money moves at once and the ticket is written with it; a refused code
or a sale that cannot be written leaves nothing (and gives the money back)."""

from __future__ import annotations

import pytest

from open12306.payments.ports import RefundState
from open12306.sales.domain.ledger import EntryKind
from open12306.shared.errors import DomainError
from open12306.travel.ports import Authorized, OnboardCharge
from open12306.travel.services.onboard_counter import WALK_UP_ACCOUNT, CounterOnboardPayment
from tests.integration.settlement_channels_support import (
    Channel,
    channel,  # noqa: F401  (module fixture)
)
from tests.integration.test_onboard_conductor import CONDUCTOR, Onboard, board, build_onboard
from tests.integration.test_onboard_sales import request


@pytest.fixture
def onboard(db_url: str, channel: Channel) -> Onboard:  # noqa: F811
    built = build_onboard(db_url)
    merchant = channel.fresh_merchant()
    built.sales.payments["counter"] = CounterOnboardPayment(lambda: merchant)
    return built


def test_a_scanned_code_pays_the_ticket_at_once(onboard: Onboard, channel: Channel) -> None:  # noqa: F811
    board(onboard, "TIP")
    result = onboard.sales.sell(CONDUCTOR, request("", channel="counter", payer=channel.code()))
    stored = onboard.store.get(result.record.number)
    assert stored is not None and stored.order.account == WALK_UP_ACCOUNT
    payment = onboard.world.orders_store.payment(result.payment_id)
    assert payment is not None and payment.channel == "counter" and payment.provider_trade_no
    assert payment.amount_fen == result.price.total_fen
    kinds = {e.kind for e in onboard.store.entries(result.record.number)}
    assert EntryKind.PAYMENT in kinds
    status = channel.provider.query(result.record.number)
    assert status.amount_fen == result.price.total_fen


def test_a_refused_code_writes_nothing(onboard: Onboard) -> None:
    board(onboard, "TIP")
    with pytest.raises(DomainError) as refused:
        onboard.sales.sell(CONDUCTOR, request("", channel="counter", payer="281234567890123456"))
    assert (refused.value.field, refused.value.status) == ("auth_code", 402)
    assert onboard.world.orders_store.for_account(WALK_UP_ACCOUNT) == []
    with pytest.raises(DomainError) as malformed:
        onboard.sales.sell(CONDUCTOR, request("", channel="counter", payer="not-a-code"))
    assert malformed.value.reason == "payment_code_malformed"


def test_a_sale_that_cannot_be_written_gives_the_money_back(
    onboard: Onboard,
    channel: Channel,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    board(onboard, "TIP")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("the disk is full")

    monkeypatch.setattr(onboard.store, "insert_sale", broken)
    counter = onboard.sales.payments["counter"]
    charged: list[str] = []
    authorize = counter.authorize

    def recording(charge: OnboardCharge) -> Authorized:
        charged.append(charge.order_number)
        return authorize(charge)

    monkeypatch.setattr(counter, "authorize", recording)
    with pytest.raises(OSError):
        onboard.sales.sell(CONDUCTOR, request("", channel="counter", payer=channel.code()))
    [number] = charged
    paid = channel.provider.query(number)
    back = channel.provider.refund_status(number, f"{number}V")
    assert back.state is RefundState.SUCCEEDED and back.amount_fen == paid.amount_fen
    assert onboard.world.orders_store.for_account(WALK_UP_ACCOUNT) == []
