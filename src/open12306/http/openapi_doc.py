"""The OpenAPI document as the server really answers.

FastAPI documents a 422 validation answer for every operation; this server answers 400 in the
error shape instead. ``document`` replaces it, and adds what every operation of a kind may
answer: 400 for one with parameters or a body, 413 (with its byte limit) for one with a body,
401 for one behind a bearer token. What a route answers besides is declared on the route
(``responses=errors(404, 409)``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from open12306.http.body_guard import DEFAULT_MAX_BODY, LIMIT_KEY, describe
from open12306.http.errors import DESCRIPTIONS, ErrorBody

_REF = {"$ref": "#/components/schemas/ErrorBody"}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def install(app: FastAPI) -> None:
    """Serve ``document`` of FastAPI's own schema at ``/openapi.json``."""
    generate = app.openapi
    made: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not made:
            made.append(document(generate()))
        return made[0]

    app.openapi = openapi  # type: ignore[method-assign]


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the error answers made true (see the module doc)."""
    for item in schema.get("paths", {}).values():
        for method in _METHODS:
            if method in item:
                _operation(item[method])
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    model = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(model.pop("$defs", {}))
    components["ErrorBody"] = model
    return schema


def _operation(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    if operation.get("parameters") or "requestBody" in operation:
        responses.setdefault("400", _error(DESCRIPTIONS[400]))
    if "requestBody" in operation:
        limit = operation.get(LIMIT_KEY, DEFAULT_MAX_BODY)
        responses["413"] = _error(f"The request body is over {describe(limit)}")
        body = operation["requestBody"]
        body["description"] = _joined(body.get("description"), f"At most {describe(limit)}.")
    if operation.get("security"):
        responses.setdefault("401", _error(DESCRIPTIONS[401]))


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _REF}}}


def _joined(first: str | None, second: str) -> str:
    return f"{first} {second}" if first else second
