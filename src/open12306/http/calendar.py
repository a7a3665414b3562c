"""``GET /api/v1/calendar``: the operator's day and the boarding dates on sale.

Pages take their dates from here, never from the browser's clock or time zone: a passenger
abroad, or a browser whose clock is wrong, still gets the operator's today (Beijing time by
default) and the pre-sale window (``OPEN12306_TIMEZONE``, ``OPEN12306_PRESALE_DAYS``), and can
time a countdown against the server's clock.
"""

# No ``from __future__ import annotations``: FastAPI reads the route signatures at runtime.
from collections.abc import Callable
from datetime import date, datetime, timedelta

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from open12306.search.services.search import PresaleWindow


class SaleCalendar(BaseModel):
    """The operator's calendar by the server's clock."""

    timezone: str = Field(
        description="the operator's time zone (IANA name)", examples=["Asia/Shanghai"]
    )
    now: datetime = Field(
        description="the server's clock in the operator's zone, ISO 8601 with its offset",
        examples=["2026-12-01T07:30:00+08:00"],
    )
    today: date = Field(
        description="the operator's date; the default boarding date", examples=["2026-12-01"]
    )
    first_date: date = Field(
        description="the first boarding date on sale (today)", examples=["2026-12-01"]
    )
    last_date: date = Field(
        description="the last boarding date on sale: today + presale_days - 1",
        examples=["2026-12-15"],
    )
    presale_days: int = Field(ge=1, description="how many boarding dates are on sale")


def sale_calendar(window: PresaleWindow) -> SaleCalendar:
    """The calendar at this moment (one reading of the clock)."""
    now = window.clock.now().astimezone(window.zone)
    today = now.date()
    return SaleCalendar(
        timezone=str(window.zone),
        now=now,
        today=today,
        first_date=today,
        last_date=today + timedelta(days=window.days - 1),
        presale_days=window.days,
    )


def calendar_router(window_getter: Callable[[], PresaleWindow]) -> APIRouter:
    """The route, bound to the pre-sale window the getter returns."""
    router = APIRouter(prefix="/api/v1", tags=["network"])

    @router.get("/calendar", response_model=SaleCalendar)
    def calendar(response: Response) -> SaleCalendar:
        """The operator's today, the boarding dates on sale and the server's clock: what a
        page uses for its date picker (default, min and max) and its countdowns."""
        response.headers["Cache-Control"] = "no-store"
        return sale_calendar(window_getter())

    return router
