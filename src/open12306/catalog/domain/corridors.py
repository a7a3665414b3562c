"""Railway corridors: ordered real stations with cumulative distances."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from open12306.shared.errors import DomainError

CORRIDOR_KINDS = ("hsr", "intercity", "conventional")


@dataclass(frozen=True, slots=True)
class CorridorStation:
    """A station on a corridor: telecode, name, km from the corridor's first station.

    ``major`` marks the big stations where most trains stop and dwell longer.
    """

    code: str
    name: str
    km: int
    major: bool = False


@dataclass(frozen=True, slots=True)
class Corridor:
    """A line trains run along, in its "down" (下行) direction, with its top speed in km/h.

    ``weight`` scales how many trains the generator puts on the line (busier lines > 1).
    """

    id: str
    name: str
    kind: str
    max_speed: int
    stations: tuple[CorridorStation, ...]
    weight: float = 1.0

    @property
    def length(self) -> int:
        return self.stations[-1].km

    def major_indices(self) -> tuple[int, ...]:
        """Positions of the major stations; the two ends always count as major."""
        last = len(self.stations) - 1
        return tuple(i for i, s in enumerate(self.stations) if s.major or i in (0, last))


def validate_corridor(corridor: Corridor) -> None:
    """Raise DomainError when a corridor is not a usable line."""
    where = f"corridor {corridor.id or '?'}"
    if not corridor.id:
        raise DomainError("id", "empty", "a corridor needs an id")
    if corridor.kind not in CORRIDOR_KINDS:
        raise DomainError("kind", "unknown", f"{where}: unknown kind {corridor.kind!r}")
    if corridor.max_speed <= 0:
        raise DomainError("max_speed", "not_positive", f"{where}: max_speed must be > 0")
    if corridor.weight <= 0:
        raise DomainError("weight", "not_positive", f"{where}: weight must be > 0")
    if len(corridor.stations) < 2:
        raise DomainError("stations", "too_few", f"{where}: needs at least two stations")
    if corridor.stations[0].km != 0:
        raise DomainError("stations", "first_km", f"{where}: the first station must be at km 0")
    seen: set[str] = set()
    for prev, cur in zip(corridor.stations, corridor.stations[1:], strict=False):
        if cur.km <= prev.km:
            raise DomainError(
                "stations", "km_not_increasing", f"{where}: km does not grow at {cur.name}"
            )
    for s in corridor.stations:
        if s.code in seen:
            raise DomainError("stations", "repeated_station", f"{where}: {s.code} repeats")
        seen.add(s.code)


def splice(route_id: str, name: str, legs: Sequence[tuple[Corridor, str, str]]) -> Corridor:
    """A through route made of corridor stretches joined at shared junction stations.

    Each leg is (corridor, from station code, to station code), run in either direction;
    a leg must start where the previous one ended. The route's speed is the slowest leg's.
    """
    if not legs:
        raise DomainError("legs", "empty", f"through route {route_id}: needs at least one leg")
    kinds = {corridor.kind for corridor, _, _ in legs}
    if len(kinds) != 1:
        raise DomainError("legs", "mixed_kinds", f"through route {route_id}: mixes {kinds}")
    stations: list[CorridorStation] = []
    for corridor, start, end in legs:
        stretch = _stretch(route_id, corridor, start, end)
        if stations and stations[-1].code != stretch[0].code:
            raise DomainError(
                "legs", "not_joined", f"through route {route_id}: {start} does not join"
            )
        offset = stations[-1].km if stations else 0
        skip = 1 if stations else 0
        stations.extend(
            CorridorStation(s.code, s.name, s.km + offset, s.major) for s in stretch[skip:]
        )
    route = Corridor(
        route_id,
        name,
        kinds.pop(),
        min(corridor.max_speed for corridor, _, _ in legs),
        tuple(stations),
    )
    validate_corridor(route)
    return route


def _stretch(route_id: str, corridor: Corridor, start: str, end: str) -> list[CorridorStation]:
    codes = [s.code for s in corridor.stations]
    for code in (start, end):
        if code not in codes:
            raise DomainError(
                "legs", "unknown_station", f"through route {route_id}: {code} not on {corridor.id}"
            )
    a, b = codes.index(start), codes.index(end)
    if a == b:
        raise DomainError("legs", "empty_leg", f"through route {route_id}: {start} to itself")
    step = 1 if a < b else -1
    picked = corridor.stations[a : b + step if b + step >= 0 else None : step]
    base = picked[0].km
    return [CorridorStation(s.code, s.name, abs(s.km - base), s.major) for s in picked]
