"""Contract tests: wechatpayv3 (the real SDK, platform public-key mode) against the sandbox."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace

import httpx
import pytest

from open12306.payments.adapters.sandbox import Sandbox, SandboxConfig, create_sandbox
from open12306.payments.adapters.sandbox.demo import MerchantCredentials
from open12306.payments.adapters.sandbox.wechat_api import encrypt_resource
from open12306.payments.adapters.wechatpay import WeChatPayProvider
from open12306.payments.ports import (
    NotificationKind,
    NotificationRejected,
    PaymentError,
    PaymentOptions,
    PayMode,
    RefundState,
)
from open12306.payments.ports import TradeState as PaymentState
from tests.integration.payments_support import (
    ADMIN,
    ADMIN_TOKEN,
    FAST_SCHEDULE,
    Received,
    Receiver,
    cashier_actions,
    servers,
    wait_for,
)

_orders = itertools.count(1)


def order_no() -> str:
    return f"W{next(_orders):09d}"


@dataclass
class World:
    sandbox: Sandbox
    sandbox_url: str
    receiver: Receiver
    creds: MerchantCredentials
    provider: WeChatPayProvider
    http: httpx.Client


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    creds = MerchantCredentials.generate()
    sandbox = create_sandbox(
        SandboxConfig(
            wechat_merchants=[creds.wechat_merchant()],
            retry_schedule=FAST_SCHEDULE,
            admin_token=ADMIN_TOKEN,
        )
    )
    receiver = Receiver()
    for sandbox_server, receiver_server in servers(sandbox.app, receiver.app()):
        settings = creds.wechat_settings(
            sandbox, sandbox_server.url, notify_url=f"{receiver_server.url}/notify/wechatpay"
        )
        provider = WeChatPayProvider(settings)
        receiver.providers["wechatpay"] = provider
        with httpx.Client(timeout=10, trust_env=False) as http:
            yield World(sandbox, sandbox_server.url, receiver, creds, provider, http)


def pay_at_cashier(world: World, code_url: str) -> None:
    page = world.http.get(code_url)
    assert page.status_code == 200, page.text
    actions = cashier_actions(page.text)
    assert world.http.post(actions["pay"]).status_code == 200


def accepted(world: World, order: str, kind: NotificationKind) -> list[Received]:
    return wait_for(
        lambda: [
            r
            for r in world.receiver.for_order("wechatpay", order)
            if r.notification.kind is kind and r.answered == 204
        ],
        what=f"{kind} callback for {order}",
    )


def test_native_pay_through_refund(world: World) -> None:
    order = order_no()
    assert world.provider.query(order).state is PaymentState.NOT_FOUND
    prompt = world.provider.prepare(
        order, 55350, "G1 北京南→上海虹桥", PaymentOptions(mode=PayMode.QR)
    )
    assert prompt.qr_content is not None and prompt.qr_content.startswith(world.sandbox_url)
    again = world.provider.prepare(
        order, 55350, "G1 北京南→上海虹桥", PaymentOptions(mode=PayMode.QR)
    )
    assert again.qr_content == prompt.qr_content
    pending = world.provider.query(order)
    assert (pending.state, pending.amount_fen) == (PaymentState.PENDING, 55350)

    pay_at_cashier(world, prompt.qr_content)
    [got] = accepted(world, order, NotificationKind.PAYMENT)
    note = got.notification
    assert (note.state, note.amount_fen, note.order_no) == (PaymentState.PAID, 55350, order)
    assert note.trade_no.startswith("4200") and note.paid_at is not None

    status = world.provider.query(order)
    assert (status.state, status.trade_no) == (PaymentState.PAID, note.trade_no)
    with pytest.raises(PaymentError) as repeat:
        world.provider.prepare(order, 55350, "G1", PaymentOptions(mode=PayMode.QR))
    assert repeat.value.code == "ORDERPAID"

    first = world.provider.refund(order, f"{order}-R1", 10000)
    duplicate = world.provider.refund(order, f"{order}-R1", 10000, total_fen=55350)
    assert first.state is RefundState.SUCCEEDED and first.amount_fen == 10000
    assert duplicate.refund_id == first.refund_id
    [refund_note] = accepted(world, order, NotificationKind.REFUND)
    assert (refund_note.notification.refund_no, refund_note.notification.refund_fen) == (
        f"{order}-R1",
        10000,
    )
    assert world.provider.refund_status(order, f"{order}-R1").state is RefundState.SUCCEEDED
    assert world.provider.refund_status(order, f"{order}-R9").state is RefundState.NOT_FOUND
    assert world.provider.query(order).state is PaymentState.REFUNDED

    with pytest.raises(PaymentError) as over:
        world.provider.refund(order, f"{order}-R2", 45351)
    assert over.value.code == "INVALID_REQUEST"
    with pytest.raises(PaymentError) as closing:
        world.provider.close(order)
    assert closing.value.code == "ORDERPAID"


def test_close_unpaid_then_pay_is_refused(world: World) -> None:
    order = order_no()
    prompt = world.provider.prepare(order, 1200, "K511", PaymentOptions())
    world.provider.close(order)
    assert world.provider.query(order).state is PaymentState.CLOSED
    page = world.http.get(prompt.qr_content or "")
    assert "pay" not in cashier_actions(page.text)
    assert world.http.post(f"{prompt.qr_content}/pay").status_code == 409
    with pytest.raises(PaymentError) as refused:
        world.provider.close(order_no())
    assert refused.value.code == "ORDER_NOT_EXIST"


def test_callbacks_retry_until_2xx_and_duplicates_verify(world: World) -> None:
    world.receiver.fail_first["wechatpay"] = 2
    order = order_no()
    prompt = world.provider.prepare(order, 3300, "Z1", PaymentOptions())
    pay_at_cashier(world, prompt.qr_content or "")
    accepted(world, order, NotificationKind.PAYMENT)
    # The receiver sees the accepted attempt before the sandbox has recorded its answer.
    wait_for(
        lambda: len(world.sandbox.notifier.deliveries(order)[0].attempts) == 3, what="attempts"
    )
    [delivery] = world.sandbox.notifier.deliveries(order)
    assert [a.status for a in delivery.attempts] == [400, 400, 204]
    seen = world.receiver.for_order("wechatpay", order)
    assert len({r.notification.notification_id for r in seen}) == 1
    assert len({r.headers["wechatpay-nonce"] for r in seen}) == 3  # each attempt signed afresh

    answer = world.http.post(
        f"{world.sandbox_url}/sandbox/notifications/{delivery.id}/redeliver", headers=ADMIN
    )
    assert answer.status_code == 202
    wait_for(lambda: len(world.receiver.for_order("wechatpay", order)) == 4, what="duplicate")
    assert world.receiver.for_order("wechatpay", order)[-1].notification == seen[-1].notification


def test_tampered_forged_and_stale_callbacks_are_rejected(world: World) -> None:
    order = order_no()
    prompt = world.provider.prepare(order, 4400, "G7", PaymentOptions())
    pay_at_cashier(world, prompt.qr_content or "")
    [genuine] = accepted(world, order, NotificationKind.PAYMENT)
    headers, body = genuine.headers, genuine.body

    envelope = json.loads(body)
    envelope["summary"] = "tampered"
    with pytest.raises(NotificationRejected, match="signature does not verify"):
        world.provider.parse_notification(headers, json.dumps(envelope).encode())

    with pytest.raises(NotificationRejected, match="unknown platform key"):
        world.provider.parse_notification(
            dict(headers, **{"wechatpay-serial": "PUB_KEY_ID_0"}), body
        )

    signed_at = int({k.lower(): v for k, v in headers.items()}["wechatpay-timestamp"])
    late = WeChatPayProvider(world.provider._settings, now=lambda: signed_at + 3600)
    with pytest.raises(NotificationRejected, match="stale"):
        late.parse_notification(headers, body)

    # Correctly signed by the platform, but sealed with a key that is not our APIv3 key.
    plaintext = json.dumps({"mchid": world.creds.wechat_mchid, "out_trade_no": order})
    envelope["resource"] = encrypt_resource("k" * 32, plaintext, "transaction")
    text = json.dumps(envelope)
    signed = {k.lower(): v for k, v in world.sandbox.wechat.signature_headers(text).items()}
    with pytest.raises(NotificationRejected, match="did not decrypt"):
        world.provider.parse_notification(signed, text.encode())

    assert world.provider.parse_notification(headers, body).order_no == order


def test_requests_signed_with_an_unknown_key_are_refused(world: World) -> None:
    stranger = MerchantCredentials.generate(mchid=world.creds.wechat_mchid)
    settings = replace(
        world.provider._settings,
        private_key_pem=stranger.wechat_private_key_pem,
    )
    with pytest.raises(PaymentError) as refused:
        WeChatPayProvider(settings).query(order_no())
    assert refused.value.code == "SIGN_ERROR"


def test_responses_signed_by_someone_else_are_refused(world: World) -> None:
    impostor = MerchantCredentials.generate()
    settings = replace(
        world.provider._settings, platform_public_key_pem=impostor.wechat_public_key_pem
    )
    with pytest.raises(PaymentError) as refused:
        WeChatPayProvider(settings).prepare(order_no(), 100, "G1", PaymentOptions())
    assert refused.value.code == "RESPONSE_SIGNATURE"


def test_instalments_are_not_a_wechat_feature(world: World) -> None:
    with pytest.raises(PaymentError, match="Alipay"):
        world.provider.prepare(order_no(), 1000, "G1", PaymentOptions(instalments=3))


def test_sandbox_mounted_under_a_prefix_in_another_app() -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    creds = MerchantCredentials.generate()
    sandbox = create_sandbox(
        SandboxConfig(wechat_merchants=[creds.wechat_merchant()], admin_token=ADMIN_TOKEN)
    )
    host = Starlette(routes=[Mount("/paysandbox", app=sandbox.app)])
    for [server] in servers(host):
        base = f"{server.url}/paysandbox"
        provider = WeChatPayProvider(
            creds.wechat_settings(sandbox, base, notify_url="http://127.0.0.1:9/n")
        )
        order = order_no()
        prompt = provider.prepare(order, 100, "G1", PaymentOptions())
        assert (prompt.qr_content or "").startswith(f"{base}/cashier/wechatpay/")
        assert provider.query(order).state is PaymentState.PENDING
        with httpx.Client(trust_env=False) as http:
            keys_doc = http.get(f"{base}/sandbox/keys", headers=ADMIN).json()
            page = http.get(prompt.qr_content or "")
        assert keys_doc["wechatpay"]["public_key_id"] == sandbox.wechat_public_key_id
        assert keys_doc["wechatpay"]["base_url"] == base
        assert cashier_actions(page.text)["pay"].startswith(f"{base}/cashier/wechatpay/")


def test_merchants_registered_over_http_can_trade(world: World) -> None:
    newcomer = MerchantCredentials.generate(app_id="2021000000000777", mchid="1900000777")
    with httpx.Client(base_url=world.sandbox_url, headers=ADMIN, trust_env=False) as http:
        bad = http.post("/sandbox/wechatpay/merchants", json={"mchid": "1"})
        assert bad.status_code == 400
        registered = http.post(
            "/sandbox/wechatpay/merchants",
            json={
                "mchid": newcomer.wechat_mchid,
                "serial_no": newcomer.wechat_serial_no,
                "public_key": newcomer.wechat_public_key_pem,
                "apiv3_key": newcomer.apiv3_key,
            },
        )
        assert registered.status_code == 201
        listed = http.get("/sandbox/keys").json()["wechatpay"]["mchids"]
    assert newcomer.wechat_mchid in listed
    settings = newcomer.wechat_settings(world.sandbox, world.sandbox_url, "http://127.0.0.1:9/n")
    provider = WeChatPayProvider(settings)
    order = order_no()
    provider.prepare(order, 100, "G1", PaymentOptions())
    assert provider.query(order).state is PaymentState.PENDING
    assert world.provider.query(order).state is PaymentState.NOT_FOUND  # trades are per merchant
