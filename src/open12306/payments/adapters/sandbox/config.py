"""What the sandbox is told at start: who the merchants are, where keys live, how to retry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from open12306.shared.document_keys import load_or_create_secret

if TYPE_CHECKING:
    from open12306.config import Settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_RETRY_SCHEDULE = (0.0, 2.0, 5.0, 30.0, 120.0)


def shanghai_now() -> datetime:
    return datetime.now(SHANGHAI)


@dataclass(frozen=True)
class AlipayApp:
    """A merchant application registered with the Alipay side: its id and RSA public key."""

    app_id: str
    public_key_pem: str


@dataclass(frozen=True)
class WeChatMerchant:
    """A merchant registered with the WeChat Pay side: id, API certificate serial and public
    key (request signatures), and the APIv3 key (callback encryption)."""

    mchid: str
    serial_no: str
    public_key_pem: str
    apiv3_key: str


@dataclass(frozen=True)
class SandboxConfig:
    """Sandbox settings.

    ``base_url`` is how browsers and phones reach the sandbox (used in QR contents); when None it
    is taken from each request. ``key_dir`` keeps the sandbox's own keys across restarts; when
    None fresh keys are generated at start. ``retry_schedule`` is the wait before each delivery
    attempt of a notification, in seconds, counted from the previous attempt.

    ``admin_token`` guards the setup endpoints (``/sandbox/keys``, registrations, faults,
    notification listing and redelivery): they answer only ``Authorization: Bearer
    <admin_token>`` (401 otherwise), and when it is None they are not served at all (404).
    The protocol endpoints (gateway, API v3, cashier, payment codes) are open, as the real
    gateways' are, and check the merchant's signature themselves.
    """

    base_url: str | None = None
    key_dir: Path | None = None
    alipay_apps: Sequence[AlipayApp] = ()
    wechat_merchants: Sequence[WeChatMerchant] = ()
    retry_schedule: Sequence[float] = DEFAULT_RETRY_SCHEDULE
    notify_timeout: float = 5.0
    seller_id: str = "2088000000000001"
    wechat_public_key_id: str | None = None
    allow_registration: bool = True
    admin_token: str | None = field(default=None, repr=False)
    clock: Callable[[], datetime] = field(default=shanghai_now)


def sandbox_admin_token(settings: Settings) -> str:
    """The bearer token of the sandbox's setup API: ``OPEN12306_SANDBOX_ADMIN_TOKEN``, else
    one generated on first use into ``settings.sandbox_admin_token_path()`` (mode 0600)."""
    if settings.sandbox_admin_token:
        return settings.sandbox_admin_token
    return load_or_create_secret(settings.sandbox_admin_token_path()).hex()
