"""The search read model's precomputed parts: itineraries computed ahead equal those computed
on the spot, counts follow sales, and the HTTP answer cache keeps its staleness bound."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from open12306.bootstrap import Container, build
from open12306.bootstrap.tasks import load_demo
from open12306.config import Settings
from open12306.http.app import SearchCache
from open12306.inventory.domain import Request
from open12306.inventory.domain.seats import SeatClass
from open12306.search.services.itineraries import ItineraryWarmer
from open12306.search.services.query import parse_search
from open12306.search.services.search import SearchService

pytestmark = pytest.mark.operator_day

CITIES = ("北京", "上海", "南京", "杭州", "济南", "徐州", "天津", "苏州", "武汉", "郑州")


def _container(db_url: str) -> Container:
    settings = replace(Settings.from_env(), database_url=db_url)
    load_demo(settings, seed=11, trains=600, fill=0.0, days=0, force=True)
    return build(settings)


def _codes(container: Container, city: str) -> frozenset[str]:
    return frozenset(s.code for s in container.search.resolve(city, "from"))


def _first_second_class(answer: dict[str, Any]) -> tuple[dict[str, Any], int]:
    row = answer["trains"][0]
    second = next(c for c in row["classes"] if c["class"] == "second")
    return row, second["remaining"]


def test_precomputed_answers_equal_direct_ones(db_url: str) -> None:
    container = _container(db_url)
    today = container.window.today()
    warmed = CITIES[:3]  # the warmer's pass over every day; the property covers all CITIES
    pairs = [(_codes(container, a), _codes(container, b)) for a in warmed for b in warmed if a != b]
    book, bounds = container.search.itineraries, container.window.bounds
    warmer = ItineraryWarmer(book, bounds, lambda: pairs, yield_factor=0.0)
    assert warmer.warm_once() == len(pairs) * container.settings.presale_days
    assert warmer.warm_once() == 0  # all held: a second pass searches nothing

    @hsettings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.sampled_from(CITIES),
        st.sampled_from(CITIES),
        st.integers(0, container.settings.presale_days - 1),
        st.booleans(),
        st.sampled_from(("depart", "arrive", "duration", "price")),
    )
    def same(origin: str, destination: str, offset: int, transfers: bool, sort: str) -> None:
        if origin == destination:
            return
        day = today + timedelta(days=offset)
        book = container.search.itineraries
        held = book.get(_codes(container, origin), _codes(container, destination), day)
        direct = book.compute(_codes(container, origin), _codes(container, destination), day)
        assert held == direct
        params = {
            "from": origin,
            "to": destination,
            "date": day.isoformat(),
            "transfers": "1" if transfers else "0",
            "sort": sort,
        }
        query = parse_search(params)
        fresh = SearchService(container.read_model, container.window)
        assert container.search.search(query) == fresh.search(query)

    same()


def test_counts_follow_sales_through_the_precomputed_rows(db_url: str) -> None:
    container = _container(db_url)
    boarding = (container.window.today() + timedelta(days=1)).isoformat()
    query = parse_search({"from": "北京", "to": "上海", "date": boarding, "transfers": "1"})
    before = container.search.search(query)
    row, remaining = _first_second_class(before)
    key = (row["train"], date.fromisoformat(row["service_date"]))
    container.inventory.sell(key, Request(SeatClass.SECOND, row["from_stop"], row["to_stop"], 2))
    after = container.search.search(query)
    assert _first_second_class(after)[1] == remaining - 2
    assert after == SearchService(container.read_model, container.window).search(query)


class _Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_sale_shows_in_cached_answers_within_the_staleness_bound(db_url: str) -> None:
    container = _container(db_url)
    ticks = _Ticks()
    cache = SearchCache(container, max_age=1.0, monotonic=ticks)
    boarding = (container.window.today() + timedelta(days=1)).isoformat()
    query_string = urlencode({"from": "北京", "to": "上海", "date": boarding}).encode()
    status, body = cache.answer(query_string)
    assert status == 200
    answer = parse_body(body)
    row, remaining = _first_second_class(answer)
    key = (row["train"], date.fromisoformat(row["service_date"]))
    container.inventory.sell(key, Request(SeatClass.SECOND, row["from_stop"], row["to_stop"], 3))

    ticks.now += 0.5  # inside the bound: the held answer is served, counts as they were
    assert cache.lookup(query_string) == (200, body)
    ticks.now += 0.6  # past the bound: the sale shows
    assert cache.lookup(query_string) is None
    status, later = cache.answer(query_string)
    assert _first_second_class(parse_body(later))[1] == remaining - 3

    # An answer past the bound whose runs did not change is still served.
    ticks.now += 5.0
    assert cache.lookup(query_string) == (200, later)


def test_without_a_staleness_bound_a_sale_shows_at_once(db_url: str) -> None:
    container = _container(db_url)
    cache = SearchCache(container, max_age=0.0, monotonic=_Ticks())
    boarding = (container.window.today() + timedelta(days=1)).isoformat()
    query_string = urlencode({"from": "北京", "to": "上海", "date": boarding}).encode()
    row, remaining = _first_second_class(parse_body(cache.answer(query_string)[1]))
    key = (row["train"], date.fromisoformat(row["service_date"]))
    container.inventory.sell(key, Request(SeatClass.SECOND, row["from_stop"], row["to_stop"], 1))
    assert cache.lookup(query_string) is None
    assert _first_second_class(parse_body(cache.answer(query_string)[1]))[1] == remaining - 1


def parse_body(body: bytes) -> dict[str, Any]:
    import json

    answer: dict[str, Any] = json.loads(body)
    return answer


def test_the_warmer_renews_entries_for_other_runs_and_forgets_past_days(db_url: str) -> None:
    container = _container(db_url)
    book = container.search.itineraries
    first, last = container.window.bounds()
    pair = (_codes(container, "北京"), _codes(container, "天津"))
    warmer = ItineraryWarmer(book, lambda: (first, last), lambda: [pair], yield_factor=0.0)
    assert warmer.warm_once() == container.settings.presale_days
    code, day = next(iter(sorted(container.read_model.runs)))
    container.read_model.runs.discard((code, day))  # the runs on sale changed
    try:
        assert len(book.outdated()) == container.settings.presale_days
        assert not book.held(*pair, first)
        assert warmer.warm_once() == container.settings.presale_days
        assert book.outdated() == []
    finally:
        container.read_model.runs.add((code, day))
    later = ItineraryWarmer(book, lambda: (last, last), lambda: [], yield_factor=0.0)
    # The window moved on: earlier days are dropped, the last one renewed for the runs now.
    assert later.warm_once() == 1
    assert book.held(*pair, last) and book.outdated() == []
    assert not book.held(*pair, first)
