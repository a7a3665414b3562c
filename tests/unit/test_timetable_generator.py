import random
from collections import Counter

import pytest

from open12306.catalog.adapters.corridor_data import load_corridors, load_through_routes
from open12306.catalog.domain.composition import COMPOSITIONS
from open12306.catalog.domain.corridors import Corridor, CorridorStation
from open12306.catalog.domain.timetable import Train, validate_train
from open12306.catalog.domain.timetable_generator import generate_timetable
from open12306.shared.errors import DomainError

SEED = 2026


@pytest.fixture(scope="module")
def corridors() -> list[Corridor]:
    return load_corridors()


@pytest.fixture(scope="module")
def through(corridors: list[Corridor]) -> list[Corridor]:
    return load_through_routes(corridors)


@pytest.fixture(scope="module")
def trains(corridors: list[Corridor], through: list[Corridor]) -> list[Train]:
    return generate_timetable(corridors, random.Random(SEED), through_routes=through)


def _end(train: Train) -> int:
    return train.arrival(len(train.stops) - 1)


def _hours(train: Train) -> float:
    return (_end(train) - train.departure(0)) / 60


def test_same_seed_same_timetable(
    corridors: list[Corridor], through: list[Corridor], trains: list[Train]
) -> None:
    again = generate_timetable(corridors, random.Random(SEED), through_routes=through)
    assert again == trains
    other = generate_timetable(corridors, random.Random(SEED + 1), through_routes=through)
    assert other != trains


def test_size_validity_and_unique_numbers(trains: list[Train]) -> None:
    assert len(trains) >= 1000
    for train in trains:
        validate_train(train)
        assert train.synthetic
        assert train.composition in COMPOSITIONS
    codes = [t.code for t in trains]
    assert len(set(codes)) == len(codes)
    assert all(1 <= int(code[1:]) <= 9998 for code in codes)


def test_target_scales_the_timetable(corridors: list[Corridor]) -> None:
    small = generate_timetable(corridors, random.Random(1), target=300)
    assert 250 <= len(small) <= 350


def test_all_train_types_on_the_right_lines(
    corridors: list[Corridor], through: list[Corridor], trains: list[Train]
) -> None:
    types = Counter(t.train_type for t in trains)
    assert set(types) == {"G", "D", "C", "Z", "T", "K"}
    for train in trains:
        ends = {train.stops[0].station, train.stops[-1].station}
        lines = [*corridors, *through]
        kinds = {c.kind for c in lines if ends <= {s.code for s in c.stations}}
        expected = {"C": "intercity", "G": "hsr", "D": "hsr"}.get(train.train_type, "conventional")
        assert expected in kinds, train.code


def test_through_trains_cross_the_junction(through: list[Corridor], trains: list[Train]) -> None:
    by_ends = {(r.stations[0].code, r.stations[-1].code): r for r in through}
    found = Counter[str]()
    for train in trains:
        ends = (train.stops[0].station, train.stops[-1].station)
        route = by_ends.get(ends) or by_ends.get(ends[::-1])
        if route is None:
            continue
        found[route.id] += 1
        assert train.stops[-1].km == route.length
        assert train.train_type == "G"
    assert set(found) == {r.id for r in through}
    assert all(n >= 2 for n in found.values())
    beijing_xian = [t for t in trains if t.name == "北京西—西安北"]
    assert beijing_xian and all("ZAF" in {s.station for s in t.stops} for t in beijing_xian)


def test_beijing_shanghai_carries_dozens_each_way(trains: list[Train]) -> None:
    down = [t for t in trains if (t.stops[0].station, t.stops[-1].station) == ("VNP", "AOH")]
    up = [t for t in trains if (t.stops[0].station, t.stops[-1].station) == ("AOH", "VNP")]
    assert len(down) >= 40 and len(up) >= 40
    assert all(t.stops[-1].km == 1318 for t in down + up)


def test_numbering_parity_follows_direction(
    corridors: list[Corridor], through: list[Corridor], trains: list[Train]
) -> None:
    checked = 0
    for train in trains:
        origin, terminus = train.stops[0].station, train.stops[-1].station
        for corridor in [*corridors, *through]:
            order = [s.code for s in corridor.stations]
            if origin in order and terminus in order:
                down = order.index(origin) < order.index(terminus)
                assert (int(train.code[1:]) % 2 == 1) == down, train.code
                checked += 1
                break
    assert checked == len(trains)


def test_overnight_sleepers_pass_midnight(trains: list[Train]) -> None:
    sleepers = [t for t in trains if t.composition == "sleeper-18"]
    assert len(sleepers) >= 30
    for train in sleepers:
        assert train.departure(0) >= 10 * 60
        assert _end(train) > 1440
        assert train.stops[-1].km >= 500


def test_hsr_service_hours(trains: list[Train]) -> None:
    g = [t for t in trains if t.train_type == "G"]
    first = min(t.departure(0) for t in g)
    last = max(t.departure(0) for t in g)
    assert 6 * 60 <= first <= 7 * 60
    assert 20 * 60 <= last <= 22 * 60
    assert all(_end(t) < 1440 for t in g)


def test_realistic_average_speeds(trains: list[Train]) -> None:
    def mean_speed(kind: str) -> float:
        chosen = [t for t in trains if t.train_type == kind]
        return sum(t.stops[-1].km / _hours(t) for t in chosen) / len(chosen)

    assert 240 <= mean_speed("G") <= 320
    assert 160 <= mean_speed("D") <= 250
    assert 100 <= mean_speed("Z") <= 130
    assert 70 <= mean_speed("T") <= 110
    assert 60 <= mean_speed("K") <= 100
    assert mean_speed("G") > mean_speed("D") > mean_speed("Z") > mean_speed("K")


def test_express_and_local_stop_patterns(corridors: list[Corridor], trains: list[Train]) -> None:
    jinghu = next(c for c in corridors if c.id == "jinghu-hsr")
    full = [t for t in trains if t.stops[-1].station == "AOH" and t.stops[0].station == "VNP"]
    counts = [len(t.stops) for t in full]
    assert min(counts) <= len(jinghu.major_indices()) + 2
    assert max(counts) == len(jinghu.stations)


def test_dwell_times(trains: list[Train]) -> None:
    for train in trains:
        for stop in train.stops[1:-1]:
            assert stop.arrive is not None and stop.depart is not None
            dwell = stop.depart - stop.arrive
            limit = 8 if train.train_type in "GDC" else 15
            assert 1 <= dwell <= limit


def test_a_few_holiday_only_trains(trains: list[Train]) -> None:
    extras = [t for t in trains if t.holiday_only]
    assert 4 <= len(extras) <= len(trains) // 20
    assert "G" in {t.train_type for t in extras}
    assert all(int(t.code[1:]) >= 4001 for t in extras)


def test_bad_targets_are_refused(corridors: list[Corridor]) -> None:
    with pytest.raises(DomainError) as err:
        generate_timetable(corridors, random.Random(1), target=0)
    assert err.value.reason == "not_positive"
    shuttle = Corridor(
        "shuttle",
        "shuttle",
        "intercity",
        200,
        (CorridorStation("AAA", "甲", 0), CorridorStation("BBB", "乙", 30)),
    )
    assert len(generate_timetable([shuttle], random.Random(1), target=9998)) == 9998
    with pytest.raises(DomainError) as err:
        generate_timetable([shuttle], random.Random(1), target=10_000)
    assert err.value.reason == "too_many"


def test_works_on_a_small_handmade_corridor() -> None:
    line = Corridor(
        "test",
        "test line",
        "hsr",
        350,
        (
            CorridorStation("AAA", "甲", 0, True),
            CorridorStation("BBB", "乙", 120),
            CorridorStation("CCC", "丙", 300, True),
        ),
    )
    trains = generate_timetable([line], random.Random(3), target=20)
    assert 16 <= len(trains) <= 24
    for train in trains:
        validate_train(train)
        assert train.stops[0].km == 0
        assert train.stops[-1].km in (120, 180, 300)
