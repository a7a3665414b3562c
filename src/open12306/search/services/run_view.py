"""One run as operators and passengers look at it: stops, composition, load per segment."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

from open12306.inventory.domain.seats import SeatClass
from open12306.search.services.read_model import ReadModel
from open12306.search.services.search import PresaleWindow
from open12306.shared.errors import NotFound


def _clock(window: PresaleWindow, service_date: date, minute: int | None) -> str | None:
    if minute is None:
        return None
    start = datetime.combine(service_date, time(), window.zone)
    return (start + timedelta(minutes=minute)).isoformat()


def run_view(
    read_model: ReadModel, window: PresaleWindow, code: str, service_date: date
) -> dict[str, Any]:
    catalog = read_model.catalog
    train = catalog.train(code)
    key = (train.code, service_date)
    if not read_model.has_run(train.code, service_date):
        raise NotFound(
            "date", "no_run", f"{train.code} has no run on sale with service date {service_date}"
        )
    stations = catalog.stations
    stops = []
    for n, stop in enumerate(train.stops):
        station = stations.get(stop.station)
        stops.append(
            {
                "seq": n,
                "code": stop.station,
                "name": station.name if station else stop.station,
                "arrives": _clock(window, service_date, stop.arrive),
                "departs": _clock(window, service_date, stop.depart),
                "km": stop.km,
            }
        )
    composition = catalog.composition(train.code)
    seats = composition.seats()
    per_coach = Counter((s.coach, s.seat_class) for s in seats)
    coaches = [
        {"coach": coach, "class": cls.value, "label": cls.label, "seats": count}
        for (coach, cls), count in sorted(per_coach.items())
    ]
    classes = catalog.classes(train.code)
    capacity = {cls: composition.capacity(cls) for cls in classes}
    inventory = read_model.counts(key)
    standing = catalog.standing(train.code)
    segments = []
    for k in range(train.segments):
        load = {}
        for cls in classes:
            if cls is SeatClass.STANDING:
                sold = sum(inventory.standing_sold(parent)[k] for parent in standing)
            else:
                sold = capacity[cls] - inventory.remaining(cls, k, k + 1)
            load[cls.value] = {"sold": sold, "capacity": capacity[cls]}
        segments.append(
            {"from": train.stops[k].station, "to": train.stops[k + 1].station, "load": load}
        )
    return {
        "train": train.code,
        "type": train.train_type,
        "service_date": service_date.isoformat(),
        "synthetic": train.synthetic,
        "composition": {"id": composition.id, "name": composition.name, "coaches": coaches},
        "stops": stops,
        "segments": segments,
        "version": read_model.version(key),
    }
