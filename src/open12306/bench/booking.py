"""Booking benchmark: durable tickets/s end to end over HTTP, and a hot-run release minute.

Builds its own database (SQLite always; PostgreSQL too when reachable, in a fresh database it
creates and drops) with the demo network and no simulated sales, creates riders before timing
(accounts with 1-3 saved passengers and a live session, written in bulk: no password hashing
is timed), starts ``open12306 serve``'s app under uvicorn on a free loopback port, and drives
it with concurrent asyncio clients over raw keep-alive sockets. Each client takes the next
rider, ``POST /api/v1/orders`` (a random run, stop pair and class), then long-polls
``GET /api/v1/orders/{n}?wait=1&state=queued`` until the order is ``held`` or ``failed``; a
ticket counts once its order is ``held``, i.e. committed by the allocator's group commit.

- ``spread``: orders of 1-3 passengers across many runs, for ``seconds`` per round, median of
  ``rounds`` rounds (each with fresh riders).
- ``hot``: ``hot_factor`` times more requests than seats of one class on ``hot_runs`` runs of
  an emu-8 train (a Spring Festival release minute): every request must be answered (held or
  failed ``sold_out``), nothing oversold, p50/p99 time to outcome.
- ``floor``: the same held rows (orders and their ticket rows) deleted, then inserted again
  by the store in batches of the allocator's size, one transaction per batch: the raw
  durable write rate the end-to-end figure is compared with.

What bounds the rate (December 2026; figures and the reasoning in docs/benchmarks.md, "Booking"):
with 32 clients each waiting for its outcome, the round trip of an order: the server's request
work (about 1 ms of its interpreter) and the allocator's two commits (queued, then held). In the
thread mode the allocator also waits for the GIL behind the event loop at each database call;
``OPEN12306_ALLOCATOR=process`` (the order desk) measures 1.4-1.7x the thread. The database is
not the bound: the floor is 10^4 rows/s.

Oversold is checked after the server stopped, from the database: every hot run's inventory
passes ``check()``, its sold seat-segments equal those of its held orders, are at most its
capacity, and no two held tickets share a seat on overlapping stretches.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from open12306.bench.search import _health, _serve, _stop, _wait_ready, wait_warm
from open12306.bench.steps import Steps, Tell, quiet
from open12306.config import Settings

DEFAULT_PG_URL = "postgresql+psycopg://open12306:open12306@127.0.0.1:5432/open12306_test"
# Long-poll length. ``?wait`` waits for a change from the state the order is in when the GET
# arrives, so an order decided between two reads holds the next wait for its whole length: a
# short wait bounds that artefact in the measured time to outcome.
WAIT = 1
SUBMIT_WAIT = 10
BATCH = 500  # the allocator's batch: the floor commits the same number of orders at a time


@dataclass(frozen=True)
class Rider:
    """An account ready to order: its bearer token and saved passenger ids."""

    token: str
    passengers: tuple[str, ...]


@dataclass(frozen=True)
class Target:
    """Where an order goes: a run, a stop pair (codes) and a class."""

    train: str
    day: date
    from_code: str
    to_code: str
    seat_class: str


@dataclass
class Outcome:
    """What one order came to, and how long it took from submit to its outcome."""

    state: str
    reason: str | None
    tickets: int
    seconds: float
    polls: int = 0


@dataclass
class Tally:
    """Outcomes of one load, and its wall time (start to last outcome)."""

    outcomes: list[Outcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0

    @property
    def tickets(self) -> int:
        return sum(o.tickets for o in self.outcomes if o.state == "held")

    @property
    def rate(self) -> float:
        return self.tickets / self.wall if self.wall else 0.0


# --- setup -----------------------------------------------------------------------------------


def _settings(url: str, folder: Path) -> Settings:
    base = Settings.from_env()
    return replace(base, database_url=url, document_key_file=str(folder / "document-key"))


def _prepare(settings: Settings) -> Any:
    from open12306.bootstrap import build
    from open12306.bootstrap.tasks import load_demo
    from open12306.database.migrate import upgrade

    upgrade(settings.database_url)
    load_demo(
        settings, seed=settings.demo_seed, trains=settings.demo_trains, fill=0.0, days=1, force=True
    )
    return build(settings, materialise=False)


def _resident_id(serial: int) -> str:
    from open12306.accounts.domain.identity import check_character

    born = date(1970, 1, 1) + timedelta(days=serial // 900)
    first17 = f"110101{born:%Y%m%d}{100 + serial % 900:03d}"
    return first17 + check_character(first17)


def make_riders(container: Any, parties: Sequence[int], first_serial: int) -> list[Rider]:
    """Accounts with ``parties[i]`` passengers each and a live session, in one transaction."""
    from open12306.accounts.adapters.tables import accounts, passengers, sessions
    from open12306.accounts.domain.identity import Document, DocumentKind
    from open12306.accounts.services.accounts import token_hash
    from open12306.shared.db.documents_at_rest import document_cipher, passenger_purpose

    keyer = container.accounts.keyer
    cipher = document_cipher(container.store.engine)
    now = datetime.now(UTC)
    password_hash = container.accounts.hasher.hash("bench-only-password")
    account_rows, session_rows, passenger_rows, riders = [], [], [], []
    serial = first_serial
    for party in parties:
        account_id = uuid.uuid4().hex
        token = uuid.uuid4().hex + uuid.uuid4().hex
        account_rows.append(
            {
                "id": account_id,
                "username": f"bench{account_id[:20]}",
                "password_hash": password_hash,
                "created_at": now,
                "status": "active",
            }
        )
        session_rows.append(
            {
                "token_hash": token_hash(token),
                "account_id": account_id,
                "created_at": now,
                "expires_at": now + timedelta(days=1),
                "revoked_at": None,
            }
        )
        ids = []
        for _ in range(party):
            number = _resident_id(serial)
            serial += 1
            pid = uuid.uuid4().hex
            ids.append(pid)
            passenger_rows.append(
                {
                    "id": pid,
                    "account_id": account_id,
                    "name": "王小明",
                    "id_type": "resident_id",
                    "id_number": cipher.seal(number, passenger_purpose(pid)),
                    "id_key": keyer.key(Document(DocumentKind.RESIDENT_ID, number)),
                    "birth_date": date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                    "sex": "male" if int(number[16]) % 2 else "female",
                    "student": False,
                    "disabled_military": False,
                    "created_at": now,
                }
            )
        riders.append(Rider(token, tuple(ids)))
    with container.store.engine.begin() as conn:
        conn.execute(accounts.insert(), account_rows)
        conn.execute(sessions.insert(), session_rows)
        conn.execute(passengers.insert(), passenger_rows)
    return riders


def _targets(container: Any, days: Sequence[date], rng: random.Random) -> list[Target]:
    """Every run on ``days`` with a seated class, each with a random stop pair."""
    from open12306.inventory.domain.seats import SeatClass

    out = []
    catalog = container.catalog
    for code, day in sorted(container.read_model.runs):
        if day not in days:
            continue
        classes = [c for c in catalog.classes(code) if c is not SeatClass.STANDING]
        if not classes:
            continue
        stops = catalog.train(code).stops
        i = rng.randrange(len(stops) - 1)
        j = rng.randrange(i + 1, len(stops))
        seat_class = rng.choice(classes)
        out.append(Target(code, day, stops[i].station, stops[j].station, seat_class.value))
    return out


def _hot_targets(
    container: Any, day: date, runs: int, seat_class: str, rng: random.Random
) -> list[tuple[str, list[Target]]]:
    """``runs`` emu-8 runs of ``day``, each with its stop pairs (all i < j) in ``seat_class``."""
    catalog = container.catalog
    codes = sorted(
        code
        for code, d in container.read_model.runs
        if d == day and catalog.train(code).composition == "emu-8"
    )
    chosen = rng.sample(codes, runs)
    out = []
    for code in chosen:
        stations = [s.station for s in catalog.train(code).stops]
        pairs = [
            Target(code, day, stations[i], stations[j], seat_class)
            for i in range(len(stations) - 1)
            for j in range(i + 1, len(stations))
        ]
        out.append((code, pairs))
    return out


# --- load ------------------------------------------------------------------------------------


async def _call(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    method: bytes,
    path: str,
    token: str,
    body: bytes = b"",
) -> tuple[int, dict[str, Any]]:
    head = b"%s %s HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\n" % (
        method,
        path.encode(),
        token.encode(),
    )
    if body:
        head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    writer.write(head + b"\r\n" + body)
    answer = await reader.readuntil(b"\r\n\r\n")
    status = int(answer[9:12])
    length = 0
    for line in answer.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    data = await reader.readexactly(length)
    return status, json.loads(data) if data else {}


async def _order(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    rider: Rider,
    target: Target,
) -> Outcome:
    body = json.dumps(
        {
            "train": target.train,
            "date": target.day.isoformat(),
            "from": target.from_code,
            "to": target.to_code,
            "seat_class": target.seat_class,
            "passengers": list(rider.passengers),
        }
    ).encode()
    start = time.perf_counter()
    # One request submits and waits for the allocator's answer (``?wait``); a read follows
    # only if that wait ran out.
    submit = f"/api/v1/orders?wait={SUBMIT_WAIT}"
    status, order = await _call(reader, writer, b"POST", submit, rider.token, body)
    if status != 202:
        reason = order.get("error", {}).get("reason", str(status))
        return Outcome("rejected", reason, 0, time.perf_counter() - start)
    # Each read waits while the order is still ``queued`` (and answers at once when it is not).
    path = f"/api/v1/orders/{order['number']}?wait={WAIT}&state=queued"
    polls = 0
    while order["state"] == "queued":
        status, order = await _call(reader, writer, b"GET", path, rider.token)
        polls += 1
        if status != 200:
            return Outcome("error", str(status), 0, time.perf_counter() - start, polls)
    seconds = time.perf_counter() - start
    return Outcome(order["state"], order["reason"], len(order["passengers"]), seconds, polls)


async def _load(
    port: int,
    jobs: Sequence[tuple[Rider, Target]],
    seconds: float | None,
    connections: int,
) -> Tally:
    """Submit ``jobs`` over ``connections`` sockets; new orders stop after ``seconds``."""
    tally = Tally()
    pending = iter(jobs)
    start = time.perf_counter()
    deadline = None if seconds is None else start + seconds
    last = [start]

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for rider, target in pending:
                if deadline is not None and time.perf_counter() >= deadline:
                    return
                try:
                    tally.outcomes.append(await _order(reader, writer, rider, target))
                except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                    tally.errors.append(repr(error))
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                last[0] = time.perf_counter()
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    tally.wall = last[0] - start
    return tally


# --- checks and floor ------------------------------------------------------------------------


def seated_tickets(
    conn: Any,
    code: str,
    day: date,
    order_states: Sequence[str],
    seat_class: str | None = None,
    ticket_states: Sequence[str] | None = None,
) -> list[Any]:
    """The run's tickets with a seat (stretch, seat, minutes) of orders in ``order_states``."""
    from sqlalchemy import select

    from open12306.sales.adapters.tables import order_tickets, orders

    query = (
        select(
            orders.c.from_stop,
            orders.c.to_stop,
            order_tickets.c.seat_index,
            order_tickets.c.departs_min,
            order_tickets.c.arrives_min,
        )
        .join(order_tickets, order_tickets.c.order_number == orders.c.number)
        .where(
            order_tickets.c.train_code == code,
            order_tickets.c.service_date == day,
            orders.c.state.in_(tuple(order_states)),
            order_tickets.c.seat_index.is_not(None),
        )
    )
    if seat_class is not None:
        query = query.where(orders.c.seat_class == seat_class)
    if ticket_states is not None:
        query = query.where(order_tickets.c.state.in_(tuple(ticket_states)))
    return list(conn.execute(query).all())


def seat_clashes(rows: Sequence[Any]) -> int:
    """Pairs of tickets on one seat whose stretches overlap in time."""
    by_seat: dict[int, list[tuple[int, int]]] = defaultdict(list)
    clashes = 0
    for r in rows:
        spans = by_seat[int(r.seat_index)]
        span = (int(r.departs_min), int(r.arrives_min))
        clashes += sum(1 for a, b in spans if a < span[1] and span[0] < b)
        spans.append(span)
    return clashes


def _oversold(container: Any, code: str, day: date, seat_class: str) -> dict[str, Any]:
    """Audit one run from the database: inventory invariants, counts and seat overlaps."""
    from open12306.inventory.adapters import inventory_repo
    from open12306.inventory.domain.seats import SeatClass

    with container.store.engine.connect() as conn:
        stored = inventory_repo.load(conn, (code, day))
        rows = seated_tickets(conn, code, day, ("held",))
    assert stored is not None, f"{code} {day} has no inventory"
    inventory = container.catalog.decode(code, stored.state)
    klass = SeatClass(seat_class)
    seats = sum(1 for s in inventory.seats if s.seat_class == klass)
    capacity = seats * inventory.segments
    sold = inventory.sold_seat_segments(klass)
    held_segments = sum(int(r.to_stop) - int(r.from_stop) for r in rows)
    clashes = seat_clashes(rows)
    problems = inventory.check()
    return {
        "seats": seats,
        "held_tickets": len(rows),
        "capacity_seat_segments": capacity,
        "held_seat_segments": held_segments,
        "inventory_sold_seat_segments": sold,
        "oversold": clashes
        + max(0, held_segments - capacity)
        + (1 if held_segments != sold else 0)
        + len(problems),
    }


def _floor(container: Any) -> tuple[int, float]:
    """Delete the held orders' rows, insert them again in batches; (tickets, seconds)."""
    from sqlalchemy import delete, insert, select

    from open12306.sales.adapters.tables import order_tickets, orders

    with container.store.engine.begin() as conn:
        order_rows = [
            dict(r._mapping) for r in conn.execute(select(orders).where(orders.c.state == "held"))
        ]
        numbers = [r["number"] for r in order_rows]
        ticket_rows = [
            dict(r._mapping)
            for r in conn.execute(
                select(order_tickets).where(order_tickets.c.order_number.in_(numbers))
            )
        ]
        for k in range(0, len(numbers), BATCH):
            chunk = numbers[k : k + BATCH]
            conn.execute(delete(order_tickets).where(order_tickets.c.order_number.in_(chunk)))
            conn.execute(delete(orders).where(orders.c.number.in_(chunk)))
    id_column = "id" if "id" in order_tickets.c else None
    tickets_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in ticket_rows:
        if id_column:
            row.pop(id_column, None)
        tickets_of[row["order_number"]].append(row)
    start = time.perf_counter()
    for k in range(0, len(order_rows), BATCH):
        chunk = order_rows[k : k + BATCH]
        with container.store.engine.begin() as conn:
            conn.execute(insert(orders), chunk)
            conn.execute(insert(order_tickets), [t for o in chunk for t in tickets_of[o["number"]]])
    return len(ticket_rows), time.perf_counter() - start


# --- one backend -----------------------------------------------------------------------------


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _bench_backend(
    url: str,
    folder: Path,
    *,
    seconds: float,
    rounds: int,
    riders_per_round: int,
    connections: int,
    hot_runs: int,
    hot_class: str,
    hot_factor: int,
    workers: int,
    seed: int,
    steps: Steps,
) -> dict[str, Any]:
    rng = random.Random(seed)
    settings = _settings(url, folder)
    container = _prepare(settings)
    steps.step()
    today = container.window.today()
    days = [today + timedelta(days=d) for d in (2, 3, 4)]
    targets = _targets(container, days, rng)
    hot_day = today + timedelta(days=1)
    hot = _hot_targets(container, hot_day, hot_runs, hot_class, rng)
    serial = 0
    spread_jobs = []
    for _ in range(rounds):
        parties = [rng.choice((1, 1, 2, 3)) for _ in range(riders_per_round)]
        riders = make_riders(container, parties, serial)
        serial += sum(parties)
        spread_jobs.append([(r, rng.choice(targets)) for r in riders])
    hot_jobs: list[tuple[Rider, Target]] = []
    for code, pairs in hot:
        seats = sum(
            1 for s in container.allocator.seats_of(code) if s.seat_class.value == hot_class
        )
        parties = [rng.choice((1, 1, 2, 3)) for _ in range(seats * hot_factor)]
        riders = make_riders(container, parties, serial)
        serial += sum(parties)
        hot_jobs.extend((r, rng.choice(pairs)) for r in riders)
    rng.shuffle(hot_jobs)
    hot_requested_tickets = sum(len(r.passengers) for r, _ in hot_jobs)
    steps.step()

    env = {
        "OPEN12306_DATABASE_URL": url,
        "OPEN12306_DOCUMENT_KEY_FILE": str(folder / "document-key"),
    }
    server, port = _serve("open12306.http.asgi:app", env, workers)
    try:
        _wait_ready(port, "/api/v1/health")
        warm_seconds = wait_warm(port)
        spread = []
        for jobs in spread_jobs:
            spread.append(asyncio.run(_load(port, jobs, seconds, connections)))
            steps.step()
        burst = asyncio.run(_load(port, hot_jobs, None, connections))
        steps.step()
        allocator = _health(port).get("allocator", {})
    finally:
        _stop(server)

    audits = {
        f"{code} {hot_day}": _oversold(container, code, hot_day, hot_class) for code, _ in hot
    }
    floor_tickets, floor_seconds = _floor(container)
    steps.step()
    container.store.engine.dispose()

    rates = [t.rate for t in spread]
    rate = statistics.median(rates)
    floor_rate = floor_tickets / floor_seconds if floor_seconds else 0.0
    all_spread = [o for t in spread for o in t.outcomes]
    hot_times = [o.seconds for o in burst.outcomes]
    hot_states: dict[str, int] = defaultdict(int)
    for o in burst.outcomes:
        hot_states[o.state if o.reason is None else f"{o.state}:{o.reason}"] += 1
    return {
        "tickets_per_s": round(rate),
        "tickets_per_s_rounds": [round(r) for r in rates],
        "orders_per_round": [len(t.outcomes) for t in spread],
        "spread_runs": len(targets),
        "spread_outcomes": _states(all_spread),
        "spread_p50_ms": round(1000 * _percentile([o.seconds for o in all_spread], 0.5), 1),
        "spread_long_polls_per_order": _mean_polls(all_spread),
        "spread_p99_ms": round(1000 * _percentile([o.seconds for o in all_spread], 0.99), 1),
        "floor_batched_insert_tickets_per_s": round(floor_rate),
        "floor_rows": {"tickets": floor_tickets, "batch_orders": BATCH},
        "ratio_vs_floor": round(rate / floor_rate, 4) if floor_rate else None,
        "hot": {
            "runs": len(hot),
            "seat_class": hot_class,
            "requests": len(hot_jobs),
            "requested_tickets": hot_requested_tickets,
            "answered": len(burst.outcomes),
            "unanswered": len(hot_jobs) - len(burst.outcomes),
            "outcomes": dict(hot_states),
            "p50_ms": round(1000 * _percentile(hot_times, 0.5), 1),
            "p99_ms": round(1000 * _percentile(hot_times, 0.99), 1),
            "wall_s": round(burst.wall, 3),
            "long_polls_per_order": _mean_polls(burst.outcomes),
            "oversold": sum(a["oversold"] for a in audits.values()),
            "audit": audits,
        },
        "allocator_warm_before_s": round(warm_seconds, 1),
        "allocator_cache": {k: allocator.get(k) for k in ("cache_hits", "cache_misses")},
        "client_errors": len(burst.errors) + sum(len(t.errors) for t in spread),
        "connections": connections,
        "server_workers": workers,
    }


def _mean_polls(outcomes: Sequence[Outcome]) -> float:
    return round(statistics.mean(o.polls for o in outcomes), 2) if outcomes else 0.0


def _states(outcomes: Sequence[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for o in outcomes:
        counts[o.state if o.reason is None else f"{o.state}:{o.reason}"] += 1
    return dict(counts)


# --- PostgreSQL ------------------------------------------------------------------------------


def postgres_base() -> str | None:
    """The PostgreSQL server to bench on (OPEN12306_TEST_PG_URL or the local default)."""
    url = os.environ.get("OPEN12306_TEST_PG_URL") or DEFAULT_PG_URL
    try:
        import psycopg

        with psycopg.connect(_plain(url), connect_timeout=3):
            return url
    except Exception:  # unreachable or no driver: no PostgreSQL figures
        return None


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def fresh_database(base: str) -> Iterator[str]:
    """A new empty database on ``base``'s server, dropped afterwards."""
    import psycopg

    name = f"open12306_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    head, _, _ = base.rpartition("/")
    with psycopg.connect(_plain(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{head}/{name}"
    finally:
        with psycopg.connect(_plain(base), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- entry -----------------------------------------------------------------------------------


def run(
    seconds: float = 3.0,
    *,
    rounds: int = 3,
    riders_per_round: int = 3000,
    connections: int = 32,
    hot_runs: int = 3,
    hot_class: str = "business",
    hot_factor: int = 10,
    workers: int = 1,
    postgres: bool = True,
    seed: int = 12306,
    progress: Tell = quiet,
) -> dict[str, Any]:
    """Figures on SQLite and (when reachable) PostgreSQL; see the module docstring."""
    options: dict[str, Any] = {
        "seconds": seconds,
        "rounds": rounds,
        "riders_per_round": riders_per_round,
        "connections": connections,
        "hot_runs": hot_runs,
        "hot_class": hot_class,
        "hot_factor": hot_factor,
        "workers": workers,
        "seed": seed,
    }
    results: dict[str, Any] = {"target_sqlite_tickets_per_s": 3000}
    with tempfile.TemporaryDirectory(prefix="open12306-bench-") as tmp:
        folder = Path(tmp)
        phases = rounds + 4
        results["sqlite"] = _bench_backend(
            f"sqlite:///{folder}/booking.db",
            folder,
            **options,
            steps=Steps(progress, "booking sqlite", phases),
        )
        base = postgres_base() if postgres else None
        if base is None:
            results["postgres"] = None
        else:
            with fresh_database(base) as url:
                steps = Steps(progress, "booking postgresql", phases)
                results["postgres"] = _bench_backend(url, folder, **options, steps=steps)
    return results
