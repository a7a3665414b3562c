"""The ride-now-pay-later credit score: who may ride on credit, the monthly credit limit, and
how far offline.

A score from 350 to 950 (the range Sesame Credit uses), starting at 600 for a new account:
paid service days and account age raise it, failed charges lower it (less when repaid within
the grace period), paid journeys add a little, open arrears cost a fixed amount and stop
pay-later whatever the score. Every rule is in docs/credit.md; the figures live in
``CreditRules`` so an operator can tune them. Pure: the caller passes the account's history as
counts and amounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from open12306.shared.errors import DomainError


@dataclass(frozen=True, slots=True)
class CreditHistory:
    """What the score is computed from, as settlement recorded it on the day it is asked.

    ``paid_days``: service days whose charge was collected; ``paid_journeys``: journeys so
    paid; ``failed_charges``: charges that failed in the last ``CreditRules.failure_memory_days``;
    ``repaid_on_time``: how many of those were repaid within ``CreditRules.repay_grace_days``;
    ``arrears_fen``: debt not yet paid.
    """

    account_age_days: int
    paid_days: int = 0
    failed_charges: int = 0
    arrears_fen: int = 0
    paid_journeys: int = 0
    repaid_on_time: int = 0

    def __post_init__(self) -> None:
        for name in (
            "account_age_days",
            "paid_days",
            "failed_charges",
            "arrears_fen",
            "paid_journeys",
            "repaid_on_time",
        ):
            if getattr(self, name) < 0:
                raise DomainError(name, "negative", f"{name} must be at least 0")
        if self.repaid_on_time > self.failed_charges:
            raise DomainError("repaid_on_time", "invalid", "more repaid than failed charges")


@dataclass(frozen=True, slots=True)
class CreditRules:
    """The score's figures and the limits it gives; docs/credit.md explains each."""

    floor: int = 350
    ceiling: int = 950
    start: int = 600
    points_per_paid_day: int = 2
    paid_days_max_points: int = 200
    points_per_month_of_age: int = 5
    age_max_points: int = 100
    points_per_failed_charge: int = 40
    on_time_failure_points: int = 10
    failed_max_points: int = 200
    arrears_points: int = 100
    journeys_per_point: int = 10
    journeys_max_points: int = 50
    failure_memory_days: int = 365
    repay_grace_days: int = 7
    pay_later_min_score: int = 550
    # (minimum score, offline credit limit in fen), highest first.
    limit_tiers: tuple[tuple[int, int], ...] = (
        (850, 20_000),
        (750, 10_000),
        (650, 5_000),
        (550, 2_000),
    )
    # (minimum score, monthly pay-later credit limit in fen), highest first.
    credit_tiers: tuple[tuple[int, int], ...] = (
        (850, 500_000),
        (750, 200_000),
        (650, 100_000),
        (550, 50_000),
    )


DEFAULT_CREDIT_RULES = CreditRules()


@dataclass(frozen=True, slots=True)
class CreditDecision:
    """The score and what it allows: riding on credit, the offline limit and the monthly credit
    limit, in fen."""

    score: int
    pay_later: bool
    offline_limit_fen: int
    reason: str
    credit_limit_fen: int = 0


def credit_score(history: CreditHistory, rules: CreditRules = DEFAULT_CREDIT_RULES) -> int:
    """The score in [floor, ceiling]: start + paid days + age + paid journeys − failures −
    open arrears. A failure repaid on time costs ``on_time_failure_points``; late or unpaid
    ones cost ``points_per_failed_charge`` each, up to ``failed_max_points``."""
    score = rules.start
    score += min(history.paid_days * rules.points_per_paid_day, rules.paid_days_max_points)
    months = history.account_age_days // 30
    score += min(months * rules.points_per_month_of_age, rules.age_max_points)
    late = history.failed_charges - history.repaid_on_time
    score -= min(late * rules.points_per_failed_charge, rules.failed_max_points)
    score -= history.repaid_on_time * rules.on_time_failure_points
    score += min(history.paid_journeys // rules.journeys_per_point, rules.journeys_max_points)
    if history.arrears_fen > 0:
        score -= rules.arrears_points
    return max(rules.floor, min(rules.ceiling, score))


def credit_decision(
    history: CreditHistory, rules: CreditRules = DEFAULT_CREDIT_RULES
) -> CreditDecision:
    """Whether the account may ride now and pay later, and its limits.

    An account in arrears may not, whatever its score; otherwise the score must reach
    ``pay_later_min_score`` and each limit is the highest tier the score reaches.
    """
    score = credit_score(history, rules)
    if history.arrears_fen > 0:
        return CreditDecision(score, False, 0, "arrears")
    if score < rules.pay_later_min_score:
        return CreditDecision(score, False, 0, "score_too_low")
    offline = next((fen for least, fen in rules.limit_tiers if score >= least), 0)
    credit = next((fen for least, fen in rules.credit_tiers if score >= least), 0)
    return CreditDecision(score, True, offline, "ok", credit)
