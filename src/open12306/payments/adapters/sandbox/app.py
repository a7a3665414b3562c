"""The sandbox ASGI app: Alipay gateway, WeChat Pay v3, cashier pages and setup endpoints."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from open12306.payments.adapters.sandbox import bodies, keys
from open12306.payments.adapters.sandbox.alipay_gateway import BUYER_ID, AlipayGateway
from open12306.payments.adapters.sandbox.alipay_ledger import AlipayLedger
from open12306.payments.adapters.sandbox.bodies import BadBody, json_object
from open12306.payments.adapters.sandbox.cashier import paycode_page
from open12306.payments.adapters.sandbox.config import AlipayApp, SandboxConfig, WeChatMerchant
from open12306.payments.adapters.sandbox.faults import Faults
from open12306.payments.adapters.sandbox.notifier import Delivery, Notifier
from open12306.payments.adapters.sandbox.payment_codes import PaymentCode, PaymentCodes
from open12306.payments.adapters.sandbox.registry import RegistrationError, Registry
from open12306.payments.adapters.sandbox.wechat_api import WeChatApi
from open12306.payments.adapters.sandbox.wechat_ledger import WeChatLedger

_log = logging.getLogger(__name__)


def public_key_id(key: keys.PrivateKey) -> str:
    """A stable ``PUB_KEY_ID_...`` for the platform key (digits, as WeChat Pay issues them)."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digits = str(int.from_bytes(hashlib.sha256(der).digest()[:12], "big")).zfill(29)[:29]
    return f"PUB_KEY_ID_01{digits}"


@dataclass
class Sandbox:
    """The running sandbox: its ASGI app and what a merchant must configure to talk to it."""

    app: Starlette
    config: SandboxConfig
    registry: Registry
    notifier: Notifier
    alipay: AlipayGateway
    wechat: WeChatApi
    alipay_public_key_pem: str
    wechat_public_key_pem: str
    codes: PaymentCodes
    faults: Faults

    @property
    def wechat_public_key_id(self) -> str:
        return self.wechat.public_key_id


def _own_keys(config: SandboxConfig) -> tuple[keys.PrivateKey, keys.PrivateKey]:
    if config.key_dir is None:
        return keys.generate_key(), keys.generate_key()
    return (
        keys.load_or_create(config.key_dir / "alipay_private.pem"),
        keys.load_or_create(config.key_dir / "wechatpay_platform_private.pem"),
    )


def create_sandbox(config: SandboxConfig | None = None) -> Sandbox:
    """Build the sandbox. Mount ``sandbox.app`` anywhere (or serve it alone with uvicorn)."""
    config = config or SandboxConfig()
    alipay_key, wechat_key = _own_keys(config)
    registry = Registry()
    for app_entry in config.alipay_apps:
        registry.add_alipay(app_entry)
    for merchant in config.wechat_merchants:
        registry.add_wechat(merchant)
    notifier = Notifier(config.retry_schedule, config.notify_timeout, config.clock)
    codes = PaymentCodes(config.clock)
    faults = Faults()

    def base_url(request: Request) -> str:
        if config.base_url:
            return config.base_url.rstrip("/")
        # root_path carries any mount prefix, so links work when mounted inside another app.
        root = str(request.scope.get("root_path", ""))
        return f"{request.url.scheme}://{request.url.netloc}{root}".rstrip("/")

    alipay = AlipayGateway(
        AlipayLedger(config.clock),
        alipay_key,
        registry,
        notifier,
        config.seller_id,
        config.clock,
        base_url,
        codes,
        faults,
    )
    wechat = WeChatApi(
        WeChatLedger(config.clock),
        wechat_key,
        config.wechat_public_key_id or public_key_id(wechat_key),
        registry,
        notifier,
        config.clock,
        base_url,
        faults,
    )
    sandbox_ref: dict[str, Sandbox] = {}
    routes = _routes(alipay, wechat, registry, notifier, config, sandbox_ref, base_url)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await notifier.aclose()

    app = Starlette(
        routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _http_error}
    )
    sandbox = Sandbox(
        app=app,
        config=config,
        registry=registry,
        notifier=notifier,
        alipay=alipay,
        wechat=wechat,
        alipay_public_key_pem=keys.public_pem(alipay_key),
        wechat_public_key_pem=keys.public_pem(wechat_key),
        codes=codes,
        faults=faults,
    )
    sandbox_ref["sandbox"] = sandbox
    app.state.sandbox = sandbox
    return sandbox


def create_sandbox_app(config: SandboxConfig | None = None) -> Starlette:
    """ASGI app factory (works with ``uvicorn --factory``); the Sandbox is ``app.state.sandbox``.

    Without ``config`` (served alone) the setup API answers the bearer token
    ``OPEN12306_SANDBOX_ADMIN_TOKEN``, else one generated into a file whose path is logged.
    """
    if config is None:
        from open12306.config import Settings
        from open12306.payments.adapters.sandbox.config import sandbox_admin_token

        settings = Settings.from_env()
        config = SandboxConfig(admin_token=sandbox_admin_token(settings))
        if not settings.sandbox_admin_token:
            _log.warning(
                "payment sandbox setup API: send Authorization: Bearer <the token in %s>",
                settings.sandbox_admin_token_path(),
            )
    return create_sandbox(config).app


def _delivery_doc(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "channel": delivery.channel,
        "trade": delivery.trade,
        "url": delivery.url,
        "delivered": delivery.delivered,
        "attempts": [
            {"at": a.at.isoformat(), "status": a.status, "answer": a.answer, "error": a.error}
            for a in delivery.attempts
        ],
    }


def _code_doc(code: PaymentCode) -> dict[str, Any]:
    return {
        "auth_code": code.auth_code,
        "buyer_id": code.buyer_id,
        "expires_at": code.expires_at.isoformat(),
        "needs_password": code.needs_password,
    }


def _error(
    status: int, field: str, reason: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"field": field, "reason": reason, "message": message}}
    return JSONResponse(body, status, headers=headers)


def _bad(exc: BadBody) -> JSONResponse:
    return JSONResponse(exc.to_dict(), 400)


Handler = Callable[[Request], Awaitable[Response]]


def _admin_only(token: str, handler: Handler) -> Handler:
    """``handler`` behind ``Authorization: Bearer <token>`` (401 otherwise)."""
    expected = token.encode("utf-8")

    async def guarded(request: Request) -> Response:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8"), expected
        ):
            return _error(
                401,
                "authorization",
                "unauthenticated",
                "the sandbox setup API needs Authorization: Bearer <the sandbox admin token>",
                {"WWW-Authenticate": 'Bearer realm="paysandbox-setup"'},
            )
        return await handler(request)

    return guarded


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such path, wrong method) as JSON."""
    assert isinstance(exc, HTTPException)
    reason = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    field = "method" if exc.status_code == 405 else "path"
    return _error(exc.status_code, field, reason, str(exc.detail), dict(exc.headers or {}))


def _routes(
    alipay: AlipayGateway,
    wechat: WeChatApi,
    registry: Registry,
    notifier: Notifier,
    config: SandboxConfig,
    sandbox_ref: dict[str, Sandbox],
    base_url: Callable[[Request], str],
) -> list[Route]:
    """The protocol routes (what the real gateways expose, each checking the merchant's
    signature itself) and, with ``config.admin_token``, the setup routes behind it."""
    routes = _protocol_routes(alipay, wechat)
    if config.admin_token:
        setup = _setup_routes(alipay, registry, notifier, config, sandbox_ref, base_url)
        routes += [
            Route(r.path, _admin_only(config.admin_token, r.endpoint), methods=r.methods)
            for r in setup
        ]
    return routes


def _protocol_routes(alipay: AlipayGateway, wechat: WeChatApi) -> list[Route]:
    async def alipay_cashier(request: Request) -> Response:
        return alipay.cashier_page(request, request.path_params["trade"])

    async def alipay_pay(request: Request) -> Response:
        return alipay.pay(request.path_params["trade"])

    async def alipay_cancel(request: Request) -> Response:
        return alipay.cancel(request.path_params["trade"])

    async def wechat_cashier(request: Request) -> Response:
        return wechat.cashier_page(request, request.path_params["trade"])

    async def wechat_pay(request: Request) -> Response:
        return wechat.pay(request.path_params["trade"])

    async def wechat_cancel(request: Request) -> Response:
        return wechat.cancel(request.path_params["trade"])

    async def mint_code(request: Request) -> Response:
        """The buyer's app showing a payment code (what a buyer's phone does, not setup)."""
        try:
            data = json_object(await request.body(), empty=True)
            buyer = bodies.text(data, "buyer_id", required=False, limit=32) or BUYER_ID
            password = bodies.flag(data, "needs_password")
        except BadBody as exc:
            return _bad(exc)
        return JSONResponse(_code_doc(alipay.codes.mint(buyer, needs_password=password)), 201)

    async def code_page(request: Request) -> Response:
        buyer = (request.query_params.get("buyer") or BUYER_ID)[:32]
        password = request.query_params.get("password") in ("1", "true", "yes")
        code = alipay.codes.mint(buyer, needs_password=password)
        expires = code.expires_at.strftime("%Y-%m-%d %H:%M:%S")
        return HTMLResponse(
            paycode_page(code.auth_code, code.buyer_id, expires, code.needs_password)
        )

    return [
        Route("/gateway.do", alipay.gateway, methods=["GET", "POST"]),
        Route("/v3/pay/transactions/native", wechat.native, methods=["POST"]),
        Route("/v3/pay/transactions/out-trade-no/{out_trade_no}", wechat.query, methods=["GET"]),
        Route("/v3/pay/transactions/id/{transaction_id}", wechat.query, methods=["GET"]),
        Route(
            "/v3/pay/transactions/out-trade-no/{out_trade_no}/close", wechat.close, methods=["POST"]
        ),
        Route("/v3/refund/domestic/refunds", wechat.refund, methods=["POST"]),
        Route("/v3/refund/domestic/refunds/{out_refund_no}", wechat.refund_query, methods=["GET"]),
        Route("/cashier/alipay/{trade}", alipay_cashier, methods=["GET"]),
        Route("/cashier/alipay/{trade}/pay", alipay_pay, methods=["POST"]),
        Route("/cashier/alipay/{trade}/cancel", alipay_cancel, methods=["POST"]),
        Route("/cashier/wechatpay/{trade}", wechat_cashier, methods=["GET"]),
        Route("/cashier/wechatpay/{trade}/pay", wechat_pay, methods=["POST"]),
        Route("/cashier/wechatpay/{trade}/cancel", wechat_cancel, methods=["POST"]),
        Route("/sandbox/alipay/paycodes", mint_code, methods=["POST"]),
        Route("/sandbox/alipay/paycode", code_page, methods=["GET"]),
    ]


def _setup_routes(
    alipay: AlipayGateway,
    registry: Registry,
    notifier: Notifier,
    config: SandboxConfig,
    sandbox_ref: dict[str, Sandbox],
    base_url: Callable[[Request], str],
) -> list[Route]:
    async def setup_keys(request: Request) -> Response:
        sandbox = sandbox_ref["sandbox"]
        base = base_url(request)
        return JSONResponse(
            {
                "alipay": {
                    "gateway_url": f"{base}/gateway.do",
                    "alipay_public_key": sandbox.alipay_public_key_pem,
                    "sign_type": "RSA2",
                    "app_ids": registry.alipay_ids(),
                },
                "wechatpay": {
                    "base_url": base,
                    "public_key": sandbox.wechat_public_key_pem,
                    "public_key_id": sandbox.wechat_public_key_id,
                    "mchids": registry.wechat_ids(),
                },
                "retry_schedule": list(config.retry_schedule),
            }
        )

    async def register_alipay(request: Request) -> Response:
        try:
            data = json_object(await request.body())
            app_id = bodies.text(data, "app_id", limit=32)
            app = AlipayApp(app_id, bodies.text(data, "app_public_key"))
            return _register(lambda: registry.add_alipay(app), app_id)
        except BadBody as exc:
            return _bad(exc)

    async def register_wechat(request: Request) -> Response:
        try:
            data = json_object(await request.body())
            mchid = bodies.text(data, "mchid", limit=32)
            merchant = WeChatMerchant(
                mchid,
                bodies.text(data, "serial_no", limit=64),
                bodies.text(data, "public_key"),
                bodies.text(data, "apiv3_key", limit=64),
            )
            return _register(lambda: registry.add_wechat(merchant), mchid)
        except BadBody as exc:
            return _bad(exc)

    async def deliveries(request: Request) -> Response:
        found = notifier.deliveries(request.query_params.get("trade"))
        return JSONResponse([_delivery_doc(d) for d in found])

    async def redeliver(request: Request) -> Response:
        delivery = notifier.redeliver(request.path_params["delivery_id"])
        if delivery is None:
            return _error(404, "delivery_id", "not_found", "no such notification")
        return JSONResponse({"redelivering": delivery.id}, 202)

    async def set_faults(request: Request) -> Response:
        try:
            data = json_object(await request.body())
            api = bodies.text(data, "api", limit=64)
            alipay.faults.fail_next(api, bodies.integer(data, "times", 0, 1_000_000))
        except BadBody as exc:
            return _bad(exc)
        return JSONResponse({"failing": alipay.faults.pending()}, 201)

    routes = [
        Route("/sandbox/keys", setup_keys, methods=["GET"]),
        Route("/sandbox/notifications", deliveries, methods=["GET"]),
        Route("/sandbox/notifications/{delivery_id}/redeliver", redeliver, methods=["POST"]),
    ]
    if config.allow_registration:
        routes += [
            Route("/sandbox/alipay/apps", register_alipay, methods=["POST"]),
            Route("/sandbox/wechatpay/merchants", register_wechat, methods=["POST"]),
            Route("/sandbox/faults", set_faults, methods=["POST"]),
        ]
    return routes


def _register(add: Callable[[], bool], ident: str) -> Response:
    """Run a registry add: 201 when new, 200 when the same credentials were there, 409 when
    the id is taken by other credentials, 400 for unusable ones."""
    try:
        new = add()
    except RegistrationError as exc:
        status = 409 if exc.reason == "already_registered" else 400
        return _error(status, exc.field, exc.reason, str(exc))
    return JSONResponse({"registered": ident, "new": new}, 201 if new else 200)
