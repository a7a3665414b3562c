"""WeChat Pay API v3 as the sandbox plays it (direct merchants, platform public-key mode).

Requests carry ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",
signature="..",timestamp="..",serial_no=".."``, a SHA256withRSA signature over
``METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n`` with the merchant's API key. Every answer
and every callback is signed with the platform key over ``TIMESTAMP\\nNONCE\\nBODY\\n`` in the
``Wechatpay-*`` headers; ``Wechatpay-Serial`` is the platform public key id (``PUB_KEY_ID_...``).
Callbacks carry the event in ``resource``, AES-256-GCM encrypted with the merchant's APIv3 key.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from open12306.payments.adapters.money import fen_to_yuan
from open12306.payments.adapters.sandbox import cashier, keys
from open12306.payments.adapters.sandbox.bodies import BadBody, json_object
from open12306.payments.adapters.sandbox.faults import Faults
from open12306.payments.adapters.sandbox.notifier import Delivery, Notifier, wechat_accepts
from open12306.payments.adapters.sandbox.registry import KnownWeChatMerchant, Registry
from open12306.payments.adapters.sandbox.wechat_ledger import (
    WeChatError,
    WeChatLedger,
    WeChatRefund,
    WeChatTrade,
)

SCHEME = "WECHATPAY2-SHA256-RSA2048"
MAX_CLOCK_SKEW_S = 300
_AUTH_PAIR = re.compile(r'(\w+)="([^"]*)"')
_NONCE_ALPHABET = string.ascii_letters + string.digits


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def _nonce(length: int = 32) -> str:
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))


def encrypt_resource(apiv3_key: str, plaintext: str, associated_data: str) -> dict[str, str]:
    """The ``resource`` object of a callback: AEAD_AES_256_GCM with a 12-character nonce."""
    nonce = _nonce(12)
    sealed = AESGCM(apiv3_key.encode("utf-8")).encrypt(
        nonce.encode("utf-8"), plaintext.encode("utf-8"), associated_data.encode("utf-8")
    )
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(sealed).decode("ascii"),
        "associated_data": associated_data,
        "original_type": associated_data,
        "nonce": nonce,
    }


class WeChatApi:
    """Handles ``/v3/...`` and the WeChat cashier actions."""

    def __init__(
        self,
        ledger: WeChatLedger,
        key: keys.PrivateKey,
        public_key_id: str,
        registry: Registry,
        notifier: Notifier,
        clock: Callable[[], datetime],
        base_url: Callable[[Request], str],
        faults: Faults | None = None,
    ) -> None:
        self.ledger = ledger
        self.faults = faults or Faults()
        self._key = key
        self.public_key_id = public_key_id
        self._registry = registry
        self._notifier = notifier
        self._clock = clock
        self._base_url = base_url

    # ---- signing ---------------------------------------------------------------------------

    def signature_headers(self, body: str) -> dict[str, str]:
        timestamp = str(int(self._clock().timestamp()))
        nonce = _nonce()
        return {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": keys.sign(self._key, f"{timestamp}\n{nonce}\n{body}\n"),
            "Wechatpay-Serial": self.public_key_id,
            "Wechatpay-Signature-Type": SCHEME,
        }

    def _answer(self, status: int, payload: Mapping[str, Any] | None) -> Response:
        text = (
            ""
            if payload is None
            else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        )
        headers = self.signature_headers(text)
        headers["Request-ID"] = uuid.uuid4().hex
        if payload is None:
            return Response(status_code=status, headers=headers)
        return Response(
            text, status_code=status, headers=headers, media_type="application/json; charset=utf-8"
        )

    def _error(self, exc: WeChatError) -> Response:
        return self._answer(exc.status, {"code": exc.code, "message": exc.message})

    async def _authenticate(self, request: Request) -> tuple[KnownWeChatMerchant, bytes]:
        body = await request.body()
        header = request.headers.get("authorization", "")
        if not header.startswith(SCHEME + " "):
            raise WeChatError(401, "SIGN_ERROR", "Authorization 缺失或认证类型错误")
        fields = dict(_AUTH_PAIR.findall(header[len(SCHEME) + 1 :]))
        needed = ("mchid", "nonce_str", "signature", "timestamp", "serial_no")
        if any(not fields.get(name) for name in needed):
            raise WeChatError(401, "SIGN_ERROR", "Authorization 参数不完整")
        known = self._registry.wechat(fields["mchid"])
        if known is None:
            raise WeChatError(401, "SIGN_ERROR", "商户号不存在")
        if fields["serial_no"] != known.merchant.serial_no:
            raise WeChatError(401, "SIGN_ERROR", "商户证书序列号有误")
        stamp = fields["timestamp"]
        if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
            raise WeChatError(401, "SIGN_ERROR", "timestamp 格式错误")
        skew = abs(self._clock().timestamp() - int(stamp))
        if skew > MAX_CLOCK_SKEW_S:
            raise WeChatError(401, "SIGN_ERROR", "timestamp 与系统时间相差过多")
        serial = request.headers.get("wechatpay-serial")
        if serial is not None and serial != self.public_key_id:
            raise WeChatError(400, "PARAM_ERROR", "Wechatpay-Serial 不是有效的平台公钥ID")
        message = (
            f"{request.method}\n{self._signed_path(request)}\n{fields['timestamp']}\n"
            f"{fields['nonce_str']}\n{body.decode('utf-8', 'replace')}\n"
        )
        if not keys.verify(known.public_key, message, fields["signature"]):
            raise WeChatError(401, "SIGN_ERROR", "签名错误")
        return known, body

    @staticmethod
    def _signed_path(request: Request) -> str:
        """The path the client signed: below any mount prefix, with the raw query."""
        raw = request.scope.get("raw_path") or request.url.path.encode("utf-8")
        path = raw.decode("latin-1")
        root = request.scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        query = request.scope.get("query_string", b"").decode("latin-1")
        return f"{path}?{query}" if query else path

    @staticmethod
    def _json(body: bytes) -> dict[str, Any]:
        try:
            return json_object(body, empty=True)
        except BadBody as exc:
            not_object = exc.reason == "not_an_object"
            message = "请求体必须是 JSON 对象" if not_object else "请求体不是合法的 JSON"
            raise WeChatError(400, "PARAM_ERROR", message) from None

    # ---- endpoints -------------------------------------------------------------------------

    async def native(self, request: Request) -> Response:
        try:
            known, body = await self._authenticate(request)
            trade = self.ledger.native(known.merchant.mchid, self._json(body))
        except WeChatError as exc:
            return self._error(exc)
        return self._answer(200, {"code_url": self.cashier_url(request, trade)})

    def cashier_url(self, request: Request, trade: WeChatTrade) -> str:
        return f"{self._base_url(request)}/cashier/wechatpay/{trade.prepay_id}"

    async def query(self, request: Request) -> Response:
        try:
            known, _ = await self._authenticate(request)
            mchid = request.query_params.get("mchid", "")
            if mchid != known.merchant.mchid:
                raise WeChatError(400, "PARAM_ERROR", "mchid 与请求头不一致")
            params = request.path_params
            trade = self.ledger.find(
                mchid, params.get("out_trade_no"), params.get("transaction_id")
            )
        except WeChatError as exc:
            return self._error(exc)
        return self._answer(200, self._transaction(trade))

    async def close(self, request: Request) -> Response:
        try:
            known, body = await self._authenticate(request)
            if self._json(body).get("mchid") != known.merchant.mchid:
                raise WeChatError(400, "PARAM_ERROR", "mchid 与请求头不一致")
            self.ledger.close(known.merchant.mchid, request.path_params["out_trade_no"])
        except WeChatError as exc:
            return self._error(exc)
        return self._answer(204, None)

    async def refund(self, request: Request) -> Response:
        try:
            known, body = await self._authenticate(request)
            if self.faults.should_fail("wechatpay.refund"):
                raise WeChatError(500, "SYSTEM_ERROR", "系统错误")
            refund, created = self.ledger.refund(known.merchant.mchid, self._json(body))
        except WeChatError as exc:
            return self._error(exc)
        if created and refund.notify_url:
            self._callback(
                known,
                refund.notify_url,
                refund.out_trade_no,
                "REFUND.SUCCESS",
                "退款成功",
                "refund",
                self._refund_event(refund),
            )
        return self._answer(200, self._refund(refund))

    async def refund_query(self, request: Request) -> Response:
        try:
            known, _ = await self._authenticate(request)
            refund = self.ledger.refund_of(
                known.merchant.mchid, request.path_params["out_refund_no"]
            )
        except WeChatError as exc:
            return self._error(exc)
        return self._answer(200, self._refund(refund))

    # ---- documents -------------------------------------------------------------------------

    @staticmethod
    def _transaction(trade: WeChatTrade) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "appid": trade.appid,
            "mchid": trade.mchid,
            "out_trade_no": trade.out_trade_no,
            "trade_state": trade.state,
            "trade_state_desc": _STATE_DESC[trade.state],
            "attach": trade.attach or "",
        }
        if trade.transaction_id is not None and trade.success_time is not None:
            doc.update(
                transaction_id=trade.transaction_id,
                trade_type="NATIVE",
                bank_type="OTHERS",
                success_time=_iso(trade.success_time),
                payer={"openid": trade.payer_openid},
                amount={
                    "total": trade.total_fen,
                    "payer_total": trade.total_fen,
                    "currency": "CNY",
                    "payer_currency": "CNY",
                },
            )
        else:
            doc["amount"] = {"total": trade.total_fen, "currency": "CNY"}
        return doc

    @staticmethod
    def _refund(refund: WeChatRefund) -> dict[str, Any]:
        return {
            "refund_id": refund.refund_id,
            "out_refund_no": refund.out_refund_no,
            "transaction_id": refund.transaction_id,
            "out_trade_no": refund.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "success_time": _iso(refund.created_at),
            "create_time": _iso(refund.created_at),
            "status": refund.status,
            "funds_account": "AVAILABLE",
            "amount": {
                "total": refund.total_fen,
                "refund": refund.refund_fen,
                "payer_total": refund.total_fen,
                "payer_refund": refund.refund_fen,
                "settlement_total": refund.total_fen,
                "settlement_refund": refund.refund_fen,
                "discount_refund": 0,
                "currency": "CNY",
            },
        }

    @staticmethod
    def _refund_event(refund: WeChatRefund) -> dict[str, Any]:
        return {
            "mchid": refund.mchid,
            "out_trade_no": refund.out_trade_no,
            "transaction_id": refund.transaction_id,
            "out_refund_no": refund.out_refund_no,
            "refund_id": refund.refund_id,
            "refund_status": refund.status,
            "success_time": _iso(refund.created_at),
            "user_received_account": "支付用户零钱",
            "amount": {
                "total": refund.total_fen,
                "refund": refund.refund_fen,
                "payer_total": refund.total_fen,
                "payer_refund": refund.refund_fen,
            },
        }

    # ---- callbacks -------------------------------------------------------------------------

    def _callback(
        self,
        known: KnownWeChatMerchant,
        url: str,
        trade: str,
        event_type: str,
        summary: str,
        kind: str,
        event: Mapping[str, Any],
    ) -> None:
        plaintext = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        event_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "id": event_id,
            "create_time": _iso(self._clock()),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": encrypt_resource(known.merchant.apiv3_key, plaintext, kind),
        }
        text = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))

        def render() -> tuple[dict[str, str], bytes]:
            headers = self.signature_headers(text)
            headers["Content-Type"] = "application/json; charset=utf-8"
            return headers, text.encode("utf-8")

        self._notifier.submit(
            Delivery(
                id=event_id,
                channel="wechatpay",
                trade=trade,
                url=url,
                render=render,
                accept=wechat_accepts,
            )
        )

    # ---- cashier ---------------------------------------------------------------------------

    def cashier_page(self, request: Request, prepay_id: str) -> Response:
        trade = self.ledger.by_prepay(prepay_id)
        if trade is None:
            return HTMLResponse(cashier.message_page("WeChat Pay", "订单不存在"), 404)
        if trade.state != "NOTPAY":
            return HTMLResponse(cashier.message_page("WeChat Pay", f"Trade state: {trade.state}"))
        base = self._base_url(request)
        return HTMLResponse(
            cashier.cashier_page(
                brand="WeChat Pay",
                title=trade.description,
                amount_yuan=fen_to_yuan(trade.total_fen),
                details=[("Order", trade.out_trade_no), ("Merchant", trade.mchid)],
                pay_action=f"{base}/cashier/wechatpay/{prepay_id}/pay",
                cancel_action=f"{base}/cashier/wechatpay/{prepay_id}/cancel",
            )
        )

    def pay(self, prepay_id: str) -> Response:
        trade = self.ledger.pay(prepay_id)
        if trade is None:
            known_trade = self.ledger.by_prepay(prepay_id)
            status = 404 if known_trade is None else 409
            message = "订单不存在" if known_trade is None else f"Trade state: {known_trade.state}"
            return HTMLResponse(cashier.message_page("WeChat Pay", message), status)
        known = self._registry.wechat(trade.mchid)
        if known is not None:
            self._callback(
                known,
                trade.notify_url,
                trade.out_trade_no,
                "TRANSACTION.SUCCESS",
                "支付成功",
                "transaction",
                self._transaction(trade),
            )
        return HTMLResponse(cashier.message_page("WeChat Pay", "Paid"))

    def cancel(self, prepay_id: str) -> Response:
        # The payer walking away leaves the transaction NOTPAY until the merchant closes it.
        if self.ledger.by_prepay(prepay_id) is None:
            return HTMLResponse(cashier.message_page("WeChat Pay", "订单不存在"), 404)
        return HTMLResponse(cashier.message_page("WeChat Pay", "Cancelled"))


_STATE_DESC = {
    "NOTPAY": "未支付",
    "SUCCESS": "支付成功",
    "REFUND": "转入退款",
    "CLOSED": "已关闭",
}
