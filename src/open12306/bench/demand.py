"""Spring Festival demand: a gravity model between cities, the holiday calendar's waves, and the
release-minute spike at pre-sale opening. Pure: no clock, no I/O, no randomness (see
``bench.sim_plan`` for the seeded draw of arrivals from these rates).

- Gravity: the trips between cities i and j are ∝ pop_i^a · pop_j^b / d_ij^c (great-circle km,
  at least ``min_km``), normalised to shares summing to 1 over the ordered pairs served.
- Day factor: 1 on an ordinary day; during the 春运 window a higher floor; an outbound wave
  peaking the day before the official holiday starts, a dip on 除夕 and 初一 (people are home),
  and a return wave peaking on the last day off.
- Direction: before the festival more people leave the big cities (where they work) for the
  smaller ones (home) than come the other way; after it the reverse.
- Release profile: per second of a sale window, the arrival intensity relative to the steady
  rate: nothing for the day on release before the release moment, then a spike decaying back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

EARTH_KM = 6371.0088


@dataclass(frozen=True)
class City:
    """A city with its resident population and coordinates (WGS-84 degrees)."""

    name: str
    population: int
    lat: float
    lon: float


@dataclass(frozen=True)
class Gravity:
    """Exponents of the gravity model: origin and destination population, distance decay."""

    a: float = 1.0
    b: float = 1.0
    c: float = 1.5
    min_km: float = 50.0


@dataclass(frozen=True)
class Holidays:
    """The festival (正月初一), the official days off around it and the 春运 window."""

    festival: date
    first_off: date
    last_off: date
    rush_first: date
    rush_last: date


@dataclass(frozen=True)
class Release:
    """The release spike: ``peak`` times the steady rate at the release second, decaying with
    time constant ``decay`` seconds."""

    at: int
    peak: float = 8.0
    decay: float = 8.0


def distance_km(one: City, other: City) -> float:
    """Great-circle distance (haversine) between two cities."""
    p1, p2 = math.radians(one.lat), math.radians(other.lat)
    dp = p2 - p1
    dl = math.radians(other.lon - one.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def gravity(
    cities: Sequence[City],
    model: Gravity = Gravity(),
    served: Iterable[tuple[str, str]] | None = None,
) -> dict[tuple[str, str], float]:
    """Shares of the trips per ordered pair (origin, destination), summing to 1 (or empty).
    ``served`` limits the pairs (e.g. to those a direct train serves)."""
    by_name = {c.name: c for c in cities}
    pairs = (
        [(o.name, d.name) for o in cities for d in cities if o.name != d.name]
        if served is None
        else [(o, d) for o, d in served if o != d and o in by_name and d in by_name]
    )
    raw = {}
    for o, d in pairs:
        one, other = by_name[o], by_name[d]
        km = max(model.min_km, distance_km(one, other))
        raw[(o, d)] = one.population**model.a * other.population**model.b / km**model.c
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()} if total > 0 else {}


def _bump(day: date, centre: date, width: float) -> float:
    x = (day - centre).days / width
    return math.exp(-0.5 * x * x)


def day_factor(day: date, holidays: Holidays) -> float:
    """How many times an ordinary day's trips travel on ``day`` (always > 0)."""
    rush = 1.4 if holidays.rush_first <= day <= holidays.rush_last else 1.0
    outbound = 2.6 * _bump(day, holidays.first_off - timedelta(days=1), 3)
    back = 2.2 * _bump(day, holidays.last_off, 3)
    offset = (day - holidays.festival).days
    home = {-1: 0.3, 0: 0.25, 1: 0.5}.get(offset, 1.0)
    return (rush + outbound + back) * home


def direction_factor(
    origin: City, destination: City, day: date, holidays: Holidays, strength: float = 0.3
) -> float:
    """More trips from the bigger city to the smaller before the festival, the reverse after
    (>1 for the favoured direction, <1 against it, 1 far from the festival)."""
    offset = (day - holidays.festival).days
    if offset < -20 or offset > 25 or offset in (0, 1):
        return 1.0
    sign = 1.0 if offset < 0 else -1.0
    return float((origin.population / destination.population) ** (sign * strength))


def release_profile(seconds: int, release: Release) -> list[float]:
    """Intensity per second (0 .. seconds-1) of orders for the day on release: 0 before
    ``release.at``, ``1 + peak`` at it, decaying to 1."""
    return [
        0.0 if s < release.at else 1.0 + release.peak * math.exp(-(s - release.at) / release.decay)
        for s in range(seconds)
    ]


def day_demand(
    cities: Sequence[City],
    days: Sequence[date],
    holidays: Holidays,
    model: Gravity = Gravity(),
    served: Mapping[date, Iterable[tuple[str, str]]] | None = None,
) -> dict[tuple[date, str, str], float]:
    """Relative trips per (travel day, origin, destination): gravity share × day factor ×
    direction factor; pairs limited per day by ``served`` when given."""
    by_name = {c.name: c for c in cities}
    out: dict[tuple[date, str, str], float] = {}
    for day in days:
        shares = gravity(cities, model, None if served is None else served.get(day, ()))
        factor = day_factor(day, holidays)
        for (o, d), share in shares.items():
            tilt = direction_factor(by_name[o], by_name[d], day, holidays)
            out[(day, o, d)] = share * factor * tilt
    return out
