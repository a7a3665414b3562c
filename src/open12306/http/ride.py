"""HTTP routes for digital travel: a ticket's signed e-ticket code, and ride credentials.

``GET /api/v1/orders/{no}/tickets/{ticket}/code`` answers the code as a QR PNG, or with
``?format=bytes`` as JSON with the code in base64. ``POST /api/v1/ride/credentials`` issues a
ride credential for a wallet's device key. Both are for the logged-in owner only.
"""

# No ``from __future__ import annotations``: FastAPI reads the route signatures at runtime.
import base64
import binascii
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from open12306.accounts.ports import Account
from open12306.accounts.services.accounts import AccountService
from open12306.http.accounts import current_account_dependency, provider
from open12306.http.errors import errors
from open12306.shared.errors import DomainError
from open12306.transit.services.day_settlement import DebtPayments
from open12306.travel.adapters.qr import qr_png
from open12306.travel.domain.codes import CredentialFlags
from open12306.travel.services.ticket_codes import (
    DEFAULT_HOURS,
    MAX_HOURS,
    RideCredentialService,
    TicketCodeService,
)

_encoder = msgspec.json.Encoder()


def _json(status: int, body: Any) -> Response:
    return Response(_encoder.encode(body), status_code=status, media_type="application/json")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class CredentialIn(BaseModel):
    """A wallet's Ed25519 device public key (base64 of its 32 raw bytes) and the validity."""

    model_config = ConfigDict(extra="forbid")

    device_public_key: str = Field(
        max_length=64, examples=["11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="]
    )
    hours: int = Field(DEFAULT_HOURS, ge=1, le=MAX_HOURS)


def _device_key(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DomainError("device_public_key", "invalid", "expected base64") from None
    if len(raw) != 32:
        raise DomainError("device_public_key", "invalid", "an Ed25519 public key has 32 bytes")
    return raw


def ride_router(
    codes_getter: Callable[[], TicketCodeService],
    credentials_getter: Callable[[], RideCredentialService],
    accounts_getter: Callable[[], AccountService],
) -> APIRouter:
    """The routes, bound to the services the getters return."""
    router = APIRouter(prefix="/api/v1", tags=["ride"])
    Codes = Annotated[TicketCodeService, Depends(provider(codes_getter))]
    Credentials = Annotated[RideCredentialService, Depends(provider(credentials_getter))]
    Caller = Annotated[Account, Depends(current_account_dependency(accounts_getter))]

    @router.get(
        "/orders/{number}/tickets/{ticket}/code",
        responses={
            200: {"content": {"image/png": {}, "application/json": {}}},
            **errors(404, 409),
        },
    )
    def ticket_code(
        number: str,
        ticket: str,
        account: Caller,
        service: Codes,
        format: str = Query("png", pattern="^(png|bytes)$", description="png or bytes"),
    ) -> Response:
        """A paid ticket's signed e-ticket code (docs/ride-codes.md): a QR PNG, or with
        ``format=bytes`` the code in base64. 404 for another account's order, 409
        ``revoked`` once the ticket was refunded or changed."""
        issued = service.code(account, number, ticket)
        if format == "png":
            return Response(qr_png(issued.data), media_type="image/png")
        code = issued.ticket
        return _json(
            200,
            {
                "ticket": code.ticket_no,
                "code": _b64(issued.data),
                "key_id": code.key_id,
                "valid_from": code.valid_from,
                "valid_until": code.valid_until,
            },
        )

    @router.post("/ride/credentials", status_code=201, responses=errors(403))
    def ride_credential(body: CredentialIn, account: Caller, service: Credentials) -> Response:
        """A ride credential for the caller's wallet: the device key may then sign per-scan
        codes offline. Flags and the offline limit come from the account's credit score;
        403 ``arrears`` or ``score_too_low`` when it refuses riding now and paying later."""
        issued = service.issue(account, _device_key(body.device_public_key), body.hours)
        credential = issued.credential
        flags = [str(f.name).lower() for f in CredentialFlags if f in credential.flags]
        return _json(
            201,
            {
                "credential": _b64(issued.data),
                "serial": credential.serial,
                "key_id": credential.key_id,
                "account_token": credential.account_token.hex(),
                "valid_from": credential.valid_from,
                "valid_until": credential.valid_until,
                "flags": flags,
                "offline_credit_limit_fen": credential.offline_credit_limit,
                "credit_score": issued.score,
            },
        )

    return router


class DebtPaymentIn(BaseModel):
    """How to repay transit debts: ``alipay`` or ``wechatpay``."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(max_length=16, examples=["alipay"])


def debts_router(
    debts_getter: Callable[[], DebtPayments],
    token_of: Callable[[str], str],
    accounts_getter: Callable[[], AccountService],
) -> APIRouter:
    """A rider's transit debts (a daily charge the credit line could not collect) and paying
    them, which lifts the block on the account's ride codes at the next gate bundle."""
    router = APIRouter(prefix="/api/v1", tags=["ride"])
    Debts = Annotated[DebtPayments, Depends(provider(debts_getter))]
    Caller = Annotated[Account, Depends(current_account_dependency(accounts_getter))]

    @router.get("/ride/debts")
    def debts(account: Caller, service: Debts) -> Response:
        """What the caller owes, day by day."""
        owed = service.arrears.outstanding(token_of(account.id))
        return _json(
            200,
            {
                "owed_fen": sum(d.amount_fen for d in owed),
                "debts": [{"reference": d.reference, "amount_fen": d.amount_fen} for d in owed],
            },
        )

    @router.post(
        "/ride/debts/payments",
        responses={
            201: {"description": "A payment started: where to pay"},
            **errors(409, 503),
        },
    )
    def pay_debts(body: DebtPaymentIn, account: Caller, service: Debts) -> Response:
        """Pay every debt in one trade: ``started`` with where to pay (redirect URL or QR
        content), ``pending`` until the channel has the money, then ``paid`` (ask again, or the
        channel's notification settles it); ``nothing_owed`` when there is no debt."""
        outcome = service.pay(token_of(account.id), body.channel)
        return _json(
            201 if outcome.state == "started" else 200,
            {
                "state": outcome.state,
                "owed_fen": outcome.owed_fen,
                "payment_no": outcome.payment_no,
                "amount_fen": outcome.amount_fen,
                "redirect_url": outcome.redirect_url,
                "qr_content": outcome.qr_content,
            },
        )

    return router
