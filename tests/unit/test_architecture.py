"""The house rules of the package layout (docs/architecture.md), read from the source itself:
no import circles, pure domains, entrypoints that only receive built services, contexts that
keep their tables to themselves."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "open12306"
CONTEXTS = ("accounts", "catalog", "inventory", "payments", "sales", "search", "transit", "travel")
ENTRYPOINTS = ("http", "cli")
# Adapter modules an entrypoint may use: pure functions, nothing to build or wire.
PURE_ADAPTERS = {"open12306.travel.adapters.qr": "draws a PNG of the bytes it is given"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for path in PACKAGE.rglob("*.py")
        if "__pycache__" not in path.parts and "migrations" not in path.parts
    }


def _walk(node: ast.AST, type_only: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        guarded = type_only or (
            isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
        )
        yield child, guarded
        yield from _walk(child, guarded)


@cache
def imports_of(module: str) -> frozenset[tuple[str, bool]]:
    """Every module ``module`` imports, anywhere in it (functions too), with whether the import
    is for type checking only."""
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    package = module if modules()[module].name == "__init__.py" else module.rpartition(".")[0]
    found: set[tuple[str, bool]] = set()
    for node, type_only in _walk(tree):
        if isinstance(node, ast.Import):
            found.update((alias.name, type_only) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                inner = f"{base}.{alias.name}"
                found.add((inner if inner in modules() else base, type_only))
    return frozenset(found)


def runtime_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in modules():
        graph[module] = {
            target
            for target, type_only in imports_of(module)
            if not type_only and target in modules() and target != module
        }
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph)))
    try:
        for node in sorted(graph):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return found


def test_the_walk_sees_the_package() -> None:
    assert len(modules()) > 200
    assert "open12306.sales.services.checkout" in runtime_graph()["open12306.bootstrap"]


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


def test_no_import_circles() -> None:
    assert circles(runtime_graph()) == []


def _third_party(name: str) -> bool:
    top = name.split(".")[0]
    return top != "open12306" and top not in sys.stdlib_module_names and top != "__future__"


@pytest.mark.parametrize("context", CONTEXTS)
def test_domains_use_the_standard_library_and_other_domains_only(context: str) -> None:
    domain = f"open12306.{context}.domain"
    wrong = []
    for module in modules():
        if module != domain and not module.startswith(domain + "."):
            continue
        for target, _ in imports_of(module):
            inside = target.startswith("open12306.")
            allowed = (
                ".domain" in target or target.startswith("open12306.shared.errors")
                if inside
                else not _third_party(target)
            )
            if not allowed:
                wrong.append(f"{module} imports {target}")
    assert wrong == []


@pytest.mark.parametrize("entrypoint", ENTRYPOINTS)
def test_entrypoints_never_build_adapters(entrypoint: str) -> None:
    """Entrypoints get built services from ``bootstrap``; they import no adapter module."""
    prefix = f"open12306.{entrypoint}"
    wrong = [
        f"{module} imports {target}"
        for module in modules()
        if module == prefix or module.startswith(prefix + ".")
        for target, _ in imports_of(module)
        if (".adapters" in target or target.startswith("open12306.database"))
        and target not in PURE_ADAPTERS
    ]
    assert wrong == []


def _tables_of(context: str) -> str:
    return f"open12306.{context}.adapters.tables"


@pytest.mark.parametrize("context", CONTEXTS)
def test_a_context_s_tables_are_read_by_its_own_adapters_only(context: str) -> None:
    tables = _tables_of(context)
    readers = sorted(
        module
        for module in modules()
        if any(target == tables for target, _ in imports_of(module))
        and not module.startswith(f"open12306.{context}.adapters")
        and not module.startswith(("open12306.database", "open12306.bench"))
    )
    assert readers == []


def test_the_entrypoints_do_not_import_each_other() -> None:
    wrong = [
        f"{module} imports {target}"
        for module in modules()
        for source, other in (("http", "cli"), ("cli", "http"))
        if module.startswith(f"open12306.{source}.") or module == f"open12306.{source}"
        for target, _ in imports_of(module)
        if target == f"open12306.{other}" or target.startswith(f"open12306.{other}.")
    ]
    assert wrong == []
