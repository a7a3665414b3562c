"""A seeded generator of a synthetic national timetable on real corridors.

No real Chinese timetable is freely licensed, so trains are made up on real station
sequences: G and D trains on high-speed lines, C trains on intercity lines, Z, T and K
sleepers and day trains on conventional lines. Speeds, dwell times, stop patterns and
service hours follow the shape of 12306's timetable; numbers follow its conventions
(odd numbers run "down" the corridor as listed, even numbers back up). Every train is
marked synthetic. The same corridors, seed and target always give the same trains.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from open12306.catalog.domain.composition import composition_for
from open12306.catalog.domain.corridors import Corridor
from open12306.catalog.domain.timetable import StopTime, Train, validate_train
from open12306.shared.errors import DomainError

KIND_SHARE = {"hsr": 0.78, "intercity": 0.12, "conventional": 0.10}
FULL_LENGTH_SHARE = {"hsr": 0.6, "intercity": 0.7, "conventional": 0.5}
HOLIDAY_PAIRS = {"hsr": 2, "intercity": 1, "conventional": 1}
HOLIDAY_NUMBER_HINT = 4001
THROUGH_SHARE = 0.04

HSR_FIRST_DEPARTURE = 6 * 60
HSR_LAST_DEPARTURE = 21 * 60 + 30
HSR_LATEST_ARRIVAL = 24 * 60 - 5
OVERNIGHT_ARRIVAL = (1440 + 5 * 60 + 30, 1440 + 9 * 60 + 30)
OVERNIGHT_DEPARTURE = (10 * 60, 23 * 60)
OVERNIGHT_MIN_KM = 500

# Where each corridor's numbers start, per train type (12306 keeps lines in number blocks,
# e.g. G1-G199 Beijing–Shanghai, G1301- Shanghai–Kunming, C2001- Beijing–Tianjin).
NUMBER_HINTS: dict[str, dict[str, int]] = {
    "jinghu-hsr": {"G": 1, "D": 301},
    "jingguangshen-hsr": {"G": 401, "D": 901},
    "hukun-hsr": {"G": 1301, "D": 3001},
    "xulan-hsr": {"G": 1901, "D": 2501},
    "guangshen-intercity": {"C": 7001},
    "jingjin-intercity": {"C": 2001},
    "jinghu-conventional": {"Z": 1, "T": 101, "K": 101},
    "jingguang-conventional": {"Z": 11, "T": 1, "K": 151},
    "jingha-conventional": {"Z": 15, "T": 17, "K": 1301},
    "beijing-xian-hsr": {"G": 651, "D": 1901},
    "shanghai-xian-hsr": {"G": 2101, "D": 3201},
    "beijing-kunming-hsr": {"G": 2201, "D": 3301},
    "shanghai-guangzhou-hsr": {"G": 2301, "D": 3401},
}


@dataclass(frozen=True, slots=True)
class Profile:
    """How a train type runs: cruise speed, the time a stop costs, dwell times (minutes)."""

    cruise_share: float
    speed_cap: int
    stop_penalty: int
    small_dwell: tuple[int, ...]
    major_dwell: tuple[int, ...]

    def cruise(self, line_speed: int) -> float:
        return min(line_speed, self.speed_cap) * self.cruise_share


PROFILES: dict[str, Profile] = {
    "G": Profile(0.97, 350, 3, (2,), (3, 4, 5, 6, 8)),
    "D": Profile(0.95, 250, 3, (2,), (3, 4, 5, 6)),
    "C": Profile(0.85, 350, 3, (1, 2), (2, 3)),
    "Z": Profile(1.0, 125, 4, (3, 4), (6, 8, 10)),
    "T": Profile(1.0, 105, 4, (2, 3, 4), (6, 8, 10, 12)),
    "K": Profile(1.0, 90, 3, (2, 3, 4), (6, 8, 10, 12, 15)),
}


@dataclass(frozen=True, slots=True)
class _Stop:
    code: str
    name: str
    km: int
    major: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    train_type: str
    start: int
    end: int
    stops: tuple[int, ...]
    overnight: bool
    short_haul: bool


class _Numbers:
    """Hands out unused odd/even number pairs per train type, starting near a hint."""

    def __init__(self) -> None:
        self._used: set[str] = set()
        self._cursor: dict[tuple[str, int], int] = {}

    def pair(self, train_type: str, hint: int) -> tuple[str, str]:
        n = self._cursor.get((train_type, hint), hint if hint % 2 == 1 else hint + 1)
        while f"{train_type}{n}" in self._used or f"{train_type}{n + 1}" in self._used:
            n += 2
        if n + 1 > 9998:
            raise DomainError("target", "too_many", f"ran out of {train_type} train numbers")
        down, up = f"{train_type}{n}", f"{train_type}{n + 1}"
        self._used.update((down, up))
        self._cursor[(train_type, hint)] = n + 2
        return down, up


def generate_timetable(
    corridors: Sequence[Corridor],
    rng: random.Random,
    target: int = 1200,
    through_routes: Sequence[Corridor] = (),
) -> list[Train]:
    """About ``target`` synthetic trains on the corridors, in both directions, all valid.

    ``through_routes`` (corridors spliced at a junction, see ``corridors.splice``) get
    end-to-end trains on top of the target, about ``THROUGH_SHARE`` of it.
    """
    if target <= 0:
        raise DomainError("target", "not_positive", "the target number of trains must be > 0")
    numbers = _Numbers()
    trains: list[Train] = []
    counts = _train_counts(corridors, target)
    for corridor in corridors:
        pairs = max(1, counts[corridor.id] // 2)
        extras = min(HOLIDAY_PAIRS.get(corridor.kind, 0), max(0, pairs - 1))
        for n in range(pairs):
            holiday = n >= pairs - extras
            trains.extend(_round_trip(corridor, rng, numbers, holiday))
    weight = sum(len(r.stations) * r.weight for r in through_routes)
    for route in through_routes:
        share = target * THROUGH_SHARE * len(route.stations) * route.weight / weight
        for _ in range(max(1, round(share / 2))):
            trains.extend(_round_trip(route, rng, numbers, False, through=True))
    for train in trains:
        validate_train(train)
    return trains


def _train_counts(corridors: Sequence[Corridor], target: int) -> dict[str, int]:
    kinds = {c.kind for c in corridors}
    share_total = sum(KIND_SHARE.get(k, 0.1) for k in kinds)
    counts: dict[str, int] = {}
    for kind in sorted(kinds):
        members = [c for c in corridors if c.kind == kind]
        kind_trains = target * KIND_SHARE.get(kind, 0.1) / share_total
        weight = sum(len(c.stations) * c.weight for c in members)
        for c in members:
            counts[c.id] = round(kind_trains * len(c.stations) * c.weight / weight)
    return counts


def _round_trip(
    corridor: Corridor,
    rng: random.Random,
    numbers: _Numbers,
    holiday: bool,
    through: bool = False,
) -> list[Train]:
    down_view = _view(corridor, reverse=False)
    up_view = _view(corridor, reverse=True)
    plan = _plan(corridor, down_view, rng, through)
    hint = NUMBER_HINTS.get(corridor.id, {}).get(plan.train_type, 1)
    down_code, up_code = numbers.pair(plan.train_type, HOLIDAY_NUMBER_HINT if holiday else hint)
    last = len(down_view) - 1
    up_plan = _Plan(
        plan.train_type,
        last - plan.end,
        last - plan.start,
        tuple(sorted(last - i for i in plan.stops)),
        plan.overnight,
        plan.short_haul,
    )
    return [
        _make_train(corridor, down_view, plan, down_code, rng, holiday),
        _make_train(corridor, up_view, up_plan, up_code, rng, holiday),
    ]


def _view(corridor: Corridor, reverse: bool) -> tuple[_Stop, ...]:
    last = len(corridor.stations) - 1
    stops = [
        _Stop(s.code, s.name, s.km, s.major or i in (0, last))
        for i, s in enumerate(corridor.stations)
    ]
    if not reverse:
        return tuple(stops)
    length = corridor.length
    return tuple(_Stop(s.code, s.name, length - s.km, s.major) for s in reversed(stops))


def _plan(corridor: Corridor, view: tuple[_Stop, ...], rng: random.Random, through: bool) -> _Plan:
    if through:
        last = len(view) - 1
        pattern = rng.choices(("express", "semi"), (0.5, 0.5))[0]
        stops = _stop_pattern(view, 0, last, pattern, rng)
        kind = "G" if corridor.kind == "hsr" else "K"
        return _Plan(kind, 0, last, stops, overnight=False, short_haul=False)
    if corridor.kind == "hsr":
        return _hsr_plan(corridor, view, rng)
    if corridor.kind == "intercity":
        return _intercity_plan(view, rng)
    return _conventional_plan(corridor, view, rng)


def _hsr_plan(corridor: Corridor, view: tuple[_Stop, ...], rng: random.Random) -> _Plan:
    kind = "G" if corridor.max_speed >= 300 and rng.random() < 0.8 else "D"
    if kind == "G":
        start, end = _od(view, rng, FULL_LENGTH_SHARE["hsr"], 250, 99_999)
        pattern = rng.choices(("express", "semi", "local"), (0.3, 0.5, 0.2))[0]
    else:
        start, end = _od(view, rng, 0.2, 150, 1100)
        pattern = rng.choices(("semi", "local"), (0.4, 0.6))[0]
    stops = _stop_pattern(view, start, end, pattern, rng)
    short = view[end].km - view[start].km < 800
    return _Plan(kind, start, end, stops, overnight=False, short_haul=short)


def _intercity_plan(view: tuple[_Stop, ...], rng: random.Random) -> _Plan:
    start, end = _od(view, rng, FULL_LENGTH_SHARE["intercity"], 1, 99_999)
    pattern = rng.choices(("express", "local"), (0.4, 0.6))[0]
    stops = _stop_pattern(view, start, end, pattern, rng)
    return _Plan("C", start, end, stops, overnight=False, short_haul=True)


def _conventional_plan(corridor: Corridor, view: tuple[_Stop, ...], rng: random.Random) -> _Plan:
    kind = rng.choices(("Z", "T", "K"), (0.25, 0.3, 0.45))[0]
    overnight = kind != "K" or rng.random() < 0.6
    if overnight and corridor.length >= OVERNIGHT_MIN_KM:
        full = 0.8 if kind == "Z" else FULL_LENGTH_SHARE["conventional"]
        start, end = _od(view, rng, full, OVERNIGHT_MIN_KM, 99_999)
    else:
        overnight = False
        start, end = _od(view, rng, 0.0, 150, 700)
    pattern = {"Z": "express", "T": "semi", "K": "local"}[kind]
    stops = _stop_pattern(view, start, end, pattern, rng)
    return _Plan(kind, start, end, stops, overnight=overnight, short_haul=not overnight)


def _od(
    view: tuple[_Stop, ...], rng: random.Random, full_share: float, min_km: int, max_km: int
) -> tuple[int, int]:
    """An origin/destination pair: the whole corridor, or two major stations in a km range."""
    last = len(view) - 1
    if rng.random() < full_share:
        return 0, last
    majors = [i for i, s in enumerate(view) if s.major]
    pairs = [
        (a, b)
        for a in majors
        for b in majors
        if a < b and (a, b) != (0, last) and min_km <= view[b].km - view[a].km <= max_km
    ]
    if not pairs:
        return 0, last
    return rng.choice(pairs)


def _stop_pattern(
    view: tuple[_Stop, ...], start: int, end: int, pattern: str, rng: random.Random
) -> tuple[int, ...]:
    """Stop indices from start to end: express trains call at majors, locals everywhere."""
    chance = {"express": 0.1, "semi": 0.45, "local": 1.0}[pattern]
    chosen = [start]
    for i in range(start + 1, end):
        if view[i].major and pattern != "local":
            if pattern == "express" or rng.random() < 0.9:
                chosen.append(i)
        elif rng.random() < chance:
            chosen.append(i)
    chosen.append(end)
    return tuple(chosen)


def _make_train(
    corridor: Corridor,
    view: tuple[_Stop, ...],
    plan: _Plan,
    code: str,
    rng: random.Random,
    holiday: bool,
) -> Train:
    profile = PROFILES[plan.train_type]
    legs, dwells = _legs(corridor, view, plan, profile, rng)
    travel = sum(legs) + sum(dwells)
    departure = _departure(plan, travel, rng)
    origin_km = view[plan.start].km
    stops: list[StopTime] = []
    clock = departure
    for n, index in enumerate(plan.stops):
        stop = view[index]
        km = stop.km - origin_km
        if n == 0:
            stops.append(StopTime(stop.code, None, clock, km))
            continue
        clock += legs[n - 1]
        if n == len(plan.stops) - 1:
            stops.append(StopTime(stop.code, clock, None, km))
            break
        arrive = clock
        clock += dwells[n - 1]
        stops.append(StopTime(stop.code, arrive, clock, km))
    composition = composition_for(plan.train_type, corridor.kind, plan.short_haul)
    name = f"{view[plan.start].name}—{view[plan.end].name}"
    return Train(code, tuple(stops), composition, True, holiday, name)


def _legs(
    corridor: Corridor,
    view: tuple[_Stop, ...],
    plan: _Plan,
    profile: Profile,
    rng: random.Random,
) -> tuple[list[int], list[int]]:
    """Running minutes between consecutive stops and dwell minutes at intermediate stops."""
    cruise = profile.cruise(corridor.max_speed)
    legs = [
        math.ceil((view[b].km - view[a].km) / cruise * 60) + profile.stop_penalty
        for a, b in zip(plan.stops, plan.stops[1:], strict=False)
    ]
    dwells = [
        rng.choice(profile.major_dwell if view[i].major else profile.small_dwell)
        for i in plan.stops[1:-1]
    ]
    return legs, dwells


def _departure(plan: _Plan, travel: int, rng: random.Random) -> int:
    if plan.overnight:
        arrival = rng.randint(*OVERNIGHT_ARRIVAL)
        low, high = OVERNIGHT_DEPARTURE
        return _five(min(max(arrival - travel, low), high))
    if plan.train_type in ("Z", "T", "K"):
        return _five(rng.randint(6 * 60, 14 * 60))
    latest = min(HSR_LAST_DEPARTURE, HSR_LATEST_ARRIVAL - travel)
    earliest = HSR_FIRST_DEPARTURE + (30 if plan.train_type == "C" else 0)
    if latest <= earliest:
        return earliest
    return _five(rng.randint(earliest, latest))


def _five(minute: int) -> int:
    return minute - minute % 5
