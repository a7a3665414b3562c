"""What the travel commands work with on a device: issuer keys, a wallet, a server, a gate.

The adapters (``travel.adapters``: Ed25519 key files, the wallet directory, the HTTP client,
gate bundles and journals) supply these; ``bootstrap.devices`` builds them, and the commands
(``cli.keys``, ``cli.wallet``, ``cli.gate``, ``cli.ticket_code``) see only these shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from open12306.accounts.ports import FaceResult
from open12306.travel.domain.codes import Signer
from open12306.travel.domain.gate import Decision, DenyLists, Manifest


class DeviceError(Exception):
    """A key store, gate bundle, QR image, wallet or server answer is missing, malformed or
    refused. The message is one line, ready to be shown after ``error:``."""


class IssuerKey(Protocol):
    """One issuer key as a key store lists it."""

    @property
    def key_id(self) -> int: ...

    @property
    def state(self) -> str:
        """``previous``, ``current``, ``next`` or ``retired``."""
        ...

    @property
    def public_key(self) -> bytes: ...


class IssuerSigner(Signer, Protocol):
    """Signs with the issuer's current key; ``key_id`` goes into every code it signs."""

    @property
    def key_id(self) -> int: ...


class IssuerKeys(Protocol):
    """The issuer's key store (private keys on this machine)."""

    def entries(self) -> Sequence[IssuerKey]: ...

    def rotate(self) -> IssuerKey:
        """next → current → previous → retired, and a new next key; the new current key."""
        ...

    def signer(self) -> IssuerSigner: ...

    def public_bundle(self) -> bytes:
        """The trusted public keys as the JSON document gates hold."""
        ...


class DeviceKey(Signer, Protocol):
    """A wallet's own key: its public half goes into the ride credential."""

    @property
    def public_key(self) -> bytes: ...


class Wallet(Protocol):
    """A phone-side wallet: its device key, ride credential, scan counter and server login."""

    @property
    def directory(self) -> Path: ...

    def create(self) -> DeviceKey:
        """A new wallet with a new device key; refused when one is there already."""
        ...

    def device_key(self) -> DeviceKey: ...

    def credential(self) -> bytes:
        """The sealed ride credential stored last."""
        ...

    def save_credential(self, sealed: bytes) -> None: ...

    def next_counter(self) -> int:
        """One above the last scan counter, persisted before it is handed out."""
        ...

    def save_login(self, server: str, token: str) -> None: ...

    def login(self) -> tuple[str, str] | None:
        """(server, session token) of the last login, None before any."""
        ...


class TravelServer(Protocol):
    """The open12306 server's endpoints a wallet and a gate call."""

    def login(self, username: str, password: str) -> tuple[str, str]:
        """(session token, when it expires as the server says it)."""
        ...

    def ride_credential(self, device_public_key: bytes, hours: int) -> bytes:
        """A sealed credential issued for this very device key."""
        ...

    def upload_taps(self, taps: Sequence[dict[str, Any]]) -> int:
        """Send a gate's taps; how many tickets the server marked used for the first time."""
        ...

    def station_bundle(self, station: str) -> Any:
        """A fresh gate bundle for the station (its JSON document)."""
        ...


class GateBundleInfo(Protocol):
    """What a gate bundle says about itself."""

    @property
    def station(self) -> str: ...

    @property
    def bundle_version(self) -> int: ...

    @property
    def deny(self) -> DenyLists: ...

    @property
    def manifest(self) -> Manifest | None: ...

    @property
    def keys_only(self) -> bool:
        """Built without the booking database: revoked tickets are not refused."""
        ...


class GateTap(Protocol):
    """One tap at a gate: what was shown, the decision and the id it was journaled under."""

    @property
    def image(self) -> Path: ...

    @property
    def decision(self) -> Decision: ...

    @property
    def tap_id(self) -> str: ...

    @property
    def face(self) -> FaceResult | None: ...

    @property
    def reason(self) -> str: ...

    @property
    def bundle_keys_only(self) -> bool: ...
