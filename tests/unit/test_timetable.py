import pytest

from open12306.catalog.domain.timetable import StopTime, Train, validate_train
from open12306.shared.errors import DomainError


def test_valid_train_passes_midnight() -> None:
    train = Train(
        "Z1",
        (StopTime("BJP", None, 1300, 0), StopTime("SHH", 1900, None, 1463)),
        "sleeper-18",
    )
    validate_train(train)
    assert train.train_type == "Z"
    assert train.arrival(1) - train.departure(0) == 600


def test_times_going_back_are_rejected() -> None:
    train = Train("G1", (StopTime("VNP", None, 600, 0), StopTime("AOH", 500, None, 1318)), "emu-16")
    with pytest.raises(DomainError) as err:
        validate_train(train)
    assert err.value.reason == "time_goes_back"
