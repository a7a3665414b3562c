"""No test reads the machine's clock or date: the suite must pass at every hour of the day.

The operator's day is Asia/Shanghai while CI runs in UTC, so ``date.today()`` names another day
from 16:00 to 24:00 UTC. Tests use a ``FixedClock``; those that drive a real command or server
ask ``tests/operator_clock.py`` (the product's own clock), the one module allowed here.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ALLOWED = {TESTS / "operator_clock.py"}
# Read the clock whenever they are named (called, or passed on as a clock).
ALWAYS = {
    "datetime.date.today",
    "datetime.datetime.now",
    "datetime.datetime.today",
    "datetime.datetime.utcnow",
    "time.time",
    "time.time_ns",
    "open12306.shared.clock.SystemClock",
}
# Read the clock when called without a timestamp.
WITHOUT_ARGUMENT = {"time.localtime", "time.gmtime", "time.ctime", "time.asctime"}


def _imports(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted origin, for every import in the module."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                names[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.expr, names: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, names)
        return None if base is None else f"{base}.{node.attr}"
    return None


def clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, name) of every read of the machine's clock in ``source``."""
    tree = ast.parse(source)
    names = _imports(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and not node.args and not node.keywords:
            name = _dotted(node.func, names)
            if name in WITHOUT_ARGUMENT:
                found.append((node.lineno, name))
        if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
            name = _dotted(node, names)
            if name in ALWAYS:
                found.append((node.lineno, name))
    return sorted(found)


def test_the_finder_sees_each_way_of_reading_the_clock() -> None:
    source = """
import datetime as dt
import time
from datetime import date, datetime
from time import time as seconds
from open12306.shared.clock import SystemClock

a = date.today()
b = datetime.now(ZONE)
c = dt.datetime.utcnow()
d = Provider(now=time.time)
e = seconds()
f = time.localtime()
g = SystemClock()
ok = (time.localtime(0), time.monotonic(), datetime.fromtimestamp(0), FixedClock(x).now())
"""
    assert [line for line, _ in clock_reads(source)] == [8, 9, 10, 11, 12, 13, 14]


def test_no_test_reads_the_machine_clock() -> None:
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{line}: {name}"
        for path in sorted(TESTS.rglob("*.py"))
        if path not in ALLOWED
        for line, name in clock_reads(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "use a FixedClock or tests/operator_clock.py:\n" + "\n".join(offenders)
