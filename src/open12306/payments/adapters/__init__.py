"""Payment channels (merchant side) and the registry that builds them from settings."""

from __future__ import annotations

from open12306.payments.adapters.settings import PaymentSettings
from open12306.payments.ports import PaymentProvider


def build_providers(settings: PaymentSettings) -> dict[str, PaymentProvider]:
    """One provider per enabled channel, keyed by its name (``alipay``, ``wechatpay``)."""
    providers: dict[str, PaymentProvider] = {}
    if settings.alipay is not None:
        from open12306.payments.adapters.alipay import AlipayProvider

        providers["alipay"] = AlipayProvider(settings.alipay)
    if settings.wechatpay is not None:
        from open12306.payments.adapters.wechatpay import WeChatPayProvider

        providers["wechatpay"] = WeChatPayProvider(settings.wechatpay)
    return providers
