"""HTTP routes for accounts, sessions and saved passengers (/api/v1/accounts, /sessions, /me,
/passengers), and the bearer-token dependency other routers use to know the caller.

Errors are DomainErrors, turned into ``{"error": {field, reason, message}}`` by the app's
handler; a refused login also carries ``Retry-After`` itself. Document numbers never leave in
full: responses show them masked, and leave out the birth date, which with a masked resident
ID number would give most of the number back.
"""

# No ``from __future__ import annotations``: FastAPI reads the route signatures at runtime,
# and they use aliases local to ``accounts_router``.
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Annotated, Any, TypeVar

import msgspec
from fastapi import APIRouter, Depends, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from open12306.accounts.domain.credentials import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    USERNAME_MAX,
    USERNAME_MIN,
)
from open12306.accounts.domain.identity import Document, mask_number
from open12306.accounts.domain.passengers import (
    Passenger,
    PassengerDetails,
    parse_document_kind,
    parse_sex,
)
from open12306.accounts.ports import Account
from open12306.accounts.services.accounts import AccountService, RateLimited, Unauthenticated
from open12306.http.client_address import client_address, trusted_networks
from open12306.http.errors import error_body, errors

T = TypeVar("T")

ServiceGetter = Callable[[], AccountService]
_encoder = msgspec.json.Encoder()
# Documents the bearer token in the OpenAPI schema (``bearer_token`` reads the header itself).
ACCOUNT_TOKEN = HTTPBearer(
    scheme_name="account",
    description="A session token, as `POST /api/v1/sessions` answers it",
    auto_error=False,
)
Documented = Annotated[HTTPAuthorizationCredentials | None, Security(ACCOUNT_TOKEN)]


class Credentials(BaseModel):
    """A username and password (registration and login)."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(
        max_length=USERNAME_MAX,
        json_schema_extra={"minLength": USERNAME_MIN},
        examples=["zhang_san"],
    )
    password: str = Field(
        max_length=PASSWORD_MAX,
        json_schema_extra={"minLength": PASSWORD_MIN},
        examples=["correct horse 7"],
    )


class PassengerIn(BaseModel):
    """A passenger to save. Birth date and sex come from a resident ID number; for other
    documents they are required."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200, examples=["张三"])
    id_type: str = Field(
        max_length=32,
        description="resident_id, passport, hk_macao_permit or taiwan_permit",
        examples=["resident_id"],
    )
    id_number: str = Field(max_length=64, examples=["11010519491231002X"])
    birth_date: date | None = None
    sex: str | None = Field(None, max_length=16, description="male or female")
    student: bool = False
    disabled_military: bool = False


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        _encoder.encode(body), status_code=status, media_type="application/json", headers=headers
    )


def account_view(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "status": account.status.value,
        "created_at": account.created_at.isoformat(),
    }


def passenger_view(passenger: Passenger, today: date) -> dict[str, Any]:
    """A passenger as the API shows it: number masked, no birth date, today's ticket type."""
    return {
        "id": passenger.id,
        "name": passenger.name,
        "id_type": passenger.document.kind.value,
        "id_number": mask_number(passenger.document.number),
        "sex": passenger.sex.value,
        "student": passenger.student,
        "disabled_military": passenger.disabled_military,
        "passenger_type": passenger.ticket_type_on(today).value,
        "created_at": passenger.created_at.isoformat(),
    }


async def bearer_token(request: Request) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or Unauthenticated."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "authorization",
            "unauthenticated",
            "log in first: send Authorization: Bearer <token>",
        )
    return token.strip()


def current_account_dependency(
    service_getter: ServiceGetter,
) -> Callable[..., Awaitable[Account]]:
    """A FastAPI dependency giving the caller's account (401 ``unauthenticated`` without a
    live bearer token). Other routers use it: ``Depends(current_account_dependency(get))``."""

    async def current_account(
        _: Documented,
        token: Annotated[str, Depends(bearer_token)],
        service: Annotated[AccountService, Depends(provider(service_getter))],
    ) -> Account:
        known = service.cached_session(token)
        if known is not None:
            return known
        return await run_in_threadpool(service.authenticate, token)

    return current_account


def provider(getter: Callable[[], T]) -> Callable[[], Awaitable[T]]:
    """``getter`` as an async dependency: FastAPI runs a plain function dependency in its
    thread pool, a hop that costs more than the getter itself."""

    async def provide() -> T:
        return getter()

    return provide


def accounts_router(
    service_getter: ServiceGetter, trusted_proxies: Sequence[str] = ()
) -> APIRouter:
    """The routes, bound to the AccountService ``service_getter`` returns. Logins are
    throttled by the client's address: the socket peer, or the X-Forwarded-For hop that
    ``trusted_proxies`` (addresses or CIDR blocks) report (``client_address``)."""
    router = APIRouter(prefix="/api/v1", tags=["accounts"])
    trusted = trusted_networks(trusted_proxies)
    Service = Annotated[AccountService, Depends(provider(service_getter))]
    Caller = Annotated[Account, Depends(current_account_dependency(service_getter))]

    @router.post("/accounts", status_code=201, responses=errors(409))
    def register(body: Credentials, service: Service) -> Response:
        """Create an account (username: 6–30 letters, digits, _, starting with a letter;
        password: 8–128 characters mixing two of letters, digits, symbols)."""
        return _json(201, account_view(service.register(body.username, body.password)))

    @router.post("/sessions", status_code=201, responses=errors(401, 429))
    def login(body: Credentials, request: Request, service: Service) -> Response:
        """Log in: a bearer token for ``Authorization: Bearer …`` and when it expires."""
        peer = request.client.host if request.client else None
        client = client_address(peer, request.headers.getlist("x-forwarded-for"), trusted)
        try:
            login = service.login(body.username, body.password, client)
        except (RateLimited, Unauthenticated) as error:
            return _json(error.status, error_body(error), error.headers)
        body_out = {
            "token": login.token,
            "token_type": "Bearer",
            "expires_at": login.expires_at.isoformat(),
            "account": account_view(login.account),
        }
        return _json(201, body_out, {"Cache-Control": "no-store"})

    @router.delete(
        "/sessions/current",
        status_code=204,
        dependencies=[Security(ACCOUNT_TOKEN)],
        responses=errors(401),
    )
    def logout(token: Annotated[str, Depends(bearer_token)], service: Service) -> Response:
        """End the session of the bearer token sent."""
        service.logout(token)
        return Response(status_code=204)

    @router.get("/me")
    def me(account: Caller) -> Response:
        """The logged-in account."""
        return _json(200, account_view(account))

    @router.post("/passengers", status_code=201, responses=errors(409))
    def add_passenger(body: PassengerIn, account: Caller, service: Service) -> Response:
        """Save a real-name passenger (the document is checked; one per document)."""
        details = PassengerDetails(
            name=body.name,
            document=Document(parse_document_kind(body.id_type), body.id_number),
            birth_date=body.birth_date,
            sex=None if body.sex is None else parse_sex(body.sex),
            student=body.student,
            disabled_military=body.disabled_military,
        )
        passenger = service.add_passenger(account, details)
        return _json(201, passenger_view(passenger, service.today()))

    @router.get("/passengers")
    def list_passengers(account: Caller, service: Service) -> Response:
        """The account's saved passengers, oldest first."""
        today = service.today()
        views = [passenger_view(p, today) for p in service.passengers(account)]
        return _json(200, {"passengers": views})

    @router.get("/passengers/{passenger_id}", responses=errors(404))
    def get_passenger(passenger_id: str, account: Caller, service: Service) -> Response:
        """One of the account's passengers (404 for anyone else's)."""
        passenger = service.passenger(account, passenger_id)
        return _json(200, passenger_view(passenger, service.today()))

    @router.delete("/passengers/{passenger_id}", status_code=204, responses=errors(404))
    def delete_passenger(passenger_id: str, account: Caller, service: Service) -> Response:
        """Forget one of the account's passengers."""
        service.delete_passenger(account, passenger_id)
        return Response(status_code=204)

    return router
