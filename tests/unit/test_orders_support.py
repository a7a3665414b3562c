"""Builders shared by the order, refund and ledger tests (no tests here)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from open12306.accounts.domain.identity import Document, DocumentKind, check_character
from open12306.catalog.domain.fares import PassengerType
from open12306.inventory.domain.seats import SeatClass
from open12306.sales.domain import Passenger, SeatAssignment, Trip, order_number

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 2, 10, 8, 0, tzinfo=TZ)


def resident_id(n: int, birth: date = date(1990, 5, 17)) -> str:
    body = f"110105{birth:%Y%m%d}{n % 1000:03d}"
    return body + check_character(body)


def a_passenger(
    n: int = 1, name: str | None = None, kind: PassengerType = PassengerType.ADULT
) -> Passenger:
    document = Document(DocumentKind.RESIDENT_ID, resident_id(n))
    return Passenger(name or f"旅客{n}", document, kind)


def a_trip(
    departs: datetime = NOW + timedelta(days=3),
    minutes: int = 270,
    code: str = "G1",
) -> Trip:
    return Trip(
        train_code=code,
        service_date=departs.date(),
        from_station="VNP",
        to_station="AOH",
        from_stop=0,
        to_stop=3,
        seat_class=SeatClass.SECOND,
        departs_at=departs,
        arrives_at=departs + timedelta(minutes=minutes),
    )


def seats(*fares: int) -> tuple[SeatAssignment, ...]:
    return tuple(
        SeatAssignment(coach=5, seat_label=f"{i + 1:02d}A", fare_fen=fare, seat_index=i)
        for i, fare in enumerate(fares)
    )


ORDER_NO = order_number(1)
