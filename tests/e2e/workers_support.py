"""Several `open12306 serve` processes on one database, as a deployment with N workers runs.

``serving`` starts the real command (``--workers``, ``--server``) on a free loopback port in a
process group of its own and stops the whole group. Two servers on two ports over one
database are two workers whose connections the test chooses; ``--workers 2`` on one port is
the deployment itself, where the kernel spreads connections.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from open12306.config import Settings
from tests.integration.payments_support import wait_for

COMMAND = [sys.executable, "-c", "from open12306.cli.main import main; main()"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def demo_database(folder: Path, url: str | None = None, trains: int = 300) -> Settings:
    """A migrated database with the demo network (no sales) and its settings."""
    from open12306.bootstrap.tasks import load_demo
    from open12306.database.migrate import upgrade

    settings = replace(
        Settings.from_env(),
        database_url=url or f"sqlite:///{folder}/workers.db",
        document_key_file=str(folder / "document-key"),
    )
    upgrade(settings.database_url)
    load_demo(settings, seed=7, trains=trains, fill=0.0, days=0, force=True)
    return settings


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "OPEN12306_DATABASE_URL": settings.database_url,
        "OPEN12306_DOCUMENT_KEY_FILE": settings.document_key_file,
        "OPEN12306_TRUSTED_PROXIES": "",
        **extra,
    }


@dataclass(frozen=True)
class Served:
    """One `open12306 serve` (all its workers) and a client to it."""

    url: str
    http: httpx.Client


def _answers(http: httpx.Client) -> bool:
    try:
        return http.get("/api/v1/health").status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def serving(
    settings: Settings, *, workers: int = 1, server: str = "uvicorn", **extra: str
) -> Iterator[Served]:
    """`open12306 serve` on a free port until the block ends (its process group stopped)."""
    port = free_port()
    options = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(
        [*COMMAND, "serve", *options, "--server", server],
        env=server_env(settings, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=30.0, trust_env=False) as http:
            wait_for(lambda: _answers(http), what="open12306 serve", timeout=90)
            yield Served(url, http)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


@contextmanager
def two_workers(settings: Settings, **extra: str) -> Iterator[tuple[Served, Served]]:
    """Two servers on one database: worker A and worker B, each reached on its own port."""
    with ExitStack() as stack:
        a = stack.enter_context(serving(settings, **extra))
        b = stack.enter_context(serving(settings, **extra))
        yield a, b
