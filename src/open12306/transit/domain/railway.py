"""Walk-up railway ride code (12306's intercity 'scan to ride'): second-class fare A→B.

A rider scans in at A and out at B and pays the second-class fare for the corridor distance
between them, computed with the ticket fare rules of ``open12306.catalog.domain.fares``.
"""

from __future__ import annotations

from open12306.catalog.domain.corridors import Corridor
from open12306.catalog.domain.fares import DEFAULT_RULES, FareRules, fare
from open12306.inventory.domain.seats import SeatClass
from open12306.transit.domain.operators import Caps, TableFareOperator


def railway_operator(
    operator_id: str,
    corridor: Corridor,
    rules: FareRules = DEFAULT_RULES,
    train_type: str = "C",
    caps: Caps | None = None,
    cancel_window_s: int = 30 * 60,
    max_journey_s: int = 6 * 3600,
) -> TableFareOperator:
    """Fares between every pair of the corridor's stations, second class on ``train_type``.

    Leaving at the station one entered (after the cancel window) costs the minimum fare.
    """
    line_speed = corridor.max_speed
    fares: dict[tuple[str, str], int] = {}
    for a in corridor.stations:
        for b in corridor.stations:
            km = max(abs(a.km - b.km), 1)
            fares[(a.code, b.code)] = fare(
                rules, train_type, SeatClass.SECOND, km, line_speed=line_speed
            )
    return TableFareOperator(operator_id, fares, caps or Caps(), cancel_window_s, max_journey_s)
