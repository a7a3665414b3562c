import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.domain.rate_limit import RateLimit

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
