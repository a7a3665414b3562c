"""A benchmark's phases counted for a progress bar: ``tell(stage, done, total)``."""

from __future__ import annotations

from collections.abc import Callable

Tell = Callable[[str, int, int], None]


def quiet(stage: str, done: int, total: int) -> None:
    """No bar (benchmarks run from tests or other code)."""


class Steps:
    """Phases of one stage: ``step()`` after each; the bar starts at 0 of ``total``."""

    def __init__(self, tell: Tell, stage: str, total: int) -> None:
        self.tell = tell
        self.stage = stage
        self.total = total
        self.done = 0
        tell(stage, 0, total)

    def step(self) -> None:
        self.done = min(self.total, self.done + 1)
        self.tell(self.stage, self.done, self.total)
