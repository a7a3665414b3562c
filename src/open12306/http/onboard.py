"""HTTP routes for staff on the train (/api/v1/runs/{train}/{date}/…): the conductor's
segment manifest, the run manifest a handheld syncs, and tickets sold on board.

Every route needs a staff bearer token (``Authorization: Bearer <token>``): the tokens are
listed, as SHA-256 hashes, in the file named by ``OPEN12306_STAFF_TOKENS`` (format in
``travel.domain.onboard.staff``; no file, no staff). Errors are DomainErrors, turned into
``{"error": {field, reason, message}}`` by the app's handler: 404 ``unknown_train`` /
``unknown_run`` (field ``train`` / ``date``), 422 for a stop with no segment (``stop``),
409 ``sold_out``, ``credit_limit``, 403 ``not_conductor``.
"""

# No ``from __future__ import annotations``: FastAPI reads the route signatures at runtime.
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Header, Query, Response, Security
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from open12306.accounts.domain.identity import Document
from open12306.accounts.domain.passengers import parse_document_kind
from open12306.http.accounts import bearer_token, provider
from open12306.http.errors import errors
from open12306.inventory.domain.seats import SeatClass
from open12306.search.services.query import parse_date
from open12306.shared.errors import DomainError
from open12306.travel.domain.onboard import Occupant, SegmentManifest, StaffMember
from open12306.travel.services.conductor import ConductorService, StaffTokens
from open12306.travel.services.onboard_sales import OnboardSales, SaleRequest, SaleResult, Traveller

if TYPE_CHECKING:
    from open12306.bootstrap import Container

STAFF_TOKENS_ENV = "OPEN12306_STAFF_TOKENS"
STAFF_TOKEN = HTTPBearer(
    scheme_name="staff",
    description=f"A conductor's staff token (listed in the file `{STAFF_TOKENS_ENV}` names)",
    auto_error=False,
)
_encoder = msgspec.json.Encoder()


def staff_tokens_from_env(environ: Mapping[str, str] | None = None) -> StaffTokens:
    """The staff tokens of the file ``OPEN12306_STAFF_TOKENS`` names (none when unset)."""
    path = (environ if environ is not None else os.environ).get(STAFF_TOKENS_ENV, "").strip()
    if not path:
        return StaffTokens()
    return StaffTokens.from_text(Path(path).read_text(encoding="utf-8"))


def _json(status: int, body: Any) -> Response:
    return Response(_encoder.encode(body), status_code=status, media_type="application/json")


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _seat_class(text: str | None) -> SeatClass | None:
    if text is None:
        return None
    try:
        return SeatClass(text)
    except ValueError:
        names = ", ".join(c.value for c in SeatClass)
        raise DomainError("seat_class", "invalid", f"seat classes are {names}") from None


def _occupant(o: Occupant) -> dict[str, Any]:
    return {
        "coach": o.coach,
        "seat": o.seat_label,
        "seat_class": o.seat_class.value,
        "name": o.name,
        "ticket": o.ticket_no,
        "from": o.from_station,
        "to": o.to_station,
        "boards_here": o.boards_here,
        "alights_next": o.alights_next,
        "state": o.state,
    }


def manifest_view(m: SegmentManifest) -> dict[str, Any]:
    """A segment manifest as the conductor's device shows it."""
    return {
        "train": m.train_code,
        "date": m.service_date.isoformat(),
        "segment": m.segment,
        "from": m.from_station,
        "to": m.to_station,
        "seated": [_occupant(o) for o in m.seated],
        "standing": [_occupant(o) for o in m.standing],
        "empty": [
            {"coach": v.coach, "seat_class": v.seat_class.value, "count": v.count, "seats": v.seats}
            for v in m.empty
        ],
        "empty_count": m.empty_count,
        "unticketed": list(m.unticketed),
    }


def sale_view(result: SaleResult) -> dict[str, Any]:
    """A ticket sold on board, with what it cost."""
    t = result.ticket
    price = result.price
    return {
        "order": result.record.number,
        "ticket": {
            "number": t.number,
            "train": t.trip.train_code,
            "date": t.trip.service_date.isoformat(),
            "from": t.trip.from_station,
            "to": t.trip.to_station,
            "seat_class": t.trip.seat_class.value,
            "coach": t.coach,
            "seat": t.seat_label,
            "standing": result.standing,
            "fare_fen": t.fare_fen,
            "state": t.state.value,
        },
        "extends": result.extends,
        "fare_fen": price.fare_fen,
        "fee_fen": price.fee_fen,
        "ridden_fen": price.ridden_fen,
        "surcharge_fen": price.surcharge_fen,
        "total_fen": price.total_fen,
        "total": _yuan(price.total_fen),
        "payment_id": result.payment_id,
        "replayed": result.replayed,
    }


class PassengerIn(BaseModel):
    """A walk-up passenger: name and travel document (real-name rule)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, examples=["王小二"])
    id_type: str = Field(max_length=32, examples=["resident_id"])
    id_number: str = Field(max_length=64)


class OnboardPaymentIn(BaseModel):
    """How the passenger pays: ``credit`` with their account's bearer token (pay later), or a
    scanned payment code (``counter``, when that channel is installed)."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(max_length=16, examples=["credit"])
    account_token: str | None = Field(None, max_length=512)
    code: str | None = Field(None, max_length=512)


class OnboardTicketIn(BaseModel):
    """A ticket sold on board from the stop the train is leaving (``from``) to ``to``: for a
    passenger (补票), or extending a ticket of this run (``extends``, 越站)."""

    model_config = ConfigDict(extra="forbid")

    from_station: str = Field(alias="from", max_length=64, examples=["TIP"])
    to_station: str = Field(alias="to", max_length=64, examples=["AOH"])
    seat_class: str | None = Field(None, max_length=16, examples=["second"])
    passenger: PassengerIn | None = None
    extends: str | None = Field(None, max_length=24)
    payment: OnboardPaymentIn


def onboard_router(
    conductor_getter: Callable[[], ConductorService],
    sales_getter: Callable[[], OnboardSales],
    staff_getter: Callable[[], StaffTokens],
) -> APIRouter:
    """The routes, bound to the services the getters return."""
    router = APIRouter(prefix="/api/v1", tags=["on board"], dependencies=[Security(STAFF_TOKEN)])
    Conductor = Annotated[ConductorService, Depends(provider(conductor_getter))]
    Sales = Annotated[OnboardSales, Depends(provider(sales_getter))]

    def current_staff(
        token: Annotated[str, Depends(bearer_token)],
        tokens: Annotated[StaffTokens, Depends(provider(staff_getter))],
    ) -> StaffMember:
        return tokens.authenticate(token)

    Staff = Annotated[StaffMember, Depends(current_staff)]

    @router.get("/runs/{train}/{day}/manifest", responses=errors(404, 422))
    def manifest(
        train: str,
        day: str,
        staff: Staff,
        conductor: Conductor,
        stop: str = Query(
            ...,
            min_length=1,
            max_length=64,
            description="a stop of the run: telecode, name, pinyin or initials (a city: the "
            "run's stop in it), e.g. TIP or 天津",
        ),
    ) -> Response:
        """Who should be in which seat on the segment leaving ``stop``; standing riders;
        empty seats per coach; seats sold with no ticket on the segment (``unticketed``)."""
        found = conductor.manifest(train, parse_date(day, "date"), stop)
        return _json(200, manifest_view(found))

    @router.get("/runs/{train}/{day}/handheld-manifest", responses=errors(404))
    def handheld_manifest(train: str, day: str, staff: Staff, conductor: Conductor) -> Response:
        """What a handheld syncs to check ticket codes offline: route, live and revoked
        ticket numbers of the run."""
        run = conductor.run_manifest(train, parse_date(day, "date"))
        return _json(
            200,
            {
                "train": run.train_code,
                "date": run.service_date.isoformat(),
                "stations": list(run.stations),
                "live": sorted(run.live),
                "revoked": sorted(run.revoked),
            },
        )

    @router.post(
        "/runs/{train}/{day}/onboard-tickets",
        status_code=201,
        responses={
            200: {"description": "The sale this Idempotency-Key already made"},
            **errors(402, 403, 404, 409, 422, 503),
        },
    )
    def sell(
        train: str,
        day: str,
        body: OnboardTicketIn,
        staff: Staff,
        sales: Sales,
        idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
    ) -> Response:
        """Sell a ticket on board (conductors only): a seat free on every remaining segment,
        else standing; fare + on-board fee (+ the ridden stretch and its surcharge for a
        passenger found past their destination), paid at once."""
        payer = body.payment.account_token or body.payment.code or ""
        traveller = None
        if body.passenger is not None:
            document = Document(
                parse_document_kind(body.passenger.id_type), body.passenger.id_number
            )
            traveller = Traveller(body.passenger.name, document)
        request = SaleRequest(
            train_code=train,
            service_date=parse_date(day, "date"),
            current_stop=body.from_station,
            to_station=body.to_station,
            seat_class=_seat_class(body.seat_class),
            channel=body.payment.channel,
            payer=payer,
            traveller=traveller,
            extends=body.extends,
            idempotency_key=idempotency_key,
        )
        result = sales.sell(staff, request)
        return _json(200 if result.replayed else 201, sale_view(result))

    return router


def onboard_router_for(container: "Container", staff: StaffTokens | None = None) -> APIRouter:
    """The on-board routes on the container's services (staff tokens from the environment)."""
    conductor, sales = container.conductor, container.onboard_sales
    tokens = staff if staff is not None else staff_tokens_from_env()
    return onboard_router(lambda: conductor, lambda: sales, lambda: tokens)
