"""Builds what the transit operator commands work with (``open12306 transit ...``): the
transit records of the configured database, the settlement and debt services on them, the
payment channels of the environment, gate collector files and the corridors."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from open12306.catalog.adapters.corridor_data import CorridorDataError, load_corridors
from open12306.catalog.domain.corridors import Corridor
from open12306.config import Settings
from open12306.payments.adapters import build_providers
from open12306.payments.adapters.settings import payment_settings_from_env
from open12306.payments.ports import PaymentProvider
from open12306.shared.clock import Clock, FixedClock, SystemClock
from open12306.transit.adapters.transit_repo import SqlTransitStore
from open12306.transit.domain.catalog import OperatorCatalog
from open12306.transit.services.credit_line import CreditLineCharger, TransitCredit
from open12306.transit.services.day_settlement import DebtPayments, TransitSettlement
from open12306.travel.adapters.gate import TapCollector

EXPECTED_ERRORS: tuple[type[Exception], ...] = (CorridorDataError,)
"""What reading the wiring's own data files may raise, reported as one line."""


def clock(now: int | None) -> Clock:
    """The system clock, or one stopped at ``now`` (unix seconds)."""
    if now is None:
        return SystemClock()
    return FixedClock(datetime.fromtimestamp(now, UTC))


def transit_store(clock: Clock) -> SqlTransitStore:
    """The transit records of OPEN12306_DATABASE_URL, stamped by ``clock``."""
    return SqlTransitStore.from_url(Settings.from_env().database_url, clock.now)


def day_settlement(
    store: SqlTransitStore, clock: Clock, catalog: OperatorCatalog
) -> TransitSettlement:
    """Settles service days on the pay-later credit line: failed charges go to arrears and
    the deny list."""
    credit = TransitCredit(store, clock)
    charger = CreditLineCharger(store, store.deny_list, credit, clock)
    return TransitSettlement(store, catalog.operators, charger, store.deny_list, store.arrears)


def debt_payments(
    store: SqlTransitStore, clock: Clock, channels: Mapping[str, PaymentProvider]
) -> DebtPayments:
    return DebtPayments(store, store.deny_list, store.arrears, channels, clock)


def payment_channels() -> Mapping[str, PaymentProvider]:
    """The payment channels configured in the environment (OPEN12306_ALIPAY_*, …);
    ValueError when a channel is enabled with a setting missing."""
    return build_providers(payment_settings_from_env(os.environ))


def collector_taps(path: Path) -> list[dict[str, Any]]:
    """The taps a gate collector file holds (what ``gate sync`` uploaded to it)."""
    with TapCollector(path) as collector:
        return collector.taps()


def corridors() -> dict[str, Corridor]:
    """The packaged corridors by id; CorridorDataError when the data file is broken."""
    return {c.id: c for c in load_corridors()}
