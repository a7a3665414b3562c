"""Deny lists a gate holds: revoked tickets, blocked accounts and credentials."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DenyLists:
    """Revoked ticket numbers (refunds, changes), blocked account tokens (arrears, fraud) and
    blocked credential serials (a lost phone)."""

    tickets: frozenset[str] = field(default_factory=frozenset)
    accounts: frozenset[bytes] = field(default_factory=frozenset)
    serials: frozenset[int] = field(default_factory=frozenset)

    def blocks_ride(self, account_token: bytes, serial: int) -> bool:
        return account_token in self.accounts or serial in self.serials
