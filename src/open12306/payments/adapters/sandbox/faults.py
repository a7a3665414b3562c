"""Injected channel failures, to exercise a merchant's retries: "fail the next N calls of X".

Keys are API names: Alipay methods (``alipay.trade.refund``) and WeChat Pay operations
(``wechatpay.refund``). A failing Alipay call answers 20000 (``aop.unknow-error``, Alipay's
"service currently unavailable"); a failing WeChat Pay call answers HTTP 500 SYSTEM_ERROR.
"""

from __future__ import annotations

import threading


class Faults:
    """Counts of calls still to fail, per API name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._left: dict[str, int] = {}

    def fail_next(self, api: str, times: int) -> None:
        if times < 0:
            raise ValueError("times must be ≥ 0")
        with self._lock:
            self._left[api] = times

    def should_fail(self, api: str) -> bool:
        """Whether this call of ``api`` fails (and count it)."""
        with self._lock:
            left = self._left.get(api, 0)
            if left <= 0:
                return False
            self._left[api] = left - 1
            return True

    def pending(self) -> dict[str, int]:
        with self._lock:
            return {k: v for k, v in self._left.items() if v > 0}
