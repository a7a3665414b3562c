"""The shipped demo operators (``open12306/data/transit_operators.json``): loaded through
``catalog_from_config``, one journey priced per operator (Beijing–Tianjin intercity, Beijing
Subway Line 1 with published inter-station distances, a flat-fare Beijing bus), the caps
applied, and ``transit settle`` using the file when no operators file is named."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from open12306.catalog.adapters.corridor_data import load_corridors
from open12306.cli.transit import DEMO_OPERATORS, OPERATORS_ENV, transit_app
from open12306.transit.adapters.transit_repo import SqlTransitStore
from open12306.transit.domain import (
    FlatFareOperator,
    Tap,
    TapDirection,
    railway_operator,
    service_day_bounds,
    settle_accounts,
)
from open12306.transit.domain.catalog import OperatorCatalog, catalog_from_config

DAY = date(2027, 3, 10)  # a Wednesday
START = service_day_bounds(DAY)[0] + 2 * 3600  # 06:30 Beijing time
CORRIDORS = {c.id: c for c in load_corridors()}
# Line 1 inter-station distances (metres), as the README cites them
LINE_1 = {
    ("M1-WKS", "M1-WSL"): 1778,
    ("M1-WSL", "M1-GZF"): 1313,
    ("M1-GZF", "M1-JSBWG"): 1172,
    ("M1-JSBWG", "M1-MXD"): 1166,
    ("M1-MXD", "M1-NLSL"): 1291,
    ("M1-NLSL", "M1-FXM"): 424,
}


@pytest.fixture(scope="module")
def catalog() -> OperatorCatalog:
    document = json.loads(DEMO_OPERATORS.read_text(encoding="utf-8"))
    return catalog_from_config(document, CORRIDORS)


def ride(n: int, operator: str, origin: str, destination: str | None, at: int) -> list[Tap]:
    """Entry and exit taps of a metro or railway ride, or (no destination) a bus boarding."""
    first = TapDirection.ENTRY if destination is not None else TapDirection.BOARD
    taps = [Tap(f"demo/{n}/in", "a1", operator, origin, first, at)]
    if destination is not None:
        exit_tap = Tap(f"demo/{n}/out", "a1", operator, destination, TapDirection.EXIT, at + 1500)
        taps.append(exit_tap)
    return taps


def charged(taps: list[Tap], catalog: OperatorCatalog) -> dict[str, list[tuple[int, int]]]:
    """(fare, charged) of each journey, by operator."""
    [charge] = settle_accounts(taps, catalog.operators, DAY)
    found: dict[str, list[tuple[int, int]]] = {}
    for priced in charge.journeys:
        found.setdefault(priced.journey.operator, []).append(
            (priced.journey.fare_fen, priced.charged_fen)
        )
    return found


def test_the_file_is_in_the_package_and_names_three_operators(catalog: OperatorCatalog) -> None:
    assert DEMO_OPERATORS.is_file()
    assert DEMO_OPERATORS.parent == Path(__file__).resolve().parents[2] / "src/open12306/data"
    assert set(catalog.operators) == {"rail", "metro", "bus"}
    rail = [s for s, op in catalog.station_operator.items() if op == "rail"]
    assert rail == [s.code for s in CORRIDORS["jingjin-intercity"].stations]
    assert {"VNP", "TJP"} <= set(rail)
    metro = {s for s, op in catalog.station_operator.items() if op == "metro"}
    assert metro == {s for pair in LINE_1 for s in pair}
    bus = catalog.operators["bus"]
    assert isinstance(bus, FlatFareOperator) and bus.fare_fen == 200


def test_one_journey_per_operator_is_priced(catalog: OperatorCatalog) -> None:
    taps = (
        ride(1, "rail", "VNP", "TJP", START)
        + ride(2, "metro", "M1-WKS", "M1-FXM", START + 3 * 3600)
        + ride(3, "bus", "BUS1-V01", None, START + 5 * 3600)
    )
    found = charged(taps, catalog)
    intercity = railway_operator("c", CORRIDORS["jingjin-intercity"], train_type="C")
    express = railway_operator("g", CORRIDORS["jingjin-intercity"], train_type="G")
    rail_fare = intercity.fare("VNP", "TJP")
    assert rail_fare is not None and rail_fare != express.fare("VNP", "TJP")  # C, not G
    assert 4_000 <= rail_fare <= 7_000  # an intercity fare, not a G train's
    assert found["rail"] == [(rail_fare, rail_fare)]
    assert sum(LINE_1.values()) == 7_144  # Wukesong → Fuxingmen: 6–12 km, 4 yuan
    assert found["metro"] == [(400, 400)]
    assert found["bus"] == [(200, 200)]


def test_shorter_metro_rides_and_the_daily_caps(catalog: OperatorCatalog) -> None:
    metro = catalog.operators["metro"]
    assert metro.fare("M1-GZF", "M1-FXM") == 300  # 4,053 m: up to 6 km, 3 yuan
    assert metro.fare("M1-WKS", "M1-MXD") == 300  # 5,429 m
    assert metro.fare("M1-WKS", "M1-NLSL") == 400  # 6,720 m: above 6 km, 4 yuan
    taps: list[Tap] = []
    for n in range(6):  # six 4-yuan rides: 24 yuan, capped at 20
        origin, destination = ("M1-WKS", "M1-FXM") if n % 2 == 0 else ("M1-FXM", "M1-WKS")
        taps += ride(n, "metro", origin, destination, START + n * 3600)
    for n in range(4):  # four boardings: 8 yuan, capped at 6
        taps += ride(10 + n, "bus", f"BUS1-V0{1 + n % 3}", None, START + 1800 + n * 3600)
    found = charged(taps, catalog)
    assert sum(c for _, c in found["metro"]) == 2_000
    assert sum(f for f, _ in found["metro"]) == 2_400
    assert sum(c for _, c in found["bus"]) == 600


def test_settle_uses_the_demo_operators_by_default(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPEN12306_DATABASE_URL", db_url)
    monkeypatch.delenv(OPERATORS_ENV, raising=False)
    store = SqlTransitStore.from_url(db_url)
    store.receive_taps(
        ride(1, "metro", "M1-GZF", "M1-FXM", START) + ride(2, "bus", "BUS1-V02", None, START)
    )
    result = CliRunner().invoke(transit_app, ["settle", "--date", DAY.isoformat(), "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    totals = json.loads(result.stdout)
    assert (totals["accounts"], totals["journeys"], totals["charged_fen"]) == (1, 2, 500)
