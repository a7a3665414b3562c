"""Merchants known to the sandbox, registered at start or through the setup endpoints."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm

from open12306.payments.adapters.sandbox.config import AlipayApp, WeChatMerchant
from open12306.payments.adapters.sandbox.keys import PublicKey, load_public


@dataclass(frozen=True)
class KnownWeChatMerchant:
    merchant: WeChatMerchant
    public_key: PublicKey


class RegistrationError(ValueError):
    """A registration refused: ``field`` and ``reason`` (``already_registered`` when the id
    is taken by other credentials: a registration never replaces a merchant's keys, since
    whoever could would sign refunds of the merchant's trades)."""

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason


def _id(value: str, field: str) -> str:
    if not 1 <= len(value) <= 32:
        raise RegistrationError(field, "invalid", f"{field} must be 1..32 characters")
    return value


def _public_key(pem: str, field: str) -> PublicKey:
    try:
        return load_public(pem)
    except (ValueError, UnsupportedAlgorithm):
        raise RegistrationError(field, "invalid", f"{field} is not an RSA public key") from None


def _taken(field: str, value: str) -> RegistrationError:
    return RegistrationError(
        field, "already_registered", f"{field} {value} is registered with other credentials"
    )


class Registry:
    """Thread-safe maps app_id -> public key and mchid -> merchant. Adding an id again with
    the same credentials changes nothing (False); with other credentials it is refused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._alipay: dict[str, PublicKey] = {}
        self._wechat: dict[str, KnownWeChatMerchant] = {}

    def add_alipay(self, app: AlipayApp) -> bool:
        """Register an app; True when it is new."""
        app_id = _id(app.app_id, "app_id")
        key = _public_key(app.public_key_pem, "app_public_key")
        with self._lock:
            known = self._alipay.setdefault(app_id, key)
        if known is key:
            return True
        if known.public_numbers() != key.public_numbers():
            raise _taken("app_id", app_id)
        return False

    def add_wechat(self, merchant: WeChatMerchant) -> bool:
        """Register a merchant; True when it is new."""
        mchid = _id(merchant.mchid, "mchid")
        if len(merchant.apiv3_key.encode("utf-8")) != 32:
            raise RegistrationError("apiv3_key", "invalid", "the APIv3 key must be 32 bytes")
        fresh = KnownWeChatMerchant(merchant, _public_key(merchant.public_key_pem, "public_key"))
        with self._lock:
            known = self._wechat.setdefault(mchid, fresh)
        if known is fresh:
            return True
        same = (
            known.merchant.serial_no == merchant.serial_no
            and known.merchant.apiv3_key == merchant.apiv3_key
            and known.public_key.public_numbers() == fresh.public_key.public_numbers()
        )
        if not same:
            raise _taken("mchid", mchid)
        return False

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
