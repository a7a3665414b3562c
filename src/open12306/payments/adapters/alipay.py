"""Alipay on python-alipay-sdk: page/wap pay, face-to-face QR, query, refund, close, notify.

Huabei instalments are Alipay with ``extend_params.hb_fq_num`` (3/6/12) and
``hb_fq_seller_percent`` (0: the buyer pays the fee, 100: the merchant does).
"""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig

from open12306.payments.adapters.money import fen_to_yuan, yuan_to_fen
from open12306.payments.adapters.settings import AlipaySettings
from open12306.payments.ports import (
    INSTALMENT_COUNTS,
    Notification,
    NotificationKind,
    NotificationRejected,
    NotificationReply,
    PaymentError,
    PaymentFlow,
    PaymentOptions,
    PaymentPrompt,
    PaymentStatus,
    PayMode,
    RefundResult,
    RefundState,
    TradeState,
)

CHANNEL = "alipay"
_ZONE = ZoneInfo("Asia/Shanghai")
_STATES = {
    "WAIT_BUYER_PAY": TradeState.PENDING,
    "TRADE_SUCCESS": TradeState.PAID,
    "TRADE_FINISHED": TradeState.PAID,
    "TRADE_CLOSED": TradeState.CLOSED,
}


def _sub_message(exc: AliPayException) -> str:
    raw = str(getattr(exc, "_AliPayException__message", "") or exc)
    try:
        answer = json.loads(raw)
    except json.JSONDecodeError:
        return raw[:200]
    for value in answer.values() if isinstance(answer, dict) else ():
        if isinstance(value, dict) and value.get("sub_code"):
            return f"{value['sub_code']}: {value.get('sub_msg', '')}"
    return raw[:200]


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=_ZONE)


class AlipayProvider:
    """The Alipay channel. ``settings.gateway_url`` points at the real gateway or the sandbox."""

    name = CHANNEL
    flow = PaymentFlow.CHANNEL

    def __init__(self, settings: AlipaySettings) -> None:
        self._settings = settings
        self._sdk = AliPay(
            appid=settings.app_id,
            app_notify_url=settings.notify_url,
            app_private_key_string=settings.app_private_key_pem,
            alipay_public_key_string=settings.alipay_public_key_pem,
            sign_type="RSA2",
            config=AliPayConfig(timeout=settings.timeout_s),
        )
        # The SDK only knows the production and Alipay-sandbox URLs; this is its gateway slot.
        self._sdk._gateway = settings.gateway_url

    # ---- paying ----------------------------------------------------------------------------

    def prepare(
        self, order_no: str, amount_fen: int, subject: str, options: PaymentOptions
    ) -> PaymentPrompt:
        if amount_fen <= 0:
            raise ValueError("amount must be positive")
        extra = self._extra(options)
        total = fen_to_yuan(amount_fen)
        return_url = options.return_url or self._settings.return_url
        if options.mode is PayMode.QR:
            body = self._call(
                self._sdk.api_alipay_trade_precreate, subject, order_no, total, **extra
            )
            return PaymentPrompt(CHANNEL, order_no, qr_content=str(body["qr_code"]))
        build = (
            self._sdk.api_alipay_trade_wap_pay
            if options.mode is PayMode.WAP
            else self._sdk.api_alipay_trade_page_pay
        )
        signed = build(subject, order_no, total, return_url=return_url, **extra)
        return PaymentPrompt(
            CHANNEL, order_no, redirect_url=f"{self._settings.gateway_url}?{signed}"
        )

    def pay_with_code(
        self, order_no: str, amount_fen: int, subject: str, auth_code: str
    ) -> PaymentStatus:
        """Face-to-face barcode pay (当面付): charge the buyer's scanned payment code.

        PAID when Alipay answers 10000; PENDING on 10003 (the buyer confirms on the phone;
        the outcome then comes by notification or ``query``); PaymentError otherwise, e.g.
        ``ACQ.PAYMENT_AUTH_CODE_INVALID`` for a bad or expired code.
        """
        if amount_fen <= 0:
            raise ValueError("amount must be positive")
        body = self._call(
            self._sdk.api_alipay_trade_pay,
            order_no,
            "bar_code",
            auth_code,
            subject,
            total_amount=fen_to_yuan(amount_fen),
            product_code="FACE_TO_FACE_PAYMENT",
            accept=("10003",),
        )
        paid = body.get("code") == "10000"
        return PaymentStatus(
            CHANNEL,
            order_no,
            TradeState.PAID if paid else TradeState.PENDING,
            amount_fen=yuan_to_fen(str(body.get("total_amount") or fen_to_yuan(amount_fen))),
            trade_no=body.get("trade_no"),
            paid_at=_time(body.get("gmt_payment")) if paid else None,
        )

    @staticmethod
    def _extra(options: PaymentOptions) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if options.instalments is not None:
            if options.instalments not in INSTALMENT_COUNTS:
                raise ValueError(f"Huabei instalments must be one of {INSTALMENT_COUNTS}")
            extra["extend_params"] = {
                "hb_fq_num": str(options.instalments),
                "hb_fq_seller_percent": "100" if options.seller_pays_fee else "0",
            }
        if options.expires_at is not None:
            extra["time_expire"] = options.expires_at.astimezone(_ZONE).strftime(
                "%Y-%m-%d %H:%M:%S"
            )
        return extra

    def query(self, order_no: str) -> PaymentStatus:
        body = self._call(
            self._sdk.api_alipay_trade_query, out_trade_no=order_no, allow=("ACQ.TRADE_NOT_EXIST",)
        )
        if body.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return PaymentStatus(CHANNEL, order_no, TradeState.NOT_FOUND)
        state = _STATES.get(str(body.get("trade_status")), TradeState.PENDING)
        paid_at = _time(body.get("send_pay_date"))
        if state is TradeState.CLOSED and paid_at is not None:
            state = TradeState.REFUNDED  # Alipay closes a trade once it is fully refunded
        hb = body.get("hb_fq_num")
        return PaymentStatus(
            CHANNEL,
            order_no,
            state,
            amount_fen=yuan_to_fen(str(body["total_amount"])),
            trade_no=body.get("trade_no"),
            paid_at=paid_at,
            instalments=int(hb) if hb else None,
        )

    def refund(
        self, order_no: str, refund_no: str, amount_fen: int, total_fen: int | None = None
    ) -> RefundResult:
        body = self._call(
            self._sdk.api_alipay_trade_refund,
            refund_amount=fen_to_yuan(amount_fen),
            out_trade_no=order_no,
            out_request_no=refund_no,
        )
        return RefundResult(
            CHANNEL, order_no, refund_no, RefundState.SUCCEEDED, amount_fen, body.get("trade_no")
        )

    def refund_status(self, order_no: str, refund_no: str) -> RefundResult:
        body = self._call(
            self._sdk.api_alipay_trade_fastpay_refund_query, refund_no, out_trade_no=order_no
        )
        if not body.get("refund_amount"):
            # Alipay's documented meaning: no refund data means the refund did not happen.
            return RefundResult(CHANNEL, order_no, refund_no, RefundState.NOT_FOUND)
        status = body.get("refund_status")
        state = (
            RefundState.SUCCEEDED if status in (None, "REFUND_SUCCESS") else RefundState.PROCESSING
        )
        return RefundResult(
            CHANNEL,
            order_no,
            refund_no,
            state,
            yuan_to_fen(str(body["refund_amount"])),
            body.get("trade_no"),
        )

    def close(self, order_no: str) -> None:
        # A trade the buyer never opened does not exist at Alipay yet: nothing to close.
        self._call(
            self._sdk.api_alipay_trade_close, out_trade_no=order_no, allow=("ACQ.TRADE_NOT_EXIST",)
        )

    def _call(
        self,
        method: Any,
        *args: Any,
        allow: tuple[str, ...] = (),
        accept: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> dict[str, Any]:
        try:
            body = method(*args, **kwargs)
        except AliPayValidationError:
            raise PaymentError(
                CHANNEL, "invalid-response-signature", "response signature did not verify"
            ) from None
        except AliPayException as exc:
            # The SDK keeps code and raw answer in name-mangled attributes only.
            code = getattr(exc, "_AliPayException__code", None) or "0"
            raise PaymentError(CHANNEL, str(code), _sub_message(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise PaymentError(CHANNEL, "network", str(exc)) from None
        if not isinstance(body, dict):
            raise PaymentError(CHANNEL, "invalid-response", repr(body)[:200])
        code = body.get("code")
        if code != "10000" and code not in accept and body.get("sub_code") not in allow:
            raise PaymentError(
                CHANNEL,
                str(body.get("sub_code") or body.get("code")),
                str(body.get("sub_msg") or body.get("msg")),
            )
        return body

    # ---- notifications ---------------------------------------------------------------------

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise NotificationRejected(CHANNEL, "body is not a UTF-8 form") from None
        fields = dict(pairs)
        if len(fields) != len(pairs):
            raise NotificationRejected(CHANNEL, "repeated form fields")
        signature = fields.pop("sign", "")
        if not signature:
            raise NotificationRejected(CHANNEL, "missing signature")
        if fields.get("sign_type") != "RSA2":
            raise NotificationRejected(
                CHANNEL, f"unsupported sign_type {fields.get('sign_type')!r}"
            )
        try:
            verified = self._sdk.verify(dict(fields), signature)
        except (AliPayException, ValueError, TypeError):
            verified = False
        if not verified:
            raise NotificationRejected(CHANNEL, "signature does not verify")
        if fields.get("app_id") != self._settings.app_id:
            raise NotificationRejected(CHANNEL, "notification is for another app_id")
        return self._notification(fields)

    @staticmethod
    def _notification(fields: Mapping[str, str]) -> Notification:
        try:
            total = yuan_to_fen(fields["total_amount"])
            refunded = yuan_to_fen(fields["refund_fee"]) if fields.get("refund_fee") else None
            order_no, trade_no = fields["out_trade_no"], fields["trade_no"]
            status = fields["trade_status"]
        except (KeyError, ValueError) as exc:
            raise NotificationRejected(CHANNEL, f"malformed notification: {exc}") from None
        state = _STATES.get(status, TradeState.PENDING)
        if refunded is not None:
            # Alipay reports a refund as a trade notification carrying the refunded total.
            kind = NotificationKind.REFUND
            state = TradeState.REFUNDED if refunded >= total else TradeState.PAID
        elif state is TradeState.CLOSED:
            kind = NotificationKind.CLOSED
        else:
            kind = NotificationKind.PAYMENT
        return Notification(
            channel=CHANNEL,
            kind=kind,
            order_no=order_no,
            trade_no=trade_no,
            state=state,
            amount_fen=total,
            notification_id=fields.get("notify_id", ""),
            paid_at=_time(fields.get("gmt_payment")),
            refund_no=fields.get("out_biz_no") if refunded is not None else None,
            refunded_total_fen=refunded,
            raw=dict(fields),
        )

    def acknowledge(self, accepted: bool) -> NotificationReply:
        """Alipay retries until the body is exactly ``success``."""
        if accepted:
            return NotificationReply(200, "text/plain; charset=utf-8", b"success")
        return NotificationReply(400, "text/plain; charset=utf-8", b"fail")
