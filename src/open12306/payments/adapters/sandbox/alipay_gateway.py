"""The Alipay open-platform gateway (``gateway.do``) as the sandbox plays it.

Requests: every parameter but ``sign`` (and empty ones), sorted by key, joined as ``k=v&...``
(raw values), SHA256withRSA with the app's key -- this is what python-alipay-sdk's ``sign_data``
and Alipay's own SDKs send (``sign_type`` *is* covered on requests). Sync responses:
``{"<method_with_underscores>_response":{...},"sign":"..."}`` where the signature covers the exact
text of the inner object. Notifications: a form POST signed over the sorted ``k=v`` string
without ``sign`` and ``sign_type``, retried until the merchant answers ``success``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from open12306.payments.adapters.money import fen_to_yuan
from open12306.payments.adapters.sandbox import cashier, keys
from open12306.payments.adapters.sandbox.alipay_ledger import (
    AlipayBizError,
    AlipayLedger,
    AlipayTrade,
)
from open12306.payments.adapters.sandbox.bodies import BadBody, form_fields, json_value
from open12306.payments.adapters.sandbox.faults import Faults
from open12306.payments.adapters.sandbox.notifier import Delivery, Notifier, alipay_accepts
from open12306.payments.adapters.sandbox.payment_codes import PaymentCodes, well_formed
from open12306.payments.adapters.sandbox.registry import Registry

BUYER_ID = "2088102177846880"
BUYER_LOGON_ID = "rid***@sandbox.com"
AUTH_CODE_INVALID = "支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款"
PAY_SCENES = ("bar_code", "wave_code")
PAGE_METHODS = {
    "alipay.trade.page.pay": "FAST_INSTANT_TRADE_PAY",
    "alipay.trade.wap.pay": "QUICK_WAP_WAY",
}


def sign_content(params: Mapping[str, str], *, drop_sign_type: bool) -> str:
    """The string Alipay signs: sorted ``k=v`` pairs joined by ``&``, raw values."""
    dropped = {"sign", "sign_type"} if drop_sign_type else {"sign"}
    items = sorted((k, v) for k, v in params.items() if k not in dropped and v != "")
    return "&".join(f"{k}={v}" for k, v in items)


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")


class AlipayGateway:
    """Handles ``/gateway.do`` and the Alipay cashier actions."""

    def __init__(
        self,
        ledger: AlipayLedger,
        key: keys.PrivateKey,
        registry: Registry,
        notifier: Notifier,
        seller_id: str,
        clock: Callable[[], datetime],
        base_url: Callable[[Request], str],
        codes: PaymentCodes | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.ledger = ledger
        self.codes = codes or PaymentCodes(clock)
        self.faults = faults or Faults()
        self._key = key
        self._registry = registry
        self._notifier = notifier
        self._seller_id = seller_id
        self._clock = clock
        self._base_url = base_url

    # ---- sync API -------------------------------------------------------------------------

    async def gateway(self, request: Request) -> Response:
        params: dict[str, str] = dict(request.query_params)
        problem: tuple[str, str] | None = None
        if request.method == "POST":
            try:
                params.update(await _posted_fields(request))
            except BadBody as exc:
                problem = "isv.invalid-parameter", exc.message
        method = params.get("method", "")
        response_key = method.replace(".", "_") + "_response" if method else "error_response"
        problem = problem or self._check_request(params)
        if problem is not None:
            if method in PAGE_METHODS:
                return HTMLResponse(cashier.message_page("Alipay error", problem[1]), 400)
            return self._unsigned(response_key, "40002", "Invalid Arguments", *problem)
        try:
            biz = json_value(params.get("biz_content") or "{}", "biz_content")
        except BadBody:
            biz = None
        if not isinstance(biz, dict):
            return self._unsigned(
                response_key,
                "40002",
                "Invalid Arguments",
                "isv.invalid-biz-content",
                "biz_content 格式错误",
            )
        app_id = params["app_id"]
        if self.faults.should_fail(method):
            unavailable = {
                "code": "20000",
                "msg": "Service Currently Unavailable",
                "sub_code": "aop.unknow-error",
                "sub_msg": "系统繁忙",
            }
            return self._signed(response_key, unavailable)
        try:
            if method in PAGE_METHODS:
                return self._page_pay(request, app_id, params, biz, PAGE_METHODS[method])
            handler = self._handlers().get(method)
            if handler is None:
                return self._unsigned(
                    "error_response",
                    "40002",
                    "Invalid Arguments",
                    "isv.invalid-method",
                    "不存在的方法名",
                )
            return self._signed(response_key, handler(request, app_id, params, biz))
        except AlipayBizError as exc:
            if method in PAGE_METHODS:
                return HTMLResponse(cashier.message_page("Alipay error", exc.sub_msg), 400)
            failure = {
                "code": "40004",
                "msg": "Business Failed",
                "sub_code": exc.sub_code,
                "sub_msg": exc.sub_msg,
            }
            return self._signed(response_key, failure)

    def _check_request(self, params: Mapping[str, str]) -> tuple[str, str] | None:
        app_key = self._registry.alipay_key(params.get("app_id", ""))
        if app_key is None:
            return "isv.invalid-app-id", "无效的AppID参数"
        if not params.get("method"):
            return "isv.missing-method", "缺少方法名参数"
        if params.get("sign_type") != "RSA2":
            return "isv.invalid-signature-type", "无效的签名类型"
        signature = params.get("sign", "")
        if not signature or not keys.verify(
            app_key, sign_content(params, drop_sign_type=False), signature
        ):
            return "isv.invalid-signature", "验签出错"
        return None

    def _handlers(
        self,
    ) -> dict[str, Callable[[Request, str, Mapping[str, str], dict[str, Any]], dict[str, Any]]]:
        return {
            "alipay.trade.query": self._query,
            "alipay.trade.refund": self._refund,
            "alipay.trade.fastpay.refund.query": self._refund_query,
            "alipay.trade.close": self._close,
            "alipay.trade.precreate": self._precreate,
            "alipay.trade.pay": self._bar_code_pay,
        }

    def _page_pay(
        self,
        request: Request,
        app_id: str,
        params: Mapping[str, str],
        biz: dict[str, Any],
        product: str,
    ) -> Response:
        trade = self.ledger.open(
            app_id, biz, product, params.get("notify_url") or None, params.get("return_url") or None
        )
        return HTMLResponse(self._cashier_html(self._base_url(request), trade))

    def _precreate(
        self, request: Request, app_id: str, params: Mapping[str, str], biz: dict[str, Any]
    ) -> dict[str, Any]:
        trade = self.ledger.open(
            app_id, biz, "FACE_TO_FACE_PAYMENT", params.get("notify_url") or None, None
        )
        url = f"{self._base_url(request)}/cashier/alipay/{trade.trade_no}"
        return {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": trade.out_trade_no,
            "qr_code": url,
        }

    def _bar_code_pay(
        self, request: Request, app_id: str, params: Mapping[str, str], biz: dict[str, Any]
    ) -> dict[str, Any]:
        """Face-to-face pay with the buyer's payment code (当面付 条码支付): 10000 when paid,
        10003 while the buyer confirms with a password, 40004 for a bad or stale code."""
        if biz.get("scene") not in PAY_SCENES:
            raise AlipayBizError("ACQ.INVALID_PARAMETER", "scene 只能是 bar_code 或 wave_code")
        auth_code = str(biz.get("auth_code") or "")
        self.ledger.check_open(app_id, biz)
        code = self.codes.take(auth_code) if well_formed(auth_code) else None
        if code is None:
            raise AlipayBizError("ACQ.PAYMENT_AUTH_CODE_INVALID", AUTH_CODE_INVALID)
        trade = self.ledger.open(
            app_id, biz, "FACE_TO_FACE_PAYMENT", params.get("notify_url") or None, None
        )
        total = fen_to_yuan(trade.total_fen)
        body: dict[str, Any] = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": BUYER_LOGON_ID,
            "buyer_user_id": code.buyer_id,
            "total_amount": total,
        }
        if code.needs_password:
            return {"code": "10003", "msg": "Order success pay inprocess"} | body
        paid = self.ledger.pay(trade.trade_no) or trade
        self._notify(paid, self._payment_fields(paid))
        return (
            {"code": "10000", "msg": "Success"}
            | body
            | {
                "receipt_amount": total,
                "invoice_amount": total,
                "buyer_pay_amount": total,
                "point_amount": "0.00",
                "gmt_payment": _stamp(paid.paid_at or self._clock()),
                "fund_bill_list": [{"amount": total, "fund_channel": _fund_channel(paid)}],
            }
        )

    def _query(
        self, request: Request, app_id: str, params: Mapping[str, str], biz: dict[str, Any]
    ) -> dict[str, Any]:
        trade = self.ledger.find(app_id, biz)
        total = fen_to_yuan(trade.total_fen)
        body: dict[str, Any] = {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "trade_status": trade.status,
            "total_amount": total,
        }
        if trade.paid_at is not None:
            body.update(
                buyer_logon_id=BUYER_LOGON_ID,
                buyer_user_id=BUYER_ID,
                buyer_pay_amount=total,
                receipt_amount=total,
                invoice_amount=total,
                point_amount="0.00",
                send_pay_date=_stamp(trade.paid_at),
                fund_bill_list=[{"amount": total, "fund_channel": _fund_channel(trade)}],
            )
        if trade.hb_fq_num is not None:
            body["hb_fq_num"] = trade.hb_fq_num
            body["hb_fq_seller_percent"] = trade.hb_fq_seller_percent
        return body

    def _refund(
        self, request: Request, app_id: str, params: Mapping[str, str], biz: dict[str, Any]
    ) -> dict[str, Any]:
        trade, refund, changed = self.ledger.refund(app_id, biz)
        if changed:
            self._notify(trade, self._refund_fields(trade, refund.out_request_no, refund.at))
        return {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": BUYER_LOGON_ID,
            "buyer_user_id": BUYER_ID,
            "fund_change": "Y" if changed else "N",
            "refund_fee": fen_to_yuan(trade.refunded_fen),
            "gmt_refund_pay": _stamp(refund.at),
        }

    def _refund_query(
        self, request: Request, app_id: str, params: Mapping[str, str], biz: dict[str, Any]
    ) -> dict[str, Any]:
        trade, refund = self.ledger.refund_of(app_id, biz)
        body: dict[str, Any] = {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
        }
        if refund is not None:
            # Alipay answers an unknown refund with Success and no refund fields.
            body.update(
                out_request_no=refund.out_request_no,
                total_amount=fen_to_yuan(trade.total_fen),
                refund_amount=fen_to_yuan(refund.amount_fen),
                refund_status="REFUND_SUCCESS",
                gmt_refund_pay=_stamp(refund.at),
            )
        return body

    def _close(
        self, request: Request, app_id: str, params: Mapping[str, str], biz: dict[str, Any]
    ) -> dict[str, Any]:
        trade = self.ledger.close(app_id, biz)
        return {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
        }

    def _signed(self, response_key: str, body: Mapping[str, Any]) -> Response:
        inner = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        signature = keys.sign(self._key, inner)
        text = f'{{"{response_key}":{inner},"sign":"{signature}"}}'
        return Response(text, media_type="application/json;charset=utf-8")

    @staticmethod
    def _unsigned(response_key: str, code: str, msg: str, sub_code: str, sub_msg: str) -> Response:
        body = {response_key: {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}}
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return Response(text, media_type="application/json;charset=utf-8")

    # ---- cashier --------------------------------------------------------------------------

    def _cashier_html(self, base: str, trade: AlipayTrade) -> str:
        details = [("Order", trade.out_trade_no), ("Alipay trade", trade.trade_no)]
        details += cashier.huabei_rows(trade.hb_fq_num, trade.hb_fq_seller_percent, trade.total_fen)
        return cashier.cashier_page(
            brand="Alipay",
            title=trade.subject,
            amount_yuan=fen_to_yuan(trade.total_fen),
            details=details,
            pay_action=f"{base}/cashier/alipay/{trade.trade_no}/pay",
            cancel_action=f"{base}/cashier/alipay/{trade.trade_no}/cancel",
        )

    def cashier_page(self, request: Request, trade_no: str) -> Response:
        trade = self.ledger.by_trade_no(trade_no)
        if trade is None:
            return HTMLResponse(cashier.message_page("Alipay", "交易不存在"), 404)
        if trade.status != "WAIT_BUYER_PAY":
            return HTMLResponse(cashier.message_page("Alipay", f"Trade status: {trade.status}"))
        return HTMLResponse(self._cashier_html(self._base_url(request), trade))

    def pay(self, trade_no: str) -> Response:
        trade = self.ledger.pay(trade_no)
        if trade is None:
            known = self.ledger.by_trade_no(trade_no)
            status = 404 if known is None else 409
            message = "交易不存在" if known is None else f"Trade status: {known.status}"
            return HTMLResponse(cashier.message_page("Alipay", message), status)
        self._notify(trade, self._payment_fields(trade))
        if trade.return_url:
            return RedirectResponse(self._return_url(trade), status_code=303)
        return HTMLResponse(cashier.message_page("Alipay", "Paid"))

    def cancel(self, trade_no: str) -> Response:
        trade = self.ledger.abandon(trade_no)
        if trade is None:
            return HTMLResponse(cashier.message_page("Alipay", "Nothing to cancel"), 409)
        fields = self._common_fields(trade)
        fields.update(
            trade_status="TRADE_CLOSED", gmt_close=_stamp(trade.closed_at or self._clock())
        )
        self._notify(trade, fields)
        return HTMLResponse(cashier.message_page("Alipay", "Cancelled"))

    def _return_url(self, trade: AlipayTrade) -> str:
        params = {
            "app_id": trade.app_id,
            "auth_app_id": trade.app_id,
            "charset": "utf-8",
            "method": (
                "alipay.trade.wap.pay.return"
                if trade.product_code == "QUICK_WAP_WAY"
                else "alipay.trade.page.pay.return"
            ),
            "out_trade_no": trade.out_trade_no,
            "seller_id": self._seller_id,
            "timestamp": _stamp(self._clock()),
            "total_amount": fen_to_yuan(trade.total_fen),
            "trade_no": trade.trade_no,
            "version": "1.0",
        }
        params["sign"] = keys.sign(self._key, sign_content(params, drop_sign_type=True))
        params["sign_type"] = "RSA2"
        separator = "&" if "?" in (trade.return_url or "") else "?"
        return f"{trade.return_url}{separator}{urlencode(params)}"

    # ---- notifications --------------------------------------------------------------------

    def _common_fields(self, trade: AlipayTrade) -> dict[str, str]:
        now = self._clock()
        fields = {
            "notify_time": _stamp(now),
            "notify_type": "trade_status_sync",
            "notify_id": self._notifier.new_id(f"{now:%Y%m%d%H%M%S}ali"),
            "charset": "utf-8",
            "version": "1.0",
            "app_id": trade.app_id,
            "auth_app_id": trade.app_id,
            "seller_id": self._seller_id,
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "subject": trade.subject,
            "total_amount": fen_to_yuan(trade.total_fen),
            "gmt_create": _stamp(trade.created_at),
        }
        if trade.passback_params:
            fields["passback_params"] = trade.passback_params
        return fields

    def _payment_fields(self, trade: AlipayTrade) -> dict[str, str]:
        total = fen_to_yuan(trade.total_fen)
        fields = self._common_fields(trade)
        fields.update(
            trade_status="TRADE_SUCCESS",
            gmt_payment=_stamp(trade.paid_at or self._clock()),
            buyer_id=BUYER_ID,
            buyer_logon_id=BUYER_LOGON_ID,
            receipt_amount=total,
            invoice_amount=total,
            buyer_pay_amount=total,
            point_amount="0.00",
            fund_bill_list=json.dumps(
                [{"amount": total, "fundChannel": _fund_channel(trade)}], separators=(",", ":")
            ),
        )
        return fields

    def _refund_fields(self, trade: AlipayTrade, request_no: str, at: datetime) -> dict[str, str]:
        fields = self._payment_fields(trade)
        fields.update(
            trade_status=trade.status,
            out_biz_no=request_no,
            refund_fee=fen_to_yuan(trade.refunded_fen),
            gmt_refund=_stamp(at),
        )
        return fields

    def _notify(self, trade: AlipayTrade, fields: dict[str, str]) -> None:
        if not trade.notify_url:
            return
        fields["sign"] = keys.sign(self._key, sign_content(fields, drop_sign_type=True))
        fields["sign_type"] = "RSA2"
        body = urlencode(fields).encode("utf-8")
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        self._notifier.submit(
            Delivery(
                id=fields["notify_id"],
                channel="alipay",
                trade=trade.out_trade_no,
                url=trade.notify_url,
                render=lambda: (dict(headers), body),
                accept=alipay_accepts,
            )
        )


async def _posted_fields(request: Request) -> dict[str, str]:
    """The fields of a POST to the gateway: a url-encoded form, as the SDKs send it."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if kind not in ("", "application/x-www-form-urlencoded"):
        raise BadBody("content-type", "unsupported", "send application/x-www-form-urlencoded")
    return form_fields(body)


def _fund_channel(trade: AlipayTrade) -> str:
    return "PCREDIT" if trade.hb_fq_num is not None else "ALIPAYACCOUNT"
