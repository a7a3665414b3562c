"""The sandbox's setup API is the operator's, not the public's: over real HTTP, a client
without the admin token cannot register or replace a merchant, inject faults or read the
notifications; the protocol endpoints stay open and check the merchant's signature."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from open12306.payments.adapters.alipay import AlipayProvider
from open12306.payments.adapters.sandbox import Sandbox, SandboxConfig, create_sandbox, keys
from open12306.payments.adapters.sandbox.alipay_gateway import sign_content
from open12306.payments.adapters.sandbox.config import SHANGHAI
from open12306.payments.adapters.sandbox.demo import MerchantCredentials
from open12306.payments.ports import (
    PaymentError,
    PaymentOptions,
    RefundState,
)
from open12306.payments.ports import TradeState as PaymentState
from tests.integration.payments_support import (
    ADMIN,
    ADMIN_TOKEN,
    FAST_SCHEDULE,
    Receiver,
    cashier_actions,
    servers,
    wait_for,
)

_orders = itertools.count(1)
NOW = datetime(2026, 2, 10, 9, 30, tzinfo=SHANGHAI)


def order_no() -> str:
    return f"S{next(_orders):09d}"


@dataclass
class World:
    sandbox: Sandbox
    url: str
    creds: MerchantCredentials
    provider: AlipayProvider
    receiver: Receiver
    http: httpx.Client


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    creds = MerchantCredentials.generate()
    sandbox = create_sandbox(
        SandboxConfig(
            alipay_apps=[creds.alipay_app()],
            wechat_merchants=[creds.wechat_merchant()],
            retry_schedule=FAST_SCHEDULE,
            admin_token=ADMIN_TOKEN,
            clock=lambda: NOW,
        )
    )
    receiver = Receiver()
    for sandbox_server, receiver_server in servers(sandbox.app, receiver.app()):
        notify = f"{receiver_server.url}/notify/alipay"
        provider = AlipayProvider(creds.alipay_settings(sandbox, sandbox_server.url, notify))
        receiver.providers["alipay"] = provider
        with httpx.Client(base_url=sandbox_server.url, timeout=10, trust_env=False) as http:
            yield World(sandbox, sandbox_server.url, creds, provider, receiver, http)


def paid_order(world: World, fen: int = 5000) -> str:
    order = order_no()
    prompt = world.provider.prepare(order, fen, "G1", PaymentOptions())
    page = world.http.get(prompt.redirect_url or "", follow_redirects=True)
    assert world.http.post(cashier_actions(page.text)["pay"]).status_code == 200
    assert world.provider.query(order).state is PaymentState.PAID
    return order


def stranger_key_pem() -> str:
    return MerchantCredentials.generate().alipay_public_key_pem


SETUP_CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/sandbox/keys", None),
    ("GET", "/sandbox/notifications", None),
    ("POST", "/sandbox/notifications/anything/redeliver", None),
    ("POST", "/sandbox/alipay/apps", {"app_id": "2021000000000001", "app_public_key": "x"}),
    ("POST", "/sandbox/wechatpay/merchants", {"mchid": "1900000001"}),
    ("POST", "/sandbox/faults", {"api": "alipay.trade.refund", "times": 5}),
]
WRONG_CREDENTIALS = [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
    {"Authorization": f"Basic {ADMIN_TOKEN}"},
    {"Authorization": ADMIN_TOKEN},
]


@pytest.mark.parametrize(("method", "path", "body"), SETUP_CALLS)
def test_every_setup_endpoint_answers_401_without_the_admin_token(
    world: World, method: str, path: str, body: dict[str, Any] | None
) -> None:
    for headers in WRONG_CREDENTIALS:
        answer = world.http.request(method, path, json=body, headers=headers)
        assert answer.status_code == 401, (path, headers, answer.text)
        assert answer.json()["error"]["reason"] == "unauthenticated"
        assert answer.json()["error"]["field"] == "authorization"
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_an_outsider_cannot_take_the_merchants_app_id_and_refund_its_trades(
    world: World,
) -> None:
    order = paid_order(world)
    attacker = MerchantCredentials.generate(app_id=world.creds.alipay_app_id)
    hijack = {"app_id": attacker.alipay_app_id, "app_public_key": attacker.alipay_public_key_pem}
    assert world.http.post("/sandbox/alipay/apps", json=hijack).status_code == 401
    # Not even the operator replaces a merchant's key by registering its app_id again.
    again = world.http.post("/sandbox/alipay/apps", json=hijack, headers=ADMIN)
    assert again.status_code == 409, again.text
    assert again.json()["error"]["field"] == "app_id"
    assert again.json()["error"]["reason"] == "already_registered"

    impostor = AlipayProvider(attacker.alipay_settings(world.sandbox, world.url, "http://x/n"))
    with pytest.raises(PaymentError) as refused:
        impostor.refund(order, f"{order}-R1", 5000)
    assert refused.value.code == "40002"  # isv.invalid-signature: not the merchant's key
    trade = world.sandbox.alipay.ledger.find(world.creds.alipay_app_id, {"out_trade_no": order})
    assert trade.refunded_fen == 0
    assert world.provider.query(order).state is PaymentState.PAID  # the merchant still trades


def test_registering_the_same_credentials_again_changes_nothing(world: World) -> None:
    same = {
        "app_id": world.creds.alipay_app_id,
        "app_public_key": world.creds.alipay_public_key_pem,
    }
    answer = world.http.post("/sandbox/alipay/apps", json=same, headers=ADMIN)
    assert (answer.status_code, answer.json()) == (
        200,
        {"registered": world.creds.alipay_app_id, "new": False},
    )
    merchant = {
        "mchid": world.creds.wechat_mchid,
        "serial_no": world.creds.wechat_serial_no,
        "public_key": stranger_key_pem(),
        "apiv3_key": world.creds.apiv3_key,
    }
    taken = world.http.post("/sandbox/wechatpay/merchants", json=merchant, headers=ADMIN)
    assert (taken.status_code, taken.json()["error"]["field"]) == (409, "mchid")
    merchant["public_key"] = world.creds.wechat_public_key_pem
    kept = world.http.post("/sandbox/wechatpay/merchants", json=merchant, headers=ADMIN)
    assert kept.status_code == 200, kept.text
    assert world.http.get("/sandbox/keys", headers=ADMIN).json()["alipay"]["app_ids"] == [
        world.creds.alipay_app_id
    ]


def test_faults_cannot_be_injected_without_the_token(world: World) -> None:
    order = paid_order(world)
    arm = {"api": "alipay.trade.refund", "times": 3}
    assert world.http.post("/sandbox/faults", json=arm).status_code == 401
    assert world.sandbox.faults.pending() == {}
    assert world.provider.refund(order, f"{order}-R1", 100).state is RefundState.SUCCEEDED


def test_notifications_are_listed_and_redelivered_only_for_the_operator(world: World) -> None:
    order = paid_order(world)
    wait_for(lambda: world.sandbox.notifier.deliveries(order), what="a notification")
    hidden = world.http.get("/sandbox/notifications", params={"trade": order})
    assert hidden.status_code == 401 and order not in hidden.text
    listed = world.http.get("/sandbox/notifications", params={"trade": order}, headers=ADMIN)
    assert listed.status_code == 200 and listed.json()[0]["trade"] == order
    delivery = listed.json()[0]["id"]
    assert world.http.post(f"/sandbox/notifications/{delivery}/redeliver").status_code == 401
    again = world.http.post(f"/sandbox/notifications/{delivery}/redeliver", headers=ADMIN)
    assert again.status_code == 202


def test_a_gateway_refund_needs_the_merchants_signature(world: World) -> None:
    order = paid_order(world, fen=800)
    stranger = keys.load_private(MerchantCredentials.generate().alipay_private_key_pem)
    merchant = keys.load_private(world.creds.alipay_private_key_pem)
    biz = f'{{"out_trade_no":"{order}","refund_amount":"8.00","out_request_no":"{order}-X"}}'
    params = {
        "app_id": world.creds.alipay_app_id,
        "method": "alipay.trade.refund",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": "2026-02-10 09:30:00",
        "version": "1.0",
        "biz_content": biz,
    }
    content = sign_content(params, drop_sign_type=False)
    tampered = dict(params, sign=keys.sign(merchant, content), biz_content=biz.replace("8.", "7."))
    for attempt in (
        params,  # unsigned
        dict(params, sign=keys.sign(stranger, content)),  # signed by someone else
        tampered,  # the merchant's signature over other content
    ):
        answer = world.http.get(f"/gateway.do?{urlencode(attempt)}").json()
        assert answer["alipay_trade_refund_response"]["code"] == "40002", answer
    trade = world.sandbox.alipay.ledger.find(world.creds.alipay_app_id, {"out_trade_no": order})
    assert trade.refunded_fen == 0
    signed = dict(params, sign=keys.sign(merchant, content))
    done = world.http.get(f"/gateway.do?{urlencode(signed)}").json()
    assert done["alipay_trade_refund_response"]["code"] == "10000"
    assert trade.refunded_fen == 800


def test_without_a_token_the_setup_api_is_not_served() -> None:
    creds = MerchantCredentials.generate()
    sandbox = create_sandbox(SandboxConfig(alipay_apps=[creds.alipay_app()]))
    for [server] in servers(sandbox.app):
        with httpx.Client(base_url=server.url, trust_env=False) as http:
            for method, path, body in SETUP_CALLS:
                answer = http.request(method, path, json=body, headers=ADMIN)
                assert answer.status_code in (404, 405), (path, answer.text)
                assert answer.json()["error"]["reason"] in ("not_found", "method_not_allowed")
            minted = http.post("/sandbox/alipay/paycodes", json={})
            assert minted.status_code == 201  # the buyer's side stays open
    assert sandbox.registry.alipay_ids() == [creds.alipay_app_id]
