"""Shared set-up for the gate tests: a station, a keyring fake, codes that pass every check."""

from __future__ import annotations

from datetime import date

from open12306.travel.domain.codes import (
    CredentialFlags,
    ScanHint,
    ScanPart,
    seal_credential,
    seal_scan,
    seal_ticket,
)
from open12306.travel.domain.gate import (
    DenyLists,
    Gate,
    GateConfig,
    Manifest,
    ManifestRun,
    ManifestTicket,
    document_hash,
)
from tests.unit.codes_support import (
    DEVICE_KEY,
    T0,
    FakeDevice,
    FakeDeviceVerifier,
    FakeIssuer,
    FakeIssuerVerifier,
    a_credential,
    a_ticket,
)

STATION = "VNP"  # 北京南
DESTINATION = "AOH"  # 上海虹桥
DEPARTURE = T0 + 3600 + 5 * 60  # the ticket's window (T0 .. T0+3600) closes 5 min before
SALT = b"salt-of-this-bundle"
ID_NUMBER = "11010519491231002X"


class FakeKeyring:
    """Issuer keys by id and state: 7 current, 6 previous, 8 next, 5 retired."""

    def __init__(self, states: dict[int, str] | None = None) -> None:
        self.states = states or {5: "retired", 6: "previous", 7: "current", 8: "next"}
        live = [k for k, s in self.states.items() if s != "retired"]
        self._verifier = FakeIssuerVerifier(*live)

    def state_of(self, key_id: int) -> str | None:
        return self.states.get(key_id)

    def verify(self, key_id: int, message: bytes, signature: bytes) -> bool:
        return self._verifier.verify(key_id, message, signature)


def config(station: str = STATION, **changes: int) -> GateConfig:
    return GateConfig(station=station, **changes)  # type: ignore[arg-type]


def manifest(*tickets: ManifestTicket, runs: tuple[ManifestRun, ...] | None = None) -> Manifest:
    if runs is None:
        runs = (ManifestRun("G1", date(2026, 2, 10), DEPARTURE),)
    return Manifest(SALT, runs, tickets)


def manifest_ticket(**changes: object) -> ManifestTicket:
    fields: dict[str, object] = {
        "ticket_no": "E123456789012",
        "train_code": "G1",
        "service_date": date(2026, 2, 10),
        "from_station": STATION,
        "to_station": DESTINATION,
        "valid_from": T0,
        "valid_until": T0 + 3600,
        "document_hash": document_hash(ID_NUMBER, SALT),
        "face_required": False,
    }
    fields.update(changes)
    return ManifestTicket(**fields)  # type: ignore[arg-type]


def gate(
    station: str = STATION,
    deny: DenyLists | None = None,
    man: Manifest | None = None,
    keyring: FakeKeyring | None = None,
    **changes: int,
) -> Gate:
    return Gate(
        config(station, **changes), keyring or FakeKeyring(), FakeDeviceVerifier(), deny, man
    )


def ticket_code(key_id: int = 7, **changes: object) -> bytes:
    return seal_ticket(a_ticket(key_id=key_id, **changes), FakeIssuer(key_id))


def credential_code(key_id: int = 7, **changes: object) -> bytes:
    return seal_credential(a_credential(key_id=key_id, **changes), FakeIssuer(key_id))


def scan_code(
    counter: int = 1,
    timestamp: int = T0 + 100,
    credential: bytes | None = None,
    hint: ScanHint = ScanHint.UNSPECIFIED,
) -> bytes:
    part = ScanPart(timestamp, counter, hint)
    return seal_scan(credential or credential_code(), part, FakeDevice(DEVICE_KEY))


TOKEN = b"\x11" * 16  # the account token of a_credential()
SERIAL = 2**40 + 5
FACE_AND_PAY_LATER = CredentialFlags.PAY_LATER | CredentialFlags.FACE_REQUIRED
