"""``open12306 peak``: the Spring Festival simulator (``simulate``), driving the real HTTP API."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from open12306.cli.errors import guarded
from open12306.cli.progress import stage_bars

peak_app = typer.Typer(no_args_is_help=True, help="Spring Festival peak: the simulator.")


@peak_app.command("simulate")
def simulate(
    seed: int = typer.Option(12306, help="the plan's seed: same seed, same plan"),
    seconds: int = typer.Option(60, min=5, max=900, help="length of the sale window, seconds"),
    scale: float = typer.Option(1.0, min=0.01, help="demand scale (1: 8 human orders/s steady)"),
    bots: float = typer.Option(0.2, min=0.0, max=0.95, help="share of order submissions by bots"),
    trains: int = typer.Option(12, min=4, help="trains of the demo network the run builds"),
    prefill: float = typer.Option(
        0.6, min=0.0, max=0.95, help="share of seats sold before the window (earlier sales)"
    ),
    sale_date: str = typer.Option(
        "2026-02-01", help="the simulated sale day; it releases the day 14 days later"
    ),
    out: Path = typer.Option(Path("peak-report"), help="where report.html and its plots go"),
    json_out: bool = typer.Option(False, "--json", help="print the summary as one JSON object"),
) -> None:
    """Simulate a Spring Festival sale window against a server of its own and write a report
    (report.html with PNG plots, summary.json)."""
    from open12306.bench.simulate import simulate as run

    day = date.fromisoformat(sale_date)
    with stage_bars() as tell:
        summary = guarded(
            lambda: run(
                seed=seed,
                seconds=seconds,
                scale=scale,
                bots=bots,
                trains=trains,
                prefill=prefill,
                sale_date=day,
                out=out,
                progress=tell,
            )
        )
    if json_out:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    typer.echo(f"report: {out / 'report.html'}")
    for key in (
        "searches_per_s",
        "tickets_per_s",
        "search_p99_ms",
        "order_p99_ms",
        "tickets_held",
        "refunds",
        "repurchases",
        "oversold",
    ):
        typer.echo(f"  {key}: {summary[key]}")
