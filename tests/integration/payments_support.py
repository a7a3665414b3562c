"""Shared harness for the payment contract tests: live servers on loopback, a tiny merchant
receiver that verifies notifications with the real SDKs, and bounded waiting."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from open12306.payments.ports import (
    Notification,
    NotificationRejected,
    PaymentProvider,
)

FAST_SCHEDULE = (0.0, 0.05, 0.1, 0.1, 0.2)
# The sandbox setup API's bearer token in the tests (SandboxConfig.admin_token).
ADMIN_TOKEN = "sandbox-admin-token-for-tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class LiveServer:
    """uvicorn serving one ASGI app in a thread, on 127.0.0.1 and a free port."""

    def __init__(self, app: Any) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", loop="asyncio", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self) -> LiveServer:
        self._thread.start()
        wait_for(lambda: self._server.started, what="server start")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    """Poll until ``predicate`` is truthy; a bounded wait, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@dataclass
class Received:
    """One notification as the merchant receiver saw it."""

    channel: str
    headers: dict[str, str]
    body: bytes
    notification: Notification | None
    rejected: str | None
    answered: int


@dataclass
class Receiver:
    """The merchant's notify endpoints: verify with the provider, answer as the channel wants.

    ``fail_first[channel]`` makes the receiver refuse that many deliveries first (to see retries).
    """

    providers: dict[str, PaymentProvider] = field(default_factory=dict)
    fail_first: dict[str, int] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def notify(request: Request) -> Response:
            channel = request.path_params["channel"]
            provider = self.providers[channel]
            body = await request.body()
            headers = dict(request.headers)
            notification, rejected = None, None
            try:
                notification = provider.parse_notification(headers, body)
            except NotificationRejected as exc:
                rejected = exc.reason
            with self.lock:
                refuse = self.fail_first.get(channel, 0) > 0
                if refuse:
                    self.fail_first[channel] -= 1
            reply = provider.acknowledge(notification is not None and not refuse)
            with self.lock:
                self.received.append(
                    Received(channel, headers, body, notification, rejected, reply.status)
                )
            return Response(reply.body, reply.status, media_type=reply.content_type)

        async def returned(request: Request) -> Response:
            return PlainTextResponse("back at the merchant")

        return Starlette(
            routes=[
                Route("/notify/{channel}", notify, methods=["POST"]),
                Route("/return", returned, methods=["GET"]),
            ]
        )

    def for_order(self, channel: str, order_no: str) -> list[Received]:
        with self.lock:
            return [
                r
                for r in self.received
                if r.channel == channel
                and r.notification is not None
                and r.notification.order_no == order_no
            ]


_FORM = re.compile(r'<form method="post" action="([^"]+)" id="(pay|cancel)">')


def cashier_actions(html: str) -> dict[str, str]:
    """The Pay and Cancel form actions of a cashier page."""
    return {name: action.replace("&amp;", "&") for action, name in _FORM.findall(html)}


def servers(*apps: Any) -> Iterator[list[LiveServer]]:
    started = [LiveServer(app).start() for app in apps]
    try:
        yield started
    finally:
        for server in started:
            server.stop()
