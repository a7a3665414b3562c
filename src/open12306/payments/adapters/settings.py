"""Channel settings for the merchant side, and reading them from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ALIPAY_GATEWAY = "https://openapi.alipay.com/gateway.do"
WECHATPAY_BASE = "https://api.mch.weixin.qq.com"


@dataclass(frozen=True)
class AlipaySettings:
    """An Alipay open-platform application in public-key mode (RSA2)."""

    app_id: str
    app_private_key_pem: str
    alipay_public_key_pem: str
    gateway_url: str = ALIPAY_GATEWAY
    notify_url: str | None = None
    return_url: str | None = None
    timeout_s: float = 15.0


@dataclass(frozen=True)
class WeChatPaySettings:
    """A WeChat Pay direct merchant in platform public-key mode (API v3)."""

    mchid: str
    appid: str
    private_key_pem: str
    cert_serial_no: str
    apiv3_key: str
    platform_public_key_pem: str
    platform_public_key_id: str
    notify_url: str
    base_url: str = WECHATPAY_BASE
    timeout_s: float = 10.0


@dataclass(frozen=True)
class PaymentSettings:
    """The enabled channels; a channel is off when its settings are None."""

    alipay: AlipaySettings | None = None
    wechatpay: WeChatPaySettings | None = None


def _text(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise ValueError(f"{name} is required when its channel is enabled")
    return value


def _pem(env: Mapping[str, str], name: str) -> str:
    """A PEM given inline (``NAME``) or as a file path (``NAME_FILE``)."""
    inline = env.get(name, "")
    if inline:
        return inline
    return Path(_text(env, f"{name}_FILE")).read_text(encoding="ascii")


def payment_settings_from_env(env: Mapping[str, str]) -> PaymentSettings:
    """Read OPEN12306_ALIPAY_* and OPEN12306_WECHATPAY_*; a channel is enabled by its id."""
    alipay = None
    if env.get("OPEN12306_ALIPAY_APP_ID"):
        alipay = AlipaySettings(
            app_id=env["OPEN12306_ALIPAY_APP_ID"],
            app_private_key_pem=_pem(env, "OPEN12306_ALIPAY_APP_PRIVATE_KEY"),
            alipay_public_key_pem=_pem(env, "OPEN12306_ALIPAY_PUBLIC_KEY"),
            gateway_url=env.get("OPEN12306_ALIPAY_GATEWAY_URL") or ALIPAY_GATEWAY,
            notify_url=env.get("OPEN12306_ALIPAY_NOTIFY_URL") or None,
            return_url=env.get("OPEN12306_ALIPAY_RETURN_URL") or None,
        )
    wechatpay = None
    if env.get("OPEN12306_WECHATPAY_MCHID"):
        wechatpay = WeChatPaySettings(
            mchid=env["OPEN12306_WECHATPAY_MCHID"],
            appid=_text(env, "OPEN12306_WECHATPAY_APPID"),
            private_key_pem=_pem(env, "OPEN12306_WECHATPAY_PRIVATE_KEY"),
            cert_serial_no=_text(env, "OPEN12306_WECHATPAY_CERT_SERIAL_NO"),
            apiv3_key=_pem(env, "OPEN12306_WECHATPAY_APIV3_KEY").strip(),
            platform_public_key_pem=_pem(env, "OPEN12306_WECHATPAY_PUBLIC_KEY"),
            platform_public_key_id=_text(env, "OPEN12306_WECHATPAY_PUBLIC_KEY_ID"),
            notify_url=_text(env, "OPEN12306_WECHATPAY_NOTIFY_URL"),
            base_url=env.get("OPEN12306_WECHATPAY_BASE_URL") or WECHATPAY_BASE,
        )
    return PaymentSettings(alipay=alipay, wechatpay=wechatpay)
