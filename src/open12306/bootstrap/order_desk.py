"""The order desk in a child process: signing in, admitting and deciding orders off the
server's interpreter.

With ``OPEN12306_ALLOCATOR=process`` (the default) the server decodes a submission and sends it
over a pipe, with the bearer token (or the account it already knows), to a child process of its
own: the single writer of orders and inventories for this server. In one thread the child signs
the rider in, prepares the order (trip, saved passengers), admits what has arrived as one batch
(``OrderIntake.admit``: the sale rules and one insert transaction), answers each submission,
decides the queued orders (``Allocator.run_once``: many runs per transaction) and sends the
decided orders back, which wake the server's waiting requests without a read. Submissions
prepared in the server (the framework route, ``OrderService.submit``) are sent as they are.

Why a process: in one interpreter the allocator's thread gives up the GIL at every database
call and waits for it behind the event loop (up to the 5 ms switch interval each time): a batch
of one order took 15-40 ms to insert while a batch of 31 took 3.5 ms, depending only on what
the event loop was doing (per-query timings, December 2026). In its own process every call
returns at once.

If the child dies, the submissions it had not answered are refused with 429 (try again: an
idempotency key finds the order if it was admitted) and a new child is started.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from multiprocessing.connection import Connection
from typing import Any

from open12306.accounts.ports import Account
from open12306.bootstrap.allocator_process import Event
from open12306.config import Settings
from open12306.sales.ports import OrderRecord
from open12306.sales.services.allocator import WARM_PAUSE
from open12306.sales.services.intake import IntakeBusy, Outcome, Submission
from open12306.sales.services.order_watch import OrderWatch
from open12306.sales.services.orders import OrderRequest, SignedOut
from open12306.shared.errors import DomainError

log = logging.getLogger("open12306.order_desk")

# How often the child reads the store's change feed, so its queue check (seats left) sees what
# the server sold or refunded.
FOLLOW_SECONDS = 0.2
MAX_BATCH = 1000

# How often the child tells the server how many runs it holds decoded (health).
REPORT_SECONDS = 0.5

# Messages child → server: ("answers", [(ident, outcome)]), ("decided", [record]) and
# ("cache", {decoded runs, hits, misses}).
Wire = tuple[str, Any, Any]


def _wire(outcome: Outcome, account: Account | None = None) -> Wire:
    if isinstance(outcome, DomainError):
        return ("error", type(outcome), (outcome.args, dict(vars(outcome))))
    return ("order", outcome, account)


SIGNED_OUT: Wire = ("signed_out", None, None)


def _unwire(wire: Wire) -> Outcome:
    kind, payload, state = wire
    if kind == "order":
        record: OrderRecord = payload
        return record
    error: DomainError = payload.__new__(payload)  # its class, without its own __init__
    args, attributes = state
    error.args = args
    vars(error).update(attributes)
    return error


class NotAdmitted(DomainError):
    """The desk could not queue a batch (e.g. the database failed): try again."""

    status = 503

    def __init__(self, message: str) -> None:
        super().__init__("order", "not_admitted", message)


class RemoteIntake:
    """The server's side of the desk: ``OrderIntake``'s submit surface, answered by the child."""

    def __init__(self, timeout: float, max_pending: int) -> None:
        self.timeout = timeout
        self.max_pending = max_pending
        self.connection: Connection | None = None
        self.process_id: int | None = None  # the child answering now
        self.restarts = 0  # children started again after one ended
        # The child's decoded runs as it last reported them (none yet: 0 of its cache).
        self.cache: dict[str, object] = {"decoded_runs": 0, "cache_runs": None}
        # Each waiting submission's future, and whether it waits for (account, order).
        self._pending: dict[int, tuple[Future[Any], bool]] = {}
        self._next = 0
        self._lock = threading.Lock()
        # What waits to be sent: the event loop never writes to the pipe itself (a full pipe
        # would block it while the child is busy); a sender thread writes each batch at once.
        self._outbox: list[tuple[int, str, object]] = []
        self._ready = threading.Condition(self._lock)
        self._closed = False
        threading.Thread(target=self._send_loop, name="order-desk-send", daemon=True).start()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def retry_after(self) -> int:
        """Seconds until a full desk has room again: one pass per ``MAX_BATCH`` waiting."""
        return 1 + len(self._pending) // MAX_BATCH

    def enqueue(self, submission: Submission) -> Future[OrderRecord]:
        """Send the submission to the child; the future gives the queued order (or the
        DomainError that refused it)."""
        future: Future[OrderRecord] = Future()
        self._send(future, False, "submission", submission)
        return future

    def prepare_and_submit(
        self,
        token: str | None,
        account: Account | None,
        request: OrderRequest,
        key: str | None,
        client: str | None,
    ) -> Future[tuple[Account, OrderRecord]]:
        """The child signs the rider in (unless ``account`` is known), prepares the order and
        queues it: ``PreparingDesk``."""
        future: Future[tuple[Account, OrderRecord]] = Future()
        self._send(future, True, "request", (token, account, request, key, client))
        return future

    def _send(self, future: Future[Any], with_account: bool, kind: str, payload: object) -> None:
        with self._lock:
            if self.connection is None or len(self._pending) >= self.max_pending:
                raise IntakeBusy(self.retry_after())
            self._next += 1
            self._pending[self._next] = (future, with_account)
            self._outbox.append((self._next, kind, payload))
            self._ready.notify()

    def _send_loop(self) -> None:
        while True:
            with self._ready:
                while not self._outbox and not self._closed:
                    self._ready.wait()
                if self._closed:
                    return
                batch, self._outbox = self._outbox, []
                connection = self.connection
            if connection is None:
                continue
            try:
                connection.send(batch)
            except (OSError, ValueError):
                continue  # the child is gone: the reader fails what it had not answered

    def close(self) -> None:
        """Stop the sender thread."""
        with self._ready:
            self._closed = True
            self._ready.notify()

    def submit(self, submission: Submission) -> OrderRecord:
        """Queue the order and wait for the child's answer (DomainError when refused)."""
        future = self.enqueue(submission)
        try:
            return future.result(self.timeout)
        except TimeoutError:
            future.cancel()
            raise IntakeBusy(self.retry_after()) from None

    def answer(self, answers: Iterable[tuple[int, Wire]]) -> None:
        """The child's answers: complete the waiting submissions (a timed-out one is dropped)."""
        with self._lock:
            futures = [(self._pending.pop(i, None), wire) for i, wire in answers]
        for waiting, wire in futures:
            if waiting is None or not waiting[0].set_running_or_notify_cancel():
                continue
            future, with_account = waiting
            if wire[0] == "signed_out":
                future.set_exception(SignedOut())
                continue
            outcome = _unwire(wire)
            if isinstance(outcome, DomainError):
                future.set_exception(outcome)
            else:
                future.set_result((wire[2], outcome) if with_account else outcome)

    def health(self) -> dict[str, object]:
        """What the health endpoint shows of the desk."""
        return {
            **self.cache,
            "process_id": self.process_id,
            "connected": self.connection is not None,
            "restarts": self.restarts,
            "pending": self.pending,
        }

    def fail_all(self, error: Exception) -> None:
        """The child is gone: every submission it had not answered hears ``error``."""
        with self._lock:
            futures = [future for future, _ in self._pending.values()]
            self._pending.clear()
            self._outbox.clear()  # never sent to the next child: their riders hear ``error``
        for future in futures:
            if future.set_running_or_notify_cancel():
                future.set_exception(error)


class OrderDesk:
    """The child process and the server thread that reads its answers and decisions."""

    def __init__(self, settings: Settings, watch: OrderWatch, intake: RemoteIntake) -> None:
        self.settings = settings
        self.watch = watch
        self.intake = intake
        intake.cache["cache_runs"] = settings.inventory_cache_runs
        self._context = multiprocessing.get_context("spawn")
        self._process: multiprocessing.process.BaseProcess | None = None
        self._stop = self._context.Event()
        self._reader: threading.Thread | None = None
        self._stopping = False

    @classmethod
    def start(
        cls, settings: Settings, watch: OrderWatch, *, timeout: float, max_pending: int
    ) -> OrderDesk:
        desk = cls(settings, watch, RemoteIntake(timeout, max_pending))
        connection = desk._spawn()
        desk._reader = threading.Thread(
            target=desk._read, args=(connection,), name="order-desk", daemon=True
        )
        desk._reader.start()
        return desk

    def _spawn(self) -> Connection:
        ours, theirs = self._context.Pipe(duplex=True)
        self._process = self._context.Process(
            target=_child,
            args=(self.settings, theirs, self._stop),
            name="open12306-order-desk",
            daemon=True,
        )
        self._process.start()
        theirs.close()
        with self.intake._lock:
            self.intake.connection = ours
            self.intake.process_id = self._process.pid
        return ours

    def _read(self, connection: Connection) -> None:
        while True:
            try:
                kind, payload = connection.recv()
            except (EOFError, OSError):
                with self.intake._lock:
                    self.intake.connection = None
                self.intake.fail_all(IntakeBusy(1))
                if self._stopping:
                    return
                log.error("the order desk process ended; starting another")
                self.intake.restarts += 1
                connection = self._spawn()
                continue
            if kind == "answers":
                self.intake.answer(payload)
            elif kind == "cache":
                self.intake.cache = payload
            else:
                self.watch.notify(payload)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping = True
        self._stop.set()
        if self._process is not None:
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(timeout)
        if self._reader is not None:
            self._reader.join(timeout)
        self.intake.close()


class _ForwardingWatch(OrderWatch):
    """In the child: the allocator's decisions go to the server instead of local waiters."""

    def __init__(self, send: Any) -> None:
        super().__init__(remember=1)
        self._send = send

    def notify(self, records: Iterable[OrderRecord]) -> None:
        decided = list(records)
        if decided:
            self._send(("decided", decided))


def _child(settings: Settings, connection: Connection, stop: Event) -> None:
    # The server stops it through ``stop`` (or it sees the pipe close), after the server's
    # requests are done: a signal to the whole process group must not end it first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from open12306.bootstrap import build

    container = build(settings, materialise=False)
    try:
        _serve(container, connection, stop)
    finally:
        container.store.engine.dispose()


def _serve(container: Any, connection: Connection, stop: Event) -> None:
    """Admit, answer, decide, until ``stop`` (or the server is gone)."""
    allocator = container.allocator
    allocator.watch = _ForwardingWatch(connection.send)
    allocator.catalog.warm()
    followed = reported = 0.0
    warming = False
    while not stop.is_set():
        try:
            arrived = _receive(connection, WARM_PAUSE if warming else 0.05)
        except EOFError:
            return
        warming = False
        try:
            if time.monotonic() - followed >= FOLLOW_SECONDS:
                container.read_model.pull()
                followed = time.monotonic()
            if arrived:
                _admit(container, arrived, connection)
            if not allocator.run_once() and not arrived and not connection.poll():
                warming = allocator.warm() > 0
            if time.monotonic() - reported >= REPORT_SECONDS:
                connection.send(("cache", _cache_report(allocator.cache)))
                reported = time.monotonic()
        except Exception:
            log.exception("order desk pass failed")


def _cache_report(cache: Any) -> dict[str, object]:
    return {
        "decoded_runs": len(cache),
        "cache_runs": cache.size,
        "cache_hits": cache.hits,
        "cache_misses": cache.misses,
    }


Arrived = tuple[int, str, Any]  # (ident, "submission" | "request", what was sent)


def _receive(connection: Connection, wait: float) -> list[Arrived]:
    """What the server sent, up to a batch: waits ``wait`` s for the first."""
    if not connection.poll(wait):
        return []
    arrived: list[Arrived] = []
    while len(arrived) < MAX_BATCH and connection.poll():
        arrived.extend(connection.recv())  # the server sends what it has, a list at a time
    return arrived


def _admit(container: Any, arrived: Sequence[Arrived], connection: Connection) -> None:
    """Prepare the requests, admit every submission as one batch, answer each."""
    answers: list[tuple[int, Wire]] = []
    ready: list[tuple[int, Submission, Account | None]] = []
    if any(kind == "request" and payload[0] is not None for _, kind, payload in arrived):
        # A session the server revoked a moment ago is not trusted from this memory.
        container.accounts.forget_revoked_elsewhere()
    for ident, kind, payload in arrived:
        if kind == "submission":
            ready.append((ident, payload, None))
            continue
        prepared = _prepare(container, *payload)
        if isinstance(prepared, tuple) and isinstance(prepared[1], Submission):
            ready.append((ident, prepared[1], prepared[0]))
        else:
            answers.append((ident, _answer_of(prepared)))
    try:
        outcomes: list[Outcome] = container.orders.intake.admit([s for _, s, _ in ready])
    except Exception as error:  # the whole batch failed: every rider hears it
        log.exception("admitting a batch failed")
        outcomes = [NotAdmitted(f"the order could not be queued: {error}")] * len(ready)
    for (ident, _, account), outcome in zip(ready, outcomes, strict=True):
        answers.append((ident, _wire(outcome, account)))
    connection.send(("answers", answers))


Prepared = tuple[Account, Submission | OrderRecord] | DomainError | None


def _prepare(
    container: Any,
    token: str | None,
    account: Account | None,
    request: OrderRequest,
    key: str | None,
    client: str | None,
) -> Prepared:
    """The rider's account and the submission (or the order ``key`` made); None when the
    token names no live session; the DomainError that refused the request."""
    try:
        signed_in = account if account is not None else container.accounts.authenticate(token)
    except DomainError:
        return None
    try:
        return signed_in, container.orders.begin(signed_in, request, key, client)
    except DomainError as error:
        return error


def _answer_of(prepared: Prepared) -> Wire:
    if prepared is None:
        return SIGNED_OUT
    if isinstance(prepared, DomainError):
        return _wire(prepared)
    account, record = prepared
    assert isinstance(record, OrderRecord)
    return _wire(record, account)
