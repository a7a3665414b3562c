"""Progress bars of long commands: drawn on a terminal, silent otherwise."""

from __future__ import annotations

import io

from rich.console import Console

from open12306.cli.progress import stage_bars


def test_a_terminal_sees_one_bar_per_stage_up_to_its_total() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    with stage_bars(console) as tell:
        for done in range(4):
            tell("timetable", done, 3)
        tell("sales", 10, 10)
    text = out.getvalue()
    assert "timetable" in text and "3/3" in text
    assert "simulated sales" in text and "10/10" in text


def test_piped_output_gets_no_bars() -> None:
    out = io.StringIO()
    with stage_bars(Console(file=out)) as tell:
        tell("sales", 1, 2)
    assert out.getvalue() == ""
