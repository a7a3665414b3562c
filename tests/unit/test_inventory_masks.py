"""Segment masks, free gaps and the gap-key tables the pools search with."""

from hypothesis import given, settings
from hypothesis import strategies as st

from open12306.inventory.domain import free_gaps, gap_around, range_mask
from open12306.inventory.domain.masks import geometry


def test_range_mask_covers_segments_i_to_j_minus_1() -> None:
    assert range_mask(2, 5) == 0b11100
    assert range_mask(0, 1) == 0b1


def test_free_gaps_lists_maximal_free_runs() -> None:
    assert free_gaps(0b0011000, 7) == [(0, 3), (5, 7)]
    assert free_gaps(0, 4) == [(0, 4)]
    assert free_gaps(0b1111, 4) == []


@st.composite
def mask_and_free_range(draw: st.DrawFn) -> tuple[int, int, int, int]:
    segments = draw(st.integers(1, 12))
    mask = draw(st.integers(0, (1 << segments) - 2))
    gaps = free_gaps(mask, segments)
    a, b = draw(st.sampled_from(gaps))
    i = draw(st.integers(a, b - 1))
    j = draw(st.integers(i + 1, b))
    return mask, segments, i, j


@settings(max_examples=100, deadline=None)
@given(mask_and_free_range())
def test_gap_around_is_the_free_run_holding_the_range(case: tuple[int, int, int, int]) -> None:
    mask, segments, i, j = case
    a, b = gap_around(mask, i, j, segments)
    assert (a, b) in free_gaps(mask, segments)
    assert a <= i < j <= b


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 10), st.data())
def test_candidates_are_exactly_the_gaps_containing_the_pair(
    segments: int, data: st.DataObject
) -> None:
    geo = geometry(segments)
    i = data.draw(st.integers(0, segments - 1))
    j = data.draw(st.integers(i + 1, segments))
    expected = {
        geo.gap_key(a, b)
        for a in range(segments)
        for b in range(a + 1, segments + 1)
        if a <= i and b >= j
    }
    bits = geo.candidates[geo.pair(i, j)]
    assert {k for k in range(bits.bit_length()) if bits >> k & 1} == expected


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10), st.data())
def test_best_key_is_the_minimum_fit_rank(segments: int, data: st.DataObject) -> None:
    geo = geometry(segments)
    i = data.draw(st.integers(0, segments - 1))
    j = data.draw(st.integers(i + 1, segments))
    keys = [k for k in range(geo.width**2) if geo.candidates[geo.pair(i, j)] >> k & 1]
    chosen = data.draw(st.lists(st.sampled_from(keys), min_size=1, unique=True))
    hits = sum(1 << k for k in chosen)
    assert geo.best_key(hits, i, j) == min(chosen, key=lambda k: geo.fit_rank(k, i, j))
