"""HTTP routes for orders (/api/v1/orders): submit into the queue, read (optionally waiting for
the allocator's answer), list. Every order is visible to its owner only: anyone else gets 404.

Errors are DomainErrors, turned into ``{"error": {field, reason, message}}`` by the app's
handler (e.g. 409 ``too_many_unpaid``, 404 ``unknown_run``, 400 ``overlapping_trip``).
"""

# No ``from __future__ import annotations``: FastAPI reads the route signatures at runtime.
import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from open12306.accounts.ports import Account
from open12306.accounts.services.accounts import AccountService
from open12306.http.accounts import current_account_dependency, provider
from open12306.http.client_address import client_address, trusted_networks
from open12306.http.errors import errors, plain_error
from open12306.inventory.domain.seats import SeatClass
from open12306.payments.ports import NotificationRejected, PaymentOptions, PayMode
from open12306.sales.domain import OrderState
from open12306.sales.ports import OrderRecord
from open12306.sales.services.changes import (
    ChangeBook,
    ChangeOffer,
    ChangeRequest,
    ChangeResult,
    ChangeService,
    PendingChange,
)
from open12306.sales.services.checkout import Settlement
from open12306.sales.services.intake import IntakeBusy, Submission
from open12306.sales.services.order_view import order_view, trip_view
from open12306.sales.services.orders import OrderRequest, OrderService, parse_berths
from open12306.shared.errors import DomainError

log = logging.getLogger("open12306.api.orders")
MAX_WAIT = 30.0
_POLL = 1.0  # a last resort: changes wake the waiters (see sales.services.order_watch)
_encoder = msgspec.json.Encoder()


class OrderIn(BaseModel):
    """An order: a run (train and service date), a stretch, a class and saved passengers."""

    model_config = ConfigDict(extra="forbid")

    train: str = Field(max_length=16, examples=["G1"])
    date: date
    from_station: str = Field(
        alias="from",
        max_length=64,
        examples=["VNP", "北京南", "beijingnan"],
        description="a stop of the train as search takes stations: telecode, name, pinyin or "
        "initials; a city means the train's stop in that city",
    )
    to_station: str = Field(
        alias="to", max_length=64, examples=["AOH", "上海虹桥"], description="as ``from``"
    )
    seat_class: str = Field(max_length=16, examples=["second"])
    passengers: list[str] = Field(min_length=1, max_length=10)
    letters: list[str | None] = Field(default_factory=list, max_length=5)
    berths: list[str | None] = Field(default_factory=list, max_length=5)
    together: bool = True
    allow_standing: bool = False


def _seat_class(text: str) -> SeatClass:
    try:
        return SeatClass(text)
    except ValueError:
        names = ", ".join(c.value for c in SeatClass)
        raise DomainError("seat_class", "invalid", f"seat classes are {names}") from None


def _json(status: int, body: Any) -> Response:
    return Response(_encoder.encode(body), status_code=status, media_type="application/json")


def _with_queue(service: OrderService, record: OrderRecord, view: dict[str, Any]) -> dict[str, Any]:
    """The view with ``queue`` (position, passengers ahead, estimated wait) while queued."""
    place = service.queue_place(record)
    view["queue"] = (
        None
        if place is None
        else {"position": place.position, "ahead": place.ahead, "wait_seconds": place.wait_seconds}
    )
    return view


def orders_router(
    service_getter: Callable[[], OrderService],
    accounts_getter: Callable[[], AccountService],
    trusted_proxies: Sequence[str] = (),
) -> APIRouter:
    """The routes, bound to the services the getters return. Submissions are counted by the
    caller's address for the slow queue (``client_address``, as logins are)."""
    router = APIRouter(prefix="/api/v1", tags=["orders"])
    trusted = trusted_networks(trusted_proxies)
    Service = Annotated[OrderService, Depends(provider(service_getter))]
    Caller = Annotated[Account, Depends(current_account_dependency(accounts_getter))]

    @router.post("/orders", status_code=202, responses=errors(404, 409, 429))
    async def submit(
        body: OrderIn,
        account: Caller,
        service: Service,
        raw: Request,
        idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
        wait: float = Query(
            0,
            ge=0,
            le=MAX_WAIT,
            description="seconds to wait for the allocator's answer in this request",
        ),
    ) -> Response:
        """Queue an order; it answers at once with the order ``queued`` and its place in the
        queue (``queue``: position, passengers ahead, estimated wait). Poll or wait on
        ``GET /api/v1/orders/{number}?wait=10`` for ``held`` (with a pay deadline) or
        ``failed``; or submit with ``?wait=10`` to get that answer from this request (still
        ``queued`` with its place if the time runs out). Repeating a request with the same
        ``Idempotency-Key`` returns the order the first one made. 409
        ``queue_exceeds_seats`` (排队人数已超过余票) when the passengers queued for the class
        already take its seats left; 429 ``busy`` with ``Retry-After`` when the server sheds
        load."""
        peer = raw.client.host if raw.client else None
        client = client_address(peer, raw.headers.getlist("x-forwarded-for"), trusted)
        request = OrderRequest(
            train_code=body.train,
            service_date=body.date,
            from_station=body.from_station,
            to_station=body.to_station,
            seat_class=_seat_class(body.seat_class),
            passenger_ids=tuple(body.passengers),
            letters=tuple(body.letters),
            berths=parse_berths(body.berths),
            together=body.together,
            allow_standing=body.allow_standing,
        )
        view = await submission_answer(service, account, request, idempotency_key, client, wait)
        return _json(202, view)

    @router.get("/orders")
    def list_orders(
        account: Caller, service: Service, limit: int = Query(50, ge=1, le=200)
    ) -> Response:
        """The account's orders, newest first."""
        records = service.list(account, limit)
        money = service.money(records)
        return _json(200, {"orders": [order_view(r, money[r.number]) for r in records]})

    @router.get("/orders/{number}", responses=errors(404))
    async def get_order(
        number: str,
        account: Caller,
        service: Service,
        wait: float = Query(0, ge=0, le=MAX_WAIT, description="seconds to wait for a change"),
        state: OrderState | None = Query(
            None,
            description="with wait: the state the client last saw; answers at once if the "
            "order has already left it",
        ),
    ) -> Response:
        """One of the account's orders (while queued, with its place in the queue). With
        ``wait``, answers as soon as the order leaves ``state`` (default: the state it is in
        now), or when ``wait`` seconds have passed."""
        if wait > 0:
            record = await _wait_for_change(service, account, number, wait, state)
        else:
            record = await run_in_threadpool(service.get, account, number)
        money = await run_in_threadpool(service.money, [record])
        view = order_view(record, money[record.number])
        return _json(200, await run_in_threadpool(_with_queue, service, record, view))

    return router


class PaymentIn(BaseModel):
    """How to pay: ``credit`` (confirms at once within the credit limit), ``alipay``
    (``mode`` page or wap; ``instalments`` 3/6/12 for Huabei), ``wechatpay`` (QR) or
    ``counter`` (a cashier scans the rider's payment code: ``auth_code``)."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(max_length=16, examples=["credit"])
    mode: str = Field("page", max_length=8)
    instalments: int | None = None
    return_url: str | None = Field(None, max_length=512)
    auth_code: str | None = Field(None, max_length=32, examples=["286648352095823412"])


def _payment_options(body: "PaymentIn | ChangeIn | DestinationIn") -> PaymentOptions:
    try:
        mode = PayMode(body.mode)
    except ValueError:
        raise DomainError("mode", "invalid", "mode is page, wap or qr") from None
    return PaymentOptions(
        mode=mode,
        return_url=body.return_url,
        instalments=getattr(body, "instalments", None),
        auth_code=body.auth_code,
    )


class ChangeTargetIn(BaseModel):
    """Where to change a ticket to (改签): a run and a class between the ticket's own places
    (``from`` / ``to`` default to them; a station of the same city is accepted)."""

    model_config = ConfigDict(extra="forbid")

    train: str = Field(max_length=16, examples=["G3"])
    date: date
    from_station: str | None = Field(None, alias="from", max_length=64)
    to_station: str | None = Field(None, alias="to", max_length=64)
    seat_class: str = Field(max_length=16, examples=["second"])


class ChangeIn(ChangeTargetIn):
    """A change to make: the target, and how a dearer fare's difference is paid (``channel``:
    default the channel that paid the order; see the quote endpoint for the choices)."""

    channel: str | None = Field(None, max_length=16)
    mode: str = Field("page", max_length=8)
    return_url: str | None = Field(None, max_length=512)
    auth_code: str | None = Field(None, max_length=32)


class DestinationTargetIn(BaseModel):
    """A new alighting station on the same train (变更到站); the class kept unless given."""

    model_config = ConfigDict(extra="forbid")

    to_station: str = Field(alias="to", max_length=64, examples=["TIP"])
    seat_class: str | None = Field(None, max_length=16)


class DestinationIn(DestinationTargetIn):
    """A change of destination to make, and how a dearer fare's difference is paid."""

    channel: str | None = Field(None, max_length=16)
    mode: str = Field("page", max_length=8)
    return_url: str | None = Field(None, max_length=512)
    auth_code: str | None = Field(None, max_length=32)


CHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "A dearer change held until it is paid: what to pay, where, by when"},
    **errors(402, 404, 409, 503),
}


def offer_view(offer: ChangeOffer) -> dict[str, Any]:
    """A change priced before it is confirmed."""
    trip, quote = offer.trip, offer.quote
    return {
        "old_ticket": offer.ticket.number,
        **trip_view(trip),
        "old_fare_fen": quote.old_fare_fen,
        "new_fare_fen": quote.new_fare_fen,
        "pay_fen": quote.pay_fen,
        "refund_fen": quote.refund_fen,
        "fee_fen": quote.fee_fen,
        "channel": offer.channel if quote.pay_fen else None,
        "channels": list(offer.channels) if quote.pay_fen else [],
        "remaining": offer.remaining,
    }


def pending_change_view(pending: PendingChange) -> dict[str, Any]:
    """A dearer change held until its payment: what to pay, where, and by when."""
    change = pending.change
    prompt = pending.prompt
    return {
        "order": change.order_number,
        "old_ticket": change.ticket_number,
        "state": "paid" if prompt.state == "paid" else "pending_payment",
        "payment_id": change.id,
        "channel": change.channel,
        "pay_fen": change.amount_fen,
        "pay_deadline": change.deadline.isoformat(),
        "train": change.trip.train_code,
        "date": change.trip.service_date.isoformat(),
        "coach": change.seat.coach,
        "seat": change.seat.seat_label,
        "redirect_url": prompt.redirect_url,
        "qr_content": prompt.qr_content,
    }


def _change_answer(result: ChangeResult | PendingChange) -> Response:
    if isinstance(result, PendingChange):
        status = 200 if result.prompt.state == "paid" else 202
        return _json(status, pending_change_view(result))
    return _json(200, change_view(result))


def change_view(result: ChangeResult) -> dict[str, Any]:
    """A change as the API shows it: the new ticket and the money it moved."""
    new = result.new_ticket
    quote = result.quote
    return {
        "order": result.record.number,
        "old_ticket": result.old_ticket.number,
        "ticket": {
            "number": new.number,
            "train": new.trip.train_code,
            "date": new.trip.service_date.isoformat(),
            "from": new.trip.from_station,
            "to": new.trip.to_station,
            "seat_class": new.trip.seat_class.value,
            "departs_at": new.trip.departs_at.isoformat(),
            "coach": new.coach,
            "seat": new.seat_label,
            "fare_fen": new.fare_fen,
        },
        "pay_fen": quote.pay_fen,
        "refund_fen": quote.refund_fen,
        "fee_fen": quote.fee_fen,
        "payment_id": result.payment_id,
    }


def payments_router(
    settlement_getter: Callable[[], Settlement],
    accounts_getter: Callable[[], AccountService],
    change_book: ChangeBook | None = None,
    changes_getter: Callable[[], ChangeService | None] = lambda: None,
) -> APIRouter:
    """Starting payments, channel notifications, ticket and order refunds, cancels, changes.
    With ``change_book``, a dearer change can be paid through any channel."""
    router = APIRouter(prefix="/api/v1", tags=["payments"])
    Service = Annotated[Settlement, Depends(provider(settlement_getter))]
    Caller = Annotated[Account, Depends(current_account_dependency(accounts_getter))]

    @router.post("/orders/{number}/payments", status_code=201, responses=errors(402, 404, 409, 503))
    def start_payment(number: str, body: PaymentIn, account: Caller, service: Service) -> Response:
        """Start paying a held order; answers with what to show (redirect URL or QR) or,
        for the credit line and a good counter payment code, with the order already paid.
        A refused code is 402 with its reason (``payment_code_invalid``)."""
        prompt = service.start(account, number, body.channel, _payment_options(body))
        return _json(
            201,
            {
                "channel": prompt.channel,
                "payment_id": prompt.payment_id,
                "state": prompt.state,
                "redirect_url": prompt.redirect_url,
                "qr_content": prompt.qr_content,
            },
        )

    @router.post("/payments/notify/{channel}", include_in_schema=False)
    async def notify(channel: str, request: Request, service: Service) -> Response:
        """A channel's asynchronous notification: verified, applied once, acknowledged."""
        body = await request.body()
        headers = dict(request.headers)
        provider = service.providers.get(channel)
        if provider is None:
            return _json(404, plain_error("channel", "unknown_channel", f"no {channel!r}"))
        if change_book is not None:
            change_service(service)  # change payments are confirmed by the change service
        try:
            await run_in_threadpool(service.notify, channel, headers, body)
        except NotificationRejected as rejected:
            log.warning("rejected %s notification: %s", channel, rejected.reason)
            reply = provider.acknowledge(False)
        else:
            reply = provider.acknowledge(True)
        return Response(reply.body, status_code=reply.status, media_type=reply.content_type)

    @router.post("/orders/{number}/tickets/{ticket}/refund", responses=errors(404, 409, 503))
    def refund(number: str, ticket: str, account: Caller, service: Service) -> Response:
        """Refund one ticket: the fee by the time left before departure (12306's ladder),
        the rest back through the channel that paid; the seat goes back on sale."""
        quote = service.refund(account, number, ticket)
        return _json(
            200,
            {
                "ticket": ticket,
                "fare_fen": quote.amount_fen,
                "fee_fen": quote.fee_fen,
                "refund_fen": quote.refund_fen,
                "rate_basis_points": quote.rate,
            },
        )

    @router.post("/orders/{number}/refund", responses=errors(404, 409, 503))
    def refund_order(number: str, account: Caller, service: Service) -> Response:
        """Refund every live ticket of a paid order: a ladder fee per ticket, all seats back
        on sale, one refund through the channel that paid."""
        done = service.refund_order(account, number)
        return _json(
            200,
            {
                "order": number,
                "refund_fen": done.refund_fen,
                "fee_fen": done.fee_fen,
                "refund_no": done.refund_no,
                "tickets": [
                    {
                        "ticket": ticket,
                        "fare_fen": q.amount_fen,
                        "fee_fen": q.fee_fen,
                        "refund_fen": q.refund_fen,
                        "rate_basis_points": q.rate,
                    }
                    for ticket, q in done.quotes
                ],
            },
        )

    @router.post("/orders/{number}/cancel", responses=errors(404, 409))
    def cancel_order(number: str, account: Caller, service: Service) -> Response:
        """Cancel an unpaid held order: its seats go back on sale at once. As on 12306, an
        account that cancelled 3 orders in a day can order no more that day (a new order is
        429 ``too_many_cancels``)."""
        record = service.cancel(account, number)
        return _json(200, order_view(record))

    changes: list[ChangeService] = []

    def change_service(settlement: Settlement) -> ChangeService:
        shared = changes_getter()
        if shared is not None:
            return shared
        if not changes or changes[0].store is not settlement.store:
            changes[:] = [ChangeService.from_settlement(settlement, change_book)]
        return changes[0]

    def _target(body: ChangeTargetIn) -> ChangeRequest:
        return ChangeRequest(
            body.train,
            body.date,
            _seat_class(body.seat_class),
            body.from_station,
            body.to_station,
        )

    @router.post("/orders/{number}/tickets/{ticket}/change/quote", responses=errors(404, 409))
    def change_quote(
        number: str, ticket: str, body: ChangeTargetIn, account: Caller, service: Service
    ) -> Response:
        """Price a change (改签) before confirming it: the new fare, the difference to pay
        (and the channel it goes through by default) or to get back less the fee. Nothing is
        taken or held; the seat count is the search's, not a promise."""
        offer = change_service(service).quote(account, number, ticket, _target(body))
        return _json(200, offer_view(offer))

    @router.post("/orders/{number}/tickets/{ticket}/change", responses=CHANGE_RESPONSES)
    def change(
        number: str, ticket: str, body: ChangeIn, account: Caller, service: Service
    ) -> Response:
        """Change a ticket once (改签) to another run, date or class between the same places:
        the new seat is taken before the old one is given back; a dearer fare's difference
        is paid through ``channel`` (default: the channel that paid the order; anything but
        the credit line holds the new seat and answers 202 with what to pay), a cheaper one
        refunded less the ladder fee on the difference."""
        result = change_service(service).change(
            account, number, ticket, _target(body), body.channel, _payment_options(body)
        )
        return _change_answer(result)

    @router.post("/orders/{number}/tickets/{ticket}/destination/quote", responses=errors(404, 409))
    def destination_quote(
        number: str, ticket: str, body: DestinationTargetIn, account: Caller, service: Service
    ) -> Response:
        """Price a change of destination (变更到站) before confirming it."""
        seat_class = None if body.seat_class is None else _seat_class(body.seat_class)
        offer = change_service(service).quote_destination(
            account, number, ticket, body.to_station, seat_class
        )
        return _json(200, offer_view(offer))

    @router.post("/orders/{number}/tickets/{ticket}/destination", responses=CHANGE_RESPONSES)
    def change_destination(
        number: str, ticket: str, body: DestinationIn, account: Caller, service: Service
    ) -> Response:
        """Change where a ticket ends (变更到站): same train, date and boarding station; it
        counts as the ticket's one change. A dearer fare is paid as for a change."""
        seat_class = None if body.seat_class is None else _seat_class(body.seat_class)
        result = change_service(service).change_destination(
            account,
            number,
            ticket,
            body.to_station,
            seat_class,
            body.channel,
            _payment_options(body),
        )
        return _change_answer(result)

    return router


async def submission_answer(
    service: OrderService,
    account: Account,
    request: OrderRequest,
    key: str | None,
    client: str | None,
    wait: float,
    *,
    begun: Submission | OrderRecord | None = None,
    admitted: OrderRecord | None = None,
) -> dict[str, Any]:
    """Submit (the order its ``key`` made before, if any) and, with ``wait``, wait for the
    allocator's answer: the order as the 202 answer shows it (DomainError when refused).
    ``begun``: what ``OrderService.begin`` gave already for this request; ``admitted``: the
    order an order desk queued for it already."""
    if admitted is None:
        record = await _submit(service, account, request, key, client, begun)
    else:
        record = admitted
        service.on_submit(record)
    if wait > 0 and record.order.state is OrderState.QUEUED:
        record = await _wait_for_change(
            service, account, record.number, wait, OrderState.QUEUED, admitted=record
        )
    if record.order.state is OrderState.QUEUED:
        return await run_in_threadpool(_with_queue, service, record, order_view(record))
    return {**order_view(record), "queue": None}


async def _submit(
    service: OrderService,
    account: Account,
    request: OrderRequest,
    key: str | None,
    client: str | None = None,
    begun: Submission | OrderRecord | None = None,
) -> OrderRecord:
    """``OrderService.submit`` without holding a thread while the batch is admitted; a full
    intake sheds the submission at once (429 with ``Retry-After``)."""
    if begun is None:
        begun = await run_in_threadpool(service.begin, account, request, key, client)
    if isinstance(begun, OrderRecord):
        return begun
    submissions = service.submissions
    future = submissions.enqueue(begun)
    if future is None:
        record = await run_in_threadpool(submissions.submit, begun)
    else:
        try:
            record = await asyncio.wait_for(asyncio.wrap_future(future), submissions.timeout)
        except TimeoutError:
            future.cancel()
            raise IntakeBusy(submissions.retry_after()) from None
    service.on_submit(record)
    return record


async def _wait_for_change(
    service: OrderService,
    account: Account,
    number: str,
    wait: float,
    seen: OrderState | None = None,
    admitted: OrderRecord | None = None,
) -> OrderRecord:
    """Read the order and wait until it leaves ``seen`` (default: the state it is in): woken
    with the order itself when this process changes it, or to read it again when its run
    changed elsewhere (``OrderWatch``), and read again at least every ``_POLL`` s. The waiter
    is registered before each read, so a change between the read and the wait is not missed.
    ``admitted``: the order as the intake just queued it, instead of a first read (a decision
    this process made since is in the watch's ``recent``)."""
    until = time.monotonic() + wait
    record: OrderRecord | None = None
    while True:
        with service.watch.watching(number) as changed:
            if record is None and admitted is not None:
                record = service.watch.recent(number) or admitted
                admitted = None
            if record is None:
                record = await run_in_threadpool(service.get, account, number)
            first = record.order.state if seen is None else seen
            left = until - time.monotonic()
            if record.order.state is not first or left <= 0:
                return record
            seen = first
            trip = record.order.trip
            service.watch.follow(changed, (trip.train_code, trip.service_date))
            try:
                given = await asyncio.wait_for(changed, min(left, _POLL))
            except TimeoutError:
                given = None
        record = given
