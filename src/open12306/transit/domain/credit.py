"""The ride-now-pay-later credit score: who may ride on credit, and how far offline.

A score from 350 to 950 (the range Sesame Credit uses), starting at 600 for a new account.
Every rule is in docs/credit-score.md; the figures live in ``CreditRules`` so an operator
can tune them. Pure: the caller passes the account's history as counts and amounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from open12306.shared.errors import DomainError


@dataclass(frozen=True, slots=True)
class CreditHistory:
    """What the score is computed from, as of the day it is asked.

    ``paid_days``: service days whose charge was collected; ``failed_charges``: charges that
    failed in the last ``CreditRules.failure_memory_days``; ``arrears_fen``: debt not yet paid.
    """

    account_age_days: int
    paid_days: int = 0
    failed_charges: int = 0
    arrears_fen: int = 0

    def __post_init__(self) -> None:
        for name in ("account_age_days", "paid_days", "failed_charges", "arrears_fen"):
            if getattr(self, name) < 0:
                raise DomainError(name, "negative", f"{name} must be at least 0")


@dataclass(frozen=True, slots=True)
class CreditRules:
    """The score's figures; docs/credit-score.md explains each."""

    floor: int = 350
    ceiling: int = 950
    start: int = 600
    points_per_paid_day: int = 2
    paid_days_max_points: int = 200
    points_per_month_of_age: int = 5
    age_max_points: int = 100
    points_per_failed_charge: int = 40
    failed_max_points: int = 200
    arrears_points: int = 100
    failure_memory_days: int = 365
    pay_later_min_score: int = 550
    # (minimum score, offline credit limit in fen), highest first.
    limit_tiers: tuple[tuple[int, int], ...] = (
        (850, 20_000),
        (750, 10_000),
        (650, 5_000),
        (550, 2_000),
    )


DEFAULT_CREDIT_RULES = CreditRules()


@dataclass(frozen=True, slots=True)
class CreditDecision:
    """The score and what it allows: riding on credit, and the offline limit in fen."""

    score: int
    pay_later: bool
    offline_limit_fen: int
    reason: str


def credit_score(history: CreditHistory, rules: CreditRules = DEFAULT_CREDIT_RULES) -> int:
    """The score in [floor, ceiling]: start + paid days + age − failures − open arrears."""
    score = rules.start
    score += min(history.paid_days * rules.points_per_paid_day, rules.paid_days_max_points)
    months = history.account_age_days // 30
    score += min(months * rules.points_per_month_of_age, rules.age_max_points)
    score -= min(history.failed_charges * rules.points_per_failed_charge, rules.failed_max_points)
    if history.arrears_fen > 0:
        score -= rules.arrears_points
    return max(rules.floor, min(rules.ceiling, score))


def credit_decision(
    history: CreditHistory, rules: CreditRules = DEFAULT_CREDIT_RULES
) -> CreditDecision:
    """Whether the account may ride now and pay later, and its offline limit.

    An account in arrears may not, whatever its score; otherwise the score must reach
    ``pay_later_min_score`` and the limit is the highest tier the score reaches.
    """
    score = credit_score(history, rules)
    if history.arrears_fen > 0:
        return CreditDecision(score, False, 0, "arrears")
    if score < rules.pay_later_min_score:
        return CreditDecision(score, False, 0, "score_too_low")
    limit = next((fen for minimum, fen in rules.limit_tiers if score >= minimum), 0)
    return CreditDecision(score, True, limit, "ok")
