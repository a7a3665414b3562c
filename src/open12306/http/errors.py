"""Turning errors into JSON bodies that name the field and the reason (never a traceback), and
the OpenAPI declarations of those bodies (``errors(404, 409)`` for a route's ``responses``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from open12306.shared.errors import DomainError


def error_body(error: DomainError) -> dict[str, Any]:
    body: dict[str, Any] = error.to_dict()
    suggestions = getattr(error, "suggestions", None)
    if suggestions:
        body["suggestions"] = [s.brief() for s in suggestions]
    return {"error": body}


def plain_error(field: str, reason: str, message: str) -> dict[str, Any]:
    return {"error": {"field": field, "reason": reason, "message": message}}


class StationSuggestion(BaseModel):
    """A station the caller may have meant."""

    model_config = ConfigDict(extra="forbid")

    code: str
    name: str
    city: str


class ErrorDetail(BaseModel):
    """What was wrong: the input at fault (``field``), a stable machine-readable ``reason``,
    and a sentence for people. An unknown station also carries ``suggestions``; a refused
    login ``retry_after`` (seconds, as the ``Retry-After`` header)."""

    model_config = ConfigDict(extra="forbid")

    field: str
    reason: str
    message: str
    suggestions: list[StationSuggestion] | None = None
    retry_after: int | None = None


class ErrorBody(BaseModel):
    """Every error answer of the API."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


DESCRIPTIONS = {
    400: "Invalid input: the field at fault and why (also a malformed or too deeply nested "
    "JSON body, field `body`)",
    401: "No live bearer token (field `authorization`), or wrong credentials",
    402: "The payment channel refused the scanned payment code",
    403: "Not allowed for this caller",
    404: "Not found (or not the caller's)",
    409: "The state of things refuses it",
    413: "The request body is larger than this endpoint takes (field `body`, reason `too_large`)",
    422: "Well-formed, but names something the run does not have",
    429: "Too many attempts or too many cancelled orders: wait (see `Retry-After` when given)",
    503: "A service this needs is switched off, missing or overloaded",
}


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One documented error answer, in the error shape."""
    return {"model": ErrorBody, "description": description or DESCRIPTIONS[status]}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses`` for a route that may answer these error statuses."""
    return {status: error_response(status) for status in statuses}
