"""The operators settlement prices with, and which operator each gate station belongs to.

Gate journals record the station a tap was made at, not the operator: the catalog says whose
station it is. It is read from a plain document (JSON in the command line)::

    {"operators": [
        {"id": "rail", "kind": "railway", "corridor": "jingjin-intercity", "train_type": "C"},
        {"id": "metro", "kind": "metro", "edges": [["A", "B", 1200], ...],
         "caps": {"daily_fen": 2000, "weekly_fen": 10000}},
        {"id": "bus", "kind": "bus", "fare_fen": 200, "stops": ["route-1", ...]}
    ]}

A station may belong to one operator only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from open12306.catalog.domain.corridors import Corridor
from open12306.shared.errors import DomainError
from open12306.transit.domain.gate_rows import taps_from_gate_rows
from open12306.transit.domain.metro import metro_operator
from open12306.transit.domain.operators import Caps, FlatFareOperator, Operator
from open12306.transit.domain.railway import railway_operator
from open12306.transit.domain.taps import Tap

KINDS = ("railway", "metro", "bus")


@dataclass(frozen=True, slots=True)
class OperatorCatalog:
    """Operators by id, and the operator id of every station (or bus stop) they serve."""

    operators: Mapping[str, Operator]
    station_operator: Mapping[str, str]

    def taps(self, rows: Iterable[Mapping[str, object]]) -> tuple[list[Tap], int]:
        """The accepted ride taps among gate rows, and how many ride rows came from stations
        no operator serves (left out)."""
        by_station: dict[str, list[Mapping[str, object]]] = {}
        unknown = 0
        for row in rows:
            station = str(row.get("station", ""))
            if station in self.station_operator:
                by_station.setdefault(station, []).append(row)
            elif row.get("kind") == "ride":
                unknown += 1
        taps: list[Tap] = []
        for station, own in sorted(by_station.items()):
            taps.extend(taps_from_gate_rows(own, self.station_operator[station]))
        return taps, unknown


def _fail(where: str, message: str) -> DomainError:
    return DomainError("operators", "invalid", f"{where}: {message}")


def _caps(where: str, item: Mapping[str, Any]) -> Caps:
    raw = item.get("caps", {})
    if not isinstance(raw, Mapping) or set(raw) - {"daily_fen", "weekly_fen"}:
        raise _fail(where, "caps must be an object with daily_fen and/or weekly_fen")
    values = [raw.get(name) for name in ("daily_fen", "weekly_fen")]
    if any(v is not None and (isinstance(v, bool) or not isinstance(v, int)) for v in values):
        raise _fail(where, "caps must be whole numbers of fen")
    return Caps(values[0], values[1])


def _railway(
    where: str, item: Mapping[str, Any], corridors: Mapping[str, Corridor]
) -> tuple[Operator, list[str]]:
    corridor = corridors.get(str(item.get("corridor")))
    if corridor is None:
        raise _fail(where, f"unknown corridor {item.get('corridor')!r}")
    train_type = str(item.get("train_type", "C"))
    operator = railway_operator(
        str(item["id"]), corridor, train_type=train_type, caps=_caps(where, item)
    )
    return operator, [s.code for s in corridor.stations]


def _metro(where: str, item: Mapping[str, Any]) -> tuple[Operator, list[str]]:
    raw = item.get("edges")
    if not isinstance(raw, list) or not raw:
        raise _fail(where, "a metro needs a list of edges [station, station, metres]")
    edges: list[tuple[str, str, int]] = []
    for edge in raw:
        if not (isinstance(edge, list) and len(edge) == 3 and isinstance(edge[2], int)):
            raise _fail(where, f"bad edge {edge!r}: expected [station, station, metres]")
        edges.append((str(edge[0]), str(edge[1]), edge[2]))
    operator = metro_operator(str(item["id"]), edges, caps=_caps(where, item))
    return operator, sorted({s for a, b, _ in edges for s in (a, b)})


def _bus(where: str, item: Mapping[str, Any]) -> tuple[Operator, list[str]]:
    fare = item.get("fare_fen")
    stops = item.get("stops")
    if isinstance(fare, bool) or not isinstance(fare, int):
        raise _fail(where, "a bus operator needs fare_fen, a whole number")
    if not isinstance(stops, list) or not stops:
        raise _fail(where, "a bus operator needs a list of stops (validator ids)")
    return FlatFareOperator(str(item["id"]), fare, _caps(where, item)), [str(s) for s in stops]


def catalog_from_config(
    document: Mapping[str, Any], corridors: Mapping[str, Corridor]
) -> OperatorCatalog:
    """Build the catalog; DomainError(field ``operators``) names the faulty entry."""
    items = document.get("operators")
    if not isinstance(items, list) or not items:
        raise _fail("config", "expected an object with a non-empty 'operators' list")
    operators: dict[str, Operator] = {}
    stations: dict[str, str] = {}
    for number, item in enumerate(items):
        where = f"operator #{number}"
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise _fail(where, "expected an object with a string id")
        kind = item.get("kind")
        if kind == "railway":
            operator, served = _railway(where, item, corridors)
        elif kind == "metro":
            operator, served = _metro(where, item)
        elif kind == "bus":
            operator, served = _bus(where, item)
        else:
            raise _fail(where, f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        if operator.id in operators:
            raise _fail(where, f"operator id {operator.id!r} is repeated")
        operators[operator.id] = operator
        for station in served:
            if station in stations:
                raise _fail(where, f"station {station} already belongs to {stations[station]}")
            stations[station] = operator.id
    return OperatorCatalog(operators, stations)
