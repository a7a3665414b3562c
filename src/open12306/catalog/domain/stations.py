"""Stations of the network."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Station:
    """A station: 12306 telecode (电报码), Chinese name, full pinyin, pinyin initials, city.

    For stations imported from a GTFS feed ``code`` is the feed's stop_id and ``name`` the
    stop name as given. ``lat``/``lon`` are WGS-84 degrees (city level for 12306 stations)
    or None when no source has them.
    """

    code: str
    name: str
    pinyin: str = ""
    initials: str = ""
    city: str = ""
    lat: float | None = None
    lon: float | None = None

    def brief(self) -> dict[str, str]:
        """What answers name a station by: telecode, name and city."""
        return {"code": self.code, "name": self.name, "city": self.city}

    def as_dict(self) -> dict[str, str | float | None]:
        """Every field, as station lists answer them."""
        return {
            "code": self.code,
            "name": self.name,
            "pinyin": self.pinyin,
            "initials": self.initials,
            "city": self.city,
            "lat": self.lat,
            "lon": self.lon,
        }
