"""Sandbox buyers' payment codes (付款码), as the Alipay app shows them for a cashier to scan.

Alipay documents a payment code (``auth_code`` of ``alipay.trade.pay``) as digits beginning
25 to 30, 16 to 24 long; the app shows 18 digits. A code here is minted for a buyer, is valid
for ``lifetime`` (the app refreshes its code every minute), and pays once. A buyer may be set
to confirm with a password, as Alipay asks above a small amount: the pay call then answers
10003 (WAIT_BUYER_PAY) and the trade completes when the buyer confirms.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

CODE_FORMAT = re.compile(r"^(2[5-9]|30)\d{14,22}$")
CODE_LENGTH = 18
DEFAULT_LIFETIME = timedelta(minutes=3)


def well_formed(auth_code: str) -> bool:
    """Whether ``auth_code`` has the documented shape of an Alipay payment code."""
    return CODE_FORMAT.fullmatch(auth_code) is not None


@dataclass(frozen=True)
class PaymentCode:
    """One minted code: whose it is, until when it pays, and whether the buyer must confirm."""

    auth_code: str
    buyer_id: str
    expires_at: datetime
    needs_password: bool = False


class PaymentCodes:
    """Codes minted for sandbox buyers; each is taken at most once."""

    def __init__(
        self, clock: Callable[[], datetime], lifetime: timedelta = DEFAULT_LIFETIME
    ) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._lock = threading.Lock()
        self._codes: dict[str, PaymentCode] = {}

    def mint(self, buyer_id: str, *, needs_password: bool = False) -> PaymentCode:
        """A fresh 18-digit code for ``buyer_id`` (the buyer's earlier codes stop working)."""
        prefix = str(25 + secrets.randbelow(6))
        digits = "".join(str(secrets.randbelow(10)) for _ in range(CODE_LENGTH - 2))
        code = PaymentCode(
            prefix + digits, buyer_id, self._clock() + self._lifetime, needs_password
        )
        with self._lock:
            for old in [c for c, v in self._codes.items() if v.buyer_id == buyer_id]:
                del self._codes[old]
            self._codes[code.auth_code] = code
        return code

    def take(self, auth_code: str) -> PaymentCode | None:
        """The code if it is current (then it is used up); None if unknown, used or expired."""
        with self._lock:
            code = self._codes.pop(auth_code, None)
        if code is None or self._clock() >= code.expires_at:
            return None
        return code
