"""The timetable as services see it: stations, routes, compositions, fares, empty inventories."""

from __future__ import annotations

from collections.abc import Sequence

from open12306.catalog.domain.composition import COMPOSITIONS, Composition
from open12306.catalog.domain.fares import FareRules, PassengerType, fare
from open12306.catalog.domain.routes import RouteIndex
from open12306.catalog.domain.station_index import StationIndex
from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import Train
from open12306.inventory.domain import Quota, RunInventory, decode_state
from open12306.inventory.domain.counts import CountLayout, RunCounts
from open12306.inventory.domain.quota_policy import QuotaPolicy
from open12306.inventory.domain.seats import SeatClass
from open12306.shared.errors import NotFound


class Catalog:
    """Immutable view of one timetable version; rebuilt when the timetable changes."""

    def __init__(
        self,
        stations: Sequence[Station],
        trains: Sequence[Train],
        fare_rules: FareRules | None = None,
        quota_policy: QuotaPolicy | None = None,
    ) -> None:
        self.stations = StationIndex(stations)
        self.routes = RouteIndex(trains)
        self.trains: dict[str, Train] = {t.code: t for t in trains}
        self.fare_rules = fare_rules or FareRules()
        self.quota_policy = quota_policy or QuotaPolicy()
        self._quotas: dict[tuple[str, int], tuple[Quota, ...]] = {}
        self._pristine: dict[tuple[str, int], RunInventory] = {}
        self._count_layouts: dict[tuple[str, int], CountLayout] = {}
        self._city: dict[str, str] = {}
        self._siblings: dict[str, tuple[str, ...]] = {}

    def city_of(self, code: str) -> str:
        """The station's city (its own name when it has none); cached."""
        city = self._city.get(code)
        if city is None:
            city = self._city[code] = self.stations.city_of(code)
        return city

    def siblings(self, code: str) -> tuple[str, ...]:
        """Stations of the same city, the station itself included; cached."""
        held = self._siblings.get(code)
        if held is None:
            city = self.stations.city_of(code)
            same = tuple(s.code for s in self.stations.stations_in_city(city)) or (code,)
            held = self._siblings[code] = same if code in same else (code, *same)
        return held

    def train(self, code: str) -> Train:
        train = self.trains.get(code) or self.trains.get(code.upper())
        if train is None:
            raise NotFound("train", "unknown_train", f"no train numbered {code!r}")
        return train

    def composition(self, code: str) -> Composition:
        return COMPOSITIONS[self.train(code).composition]

    def classes(self, code: str) -> tuple[SeatClass, ...]:
        """Seat classes sold on the train, dearest first; standing last when it has any."""
        return self.composition(code).classes()

    def standing(self, code: str) -> dict[SeatClass, int]:
        """Standing room by the seated class it is sold with (the cheapest seated class)."""
        composition = self.composition(code)
        if composition.standing <= 0:
            return {}
        seated = [c for c in composition.classes() if c is not SeatClass.STANDING]
        return {seated[-1]: composition.standing}

    def quotas(self, code: str) -> tuple[Quota, ...]:
        """Seats held for long journeys on this train until the policy releases them."""
        train = self.train(code)
        key = (train.composition, train.segments)
        held = self._quotas.get(key)
        if held is None:
            composition = COMPOSITIONS[train.composition]
            capacity = {c: composition.capacity(c) for c in composition.classes()}
            held = self._quotas[key] = self.quota_policy.quotas(train.segments, capacity)
        return held

    def empty_inventory(self, code: str) -> RunInventory:
        """A never-sold inventory of the train's own (a copy of the shared pristine one)."""
        return self.pristine(code).copy()

    def warm(self) -> int:
        """Build every train's pristine inventory now (not on its first sale); how many."""
        for code in self.trains:
            self.pristine(code)
        return len(self._pristine)

    def pristine(self, code: str) -> RunInventory:
        """A shared never-sold inventory for the train's composition (do not mutate)."""
        train = self.train(code)
        key = (train.composition, train.segments)
        held = self._pristine.get(key)
        if held is None:
            composition = COMPOSITIONS[train.composition]
            held = self._pristine[key] = RunInventory.empty(
                composition.seats(), train.segments, self.standing(code), self.quotas(code)
            )
        return held

    def decode(self, code: str, state: bytes) -> RunInventory:
        train = self.train(code)
        composition = COMPOSITIONS[train.composition]
        return RunInventory.decode(
            state, composition.seats(), self.standing(code), self.quotas(code)
        )

    def counts(self, code: str, state: bytes) -> RunCounts:
        """The free-place counts of a run of train ``code`` stored as ``state`` (for readers:
        far cheaper than ``decode``, nothing can be sold from it)."""
        train = self.train(code)
        key = (train.composition, train.segments)
        layout = self._count_layouts.get(key)
        if layout is None:
            layout = self._count_layouts[key] = self.pristine(code).count_layout()
        return layout.counts(decode_state(state))

    def price(
        self,
        train: Train,
        seat_class: SeatClass,
        i: int,
        j: int,
        passenger: PassengerType = PassengerType.ADULT,
    ) -> int:
        """Fare in fen for riding stops i..j in a class."""
        km = train.stops[j].km - train.stops[i].km
        return fare(self.fare_rules, self.fare_type(train), seat_class, km, passenger)

    @staticmethod
    def fare_type(train: Train) -> str:
        """The fare schedule: the train's letter, else by its make-up (imported timetables
        number trains freely): multiple units pay as D trains, loco-hauled as K trains."""
        if train.train_type:
            return train.train_type
        return "D" if train.composition.startswith("emu") else "K"
