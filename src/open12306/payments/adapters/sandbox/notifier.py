"""Asynchronous notifications: POST to the merchant, retry on a schedule until it says yes."""

from __future__ import annotations

import asyncio
import itertools
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

Render = Callable[[], tuple[dict[str, str], bytes]]
Accept = Callable[[int, bytes], bool]


@dataclass
class Attempt:
    """One delivery attempt and what the merchant answered."""

    at: datetime
    status: int | None
    answer: str
    error: str | None = None


@dataclass
class Delivery:
    """One notification to one URL; ``render`` builds headers and body for each attempt."""

    id: str
    channel: str
    trade: str
    url: str
    render: Render
    accept: Accept
    attempts: list[Attempt] = field(default_factory=list)
    delivered: bool = False
    last_body: bytes = b""


def alipay_accepts(status: int, body: bytes) -> bool:
    """Alipay stops retrying only when the merchant answers the plain text ``success``."""
    return status == 200 and body.strip() == b"success"


def wechat_accepts(status: int, body: bytes) -> bool:
    """WeChat Pay stops retrying on HTTP 200 or 204."""
    return status in (200, 204)


class Notifier:
    """Runs deliveries as tasks on the event loop; the HTTP POST itself runs in a thread."""

    def __init__(
        self, schedule: Sequence[float], timeout: float, clock: Callable[[], datetime]
    ) -> None:
        if not schedule:
            raise ValueError("retry schedule must have at least one attempt")
        self._schedule = tuple(float(s) for s in schedule)
        self._timeout = timeout
        self._clock = clock
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._deliveries: dict[str, Delivery] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Deliveries go straight to the merchant, never through an environment proxy.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def new_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}{next(self._ids):08d}"

    def submit(self, delivery: Delivery, schedule: Sequence[float] | None = None) -> None:
        """Start delivering; call from the event loop (a request handler)."""
        with self._lock:
            self._deliveries[delivery.id] = delivery
        plan = self._schedule if schedule is None else tuple(schedule)
        task = asyncio.get_running_loop().create_task(self._run(delivery, plan))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def redeliver(self, delivery_id: str) -> Delivery | None:
        """Send an already delivered notification once more (channels do; merchants cope)."""
        with self._lock:
            delivery = self._deliveries.get(delivery_id)
        if delivery is not None:
            self.submit(delivery, schedule=(0.0,))
        return delivery

    def deliveries(self, trade: str | None = None) -> list[Delivery]:
        with self._lock:
            found = list(self._deliveries.values())
        return [d for d in found if trade is None or d.trade == trade]

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, delivery: Delivery, schedule: tuple[float, ...]) -> None:
        for delay in schedule:
            await asyncio.sleep(delay)
            headers, body = delivery.render()
            attempt = await asyncio.to_thread(self._post, delivery.url, headers, body)
            with self._lock:
                delivery.attempts.append(attempt)
                delivery.last_body = body
            if attempt.status is not None and delivery.accept(
                attempt.status, attempt.answer.encode("utf-8")
            ):
                with self._lock:
                    delivery.delivered = True
                return

    def _post(self, url: str, headers: dict[str, str], body: bytes) -> Attempt:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        at = self._clock()
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                answer = response.read(4096).decode("utf-8", "replace")
                return Attempt(at, response.status, answer)
        except urllib.error.HTTPError as exc:
            answer = exc.read(4096).decode("utf-8", "replace")
            return Attempt(at, exc.code, answer, error=str(exc))
        except (OSError, ValueError) as exc:
            return Attempt(at, None, "", error=f"{type(exc).__name__}: {exc}")
