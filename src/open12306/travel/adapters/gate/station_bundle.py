"""Assemble a station's gate bundle: the issuer's public keys plus the booking content, and
fresh bundles on request (what the gates' management link serves)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from open12306.travel.adapters.gate.bundle import GateBundle, dumps_bundle, issuer_section
from open12306.travel.adapters.issuer_signing import IssuerKeysOnDemand
from open12306.travel.domain.gate import DenyLists, GateConfig
from open12306.travel.ports import IssuerKeys
from open12306.travel.services.gate_bundles import GateBundleService, StationContent


def station_bundle(
    issuer: IssuerKeys,
    station: str,
    version: int,
    created: int,
    content: StationContent | None = None,
    deny: DenyLists | None = None,
) -> GateBundle:
    """A bundle for ``station``: trusted and retired issuer keys, ``deny`` merged with the
    content's deny list, and the content's manifest and face embeddings. Without ``content``
    (no booking database) the bundle is marked ``keys_only``."""
    issuer_keys, retired = issuer_section(issuer)
    given = deny if deny is not None else DenyLists()
    tickets = given.tickets | (content.deny.tickets if content is not None else frozenset())
    accounts = given.accounts | (content.deny.accounts if content is not None else frozenset())
    return GateBundle(
        station=station,
        bundle_version=version,
        created=created,
        issuer_keys=issuer_keys,
        retired_key_ids=retired,
        deny=DenyLists(tickets, accounts, given.serials),
        manifest=None if content is None else content.manifest,
        faces={} if content is None else dict(content.faces),
        keys_only=content is None,
    )


class StationBundles:
    """Fresh bundles for a station, built from the database and the issuer key store.

    ``bundle_version`` is the build time in unix seconds, or one more than the last this
    process issued when two are built within a second (a refund right after a sync), so every
    fresh bundle is newer than the one a gate holds (``gate sync`` never installs an older
    one)."""

    def __init__(
        self,
        service: GateBundleService,
        issuer: IssuerKeysOnDemand,
        clock: Callable[[], datetime],
    ) -> None:
        self.service = service
        self.issuer = issuer
        self.clock = clock
        self._last = 0
        self._lock = threading.Lock()

    def bundle(self, station: str) -> bytes:
        """The bundle of the station ``station`` names (telecode, name, pinyin, initials)."""
        code = self.service.station_code(station.strip())
        GateConfig(code)  # a valid telecode, else 400
        now = self.clock()
        content = self.service.station_content(code, now)
        moment = int(now.timestamp())
        with self._lock:
            version = self._last = max(moment, self._last + 1)
        return dumps_bundle(station_bundle(self.issuer.store(), code, version, moment, content))
