"""The slow queue's rule: who submits far above a human's rate, by account and by address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from open12306.sales.domain.slow_queue import SlowQueueRule, SubmissionRates

T0 = datetime(2026, 1, 11, 0, 0, tzinfo=UTC)


def test_an_account_past_its_limit_within_the_window_is_suspect() -> None:
    rates = SubmissionRates(SlowQueueRule(window_seconds=60, max_per_account=3))
    seen = [rates.record("bot", None, T0 + timedelta(seconds=n)) for n in range(5)]
    assert seen == [False, False, False, True, True]


def test_the_window_slides_so_a_human_pace_is_never_suspect() -> None:
    rates = SubmissionRates(SlowQueueRule(window_seconds=60, max_per_account=3))
    seen = [rates.record("human", None, T0 + timedelta(seconds=30 * n)) for n in range(20)]
    assert not any(seen)  # two a minute, every minute


def test_many_accounts_from_one_address_are_suspect_by_the_address() -> None:
    rates = SubmissionRates(SlowQueueRule(max_per_account=10, max_per_address=2))
    seen = [rates.record(f"acct{n}", "203.0.113.9", T0) for n in range(4)]
    assert seen == [False, False, True, True]
    assert rates.record("acct9", "198.51.100.1", T0) is False


def test_addresses_are_not_counted_unless_a_limit_is_set() -> None:
    rates = SubmissionRates(SlowQueueRule(max_per_account=10))
    assert not any(rates.record(f"acct{n}", "127.0.0.1", T0) for n in range(100))


def test_a_switched_off_rule_suspects_nobody() -> None:
    rates = SubmissionRates(SlowQueueRule(max_per_account=1, max_per_address=1, enabled=False))
    assert not any(rates.record("bot", "203.0.113.9", T0) for _ in range(10))


def test_bad_thresholds_are_refused() -> None:
    with pytest.raises(ValueError):
        SlowQueueRule(window_seconds=0)
    with pytest.raises(ValueError):
        SlowQueueRule(max_per_address=0)
