"""Ports of transit settlement: what it keeps (uploaded taps, settled days, the credit line's
draws, debts and their payments, enrolments, the deny list) and the channel it charges."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from open12306.transit.domain import Tap


@dataclass(frozen=True, slots=True)
class SettledDay:
    """What one account's service day was charged so far (first charge plus corrections)."""

    day_reference: str
    account_token: str
    day: date
    amount_fen: int
    journeys: int
    corrections: int


@dataclass(frozen=True, slots=True)
class Draw:
    """One request to the pay-later credit line: collected, or refused with a reason."""

    reference: str
    account_token: str
    day: date
    amount_fen: int
    collected: bool
    reason: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DebtRecord:
    """A debt with its dates: ``paid_at`` is None while it is owed."""

    reference: str
    account_token: str
    amount_fen: int
    created_at: datetime
    paid_at: datetime | None


@dataclass(frozen=True, slots=True)
class DebtPayment:
    """A payment of an account's debts through a payment channel (Alipay, WeChat Pay)."""

    payment_no: str
    account_token: str
    channel: str
    amount_fen: int
    debts: tuple[str, ...]
    state: str  # pending, paid, closed
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Enrolment:
    """An account that asked for a ride credential: its token and age."""

    account_token: str
    account_id: str
    account_created_at: datetime


class TransitStore(Protocol):
    """Durable transit records (``transit.adapters.transit_repo.SqlTransitStore``)."""

    def receive_taps(self, taps: Iterable[Tap]) -> int:
        """Store taps not stored before (by tap id); returns how many were new."""
        ...

    def taps_between(self, start: int, end: int) -> list[Tap]: ...

    def settled(self, day: date) -> list[SettledDay]: ...

    def save_settled(self, day: SettledDay) -> None: ...

    def draw(self, reference: str) -> Draw | None: ...

    def save_draw(self, draw: Draw) -> Draw:
        """Store a draw unless one exists under its reference; returns the stored one."""
        ...

    def drawn(self, account_token: str, first: date, last: date) -> int:
        """Fen collected (less refunds) on the credit line for service days first..last."""
        ...

    def draws(self, account_token: str) -> list[Draw]: ...

    def debts(self, account_token: str) -> list[DebtRecord]:
        """Every debt of the account, paid or not."""
        ...

    def all_outstanding(self) -> list[DebtRecord]: ...

    def set_debt_amount(self, reference: str, amount_fen: int) -> None: ...

    def open_payment(self, account_token: str) -> DebtPayment | None: ...

    def save_payment(self, payment: DebtPayment) -> None: ...

    def enrol(self, enrolment: Enrolment) -> None: ...

    def enrolment(self, account_token: str) -> Enrolment | None: ...

    def account_active(self, account_id: str) -> bool | None:
        """Whether the account may be charged (None: no such account)."""
        ...


class DebtPaymentStore(TransitStore, Protocol):
    """The transit store, able to find a debt payment by its number (for notifications)."""

    def payment(self, payment_no: str) -> DebtPayment | None: ...


class Charger(Protocol):
    """The pay-later (credit) channel: collects an amount from an account's payment method.

    Must be idempotent by ``reference``: asked twice for the same reference it collects once
    and answers the same.
    """

    def charge(self, account_token: str, amount_fen: int, reference: str) -> bool:
        """True when the amount was collected."""
        ...


class DenyListStore(Protocol):
    """Accounts the next gate bundle refuses (ride codes of blocked accounts are rejected)."""

    def add(self, account_token: str) -> None: ...

    def remove(self, account_token: str) -> None: ...

    def accounts(self) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class Debt:
    """An uncollected charge: what an account in arrears owes for one day."""

    reference: str
    account_token: str
    amount_fen: int


class ArrearsStore(Protocol):
    """Debts of accounts whose daily charge failed."""

    def add(self, debt: Debt) -> None: ...

    def outstanding(self, account_token: str) -> list[Debt]: ...

    def clear(self, reference: str) -> None: ...


class RefundingCharger(Charger, Protocol):
    """A charger that can also give back money it collected (``CreditLineCharger``)."""

    def refund(self, account_token: str, amount_fen: int, reference: str) -> None: ...
