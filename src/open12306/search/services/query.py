"""Parsing and validating a search request at the edge; every error names its field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from open12306.catalog.domain.timetable import TRAIN_TYPES
from open12306.shared.errors import DomainError

SORTS = ("depart", "arrive", "duration", "price")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
KNOWN_PARAMS = frozenset(
    {"from", "to", "date", "transfers", "types", "depart_after", "depart_before", "sort"}
)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A validated search: station/city queries, boarding date, filters and sort order."""

    origin: str
    destination: str
    day: date
    transfers: bool = False
    types: frozenset[str] = frozenset()
    depart_after: int | None = None
    depart_before: int | None = None
    sort: str = "depart"


def parse_date(value: str, field: str = "date") -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError(
            field, "malformed_date", f"{field}: expected a date as YYYY-MM-DD, got {value!r}"
        ) from None


def parse_minute(value: str, field: str) -> int:
    match = _TIME.match(value.strip())
    if match is None:
        raise DomainError(field, "malformed_time", f"{field}: expected HH:MM, got {value!r}")
    return int(match.group(1)) * 60 + int(match.group(2))


def parse_flag(value: str, field: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise DomainError(field, "malformed_flag", f"{field}: expected 0 or 1, got {value!r}")


def parse_types(value: str) -> frozenset[str]:
    types = frozenset(part.strip().upper() for part in value.split(",") if part.strip())
    unknown = sorted(types - set(TRAIN_TYPES))
    if unknown:
        raise DomainError(
            "types",
            "unknown_train_type",
            f"types: unknown train type {', '.join(unknown)}; use {', '.join(TRAIN_TYPES)}",
        )
    return types


def _required(params: Mapping[str, str], field: str) -> str:
    value = params.get(field)
    if value is None or not value.strip():
        raise DomainError(field, "missing", f"{field}: required")
    return value.strip()


def parse_search(params: Mapping[str, str]) -> SearchQuery:
    """Build a SearchQuery from string parameters (query string or CLI options)."""
    unknown = sorted(set(params) - KNOWN_PARAMS)
    if unknown:
        raise DomainError(unknown[0], "unknown_parameter", f"{unknown[0]}: not a search parameter")
    origin = _required(params, "from")
    destination = _required(params, "to")
    day = parse_date(_required(params, "date"))
    sort = params.get("sort", "depart").strip() or "depart"
    if sort not in SORTS:
        raise DomainError("sort", "unknown_sort", f"sort: use one of {', '.join(SORTS)}")
    after = params.get("depart_after")
    before = params.get("depart_before")
    query = SearchQuery(
        origin=origin,
        destination=destination,
        day=day,
        transfers=parse_flag(params.get("transfers", "0"), "transfers"),
        types=parse_types(params.get("types", "")),
        depart_after=parse_minute(after, "depart_after") if after else None,
        depart_before=parse_minute(before, "depart_before") if before else None,
        sort=sort,
    )
    if (
        query.depart_after is not None
        and query.depart_before is not None
        and query.depart_after > query.depart_before
    ):
        raise DomainError(
            "depart_before", "empty_window", "depart_before: earlier than depart_after"
        )
    return query
