"""Daily settlement of transit and walk-up railway taps through the pay-later channel.

``settle_day`` prices the day (one aggregated charge per account); ``apply_charges`` collects
each through a ``Charger``. A failed charge becomes a debt and puts the account on the deny
list that the next gate bundle carries; ``pay_debt`` collects the debts and lifts the block
once none is left. A late tap makes the day's figures change: ``corrections`` gives the
difference to collect or refund against what was charged before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from open12306.domain.transit import Charge, Operator, Tap, settle_accounts


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


@dataclass(frozen=True, slots=True)
class ChargeOutcome:
    """What happened to one charge: collected, failed (now a debt), or nothing to collect."""

    reference: str
    account_token: str
    amount_fen: int
    collected: bool


@dataclass(frozen=True, slots=True)
class Correction:
    """The change of one day's charge after late taps: >0 to collect, <0 to refund (fen)."""

    reference: str
    account_token: str
    day: date
    delta_fen: int


def settle_day(taps: Iterable[Tap], operators: Mapping[str, Operator], day: date) -> list[Charge]:
    """One aggregated charge per account for service day ``day`` (see domain.transit.settle)."""
    return settle_accounts(taps, operators, day)


def apply_charges(
    charges: Iterable[Charge],
    charger: Charger,
    deny_list: DenyListStore,
    arrears: ArrearsStore,
) -> list[ChargeOutcome]:
    """Collect each charge; a failure records a debt and deny-lists the account.

    Charges of 0 fen are not sent to the channel and count as collected.
    """
    outcomes: list[ChargeOutcome] = []
    for charge in charges:
        account, fen, reference = charge.account_token, charge.amount_fen, charge.reference
        collected = fen == 0 or charger.charge(account, fen, reference)
        if not collected:
            arrears.add(Debt(reference, account, fen))
            deny_list.add(account)
        outcomes.append(ChargeOutcome(reference, account, fen, collected))
    return outcomes


def pay_debt(
    account_token: str, charger: Charger, deny_list: DenyListStore, arrears: ArrearsStore
) -> int:
    """Collect the account's debts (oldest reference first); returns what is still owed.

    When nothing is owed any more the account leaves the deny list.
    """
    for debt in sorted(arrears.outstanding(account_token), key=lambda d: d.reference):
        if charger.charge(account_token, debt.amount_fen, debt.reference):
            arrears.clear(debt.reference)
    owed = sum(d.amount_fen for d in arrears.outstanding(account_token))
    if owed == 0:
        deny_list.remove(account_token)
    return owed


def corrections(previous: Sequence[Charge], current: Sequence[Charge]) -> list[Correction]:
    """Differences between charges made earlier and the same days settled again."""
    before = {c.reference: c for c in previous}
    after = {c.reference: c for c in current}
    changes: list[Correction] = []
    for reference in sorted(before.keys() | after.keys()):
        old, new = before.get(reference), after.get(reference)
        some = new or old
        if some is None:
            continue
        delta = (new.amount_fen if new else 0) - (old.amount_fen if old else 0)
        if delta:
            changes.append(Correction(reference, some.account_token, some.day, delta))
    return changes


class MemoryDenyList:
    """A deny list held in memory (tests, demos)."""

    def __init__(self) -> None:
        self._accounts: set[str] = set()

    def add(self, account_token: str) -> None:
        self._accounts.add(account_token)

    def remove(self, account_token: str) -> None:
        self._accounts.discard(account_token)

    def accounts(self) -> frozenset[str]:
        return frozenset(self._accounts)


class MemoryArrears:
    """Debts held in memory, one per reference (tests, demos)."""

    def __init__(self) -> None:
        self._debts: dict[str, Debt] = {}

    def add(self, debt: Debt) -> None:
        self._debts[debt.reference] = debt

    def outstanding(self, account_token: str) -> list[Debt]:
        return [d for d in self._debts.values() if d.account_token == account_token]

    def clear(self, reference: str) -> None:
        self._debts.pop(reference, None)
