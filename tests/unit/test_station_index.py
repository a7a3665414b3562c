"""StationIndex on a small hand-made network."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.catalog.domain.station_index import (
    AmbiguousStation,
    StationIndex,
    UnknownStation,
    edit_distance,
    normalize,
)
from open12306.catalog.domain.stations import Station
from open12306.shared.errors import DomainError, NotFound

NETWORK = [
    Station("VNP", "北京南", "beijingnan", "bjn", "北京"),
    Station("BJP", "北京", "beijing", "bj", "北京"),
    Station("BXP", "北京西", "beijingxi", "bjx", "北京"),
    Station("CPP", "昌平", "changping", "cp", "北京"),
    Station("BBY", "宝鸡南", "baojinan", "bjn", "宝鸡"),
    Station("BJY", "宝鸡", "baoji", "bj", "宝鸡"),
    Station("SHH", "上海", "shanghai", "sh", "上海"),
    Station("AOH", "上海虹桥", "shanghaihongqiao", "shhq", "上海"),
    Station("SXH", "上海西", "shanghaixi", "shx", "上海"),
    Station("SHX", "索图罕", "suotuhan", "sth", "兴安"),
    Station("XAZ", "兴安", "xingan", "xa", "桂林"),
    Station("WWT", "乌兰浩特", "wulanhaote", "wlht", "兴安"),
    Station("GLZ", "桂林", "guilin", "gl", "桂林"),
    Station("FZS", "福州", "fuzhou", "fz", "福州"),
    Station("FZG", "抚州", "fuzhou", "fz", "抚州"),
]


@pytest.fixture
def index() -> StationIndex:
    return StationIndex(NETWORK)


def names(stations: list[Station]) -> list[str]:
    return [s.name for s in stations]


def test_get_by_exact_code(index: StationIndex) -> None:
    assert index.get("VNP") == NETWORK[0]
    assert index.get("vnp") is None
    assert index.get("XXX") is None
    assert len(index) == len(NETWORK)
    assert "AOH" in index


def test_upper_case_telecode_wins_over_initials(index: StationIndex) -> None:
    assert names(index.resolve("SHX")) == ["索图罕"]
    assert names(index.resolve("shx")) == ["上海西"]


def test_lower_case_telecode_is_a_last_resort(index: StationIndex) -> None:
    assert names(index.resolve("aoh")) == ["上海虹桥"]
    assert names(index.resolve(" vnp ")) == ["北京南"]


def test_station_name_and_its_suffix_forms(index: StationIndex) -> None:
    assert names(index.resolve("北京南")) == ["北京南"]
    assert names(index.resolve("北京南站")) == ["北京南"]
    assert names(index.resolve(" 上海虹桥 ")) == ["上海虹桥"]


def test_city_name_gives_all_its_stations_namesake_first(index: StationIndex) -> None:
    found = names(index.resolve("北京"))
    assert found[0] == "北京"
    assert sorted(found) == sorted(["北京", "北京南", "北京西", "昌平"])
    assert found.index("北京南") < found.index("昌平")


def test_name_of_a_station_filed_elsewhere_comes_before_the_city(index: StationIndex) -> None:
    assert names(index.resolve("兴安")) == ["兴安", "索图罕", "乌兰浩特"]


def test_city_pinyin_brings_the_city(index: StationIndex) -> None:
    found = names(index.resolve("shanghai"))
    assert found[0] == "上海"
    assert set(found) == {"上海", "上海虹桥", "上海西"}


def test_shared_pinyin_returns_every_station(index: StationIndex) -> None:
    assert set(names(index.resolve("fuzhou"))) == {"福州", "抚州"}


def test_shared_initials_return_all_city_named_first(index: StationIndex) -> None:
    assert names(index.resolve("bjn")) == ["北京南", "宝鸡南"]


def test_pinyin_with_blanks_and_full_width_letters(index: StationIndex) -> None:
    assert names(index.resolve("Bei Jing Nan")) == ["北京南"]
    assert names(index.resolve("ＢＪＮ")) == ["北京南", "宝鸡南"]


def test_unknown_and_empty_resolve_to_nothing(index: StationIndex) -> None:
    assert index.resolve("nowhere") == []
    assert index.resolve("   ") == []


def test_lookup_empty_query_is_an_empty_error(index: StationIndex) -> None:
    with pytest.raises(DomainError) as err:
        index.lookup(" ", field="to")
    assert (err.value.field, err.value.reason) == ("to", "empty")


def test_lookup_unknown_names_query_and_suggestions(index: StationIndex) -> None:
    with pytest.raises(UnknownStation) as err:
        index.lookup("beijingnn", field="to")
    error = err.value
    assert (error.field, error.reason) == ("to", "unknown_station")
    assert error.suggestions[0].code == "VNP"
    assert "beijingnn" in error.message
    assert "北京南 (VNP)" in error.message
    assert error.to_dict()["reason"] == "unknown_station"


def test_lookup_returns_resolved_stations(index: StationIndex) -> None:
    assert names(index.lookup("AOH")) == ["上海虹桥"]


def test_suggest_prefix_first(index: StationIndex) -> None:
    assert names(index.suggest("shangh"))[0] == "上海"
    assert names(index.suggest("上海"))[:1] == ["上海"]


def test_suggest_edit_distance(index: StationIndex) -> None:
    assert names(index.suggest("beijingnn"))[0] == "北京南"
    assert names(index.suggest("shagnhai"))[0] == "上海"
    assert names(index.suggest("baojinnan"))[0] == "宝鸡南"


def test_suggest_substring_and_shared_characters(index: StationIndex) -> None:
    assert "上海虹桥" in names(index.suggest("hongqiao"))
    assert names(index.suggest("虹桥"))[0] == "上海虹桥"
    assert names(index.suggest("虹口站"))[0] == "上海虹桥"


def test_suggest_respects_limit_and_nonsense(index: StationIndex) -> None:
    assert len(index.suggest("b", limit=3)) == 3
    assert index.suggest("") == []
    assert index.suggest("qqqqqqqq") == []
    assert index.suggest("bj", limit=0) == []


def test_search_exact_first_then_prefix_by_rank(index: StationIndex) -> None:
    assert names(index.search("bj", 10)) == ["北京", "宝鸡", "北京南", "北京西", "宝鸡南"]
    assert names(index.search("上海", 2)) == ["上海", "上海虹桥"]
    assert names(index.search("shanghaih", 5)) == ["上海虹桥"]


def test_search_matches_telecode_exactly(index: StationIndex) -> None:
    assert names(index.search("aoh", 3)) == ["上海虹桥"]
    assert index.search("", 5) == []
    assert index.search("bj", 0) == []


def test_city_helpers(index: StationIndex) -> None:
    assert index.city_of("AOH") == "上海"
    assert names(index.stations_in_city("桂林")) == ["桂林", "兴安"]
    assert index.stations_in_city("拉萨") == []
    with pytest.raises(NotFound):
        index.city_of("ZZZ")


def test_gtfs_stops_join_the_index(index: StationIndex) -> None:
    stop = Station("stop-7", "Central Station")
    index.add([stop])
    assert index.get("stop-7") == stop
    assert index.resolve("central station") == [stop]
    assert index.resolve("stop-7") == [stop]
    assert index.search("centr", 3) == [stop]
    assert index.suggest("centrl station")[0] == stop
    assert index.city_of("stop-7") == "Central Station"


def test_duplicate_code_is_refused(index: StationIndex) -> None:
    with pytest.raises(DomainError) as err:
        index.add([Station("VNP", "另一个")])
    assert err.value.reason == "duplicate_code"
    assert names(index.resolve("VNP")) == ["北京南"]
    with pytest.raises(DomainError):
        StationIndex([NETWORK[0], NETWORK[0]])


ROUTE = ("VNP", "SXH", "AOH")  # 北京南 → 上海西 → 上海虹桥
ON_ROUTE = [
    ("VNP", "VNP"),
    ("vnp", "VNP"),
    ("北京南", "VNP"),
    ("北京南站", "VNP"),
    ("beijingnan", "VNP"),
    ("北京", "VNP"),  # a city: the route's stop in it
    ("beijing", "VNP"),
    ("bjn", "VNP"),  # initials of 北京南 and of 宝鸡南: the one on the route
    ("上海", "AOH"),  # two stops in the city: the first in rank order
    ("上海虹桥", "AOH"),
    ("shhq", "AOH"),
    ("shx", "SXH"),  # initials of 上海西 (SHX, the telecode, is off the route)
]


@pytest.mark.parametrize(("query", "code"), ON_ROUTE)
def test_on_route_takes_every_form_search_takes(index: StationIndex, query: str, code: str) -> None:
    assert index.on_route(query, ROUTE) == code


def test_on_route_off_route_unknown_and_empty(index: StationIndex) -> None:
    assert index.on_route("北京西", ROUTE) is None
    assert index.on_route("SHX", ROUTE) is None  # the telecode of 索图罕
    assert index.on_route("stop_7", ("VNP", "STOP_7")) == "STOP_7"  # not indexed
    with pytest.raises(UnknownStation) as unknown:
        index.on_route("北京京京", ROUTE, field="from")
    assert unknown.value.field == "from" and "北京南" in names(unknown.value.suggestions)
    with pytest.raises(DomainError) as empty:
        index.on_route("  ", ROUTE, field="to")
    assert (empty.value.field, empty.value.reason) == ("to", "empty")


def test_one_station_or_an_ambiguity_listing_them(index: StationIndex) -> None:
    assert index.one("北京南").code == "VNP"
    assert index.one("beijingnan").code == "VNP"
    assert index.one("北京").code == "BJP"  # the station of that name, not the whole city
    assert index.one("北京站").code == "BJP"
    assert index.one("beijing").code == "BJP"
    assert index.one("vnp").code == "VNP"
    assert index.one("SHX").code == "SHX"
    with pytest.raises(AmbiguousStation) as several:
        index.one("bjn", field="station")
    error = several.value
    assert (error.field, error.reason) == ("station", "ambiguous_station")
    assert names(error.suggestions) == ["北京南", "宝鸡南"]
    assert "北京南 (VNP)、宝鸡南 (BBY)" in error.message
    with pytest.raises(AmbiguousStation):
        index.one("fuzhou")  # 福州 and 抚州
    with pytest.raises(UnknownStation):
        index.one("nowhere")


def test_code_of_keeps_codes_and_names_one_station(index: StationIndex) -> None:
    assert index.code_of("VNP") == "VNP"
    assert index.code_of(" 北京南 ") == "VNP"
    assert index.code_of("beijingnan") == "VNP"
    assert index.code_of("vnp") == "VNP"
    assert index.code_of("MXA") == "MXA"  # written as a code: a station kept elsewhere
    assert index.code_of("SHX") == "SHX"  # the telecode, not the initials of 上海西
    assert index.code_of("shx") == "SXH"
    with pytest.raises(AmbiguousStation):
        index.code_of("bjn")
    with pytest.raises(UnknownStation):
        index.code_of("metro-a")


def test_normalize_folds_case_width_and_blanks() -> None:
    assert normalize(" Bei-Jing'Nan ") == "beijingnan"
    assert normalize("ＢＪＰ") == "bjp"
    assert normalize("北京 南") == "北京南"


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("", "", 0), ("abc", "abc", 0), ("abc", "abd", 1), ("abc", "ab", 1), ("ab", "ba", 2)],
)
def test_edit_distance_known_values(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, 5) == distance


def _reference_distance(a: str, b: str) -> int:
    rows = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            rows[i][j] = min(
                rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
    return rows[-1][-1]


@given(st.text("abc", max_size=7), st.text("abc", max_size=7), st.integers(0, 3))
def test_edit_distance_is_levenshtein_capped(a: str, b: str, limit: int) -> None:
    assert edit_distance(a, b, limit) == min(_reference_distance(a, b), limit + 1)


@given(st.sampled_from(NETWORK))
def test_every_code_resolves_to_its_station(station: Station) -> None:
    assert StationIndex(NETWORK).resolve(station.code) == [station]


@given(st.sampled_from(NETWORK), st.data())
def test_one_letter_typo_in_pinyin_is_suggested(station: Station, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(station.pinyin) - 1))
    letter = data.draw(st.sampled_from("aeiouxz"))
    typo = station.pinyin[:position] + letter + station.pinyin[position + 1 :]
    assert station in StationIndex(NETWORK).suggest(typo, limit=len(NETWORK))
