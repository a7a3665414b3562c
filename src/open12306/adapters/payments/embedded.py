"""The payment channels of embedded mode: the sandbox mounted in the server, and merchant
providers (the real SDKs) with generated credentials pointing at it."""

from __future__ import annotations

from open12306.adapters.payments import build_providers
from open12306.adapters.payments.sandbox import SandboxConfig, create_sandbox
from open12306.adapters.payments.sandbox.app import Sandbox
from open12306.adapters.payments.sandbox.demo import MerchantCredentials
from open12306.adapters.payments.settings import PaymentSettings
from open12306.services.payments_port import PaymentProvider

SANDBOX_PATH = "/paysandbox"
NOTIFY_PATH = "/api/v1/payments/notify"


def embedded_channels(public_url: str) -> tuple[Sandbox, dict[str, PaymentProvider]]:
    """A sandbox to mount at ``SANDBOX_PATH`` and providers for ``alipay`` and ``wechatpay``.

    ``public_url`` is where the server is reached (``http://127.0.0.1:8000``): the SDKs call
    the sandbox there and the sandbox posts notifications back to ``NOTIFY_PATH``.
    """
    base = public_url.rstrip("/")
    credentials = MerchantCredentials.generate()
    sandbox = create_sandbox(
        SandboxConfig(
            alipay_apps=[credentials.alipay_app()],
            wechat_merchants=[credentials.wechat_merchant()],
        )
    )
    sandbox_url = base + SANDBOX_PATH
    settings = PaymentSettings(
        alipay=credentials.alipay_settings(sandbox, sandbox_url, f"{base}{NOTIFY_PATH}/alipay"),
        wechatpay=credentials.wechat_settings(
            sandbox, sandbox_url, f"{base}{NOTIFY_PATH}/wechatpay"
        ),
    )
    return sandbox, build_providers(settings)
