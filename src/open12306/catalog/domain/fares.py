"""Ticket fares by distance, seat class, train type and passenger type, in integer fen.

Two schedules, both tapering with distance (递远递减):

* EMU trains (G/D/C): ``km`` × a per-km second-class rate for the line's speed, each distance
  band charged at its own share of the rate; first and business class are multiples of
  second class; the result is rounded to the nearest 0.5 yuan.
* Conventional trains (Z/T/K): the 1995 passenger fare schedule. The distance is first put
  into its fare zone (区段) and priced at the zone's mid-point; the hard seat base fare
  (客票) is 0.05861 yuan/km, tapered by band; express (加快), air-conditioning (空调) and
  sleeper (卧铺) supplements are shares of that base; the whole is raised for new-type
  air-conditioned stock (新空调上浮). The 2 % compulsory-insurance share of the base fare was
  dropped from fares in 2013; ``insurance_ratio`` can put it back for older fare tables.

docs/fares.md lists every default and where it comes from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from open12306.inventory.domain.seats import Berth, SeatClass
from open12306.shared.errors import DomainError

EMU_TYPES = frozenset({"G", "D", "C"})
CONVENTIONAL_TYPES = frozenset({"Z", "T", "K"})
EMU_CLASSES = frozenset({SeatClass.BUSINESS, SeatClass.FIRST, SeatClass.SECOND, SeatClass.STANDING})
CONVENTIONAL_CLASSES = frozenset(
    {SeatClass.SOFT_SLEEPER, SeatClass.HARD_SLEEPER, SeatClass.HARD_SEAT, SeatClass.STANDING}
)


class PassengerType(StrEnum):
    """Ticket types 12306 sells: 成人, 儿童, 学生, 残疾军人 (优待)."""

    ADULT = "adult"
    CHILD = "child"
    STUDENT = "student"
    DISABLED_MILITARY = "disabled_military"


Bands = tuple[tuple[int, float], ...]
"""(upper km of the band, share of the full rate charged inside it); the last band is open."""


@dataclass(frozen=True, slots=True)
class FareRules:
    """Every rate the fare calculation uses, with 12306-like defaults (yuan unless noted)."""

    # EMU (G/D/C): second class per km, by line and train type.
    hsr_second_per_km: float = 0.46
    hsr_min_line_speed: int = 300
    emu_second_per_km: float = 0.31
    intercity_second_per_km: float = 0.45
    hsr_first_ratio: float = 1.6
    hsr_business_ratio: float = 3.2
    emu_first_ratio: float = 1.2
    emu_business_ratio: float = 2.4
    emu_bands: Bands = ((500, 1.0), (1000, 0.9), (1500, 0.8), (2500, 0.7), (0, 0.6))
    emu_rounding_fen: int = 50
    # Conventional (Z/T/K): the 1995 schedule.
    hard_seat_per_km: float = 0.05861
    conventional_bands: Bands = (
        (200, 1.0),
        (500, 0.9),
        (1000, 0.8),
        (1500, 0.7),
        (2500, 0.6),
        (0, 0.5),
    )
    zones: tuple[tuple[int, int], ...] = (
        (200, 10),
        (400, 20),
        (700, 30),
        (1100, 40),
        (1600, 50),
        (2200, 60),
        (2900, 70),
        (0, 80),
    )
    soft_seat_ratio: float = 2.0
    express_ratio: dict[str, float] = field(default_factory=lambda: {"K": 0.4, "T": 0.4, "Z": 0.4})
    aircon_ratio: float = 0.25
    hard_sleeper_ratio: dict[Berth, float] = field(
        default_factory=lambda: {Berth.UPPER: 1.1, Berth.MIDDLE: 1.2, Berth.LOWER: 1.3}
    )
    soft_sleeper_ratio: dict[Berth, float] = field(
        default_factory=lambda: {Berth.UPPER: 1.75, Berth.LOWER: 1.95}
    )
    new_aircon_uplift: float = 0.5
    insurance_ratio: float = 0.0
    min_km_ticket: int = 20
    min_km_express: int = 100
    min_km_sleeper: int = 400
    conventional_rounding_fen: int = 100
    # Passenger types.
    child_ratio: float = 0.5
    student_emu_ratio: float = 0.75
    student_conventional_ratio: float = 0.5
    disabled_military_ratio: float = 0.5
    minimum_fen: int = 100


DEFAULT_RULES = FareRules()


def fare(
    rules: FareRules,
    train_type: str,
    seat_class: SeatClass,
    km: int,
    passenger_type: PassengerType = PassengerType.ADULT,
    line_speed: int | None = None,
    berth: Berth | None = None,
) -> int:
    """The ticket price in fen for ``km`` kilometres.

    ``line_speed`` is the line's top speed (km/h); G trains on lines of at least
    ``hsr_min_line_speed`` (or when unknown) pay the high-speed rate. ``berth`` picks the
    sleeper level; without it the lower berth is charged, as 12306 charges at purchase and
    refunds the difference once an upper or middle berth is allocated.
    """
    if km <= 0:
        raise DomainError("km", "not_positive", "a journey must be at least 1 km")
    kind = train_type.upper()
    if kind in EMU_TYPES:
        if seat_class not in EMU_CLASSES:
            raise _bad_class(kind, seat_class)
        value = _emu_fare(rules, kind, seat_class, km, passenger_type, line_speed)
    elif kind in CONVENTIONAL_TYPES:
        if seat_class not in CONVENTIONAL_CLASSES:
            raise _bad_class(kind, seat_class)
        value = _conventional_fare(rules, kind, seat_class, km, passenger_type, berth)
    else:
        raise DomainError("train_type", "unknown", f"no fare schedule for train type {kind!r}")
    return max(value, rules.minimum_fen)


def _bad_class(kind: str, seat_class: SeatClass) -> DomainError:
    return DomainError(
        "seat_class", "not_on_train", f"{kind} trains do not sell {seat_class.label}"
    )


def tapered_km(bands: Bands, km: float) -> float:
    """Distance weighted by the band shares: sum over bands of km inside band × share."""
    total = 0.0
    lower = 0
    for upper, share in bands:
        top = km if upper == 0 else min(km, upper)
        if top > lower:
            total += (top - lower) * share
        if upper == 0 or km <= upper:
            break
        lower = upper
    return total


def zone_km(zones: tuple[tuple[int, int], ...], km: int) -> float:
    """The mid-point of the fare zone (区段) ``km`` falls in, e.g. 1463 → 1475."""
    lower = 0
    for upper, step in zones:
        if upper == 0 or km <= upper:
            start = lower + ((km - lower - 1) // step) * step
            return start + step / 2
        lower = upper
    raise AssertionError("the last zone is open")  # pragma: no cover


def round_to(fen: float, unit: int) -> int:
    """Round half up to a multiple of ``unit`` fen (50: nearest 0.5 yuan)."""
    # The epsilon keeps exact halves that floats store as x.4999… rounding up.
    return math.floor(fen / unit + 0.5 + 1e-9) * unit


def _emu_rate(rules: FareRules, kind: str, line_speed: int | None) -> tuple[float, float, float]:
    if kind == "C":
        return rules.intercity_second_per_km, rules.emu_first_ratio, rules.emu_business_ratio
    fast_line = line_speed is None or line_speed >= rules.hsr_min_line_speed
    if kind == "G" and fast_line:
        return rules.hsr_second_per_km, rules.hsr_first_ratio, rules.hsr_business_ratio
    return rules.emu_second_per_km, rules.emu_first_ratio, rules.emu_business_ratio


def _emu_fare(
    rules: FareRules,
    kind: str,
    seat_class: SeatClass,
    km: int,
    passenger: PassengerType,
    line_speed: int | None,
) -> int:
    rate, first, business = _emu_rate(rules, kind, line_speed)
    ratio = {SeatClass.FIRST: first, SeatClass.BUSINESS: business}.get(seat_class, 1.0)
    published = round_to(
        tapered_km(rules.emu_bands, km) * rate * ratio * 100, rules.emu_rounding_fen
    )
    share = _emu_share(rules, seat_class, passenger)
    return published if share == 1.0 else round_to(published * share, rules.emu_rounding_fen)


def _emu_share(rules: FareRules, seat_class: SeatClass, passenger: PassengerType) -> float:
    if passenger is PassengerType.CHILD:
        return rules.child_ratio
    if passenger is PassengerType.DISABLED_MILITARY:
        return rules.disabled_military_ratio
    if passenger is PassengerType.STUDENT and seat_class in (SeatClass.SECOND, SeatClass.STANDING):
        return rules.student_emu_ratio
    return 1.0


def _conventional_fare(
    rules: FareRules,
    kind: str,
    seat_class: SeatClass,
    km: int,
    passenger: PassengerType,
    berth: Berth | None,
) -> int:
    def base(min_km: int) -> float:
        distance = zone_km(rules.zones, max(km, min_km))
        return tapered_km(rules.conventional_bands, distance) * rules.hard_seat_per_km

    ticket = base(rules.min_km_ticket)
    seat_ratio = rules.soft_seat_ratio if seat_class is SeatClass.SOFT_SLEEPER else 1.0
    seat_part = ticket * seat_ratio + base(rules.min_km_express) * rules.express_ratio.get(
        kind, 0.0
    )
    seat_part += ticket * rules.aircon_ratio
    sleeper_part = base(rules.min_km_sleeper) * _sleeper_ratio(rules, seat_class, berth)
    share = _conventional_share(rules, seat_class, passenger)
    uplift = 1.0 + rules.new_aircon_uplift
    total = (seat_part * share + sleeper_part) * uplift + ticket * rules.insurance_ratio * share
    return round_to(total * 100, rules.conventional_rounding_fen)


def _sleeper_ratio(rules: FareRules, seat_class: SeatClass, berth: Berth | None) -> float:
    level = berth or Berth.LOWER
    if seat_class is SeatClass.HARD_SLEEPER:
        return rules.hard_sleeper_ratio[level]
    if seat_class is SeatClass.SOFT_SLEEPER:
        if level is Berth.MIDDLE:
            raise DomainError("berth", "no_middle_berth", "soft sleepers have no middle berth")
        return rules.soft_sleeper_ratio[level]
    return 0.0


def _conventional_share(rules: FareRules, seat_class: SeatClass, passenger: PassengerType) -> float:
    """Share of the seat part (ticket, express, air-con) paid; sleeper supplements are full."""
    if passenger is PassengerType.CHILD:
        return rules.child_ratio
    if passenger is PassengerType.DISABLED_MILITARY:
        return rules.disabled_military_ratio
    student_classes = (SeatClass.HARD_SEAT, SeatClass.HARD_SLEEPER, SeatClass.STANDING)
    if passenger is PassengerType.STUDENT and seat_class in student_classes:
        return rules.student_conventional_ratio
    return 1.0
