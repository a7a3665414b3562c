"""The payment channels of embedded mode: the sandbox mounted in the server, and merchant
providers (the real SDKs) with generated credentials pointing at it."""

from __future__ import annotations

import json
from dataclasses import asdict

from open12306.config import Settings
from open12306.payments.adapters import build_providers
from open12306.payments.adapters.sandbox import SandboxConfig, create_sandbox
from open12306.payments.adapters.sandbox.app import Sandbox
from open12306.payments.adapters.sandbox.config import sandbox_admin_token
from open12306.payments.adapters.sandbox.demo import (
    MerchantCredentials,
    PlatformKeys,
    PublishedKeys,
    write_private_json,
)
from open12306.payments.adapters.settings import PaymentSettings
from open12306.payments.ports import PaymentProvider

SANDBOX_PATH = "/paysandbox"
NOTIFY_PATH = "/api/v1/payments/notify"
MERCHANT_FILE = "merchant.json"
PLATFORM_FILE = "platform.json"


def embedded_channels(
    public_url: str, settings: Settings | None = None
) -> tuple[Sandbox, dict[str, PaymentProvider]]:
    """A sandbox to mount at ``SANDBOX_PATH`` and providers for ``alipay`` and ``wechatpay``.

    ``public_url`` is where the server is reached (``http://127.0.0.1:8000``): the SDKs call
    the sandbox there and the sandbox posts notifications back to ``NOTIFY_PATH``. The
    merchant is registered here, in process; the sandbox's setup API answers only the admin
    token of ``settings`` (without settings it is not served). With ``settings`` the
    merchant's credentials and the sandbox's keys are kept in ``settings.sandbox_dir()``
    (0600), so a restarted server and the operator commands are the same merchant talking to
    the same gateway keys (``embedded_providers``).
    """
    folder = None if settings is None else settings.sandbox_dir()
    if folder is None:
        credentials = MerchantCredentials.generate()
    else:
        credentials = MerchantCredentials.load_or_create(folder / MERCHANT_FILE)
    sandbox = create_sandbox(
        SandboxConfig(
            alipay_apps=[credentials.alipay_app()],
            wechat_merchants=[credentials.wechat_merchant()],
            admin_token=sandbox_admin_token(settings) if settings is not None else None,
            key_dir=folder,
        )
    )
    if folder is not None:
        write_private_json(folder / PLATFORM_FILE, asdict(PublishedKeys.of(sandbox)))
    return sandbox, _providers(credentials, sandbox, public_url)


def embedded_providers(public_url: str, settings: Settings) -> dict[str, PaymentProvider]:
    """The embedded server's merchant providers, for another process of the deployment (the
    operator commands): the same credentials, calling the sandbox the server mounts at
    ``public_url``. Empty when no server of this deployment has run yet."""
    folder = settings.sandbox_dir()
    merchant, platform = folder / MERCHANT_FILE, folder / PLATFORM_FILE
    if not (merchant.exists() and platform.exists()):
        return {}
    credentials = MerchantCredentials.load_or_create(merchant)
    keys = PublishedKeys(**json.loads(platform.read_text(encoding="utf-8")))
    return _providers(credentials, keys, public_url)


def _providers(
    credentials: MerchantCredentials, platform: PlatformKeys, public_url: str
) -> dict[str, PaymentProvider]:
    base = public_url.rstrip("/")
    sandbox_url = base + SANDBOX_PATH
    payment = PaymentSettings(
        alipay=credentials.alipay_settings(platform, sandbox_url, f"{base}{NOTIFY_PATH}/alipay"),
        wechatpay=credentials.wechat_settings(
            platform, sandbox_url, f"{base}{NOTIFY_PATH}/wechatpay"
        ),
    )
    return build_providers(payment)
