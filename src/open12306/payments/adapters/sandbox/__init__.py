"""A protocol-faithful payment sandbox: Alipay's gateway and WeChat Pay API v3, offline."""

from open12306.payments.adapters.sandbox.app import Sandbox, create_sandbox, create_sandbox_app
from open12306.payments.adapters.sandbox.config import AlipayApp, SandboxConfig, WeChatMerchant

__all__ = [
    "AlipayApp",
    "Sandbox",
    "SandboxConfig",
    "WeChatMerchant",
    "create_sandbox",
    "create_sandbox_app",
]
