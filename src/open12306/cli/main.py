"""The `open12306` command: serve, data loading, search from the terminal, benchmarks."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from open12306.cli.errors import guarded
from open12306.cli.gate import gate_app
from open12306.cli.keys import keys_app
from open12306.cli.orders import orders_app
from open12306.cli.peak import peak_app
from open12306.cli.progress import stage_bars
from open12306.cli.ticket_code import ticket_code
from open12306.cli.transit import transit_app
from open12306.cli.wallet import wallet_app
from open12306.config import Settings

if TYPE_CHECKING:
    from open12306.bootstrap import Container
    from open12306.catalog.domain.station_index import StationIndex
    from open12306.catalog.domain.stations import Station

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="open12306: railway ticketing",
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
demo_app = typer.Typer(no_args_is_help=True, help="The demo network.")
timetable_app = typer.Typer(no_args_is_help=True, help="Timetable import and export (GTFS).")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(timetable_app, name="timetable")
app.add_typer(keys_app, name="keys")
app.add_typer(wallet_app, name="wallet")
app.add_typer(gate_app, name="gate")
app.add_typer(orders_app, name="orders")
app.add_typer(transit_app, name="transit")
app.add_typer(peak_app, name="peak")
app.command("ticket-code")(ticket_code)

console = Console()
T = TypeVar("T")


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def container(materialise: bool = True) -> Container:
    from open12306.bootstrap import build

    return build(materialise=materialise)


@app.command()
def version() -> None:
    """Print the version."""
    from open12306 import __version__

    typer.echo(__version__)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database named by OPEN12306_DATABASE_URL."""
    from open12306.bootstrap.schema import document_cipher, upgrade_database

    settings = Settings.from_env()
    cipher = guarded(lambda: document_cipher(settings), (ValueError,))
    upgrade_database(settings, cipher)
    typer.echo(f"database at {settings.database_url} is up to date")


@demo_app.command("load")
def demo_load(
    seed: int = typer.Option(None, help="generator seed (default OPEN12306_DEMO_SEED)"),
    trains: int = typer.Option(None, help="trains to generate (default OPEN12306_DEMO_TRAINS)"),
    fill: float = typer.Option(0.5, help="average share of seats sold in the simulated sales"),
    days: int = typer.Option(2, help="service days from today that get simulated sales"),
    force: bool = typer.Option(False, help="reload even when the demo is already loaded"),
) -> None:
    """Load the real station list, the corridors and a generated national timetable."""
    from open12306.bootstrap.tasks import load_demo

    settings = Settings.from_env()
    with stage_bars() as progress:
        report = guarded(
            lambda: load_demo(
                settings,
                seed=settings.demo_seed if seed is None else seed,
                trains=settings.demo_trains if trains is None else trains,
                fill=fill,
                days=days,
                force=force,
                progress=progress,
            )
        )
    typer.echo(report)


@app.command("simulate-sales")
def simulate_sales(
    fill: float = typer.Option(0.6, min=0.0, max=1.0, help="target share of seat-segments sold"),
    seed: int = typer.Option(1, help="random seed"),
    days: int = typer.Option(3, min=1, help="service days from today to fill"),
    types: str = typer.Option("", help="only these train types, e.g. G,D (default all)"),
    json_out: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Sell random journeys on the runs of the next days so search shows varied counts."""
    from open12306.bootstrap.tasks import simulate_sales as simulate
    from open12306.search.services.query import parse_types

    chosen = guarded(lambda: parse_types(types))
    built = container()
    with stage_bars() as progress:
        result = guarded(
            lambda: simulate(
                built,
                fill=fill,
                seed=seed,
                days=days,
                types=chosen,
                progress=lambda done, total: progress("sales", done, total),
            )
        )
    if json_out:
        print_json(result)
    else:
        typer.echo(
            f"sold {result['tickets']} tickets on {result['runs']} runs "
            f"(load factor {result['load_factor']:.2f})"
        )


SERVERS = ("uvicorn", "granian")


@app.command()
def serve(
    host: str = typer.Option(None, help="bind address (default OPEN12306_HOST)"),
    port: int = typer.Option(None, help="port (default OPEN12306_PORT)"),
    workers: int = typer.Option(1, min=1, help="worker processes"),
    server: str = typer.Option(
        "uvicorn", help="HTTP server: uvicorn or granian (docs/benchmarks.md, Server and workers)"
    ),
) -> None:
    """Serve the HTTP API and pages (several workers share the database: docs/deployment.md)."""
    if server not in SERVERS:
        raise typer.BadParameter(f"use one of {', '.join(SERVERS)}", param_hint="--server")
    settings = Settings.from_env()
    bind, listen = host or settings.host, port or settings.port
    # The app builds its own public address (payment sandbox return and notify URLs) from the
    # environment, so the chosen address must reach the workers through it.
    os.environ["OPEN12306_HOST"] = bind
    os.environ["OPEN12306_PORT"] = str(listen)
    if server == "granian":
        _serve_granian(bind, listen, workers)
    else:
        _serve_uvicorn(bind, listen, workers)


def _serve_uvicorn(host: str, port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "open12306.http.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
        # The client address is the socket peer; X-Forwarded-For is read by the app, and only
        # from OPEN12306_TRUSTED_PROXIES (uvicorn would believe it from 127.0.0.1 by default).
        proxy_headers=False,
    )


def _serve_granian(host: str, port: int, workers: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    # Granian passes the socket peer as the client address (no proxy headers read).
    Granian(
        "open12306.http.asgi:app",
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        log_access=False,
    ).serve()


@app.command()
def allocator(
    interval: float = typer.Option(
        0.05, min=0.005, max=60, help="seconds between looks for queued orders"
    ),
) -> None:
    """Allocate queued orders in this process until interrupted (beside servers started with
    OPEN12306_ALLOCATOR=none; on PostgreSQL several may run, each claiming other runs)."""
    import threading

    from open12306.bootstrap.allocator_process import run_allocator

    stop = threading.Event()
    try:
        run_allocator(Settings.from_env(), threading.Event(), stop, interval)
    except KeyboardInterrupt:
        stop.set()


@app.command()
def stations(
    query: str = typer.Argument(..., help="name, city, telecode, pinyin or initials"),
    limit: int = typer.Option(10, min=1, max=100),
    json_out: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Look stations up; near misses get suggestions."""
    c = container(materialise=False)
    index = c.catalog.stations
    found = guarded(lambda: _station_hits(index, query, limit))
    if json_out:
        print_json([s.as_dict() for s in found])
        return
    table = Table("code", "name", "pinyin", "initials", "city")
    for s in found:
        table.add_row(s.code, s.name, s.pinyin, s.initials, s.city)
    console.print(table)


def _station_hits(index: StationIndex, query: str, limit: int) -> list[Station]:
    found = list(index.search(query.strip(), limit))
    if not found:
        index.lookup(query, field="query")  # raises with suggestions
    return found


@app.command()
def search(
    origin: str = typer.Argument(..., metavar="FROM", help="station or city"),
    destination: str = typer.Argument(..., metavar="TO", help="station or city"),
    day: str = typer.Argument(..., metavar="DATE", help="boarding date YYYY-MM-DD"),
    transfers: bool = typer.Option(False, "--transfers", help="always add one-change trips"),
    types: str = typer.Option("", help="train types, e.g. G,D"),
    after: str = typer.Option("", help="depart at or after HH:MM"),
    before: str = typer.Option("", help="depart at or before HH:MM"),
    sort: str = typer.Option("depart", help="depart, arrive, duration or price"),
    json_out: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Search trains from a city or station to another on a boarding date."""
    from open12306.search.services.query import parse_search

    params = {"from": origin, "to": destination, "date": day, "sort": sort}
    params["transfers"] = "1" if transfers else "0"
    if types:
        params["types"] = types
    if after:
        params["depart_after"] = after
    if before:
        params["depart_before"] = before
    c = container(materialise=False)
    answer = guarded(lambda: c.search.search(parse_search(params)))
    if json_out:
        print_json(answer)
        return
    _print_answer(answer)


def _print_answer(answer: dict[str, Any]) -> None:
    from open12306.inventory.domain.seats import CLASS_ORDER

    present = {c["class"] for row in answer["trains"] for c in row["classes"]}
    shown = [c for c in CLASS_ORDER if c.value in present]
    table = Table("train", "from", "to", "dep", "arr", "time", *[c.label for c in shown], "from ¥")
    for row in answer["trains"]:
        counts = {c["class"]: c["display"] for c in row["classes"]}
        cheapest = min((c["price_fen"] for c in row["classes"]), default=0)
        later = f"+{row['days_later']}" if row["days_later"] else ""
        table.add_row(
            row["train"],
            row["from"]["name"],
            row["to"]["name"],
            row["departs"][11:16],
            row["arrives"][11:16] + later,
            row["duration"],
            *[counts.get(c.value, "--") for c in shown],
            f"{cheapest / 100:.1f}",
        )
    console.print(f"{answer['count']} trains on {answer['date']}")
    console.print(table)
    for t in answer.get("transfers", [])[:10]:
        first, second = t["legs"]
        console.print(
            f"{first['train']} {first['from']['name']}→{first['to']['name']} "
            f"{first['departs'][11:16]}, change ({t['wait_minutes']} min) "
            f"{second['train']} {second['from']['name']}→{second['to']['name']} "
            f"arr {second['arrives'][11:16]} ({t['duration_minutes'] // 60}h"
            f"{t['duration_minutes'] % 60:02d})"
        )


@app.command("run")
def run_cmd(
    train: str = typer.Argument(..., help="train number, e.g. G1"),
    day: str = typer.Argument(..., metavar="DATE", help="service date YYYY-MM-DD"),
    json_out: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Show one run: stops, composition and load per segment."""
    from open12306.search.services.query import parse_date
    from open12306.search.services.run_view import run_view

    c = container(materialise=False)
    view = guarded(lambda: run_view(c.read_model, c.window, train, parse_date(day)))
    if json_out:
        print_json(view)
        return
    table = Table("#", "station", "arrives", "departs", "km")
    for stop in view["stops"]:
        table.add_row(
            str(stop["seq"]),
            f"{stop['name']} {stop['code']}",
            (stop["arrives"] or "")[11:16],
            (stop["departs"] or "")[11:16],
            str(stop["km"]),
        )
    console.print(f"{view['train']} service date {view['service_date']}")
    console.print(table)


@timetable_app.command("import-gtfs")
def import_gtfs(
    path: Path = typer.Argument(..., help="GTFS feed: a folder or a .zip"),
    source: str = typer.Option("", help="name of the source (default: the feed's file name)"),
) -> None:
    """Import a GTFS feed's stops and trips as stations and trains, and create their runs."""
    from open12306.bootstrap.tasks import import_feed

    settings = Settings.from_env()
    report = guarded(lambda: import_feed(settings, path, source or path.stem))
    typer.echo(report)


@timetable_app.command("export-gtfs")
def export_gtfs(
    path: Path = typer.Argument(..., help="output folder or .zip"),
) -> None:
    """Export the whole timetable as a GTFS feed."""
    from open12306.bootstrap.tasks import export_feed

    settings = Settings.from_env()
    report = guarded(lambda: export_feed(settings, path))
    typer.echo(report)


@app.command()
def bench(
    name: str = typer.Argument(..., help="inventory, search, gate, booking, peak or all"),
    json_out: bool = typer.Option(False, "--json", help="print one JSON object"),
    seconds: float = typer.Option(3.0, help="time per measured phase"),
) -> None:
    """Run a benchmark and print its figures and ratios."""
    from open12306.bench.runner import run_benchmarks
    from open12306.cli.progress import stage_bars

    with stage_bars() as progress:
        result = guarded(lambda: run_benchmarks(name, seconds, progress))
    if json_out:
        print_json(result if name == "all" else result[name])
    else:
        for bench_name, figures in result.items():
            typer.echo(f"== {bench_name}")
            for key, value in figures.items():
                typer.echo(f"  {key}: {value}")


def main() -> None:
    """Console entry: no traceback reaches the user; the log line says what to do."""
    try:
        app()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as error:  # the last line of defence: one line, never a traceback
        from open12306.bootstrap.schema import database_failure

        said = database_failure(error)
        typer.echo(f"error: {said or f'internal: {type(error).__name__}: {error}'}", err=True)
        raise SystemExit(1) from None
