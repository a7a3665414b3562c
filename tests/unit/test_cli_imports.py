"""The command line is an entrypoint: it receives what ``bootstrap`` builds and constructs no
adapter. No module of ``open12306.cli`` imports an adapter (``*.adapters.*``), the database
packages, SQLAlchemy, a clock implementation, or what only an adapter needs (HTTP calls, file
locks, SQLite), not even inside a function; domain types, ports and services are fine, and so
is ``bootstrap``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import open12306.cli

CLI = Path(open12306.cli.__file__).resolve().parent
FORBIDDEN_PACKAGES = (
    "open12306.database",
    "open12306.shared.db",
    "open12306.shared.document_keys",
    "sqlalchemy",
    "urllib",
    "http.client",
    "fcntl",
    "sqlite3",
)
FORBIDDEN_NAMES = {"open12306.shared.clock.SystemClock", "open12306.shared.clock.FixedClock"}


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _forbidden(module: str, names: list[str]) -> list[str]:
    if "adapters" in module.split(".") or any(_inside(module, p) for p in FORBIDDEN_PACKAGES):
        return [module]
    return [f"{module}.{n}" for n in names if f"{module}.{n}" in FORBIDDEN_NAMES]


def adapter_imports(source: str) -> list[tuple[int, str]]:
    """(line, what) of every import in ``source`` an entrypoint must not make."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found += [(node.lineno, m) for m in _forbidden(alias.name, [])]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [alias.name for alias in node.names]
            found += [(node.lineno, m) for m in _forbidden(node.module, names)]
            # ``from open12306.travel import adapters`` names the package itself
            found += [(node.lineno, f"{node.module}.adapters") for n in names if n == "adapters"]
    return sorted(found)


def test_the_finder_sees_each_way_of_importing_an_adapter() -> None:
    source = """
import sqlalchemy.exc
from open12306.travel.adapters.keys import IssuerKeyStore
from open12306.travel import adapters
from open12306.shared.clock import Clock, SystemClock
from open12306.travel.ports import DeviceError
from open12306.sales.services.orders import OrderService

def later():
    from open12306.database.store import SqlStore
    from open12306.bootstrap import devices
"""
    assert adapter_imports(source) == [
        (2, "sqlalchemy.exc"),
        (3, "open12306.travel.adapters.keys"),
        (4, "open12306.travel.adapters"),
        (5, "open12306.shared.clock.SystemClock"),
        (10, "open12306.database.store"),
    ]


def test_no_command_module_imports_an_adapter() -> None:
    modules = sorted(CLI.glob("*.py"))
    assert len(modules) > 5
    found = {
        path.name: hits
        for path in modules
        if (hits := adapter_imports(path.read_text(encoding="utf-8")))
    }
    assert found == {}
