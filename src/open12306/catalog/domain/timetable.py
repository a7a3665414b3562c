"""Trains and their stop lists.

Times are minutes from midnight of the run's service date (the day the train leaves its
origin), so a stop reached after midnight has a time >= 1440. They are wall-clock minutes in the
operator's zone: minute m of service date D is the local time D 00:00 plus m minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from open12306.catalog.domain.service_calendar import ServiceCalendar, validate_calendar
from open12306.shared.errors import DomainError

TRAIN_TYPES = ("G", "D", "C", "Z", "T", "K")


@dataclass(frozen=True, slots=True)
class StopTime:
    """One stop of a train: station code, arrival, departure, cumulative distance in km.

    ``arrive`` is None at the origin and ``depart`` is None at the terminus.
    """

    station: str
    arrive: int | None
    depart: int | None
    km: int


@dataclass(frozen=True, slots=True)
class Train:
    """A train number with its ordered stops and the coach composition it runs with.

    ``holiday_only`` trains (加开) run only on days the holiday calendar marks as peak.
    ``synthetic`` marks trains made by the generator rather than taken from a real timetable.
    ``calendar`` gives the service dates of a train that does not run every day (None: daily).
    """

    code: str
    stops: tuple[StopTime, ...]
    composition: str
    synthetic: bool = True
    holiday_only: bool = False
    name: str = field(default="")
    calendar: ServiceCalendar | None = None

    @property
    def train_type(self) -> str:
        """The letter class (G, D, C, Z, T, K) or "" for other numbers (e.g. plain 4-digit)."""
        head = self.code[:1].upper()
        return head if head in TRAIN_TYPES else ""

    @property
    def segments(self) -> int:
        return len(self.stops) - 1

    def departure(self, i: int) -> int:
        """Departure minute at stop i (the arrival minute is used at the terminus)."""
        stop = self.stops[i]
        value = stop.depart if stop.depart is not None else stop.arrive
        assert value is not None  # validate() guarantees one of them
        return value

    def arrival(self, j: int) -> int:
        stop = self.stops[j]
        value = stop.arrive if stop.arrive is not None else stop.depart
        assert value is not None
        return value


def validate_train(train: Train) -> None:
    """Raise DomainError when a train's stop list is not a usable timetable."""
    if not train.code:
        raise DomainError("code", "empty", "a train needs a number")
    if len(train.stops) < 2:
        raise DomainError("stops", "too_few", f"{train.code}: a train needs at least two stops")
    seen: set[str] = set()
    last = -1
    last_km = -1
    for n, stop in enumerate(train.stops):
        if stop.station in seen:
            raise DomainError(
                "stops", "repeated_station", f"{train.code}: station {stop.station} repeats"
            )
        seen.add(stop.station)
        if n > 0 and stop.arrive is None:
            raise DomainError("stops", "missing_arrival", f"{train.code}: stop {n} has no arrival")
        if n < len(train.stops) - 1 and stop.depart is None:
            raise DomainError(
                "stops", "missing_departure", f"{train.code}: stop {n} has no departure"
            )
        for t in (stop.arrive, stop.depart):
            if t is None:
                continue
            if t < last:
                raise DomainError(
                    "stops", "time_goes_back", f"{train.code}: times go backwards at stop {n}"
                )
            last = t
        if stop.km < last_km:
            raise DomainError(
                "stops", "distance_goes_back", f"{train.code}: distance goes back at stop {n}"
            )
        last_km = stop.km
    if train.calendar is not None:
        validate_calendar(train.calendar)
