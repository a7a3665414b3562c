"""The HTTP API (FastAPI), with a raw ASGI fast path for search answers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from open12306 import __version__
from open12306.bootstrap import Container, embedded_sandbox
from open12306.bootstrap.embedded_payments import SANDBOX_PATH
from open12306.bootstrap.order_desk import OrderDesk, RemoteIntake
from open12306.http import openapi_doc
from open12306.http.accounts import accounts_router
from open12306.http.body_guard import BodyGuard, BodyLimits
from open12306.http.calendar import calendar_router
from open12306.http.docs_page import mount_docs
from open12306.http.errors import error_body, errors, plain_error
from open12306.http.faces import include_face_routes
from open12306.http.gates import include_gate_routes
from open12306.http.onboard import onboard_router_for
from open12306.http.orders import orders_router, payments_router
from open12306.http.orders_fast import OrderFastPath
from open12306.http.ride import debts_router, ride_router
from open12306.http.web import mount_web
from open12306.search.services.itineraries import ItineraryWarmer
from open12306.search.services.query import parse_date, parse_search
from open12306.search.services.run_view import run_view
from open12306.search.services.search import Basis
from open12306.shared.errors import DomainError
from open12306.shared.run_key import RunKey

log = logging.getLogger("open12306.api")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_encoder = msgspec.json.Encoder()
JSON_HEADERS = [(b"content-type", b"application/json")]
SEARCH_PATH = "/api/v1/search"
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def search_answer(container: Container, params: dict[str, str]) -> tuple[int, bytes, Basis | None]:
    """Status, JSON body and what the answer depends on (None for errors)."""
    try:
        query = parse_search(params)
        answer, basis = container.search.answer(query)
        return 200, _encoder.encode(answer), basis
    except DomainError as error:
        return error.status, _encoder.encode(error_body(error)), None


STALENESS_SECONDS = 1.0
# How often each server process reads the store's change feed (and the session revocation
# count) while requests wait on orders, and while none does.
FOLLOW_SECONDS = 0.05
FOLLOW_IDLE_SECONDS = 0.25
# How late a change made by another process (another worker, a separate allocator) may show
# here: an answer made just before this process read the feed is served for the staleness
# bound; a logout elsewhere ends the session here after the next read.
CROSS_WORKER_STALENESS_SECONDS = STALENESS_SECONDS + FOLLOW_IDLE_SECONDS


class SearchCache:
    """Encoded answers keyed by query string, with an explicit staleness bound.

    An answer younger than ``max_age`` seconds is served as it is, even when a run it shows
    sold seats since (12306 shows cached counts; the order path is authoritative). An older
    one stays valid while every run it shows keeps its inventory version (and the day has not
    changed), so a sale on one train does not flush answers about others. A sale made in this
    process thus shows within ``max_age``; one made by another process once this process has
    read it from the change feed (``_follow_changes``), within
    ``CROSS_WORKER_STALENESS_SECONDS`` in all.
    """

    def __init__(
        self,
        container: Container,
        limit: int = 50_000,
        *,
        max_age: float = STALENESS_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.container = container
        self.limit = limit
        self.max_age = max_age
        self._monotonic = monotonic
        self._entries: dict[bytes, _Entry] = {}

    def answer(self, query_string: bytes) -> tuple[int, bytes]:
        held = self.lookup(query_string)
        return held if held is not None else self.compute(query_string)

    def lookup(self, query_string: bytes) -> tuple[int, bytes] | None:
        """The held answer when it may still be served, else None (no search is made)."""
        read_model = self.container.read_model
        read_model.refresh()
        held = self._entries.get(query_string)
        if held is None or held.day != self.container.window.today() or not self._in_time(held):
            return None
        generation = read_model.generation
        if held.generation == generation or self._monotonic() - held.made < self.max_age:
            return held.status, held.body
        version = read_model.version
        if all(version(key) == seen for key, seen in held.deps):
            held.generation = generation  # nothing it shows changed: valid again
            return held.status, held.body
        return None

    def ready(self, query_string: bytes) -> bool:
        """True when computing the answer needs no route search (itineraries precomputed)."""
        params = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
        try:
            return self.container.search.ready(parse_search(params))
        except DomainError:
            return True

    def compute(self, query_string: bytes) -> tuple[int, bytes]:
        """Search now and hold the answer."""
        read_model = self.container.read_model
        today = self.container.window.today()
        generation = read_model.generation
        made = self._monotonic()
        params = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
        status, body, basis = search_answer(self.container, params)
        if len(self._entries) >= self.limit:
            self._entries.clear()
        deps = tuple(basis.versions.items()) if basis else ()
        until = basis.valid_until if basis else None
        self._entries[query_string] = _Entry(today, generation, deps, until, status, body, made)
        return status, body

    def _in_time(self, entry: _Entry) -> bool:
        return entry.valid_until is None or self.container.window.now_minute() < entry.valid_until


@dataclass(slots=True)
class _Entry:
    day: date
    generation: int
    deps: tuple[tuple[tuple[str, date], int], ...]
    valid_until: int | None
    status: int
    body: bytes
    made: float


class SearchFastPath:
    """Serves GET /api/v1/search straight from the cache, bypassing the framework."""

    def __init__(self, app: ASGIApp, cache: SearchCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != SEARCH_PATH
            or scope["method"] not in ("GET", "HEAD")
        ):
            await self.app(scope, receive, send)
            return
        try:
            status, body = await self._answer(scope["query_string"])
        except Exception:
            log.exception("search failed")
            status = 500
            body = _encoder.encode(plain_error("", "internal", "internal error"))
        headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": body if scope["method"] == "GET" else b""}
        )

    async def _answer(self, query_string: bytes) -> tuple[int, bytes]:
        """Held answers and counting on the loop; a route search in a worker thread."""
        held = self.cache.lookup(query_string)
        if held is not None:
            return held
        if self.cache.ready(query_string):
            return self.cache.compute(query_string)
        return await run_in_threadpool(self.cache.compute, query_string)


def _json(status: int, body: Any) -> Response:
    return Response(_encoder.encode(body), status_code=status, media_type="application/json")


def create_app(
    container: Container, *, fast_path: bool = True, search_max_age: float = STALENESS_SECONDS
) -> ASGIApp:
    """The ASGI application: API routes, docs with local assets, JSON errors.

    ``search_max_age``: the staleness bound of search answers in seconds (see SearchCache)."""
    app = FastAPI(
        title="open12306",
        version=__version__,
        description="Railway ticketing: stations, timetables, runs and search.",
        docs_url=None,
        redoc_url=None,
    )
    openapi_doc.install(app)
    cache = SearchCache(container, max_age=search_max_age)
    mount_docs(app)
    _install_error_handlers(app)

    mount_web(app)

    @app.get("/api/v1/health", tags=["ops"])
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "trains": len(container.catalog.trains),
            "runs": len(container.read_model.runs),
            "database": container.store.dialect,
            "allocator": _allocator_health(container),
        }

    @app.get("/api/v1/stations", tags=["network"])
    def stations(
        q: str = Query(..., min_length=1, max_length=64, description="name, telecode or pinyin"),
        limit: int = Query(10, ge=1, le=100),
    ) -> Response:
        """Stations matching a name, telecode, pinyin or pinyin-initials prefix (autocomplete)."""
        index = container.catalog.stations
        found = index.search(q.strip(), limit)
        body: dict[str, Any] = {
            "query": q,
            "stations": [s.as_dict() for s in found],
        }
        if not found:
            body["suggestions"] = [s.brief() for s in index.suggest(q, 8)]
        return _json(200, body)

    @app.get("/api/v1/search", tags=["search"])
    def search(
        request: Request,
        from_: str = Query(
            ..., alias="from", description="station or city: name, telecode, pinyin"
        ),
        to: str = Query(..., description="station or city"),
        date: str = Query(..., description="boarding date YYYY-MM-DD"),
        transfers: str = Query("0", description="1 to always include one-change itineraries"),
        types: str = Query("", description="train types, e.g. G,D"),
        depart_after: str | None = Query(None, description="HH:MM"),
        depart_before: str | None = Query(None, description="HH:MM"),
        sort: str = Query("depart", description="depart, arrive, duration or price"),
    ) -> Response:
        """Trains from a city or station to another on a boarding date, with remaining seats and
        prices per class; one-change itineraries when direct trains are few or when asked."""
        status, body = cache.answer(request.scope["query_string"])
        return Response(body, status_code=status, media_type="application/json")

    @app.get("/api/v1/runs/{train}/{day}", tags=["network"], responses=errors(404))
    def run(train: str, day: str) -> Response:
        """One run: stops with times, coach composition and per-segment load by class."""
        try:
            service_date = parse_date(day, "date")
            container.read_model.refresh()
            return _json(200, run_view(container.read_model, container.window, train, service_date))
        except DomainError as error:
            return _json(error.status, error_body(error))

    app.include_router(calendar_router(lambda: container.window))
    app.include_router(
        accounts_router(lambda: container.accounts, container.settings.trusted_proxies)
    )
    _include_orders(app, container)

    limits = BodyLimits.of_openapi(app.openapi())
    if not fast_path:
        return BodyGuard(app, limits)
    orders = OrderFastPath(
        app,
        lambda: container.orders,
        lambda: container.accounts,
        container.settings.trusted_proxies,
    )
    return BodyGuard(SearchFastPath(orders, cache), limits)


def _include_orders(app: FastAPI, container: Container) -> None:
    """Order routes, and the allocator loop running while the server runs (embedded mode)."""
    orders, loop = container.orders, container.allocator_loop
    app.include_router(
        orders_router(
            lambda: orders, lambda: container.accounts, container.settings.trusted_proxies
        )
    )
    codes, credentials = container.ticket_codes, container.ride_credentials
    app.include_router(ride_router(lambda: codes, lambda: credentials, lambda: container.accounts))
    debts, token_of = container.debts, container.account_token_of
    app.include_router(debts_router(lambda: debts, token_of, lambda: container.accounts))
    settlement = container.settlement
    app.include_router(
        payments_router(
            lambda: settlement,
            lambda: container.accounts,
            changes_getter=lambda: container.changes,
        )
    )
    app.include_router(onboard_router_for(container))
    sandbox = embedded_sandbox(container)  # embedded mode: pay through the sandbox, in process
    if sandbox is not None:
        app.mount(SANDBOX_PATH, sandbox.app)
    inner = app.router.lifespan_context
    seeds = _warm_pairs(container)

    @asynccontextmanager
    async def lifespan(asgi: Any) -> AsyncIterator[Any]:
        desk = None
        if container.settings.allocator == "process":
            desk = _start_desk(container)
            loop.intake = None
        loop.start()
        warmer = ItineraryWarmer(
            container.search.itineraries, container.window.bounds, lambda: seeds
        )
        warmer.start()
        follower = asyncio.create_task(_follow_changes(container))
        try:
            async with inner(asgi) as state:
                yield state
        finally:
            follower.cancel()
            warmer.stop()
            loop.stop()
            if desk is not None:
                desk.stop()
            if sandbox is not None:
                await sandbox.notifier.aclose()

    app.router.lifespan_context = lifespan
    include_face_routes(app, container)
    include_gate_routes(app, container)


def _allocator_health(container: Container) -> dict[str, Any]:
    """The allocator's mode, and in the thread and process modes (the allocator in this
    process, or the order desk's) its decoded runs and how often an order found its run
    decoded."""
    desk = container.orders.desk
    if isinstance(desk, RemoteIntake):
        health = desk.health()
        shown = ("decoded_runs", "cache_runs", "cache_hits", "cache_misses")
        counts = {k: health.pop(k, None) for k in shown}
        return {"mode": "process", **counts, "desk": health}
    if container.settings.allocator != "thread":
        return {"mode": container.settings.allocator, "decoded_runs": None}
    cache = container.allocator.cache
    return {
        "mode": "thread",
        "decoded_runs": len(cache),
        "cache_runs": cache.size,
        "cache_hits": cache.hits,
        "cache_misses": cache.misses,
    }


def _warm_pairs(container: Container) -> list[tuple[frozenset[str], frozenset[str]]]:
    """The stations of OPEN12306_SEARCH_WARM_PAIRS; a pair naming no station stops the start."""
    try:
        return [container.search.pair_codes(*p) for p in container.settings.search_warm_pairs]
    except DomainError as error:
        raise SystemExit(f"OPEN12306_SEARCH_WARM_PAIRS: {error.message}") from None


def _start_desk(container: Container) -> OrderDesk:
    """The order desk child (``OPEN12306_ALLOCATOR=process``): submissions go to it."""
    orders = container.orders
    desk = OrderDesk.start(
        container.settings,
        orders.watch,
        timeout=orders.intake.timeout,
        max_pending=orders.intake.max_pending,
    )
    orders.desk = desk.intake
    return desk


async def _follow_changes(container: Container) -> None:
    """Follow what other processes (other workers, separate allocators) change in the store:
    read the change feed into the read model (so search answers show their sales within
    ``CROSS_WORKER_STALENESS_SECONDS``) and wake the waiters of the runs that moved, and drop
    kept sessions after a logout elsewhere. Every ``FOLLOW_SECONDS`` while requests wait on
    orders, else every ``FOLLOW_IDLE_SECONDS``. Reading the feed here, ahead of the search
    path's own refresh (at most once a second), keeps that refresh from taking moved runs
    whose waiters it would not wake."""
    orders = container.orders
    while True:
        await asyncio.sleep(FOLLOW_SECONDS if orders.watch.waiting else FOLLOW_IDLE_SECONDS)
        try:
            moved = await run_in_threadpool(_follow_once, container)
        except Exception:
            log.exception("following the store's changes failed")
            continue
        if moved:
            orders.watch.notify_runs(moved)


def _follow_once(container: Container) -> list[RunKey]:
    """One look at the store: the runs whose inventories other processes moved."""
    container.accounts.forget_revoked_elsewhere()
    return container.read_model.pull()


def allowed_methods(app: FastAPI, scope: Scope, said: str = "") -> str:
    """The ``Allow`` value for the path of ``scope``: every method some route takes there, and
    those the refusing app ``said`` (a mount decides for itself; static files say nothing and
    serve GET and HEAD)."""
    methods = {m.strip() for m in said.split(",") if m.strip()}
    for method in _METHODS:
        probe = {**scope, "method": method}
        for route in app.router.routes:
            match, _ = route.matches(probe)
            if match is Match.FULL:
                if not isinstance(route, Mount):
                    methods.add(method)
                break
    if scope["path"] == SEARCH_PATH:
        methods.add("HEAD")  # answered by the fast path
    return ", ".join(sorted(methods or {"GET", "HEAD"}))


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, error: DomainError) -> Response:
        response = _json(error.status, error_body(error))
        response.headers.update(getattr(error, "headers", None) or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        if first.get("type") == "json_invalid":
            detail = (first.get("ctx") or {}).get("error", "malformed")
            return _json(400, plain_error("body", "malformed_json", f"body: {detail}"))
        location = [
            str(part) for part in first.get("loc", ()) if part not in ("query", "path", "body")
        ]
        field = ".".join(location) or "request"
        message = f"{field}: {first.get('msg', 'invalid')}"
        return _json(400, plain_error(field, "invalid", message))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 405:
            said = (error.headers or {}).get("Allow", "")
            allowed = allowed_methods(app, request.scope, said)
            body = plain_error("method", "not_allowed", f"allowed here: {allowed}")
            return Response(
                _encoder.encode(body), 405, {"Allow": allowed}, media_type="application/json"
            )
        if error.status_code == 400:  # FastAPI could not read the body (e.g. not UTF-8)
            return _json(400, plain_error("body", "malformed", str(error.detail)))
        reason = "not_found" if error.status_code == 404 else "http_error"
        return _json(error.status_code, plain_error("path", reason, str(error.detail)))

    @app.exception_handler(Exception)
    async def crashed(_: Request, error: Exception) -> Response:
        log.exception("request failed", exc_info=error)
        return JSONResponse(plain_error("", "internal", "internal error"), status_code=500)
