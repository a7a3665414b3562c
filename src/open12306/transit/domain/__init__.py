"""City transit and the walk-up railway ride code: taps, fares, journeys, caps, settlement.

Pure: settlement is a function of the set of taps uploaded so far (see ``settle.py``).
"""

from open12306.transit.domain.gate_rows import taps_from_gate_rows
from open12306.transit.domain.journeys import (
    FLAGGED,
    TAP_ORDER_KEY,
    Journey,
    JourneyStatus,
    pair_journeys,
    tap_order,
)
from open12306.transit.domain.metro import (
    BEIJING_SUBWAY_BANDS,
    DistanceBands,
    metro_operator,
    shortest_distances,
)
from open12306.transit.domain.operators import (
    Caps,
    FlatFareOperator,
    Operator,
    TableFareOperator,
)
from open12306.transit.domain.railway import railway_operator
from open12306.transit.domain.service_day import service_day, service_day_bounds, week_start
from open12306.transit.domain.settle import Charge, PricedJourney, settle_accounts
from open12306.transit.domain.taps import Tap, TapDirection, unique_taps

__all__ = [
    "BEIJING_SUBWAY_BANDS",
    "FLAGGED",
    "TAP_ORDER_KEY",
    "Caps",
    "Charge",
    "DistanceBands",
    "FlatFareOperator",
    "Journey",
    "JourneyStatus",
    "Operator",
    "PricedJourney",
    "TableFareOperator",
    "Tap",
    "TapDirection",
    "metro_operator",
    "pair_journeys",
    "railway_operator",
    "service_day",
    "service_day_bounds",
    "settle_accounts",
    "shortest_distances",
    "tap_order",
    "taps_from_gate_rows",
    "unique_taps",
    "week_start",
]
