"""Ports of the travel context that its entrypoints and other contexts see."""

from __future__ import annotations

from typing import Protocol


class StationBundleSource(Protocol):
    """Fresh gate bundles for a station, as the gates' management link serves them."""

    def bundle(self, station: str) -> bytes:
        """The bundle (UTF-8 JSON) of the station ``station`` names (telecode, name, pinyin,
        initials); a ``DomainError`` for a station that is not one."""
        ...
