"""The order world (orders_support) paid through a live Alipay sandbox with the real SDK: a
settlement with the ``counter`` channel, the retry queue and the change book on the database."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from open12306.accounts.ports import Account
from open12306.inventory.adapters.inventory_repo import VersionConflict
from open12306.payments.adapters.alipay import AlipayProvider
from open12306.payments.adapters.sandbox import Sandbox, SandboxConfig, create_sandbox
from open12306.payments.adapters.sandbox.demo import MerchantCredentials
from open12306.sales.adapters.checkout_books import SqlSettlementBooks
from open12306.sales.domain.ledger import balance_check
from open12306.sales.ports import OrderRecord
from open12306.sales.services.changes import ChangeService
from open12306.sales.services.checkout import Settlement
from tests.integration.orders_support import ADULT_ID, CHILD_ID, World, build_world, request
from tests.integration.payments_support import (
    ADMIN,
    ADMIN_TOKEN,
    FAST_SCHEDULE,
    Receiver,
    cashier_actions,
    servers,
)

_apps = itertools.count(1)


@dataclass
class Channel:
    """The sandbox on loopback, the merchant's notification receiver and an HTTP client."""

    sandbox: Sandbox
    url: str
    receiver: Receiver
    provider: AlipayProvider
    http: httpx.Client
    notify_url: str

    def fresh_merchant(self) -> AlipayProvider:
        """A new merchant app (its own trade numbers at the sandbox) and its provider."""
        creds = MerchantCredentials.generate(app_id=f"20218000{next(_apps):08d}")
        self.sandbox.registry.add_alipay(creds.alipay_app())
        settings = creds.alipay_settings(self.sandbox, self.url, notify_url=self.notify_url)
        self.provider = AlipayProvider(settings)
        self.receiver.providers["alipay"] = self.provider
        return self.provider

    def code(self, needs_password: bool = False) -> str:
        minted = self.http.post(
            f"{self.url}/sandbox/alipay/paycodes", json={"needs_password": needs_password}
        )
        assert minted.status_code == 201, minted.text
        code: str = minted.json()["auth_code"]
        return code

    def fail_next(self, api: str, times: int) -> None:
        armed = self.http.post(
            f"{self.url}/sandbox/faults", json={"api": api, "times": times}, headers=ADMIN
        )
        assert armed.status_code == 201, armed.text

    def pay_at_cashier(self, url: str) -> None:
        page = self.http.get(url, follow_redirects=True)
        assert page.status_code == 200, page.text
        done = self.http.post(cashier_actions(page.text)["pay"])
        assert done.status_code in (200, 303), done.text


@pytest.fixture(scope="module")
def channel() -> Iterator[Channel]:
    creds = MerchantCredentials.generate()
    sandbox = create_sandbox(
        SandboxConfig(
            alipay_apps=[creds.alipay_app()], retry_schedule=FAST_SCHEDULE, admin_token=ADMIN_TOKEN
        )
    )
    receiver = Receiver()
    for sandbox_server, receiver_server in servers(sandbox.app, receiver.app()):
        settings = creds.alipay_settings(
            sandbox, sandbox_server.url, notify_url=f"{receiver_server.url}/notify/alipay"
        )
        provider = AlipayProvider(settings)
        receiver.providers["alipay"] = provider
        with httpx.Client(timeout=10, trust_env=False) as http:
            yield Channel(
                sandbox,
                sandbox_server.url,
                receiver,
                provider,
                http,
                f"{receiver_server.url}/notify/alipay",
            )


@dataclass
class Paid:
    """A world whose settlement pays through the sandbox, and its change service."""

    world: World
    channel: Channel
    books: SqlSettlementBooks
    settlement: Settlement
    changes: ChangeService


def paid_world(db_url: str, channel: Channel) -> Paid:
    world = build_world(db_url)
    books = SqlSettlementBooks(world.store.engine)
    settlement = Settlement(
        world.orders_store,
        world.orders,
        world.allocator,
        world.clock,
        {"alipay": channel.fresh_merchant()},
        conflict=VersionConflict,
        refunds=books,
        cancels=books,
    )
    world.settlement = settlement
    changes = ChangeService.from_settlement(settlement, books)
    return Paid(world, channel, books, settlement, changes)


def held(
    world: World, name: str = "zhang_san", *, two: bool = False
) -> tuple[Account, OrderRecord]:
    people = [("张三", ADULT_ID), ("张小", CHILD_ID)] if two else [("张三", ADULT_ID)]
    account, ids = world.account(name, *people)
    record = world.orders.submit(account, request(*ids))
    world.allocator.run_once()
    return account, world.orders.get(account, record.number)


def balanced(world: World, number: str) -> bool:
    record = world.orders_store.get(number)
    assert record is not None
    return balance_check(world.orders_store.entries(number), record.order.tickets) == []
