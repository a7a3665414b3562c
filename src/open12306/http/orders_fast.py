"""``POST /api/v1/orders`` without the framework, for submissions that are plainly valid.

At a release minute almost every order is well formed, and the framework's routing, body
validation and dependency resolution cost as much as the order itself. This path takes a JSON
body that decodes into the order's shape (``OrderBody``, no looser than the route's model), a
bearer token of a live session, an optional ``Idempotency-Key`` and ``wait``, and answers as
the route does (202 with the order; a refused order with its DomainError's status, body and
headers). Anything else (no or unknown token, a body or query the strict decoder does not take,
an odd header) is handed to the framework's route with the body replayed, so every error is the
route's own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Annotated, Any
from urllib.parse import parse_qsl

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from open12306.accounts.ports import Account
from open12306.accounts.services.accounts import AccountService
from open12306.http.client_address import client_address, trusted_networks
from open12306.http.errors import error_body, plain_error
from open12306.http.orders import MAX_WAIT, submission_answer
from open12306.inventory.domain.seats import SeatClass
from open12306.sales.ports import OrderRecord
from open12306.sales.services.intake import IntakeBusy, Submission
from open12306.sales.services.orders import (
    OrderRequest,
    OrderService,
    PreparingDesk,
    SignedOut,
    parse_berths,
)
from open12306.shared.errors import DomainError

log = logging.getLogger("open12306.api.orders")
ORDERS_PATH = "/api/v1/orders"
_HEADERS = [(b"content-type", b"application/json")]
_encoder = msgspec.json.Encoder()
Short = Annotated[str, msgspec.Meta(max_length=16)]
Place = Annotated[str, msgspec.Meta(max_length=64)]
Letters = Annotated[list[str | None], msgspec.Meta(max_length=5)]


class OrderBody(msgspec.Struct, forbid_unknown_fields=True):
    """The order body as ``orders.OrderIn`` declares it, decoded strictly."""

    train: Short
    date: dt.date
    from_station: Place = msgspec.field(name="from")
    to_station: Place = msgspec.field(name="to")
    seat_class: Short
    passengers: Annotated[list[str], msgspec.Meta(min_length=1, max_length=10)]
    letters: Letters = []
    berths: Letters = []
    together: bool = True
    allow_standing: bool = False


_decoder = msgspec.json.Decoder(OrderBody)


class _Handoff(Exception):
    """The framework's route answers this request."""


class OrderFastPath:
    """Serves plainly valid order submissions; everything else goes on to ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        orders: Callable[[], OrderService],
        accounts: Callable[[], AccountService],
        trusted_proxies: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.orders = orders
        self.accounts = accounts
        self.trusted = trusted_networks(trusted_proxies)
        self.served = 0  # submissions answered here
        self.handed_over = 0  # requests the route answered

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != ORDERS_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        try:
            if more is not None:
                raise _Handoff
            status, answer, headers = await self._answer(scope, body)
        except _Handoff:
            self.handed_over += 1
            await self.app(scope, _replay(body, more, receive), send)
            return
        except Exception:
            log.exception("order submission failed")
            status, headers = 500, []
            answer = _encoder.encode(plain_error("", "internal", "internal error"))
        start: Message = {
            "type": "http.response.start",
            "status": status,
            "headers": [*_HEADERS, *headers, (b"content-length", str(len(answer)).encode())],
        }
        self.served += 1
        await send(start)
        await send({"type": "http.response.body", "body": answer})

    async def _answer(self, scope: Scope, body: bytes) -> tuple[int, bytes, list[Any]]:
        headers = _headers(scope)
        order = _decode(headers, body)
        wait = _wait(scope["query_string"])
        key = headers.get(b"idempotency-key")
        if key is not None and len(key.decode("latin-1")) > 128:
            raise _Handoff
        peer = scope.get("client")
        forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
        client = client_address(peer[0] if peer else None, forwarded, self.trusted)
        request = _request(order)
        idempotency = None if key is None else key.decode("latin-1")
        token = _bearer(headers.get(b"authorization"))
        service = self.orders()
        try:
            desk = service.desk
            if isinstance(desk, PreparingDesk):
                account, record = await self._at_desk(desk, token, request, idempotency, client)
                view = await submission_answer(
                    service, account, request, idempotency, client, wait, admitted=record
                )
            else:
                account, begun = await self._begin(token, request, idempotency, client)
                view = await submission_answer(
                    service, account, request, idempotency, client, wait, begun=begun
                )
        except DomainError as error:
            extra = [
                (k.lower().encode(), v.encode())
                for k, v in (getattr(error, "headers", None) or {}).items()
            ]
            return error.status, _encoder.encode(error_body(error)), extra
        return 202, _encoder.encode(view), []

    async def _at_desk(
        self,
        desk: PreparingDesk,
        token: str,
        request: OrderRequest,
        key: str | None,
        client: str | None,
    ) -> tuple[Account, OrderRecord]:
        """Sign-in, preparation and admission by the order desk process: this process reads
        nothing (a session known in memory is sent along instead of the token)."""
        try:
            known = self.accounts().cached_session(token)
        except DomainError:
            raise _Handoff from None
        future = desk.prepare_and_submit(None if known else token, known, request, key, client)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), desk.timeout)
        except SignedOut:
            raise _Handoff from None
        except TimeoutError:
            future.cancel()
            raise IntakeBusy() from None

    async def _begin(
        self, token: str, request: OrderRequest, key: str | None, client: str | None
    ) -> tuple[Account, Submission | OrderRecord]:
        """The caller's account and the prepared submission, in one worker-thread call when
        the session is not known in memory yet (a session short of live is the route's to
        answer); DomainError when the rules that need no order store refuse it."""
        accounts, orders = self.accounts(), self.orders()
        try:
            known = accounts.cached_session(token)
        except DomainError:
            raise _Handoff from None
        if known is not None:
            return known, await run_in_threadpool(orders.begin, known, request, key, client)
        return await run_in_threadpool(
            _sign_in_and_begin, accounts, orders, token, request, key, client
        )


def _bearer(authorization: bytes | None) -> str:
    """The bearer token; anything else is the route's to answer."""
    if authorization is None:
        raise _Handoff
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _Handoff
    return token


def _sign_in_and_begin(
    accounts: AccountService,
    orders: OrderService,
    token: str,
    request: OrderRequest,
    key: str | None,
    client: str | None,
) -> tuple[Account, Submission | OrderRecord]:
    try:
        account = accounts.authenticate(token)
    except DomainError:
        raise _Handoff from None
    return account, orders.begin(account, request, key, client)


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """The request's headers; one that comes twice is the route's to read."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in found and name != b"x-forwarded-for":
            raise _Handoff
        found[name] = value
    return found


def _decode(headers: dict[bytes, bytes], body: bytes) -> OrderBody:
    kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if kind != b"application/json":
        raise _Handoff
    try:
        order = _decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        raise _Handoff from None
    return order


def _wait(query_string: bytes) -> float:
    wait = 0.0
    waits = [
        v
        for k, v in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        if k == "wait"
    ]
    if len(waits) > 1:
        raise _Handoff
    for value in waits:
        try:
            wait = float(value)
        except ValueError:
            raise _Handoff from None
        if not 0 <= wait <= MAX_WAIT:
            raise _Handoff
    return wait


def _request(order: OrderBody) -> OrderRequest:
    try:
        seat_class = SeatClass(order.seat_class)
        berths = parse_berths(order.berths)
    except (ValueError, DomainError):
        raise _Handoff from None
    return OrderRequest(
        train_code=order.train,
        service_date=order.date,
        from_station=order.from_station,
        to_station=order.to_station,
        seat_class=seat_class,
        passenger_ids=tuple(order.passengers),
        letters=tuple(order.letters),
        berths=berths,
        together=order.together,
        allow_standing=order.allow_standing,
    )


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body; or what was read and the first message that was not body (a
    disconnect), for the route to see."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, more: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that gives the body read already, then what the client sends next."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        if more is not None:
            return more
        return await receive()

    return replay
