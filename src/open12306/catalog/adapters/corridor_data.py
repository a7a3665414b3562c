"""Load the corridor file (data/corridors.json) into domain corridors."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from open12306.catalog.domain.corridors import (
    Corridor,
    CorridorStation,
    splice,
    validate_corridor,
)
from open12306.shared.errors import DomainError


class CorridorDataError(ValueError):
    """The corridor file is missing, not JSON, or breaks the corridor rules."""


def default_path() -> Path:
    return Path(str(resources.files("open12306") / "data" / "corridors.json"))


def load_corridors(path: Path | str | None = None) -> list[Corridor]:
    """Read and validate every corridor; raise CorridorDataError naming the file and the fault."""
    source, document = _read(path)
    items = document.get("corridors") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise CorridorDataError(f"{source}: expected an object with a 'corridors' list")
    corridors = [_corridor(source, n, item) for n, item in enumerate(items)]
    ids = [c.id for c in corridors]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CorridorDataError(f"{source}: repeated corridor ids {duplicates}")
    return corridors


def load_through_routes(
    corridors: list[Corridor], path: Path | str | None = None
) -> list[Corridor]:
    """The file's through routes (trains crossing from one corridor to another at a junction).

    Each is spliced from the given corridors; a file without ``through_routes`` has none.
    """
    source, document = _read(path)
    items = document.get("through_routes", []) if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise CorridorDataError(f"{source}: 'through_routes' must be a list")
    by_id = {c.id: c for c in corridors}
    routes: list[Corridor] = []
    for n, item in enumerate(items):
        where = f"{source}: through route #{n}"
        try:
            legs = [(by_id[str(cid)], str(a), str(b)) for cid, a, b in item["legs"]]
            route = splice(str(item["id"]), str(item["name"]), legs)
        except KeyError as exc:
            raise CorridorDataError(f"{where}: unknown corridor or missing field {exc}") from exc
        except (TypeError, ValueError) as exc:
            raise CorridorDataError(f"{where}: malformed entry ({exc!r})") from exc
        except DomainError as exc:
            raise CorridorDataError(f"{where}: {exc.message}") from exc
        routes.append(route)
    return routes


def _read(path: Path | str | None) -> tuple[Path, Any]:
    source = Path(path) if path is not None else default_path()
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CorridorDataError(f"{source}: no such corridor file") from exc
    except json.JSONDecodeError as exc:
        raise CorridorDataError(f"{source}: not valid JSON ({exc})") from exc
    return source, document


def _corridor(source: Path, n: int, item: Any) -> Corridor:
    where = f"{source}: corridor #{n}"
    try:
        corridor = Corridor(
            id=str(item["id"]),
            name=str(item["name"]),
            kind=str(item["kind"]),
            max_speed=int(item["max_speed"]),
            stations=tuple(
                CorridorStation(
                    code=str(s["code"]),
                    name=str(s["name"]),
                    km=int(s["km"]),
                    major=bool(s.get("major", False)),
                )
                for s in item["stations"]
            ),
            weight=float(item.get("weight", 1.0)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CorridorDataError(f"{where}: malformed entry ({exc!r})") from exc
    try:
        validate_corridor(corridor)
    except DomainError as exc:
        raise CorridorDataError(f"{where}: {exc.message}") from exc
    return corridor
