"""The Network value that GTFS import and export work on."""

from dataclasses import replace
from datetime import date

import pytest

from open12306.catalog.domain.network import Network, validate_network
from open12306.catalog.domain.service_calendar import ServiceCalendar
from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import StopTime, Train
from open12306.shared.errors import DomainError, NotFound

BEIJING_SOUTH = Station("VNP", "北京南", "beijingnan", "bjn", "北京", 39.865, 116.379)
TIANJIN_SOUTH = Station("TIP", "天津南", "tianjinnan", "tjn", "天津")
JINAN_WEST = Station("JGK", "济南西", "jinanxi", "jnx", "济南", 36.669, 116.891)


def g1(code: str = "G1", to: str = "JGK") -> Train:
    return Train(
        code,
        (
            StopTime("VNP", None, 540, 0),
            StopTime("TIP", 575, 577, 131),
            StopTime(to, 640, None, 406),
        ),
        "emu-16",
    )


def network(*trains: Train) -> Network:
    return Network((BEIJING_SOUTH, TIANJIN_SOUTH, JINAN_WEST), trains, agency="国铁", source="t")


def test_lookup_by_code() -> None:
    net = network(g1())
    assert net.station("TIP") is TIANJIN_SOUTH
    assert net.station_index()["JGK"] is JINAN_WEST
    assert net.train("G1").stops[-1].km == 406
    assert net.served_station_codes() == {"VNP", "TIP", "JGK"}


def test_unknown_codes_are_not_found() -> None:
    net = network(g1())
    with pytest.raises(NotFound) as err:
        net.station("XXX")
    assert err.value.reason == "unknown_station"
    with pytest.raises(NotFound):
        net.train("G2")


def test_valid_network_passes() -> None:
    validate_network(network(g1(), g1("G3")))


def test_repeated_train_number_is_rejected() -> None:
    with pytest.raises(DomainError) as err:
        validate_network(network(g1(), g1()))
    assert err.value.reason == "duplicate_train"


def test_repeated_station_code_is_rejected() -> None:
    net = Network((BEIJING_SOUTH, BEIJING_SOUTH), ())
    with pytest.raises(DomainError) as err:
        validate_network(net)
    assert err.value.reason == "duplicate_station"


def test_train_at_a_station_outside_the_network_is_rejected() -> None:
    with pytest.raises(DomainError) as err:
        validate_network(network(g1(to="AOH")))
    assert err.value.reason == "unknown_station"
    assert "AOH" in err.value.message


def test_one_service_id_with_two_sets_of_dates_is_rejected() -> None:
    weekdays = ServiceCalendar("WK", frozenset(range(5)), date(2027, 1, 1), date(2027, 6, 30))
    shorter = replace(weekdays, end=date(2027, 3, 31))
    validate_network(
        network(replace(g1(), calendar=weekdays), replace(g1("G3"), calendar=weekdays))
    )
    with pytest.raises(DomainError) as err:
        validate_network(
            network(replace(g1(), calendar=weekdays), replace(g1("G3"), calendar=shorter))
        )
    assert err.value.reason == "conflicting_calendar"
    assert "'WK'" in err.value.message and "G1" in err.value.message
