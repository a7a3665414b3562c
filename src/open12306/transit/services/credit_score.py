"""The ride-now-pay-later assessment: score, pay-later yes/no, credit limit, offline limit.

Builds on the score of ``domain.credit`` (start 600, paid days, account age, failed charges,
open arrears) and adds what settlement records beyond it: paid journeys and how debts were
repaid. The rules are in docs/credit.md; the figures live in ``CreditLineRules``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from open12306.shared.errors import DomainError
from open12306.transit.domain.credit import (
    DEFAULT_CREDIT_RULES,
    CreditDecision,
    CreditHistory,
    CreditRules,
    credit_score,
)


@dataclass(frozen=True, slots=True)
class CreditRecord:
    """An account's pay-later history as settlement recorded it, as of the day asked.

    ``failed_charges``: charges that failed within the memory window (365 days);
    ``repaid_on_time``: how many of those were repaid within the grace period;
    ``arrears_fen``: debt still unpaid.
    """

    account_age_days: int
    paid_days: int = 0
    paid_journeys: int = 0
    failed_charges: int = 0
    repaid_on_time: int = 0
    arrears_fen: int = 0

    def __post_init__(self) -> None:
        for name in (
            "account_age_days",
            "paid_days",
            "paid_journeys",
            "failed_charges",
            "repaid_on_time",
            "arrears_fen",
        ):
            if getattr(self, name) < 0:
                raise DomainError(name, "negative", f"{name} must be at least 0")
        if self.repaid_on_time > self.failed_charges:
            raise DomainError("repaid_on_time", "invalid", "more repaid than failed charges")


@dataclass(frozen=True, slots=True)
class CreditLineRules:
    """Figures of the assessment (docs/credit.md explains each)."""

    score: CreditRules = DEFAULT_CREDIT_RULES
    journeys_per_point: int = 10
    journeys_max_points: int = 50
    on_time_failure_points: int = 10
    repay_grace_days: int = 7
    # (minimum score, monthly pay-later credit limit in fen), highest first.
    credit_tiers: tuple[tuple[int, int], ...] = field(
        default=(
            (850, 500_000),
            (750, 200_000),
            (650, 100_000),
            (550, 50_000),
        )
    )


DEFAULT_LINE_RULES = CreditLineRules()


@dataclass(frozen=True, slots=True)
class CreditAssessment:
    """What the score allows: riding on credit, the monthly credit limit, the offline limit."""

    score: int
    pay_later: bool
    credit_limit_fen: int
    offline_limit_fen: int
    reason: str

    def decision(self) -> CreditDecision:
        """The same, as the ``domain.credit`` decision ride credentials are issued from."""
        return CreditDecision(self.score, self.pay_later, self.offline_limit_fen, self.reason)


def line_score(record: CreditRecord, rules: CreditLineRules = DEFAULT_LINE_RULES) -> int:
    """The domain score, with failures repaid on time costing less and paid journeys adding.

    A failure repaid within the grace period counts ``on_time_failure_points`` instead of the
    full ``points_per_failed_charge``; late or unpaid ones count in full.
    """
    base = rules.score
    late = record.failed_charges - record.repaid_on_time
    history = CreditHistory(record.account_age_days, record.paid_days, late, record.arrears_fen)
    score = credit_score(history, base)
    score -= record.repaid_on_time * rules.on_time_failure_points
    journeys = record.paid_journeys // rules.journeys_per_point
    score += min(journeys, rules.journeys_max_points)
    return max(base.floor, min(base.ceiling, score))


def assess(record: CreditRecord, rules: CreditLineRules = DEFAULT_LINE_RULES) -> CreditAssessment:
    """Pay later only with no arrears and a score of at least ``pay_later_min_score``; the
    limits are the highest tiers the score reaches."""
    score = line_score(record, rules)
    if record.arrears_fen > 0:
        return CreditAssessment(score, False, 0, 0, "arrears")
    if score < rules.score.pay_later_min_score:
        return CreditAssessment(score, False, 0, 0, "score_too_low")
    offline = next((fen for least, fen in rules.score.limit_tiers if score >= least), 0)
    credit = next((fen for least, fen in rules.credit_tiers if score >= least), 0)
    return CreditAssessment(score, True, credit, offline, "ok")
