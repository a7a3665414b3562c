"""Money at the channel edge, Alipay's signing string, and the sandbox ledgers' rules."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.payments.adapters.money import fen_to_yuan, yuan_to_fen
from open12306.payments.adapters.sandbox.alipay_gateway import sign_content
from open12306.payments.adapters.sandbox.alipay_ledger import AlipayBizError, AlipayLedger
from open12306.payments.adapters.sandbox.wechat_ledger import WeChatError, WeChatLedger

NOW = datetime(2026, 2, 10, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_fen_round_trips_through_yuan(fen: int) -> None:
    assert yuan_to_fen(fen_to_yuan(fen)) == fen


@pytest.mark.parametrize("text", ["1.234", "-1.00", "1e3", "01.00", ".5", "", "1,00"])
def test_malformed_yuan_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        yuan_to_fen(text)


def test_yuan_with_one_decimal_is_tenths() -> None:
    assert yuan_to_fen("12.5") == 1250


def test_request_signing_string_keeps_sign_type_but_notifications_drop_it() -> None:
    params = {"b": "2", "a": "1", "sign": "x", "sign_type": "RSA2", "empty": ""}
    assert sign_content(params, drop_sign_type=False) == "a=1&b=2&sign_type=RSA2"
    assert sign_content(params, drop_sign_type=True) == "a=1&b=2"


def _paid_alipay_trade(total: str) -> tuple[AlipayLedger, str]:
    ledger = AlipayLedger(lambda: NOW)
    biz = {"out_trade_no": "E1", "subject": "G1", "total_amount": total}
    trade = ledger.open("app", biz, "FAST_INSTANT_TRADE_PAY", None, None)
    assert ledger.pay(trade.trade_no) is trade
    assert ledger.pay(trade.trade_no) is None  # paying twice changes nothing
    return ledger, trade.trade_no


def test_concurrent_alipay_refunds_never_exceed_the_total() -> None:
    ledger, _ = _paid_alipay_trade("10.00")
    outcomes: list[str] = []
    lock = threading.Lock()

    def refund(n: int) -> None:
        biz = {"out_trade_no": "E1", "refund_amount": "1.00", "out_request_no": f"R{n}"}
        try:
            ledger.refund("app", biz)
            result = "ok"
        except AlipayBizError as exc:
            result = exc.sub_code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=refund, args=(n,)) for n in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 10
    assert outcomes.count("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL") == 15
    trade = ledger.find("app", {"out_trade_no": "E1"})
    assert (trade.refunded_fen, trade.status) == (1000, "TRADE_CLOSED")


def test_alipay_refund_number_reused_with_another_amount_is_refused() -> None:
    ledger, _ = _paid_alipay_trade("10.00")
    ledger.refund("app", {"out_trade_no": "E1", "refund_amount": "1.00", "out_request_no": "R"})
    _, _, changed = ledger.refund(
        "app", {"out_trade_no": "E1", "refund_amount": "1.00", "out_request_no": "R"}
    )
    assert changed is False
    with pytest.raises(AlipayBizError, match="INVALID_PARAMETER"):
        ledger.refund("app", {"out_trade_no": "E1", "refund_amount": "2.00", "out_request_no": "R"})


@pytest.mark.parametrize(("num", "percent"), [("4", "0"), ("6", "50")])
def test_alipay_huabei_parameters_are_checked(num: str, percent: str) -> None:
    ledger = AlipayLedger(lambda: NOW)
    biz = {
        "out_trade_no": "E2",
        "subject": "G1",
        "total_amount": "100.00",
        "extend_params": {"hb_fq_num": num, "hb_fq_seller_percent": percent},
    }
    with pytest.raises(AlipayBizError, match="INVALID_PARAMETER"):
        ledger.open("app", biz, "FAST_INSTANT_TRADE_PAY", None, None)


def test_alipay_reopening_an_order_with_another_amount_is_refused() -> None:
    ledger = AlipayLedger(lambda: NOW)
    ledger.open(
        "app", {"out_trade_no": "E3", "subject": "G", "total_amount": "1.00"}, "P", None, None
    )
    with pytest.raises(AlipayBizError, match="CONTEXT_INCONSISTENT"):
        ledger.open(
            "app", {"out_trade_no": "E3", "subject": "G", "total_amount": "2.00"}, "P", None, None
        )


def _native(ledger: WeChatLedger, total: int = 1000) -> str:
    body = {
        "mchid": "m1",
        "appid": "wx1",
        "description": "G1",
        "out_trade_no": "W000001",
        "notify_url": "http://127.0.0.1/n",
        "amount": {"total": total, "currency": "CNY"},
    }
    return ledger.native("m1", body).prepay_id


def test_wechat_refunds_are_scoped_to_the_merchant_and_idempotent() -> None:
    ledger = WeChatLedger(lambda: NOW)
    prepay = _native(ledger)
    assert ledger.pay(prepay) is not None
    body = {
        "out_trade_no": "W000001",
        "out_refund_no": "R1",
        "amount": {"refund": 300, "total": 1000},
    }
    first, created = ledger.refund("m1", body)
    again, created_again = ledger.refund("m1", body)
    assert (created, created_again, again.refund_id) == (True, False, first.refund_id)
    with pytest.raises(WeChatError, match="RESOURCE_NOT_EXISTS"):
        ledger.refund_of("m2", "R1")
    with pytest.raises(WeChatError, match="INVALID_REQUEST"):
        ledger.refund("m1", dict(body, out_refund_no="R2", amount={"refund": 701, "total": 1000}))


def test_wechat_amounts_must_be_positive_integer_fen() -> None:
    ledger = WeChatLedger(lambda: NOW)
    with pytest.raises(WeChatError, match="PARAM_ERROR"):
        _native(ledger, total=0)
