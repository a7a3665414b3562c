from datetime import date, timedelta

from open12306.catalog.domain.routes import RouteIndex, TransferRules, direct_legs, transfers
from open12306.catalog.domain.timetable import StopTime, Train

DAY0 = date(2026, 12, 1)


def train(code: str, *stops: tuple[str, int | None, int | None, int]) -> Train:
    return Train(code, tuple(StopTime(*s) for s in stops), "emu-8")


G1 = train("G1", ("AAA", None, 480, 0), ("BBB", 540, 542, 100), ("CCC", 600, None, 200))
Z9 = train("Z9", ("AAA", None, 1320, 0), ("BBB", 1500, 1505, 300), ("DDD", 1800, None, 600))
K2 = train("K2", ("CCC", None, 480, 0), ("BBB", 540, 545, 100), ("AAA", 600, None, 200))
C5 = train("C5", ("BBX", None, 700, 0), ("EEE", 760, None, 90))
C6 = train("C6", ("BBB", None, 560, 0), ("EEE", 640, None, 90))
INDEX = RouteIndex([G1, Z9, K2, C5, C6])
EVERY_DAY = lambda code, day: True  # noqa: E731


def test_direct_leg_respects_direction_and_order() -> None:
    legs = direct_legs(INDEX, {"AAA"}, {"CCC"}, DAY0, EVERY_DAY)
    assert [leg.train.code for leg in legs] == ["G1"]
    assert (legs[0].i, legs[0].j, legs[0].km, legs[0].minutes) == (0, 2, 200, 120)
    assert direct_legs(INDEX, {"CCC"}, {"BBB"}, DAY0, EVERY_DAY)[0].train.code == "K2"


def test_boarding_after_midnight_maps_to_previous_service_date() -> None:
    legs = direct_legs(INDEX, {"BBB"}, {"DDD"}, DAY0, EVERY_DAY)
    assert len(legs) == 1
    assert legs[0].service_date == DAY0 - timedelta(days=1)
    assert legs[0].departs == DAY0.toordinal() * 1440 + 1505 - 1440


def test_runs_that_do_not_exist_are_not_offered() -> None:
    only_today = lambda code, day: day == DAY0  # noqa: E731
    assert direct_legs(INDEX, {"BBB"}, {"DDD"}, DAY0, only_today) == []


def test_transfer_same_station_and_same_city() -> None:
    city = {"BBB": "B", "BBX": "B"}
    siblings = {"BBB": ["BBB", "BBX"], "BBX": ["BBB", "BBX"]}
    found = transfers(
        INDEX,
        {"AAA"},
        {"EEE"},
        DAY0,
        EVERY_DAY,
        lambda code: city.get(code, code),
        lambda code: siblings.get(code, [code]),
        TransferRules(min_same_station=15, min_same_city=60, max_wait=360),
    )
    pairs = {(t.first.train.code, t.second.train.code): t for t in found}
    # G1 reaches BBB at 09:00: C6 leaves BBB at 09:20 (same station, 20 min >= 15).
    assert pairs[("G1", "C6")].same_station and pairs[("G1", "C6")].wait == 20
    # C5 leaves BBX (same city) at 11:40: 160 min later, allowed (>= 60).
    assert not pairs[("G1", "C5")].same_station
    assert found[0].first.train.code == "G1" and found[0].second.train.code == "C6"


def test_transfer_needs_enough_time() -> None:
    found = transfers(
        INDEX,
        {"AAA"},
        {"EEE"},
        DAY0,
        EVERY_DAY,
        lambda code: code,
        lambda code: [code],
        TransferRules(min_same_station=30),
    )
    assert all(t.wait >= 30 for t in found)
    assert ("G1", "C6") not in {(t.first.train.code, t.second.train.code) for t in found}
