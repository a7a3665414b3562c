from datetime import date

import pytest

from open12306.search.services.query import parse_search
from open12306.shared.errors import DomainError


def test_parses_all_parameters() -> None:
    query = parse_search(
        {
            "from": "北京",
            "to": "上海",
            "date": "2026-12-01",
            "transfers": "1",
            "types": "g,D",
            "depart_after": "07:30",
            "depart_before": "18:00",
            "sort": "duration",
        }
    )
    assert query.day == date(2026, 12, 1)
    assert query.transfers and query.types == frozenset({"G", "D"})
    assert (query.depart_after, query.depart_before, query.sort) == (450, 1080, "duration")


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"to": "上海", "date": "2026-12-01"}, "from", "missing"),
        ({"from": "北京", "to": " ", "date": "2026-12-01"}, "to", "missing"),
        ({"from": "北京", "to": "上海", "date": "2026-13-01"}, "date", "malformed_date"),
        ({"from": "北京", "to": "上海", "date": "1/12/2026"}, "date", "malformed_date"),
        (
            {"from": "a", "to": "b", "date": "2026-12-01", "types": "X"},
            "types",
            "unknown_train_type",
        ),
        (
            {"from": "a", "to": "b", "date": "2026-12-01", "depart_after": "25:00"},
            "depart_after",
            "malformed_time",
        ),
        (
            {"from": "a", "to": "b", "date": "2026-12-01", "transfers": "maybe"},
            "transfers",
            "malformed_flag",
        ),
        ({"from": "a", "to": "b", "date": "2026-12-01", "sort": "name"}, "sort", "unknown_sort"),
        (
            {"from": "a", "to": "b", "date": "2026-12-01", "colour": "red"},
            "colour",
            "unknown_parameter",
        ),
        (
            {
                "from": "a",
                "to": "b",
                "date": "2026-12-01",
                "depart_after": "18:00",
                "depart_before": "07:00",
            },
            "depart_before",
            "empty_window",
        ),
    ],
)
def test_bad_input_names_field_and_reason(params: dict[str, str], field: str, reason: str) -> None:
    with pytest.raises(DomainError) as error:
        parse_search(params)
    assert (error.value.field, error.value.reason) == (field, reason)
