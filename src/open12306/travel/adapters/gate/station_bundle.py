"""Assemble a station's gate bundle: the issuer's public keys plus the booking content."""

from __future__ import annotations

from open12306.travel.adapters.gate.bundle import GateBundle, issuer_section
from open12306.travel.domain.gate import DenyLists
from open12306.travel.ports import IssuerKeys
from open12306.travel.services.gate_bundles import StationContent


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
