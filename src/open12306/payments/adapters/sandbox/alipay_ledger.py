"""The Alipay side's trades and refunds, in memory, guarded by one lock."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from open12306.payments.adapters.money import yuan_to_fen

HUABEI_COUNTS = ("3", "6", "12")
HUABEI_SELLER_PERCENTS = ("0", "100")
MAX_TOTAL_FEN = 100_000_000 * 100


class AlipayBizError(Exception):
    """A business failure: answered as code 40004 with this sub_code."""

    def __init__(self, sub_code: str, sub_msg: str) -> None:
        super().__init__(f"{sub_code}: {sub_msg}")
        self.sub_code = sub_code
        self.sub_msg = sub_msg


@dataclass
class AlipayRefund:
    out_request_no: str
    amount_fen: int
    at: datetime


@dataclass
class AlipayTrade:
    """One trade as the Alipay side keeps it."""

    app_id: str
    out_trade_no: str
    trade_no: str
    total_fen: int
    subject: str
    product_code: str
    notify_url: str | None
    return_url: str | None
    created_at: datetime
    status: str = "WAIT_BUYER_PAY"
    paid_at: datetime | None = None
    closed_at: datetime | None = None
    hb_fq_num: str | None = None
    hb_fq_seller_percent: str | None = None
    passback_params: str | None = None
    refunds: dict[str, AlipayRefund] = field(default_factory=dict)

    @property
    def refunded_fen(self) -> int:
        return sum(r.amount_fen for r in self.refunds.values())


def _amount(text: object, name: str) -> int:
    try:
        fen = yuan_to_fen(str(text))
    except ValueError:
        raise AlipayBizError("ACQ.INVALID_PARAMETER", f"{name} 格式错误") from None
    if fen <= 0 or fen > MAX_TOTAL_FEN:
        raise AlipayBizError("ACQ.INVALID_PARAMETER", f"{name} 超出范围")
    return fen


def _huabei(biz: Mapping[str, object]) -> tuple[str | None, str | None]:
    extend = biz.get("extend_params")
    if not isinstance(extend, Mapping) or "hb_fq_num" not in extend:
        return None, None
    num = str(extend["hb_fq_num"])
    percent = str(extend.get("hb_fq_seller_percent", "0"))
    if num not in HUABEI_COUNTS:
        raise AlipayBizError("ACQ.INVALID_PARAMETER", "hb_fq_num 只能是 3、6 或 12")
    if percent not in HUABEI_SELLER_PERCENTS:
        raise AlipayBizError("ACQ.INVALID_PARAMETER", "hb_fq_seller_percent 只能是 0 或 100")
    return num, percent


class AlipayLedger:
    """Trades keyed by (app_id, out_trade_no), also found by trade_no."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._trades: dict[tuple[str, str], AlipayTrade] = {}
        self._by_trade_no: dict[str, AlipayTrade] = {}
        self._seq = itertools.count(1)

    def open(
        self,
        app_id: str,
        biz: Mapping[str, object],
        product_code: str,
        notify_url: str | None,
        return_url: str | None,
    ) -> AlipayTrade:
        """Create the trade the buyer is about to pay, or return the open one for the same
        merchant order when nothing material changed."""
        out_trade_no = str(biz.get("out_trade_no") or "")
        subject = str(biz.get("subject") or "")
        if not out_trade_no or len(out_trade_no) > 64 or not subject:
            raise AlipayBizError("ACQ.INVALID_PARAMETER", "out_trade_no 或 subject 缺失")
        total = _amount(biz.get("total_amount"), "total_amount")
        hb_num, hb_percent = _huabei(biz)
        now = self._clock()
        with self._lock:
            existing = self._trades.get((app_id, out_trade_no))
            if existing is not None:
                if existing.status == "TRADE_SUCCESS":
                    raise AlipayBizError("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
                if existing.status != "WAIT_BUYER_PAY":
                    raise AlipayBizError("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
                if existing.total_fen != total:
                    raise AlipayBizError("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
                return existing
            trade_no = f"{now:%Y%m%d}22001{next(self._seq):015d}"
            passback = biz.get("passback_params")
            trade = AlipayTrade(
                app_id=app_id,
                out_trade_no=out_trade_no,
                trade_no=trade_no,
                total_fen=total,
                subject=subject,
                product_code=product_code,
                notify_url=notify_url,
                return_url=return_url,
                created_at=now,
                hb_fq_num=hb_num,
                hb_fq_seller_percent=hb_percent,
                passback_params=str(passback) if passback else None,
            )
            self._trades[(app_id, out_trade_no)] = trade
            self._by_trade_no[trade_no] = trade
            return trade

    def check_open(self, app_id: str, biz: Mapping[str, object]) -> None:
        """Raise what ``open`` would raise for ``biz``, without opening anything."""
        out_trade_no = str(biz.get("out_trade_no") or "")
        if not out_trade_no or len(out_trade_no) > 64 or not biz.get("subject"):
            raise AlipayBizError("ACQ.INVALID_PARAMETER", "out_trade_no 或 subject 缺失")
        total = _amount(biz.get("total_amount"), "total_amount")
        _huabei(biz)
        with self._lock:
            existing = self._trades.get((app_id, out_trade_no))
        if existing is None:
            return
        if existing.status == "TRADE_SUCCESS":
            raise AlipayBizError("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
        if existing.status != "WAIT_BUYER_PAY":
            raise AlipayBizError("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
        if existing.total_fen != total:
            raise AlipayBizError("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")

    def by_trade_no(self, trade_no: str) -> AlipayTrade | None:
        with self._lock:
            return self._by_trade_no.get(trade_no)

    def find(self, app_id: str, biz: Mapping[str, object]) -> AlipayTrade:
        with self._lock:
            trade = None
            if biz.get("trade_no"):
                trade = self._by_trade_no.get(str(biz["trade_no"]))
                if trade is not None and trade.app_id != app_id:
                    trade = None
            elif biz.get("out_trade_no"):
                trade = self._trades.get((app_id, str(biz["out_trade_no"])))
        if trade is None:
            raise AlipayBizError("ACQ.TRADE_NOT_EXIST", "交易不存在")
        return trade

    def pay(self, trade_no: str) -> AlipayTrade | None:
        """The buyer paid: WAIT_BUYER_PAY -> TRADE_SUCCESS. None when nothing changed."""
        with self._lock:
            trade = self._by_trade_no.get(trade_no)
            if trade is None or trade.status != "WAIT_BUYER_PAY":
                return None
            trade.status = "TRADE_SUCCESS"
            trade.paid_at = self._clock()
            return trade

    def abandon(self, trade_no: str) -> AlipayTrade | None:
        """The buyer gave up at the cashier: the trade closes as if it timed out."""
        with self._lock:
            trade = self._by_trade_no.get(trade_no)
            if trade is None or trade.status != "WAIT_BUYER_PAY":
                return None
            trade.status = "TRADE_CLOSED"
            trade.closed_at = self._clock()
            return trade

    def close(self, app_id: str, biz: Mapping[str, object]) -> AlipayTrade:
        trade = self.find(app_id, biz)
        with self._lock:
            if trade.status == "TRADE_CLOSED" and trade.paid_at is None:
                return trade
            if trade.status != "WAIT_BUYER_PAY":
                raise AlipayBizError("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            trade.status = "TRADE_CLOSED"
            trade.closed_at = self._clock()
            return trade

    def refund(
        self, app_id: str, biz: Mapping[str, object]
    ) -> tuple[AlipayTrade, AlipayRefund, bool]:
        """Refund part or all of a paid trade; the same out_request_no is answered again
        without moving money (fund_change N). Returns (trade, refund, fund_changed)."""
        trade = self.find(app_id, biz)
        amount = _amount(biz.get("refund_amount"), "refund_amount")
        request_no = str(biz.get("out_request_no") or trade.out_trade_no)
        with self._lock:
            done = trade.refunds.get(request_no)
            if done is not None:
                if done.amount_fen != amount:
                    raise AlipayBizError("ACQ.INVALID_PARAMETER", "同一退款请求号的金额不一致")
                return trade, done, False
            if trade.paid_at is None or trade.status not in ("TRADE_SUCCESS", "TRADE_CLOSED"):
                raise AlipayBizError("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            if trade.refunded_fen + amount > trade.total_fen:
                raise AlipayBizError("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
            refund = AlipayRefund(request_no, amount, self._clock())
            trade.refunds[request_no] = refund
            if trade.refunded_fen == trade.total_fen:
                trade.status = "TRADE_CLOSED"
                trade.closed_at = refund.at
            return trade, refund, True

    def refund_of(
        self, app_id: str, biz: Mapping[str, object]
    ) -> tuple[AlipayTrade, AlipayRefund | None]:
        trade = self.find(app_id, biz)
        request_no = str(biz.get("out_request_no") or "")
        with self._lock:
            return trade, trade.refunds.get(request_no)
