"""The Spring Festival simulator (``open12306 peak simulate``): a compressed sale window driven
over the real HTTP API, then a report.

Builds its own SQLite database with the demo network (``trains`` trains, no simulated sales),
maps three travel days around the chosen sale date onto the demo's days 2-4 (the last is the day
on release, 14 days after the sale date as on 12306's 15-day window), weighs the city pairs of
the major stops by ``bench.demand`` (census populations, distance, the holiday calendar) and
draws the window's plan from the seed (``bench.sim_plan``). Riders (one account per human
order, a small pool for the bots) are written before timing, as ``bench booking`` does.

The server (``open12306 serve``'s app under uvicorn, one worker) runs with the slow queue
counting addresses (``OPEN12306_SLOW_QUEUE_*``), loopback as the trusted proxy, and each human
behind an address of its own (``X-Forwarded-For`` in 198.18.0.0/15, the benchmarking range: a
header value, no traffic goes there) while the bots share three. The load follows the plan in
real time over keep-alive sockets: searches, orders (submit, long-poll the queue, pay on the
credit line), refunds of a share of paid orders, and re-purchases of refunded seats by riders
who had been turned away (sold out) on that train and class.

Afterwards, from the database: every (run, class) of the three days passes ``bench.booking``'s
oversold audit, the load factor per corridor (sold seat-segments over offered), and which orders
really went to the slow queue. Deterministic from the seed apart from the server's timing.
"""

from __future__ import annotations

import asyncio
import csv
import json
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from open12306.bench import booking
from open12306.bench.demand import City, Holidays, Release, day_demand, release_profile
from open12306.bench.search import _serve, _stop, _wait_ready, wait_warm
from open12306.bench.sim_plan import Event, Leg, PlanSpec, plan

Progress = Callable[[str, int, int], None]
SALE_DATE = date(2026, 2, 1)  # releases 15 Feb 2026, the first day off of Spring Festival 2026
PRESALE_AHEAD = 14
BOT_ADDRESSES = ("203.0.113.7", "203.0.113.8", "203.0.113.9")
BOT_PASSENGERS = 6
WAIT = 1
GRACE = 20.0
ORDER_RATE = 8.0  # human orders/s at intensity 1 and scale 1


@dataclass
class Outcome:
    """One order as the simulator saw it."""

    rider: int
    bot: bool
    day: int
    corridor: str
    train: str
    seat_class: str
    submitted: float
    status: int = 0
    state: str = ""
    reason: str | None = None
    decided: float | None = None
    tickets: int = 0
    paid: bool = False
    slow: bool = False
    number: str | None = None
    repurchase: bool = False
    refunded: int = 0


@dataclass
class Observed:
    """Everything the load recorded."""

    searches: list[tuple[float, float, int]] = field(default_factory=list)
    search_backlog: list[float] = field(default_factory=list)
    orders: list[Outcome] = field(default_factory=list)
    refunds: int = 0
    refund_errors: int = 0
    repurchases: int = 0
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    shed: int = 0


# --- setup -----------------------------------------------------------------------------------


def _holidays(festival_year: int) -> Holidays:
    from open12306.catalog.adapters.holidays import SPRING_FESTIVAL, is_official_holiday
    from open12306.catalog.domain.run_calendar import chunyun_window

    festival = SPRING_FESTIVAL[festival_year]
    first = last = festival
    while is_official_holiday(first - timedelta(days=1)):
        first -= timedelta(days=1)
    while is_official_holiday(last + timedelta(days=1)):
        last += timedelta(days=1)
    rush_first, rush_last = chunyun_window(festival)
    return Holidays(festival, first, last, rush_first, rush_last)


def _cities(data_dir: Path) -> list[City]:
    with (data_dir / "stations.tsv").open(encoding="utf-8") as f:
        where = {r["city"]: (r["lat"], r["lon"]) for r in csv.DictReader(f, delimiter="\t")}
    with (data_dir / "city_population.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [
        City(
            r["city"], int(r["population"]), float(where[r["city"]][0]), float(where[r["city"]][1])
        )
        for r in rows
        if where.get(r["city"], ("", ""))[0]
    ]


def _corridor_of(data_dir: Path) -> Callable[[str, str], str]:
    corridors = json.loads((data_dir / "corridors.json").read_text(encoding="utf-8"))["corridors"]
    sets: list[tuple[str, set[str]]] = [
        (str(c["id"]), {str(s["code"]) for s in c["stations"]}) for c in corridors
    ]

    def corridor(first: str, last: str) -> str:
        for name, codes in sets:
            if first in codes and last in codes:
                return name
        return "through"

    return corridor


def _legs(
    container: Any, day: date, cities: set[str], corridor: Callable[[str, str], str]
) -> dict[tuple[str, str], list[Leg]]:
    """Direct trains between the cities on ``day``: per (origin, destination), one leg a train."""
    catalog = container.catalog
    out: dict[tuple[str, str], list[Leg]] = defaultdict(list)
    for code, run_day in sorted(container.read_model.runs):
        if run_day != day:
            continue
        classes = tuple(c.value for c in catalog.classes(code) if c.value != "standing")
        if not classes:
            continue
        stops = [s.station for s in catalog.train(code).stops]
        line = corridor(stops[0], stops[-1])
        seen: set[tuple[str, str]] = set()
        for i, a in enumerate(stops):
            for b in stops[i + 1 :]:
                pair = (catalog.city_of(a), catalog.city_of(b))
                if pair[0] == pair[1] or pair in seen or not set(pair) <= cities:
                    continue
                seen.add(pair)
                out[pair].append(Leg(code, a, b, classes, line))
    return dict(out)


def _database(settings: Any, trains: int, prefill: float) -> Any:
    """The demo network of ``trains`` trains, its first five days' runs sold to ``prefill``
    (the seats gone before the window: earlier sales, other channels, the waiting list)."""
    from open12306.bootstrap import build
    from open12306.bootstrap.tasks import load_demo
    from open12306.database.migrate import upgrade

    upgrade(settings.database_url)
    load_demo(settings, seed=settings.demo_seed, trains=trains, fill=prefill, days=5, force=True)
    return build(settings, materialise=False)


def _sold_before(container: Any, days: list[date]) -> dict[tuple[str, date, str], int]:
    """Seat-segments sold per (run, class) before the window."""
    from open12306.inventory.adapters import inventory_repo

    sold = {}
    with container.store.engine.connect() as conn:
        for code, day in sorted(container.read_model.runs):
            if day not in days:
                continue
            stored = inventory_repo.load(conn, (code, day))
            if stored is None:
                continue
            inventory = container.catalog.decode(code, stored.state)
            for seat_class in container.catalog.classes(code):
                sold[(code, day, seat_class.value)] = inventory.sold_seat_segments(seat_class)
    return sold


@dataclass
class Setup:
    """The database, the plan and the riders, ready before timing."""

    container: Any
    settings: Any
    folder: Path
    days: list[date]
    travel_days: list[date]
    events: list[Event]
    humans: list[booking.Rider]
    bots: list[booking.Rider]
    release_at: int
    legs: list[dict[tuple[str, str], list[Leg]]]
    corridor: Callable[[str, str], str]
    sold_before: dict[tuple[str, date, str], int]


def prepare(
    folder: Path,
    *,
    seed: int,
    seconds: int,
    scale: float,
    bots: float,
    trains: int,
    prefill: float,
    sale_date: date,
    progress: Progress,
) -> Setup:
    """Database, plan and riders (untimed)."""
    progress("setup", 0, 4)
    settings = booking._settings(f"sqlite:///{folder}/peak.db", folder)
    container = _database(settings, trains, prefill)
    progress("setup", 1, 4)
    today = container.window.today()
    days = [today + timedelta(days=d) for d in (2, 3, 4)]
    release_day = sale_date + timedelta(days=PRESALE_AHEAD)
    travel = [release_day - timedelta(days=2 - k) for k in range(3)]
    cities = _cities(settings.data_dir)
    corridor = _corridor_of(settings.data_dir)
    names = {c.name for c in cities}
    legs = [_legs(container, d, names, corridor) for d in days]
    served = {travel[k]: list(legs[k]) for k in range(3)}
    weights = day_demand(cities, travel, _holidays(release_day.year), served=served)
    demand = [{(o, d): w for (t, o, d), w in weights.items() if t == travel[k]} for k in range(3)]
    release_at = max(1, seconds // 10)
    spike = release_profile(seconds, Release(release_at, decay=max(2.0, seconds / 8)))
    residual = PlanSpec(seconds, 1.0).residual
    intensity = [[residual] * seconds, [residual] * seconds, spike]
    spec = PlanSpec(seconds=seconds, order_rate=ORDER_RATE * scale, bots=bots)
    events = plan(spec, demand, legs, intensity, seed)
    progress("setup", 2, 4)
    rng = random.Random(seed + 1)
    orders = [e for e in events if e.kind == "order"]
    humans = booking.make_riders(container, [e.party for e in orders], 0)
    bot_events = sum(1 for e in events if e.kind == "bot")
    accounts = max(4, bot_events // 4) if bot_events else 0
    bot_riders = booking.make_riders(container, [BOT_PASSENGERS] * accounts, 10 * len(orders) + 7)
    rng.shuffle(bot_riders)
    progress("setup", 3, 4)
    return Setup(
        container,
        settings,
        folder,
        days,
        travel,
        events,
        humans,
        bot_riders,
        release_at,
        legs,
        corridor,
        _sold_before(container, days),
    )


# --- HTTP ------------------------------------------------------------------------------------


class Connections:
    """A pool of keep-alive sockets to the server."""

    def __init__(self, port: int, size: int) -> None:
        self.port = port
        self.size = size
        self.free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def open(self) -> None:
        for _ in range(self.size):
            self.free.put_nowait(await asyncio.open_connection("127.0.0.1", self.port))

    async def call(
        self,
        method: bytes,
        path: str,
        headers: dict[str, str],
        body: bytes = b"",
        written: list[float] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """One request on a free socket (a broken one is replaced); ``written`` gets the
        moment the request went out (after waiting for a socket)."""
        reader, writer = await self.free.get()
        if written is not None:
            written.append(time.perf_counter())
        try:
            try:
                answer = await _exchange(reader, writer, method, path, headers, body)
            except (ConnectionResetError, asyncio.IncompleteReadError) as closed:
                if isinstance(closed, asyncio.IncompleteReadError) and closed.partial:
                    raise
                # The server closed the idle socket (its keep-alive timeout) before reading
                # the request: nothing was done, so it goes again on a new socket.
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                answer = await _exchange(reader, writer, method, path, headers, body)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            raise
        finally:
            self.free.put_nowait((reader, writer))
        return answer

    def close(self) -> None:
        while not self.free.empty():
            self.free.get_nowait()[1].close()


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    method: bytes,
    path: str,
    headers: dict[str, str],
    body: bytes,
) -> tuple[int, dict[str, str], Any]:
    head = b"%s %s HTTP/1.1\r\nHost: sim\r\n" % (method, path.encode())
    for name, value in headers.items():
        head += f"{name}: {value}\r\n".encode()
    if body:
        head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    writer.write(head + b"\r\n" + body)
    raw = await reader.readuntil(b"\r\n\r\n")
    status = int(raw[9:12])
    got: dict[str, str] = {}
    for line in raw.split(b"\r\n")[1:]:
        key, _, text = line.partition(b":")
        got[key.decode().strip().lower()] = text.decode().strip()
    data = await reader.readexactly(int(got.get("content-length", "0")))
    return status, got, json.loads(data) if data else {}


def _human_address(rider: int) -> str:
    n = rider % 131_072
    return f"198.{18 + n // 65536}.{(n // 256) % 256}.{n % 256}"


# --- load ------------------------------------------------------------------------------------


class Load:
    """Plays the plan against the server and records what it answered."""

    def __init__(self, setup: Setup, port: int, delay: int, progress: Progress) -> None:
        self.setup = setup
        self.port = port
        self.delay = delay
        self.progress = progress
        self.seen = Observed()
        self.waiting: dict[tuple[str, int, str], list[tuple[int, Event]]] = defaultdict(list)
        self.start = 0.0
        self.seconds = 0
        self.tasks: set[asyncio.Task[None]] = set()

    def now(self) -> float:
        return time.perf_counter() - self.start

    async def run(self, seconds: int) -> Observed:
        self.searchers = Connections(self.port, 32)
        self.buyers = Connections(self.port, 48)
        self.robots = Connections(self.port, 64)  # bots keep many requests in flight
        for pool in (self.searchers, self.buyers, self.robots):
            await pool.open()
        self.seconds = seconds
        self.start = time.perf_counter()
        ticker = asyncio.create_task(self._tick(seconds))
        for event in self.setup.events:
            wait = event.at - self.now()
            if wait > 0:
                await asyncio.sleep(wait)
            self._spawn(self._handle(event))
        await asyncio.sleep(max(0.0, seconds - self.now()))
        ticker.cancel()
        self.progress("run", seconds, seconds)
        if self.tasks:
            _, late = await asyncio.wait(set(self.tasks), timeout=GRACE + self.delay)
            for task in late:
                task.cancel()
        self.seen.wall = self.now()
        for pool in (self.searchers, self.buyers, self.robots):
            pool.close()
        return self.seen

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _tick(self, seconds: int) -> None:
        while True:
            self.progress("run", min(seconds, int(self.now())), seconds)
            await asyncio.sleep(0.5)

    async def _handle(self, event: Event) -> None:
        if event.kind == "search":
            await self._guarded(self._search(event))
        elif event.kind == "order":
            who = self.setup.humans[event.rider]
            await self._guarded(self._buy(event, event.rider, who, False))
        else:
            await self._guarded(self._bot(event))

    async def _guarded(self, work: Any) -> None:
        try:
            await work
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            self.seen.errors.append(repr(error))

    async def _search(self, event: Event) -> None:
        day = self.setup.days[event.day].isoformat()
        query = urlencode({"from": event.origin, "to": event.destination, "date": day})
        arrived = self.now()
        written: list[float] = []
        path = f"/api/v1/search?{query}"
        status, _, _ = await self.searchers.call(b"GET", path, {}, written=written)
        sent = written[0] - self.start
        self.seen.searches.append((sent, self.now() - sent, status))
        self.seen.search_backlog.append(sent - arrived)

    def _body(self, event: Event, passengers: tuple[str, ...]) -> bytes:
        assert event.leg is not None
        return json.dumps(
            {
                "train": event.leg.train,
                "date": self.setup.days[event.day].isoformat(),
                "from": event.leg.from_code,
                "to": event.leg.to_code,
                "seat_class": event.seat_class,
                "passengers": list(passengers),
            }
        ).encode()

    async def _buy(self, event: Event, rider: int, who: booking.Rider, repurchase: bool) -> Outcome:
        headers = {
            "Authorization": f"Bearer {who.token}",
            "X-Forwarded-For": _human_address(rider),
        }
        outcome = await self._order(
            self.buyers, event, headers, who.passengers[: event.party], rider, False
        )
        outcome.repurchase = repurchase
        seats_gone = outcome.reason in ("sold_out", "queue_exceeds_seats")
        if seats_gone and not repurchase and event.leg is not None:
            self.waiting[(event.leg.train, event.day, event.seat_class)].append((rider, event))
        refund = event.refund_after
        # a refund due after the window's end is not made
        if (
            outcome.paid
            and refund is not None
            and outcome.number
            and self.now() + refund < self.seconds
        ):
            self._spawn(self._guarded(self._refund(event, outcome, headers)))
        return outcome

    async def _order(
        self,
        pool: Connections,
        event: Event,
        headers: dict[str, str],
        passengers: tuple[str, ...],
        rider: int,
        bot: bool,
    ) -> Outcome:
        assert event.leg is not None
        body = self._body(event, passengers)
        outcome = Outcome(
            rider, bot, event.day, event.leg.corridor, event.leg.train, event.seat_class, self.now()
        )
        self.seen.orders.append(outcome)
        for attempt in range(3):
            written: list[float] = []
            status, got, order = await pool.call(
                b"POST", "/api/v1/orders", headers, body, written=written
            )
            if attempt == 0:  # time to outcome counts from the request, not the wait for a socket
                outcome.submitted = written[0] - self.start
            outcome.status = status
            if status != 429 or attempt == 2 or bot:
                break
            self.seen.shed += 1
            await asyncio.sleep(min(2.0, float(got.get("retry-after", "1") or 1)))
        if status != 202:
            outcome.state = "rejected"
            outcome.reason = order.get("error", {}).get("reason", str(status))
            outcome.decided = self.now()
            return outcome
        outcome.number = order["number"]
        place = order.get("queue") or {}
        outcome.slow = int(place.get("wait_seconds") or 0) >= self.delay
        path = f"/api/v1/orders/{order['number']}?wait={WAIT}&state=queued"
        while order["state"] == "queued":
            status, _, order = await pool.call(b"GET", path, headers)
            if status != 200:
                outcome.state, outcome.reason = "error", str(status)
                return outcome
        outcome.state, outcome.reason = order["state"], order["reason"]
        outcome.decided = self.now()
        if order["state"] == "held":
            outcome.tickets = len(order["passengers"])
            pay = json.dumps({"channel": "credit"}).encode()
            status, _, paid = await pool.call(
                b"POST", f"/api/v1/orders/{order['number']}/payments", headers, pay
            )
            outcome.paid = status == 201 and paid.get("state") == "paid"
        return outcome

    async def _bot(self, event: Event) -> None:
        pool = self.setup.bots
        account = event.rider % len(pool)
        who = pool[account]
        turn = (event.rider // len(pool)) % (BOT_PASSENGERS // 2)
        passengers = who.passengers[2 * turn : 2 * turn + event.party]
        headers = {
            "Authorization": f"Bearer {who.token}",
            "X-Forwarded-For": BOT_ADDRESSES[account % len(BOT_ADDRESSES)],
        }
        await self._order(self.robots, event, headers, passengers, account, True)

    async def _refund(self, event: Event, outcome: Outcome, headers: dict[str, str]) -> None:
        assert event.refund_after is not None and event.leg is not None
        await asyncio.sleep(event.refund_after)
        path = f"/api/v1/orders/{outcome.number}/refund"
        status, _, done = await self.buyers.call(b"POST", path, headers)
        if status != 200:
            self.seen.refund_errors += 1
            return
        self.seen.refunds += 1
        outcome.refunded = len(done.get("tickets", []))
        queue = self.waiting.get((event.leg.train, event.day, event.seat_class), [])
        for k, (rider, wanted) in enumerate(queue):
            if wanted.party <= outcome.refunded:
                del queue[k]
                self.seen.repurchases += 1
                again = replace(wanted, leg=event.leg)
                await self._buy(again, rider, self.setup.humans[rider], True)
                return


# --- run -------------------------------------------------------------------------------------


def _server_env(setup: Setup, delay: int) -> dict[str, str]:
    return {
        "OPEN12306_DATABASE_URL": setup.settings.database_url,
        "OPEN12306_DOCUMENT_KEY_FILE": str(setup.folder / "document-key"),
        "OPEN12306_TRUSTED_PROXIES": "127.0.0.1",
        "OPEN12306_SLOW_QUEUE_WINDOW_SECONDS": "10",
        "OPEN12306_SLOW_QUEUE_PER_ACCOUNT": "5",
        "OPEN12306_SLOW_QUEUE_PER_ADDRESS": "20",
        "OPEN12306_SLOW_QUEUE_DELAY_SECONDS": str(delay),
    }


def _warm(port: int, setup: Setup, progress: Progress) -> None:
    """One search per (day, pair) the plan asks, untimed: the route searches the warmer holds."""
    import urllib.request

    wanted = sorted({(e.day, e.origin, e.destination) for e in setup.events if e.kind == "search"})
    for n, (day, o, d) in enumerate(wanted):
        query = urlencode({"from": o, "to": d, "date": setup.days[day].isoformat()})
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/search?{query}", timeout=60).read()
        progress("warm", n + 1, len(wanted))


def simulate(
    *,
    seed: int = 12306,
    seconds: int = 60,
    scale: float = 1.0,
    bots: float = 0.2,
    trains: int = 12,
    prefill: float = 0.6,
    sale_date: date = SALE_DATE,
    out: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the simulator; write the report to ``out`` (when given); the summary."""
    from open12306.bench import sim_report

    tell = progress or (lambda stage, done, total: None)
    if not 0 <= bots < 1:
        raise ValueError("bots is a share: 0 ≤ bots < 1")
    if out is not None:
        sim_report.require_matplotlib()
    delay = max(3, seconds // 6)
    with tempfile.TemporaryDirectory(prefix="open12306-sim-") as tmp:
        setup = prepare(
            Path(tmp),
            seed=seed,
            seconds=seconds,
            scale=scale,
            bots=bots,
            trains=trains,
            prefill=prefill,
            sale_date=sale_date,
            progress=tell,
        )
        server, port = _serve("open12306.http.asgi:app", _server_env(setup, delay), 1)
        try:
            _wait_ready(port, "/api/v1/health")
            wait_warm(port)  # as a server started before the sale opens would be
            tell("setup", 4, 4)
            _warm(port, setup, tell)
            seen = asyncio.run(Load(setup, port, delay, tell).run(seconds))
        finally:
            _stop(server)
        tell("audit", 0, 1)
        audit = sim_report.audit(setup)
        tell("audit", 1, 1)
        setup.container.store.engine.dispose()
    summary = sim_report.summary(setup, seen, audit, seed=seed, seconds=seconds, delay=delay)
    summary["options"] = {
        "seed": seed,
        "seconds": seconds,
        "scale": scale,
        "bots": bots,
        "trains": trains,
        "prefill": prefill,
        "sale_date": sale_date.isoformat(),
    }
    if out is not None:
        tell("report", 0, 1)
        sim_report.write(out, setup, seen, summary)
        tell("report", 1, 1)
    return summary
