"""City/station to city/station search on a boarding date, served from the read model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from open12306.catalog.domain.routes import DAY, Leg, Transfer, TransferRules, day_minute
from open12306.catalog.domain.stations import Station
from open12306.inventory.domain.counts import SeatCounts
from open12306.search.services.itineraries import ItineraryBook
from open12306.search.services.query import SearchQuery
from open12306.search.services.read_model import ReadModel
from open12306.shared.clock import Clock
from open12306.shared.errors import DomainError
from open12306.shared.run_key import RunKey


@dataclass(slots=True)
class Basis:
    """What an answer was computed from: the minute, each run's inventory version, and the
    first minute at which a quota release would change a count it shows (None: never)."""

    now: int
    versions: dict[RunKey, int] = field(default_factory=dict)
    valid_until: int | None = None

    def expire_at(self, minute: int) -> None:
        if self.valid_until is None or minute < self.valid_until:
            self.valid_until = minute


STATIC_CACHE_LIMIT = 200_000

# 12306 shows 有 for plenty, the number below this, 无 for none.
PLENTY = 20
FEW_DIRECT = 5


def display_count(remaining: int) -> str:
    if remaining >= PLENTY:
        return "有"
    if remaining <= 0:
        return "无"
    return str(remaining)


def yuan(fen: int) -> str:
    """Integer fen as a yuan string with two decimals ("553.50")."""
    return f"{fen // 100}.{fen % 100:02d}"


class PresaleWindow:
    """The boarding dates on sale: today .. today + days - 1 in the operator's zone."""

    def __init__(self, clock: Clock, days: int, zone: ZoneInfo) -> None:
        self.clock = clock
        self.days = days
        self.zone = zone

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    def now_minute(self) -> int:
        """The current local time as an absolute minute (see catalog.domain.routes.day_minute)."""
        now = self.clock.now().astimezone(self.zone)
        return day_minute(now.date()) + now.hour * 60 + now.minute

    def bounds(self) -> tuple[date, date]:
        first = self.today()
        return first, first + timedelta(days=self.days - 1)

    def check(self, day: date, field: str = "date") -> None:
        first, last = self.bounds()
        if day < first:
            raise DomainError(field, "in_past", f"{field}: {day} has passed (today is {first})")
        if day > last:
            raise DomainError(
                field,
                "beyond_presale",
                f"{field}: {day} is not on sale yet; tickets are sold {self.days} days ahead "
                f"(until {last})",
            )


class SearchService:
    """Answers searches; correct right after any allocation made through the read model."""

    def __init__(
        self,
        read_model: ReadModel,
        window: PresaleWindow,
        transfer_rules: TransferRules | None = None,
    ) -> None:
        self.read_model = read_model
        self.window = window
        self.transfer_rules = transfer_rules or TransferRules()
        self.itineraries = ItineraryBook(read_model, self.transfer_rules)
        self._static: dict[tuple[str, int, int, date], dict[str, Any]] = {}
        self._rows: dict[tuple[str, int, int, date], tuple[int, int, dict[str, Any]]] = {}

    @property
    def catalog(self) -> Any:
        return self.read_model.catalog

    def resolve(self, query: str, field: str) -> list[Station]:
        stations: list[Station] = self.catalog.stations.lookup(query, field=field)
        return stations

    def pair_codes(self, origin: str, destination: str) -> tuple[frozenset[str], frozenset[str]]:
        """The station codes two queries name, as a search would take them (UnknownStation,
        with suggestions, for a query that names none)."""
        origins = frozenset(s.code for s in self.resolve(origin, "from"))
        destinations = frozenset(s.code for s in self.resolve(destination, "to"))
        if origins & destinations:
            raise DomainError("to", "same_as_from", "to: the destination is the origin")
        return origins, destinations

    def search(self, query: SearchQuery) -> dict[str, Any]:
        return self.answer(query)[0]

    def answer(self, query: SearchQuery) -> tuple[dict[str, Any], Basis]:
        """The answer and what it was computed from (run versions, quota release times)."""
        basis = Basis(self.window.now_minute())
        answer = self._answer(query, basis)
        return answer, basis

    def _answer(self, query: SearchQuery, deps: Basis) -> dict[str, Any]:
        origins = self.resolve(query.origin, "from")
        destinations = self.resolve(query.destination, "to")
        origin_codes = {s.code for s in origins}
        destination_codes = {s.code for s in destinations}
        if origin_codes & destination_codes:
            raise DomainError("to", "same_as_from", "to: the destination is the origin")
        self.window.check(query.day)
        self.read_model.refresh()
        found = self.itineraries.get(origin_codes, destination_codes, query.day)
        legs = [leg for leg in found.legs if self._wanted(leg, query)]
        rows = self._sorted([self._leg(leg, deps) for leg in legs], query.sort)
        answer: dict[str, Any] = {
            "from": {"query": query.origin, "stations": [self._station(s) for s in origins]},
            "to": {
                "query": query.destination,
                "stations": [self._station(s) for s in destinations],
            },
            "date": query.day.isoformat(),
            "count": len(rows),
            "trains": rows,
        }
        if query.transfers or len(rows) < FEW_DIRECT:
            wanted = [t for t in found.transfers if self._wanted(t.first, query)]
            answer["transfers"] = [self._transfer(t, deps) for t in wanted]
        return answer

    def ready(self, query: SearchQuery) -> bool:
        """True when the query's itineraries are precomputed (answering it is only counting).

        A query naming an unknown station answers True: it fails fast, without a route search."""
        try:
            origins = {s.code for s in self.resolve(query.origin, "from")}
            destinations = {s.code for s in self.resolve(query.destination, "to")}
        except DomainError:
            return True
        return self.itineraries.held(origins, destinations, query.day)

    def _wanted(self, leg: Leg, query: SearchQuery) -> bool:
        if query.types and leg.train.train_type not in query.types:
            return False
        minute = leg.departs % DAY
        if query.depart_after is not None and minute < query.depart_after:
            return False
        return query.depart_before is None or minute <= query.depart_before

    def _station(self, station: Station) -> dict[str, str]:
        return station.brief()

    def _named(self, code: str) -> dict[str, str]:
        station = self.catalog.stations.get(code)
        if station is None:
            return {"code": code, "name": code, "city": ""}
        return self._station(station)

    def _time(self, minute: int) -> str:
        day = date.fromordinal(minute // DAY)
        moment = datetime.combine(day, time(), self.window.zone) + timedelta(minutes=minute % DAY)
        return moment.isoformat()

    def _leg(self, leg: Leg, deps: Basis) -> dict[str, Any]:
        key = (leg.train.code, leg.service_date)
        static = self._static_row(leg)
        version = self.read_model.version(key)
        deps.versions[key] = version
        to_departure = static["_departs"] - deps.now
        release = self.catalog.quota_policy.release_minutes
        if to_departure > release and self.catalog.quotas(leg.train.code):
            deps.expire_at(static["_departs"] - release)
        # A row is a function of the run's inventory version and the minute: counted once.
        memo_key = (leg.train.code, leg.i, leg.j, leg.service_date)
        held = self._rows.get(memo_key)
        if held is not None and held[0] == version and held[1] == deps.now:
            return held[2]
        row = self._counted_row(static, self.read_model.counts(key), leg, to_departure)
        if len(self._rows) >= STATIC_CACHE_LIMIT:
            self._rows.clear()
        self._rows[memo_key] = (version, deps.now, row)
        return row

    @staticmethod
    def _counted_row(
        static: dict[str, Any], inventory: SeatCounts, leg: Leg, to_departure: int
    ) -> dict[str, Any]:
        classes = []
        for seat_class, label, price in static["_classes"]:
            remaining = inventory.remaining(seat_class, leg.i, leg.j, to_departure)
            classes.append(
                {
                    "class": seat_class.value,
                    "label": label,
                    "remaining": remaining,
                    "display": display_count(remaining),
                    "price": yuan(price),
                    "price_fen": price,
                }
            )
        row = dict(static["row"])
        row["classes"] = classes
        return row

    def _static_row(self, leg: Leg) -> dict[str, Any]:
        """The parts of a result row that only the timetable decides (cached)."""
        cache_key = (leg.train.code, leg.i, leg.j, leg.service_date)
        held = self._static.get(cache_key)
        if held is not None:
            return held
        train = leg.train
        minutes = leg.minutes
        row = {
            "train": train.code,
            "type": train.train_type,
            "service_date": leg.service_date.isoformat(),
            "from": self._named(leg.board),
            "to": self._named(leg.alight),
            "origin": self._named(train.stops[0].station),
            "terminus": self._named(train.stops[-1].station),
            "from_stop": leg.i,
            "to_stop": leg.j,
            "departs": self._time(leg.departs),
            "arrives": self._time(leg.arrives),
            "days_later": leg.arrives // DAY - leg.departs // DAY,
            "duration": f"{minutes // 60:02d}:{minutes % 60:02d}",
            "duration_minutes": minutes,
            "km": leg.km,
            "synthetic": train.synthetic,
        }
        classes = [
            (c, c.label, self.catalog.price(train, c, leg.i, leg.j))
            for c in self.catalog.classes(train.code)
        ]
        if len(self._static) >= STATIC_CACHE_LIMIT:
            self._static.clear()
        origin_departs = day_minute(leg.service_date) + train.departure(0)
        held = self._static[cache_key] = {
            "row": row,
            "_classes": classes,
            "_departs": origin_departs,
        }
        return held

    def _transfer(self, transfer: Transfer, deps: Basis) -> dict[str, Any]:
        return {
            "legs": [self._leg(transfer.first, deps), self._leg(transfer.second, deps)],
            "change_at": self._named(transfer.first.alight),
            "board_at": self._named(transfer.second.board),
            "same_station": transfer.same_station,
            "wait_minutes": transfer.wait,
            "duration_minutes": transfer.minutes,
        }

    @staticmethod
    def _sorted(rows: Sequence[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
        if sort == "arrive":
            return sorted(rows, key=lambda r: (r["arrives"], r["train"]))
        if sort == "duration":
            return sorted(rows, key=lambda r: (r["duration_minutes"], r["departs"]))
        if sort == "price":
            return sorted(
                rows,
                key=lambda r: (
                    min((c["price_fen"] for c in r["classes"]), default=0),
                    r["departs"],
                ),
            )
        return list(rows)
