"""Merchant credentials for running against the sandbox (demo, tests): generated keys, the
registrations the sandbox needs, and the merchant-side settings that point at it."""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from open12306.payments.adapters.sandbox import keys
from open12306.payments.adapters.sandbox.config import AlipayApp, WeChatMerchant
from open12306.payments.adapters.settings import AlipaySettings, WeChatPaySettings


class PlatformKeys(Protocol):
    """The sandbox's public side, as a merchant configures it (a Sandbox is one)."""

    @property
    def alipay_public_key_pem(self) -> str: ...

    @property
    def wechat_public_key_pem(self) -> str: ...

    @property
    def wechat_public_key_id(self) -> str: ...


@dataclass(frozen=True)
class PublishedKeys:
    """The sandbox's public keys as written down for other processes of the deployment."""

    alipay_public_key_pem: str
    wechat_public_key_pem: str
    wechat_public_key_id: str

    @classmethod
    def of(cls, platform: PlatformKeys) -> PublishedKeys:
        return cls(
            platform.alipay_public_key_pem,
            platform.wechat_public_key_pem,
            platform.wechat_public_key_id,
        )


def write_private_json(path: Path, value: object) -> None:
    """Write ``value`` as JSON to ``path``, readable by its owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(value, out)
    os.replace(temporary, path)


@dataclass(frozen=True)
class MerchantCredentials:
    """Everything a merchant holds for both channels. Private keys never go to the sandbox."""

    alipay_app_id: str
    alipay_private_key_pem: str
    alipay_public_key_pem: str
    wechat_mchid: str
    wechat_appid: str
    wechat_private_key_pem: str
    wechat_public_key_pem: str
    wechat_serial_no: str
    apiv3_key: str

    @classmethod
    def generate(
        cls, app_id: str = "2021000000000001", mchid: str = "1900000001"
    ) -> MerchantCredentials:
        alipay_key, wechat_key = keys.generate_key(), keys.generate_key()
        alphabet = string.ascii_letters + string.digits
        return cls(
            alipay_app_id=app_id,
            alipay_private_key_pem=keys.private_pem(alipay_key),
            alipay_public_key_pem=keys.public_pem(alipay_key),
            wechat_mchid=mchid,
            wechat_appid="wx" + secrets.token_hex(8),
            wechat_private_key_pem=keys.private_pem(wechat_key),
            wechat_public_key_pem=keys.public_pem(wechat_key),
            wechat_serial_no=secrets.token_hex(20).upper(),
            apiv3_key="".join(secrets.choice(alphabet) for _ in range(32)),
        )

    @classmethod
    def load_or_create(cls, path: Path) -> MerchantCredentials:
        """The credentials kept at ``path``, generated and written (0600) when missing, so
        every process of one deployment is the same merchant."""
        if path.exists():
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        fresh = cls.generate()
        write_private_json(path, asdict(fresh))
        return fresh

    def alipay_app(self) -> AlipayApp:
        return AlipayApp(self.alipay_app_id, self.alipay_public_key_pem)

    def wechat_merchant(self) -> WeChatMerchant:
        return WeChatMerchant(
            self.wechat_mchid, self.wechat_serial_no, self.wechat_public_key_pem, self.apiv3_key
        )

    def alipay_settings(
        self,
        sandbox: PlatformKeys,
        sandbox_url: str,
        notify_url: str,
        return_url: str | None = None,
    ) -> AlipaySettings:
        return AlipaySettings(
            app_id=self.alipay_app_id,
            app_private_key_pem=self.alipay_private_key_pem,
            alipay_public_key_pem=sandbox.alipay_public_key_pem,
            gateway_url=f"{sandbox_url.rstrip('/')}/gateway.do",
            notify_url=notify_url,
            return_url=return_url,
        )

    def wechat_settings(
        self, sandbox: PlatformKeys, sandbox_url: str, notify_url: str
    ) -> WeChatPaySettings:
        return WeChatPaySettings(
            mchid=self.wechat_mchid,
            appid=self.wechat_appid,
            private_key_pem=self.wechat_private_key_pem,
            cert_serial_no=self.wechat_serial_no,
            apiv3_key=self.apiv3_key,
            platform_public_key_pem=sandbox.wechat_public_key_pem,
            platform_public_key_id=sandbox.wechat_public_key_id,
            notify_url=notify_url,
            base_url=sandbox_url.rstrip("/"),
        )
