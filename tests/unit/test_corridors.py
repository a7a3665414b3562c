import pytest

from open12306.catalog.domain.corridors import (
    Corridor,
    CorridorStation,
    splice,
    validate_corridor,
)
from open12306.shared.errors import DomainError


def _line(cid: str, *stations: tuple[str, int], kind: str = "hsr", speed: int = 350) -> Corridor:
    return Corridor(
        cid,
        cid,
        kind,
        speed,
        tuple(CorridorStation(code, code.lower(), km, km == 0) for code, km in stations),
    )


NORTH = _line("north", ("AAA", 0), ("BBB", 100), ("JJJ", 250))
WEST = _line("west", ("JJJ", 0), ("WWW", 80), ("XXX", 200), speed=300)


def test_splice_joins_at_the_junction() -> None:
    route = splice("through", "A–X", [(NORTH, "AAA", "JJJ"), (WEST, "JJJ", "XXX")])
    assert [s.code for s in route.stations] == ["AAA", "BBB", "JJJ", "WWW", "XXX"]
    assert [s.km for s in route.stations] == [0, 100, 250, 330, 450]
    assert route.max_speed == 300
    assert route.kind == "hsr"


def test_splice_runs_legs_backwards() -> None:
    route = splice("back", "X–A", [(WEST, "XXX", "JJJ"), (NORTH, "JJJ", "AAA")])
    assert [s.code for s in route.stations] == ["XXX", "WWW", "JJJ", "BBB", "AAA"]
    assert [s.km for s in route.stations] == [0, 120, 200, 350, 450]


def test_splice_can_take_part_of_a_line() -> None:
    route = splice("part", "B–W", [(NORTH, "BBB", "JJJ"), (WEST, "JJJ", "WWW")])
    assert [s.km for s in route.stations] == [0, 150, 230]


@pytest.mark.parametrize(
    ("legs", "reason"),
    [
        ([], "empty"),
        ([(NORTH, "AAA", "BBB"), (WEST, "JJJ", "XXX")], "not_joined"),
        ([(NORTH, "AAA", "ZZZ")], "unknown_station"),
        ([(NORTH, "AAA", "AAA")], "empty_leg"),
        (
            [
                (NORTH, "AAA", "JJJ"),
                (_line("c", ("JJJ", 0), ("QQQ", 9), kind="conventional"), "JJJ", "QQQ"),
            ],
            "mixed_kinds",
        ),
    ],
)
def test_bad_splices(legs: list[tuple[Corridor, str, str]], reason: str) -> None:
    with pytest.raises(DomainError) as err:
        splice("bad", "bad", legs)
    assert err.value.reason == reason


def test_validate_corridor_rules() -> None:
    validate_corridor(NORTH)
    with pytest.raises(DomainError) as err:
        validate_corridor(_line("loop", ("AAA", 0), ("BBB", 10), ("AAA", 20)))
    assert err.value.reason == "repeated_station"
    with pytest.raises(DomainError) as err:
        validate_corridor(_line("slow", ("AAA", 0), ("BBB", 10), speed=0))
    assert err.value.reason == "not_positive"
    assert NORTH.major_indices() == (0, 2)
    assert NORTH.length == 250
