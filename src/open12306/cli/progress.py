"""Progress bars for long commands, on stderr and only on a terminal (piped output and the
answers on stdout stay exactly as they are)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

LABELS = {"timetable": "时刻表 timetable", "sales": "模拟售票 simulated sales"}


@contextmanager
def stage_bars(console: Console | None = None) -> Iterator[Callable[[str, int, int], None]]:
    """A ``(stage, done, total)`` callback drawing one bar per stage while the block runs."""
    shown = console or Console(stderr=True)
    if not shown.is_terminal:
        yield lambda stage, done, total: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=shown, transient=False) as bars:
        tasks: dict[str, TaskID] = {}

        def tell(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(LABELS.get(stage, stage), total=total)
            bars.update(tasks[stage], completed=done, total=total)

        yield tell
