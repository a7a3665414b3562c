"""Settlement service: daily charges through the pay-later channel, arrears and the deny list."""

from __future__ import annotations

from datetime import date

from open12306.catalog.domain.corridors import Corridor, CorridorStation
from open12306.transit.domain import (
    Caps,
    FlatFareOperator,
    Operator,
    Tap,
    TapDirection,
    metro_operator,
    railway_operator,
    service_day_bounds,
)
from open12306.transit.services.day_settlement import (
    MemoryArrears,
    MemoryDenyList,
    apply_charges,
    corrections,
    pay_debt,
    settle_day,
)

DAY = date(2026, 11, 25)
START = service_day_bounds(DAY)[0]
OPERATORS: dict[str, Operator] = {
    "metro": metro_operator("metro", [("A", "B", 5_000), ("B", "C", 10_000)]),
    "bus": FlatFareOperator("bus", 200, Caps(daily_fen=500)),
}


class FakeCharger:
    """Collects from every account except those in ``broke``; remembers each reference once."""

    def __init__(self, broke: set[str]) -> None:
        self.broke = broke
        self.collected: dict[str, int] = {}
        self.calls = 0

    def charge(self, account_token: str, amount_fen: int, reference: str) -> bool:
        self.calls += 1
        if reference in self.collected:
            return True
        if account_token in self.broke:
            return False
        self.collected[reference] = amount_fen
        return True


def taps() -> list[Tap]:
    return [
        Tap("g1/1", "amy", "metro", "A", TapDirection.ENTRY, START + 3_600),
        Tap("g2/1", "amy", "metro", "B", TapDirection.EXIT, START + 5_000),
        Tap("b1/1", "amy", "bus", "r5", TapDirection.BOARD, START + 9_000),
        Tap("b1/2", "bob", "bus", "r5", TapDirection.BOARD, START + 9_100),
        Tap("g1/2", "cat", "metro", "B", TapDirection.ENTRY, START + 9_200),
        Tap("g1/3", "cat", "metro", "B", TapDirection.EXIT, START + 9_300),
    ]


def test_one_charge_per_account_per_day() -> None:
    charges = settle_day(taps(), OPERATORS, DAY)
    assert [(c.account_token, c.amount_fen) for c in charges] == [
        ("amy", 500),
        ("bob", 200),
        ("cat", 0),
    ]


def test_failed_charge_puts_the_account_in_arrears_and_on_the_deny_list() -> None:
    charger = FakeCharger(broke={"bob"})
    deny, arrears = MemoryDenyList(), MemoryArrears()
    outcomes = apply_charges(settle_day(taps(), OPERATORS, DAY), charger, deny, arrears)
    assert [(o.account_token, o.collected) for o in outcomes] == [
        ("amy", True),
        ("bob", False),
        ("cat", True),
    ]
    assert charger.calls == 2  # cat's 0 fen never reaches the channel
    assert deny.accounts() == frozenset({"bob"})
    assert [(d.reference, d.amount_fen) for d in arrears.outstanding("bob")] == [
        ("bob/2026-11-25", 200)
    ]


def test_paying_the_debt_lifts_the_block() -> None:
    charger = FakeCharger(broke={"bob"})
    deny, arrears = MemoryDenyList(), MemoryArrears()
    apply_charges(settle_day(taps(), OPERATORS, DAY), charger, deny, arrears)
    assert pay_debt("bob", charger, deny, arrears) == 200
    assert "bob" in deny.accounts()
    charger.broke.clear()
    assert pay_debt("bob", charger, deny, arrears) == 0
    assert deny.accounts() == frozenset()
    assert arrears.outstanding("bob") == []
    assert charger.collected["bob/2026-11-25"] == 200


def test_late_exit_gives_a_refund_correction() -> None:
    partial = [t for t in taps() if t.tap_id != "g2/1"]
    before = settle_day(partial, OPERATORS, DAY)
    after = settle_day(taps(), OPERATORS, DAY)
    [change] = corrections(before, after)
    assert change.account_token == "amy"
    assert before[0].amount_fen == 700  # the 5 yuan maximum fare, then the 2 yuan bus
    assert change.reference == "amy/2026-11-25"
    assert change.delta_fen == -200  # A→B costs 3 yuan: 2 yuan back


def test_walk_up_railway_and_capped_metro_make_one_daily_charge() -> None:
    jingjin = Corridor(
        "jingjin-intercity",
        "京津城际铁路",
        "intercity",
        350,
        (CorridorStation("VNP", "北京南", 0), CorridorStation("TJP", "天津", 120)),
    )
    operators: dict[str, Operator] = {
        "rail": railway_operator("rail", jingjin),
        "metro": metro_operator("metro", [("A", "B", 5_000)], caps=Caps(daily_fen=800)),
    }
    day: list[Tap] = []
    for n, (op, station, direction, minute) in enumerate(
        [
            ("metro", "A", TapDirection.ENTRY, 0),
            ("metro", "B", TapDirection.EXIT, 15),
            ("rail", "VNP", TapDirection.ENTRY, 40),
            ("rail", "TJP", TapDirection.EXIT, 80),
            ("rail", "TJP", TapDirection.ENTRY, 600),
            ("rail", "VNP", TapDirection.EXIT, 640),
            ("metro", "B", TapDirection.ENTRY, 660),
            ("metro", "A", TapDirection.EXIT, 680),
            ("metro", "A", TapDirection.ENTRY, 700),
            ("metro", "B", TapDirection.EXIT, 720),
        ]
    ):
        day.append(Tap(f"w/{n}", "dan", op, station, direction, START + minute * 60))
    [charge] = settle_day(day, operators, DAY)
    charged = [(p.journey.operator, p.charged_fen) for p in charge.journeys]
    # Metro 3 + 3 + 2 (the 8 yuan daily cap); railway 54 yuan each way, uncapped.
    assert charged == [
        ("metro", 300),
        ("rail", 5_400),
        ("rail", 5_400),
        ("metro", 300),
        ("metro", 200),
    ]
    charger = FakeCharger(broke=set())
    apply_charges([charge], charger, MemoryDenyList(), MemoryArrears())
    assert charger.collected == {"dan/2026-11-25": 11_600}
