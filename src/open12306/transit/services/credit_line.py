"""The pay-later credit line transit charges are drawn on, and each account's credit history.

``CreditLineCharger`` is the ``Charger`` of daily settlement: it draws the day's aggregated
charge on the account's credit line, at most once per reference. A draw is refused when the
account is blocked (deny-listed, or its account is locked or closed), when the assessment
refuses pay-later (arrears, low score), or when it would take the month's draws above the
account's credit limit. ``TransitCredit`` computes the history the score is made from
(docs/credit.md) out of what settlement stored, so every collected or failed charge and
every repaid debt changes it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from open12306.accounts.ports import Account
from open12306.shared.clock import Clock
from open12306.transit.domain.credit_score import (
    DEFAULT_CREDIT_RULES,
    CreditDecision,
    CreditHistory,
    CreditRules,
    credit_decision,
)
from open12306.transit.ports import DenyListStore, Draw, Enrolment, TransitStore


def reference_day(reference: str) -> date:
    """The service day in a charge reference ``<account>/<YYYY-MM-DD>[#n]``."""
    return date.fromisoformat(reference.split("/", 1)[1][:10])


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


class TransitCredit:
    """Credit records and assessments of account tokens (hex), from the transit store."""

    def __init__(
        self,
        store: TransitStore,
        clock: Clock,
        token_of: Callable[[str], bytes] | None = None,
        rules: CreditRules = DEFAULT_CREDIT_RULES,
    ) -> None:
        self.store = store
        self.clock = clock
        self.token_of = token_of
        self.rules = rules

    def record(self, account_token: str, now: datetime) -> CreditHistory:
        enrolment = self.store.enrolment(account_token)
        draws = self.store.draws(account_token)
        if enrolment is not None:
            since = enrolment.account_created_at
        else:  # never enrolled (a token from a local wallet): as old as its first charge
            since = min((d.created_at for d in draws), default=now)
        paid = {d.day for d in draws if d.collected and d.amount_fen > 0}
        window = now - timedelta(days=self.rules.failure_memory_days)
        grace = timedelta(days=self.rules.repay_grace_days)
        debts = [d for d in self.store.debts(account_token) if d.created_at >= window]
        on_time = [d for d in debts if d.paid_at is not None and d.paid_at - d.created_at <= grace]
        owed = sum(d.amount_fen for d in self.store.debts(account_token) if d.paid_at is None)
        journeys = sum(s for s in self._paid_journeys(account_token, draws))
        return CreditHistory(
            account_age_days=max(0, (now - since).days),
            paid_days=len(paid),
            paid_journeys=journeys,
            failed_charges=len(debts),
            repaid_on_time=len(on_time),
            arrears_fen=owed,
        )

    def _paid_journeys(self, account_token: str, draws: list[Draw]) -> list[int]:
        collected = {d.reference.split("#", 1)[0] for d in draws if d.collected}
        days = {reference_day(r) for r in collected}
        counts = []
        for day in sorted(days):
            for settled in self.store.settled(day):
                if settled.account_token == account_token and settled.day_reference in collected:
                    counts.append(settled.journeys)
        return counts

    def assess(self, account_token: str) -> CreditDecision:
        return credit_decision(self.record(account_token, self.clock.now()), self.rules)

    def decision(self, account: Account, now: datetime) -> CreditDecision:
        """The ride credential decision for a logged-in account; enrols its token so that
        later charges know the account (its age, whether it is still active)."""
        if self.token_of is None:
            raise RuntimeError("TransitCredit needs token_of to decide for accounts")
        token = self.token_of(account.id).hex()
        self.store.enrol(Enrolment(token, account.id, account.created_at))
        return credit_decision(self.record(token, now), self.rules)


class CreditLineCharger:
    """Draws daily charges on the pay-later credit line, idempotently by reference."""

    def __init__(
        self, store: TransitStore, deny_list: DenyListStore, credit: TransitCredit, clock: Clock
    ) -> None:
        self.store = store
        self.deny_list = deny_list
        self.credit = credit
        self.clock = clock

    def charge(self, account_token: str, amount_fen: int, reference: str) -> bool:
        known = self.store.draw(reference)
        if known is not None:
            return known.collected
        day = reference_day(reference)
        reason = self._refusal(account_token, amount_fen, day)
        draw = Draw(
            reference, account_token, day, amount_fen, reason == "ok", reason, self.clock.now()
        )
        return self.store.save_draw(draw).collected

    def refund(self, account_token: str, amount_fen: int, reference: str) -> None:
        """Give back ``amount_fen`` drawn before (a correction lowered a day's charge)."""
        day = reference_day(reference)
        draw = Draw(reference, account_token, day, -amount_fen, True, "refund", self.clock.now())
        self.store.save_draw(draw)

    def _refusal(self, account_token: str, amount_fen: int, day: date) -> str:
        if account_token in self.deny_list.accounts():
            return "blocked"
        enrolment = self.store.enrolment(account_token)
        if enrolment is not None and self.store.account_active(enrolment.account_id) is False:
            return "blocked"
        assessment = self.credit.assess(account_token)
        if not assessment.pay_later:
            return assessment.reason
        first, last = month_bounds(day)
        if self.store.drawn(account_token, first, last) + amount_fen > assessment.credit_limit_fen:
            return "credit_limit"
        return "ok"
