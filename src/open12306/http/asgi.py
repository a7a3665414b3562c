"""ASGI entry for uvicorn workers: ``open12306.http.asgi:app``."""

from __future__ import annotations

from open12306.bootstrap import build
from open12306.http.app import create_app

app = create_app(build())
