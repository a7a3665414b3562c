"""Turning errors into JSON bodies that name the field and the reason (never a traceback)."""

from __future__ import annotations

from typing import Any

from open12306.domain.errors import DomainError


def error_body(error: DomainError) -> dict[str, Any]:
    body: dict[str, Any] = error.to_dict()
    suggestions = getattr(error, "suggestions", None)
    if suggestions:
        body["suggestions"] = [
            {"code": s.code, "name": s.name, "city": s.city} for s in suggestions
        ]
    return {"error": body}


def plain_error(field: str, reason: str, message: str) -> dict[str, Any]:
    return {"error": {"field": field, "reason": reason, "message": message}}
