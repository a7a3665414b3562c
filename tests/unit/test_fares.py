import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.catalog.domain.fares import (
    DEFAULT_RULES,
    FareRules,
    PassengerType,
    fare,
    round_to,
    tapered_km,
    zone_km,
)
from open12306.inventory.domain.seats import Berth, SeatClass
from open12306.shared.errors import DomainError

R = DEFAULT_RULES
EMU = (SeatClass.BUSINESS, SeatClass.FIRST, SeatClass.SECOND, SeatClass.STANDING)
CONV = (SeatClass.SOFT_SLEEPER, SeatClass.HARD_SLEEPER, SeatClass.HARD_SEAT, SeatClass.STANDING)
kms = st.integers(min_value=1, max_value=4000)


def test_beijing_shanghai_hsr_second_class() -> None:
    # 500 km at full rate + 500 at 90 % + 318 at 80 % = 1204.4 km × 0.46 = 554.02 → 554.0
    # (12306 sells this trip for 553 yuan).
    assert fare(R, "G", SeatClass.SECOND, 1318) == 55400
    # × 1.6 = 886.43 → 886.5; × 3.2 = 1772.86 → 1773.0
    assert fare(R, "G", SeatClass.FIRST, 1318) == 88650
    assert fare(R, "G", SeatClass.BUSINESS, 1318) == 177300


def test_slower_lines_and_d_trains_are_cheaper() -> None:
    g_fast = fare(R, "G", SeatClass.SECOND, 300, line_speed=350)
    g_slow = fare(R, "G", SeatClass.SECOND, 300, line_speed=250)
    d = fare(R, "D", SeatClass.SECOND, 300, line_speed=350)
    assert g_fast == 13800  # 300 × 0.46
    assert g_slow == d == 9300  # 300 × 0.31
    assert fare(R, "C", SeatClass.SECOND, 120) == 5400  # 120 × 0.45


def test_beijing_shanghai_conventional_hard_seat() -> None:
    # 1463 km lies in zone 1451-1500, priced at 1475 km: 200 + 300×0.9 + 500×0.8 + 475×0.7
    # = 1202.5 km × 0.05861 = 70.479 yuan base. With 40 % express and 25 % air-con:
    # 70.479 × 1.65 × 1.5 (new air-con) = 174.44 → 174 yuan.
    assert fare(R, "T", SeatClass.HARD_SEAT, 1463) == 17400
    assert fare(R, "T", SeatClass.STANDING, 1463) == 17400
    # The pre-2013 insurance share (2 % of the 70.479 base) adds 1.41 → 175.85 → 176 yuan.
    with_insurance = dataclasses.replace(R, insurance_ratio=0.02)
    assert fare(with_insurance, "T", SeatClass.HARD_SEAT, 1463) == 17600


def test_sleeper_levels_and_default_lower_berth() -> None:
    upper = fare(R, "T", SeatClass.HARD_SLEEPER, 1463, berth=Berth.UPPER)
    middle = fare(R, "T", SeatClass.HARD_SLEEPER, 1463, berth=Berth.MIDDLE)
    lower = fare(R, "T", SeatClass.HARD_SLEEPER, 1463, berth=Berth.LOWER)
    assert upper < middle < lower == fare(R, "T", SeatClass.HARD_SLEEPER, 1463)
    assert fare(R, "T", SeatClass.SOFT_SLEEPER, 1463, berth=Berth.UPPER) < fare(
        R, "T", SeatClass.SOFT_SLEEPER, 1463
    )
    with pytest.raises(DomainError) as err:
        fare(R, "T", SeatClass.SOFT_SLEEPER, 1463, berth=Berth.MIDDLE)
    assert err.value.reason == "no_middle_berth"


def test_conventional_minimum_distances() -> None:
    # Sleepers are charged at least 400 km, express at least 100 km, the ticket 20 km.
    def supplement(km: int) -> int:
        return fare(R, "K", SeatClass.HARD_SLEEPER, km) - fare(R, "K", SeatClass.HARD_SEAT, km)

    assert abs(supplement(50) - supplement(400)) <= 100
    assert supplement(1000) > supplement(400) + 1000
    assert fare(R, "K", SeatClass.HARD_SEAT, 5) == fare(R, "K", SeatClass.HARD_SEAT, 10)


def test_rounding_units() -> None:
    assert round_to(124.9, 50) == 100
    assert round_to(125.0, 50) == 150
    assert round_to(174.9, 50) == 150
    assert round_to(149.0, 100) == 100
    assert round_to(150.0, 100) == 200
    assert all(fare(R, "G", SeatClass.SECOND, km) % 50 == 0 for km in range(1, 400, 7))
    assert all(fare(R, "K", SeatClass.HARD_SEAT, km) % 100 == 0 for km in range(1, 400, 7))


def test_zone_midpoints() -> None:
    assert zone_km(R.zones, 1) == 5
    assert zone_km(R.zones, 10) == 5
    assert zone_km(R.zones, 11) == 15
    assert zone_km(R.zones, 201) == 210
    assert zone_km(R.zones, 1463) == 1475
    assert zone_km(R.zones, 3000) == 3020


def test_tapered_km() -> None:
    assert tapered_km(R.emu_bands, 400) == 400
    assert tapered_km(R.emu_bands, 600) == pytest.approx(590)
    assert tapered_km(R.emu_bands, 3000) == pytest.approx(500 + 450 + 400 + 700 + 300)


def test_passenger_types_on_emu() -> None:
    adult = fare(R, "G", SeatClass.SECOND, 1318)
    assert fare(R, "G", SeatClass.SECOND, 1318, PassengerType.CHILD) == adult // 2
    assert fare(R, "G", SeatClass.SECOND, 1318, PassengerType.STUDENT) == 41550  # 75 %
    first = fare(R, "G", SeatClass.FIRST, 1318)
    assert fare(R, "G", SeatClass.FIRST, 1318, PassengerType.STUDENT) == first
    # 886.5 × 0.5 = 443.25 → 443.5
    assert fare(R, "G", SeatClass.FIRST, 1318, PassengerType.DISABLED_MILITARY) == 44350


def test_passenger_types_on_conventional() -> None:
    seat = fare(R, "T", SeatClass.HARD_SEAT, 1463)
    child_seat = fare(R, "T", SeatClass.HARD_SEAT, 1463, PassengerType.CHILD)
    assert child_seat == 8700  # 174.44 / 2 = 87.22 → 87
    assert abs(child_seat - seat / 2) <= 100
    sleeper = fare(R, "T", SeatClass.HARD_SLEEPER, 1463)
    child_sleeper = fare(R, "T", SeatClass.HARD_SLEEPER, 1463, PassengerType.CHILD)
    # The sleeper supplement is paid in full: a child saves only the seat half.
    assert sleeper - child_sleeper == pytest.approx(seat - child_seat, abs=200)
    student_soft = fare(R, "T", SeatClass.SOFT_SLEEPER, 1463, PassengerType.STUDENT)
    assert student_soft == fare(R, "T", SeatClass.SOFT_SLEEPER, 1463)
    student_hard = fare(R, "T", SeatClass.HARD_SLEEPER, 1463, PassengerType.STUDENT)
    assert student_hard == child_sleeper


def test_wrong_class_type_or_distance() -> None:
    with pytest.raises(DomainError) as err:
        fare(R, "G", SeatClass.HARD_SLEEPER, 100)
    assert err.value.reason == "not_on_train"
    with pytest.raises(DomainError):
        fare(R, "K", SeatClass.SECOND, 100)
    with pytest.raises(DomainError) as err:
        fare(R, "X", SeatClass.SECOND, 100)
    assert err.value.field == "train_type"
    with pytest.raises(DomainError) as err:
        fare(R, "G", SeatClass.SECOND, 0)
    assert err.value.field == "km"


def test_minimum_fare_and_configurable_rules() -> None:
    assert fare(R, "G", SeatClass.SECOND, 1) == R.minimum_fen
    cheaper = dataclasses.replace(R, hsr_second_per_km=0.23)
    assert fare(cheaper, "G", SeatClass.SECOND, 1318) == 27700
    no_uplift = dataclasses.replace(R, new_aircon_uplift=0.0)
    assert fare(no_uplift, "T", SeatClass.HARD_SEAT, 1463) < fare(R, "T", SeatClass.HARD_SEAT, 1463)
    assert FareRules() == R


@given(kms, kms, st.sampled_from("GDC"), st.sampled_from(EMU), st.sampled_from(list(PassengerType)))
def test_emu_fares_grow_with_distance(
    a: int, b: int, kind: str, klass: SeatClass, passenger: PassengerType
) -> None:
    near, far = sorted((a, b))
    assert fare(R, kind, klass, near, passenger) <= fare(R, kind, klass, far, passenger)


@given(
    kms, kms, st.sampled_from("ZTK"), st.sampled_from(CONV), st.sampled_from(list(PassengerType))
)
def test_conventional_fares_grow_with_distance(
    a: int, b: int, kind: str, klass: SeatClass, passenger: PassengerType
) -> None:
    near, far = sorted((a, b))
    assert fare(R, kind, klass, near, passenger) <= fare(R, kind, klass, far, passenger)


@given(kms, st.sampled_from("GDC"))
def test_emu_class_order_and_standing(km: int, kind: str) -> None:
    business, first, second, standing = (fare(R, kind, k, km) for k in EMU)
    assert business >= first >= second == standing


@given(kms, st.sampled_from("ZTK"))
def test_conventional_class_order_and_standing(km: int, kind: str) -> None:
    soft, hard, seat, standing = (fare(R, kind, k, km) for k in CONV)
    assert soft >= hard >= seat == standing


@given(kms, st.sampled_from("GDCZTK"), st.sampled_from(list(PassengerType)))
def test_concessions_never_cost_more(km: int, kind: str, passenger: PassengerType) -> None:
    classes = EMU if kind in "GDC" else CONV
    for klass in classes:
        assert fare(R, kind, klass, km, passenger) <= fare(R, kind, klass, km)
