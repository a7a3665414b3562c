"""Orders paid through a live sandbox that plays both Alipay and WeChat Pay (real SDKs), with
the retry queue and the change book on the database: a fresh merchant per test, so trade
numbers never meet across tests."""

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
from open12306.payments.adapters.wechatpay import WeChatPayProvider
from open12306.payments.ports import PaymentOptions, PaymentProvider, PayMode
from open12306.sales.adapters.checkout_books import SqlSettlementBooks
from open12306.sales.ports import OrderRecord
from open12306.sales.services.changes import ChangeRequest, ChangeService, PendingChange
from open12306.sales.services.checkout import Settlement
from tests.integration.orders_support import World, build_world
from tests.integration.payments_support import FAST_SCHEDULE, Receiver, cashier_actions, servers

_merchants = itertools.count(1)


@dataclass
class Gateway:
    """The sandbox on loopback, the merchant's notification receiver and an HTTP client."""

    sandbox: Sandbox
    url: str
    receiver: Receiver
    http: httpx.Client
    receiver_url: str

    def merchants(self) -> dict[str, PaymentProvider]:
        """Providers of a new Alipay app and a new WeChat Pay merchant."""
        n = next(_merchants)
        creds = MerchantCredentials.generate(app_id=f"20219000{n:08d}", mchid=f"19{n:08d}")
        self.sandbox.registry.add_alipay(creds.alipay_app())
        self.sandbox.registry.add_wechat(creds.wechat_merchant())
        notify = self.receiver_url
        alipay = AlipayProvider(
            creds.alipay_settings(self.sandbox, self.url, notify_url=f"{notify}/notify/alipay")
        )
        wechat = WeChatPayProvider(
            creds.wechat_settings(self.sandbox, self.url, notify_url=f"{notify}/notify/wechatpay")
        )
        self.receiver.providers.update(alipay=alipay, wechatpay=wechat)
        return {"alipay": alipay, "wechatpay": wechat}

    def pay_at_cashier(self, url: str) -> None:
        page = self.http.get(url, follow_redirects=True)
        assert page.status_code == 200, page.text
        done = self.http.post(cashier_actions(page.text)["pay"])
        assert done.status_code in (200, 303), done.text


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    sandbox = create_sandbox(SandboxConfig(retry_schedule=FAST_SCHEDULE))
    receiver = Receiver()
    for sandbox_server, receiver_server in servers(sandbox.app, receiver.app()):
        with httpx.Client(timeout=10, trust_env=False) as http:
            yield Gateway(sandbox, sandbox_server.url, receiver, http, receiver_server.url)


@dataclass
class Shop:
    """A world whose settlement pays through the sandbox's two channels, and its changes."""

    world: World
    gateway: Gateway
    providers: dict[str, PaymentProvider]
    books: SqlSettlementBooks
    settlement: Settlement
    changes: ChangeService

    def pay(self, account: Account, record: OrderRecord, channel: str) -> OrderRecord:
        """Pay the held order through ``channel`` at the sandbox's cashier."""
        prompt = self.settlement.start(
            account, record.number, channel, PaymentOptions(mode=PayMode.QR)
        )
        self.gateway.pay_at_cashier(prompt.qr_content or "")
        assert self.settlement.check(account, record.number, channel).result == "paid"
        return self.world.orders.get(account, record.number)

    def change(
        self, account: Account, record: OrderRecord, ticket: str, to: ChangeRequest, channel: str
    ) -> PendingChange:
        """Change ``ticket`` to a dearer trip, the difference paid through ``channel``."""
        pending = self.changes.change(
            account, record.number, ticket, to, channel, PaymentOptions(mode=PayMode.QR)
        )
        assert isinstance(pending, PendingChange)
        self.gateway.pay_at_cashier(pending.prompt.qr_content or "")
        status = self.providers[channel].query(pending.change.id)
        assert status.amount_fen == pending.change.amount_fen
        outcome = self.changes.confirm_change(
            channel, pending.change.id, status.amount_fen, status.trade_no or ""
        )
        assert outcome is not None and outcome.result == "paid"
        return pending


def shop(db_url: str, gateway: Gateway, *, max_attempts: int = 48) -> Shop:
    world = build_world(db_url)
    books = SqlSettlementBooks(world.store.engine)
    providers = gateway.merchants()
    settlement = Settlement(
        world.orders_store,
        world.orders,
        world.allocator,
        world.clock,
        providers,
        conflict=VersionConflict,
        refunds=books,
        cancels=books,
    )
    assert settlement.refund_retry is not None
    settlement.refund_retry.max_attempts = max_attempts
    world.settlement = settlement
    return Shop(
        world,
        gateway,
        providers,
        books,
        settlement,
        ChangeService.from_settlement(settlement, books),
    )
