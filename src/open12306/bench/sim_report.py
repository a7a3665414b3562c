"""The simulator's figures and report: the database audit after the run (oversold, load factor
per corridor, slow-queued orders), the summary, and ``report.html`` with its PNG plots
(matplotlib, Agg backend: no display, no network; the page references the plots relatively and
loads nothing else).
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from open12306.bench import booking

if TYPE_CHECKING:
    from open12306.bench.simulate import Observed, Outcome, Setup

PLOTS = {
    "throughput.png": "Throughput: searches answered and tickets held per second",
    "latency.png": "Latency percentiles per second (search; order submit to outcome)",
    "sold_out.png": "Sold-out time per corridor (day on release)",
    "load_factor.png": "Load factor per corridor and travel day",
    "slow_queue.png": "Slow-queue share of accepted orders, bots vs humans",
}
SEATS_GONE = ("sold_out", "queue_exceeds_seats")


# --- audit -----------------------------------------------------------------------------------


def audit(setup: Setup) -> dict[str, Any]:
    """From the database, after the server stopped: oversold per (run, class) of the three
    days, sold and offered seat-segments per corridor and day, the slow-queued orders."""
    container = setup.container
    catalog = container.catalog
    oversold = 0
    runs = 0
    load: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for k, day in enumerate(setup.days):
        for code, run_day in sorted(container.read_model.runs):
            if run_day != day:
                continue
            stops = catalog.train(code).stops
            line = setup.corridor(stops[0].station, stops[-1].station)
            for seat_class in catalog.classes(code):
                if seat_class.value == "standing":
                    continue
                before = setup.sold_before.get((code, day, seat_class.value), 0)
                found = _audit_run(container, code, day, seat_class.value, before)
                runs += 1
                oversold += found["oversold"]
                load[(line, k)][0] += found["inventory_sold_seat_segments"]
                load[(line, k)][1] += found["capacity_seat_segments"]
    return {
        "runs_classes_audited": runs,
        "oversold": oversold,
        "load": {f"{line}|{k}": v for (line, k), v in sorted(load.items())},
        "slow_queued": _slow_in_database(container),
    }


def _audit_run(container: Any, code: str, day: Any, seat_class: str, before: int) -> dict[str, Any]:
    """One run and class, as ``bench.booking`` audits it, counting every live seat: held orders'
    and paid orders' issued tickets (refunded ones gave their seat back), on top of the
    ``before`` seat-segments sold before the window. Oversold: seat clashes between tickets on
    overlapping stretches, more seat-segments sold than capacity, tickets that do not account
    for what the inventory sold in the window, and any inventory invariant breach."""

    from open12306.inventory.adapters import inventory_repo
    from open12306.inventory.domain.seats import SeatClass

    klass = SeatClass(seat_class)
    seats = sum(1 for s in container.allocator.seats_of(code) if s.seat_class == klass)
    segments = len(container.catalog.train(code).stops) - 1
    with container.store.engine.connect() as conn:
        stored = inventory_repo.load(conn, (code, day))
        rows = booking.seated_tickets(
            conn, code, day, ("held", "paid"), seat_class, ("pending", "issued")
        )
    sold, problems = 0, 0
    if stored is not None:
        inventory = container.catalog.decode(code, stored.state)
        sold = inventory.sold_seat_segments(klass)
        problems = len(inventory.check())
    live = sum(int(r.to_stop) - int(r.from_stop) for r in rows)
    clashes = booking.seat_clashes(rows)
    capacity = seats * segments
    return {
        "oversold": clashes
        + max(0, sold - capacity)
        + (1 if live != sold - before else 0)
        + problems,
        "inventory_sold_seat_segments": sold,
        "capacity_seat_segments": capacity,
    }


def _slow_in_database(container: Any) -> list[str]:
    """Numbers of the orders whose place in the queue is later than their submission."""
    from sqlalchemy import select

    from open12306.sales.adapters.tables import orders

    slow = []
    with container.store.engine.connect() as conn:
        for number, created, body in conn.execute(
            select(orders.c.number, orders.c.created_at, orders.c.body)
        ):
            queued = datetime.fromisoformat(json.loads(body)["queued_at"])
            if queued.tzinfo is None or created.tzinfo is None:
                queued, created = queued.replace(tzinfo=None), created.replace(tzinfo=None)
            if (created - queued).total_seconds() > 1.0:
                slow.append(str(number))
    return slow


# --- figures ---------------------------------------------------------------------------------


def _pct(values: Sequence[float], q: float) -> float:
    return round(1000 * booking._percentile(values, q), 1)


def _per_second(seconds: int, times: Sequence[tuple[float, float]]) -> list[list[float]]:
    bins: list[list[float]] = [[] for _ in range(seconds)]
    for at, value in times:
        if 0 <= at < seconds:
            bins[int(at)].append(value)
    return bins


def _sold_out(setup: Setup, orders: Sequence[Outcome]) -> dict[str, float | None]:
    """Per corridor, seconds from the release until the day on release was sold out there: the
    first second from which, in every later second with answers, more of the corridor's orders
    were turned away for want of seats than held (None: still selling at the window's end)."""
    last = len(setup.days) - 1
    bins: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for o in orders:
        if o.day != last or o.decided is None:
            continue
        second = int(o.decided)
        if o.state == "held":
            bins[o.corridor][second][0] += 1
        elif o.reason in SEATS_GONE:
            bins[o.corridor][second][1] += 1
    out: dict[str, float | None] = {}
    for corridor in sorted(bins):
        since: int | None = None
        for second in sorted(bins[corridor]):
            held, gone = bins[corridor][second]
            since = (second if since is None else since) if gone > held else None
        out[corridor] = None if since is None else float(max(0, since - setup.release_at))
    return out


def _states(orders: Sequence[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for o in orders:
        state = o.state or "unfinished"
        counts[state if o.reason is None else f"{state}:{o.reason}"] += 1
    return dict(sorted(counts.items()))


def _slow_share(orders: Sequence[Outcome], slow: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, bot in (("bots", True), ("humans", False)):
        accepted = [o for o in orders if o.bot is bot and o.number]
        caught = sum(1 for o in accepted if o.number in slow)
        out[name] = {
            "submitted": sum(1 for o in orders if o.bot is bot),
            "accepted": len(accepted),
            "slow_queued": caught,
            "slow_queued_seen_by_client": sum(1 for o in accepted if o.slow),
            "share": round(caught / len(accepted), 3) if accepted else 0.0,
            "tickets": sum(o.tickets for o in orders if o.bot is bot and o.state == "held"),
        }
    return out


def summary(
    setup: Setup, seen: Observed, found: dict[str, Any], *, seed: int, seconds: int, delay: int
) -> dict[str, Any]:
    """The figures of one run (what ``--json`` prints and the report shows)."""
    humans = [o for o in seen.orders if not o.bot]
    search_times = [t for _, t, _ in seen.searches]
    outcome_times = [o.decided - o.submitted for o in humans if o.decided is not None]
    held = [o for o in seen.orders if o.state == "held"]
    window = max(1.0, float(seconds))
    load: dict[str, dict[str, float]] = {}
    for key, (sold, offered) in found["load"].items():
        line, k = key.split("|")
        day = setup.travel_days[int(k)].isoformat()
        load.setdefault(line, {})[day] = round(sold / offered, 4) if offered else 0.0
    return {
        "seed": seed,
        "window_s": seconds,
        "wall_s": round(seen.wall, 1),
        "travel_days": [d.isoformat() for d in setup.travel_days],
        "release_day": setup.travel_days[-1].isoformat(),
        "release_at_s": setup.release_at,
        "searches": len(seen.searches),
        "searches_per_s": round(len(seen.searches) / window, 1),
        "search_errors_5xx": sum(1 for _, _, s in seen.searches if s >= 500),
        "search_p50_ms": _pct(search_times, 0.5),
        "search_p90_ms": _pct(search_times, 0.9),
        "search_p99_ms": _pct(search_times, 0.99),
        "orders": len(seen.orders),
        "human_orders": len(humans),
        "bot_orders": len(seen.orders) - len(humans),
        "search_share": round(
            len(seen.searches) / max(1, len(seen.searches) + len(seen.orders)), 3
        ),
        "tickets_held": sum(o.tickets for o in held),
        "tickets_paid": sum(o.tickets for o in held if o.paid),
        "tickets_per_s": round(sum(o.tickets for o in held) / window, 1),
        "order_p50_ms": _pct(outcome_times, 0.5),
        "order_p90_ms": _pct(outcome_times, 0.9),
        "order_p99_ms": _pct(outcome_times, 0.99),
        "outcomes_humans": _states(humans),
        "outcomes_bots": _states([o for o in seen.orders if o.bot]),
        "shed_429_retried": seen.shed,
        "refunds": seen.refunds,
        "refund_errors": seen.refund_errors,
        "repurchases": seen.repurchases,
        "repurchase_tickets": sum(o.tickets for o in held if o.repurchase),
        "sold_out_s_after_release": _sold_out(setup, seen.orders),
        "load_factor": load,
        "slow_queue": _slow_share(seen.orders, set(found["slow_queued"])),
        "slow_queue_delay_s": delay,
        "oversold": found["oversold"],
        "runs_classes_audited": found["runs_classes_audited"],
        "client_errors": len(seen.errors),
        "client_error_kinds": sorted({e.split("(")[0] for e in seen.errors}),
        "search_client_wait_p50_ms": _pct(seen.search_backlog, 0.5),
        "search_client_wait_p99_ms": _pct(seen.search_backlog, 0.99),
    }


# --- report ----------------------------------------------------------------------------------


def require_matplotlib() -> None:
    """Fail before the run, not after it, when the plots cannot be drawn."""
    import importlib.util

    from open12306.shared.errors import DomainError

    if importlib.util.find_spec("matplotlib") is None:
        raise DomainError(
            "matplotlib",
            "missing",
            "the report's plots need matplotlib: pip install open12306[bench]",
        )


def write(out: Path, setup: Setup, seen: Observed, figures: dict[str, Any]) -> None:
    """``out/report.html``, its PNG plots and ``out/summary.json``."""
    import matplotlib

    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    seconds = int(figures["window_s"])
    _throughput(out / "throughput.png", seen, seconds, setup.release_at)
    _latency(out / "latency.png", seen, seconds, setup.release_at)
    _bars(
        out / "sold_out.png",
        {k: v for k, v in figures["sold_out_s_after_release"].items()},
        "seconds from the release until most riders were turned away",
        PLOTS["sold_out.png"],
    )
    _load_factor(out / "load_factor.png", figures["load_factor"])
    _slow(out / "slow_queue.png", figures["slow_queue"])
    (out / "summary.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    (out / "report.html").write_text(_page(figures), encoding="utf-8")


def _figure(width: float = 8.0, height: float = 3.6) -> Any:
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=100)


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _throughput(path: Path, seen: Observed, seconds: int, release: int) -> None:
    searches = [0] * seconds
    for at, took, _ in seen.searches:
        if 0 <= at + took < seconds:
            searches[int(at + took)] += 1
    tickets = [0] * seconds
    for o in seen.orders:
        if o.state == "held" and o.decided is not None and 0 <= o.decided < seconds:
            tickets[int(o.decided)] += o.tickets
    fig, ax = _figure()
    ax.plot(range(seconds), searches, label="searches answered /s", color="tab:blue")
    ax.set_xlabel("seconds into the sale window")
    ax.set_ylabel("searches /s")
    right = ax.twinx()
    right.plot(range(seconds), tickets, label="tickets held /s", color="tab:red")
    right.set_ylabel("tickets /s")
    ax.axvline(release, color="grey", linestyle="--", linewidth=1)
    ax.text(release, ax.get_ylim()[1] * 0.95, " release", color="grey", va="top")
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper right")
    ax.set_title(PLOTS["throughput.png"])
    _save(fig, path)


def _latency(path: Path, seen: Observed, seconds: int, release: int) -> None:
    search = _per_second(seconds, [(at, took) for at, took, _ in seen.searches])
    orders = _per_second(
        seconds,
        [
            (o.submitted, o.decided - o.submitted)
            for o in seen.orders
            if not o.bot and o.decided is not None
        ],
    )
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, sharex=True, figsize=(8.0, 5.6), dpi=100)
    for ax, bins, name in ((axes[0], search, "search"), (axes[1], orders, "order to outcome")):
        for q, style in ((0.5, "-"), (0.9, "--"), (0.99, ":")):
            ys = [1000 * booking._percentile(b, q) if b else float("nan") for b in bins]
            ax.plot(range(seconds), ys, style, label=f"p{round(q * 100)}")
        ax.set_ylabel(f"{name}, ms")
        ax.set_yscale("log")
        ax.axvline(release, color="grey", linestyle="--", linewidth=1)
        ax.legend(loc="upper right")
    axes[1].set_xlabel("seconds into the sale window (by request start; humans only for orders)")
    axes[0].set_title(PLOTS["latency.png"])
    _save(fig, path)


def _bars(path: Path, values: dict[str, float | None], label: str, title: str) -> None:
    names = sorted(values)
    fig, ax = _figure(8.0, 0.5 + 0.45 * max(3, len(names)))
    shown = [float(values[n] or 0.0) for n in names]
    bars = ax.barh(names, shown, color="tab:orange")
    for bar, name in zip(bars, names, strict=True):
        text = "not sold out" if values[name] is None else f"{values[name]:.1f} s"
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {text}", va="center")
    ax.set_xlabel(label)
    ax.set_title(title)
    ax.set_xlim(0, max([1.0, *shown]) * 1.3)
    _save(fig, path)


def _load_factor(path: Path, load: dict[str, dict[str, float]]) -> None:
    names = sorted(load)
    days = sorted({d for v in load.values() for d in v})
    fig, ax = _figure(8.0, 0.6 + 0.5 * max(3, len(names)))
    height = 0.8 / max(1, len(days))
    for k, day in enumerate(days):
        ys = [i + k * height for i in range(len(names))]
        ax.barh(ys, [100 * load[n].get(day, 0.0) for n in names], height, label=day)
    ax.set_yticks([i + height * (len(days) - 1) / 2 for i in range(len(names))], names)
    ax.set_xlabel("sold seat-segments / offered, %, with those sold before the window")
    ax.set_xlim(0, 130)
    ax.set_title(PLOTS["load_factor.png"])
    ax.legend(title="travel day", loc="lower right")
    _save(fig, path)


def _slow(path: Path, slow: dict[str, Any]) -> None:
    fig, ax = _figure(6.0, 3.2)
    names = ["bots", "humans"]
    shares = [100 * slow[n]["share"] for n in names]
    bars = ax.bar(names, shares, color=["tab:purple", "tab:green"])
    for bar, name in zip(bars, names, strict=True):
        got = slow[name]
        ax.text(
            bar.get_x() + bar.get_width() / 2,
            bar.get_height(),
            f"{got['slow_queued']} of {got['accepted']}",
            ha="center",
            va="bottom",
        )
    ax.set_ylim(0, 110)
    ax.set_ylabel("accepted orders slow-queued, %")
    ax.set_title(PLOTS["slow_queue.png"])
    _save(fig, path)


def _page(figures: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td><code>{html.escape(json.dumps(v, ensure_ascii=False))}"
        "</code></td></tr>"
        for k, v in figures.items()
    )
    plots = "".join(
        f'<figure><img src="{name}" alt="{html.escape(title)}"><figcaption>{html.escape(title)}'
        "</figcaption></figure>"
        for name, title in PLOTS.items()
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>open12306 Spring Festival simulation</title><style>"
        "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.2em .5em;"
        "text-align:left;vertical-align:top}td code{white-space:pre-wrap;word-break:break-word}"
        "img{max-width:100%}figure{margin:1.5em 0}</style></head><body>"
        "<h1>Spring Festival simulation</h1>"
        f"<p>Seed {figures['seed']}, a {figures['window_s']} s sale window; travel days "
        f"{', '.join(figures['travel_days'])} (the last released at "
        f"{figures['release_at_s']} s). Oversold: <strong>{figures['oversold']}</strong>.</p>"
        f"{plots}<h2>Figures</h2><table>{rows}</table></body></html>\n"
    )
