"""Precomputed itineraries: the timetable part of an answer per city pair and boarding date.

Finding direct legs and one-change itineraries walks the route index (tens of milliseconds for
a pair with transfers); the result depends only on the timetable and on which runs are on sale,
never on seat counts. ``ItineraryBook`` keeps that result per (origin stations, destination
stations, day), computes it on first use or ahead of time in a background thread
(``ItineraryWarmer``), and drops days that left the pre-sale window. Counts are not part of
it: they are read from the live inventory when an answer is built.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from open12306.catalog.domain.routes import Leg, Transfer, TransferRules, direct_legs, transfers
from open12306.search.services.read_model import ReadModel

PairKey = tuple[frozenset[str], frozenset[str], date]


@dataclass(frozen=True, slots=True)
class Itineraries:
    """Every direct leg and one-change itinerary of a pair on a day, unfiltered."""

    legs: tuple[Leg, ...]
    transfers: tuple[Transfer, ...]
    runs_on_sale: int


class ItineraryBook:
    """Itineraries by (origin stations, destination stations, day), shared by all requests."""

    def __init__(
        self, read_model: ReadModel, rules: TransferRules, *, limit: int = 100_000
    ) -> None:
        self.read_model = read_model
        self.rules = rules
        self.limit = limit
        self._held: dict[PairKey, Itineraries] = {}
        self._lock = threading.Lock()
        self.computed = 0

    def held(self, origins: Iterable[str], destinations: Iterable[str], day: date) -> bool:
        """True when the pair's itineraries for the day are ready (no route search needed)."""
        found = self._held.get((frozenset(origins), frozenset(destinations), day))
        return found is not None and found.runs_on_sale == len(self.read_model.runs)

    def get(self, origins: Iterable[str], destinations: Iterable[str], day: date) -> Itineraries:
        """The pair's itineraries, computed now when not held (or held for other runs)."""
        key = (frozenset(origins), frozenset(destinations), day)
        found = self._held.get(key)
        if found is not None and found.runs_on_sale == len(self.read_model.runs):
            return found
        found = self.compute(*key)
        with self._lock:
            if len(self._held) >= self.limit:
                self._held.clear()
            self._held[key] = found
        return found

    def compute(
        self, origins: frozenset[str], destinations: frozenset[str], day: date
    ) -> Itineraries:
        """The route search itself (no cache): what ``get`` returns for the pair and day."""
        catalog = self.read_model.catalog
        stations = catalog.stations
        has_run = self.read_model.has_run
        runs_on_sale = len(self.read_model.runs)
        legs = tuple(direct_legs(catalog.routes, set(origins), set(destinations), day, has_run))
        found = transfers(
            catalog.routes,
            set(origins),
            set(destinations),
            day,
            has_run,
            stations.city_of,
            lambda code: (
                [s.code for s in stations.stations_in_city(stations.city_of(code))] or [code]
            ),
            self.rules,
        )
        self.computed += 1
        return Itineraries(legs, tuple(found), runs_on_sale)

    def forget_before(self, first: date) -> int:
        """Drop days before ``first`` (they left the window); how many entries went."""
        with self._lock:
            gone = [key for key in self._held if key[2] < first]
            for key in gone:
                del self._held[key]
        return len(gone)

    def outdated(self) -> list[PairKey]:
        """Held entries made for another set of runs on sale (to compute again)."""
        runs_on_sale = len(self.read_model.runs)
        return [key for key, held in list(self._held.items()) if held.runs_on_sale != runs_on_sale]


class ItineraryWarmer:
    """Computes itineraries ahead of requests in a background thread.

    Each pass forgets days that left the window, computes again the entries made for another
    set of runs on sale, and fills every day of the window for the seeded pairs; a pass runs
    every ``interval`` seconds (the day moves on at midnight). After each route search it
    sleeps ``yield_factor`` times as long as the search took, so request threads keep most
    of the interpreter."""

    def __init__(
        self,
        book: ItineraryBook,
        days: Callable[[], tuple[date, date]],
        seeds: Callable[[], Iterable[tuple[frozenset[str], frozenset[str]]]],
        *,
        interval: float = 60.0,
        yield_factor: float = 4.0,
    ) -> None:
        self.book = book
        self.days = days
        self.seeds = seeds
        self.interval = interval
        self.yield_factor = yield_factor
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def warm_once(self) -> int:
        """One pass; how many (pair, day) entries it computed."""
        first, last = self.days()
        self.book.forget_before(first)
        wanted = list(self.book.outdated())
        for origins, destinations in self.seeds():
            day = first
            while day <= last:
                wanted.append((origins, destinations, day))
                day += timedelta(days=1)
        done = 0
        for origins, destinations, day in wanted:
            if self._stop.is_set():
                break
            if self.book.held(origins, destinations, day):
                continue
            started = time.perf_counter()
            self.book.get(origins, destinations, day)
            done += 1
            self._stop.wait(self.yield_factor * (time.perf_counter() - started))
        return done

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="itinerary-warmer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.warm_once()
            self._stop.wait(self.interval)
