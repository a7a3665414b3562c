"""WeChat Pay API v3 on wechatpayv3, platform public-key mode: Native (QR) pay, query,
refund, refund query, close, and AES-256-GCM callbacks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.utils import load_public_key, rsa_verify

from open12306.payments.adapters.settings import WeChatPaySettings
from open12306.payments.ports import (
    Notification,
    NotificationKind,
    NotificationRejected,
    NotificationReply,
    PaymentError,
    PaymentFlow,
    PaymentOptions,
    PaymentPrompt,
    PaymentStatus,
    RefundResult,
    RefundState,
    TradeState,
)

CHANNEL = "wechatpay"
SCHEME = "WECHATPAY2-SHA256-RSA2048"
_ZONE = ZoneInfo("Asia/Shanghai")
_STATES = {
    "NOTPAY": TradeState.PENDING,
    "USERPAYING": TradeState.PENDING,
    "SUCCESS": TradeState.PAID,
    "REFUND": TradeState.REFUNDED,
    "CLOSED": TradeState.CLOSED,
    "REVOKED": TradeState.CLOSED,
    "PAYERROR": TradeState.CLOSED,
}
_REFUND_STATES = {
    "SUCCESS": RefundState.SUCCEEDED,
    "PROCESSING": RefundState.PROCESSING,
    "CLOSED": RefundState.FAILED,
    "ABNORMAL": RefundState.FAILED,
}
_CALLBACK_HEADERS = ("Signature", "Timestamp", "Nonce", "Serial", "Signature-Type")


def _time(text: object) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None


class WeChatPayProvider:
    """The WeChat Pay channel. ``settings.base_url`` points at the real API or the sandbox.

    ``max_callback_age_s`` bounds how old a callback's signed timestamp may be (replays).
    """

    name = CHANNEL
    flow = PaymentFlow.CHANNEL

    def __init__(
        self,
        settings: WeChatPaySettings,
        *,
        max_callback_age_s: int = 300,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._max_age = max_callback_age_s
        self._now = now
        self._platform_key = load_public_key(settings.platform_public_key_pem)
        self._sdk = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=settings.mchid,
            private_key=settings.private_key_pem,
            cert_serial_no=settings.cert_serial_no,
            appid=settings.appid,
            apiv3_key=settings.apiv3_key,
            notify_url=settings.notify_url,
            public_key=settings.platform_public_key_pem,
            public_key_id=settings.platform_public_key_id,
            timeout=(5, settings.timeout_s),
        )
        # The SDK has no base-URL option; this is the slot every request is built from.
        self._sdk._core._gate_way = settings.base_url.rstrip("/")

    # ---- paying ----------------------------------------------------------------------------

    def prepare(
        self, order_no: str, amount_fen: int, subject: str, options: PaymentOptions
    ) -> PaymentPrompt:
        """Native pay: a ``code_url`` to show as a QR, whatever the page/wap mode asked for."""
        if amount_fen <= 0:
            raise ValueError("amount must be positive")
        if options.instalments is not None:
            raise PaymentError(CHANNEL, "UNSUPPORTED", "instalments are an Alipay (Huabei) feature")
        expire = (
            options.expires_at.astimezone(_ZONE).isoformat(timespec="seconds")
            if options.expires_at
            else None
        )
        status, body = self._call(
            self._sdk.pay,
            description=subject[:127],
            out_trade_no=order_no,
            amount={"total": amount_fen, "currency": "CNY"},
            time_expire=expire,
            pay_type=WeChatPayType.NATIVE,
        )
        self._expect(status, body, 200)
        return PaymentPrompt(CHANNEL, order_no, qr_content=str(body["code_url"]))

    def query(self, order_no: str) -> PaymentStatus:
        status, body = self._call(self._sdk.query, out_trade_no=order_no)
        if status == 404:
            return PaymentStatus(CHANNEL, order_no, TradeState.NOT_FOUND)
        self._expect(status, body, 200)
        amount = body.get("amount") or {}
        return PaymentStatus(
            CHANNEL,
            order_no,
            _STATES.get(str(body.get("trade_state")), TradeState.PENDING),
            amount_fen=amount.get("total"),
            trade_no=body.get("transaction_id"),
            paid_at=_time(body.get("success_time")),
        )

    def refund(
        self, order_no: str, refund_no: str, amount_fen: int, total_fen: int | None = None
    ) -> RefundResult:
        if total_fen is None:
            total_fen = self.query(order_no).amount_fen
            if total_fen is None:
                raise PaymentError(CHANNEL, "ORDER_NOT_EXIST", f"no trade {order_no}")
        status, body = self._call(
            self._sdk.refund,
            out_refund_no=refund_no,
            amount={"refund": amount_fen, "total": total_fen, "currency": "CNY"},
            out_trade_no=order_no,
        )
        self._expect(status, body, 200)
        return self._refund_result(order_no, refund_no, body)

    def refund_status(self, order_no: str, refund_no: str) -> RefundResult:
        status, body = self._call(self._sdk.query_refund, out_refund_no=refund_no)
        if status == 404:
            return RefundResult(CHANNEL, order_no, refund_no, RefundState.NOT_FOUND)
        self._expect(status, body, 200)
        return self._refund_result(order_no, refund_no, body)

    @staticmethod
    def _refund_result(order_no: str, refund_no: str, body: Mapping[str, Any]) -> RefundResult:
        if body.get("out_trade_no") != order_no:
            raise PaymentError(CHANNEL, "MISMATCH", f"refund {refund_no} is not for {order_no}")
        return RefundResult(
            CHANNEL,
            order_no,
            refund_no,
            _REFUND_STATES.get(str(body.get("status")), RefundState.PROCESSING),
            amount_fen=(body.get("amount") or {}).get("refund"),
            refund_id=body.get("refund_id"),
        )

    def close(self, order_no: str) -> None:
        status, body = self._call(self._sdk.close, out_trade_no=order_no)
        self._expect(status, body, 204)

    def _call(self, method: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        try:
            status, text = method(**kwargs)
        except requests.RequestException as exc:
            raise PaymentError(CHANNEL, "NETWORK", str(exc)) from None
        except Exception as exc:  # the SDK raises bare Exception when a response fails to verify
            raise PaymentError(CHANNEL, "RESPONSE_SIGNATURE", str(exc)) from None
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        try:
            body = json.loads(text) if text else {}
        except json.JSONDecodeError:
            body = {"code": "INVALID_RESPONSE", "message": text[:200]}
        return status, body if isinstance(body, dict) else {}

    @staticmethod
    def _expect(status: int, body: Mapping[str, Any], wanted: int) -> None:
        if status != wanted:
            raise PaymentError(
                CHANNEL, str(body.get("code") or status), str(body.get("message") or "")
            )

    # ---- callbacks -------------------------------------------------------------------------

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        lowered = {k.lower(): v for k, v in headers.items()}
        signed = {
            f"Wechatpay-{name}": lowered.get(f"wechatpay-{name.lower()}", "")
            for name in _CALLBACK_HEADERS
        }
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise NotificationRejected(CHANNEL, "body is not UTF-8") from None
        self._check_signature(signed, text)
        result = self._sdk.callback(signed, text)
        if not result:
            raise NotificationRejected(
                CHANNEL, "resource did not decrypt (APIv3 key or ciphertext)"
            )
        resource = result.get("resource")
        if not isinstance(resource, dict) or resource.get("mchid") != self._settings.mchid:
            raise NotificationRejected(CHANNEL, "notification is for another merchant")
        return self._notification(
            str(result.get("id", "")), str(result.get("event_type", "")), resource
        )

    def _check_signature(self, signed: Mapping[str, str], text: str) -> None:
        if signed["Wechatpay-Signature-Type"] != SCHEME:
            raise NotificationRejected(CHANNEL, "unsupported signature type")
        if signed["Wechatpay-Serial"] != self._settings.platform_public_key_id:
            raise NotificationRejected(CHANNEL, "signed by an unknown platform key")
        try:
            age = abs(self._now() - int(signed["Wechatpay-Timestamp"]))
        except ValueError:
            raise NotificationRejected(CHANNEL, "bad timestamp") from None
        if age > self._max_age:
            raise NotificationRejected(CHANNEL, "stale timestamp (replay?)")
        if not rsa_verify(
            signed["Wechatpay-Timestamp"],
            signed["Wechatpay-Nonce"],
            text,
            signed["Wechatpay-Signature"],
            self._platform_key,
        ):
            raise NotificationRejected(CHANNEL, "signature does not verify")

    @staticmethod
    def _notification(event_id: str, event_type: str, res: Mapping[str, Any]) -> Notification:
        amount = res.get("amount") or {}
        try:
            total = int(amount["total"])
            order_no = str(res["out_trade_no"])
            trade_no = str(res["transaction_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise NotificationRejected(CHANNEL, f"malformed resource: {exc}") from None
        if event_type.startswith("REFUND."):
            return Notification(
                channel=CHANNEL,
                kind=NotificationKind.REFUND,
                order_no=order_no,
                trade_no=trade_no,
                state=TradeState.REFUNDED if event_type == "REFUND.SUCCESS" else TradeState.PAID,
                amount_fen=total,
                notification_id=event_id,
                refund_no=res.get("out_refund_no"),
                refund_fen=amount.get("refund"),
                raw=dict(res),
            )
        return Notification(
            channel=CHANNEL,
            kind=NotificationKind.PAYMENT,
            order_no=order_no,
            trade_no=trade_no,
            state=_STATES.get(str(res.get("trade_state")), TradeState.PENDING),
            amount_fen=total,
            notification_id=event_id,
            paid_at=_time(res.get("success_time")),
            raw=dict(res),
        )

    def acknowledge(self, accepted: bool) -> NotificationReply:
        """WeChat Pay stops retrying on 200/204; a 4xx/5xx with a FAIL body asks it to retry."""
        if accepted:
            return NotificationReply(204, "application/json", b"")
        return NotificationReply(400, "application/json", b'{"code":"FAIL","message":"rejected"}')
