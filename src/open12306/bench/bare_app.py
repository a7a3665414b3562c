"""The floor for the HTTP benchmark: bare uvicorn returning fixed bytes from a file."""

from __future__ import annotations

import os
from typing import Any

_BODY = open(os.environ["OPEN12306_BENCH_BODY"], "rb").read()  # noqa: SIM115
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})
