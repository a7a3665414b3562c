"""A small JSON-over-HTTP client for the wallet and gate (standard library only).

Every failure — the server answering an error, a connection that cannot be made, a body that is
not JSON — becomes a :class:`ServerError` whose message is one line, ready for ``error: …``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from open12306.travel.ports import DeviceError

TIMEOUT = 30.0


class ServerError(DeviceError):
    """The server could not be reached or refused the request; the message is one line."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _error_message(status: int, raw: bytes) -> str:
    try:
        error = json.loads(raw)["error"]
        reason, message = str(error["reason"]), str(error.get("message") or "")
    except (ValueError, KeyError, TypeError):
        return f"server: HTTP {status}"
    return _one_line(f"server: HTTP {status} {reason}: {message}" if message else reason)


def call(
    server: str,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    timeout: float = TIMEOUT,
) -> Any:
    """Send ``body`` as JSON to ``server`` + ``path``; the decoded JSON answer."""
    if not server.startswith(("http://", "https://")):
        raise ServerError(f"server: expected an http:// or https:// URL, got {server!r}")
    url = server.rstrip("/") + path
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            raw = answer.read()
    except urllib.error.HTTPError as error:
        raise ServerError(_error_message(error.code, error.read())) from None
    except (urllib.error.URLError, OSError) as error:
        cause = getattr(error, "reason", None) or error
        raise ServerError(_one_line(f"server: cannot reach {server}: {cause}")) from None
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        raise ServerError(f"server: {url} did not answer JSON") from None
