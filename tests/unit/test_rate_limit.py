from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.accounts.domain.rate_limit import Backoff, RateLimit, address_bucket

LIMIT = RateLimit(limit=5, window=900)


def counts_at(
    limit: RateLimit, previous: int, current: int, now: int, later: int
) -> tuple[int, int]:
    """The two counts seen at ``later`` when no failure is added after ``now``."""
    shift = (limit.window_start(later) - limit.window_start(now)) // limit.window
    if shift == 0:
        return previous, current
    if shift == 1:
        return current, 0
    return 0, 0


def test_a_plain_window_allows_up_to_the_limit() -> None:
    start = 9000
    assert LIMIT.window_start(start + 899) == start
    assert LIMIT.allows(0, 4, start + 10)
    assert not LIMIT.allows(0, 5, start + 10)


def test_the_previous_window_weighs_by_what_is_left_of_it() -> None:
    start = 9000
    # 5 failures just before the boundary still block just after it...
    assert not LIMIT.allows(5, 0, start)
    assert LIMIT.retry_after(5, 0, start) == 1
    # ...and 5 + 2 failures block until the previous window's weight falls below 3/5.
    assert not LIMIT.allows(5, 2, start + 300)
    assert LIMIT.retry_after(5, 2, start + 300) == 361 - 300
    assert LIMIT.allows(5, 2, start + 361)


def test_the_boundary_burst_of_a_fixed_window_is_refused() -> None:
    start = 9000
    assert not LIMIT.allows(5, 1, start + 1)


@pytest.mark.parametrize(("limit", "window"), [(0, 10), (3, 0)])
def test_empty_limits_are_rejected(limit: int, window: int) -> None:
    with pytest.raises(ValueError):
        RateLimit(limit, window)


@given(
    limit=st.integers(1, 30),
    window=st.integers(1, 5000),
    previous=st.integers(0, 60),
    current=st.integers(0, 60),
    now=st.integers(0, 10**10),
)
def test_retry_after_is_the_first_allowed_second(
    limit: int, window: int, previous: int, current: int, now: int
) -> None:
    rule = RateLimit(limit, window)
    wait = rule.retry_after(previous, current, now)
    assert wait >= 0
    assert (wait == 0) == rule.allows(previous, current, now)
    assert wait <= 2 * window
    then = now + wait
    assert rule.allows(*counts_at(rule, previous, current, now, then), then)
    if wait:
        before = then - 1
        assert not rule.allows(*counts_at(rule, previous, current, now, before), before)


@given(
    limit=st.integers(1, 30),
    window=st.integers(1, 5000),
    now=st.integers(0, 10**10),
    extra=st.integers(0, 5000),
)
def test_no_more_than_the_limit_fits_in_any_window(
    limit: int, window: int, now: int, extra: int
) -> None:
    """Failures counted only when allowed never exceed the limit inside one fixed window."""
    rule = RateLimit(limit, window)
    previous = current = 0
    start = rule.window_start(now)
    for moment in range(now, now + min(extra, window - (now - start))):
        if rule.allows(previous, current, moment):
            current += 1
    assert current <= limit


# --- backoff --------------------------------------------------------------------------

RULE = Backoff(free=5, base=60, cap=3600, memory=86_400)


def test_five_failures_are_free_then_the_wait_doubles_up_to_the_cap() -> None:
    assert [RULE.wait(n) for n in range(12)] == [
        0, 0, 0, 0, 0, 60, 120, 240, 480, 960, 1920, 3600
    ]  # fmt: skip
    assert RULE.wait(10**9) == 3600


def test_the_wait_counts_from_the_latest_failure_and_a_quiet_memory_forgets() -> None:
    failures = [1000, 1001, 1002, 1003, 1004]
    assert RULE.retry_after(failures, 1004) == 60
    assert RULE.retry_after(failures, 1030) == 34
    assert RULE.retry_after(failures, 1064) == 0
    assert RULE.retry_after([], 5) == 0
    assert RULE.retry_after(failures, 1004 + 86_400) == 0
    # Failures a memory older than the latest no longer count.
    assert RULE.retry_after([0, 1, 2, 3, 90_000], 90_000) == 0


@pytest.mark.parametrize(
    ("free", "base", "cap", "memory"), [(0, 1, 1, 1), (1, 0, 1, 1), (1, 2, 1, 1), (1, 1, 2, 1)]
)
def test_impossible_backoffs_are_rejected(free: int, base: int, cap: int, memory: int) -> None:
    with pytest.raises(ValueError):
        Backoff(free, base, cap, memory)


backoffs = st.builds(
    lambda free, base, cap_steps, spare: Backoff(
        free, base, base << cap_steps, (base << cap_steps) + spare
    ),
    free=st.integers(1, 8),
    base=st.integers(1, 600),
    cap_steps=st.integers(0, 8),
    spare=st.integers(0, 10**6),
)
failure_times = st.lists(st.integers(0, 10**6), max_size=30)


@given(rule=backoffs, failures=failure_times, now=st.integers(0, 3 * 10**6))
def test_backoff_retry_after_is_the_first_allowed_second(
    rule: Backoff, failures: list[int], now: int
) -> None:
    past = [moment for moment in failures if moment <= now]
    wait = rule.retry_after(past, now)
    assert 0 <= wait <= rule.cap
    assert rule.retry_after(past, now + wait) == 0
    if wait:
        assert rule.retry_after(past, now + wait - 1) == 1


@given(rule=backoffs, failures=failure_times.filter(bool), extra=st.integers(0, 10**6))
def test_an_older_failure_never_shortens_the_wait(
    rule: Backoff, failures: list[int], extra: int
) -> None:
    latest = max(failures)
    older = min(extra, latest)
    assert rule.retry_after([*failures, older], latest) >= rule.retry_after(failures, latest)


@given(rule=backoffs, start=st.integers(0, 10**9), tries=st.integers(1, 40))
def test_an_attacker_retrying_as_soon_as_allowed_waits_base_doubling_after_free(
    rule: Backoff, start: int, tries: int
) -> None:
    failures, now, gaps = [start], start, []
    for _ in range(tries):
        wait = rule.retry_after(failures, now)
        if now + wait - failures[0] >= rule.memory:
            break  # the first failures would be forgotten: the streak no longer grows
        gaps.append(wait)
        now += wait
        failures.append(now)
    assert gaps[: rule.free - 1] == [0] * min(len(gaps), rule.free - 1)
    waiting = gaps[rule.free - 1 :]
    assert waiting[:1] in ([], [rule.base])
    assert all(b == min(2 * a, rule.cap) for a, b in pairwise(waiting))


# --- client buckets -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::9", "2001:db8:1:2::/64"),
        ("testclient", "testclient"),
    ],
)
def test_addresses_bucket_as_one_client(address: str, bucket: str) -> None:
    assert address_bucket(address) == bucket


def test_a_long_name_buckets_as_its_hash() -> None:
    bucket = address_bucket("/run/" + "x" * 200)
    assert bucket.startswith("h:") and len(bucket) == 34
    assert bucket == address_bucket("/run/" + "x" * 200) != address_bucket("/run/" + "y" * 200)
