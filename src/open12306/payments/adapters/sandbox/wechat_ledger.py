"""The WeChat Pay side's transactions and refunds, in memory, guarded by one lock."""

from __future__ import annotations

import itertools
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_OUT_NO = re.compile(r"^[A-Za-z0-9_\-|*]{6,32}$")
_OUT_REFUND_NO = re.compile(r"^[A-Za-z0-9_\-|*@]{1,64}$")


class WeChatError(Exception):
    """An API error: HTTP status plus WeChat's ``{"code", "message"}`` body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass
class WeChatRefund:
    mchid: str
    refund_id: str
    out_refund_no: str
    out_trade_no: str
    transaction_id: str
    refund_fen: int
    total_fen: int
    created_at: datetime
    notify_url: str | None
    reason: str | None
    status: str = "SUCCESS"


@dataclass
class WeChatTrade:
    """One transaction as the WeChat Pay side keeps it."""

    mchid: str
    appid: str
    out_trade_no: str
    prepay_id: str
    description: str
    total_fen: int
    notify_url: str
    created_at: datetime
    attach: str | None = None
    state: str = "NOTPAY"
    transaction_id: str | None = None
    success_time: datetime | None = None
    payer_openid: str | None = None
    refunds: dict[str, WeChatRefund] = field(default_factory=dict)

    @property
    def refunded_fen(self) -> int:
        return sum(r.refund_fen for r in self.refunds.values())


def _require(body: Mapping[str, Any], name: str) -> Any:
    value = body.get(name)
    if value in (None, ""):
        raise WeChatError(
            400, "PARAM_ERROR", f"输入源“/body/{name}”映射到字段“{name}”必填性规则校验失败"
        )
    return value


def _positive_int(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise WeChatError(400, "PARAM_ERROR", f"{name} 必须为正整数（单位：分）")
    return value


def _optional_text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise WeChatError(400, "PARAM_ERROR", f"{name} 必须为字符串")
    return value


class WeChatLedger:
    """Transactions keyed by (mchid, out_trade_no); refunds by (mchid, out_refund_no)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._trades: dict[tuple[str, str], WeChatTrade] = {}
        self._by_prepay: dict[str, WeChatTrade] = {}
        self._by_transaction: dict[str, WeChatTrade] = {}
        self._refunds: dict[tuple[str, str], WeChatRefund] = {}
        self._seq = itertools.count(1)

    def native(self, mchid: str, body: Mapping[str, Any]) -> WeChatTrade:
        if str(_require(body, "mchid")) != mchid:
            raise WeChatError(400, "INVALID_REQUEST", "请求头中的商户号与请求体中的商户号不一致")
        appid = str(_require(body, "appid"))
        description = str(_require(body, "description"))
        out_trade_no = str(_require(body, "out_trade_no"))
        notify_url = str(_require(body, "notify_url"))
        if not _OUT_NO.match(out_trade_no):
            raise WeChatError(400, "PARAM_ERROR", "out_trade_no 只能是 6-32 位字母、数字、_-|*")
        amount = _require(body, "amount")
        if not isinstance(amount, Mapping):
            raise WeChatError(400, "PARAM_ERROR", "amount 格式错误")
        total = _positive_int(amount.get("total"), "amount.total")
        if amount.get("currency", "CNY") != "CNY":
            raise WeChatError(400, "PARAM_ERROR", "仅支持 CNY")
        now = self._clock()
        with self._lock:
            existing = self._trades.get((mchid, out_trade_no))
            if existing is not None:
                if existing.state in ("SUCCESS", "REFUND"):
                    raise WeChatError(400, "ORDERPAID", "该订单已支付")
                if existing.state == "CLOSED":
                    raise WeChatError(400, "ORDER_CLOSED", "订单已关闭")
                if existing.total_fen != total or existing.description != description:
                    raise WeChatError(400, "INVALID_REQUEST", "201 商户订单号重复")
                return existing
            prepay_id = f"wx{now:%d%H%M%S}{secrets.token_hex(12)}"
            attach = body.get("attach")
            trade = WeChatTrade(
                mchid=mchid,
                appid=appid,
                out_trade_no=out_trade_no,
                prepay_id=prepay_id,
                description=description,
                total_fen=total,
                notify_url=notify_url,
                created_at=now,
                attach=str(attach) if attach else None,
            )
            self._trades[(mchid, out_trade_no)] = trade
            self._by_prepay[prepay_id] = trade
            return trade

    def by_prepay(self, prepay_id: str) -> WeChatTrade | None:
        with self._lock:
            return self._by_prepay.get(prepay_id)

    def find(
        self, mchid: str, out_trade_no: str | None = None, transaction_id: str | None = None
    ) -> WeChatTrade:
        with self._lock:
            if transaction_id:
                trade = self._by_transaction.get(transaction_id)
            else:
                trade = self._trades.get((mchid, out_trade_no or ""))
        if trade is None or trade.mchid != mchid:
            raise WeChatError(404, "ORDER_NOT_EXIST", "订单不存在")
        return trade

    def pay(self, prepay_id: str) -> WeChatTrade | None:
        """The payer confirmed: NOTPAY -> SUCCESS. None when nothing changed."""
        with self._lock:
            trade = self._by_prepay.get(prepay_id)
            if trade is None or trade.state != "NOTPAY":
                return None
            now = self._clock()
            trade.state = "SUCCESS"
            trade.success_time = now
            trade.transaction_id = f"4200{now:%Y%m%d}{next(self._seq):016d}"
            trade.payer_openid = "oSandbox" + secrets.token_hex(10)
            self._by_transaction[trade.transaction_id] = trade
            return trade

    def close(self, mchid: str, out_trade_no: str) -> WeChatTrade:
        trade = self.find(mchid, out_trade_no)
        with self._lock:
            if trade.state in ("SUCCESS", "REFUND"):
                raise WeChatError(400, "ORDERPAID", "订单已支付，不能关闭")
            trade.state = "CLOSED"
            return trade

    def refund(self, mchid: str, body: Mapping[str, Any]) -> tuple[WeChatRefund, bool]:
        """Refund part or all of a paid transaction; the same out_refund_no returns the same
        refund. Returns (refund, created)."""
        out_refund_no = str(_require(body, "out_refund_no"))
        if not _OUT_REFUND_NO.match(out_refund_no):
            raise WeChatError(400, "PARAM_ERROR", "out_refund_no 格式错误")
        amount = _require(body, "amount")
        if not isinstance(amount, Mapping):
            raise WeChatError(400, "PARAM_ERROR", "amount 格式错误")
        refund_fen = _positive_int(amount.get("refund"), "amount.refund")
        total_fen = _positive_int(amount.get("total"), "amount.total")
        trade = self.find(
            mchid, _optional_text(body, "out_trade_no"), _optional_text(body, "transaction_id")
        )
        with self._lock:
            done = self._refunds.get((mchid, out_refund_no))
            if done is not None:
                if done.refund_fen != refund_fen or done.out_trade_no != trade.out_trade_no:
                    raise WeChatError(400, "INVALID_REQUEST", "同一退款单号的请求参数不一致")
                return done, False
            if trade.state not in ("SUCCESS", "REFUND") or trade.transaction_id is None:
                raise WeChatError(400, "INVALID_REQUEST", "订单未支付，不能退款")
            if total_fen != trade.total_fen:
                raise WeChatError(400, "INVALID_REQUEST", "订单金额与原订单不一致")
            if trade.refunded_fen + refund_fen > trade.total_fen:
                raise WeChatError(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
            now = self._clock()
            notify_url = body.get("notify_url")
            reason = body.get("reason")
            refund = WeChatRefund(
                mchid=mchid,
                refund_id=f"5030{now:%Y%m%d}{next(self._seq):016d}",
                out_refund_no=out_refund_no,
                out_trade_no=trade.out_trade_no,
                transaction_id=trade.transaction_id,
                refund_fen=refund_fen,
                total_fen=trade.total_fen,
                created_at=now,
                notify_url=str(notify_url) if notify_url else None,
                reason=str(reason) if reason else None,
            )
            trade.refunds[out_refund_no] = refund
            trade.state = "REFUND"
            self._refunds[(mchid, out_refund_no)] = refund
            return refund, True

    def refund_of(self, mchid: str, out_refund_no: str) -> WeChatRefund:
        with self._lock:
            refund = self._refunds.get((mchid, out_refund_no))
        if refund is None:
            raise WeChatError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return refund
