"""The payment channels of embedded mode: the sandbox mounted in the server, and merchant
providers (the real SDKs) with generated credentials pointing at it."""

from __future__ import annotations

from open12306.adapters.document_keys import load_or_create_secret
from open12306.adapters.payments import build_providers
from open12306.adapters.payments.sandbox import SandboxConfig, create_sandbox
from open12306.adapters.payments.sandbox.app import Sandbox
from open12306.adapters.payments.sandbox.demo import MerchantCredentials
from open12306.adapters.payments.settings import PaymentSettings
from open12306.config import Settings
from open12306.services.payments_port import PaymentProvider

SANDBOX_PATH = "/paysandbox"
NOTIFY_PATH = "/api/v1/payments/notify"


def sandbox_admin_token(settings: Settings) -> str:
    """The bearer token of the sandbox's setup API: ``OPEN12306_SANDBOX_ADMIN_TOKEN``, else
    one generated on first use into ``settings.sandbox_admin_token_path()`` (mode 0600)."""
    if settings.sandbox_admin_token:
        return settings.sandbox_admin_token
    return load_or_create_secret(settings.sandbox_admin_token_path()).hex()


def embedded_channels(
    public_url: str, settings: Settings | None = None
) -> tuple[Sandbox, dict[str, PaymentProvider]]:
    """A sandbox to mount at ``SANDBOX_PATH`` and providers for ``alipay`` and ``wechatpay``.

    ``public_url`` is where the server is reached (``http://127.0.0.1:8000``): the SDKs call
    the sandbox there and the sandbox posts notifications back to ``NOTIFY_PATH``. The
    merchant is registered here, in process; the sandbox's setup API answers only the admin
    token of ``settings`` (without settings it is not served).
    """
    base = public_url.rstrip("/")
    credentials = MerchantCredentials.generate()
    sandbox = create_sandbox(
        SandboxConfig(
            alipay_apps=[credentials.alipay_app()],
            wechat_merchants=[credentials.wechat_merchant()],
            admin_token=sandbox_admin_token(settings) if settings is not None else None,
        )
    )
    sandbox_url = base + SANDBOX_PATH
    payment = PaymentSettings(
        alipay=credentials.alipay_settings(sandbox, sandbox_url, f"{base}{NOTIFY_PATH}/alipay"),
        wechatpay=credentials.wechat_settings(
            sandbox, sandbox_url, f"{base}{NOTIFY_PATH}/wechatpay"
        ),
    )
    return sandbox, build_providers(payment)
