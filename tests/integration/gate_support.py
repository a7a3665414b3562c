"""Real Ed25519 keys and codes for the gate's integration tests (fixed seeds: deterministic)."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from open12306.travel.adapters.gate import DeviceKeyVerifier, GateKeyring
from open12306.travel.adapters.keys import DeviceKey, IssuerSigner
from open12306.travel.domain.codes import (
    ScanHint,
    ScanPart,
    seal_credential,
    seal_scan,
    seal_ticket,
)
from open12306.travel.domain.gate import Gate, GateConfig
from tests.unit.codes_support import T0, a_credential, a_ticket

STATION = "VNP"
DESTINATION = "AOH"
NOW = T0 + 600


def issuer(key_id: int) -> IssuerSigner:
    return IssuerSigner(key_id, Ed25519PrivateKey.from_private_bytes(bytes([key_id]) * 32))


def device(number: int = 1) -> DeviceKey:
    return DeviceKey.from_private_bytes(bytes([0x40 + number]) * 32)


def issuer_bundle(states: dict[int, str]) -> bytes:
    """A public key bundle in the format of docs/ride-codes.md §6."""
    keys = [
        {
            "id": key_id,
            "public_key": base64.b64encode(issuer(key_id).public_key).decode(),
            "state": state,
        }
        for key_id, state in sorted(states.items())
    ]
    document = {"algorithm": "Ed25519", "format": "open12306-issuer-keys", "keys": keys}
    return json.dumps(document | {"version": 1}).encode()


LIVE = {6: "previous", 7: "current", 8: "next"}


def keyring(cache_size: int = 0) -> GateKeyring:
    return GateKeyring.from_bundle(issuer_bundle(LIVE), retired_ids={5}, cache_size=cache_size)


def real_gate(station: str = STATION, cache_size: int = 0) -> Gate:
    return Gate(GateConfig(station), keyring(cache_size), DeviceKeyVerifier(cache_size))


def ticket(key_id: int = 7, **changes: object) -> bytes:
    return seal_ticket(a_ticket(key_id=key_id, **changes), issuer(key_id))


def credential(key_id: int = 7, dev: int = 1, **changes: object) -> bytes:
    body = a_credential(key_id=key_id, device_public_key=device(dev).public_key, **changes)
    return seal_credential(body, issuer(key_id))


def scan(counter: int = 1, timestamp: int = NOW, key_id: int = 7, dev: int = 1) -> bytes:
    part = ScanPart(timestamp, counter, ScanHint.ENTRY)
    return seal_scan(credential(key_id, dev), part, device(dev))
