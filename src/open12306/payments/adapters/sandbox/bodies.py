"""Reading request bodies without trusting them: JSON objects, form fields, typed values.

Every failure is a ``BadBody`` naming the field and the reason, so each endpoint can answer
it in its own protocol's error shape (a 4xx, never a 500): a deeply nested JSON document
(``json`` raises RecursionError), bytes that are not UTF-8, a number too large for a float.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

MAX_TEXT = 8192


class BadBody(ValueError):
    """A request body or one of its fields that cannot be used: ``field``, ``reason``, and a
    sentence for people."""

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason
        self.message = message

    def to_dict(self) -> dict[str, dict[str, str]]:
        """The project's error shape."""
        return {"error": {"field": self.field, "reason": self.reason, "message": self.message}}


def _text_of(body: bytes, field: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody(field, "not_utf8", f"{field} is not UTF-8 text") from None


def json_value(text: str | bytes, field: str = "body") -> Any:
    """Parse JSON; BadBody when it is not JSON or nests deeper than the parser goes."""
    raw = _text_of(text, field) if isinstance(text, bytes) else text
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BadBody(field, "too_deep", f"{field} nests too deeply") from None
    except ValueError:
        raise BadBody(field, "invalid_json", f"{field} is not valid JSON") from None
    _check_unicode(data, field)
    return data


def _check_unicode(data: Any, field: str) -> None:
    """Refuse strings holding a lone surrogate (``"\\ud800"`` parses, but is not text: it
    cannot be encoded, signed or echoed). Walks with a stack: the value may nest deep."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise BadBody(field, "not_unicode", f"{field} holds a lone surrogate") from None
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def json_object(body: bytes, field: str = "body", *, empty: bool = False) -> dict[str, Any]:
    """The JSON object in ``body`` (``{}`` for an empty body when ``empty``)."""
    if empty and not body.strip():
        return {}
    data = json_value(body, field)
    if not isinstance(data, dict):
        raise BadBody(field, "not_an_object", f"{field} must be a JSON object")
    return data


def form_fields(body: bytes) -> dict[str, str]:
    """``application/x-www-form-urlencoded`` fields (the last of a repeated name wins)."""
    text = _text_of(body, "body")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise BadBody("body", "invalid_form", "the form is not valid UTF-8 url-encoding") from None
    return dict(pairs)


def text(
    data: Mapping[str, Any], name: str, *, required: bool = True, limit: int = MAX_TEXT
) -> str:
    """A string field (``""`` when optional and absent)."""
    value = data.get(name)
    if value is None:
        if required:
            raise BadBody(name, "missing", f"{name} is required")
        return ""
    if not isinstance(value, str):
        raise BadBody(name, "not_a_string", f"{name} must be a string")
    if len(value) > limit:
        raise BadBody(name, "too_long", f"{name} is longer than {limit} characters")
    return value


def integer(data: Mapping[str, Any], name: str, low: int, high: int) -> int:
    """A whole number in ``low..high`` (booleans and floats are refused)."""
    value = data.get(name)
    if value is None:
        raise BadBody(name, "missing", f"{name} is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadBody(name, "not_an_integer", f"{name} must be a whole number")
    if not low <= value <= high:
        raise BadBody(name, "out_of_range", f"{name} must be {low}..{high}")
    return value


def flag(data: Mapping[str, Any], name: str) -> bool:
    """A boolean field, false when absent."""
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise BadBody(name, "not_a_boolean", f"{name} must be true or false")
    return value
