"""HTTP routes for station gates (their management link): tap upload and fresh bundles.

``POST /api/v1/gate/taps`` takes taps as ``GateJournal.export_taps`` gives them and marks every
admitted reserved ticket ``used`` (``travel.services.ticket_usage``); uploading again changes
nothing. ``GET /api/v1/gate/stations/{station}/bundle`` answers a fresh gate bundle built from the
database: issuer public keys, deny list, station manifest and enrolled face embeddings.

Gates authenticate with ``Authorization: Bearer <gate token>``: the token comes from
``OPEN12306_GATE_TOKEN``; without one set the routes answer 503 ``gate_link_disabled``.
"""

# No ``from __future__ import annotations``: FastAPI reads the route signatures at runtime.
import hmac
import os
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, FastAPI, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from open12306.bootstrap import Container
from open12306.http.accounts import provider
from open12306.http.body_guard import MIB, route_limit
from open12306.http.errors import errors
from open12306.shared.errors import DomainError
from open12306.travel.ports import StationBundleSource
from open12306.travel.services.ticket_usage import TicketTap, TicketUsageService

GATE_TOKEN_ENV = "OPEN12306_GATE_TOKEN"
MAX_TAPS = 10_000
# A batch of MAX_TAPS taps as GateJournal.export_taps gives them (with the scanned code in hex)
# stays under 16 MiB: about 1.6 KiB a tap, where the largest code makes about 0.8 KiB.
MAX_TAPS_BODY = 16 * MIB
_encoder = msgspec.json.Encoder()
GATE_LINK_TOKEN = HTTPBearer(
    scheme_name="gate",
    description=f"The gate link token the server was given in `{GATE_TOKEN_ENV}`",
    auto_error=False,
)


class GateLinkError(DomainError):
    """The gate link is switched off, or the caller is not a gate."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__("authorization", reason, message)
        self.status = status


class TapIn(BaseModel):
    """One tap as a gate's journal exports it (further fields are ignored)."""

    model_config = ConfigDict(extra="ignore")

    tap_id: str = Field(min_length=1, max_length=128)
    kind: str = Field(max_length=32)
    accepted: bool
    subject: str = Field("", max_length=64)
    direction: str = Field(max_length=16)
    gate_clock: int = Field(ge=0)
    station: str = Field("", max_length=16)


class TapsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    taps: list[TapIn] = Field(max_length=MAX_TAPS)


def _gate_caller(token_getter: Callable[[], str | None]) -> Callable[..., Awaitable[None]]:
    async def check(
        sent: Annotated[HTTPAuthorizationCredentials | None, Security(GATE_LINK_TOKEN)],
    ) -> None:
        expected = token_getter()
        if not expected:
            raise GateLinkError(503, "gate_link_disabled", f"set {GATE_TOKEN_ENV} on the server")
        given = sent.credentials.strip() if sent is not None else ""
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            raise GateLinkError(401, "unauthenticated", "a gate token is required")

    return check


def gate_router(
    usage_getter: Callable[[], TicketUsageService],
    bundles_getter: Callable[[], StationBundleSource],
    token_getter: Callable[[], str | None],
) -> APIRouter:
    """The routes, bound to the services the getters return."""
    router = APIRouter(prefix="/api/v1/gate", tags=["gate"])
    Usage = Annotated[TicketUsageService, Depends(provider(usage_getter))]
    Bundles = Annotated[StationBundleSource, Depends(provider(bundles_getter))]
    Gate = Annotated[None, Depends(_gate_caller(token_getter))]

    @router.post("/taps", openapi_extra=route_limit(MAX_TAPS_BODY), responses=errors(401, 503))
    def upload_taps(body: TapsIn, service: Usage, _: Gate) -> Response:
        """Apply uploaded taps: admitted reserved tickets become ``used`` (idempotent)."""
        taps = [TicketTap(**tap.model_dump()) for tap in body.taps]
        results = service.record_taps(taps)
        counts: dict[str, int] = {}
        for result in results:
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
        answer: dict[str, Any] = {
            "received": len(results),
            "outcomes": counts,
            "results": [
                {
                    "tap_id": r.tap_id,
                    "outcome": str(r.outcome),
                    "ticket": r.ticket,
                    "detail": r.detail,
                }
                for r in results
            ],
        }
        return Response(_encoder.encode(answer), media_type="application/json")

    @router.get("/stations/{station}/bundle", responses=errors(401, 503))
    def fresh_bundle(station: str, bundles: Bundles, _: Gate) -> Response:
        """A fresh gate bundle for ``station`` (docs/ride-codes.md, "Gates")."""
        return Response(bundles.bundle(station), media_type="application/json")

    return router


def include_gate_routes(app: FastAPI, container: Container, token: str | None = None) -> None:
    """Add the gate routes on the container's services (the gate token defaults to the
    environment)."""
    secret = token if token is not None else os.environ.get(GATE_TOKEN_ENV)
    usage, bundles = container.gate_usage, container.station_bundles
    app.include_router(gate_router(lambda: usage, lambda: bundles, lambda: secret))
