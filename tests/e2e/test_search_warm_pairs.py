"""Seeded pairs: the server computes their itineraries for the sale window before anyone asks;
a pair naming no station stops the start with the setting named."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from open12306.config import Settings


def _settings(demo_settings: Settings, pairs: tuple[tuple[str, str], ...]) -> Settings:
    return replace(demo_settings, search_warm_pairs=pairs)


def test_seeded_pairs_are_computed_for_every_day_of_the_window(demo_settings: Any) -> None:
    from open12306.bootstrap import build
    from open12306.http.app import create_app

    container = build(_settings(demo_settings, (("北京", "上海"),)), materialise=False)
    origins, destinations = container.search.pair_codes("北京", "上海")
    first, last = container.window.bounds()
    days = [first, last]
    book = container.search.itineraries
    assert not any(book.held(origins, destinations, d) for d in days)
    with TestClient(create_app(container)):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(
            book.held(origins, destinations, d) for d in days
        ):
            time.sleep(0.1)
        assert all(book.held(origins, destinations, d) for d in days)


def test_a_pair_that_names_no_station_stops_the_start(demo_settings: Any) -> None:
    from open12306.bootstrap import build
    from open12306.http.app import create_app

    container = build(_settings(demo_settings, (("北京", "Nowhereville"),)), materialise=False)
    with pytest.raises(SystemExit, match="OPEN12306_SEARCH_WARM_PAIRS: unknown station"):
        create_app(container)


def test_the_setting_reads_pairs_and_names_a_bad_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPEN12306_SEARCH_WARM_PAIRS", "北京:上海, 广州南:深圳北")
    assert Settings.from_env().search_warm_pairs == (("北京", "上海"), ("广州南", "深圳北"))
    monkeypatch.setenv("OPEN12306_SEARCH_WARM_PAIRS", "北京-上海")
    with pytest.raises(SystemExit, match="not a from:to pair"):
        Settings.from_env()
