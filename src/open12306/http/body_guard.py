"""Request bodies are read, bounded and checked here before any application code parses them.

The whole served product (API, pages, the mounted payment sandbox) sits behind ``BodyGuard``.
A body is at most ``DEFAULT_MAX_BODY`` bytes unless its route declares more with the OpenAPI
extension ``x-max-body-bytes`` (``route_limit``); a larger one is answered 413 ``too_large``
as soon as the declared ``Content-Length`` or, for a chunked body, the bytes read so far show
it, without reading the rest. A JSON body nested deeper than ``MAX_JSON_DEPTH`` is answered
400 ``too_deep`` (a recursive parser would otherwise run out of stack). The application then
gets the body it would have read, in one piece.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

import msgspec

from open12306.http.errors import plain_error

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KIB = 1024
MIB = 1024 * KIB
DEFAULT_MAX_BODY = 64 * KIB
MAX_JSON_DEPTH = 32
LIMIT_KEY = "x-max-body-bytes"

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_JSON_TYPES = ("application/json", "text/plain")
_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})  # ASGI names: lower case
_encoder = msgspec.json.Encoder()


def route_limit(limit: int) -> dict[str, Any]:
    """``openapi_extra`` for a route that takes bodies of up to ``limit`` bytes."""
    return {LIMIT_KEY: limit}


def describe(limit: int) -> str:
    """``65536 bytes (64 KiB)``."""
    unit, size = ("MiB", limit // MIB) if limit % MIB == 0 else ("KiB", limit // KIB)
    return f"{limit} bytes ({size} {unit})"


def json_depth(body: bytes) -> int:
    """How deep arrays and objects nest in ``body`` (brackets inside strings do not count)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


@dataclass(frozen=True)
class _Rule:
    methods: frozenset[str]
    path: re.Pattern[str]
    limit: int


class BodyLimits:
    """The byte limit of each route: its declared ``x-max-body-bytes``, else the default."""

    def __init__(self, default: int = DEFAULT_MAX_BODY, rules: Iterable[_Rule] = ()) -> None:
        self.default = default
        self._rules = tuple(rules)

    @classmethod
    def of_openapi(cls, schema: dict[str, Any], default: int = DEFAULT_MAX_BODY) -> BodyLimits:
        """The limits an OpenAPI document declares (``x-max-body-bytes`` on an operation)."""
        rules = [
            _Rule(frozenset({method.upper()}), _template(path), int(operation[LIMIT_KEY]))
            for path, item in schema.get("paths", {}).items()
            for method, operation in item.items()
            if isinstance(operation, dict) and LIMIT_KEY in operation
        ]
        return cls(default, rules)

    def limit(self, method: str, path: str) -> int:
        for rule in self._rules:
            if method in rule.methods and rule.path.match(path):
                return rule.limit
        return self.default


class BodyGuard:
    """ASGI middleware enforcing ``BodyLimits`` and ``MAX_JSON_DEPTH`` (see the module doc)."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not any(name in _BODY_HEADERS for name, _ in scope.get("headers", ())):
            await self.app(scope, receive, send)  # no body (the search fast path is here)
            return
        headers = _headers(scope)
        limit = self.limits.limit(scope["method"], scope["path"])
        declared = _content_length(headers)
        body = None if declared is not None and declared > limit else await _read(receive, limit)
        if body is None:
            await _refuse(send, 413, "too_large", _too_large(limit))
            return
        if _is_json(headers) and len(body) > MAX_JSON_DEPTH and _too_deep(body):
            message = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
            await _refuse(send, 400, "too_deep", message)
            return
        await self.app(scope, _replay(body, receive), send)


def _template(path: str) -> re.Pattern[str]:
    """``/a/{id}/b`` as a pattern matching ``/a/x/b``."""
    parts = re.split(r"\{[^}/]+\}", path)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers", ())}


def _content_length(headers: dict[bytes, bytes]) -> int | None:
    value = headers.get(b"content-length")
    if value is None or b"transfer-encoding" in headers:
        return None
    try:
        return int(value)
    except ValueError:
        return None  # the server has already refused a malformed length


def _is_json(headers: dict[bytes, bytes]) -> bool:
    kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower().decode("latin-1")
    return not kind or kind in _JSON_TYPES or kind.endswith("+json")


def _too_deep(body: bytes) -> bool:
    stripped = body.lstrip()
    return stripped[:1] in (b"[", b"{") and json_depth(stripped) > MAX_JSON_DEPTH


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away: the app sees an empty body and its disconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    given = False

    async def replayed() -> Message:
        nonlocal given
        if given:
            return await receive()  # waits for the disconnect, as the server's own would
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _too_large(limit: int) -> str:
    return f"the request body is over {describe(limit)}, the most this endpoint takes"


async def _refuse(send: Send, status: int, reason: str, message: str) -> None:
    payload = _encoder.encode(plain_error("body", reason, message))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if status == 413:
        headers.append((b"connection", b"close"))  # what is left of the body is not read
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
