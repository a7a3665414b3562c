"""ASGI entry for uvicorn workers: ``open12306.entrypoints.asgi:app``."""

from __future__ import annotations

from open12306.bootstrap import build
from open12306.entrypoints.api import create_app

app = create_app(build())
