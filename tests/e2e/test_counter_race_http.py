"""The served product under concurrent counter payments: each scan's direct confirmation races
the sandbox's notification of the same trade back to the server. Every order ends paid with
its money kept, once in the ledger; the channel shows every trade paid, none refunded.

(Found by hand on the code before the guard: 13 of 252 such payments ended paid while their
money went back. Whether a run of twenty hits that window depends on the machine's timing, so
this end-to-end check is not the regression test: the deterministic interleaving, with its
control that shows the race without the guard, is tests/integration/test_payment_races.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from open12306.config import Settings
from open12306.payments.ports import TradeState as ChannelState
from open12306.sales.domain.ledger import balance_check
from tests.e2e.test_orders_payment_sandbox import (
    Live,
    held_order,
    serve_live,
    signed_up,
    wait_state,
)
from tests.integration.payments_support import wait_for

RIDERS = 20


@pytest.fixture(scope="module")
def live(demo_settings: Settings) -> Iterator[Live]:
    yield from serve_live(demo_settings)


def test_concurrent_counter_payments_each_pay_once_and_keep_their_money(live: Live) -> None:
    riders = [signed_up(live) for _ in range(RIDERS)]
    orders = [
        (headers, held_order(live, headers, passenger, offset=10 + i % 3)["number"])
        for i, (headers, passenger) in enumerate(riders)
    ]
    codes = [buyer_code(live, i) for i in range(len(orders))]

    def pay(i: int) -> Any:
        headers, number = orders[i]
        with httpx.Client(base_url=live.url, timeout=30.0) as http:
            return http.post(
                f"/api/v1/orders/{number}/payments",
                json={"channel": "counter", "auth_code": codes[i]},
                headers=headers,
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(pay, range(len(orders))))
    assert [a.status_code for a in answers] == [201] * RIDERS, [a.text for a in answers]
    assert all(a.json()["state"] == "paid" for a in answers), [a.text for a in answers]
    settlement = live.container.settlement
    assert settlement is not None
    alipay = settlement.providers["alipay"]
    store = live.container.orders.store  # type: ignore[union-attr]
    for headers, number in orders:
        wait_state(live, headers, number, "paid")
        # the notification has been taken (or the trade would still be re-sent)
        wait_for(lambda n=number: _delivered(live, n), f"the notification of {number}")
        record = store.get(number)
        assert record is not None
        assert balance_check(store.entries(number), record.order.tickets) == [], number
        assert settlement.refunds_of(number) == [], number
        assert alipay.query(number).state is ChannelState.PAID


def buyer_code(live: Live, i: int) -> str:
    """A payment code of a sandbox buyer of rider ``i``'s own (a buyer's new code voids
    their earlier ones)."""
    minted = live.http.post(
        "/paysandbox/sandbox/alipay/paycodes", json={"buyer_id": f"2088{i:012d}"}
    )
    assert minted.status_code == 201, minted.text
    code: str = minted.json()["auth_code"]
    return code


def _delivered(live: Live, number: str) -> bool:
    from tests.e2e.test_orders_payment_sandbox import deliveries

    found = deliveries(live, number)
    return bool(found) and all(d["delivered"] for d in found)
