"""Distance-based metro fares: shortest-path distances between stations, priced by bands.

Default bands are the Beijing Subway public fare rule in force since 28 December 2014
(北京市发展和改革委员会《关于调整本市公共交通价格的通知》, announced 2014-12): 3 yuan up
to 6 km, 4 yuan up to 12 km, 5 yuan up to 22 km, 6 yuan up to 32 km, and beyond 32 km one
more yuan for every further 20 km or part of it. Distances are the shortest travel distance
through the network, as Beijing prices a ride regardless of the route actually taken.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from open12306.shared.errors import DomainError
from open12306.transit.domain.operators import Caps, TableFareOperator


@dataclass(frozen=True, slots=True)
class DistanceBands:
    """Fares by distance: (upper metres of a band, fen), then ``step_fen`` per ``step_m``."""

    bands: tuple[tuple[int, int], ...]
    step_m: int
    step_fen: int

    def fare(self, metres: int) -> int:
        for upper, fen in self.bands:
            if metres <= upper:
                return fen
        top, top_fen = self.bands[-1]
        steps = -(-(metres - top) // self.step_m)
        return top_fen + steps * self.step_fen


BEIJING_SUBWAY_BANDS = DistanceBands(
    bands=((6_000, 300), (12_000, 400), (22_000, 500), (32_000, 600)),
    step_m=20_000,
    step_fen=100,
)


def shortest_distances(edges: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str], int]:
    """Metres between every pair of connected stations (Dijkstra from each station).

    ``edges`` are track sections (station, station, metres), usable both ways.
    """
    graph: dict[str, list[tuple[str, int]]] = {}
    for a, b, metres in edges:
        if metres <= 0:
            raise DomainError("edges", "not_positive", f"section {a}-{b} must be > 0 m")
        graph.setdefault(a, []).append((b, metres))
        graph.setdefault(b, []).append((a, metres))
    table: dict[tuple[str, str], int] = {}
    for source in graph:
        for station, metres in _dijkstra(graph, source).items():
            table[(source, station)] = metres
    return table


def _dijkstra(graph: dict[str, list[tuple[str, int]]], source: str) -> dict[str, int]:
    best = {source: 0}
    queue = [(0, source)]
    while queue:
        dist, station = heapq.heappop(queue)
        if dist > best[station]:
            continue
        for neighbour, metres in graph[station]:
            candidate = dist + metres
            if candidate < best.get(neighbour, candidate + 1):
                best[neighbour] = candidate
                heapq.heappush(queue, (candidate, neighbour))
    return best


def metro_operator(
    operator_id: str,
    edges: Iterable[tuple[str, str, int]],
    bands: DistanceBands = BEIJING_SUBWAY_BANDS,
    caps: Caps | None = None,
    cancel_window_s: int = 20 * 60,
    max_journey_s: int = 4 * 3600,
) -> TableFareOperator:
    """A metro priced by shortest distance between stations through its sections."""
    distances = shortest_distances(edges)
    fares = {pair: bands.fare(metres) for pair, metres in distances.items()}
    return TableFareOperator(operator_id, fares, caps or Caps(), cancel_window_s, max_journey_s)
