"""Contract tests: python-alipay-sdk (the real SDK) against the sandbox's Alipay gateway."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from open12306.payments.adapters.alipay import AlipayProvider
from open12306.payments.adapters.sandbox import Sandbox, SandboxConfig, create_sandbox, keys
from open12306.payments.adapters.sandbox.demo import MerchantCredentials
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
    Receiver,
    cashier_actions,
    servers,
    wait_for,
)

_orders = itertools.count(1)


def order_no() -> str:
    return f"E{next(_orders):09d}"


@dataclass
class World:
    sandbox: Sandbox
    sandbox_url: str
    receiver: Receiver
    receiver_url: str
    creds: MerchantCredentials
    provider: AlipayProvider
    http: httpx.Client


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    creds = MerchantCredentials.generate()
    sandbox = create_sandbox(
        SandboxConfig(
            alipay_apps=[creds.alipay_app()], retry_schedule=FAST_SCHEDULE, admin_token=ADMIN_TOKEN
        )
    )
    receiver = Receiver()
    for sandbox_server, receiver_server in servers(sandbox.app, receiver.app()):
        settings = creds.alipay_settings(
            sandbox,
            sandbox_server.url,
            notify_url=f"{receiver_server.url}/notify/alipay",
            return_url=f"{receiver_server.url}/return",
        )
        provider = AlipayProvider(settings)
        receiver.providers["alipay"] = provider
        with httpx.Client(timeout=10, trust_env=False) as http:
            yield World(
                sandbox, sandbox_server.url, receiver, receiver_server.url, creds, provider, http
            )


def open_cashier(world: World, url: str) -> dict[str, str]:
    page = world.http.get(url)
    assert page.status_code == 200, page.text
    actions = cashier_actions(page.text)
    assert set(actions) == {"pay", "cancel"}
    return actions


def paid_notification(world: World, order: str) -> list:
    return wait_for(
        lambda: [
            r
            for r in world.receiver.for_order("alipay", order)
            if r.notification.kind is NotificationKind.PAYMENT and r.answered == 200
        ],
        what=f"payment notification for {order}",
    )


def test_page_pay_with_huabei_through_refund(world: World) -> None:
    order = order_no()
    options = PaymentOptions(mode=PayMode.PAGE, instalments=6, seller_pays_fee=True)
    prompt = world.provider.prepare(order, 55350, "G1 北京南→上海虹桥 二等座", options)
    assert prompt.redirect_url is not None
    assert prompt.redirect_url.startswith(f"{world.sandbox_url}/gateway.do?")
    assert world.provider.query(order).state is PaymentState.NOT_FOUND  # not opened yet

    actions = open_cashier(world, prompt.redirect_url)
    pending = world.provider.query(order)
    assert (pending.state, pending.amount_fen, pending.instalments) == (
        PaymentState.PENDING,
        55350,
        6,
    )

    paid = world.http.post(actions["pay"])
    assert paid.status_code == 303
    back = urlsplit(paid.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"{world.receiver_url}/return"
    returned = dict(parse_qsl(back.query))
    signature = returned.pop("sign")
    assert world.provider._sdk.verify(returned, signature)
    assert returned["out_trade_no"] == order

    [got] = paid_notification(world, order)
    note = got.notification
    assert (note.state, note.amount_fen, note.order_no) == (PaymentState.PAID, 55350, order)
    assert note.raw["fund_bill_list"] == '[{"amount":"553.50","fundChannel":"PCREDIT"}]'

    status = world.provider.query(order)
    assert (status.state, status.trade_no, status.instalments) == (
        PaymentState.PAID,
        note.trade_no,
        6,
    )
    assert status.paid_at is not None

    first = world.provider.refund(order, f"{order}-R1", 10000)
    again = world.provider.refund(order, f"{order}-R1", 10000)
    assert first.state is again.state is RefundState.SUCCEEDED
    refund_notes = wait_for(
        lambda: [
            r
            for r in world.receiver.for_order("alipay", order)
            if r.notification.kind is NotificationKind.REFUND
        ],
        what="refund notification",
    )
    assert refund_notes[0].notification.refunded_total_fen == 10000
    assert refund_notes[0].notification.refund_no == f"{order}-R1"
    looked_up = world.provider.refund_status(order, f"{order}-R1")
    assert (looked_up.state, looked_up.amount_fen) == (RefundState.SUCCEEDED, 10000)
    assert world.provider.refund_status(order, f"{order}-R9").state is RefundState.NOT_FOUND
    assert world.provider.query(order).state is PaymentState.PAID  # partial refund keeps it paid

    with pytest.raises(PaymentError) as over:
        world.provider.refund(order, f"{order}-R2", 45351)
    assert over.value.code == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    world.provider.refund(order, f"{order}-R2", 45350)
    assert world.provider.query(order).state is PaymentState.REFUNDED

    with pytest.raises(PaymentError) as closing:
        world.provider.close(order)
    assert closing.value.code == "ACQ.TRADE_STATUS_ERROR"


def test_wap_pay_closed_before_paying(world: World) -> None:
    order = order_no()
    prompt = world.provider.prepare(order, 1200, "K511 硬卧", PaymentOptions(mode=PayMode.WAP))
    actions = open_cashier(world, prompt.redirect_url or "")
    world.provider.close(order)
    assert world.provider.query(order).state is PaymentState.CLOSED
    assert world.http.post(actions["pay"]).status_code == 409
    with pytest.raises(PaymentError) as refused:
        world.provider.refund(order, f"{order}-R1", 100)
    assert refused.value.code == "ACQ.TRADE_STATUS_ERROR"


def test_close_of_a_trade_never_opened_is_harmless(world: World) -> None:
    order = order_no()
    world.provider.prepare(order, 1200, "D2205", PaymentOptions())
    world.provider.close(order)
    assert world.provider.query(order).state is PaymentState.NOT_FOUND


def test_cancel_at_cashier_closes_and_notifies(world: World) -> None:
    order = order_no()
    prompt = world.provider.prepare(order, 800, "C2001", PaymentOptions())
    actions = open_cashier(world, prompt.redirect_url or "")
    assert world.http.post(actions["cancel"]).status_code == 200
    closed = wait_for(
        lambda: [
            r
            for r in world.receiver.for_order("alipay", order)
            if r.notification.kind is NotificationKind.CLOSED
        ],
        what="closed notification",
    )
    assert closed[0].notification.state is PaymentState.CLOSED
    assert world.provider.query(order).state is PaymentState.CLOSED


def test_precreate_qr_for_the_counter(world: World) -> None:
    order = order_no()
    prompt = world.provider.prepare(order, 2500, "站台票", PaymentOptions(mode=PayMode.QR))
    assert prompt.qr_content is not None and prompt.redirect_url is None
    actions = open_cashier(world, prompt.qr_content)
    assert world.http.post(actions["pay"]).status_code == 200
    paid_notification(world, order)
    assert world.provider.query(order).state is PaymentState.PAID


def test_notifications_retry_until_success_and_duplicates_verify(world: World) -> None:
    world.receiver.fail_first["alipay"] = 2
    order = order_no()
    prompt = world.provider.prepare(order, 3300, "Z1", PaymentOptions())
    world.http.post(open_cashier(world, prompt.redirect_url or "")["pay"])
    paid_notification(world, order)
    # The receiver sees the accepted attempt before the sandbox has recorded its answer.
    wait_for(
        lambda: any(d.delivered for d in world.sandbox.notifier.deliveries(order)),
        what="delivery recorded",
    )
    deliveries = [d for d in world.sandbox.notifier.deliveries(order) if d.delivered]
    assert len(deliveries) == 1
    assert [a.status for a in deliveries[0].attempts] == [400, 400, 200]
    seen = world.receiver.for_order("alipay", order)
    assert len(seen) == 3 and len({r.notification.notification_id for r in seen}) == 1

    answer = world.http.post(
        f"{world.sandbox_url}/sandbox/notifications/{deliveries[0].id}/redeliver", headers=ADMIN
    )
    assert answer.status_code == 202
    wait_for(lambda: len(world.receiver.for_order("alipay", order)) == 4, what="duplicate")
    duplicate = world.receiver.for_order("alipay", order)[-1]
    assert duplicate.notification == seen[-1].notification


def test_tampered_and_forged_notifications_are_rejected(world: World) -> None:
    order = order_no()
    prompt = world.provider.prepare(order, 4400, "G7", PaymentOptions())
    world.http.post(open_cashier(world, prompt.redirect_url or "")["pay"])
    [genuine] = paid_notification(world, order)
    fields = dict(parse_qsl(genuine.body.decode()))

    tampered = dict(fields, total_amount="0.01")
    with pytest.raises(NotificationRejected, match="signature does not verify"):
        world.provider.parse_notification({}, urlencode(tampered).encode())

    forger = keys.load_private(world.creds.alipay_private_key_pem)  # not Alipay's key
    unsigned = {k: v for k, v in fields.items() if k not in ("sign", "sign_type")}
    content = "&".join(f"{k}={v}" for k, v in sorted(unsigned.items()))
    forged = dict(unsigned, sign=keys.sign(forger, content), sign_type="RSA2")
    with pytest.raises(NotificationRejected, match="signature does not verify"):
        world.provider.parse_notification({}, urlencode(forged).encode())

    with pytest.raises(NotificationRejected, match="missing signature"):
        world.provider.parse_notification({}, urlencode(unsigned).encode())
    with pytest.raises(NotificationRejected, match="sign_type"):
        world.provider.parse_notification({}, urlencode(dict(fields, sign_type="RSA")).encode())
    assert world.provider.parse_notification({}, genuine.body).order_no == order


def test_requests_signed_with_an_unknown_key_are_refused(world: World) -> None:
    stranger = MerchantCredentials.generate(app_id=world.creds.alipay_app_id)
    settings = stranger.alipay_settings(
        world.sandbox, world.sandbox_url, notify_url="http://127.0.0.1:9/x"
    )
    with pytest.raises(PaymentError) as refused:
        AlipayProvider(settings).query("E000000001")
    assert refused.value.code == "40002"


def test_responses_signed_by_someone_else_are_refused(world: World) -> None:
    impostor = MerchantCredentials.generate()
    settings = world.creds.alipay_settings(
        world.sandbox, world.sandbox_url, notify_url="http://127.0.0.1:9/x"
    )
    settings = type(settings)(
        **{**settings.__dict__, "alipay_public_key_pem": impostor.alipay_public_key_pem}
    )
    with pytest.raises(PaymentError) as refused:
        AlipayProvider(settings).query("E000000001")
    assert refused.value.code == "invalid-response-signature"


def test_bad_instalment_count_is_refused_before_any_request(world: World) -> None:
    with pytest.raises(ValueError, match="instalments"):
        world.provider.prepare(order_no(), 1000, "G1", PaymentOptions(instalments=4))


def test_apps_registered_over_http_can_trade(world: World) -> None:
    newcomer = MerchantCredentials.generate(app_id="2021000000000888")
    answer = world.http.post(
        f"{world.sandbox_url}/sandbox/alipay/apps",
        json={"app_id": newcomer.alipay_app_id, "app_public_key": newcomer.alipay_public_key_pem},
        headers=ADMIN,
    )
    assert answer.status_code == 201
    settings = newcomer.alipay_settings(world.sandbox, world.sandbox_url, "http://127.0.0.1:9/n")
    provider = AlipayProvider(settings)
    order = order_no()
    prompt = provider.prepare(order, 100, "G1", PaymentOptions(mode=PayMode.QR))
    assert prompt.qr_content is not None
    assert provider.query(order).state is PaymentState.PENDING
    assert world.provider.query(order).state is PaymentState.NOT_FOUND  # trades are per app
