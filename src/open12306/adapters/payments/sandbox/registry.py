"""Merchants known to the sandbox, registered at start or through the setup endpoints."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from open12306.adapters.payments.sandbox.config import AlipayApp, WeChatMerchant
from open12306.adapters.payments.sandbox.keys import PublicKey, load_public


@dataclass(frozen=True)
class KnownWeChatMerchant:
    merchant: WeChatMerchant
    public_key: PublicKey


class Registry:
    """Thread-safe maps app_id -> public key and mchid -> merchant."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._alipay: dict[str, PublicKey] = {}
        self._wechat: dict[str, KnownWeChatMerchant] = {}

    def add_alipay(self, app: AlipayApp) -> None:
        if len(app.app_id) < 1 or len(app.app_id) > 32:
            raise ValueError("app_id must be 1..32 characters")
        key = load_public(app.public_key_pem)
        with self._lock:
            self._alipay[app.app_id] = key

    def add_wechat(self, merchant: WeChatMerchant) -> None:
        if len(merchant.apiv3_key.encode("utf-8")) != 32:
            raise ValueError("the APIv3 key must be exactly 32 bytes")
        known = KnownWeChatMerchant(merchant, load_public(merchant.public_key_pem))
        with self._lock:
            self._wechat[merchant.mchid] = known

    def alipay_key(self, app_id: str) -> PublicKey | None:
        with self._lock:
            return self._alipay.get(app_id)

    def wechat(self, mchid: str) -> KnownWeChatMerchant | None:
        with self._lock:
            return self._wechat.get(mchid)

    def alipay_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._alipay)

    def wechat_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._wechat)
