"""The gate bundle: everything an offline gate is given, as one UTF-8 JSON file.

Layout (``format`` ``open12306-gate-bundle``, ``version`` 1)::

    bundle_version   int, increases with every bundle the back office issues
    created          unix seconds
    station          the station telecode the gates stand at
    gate             optional GateConfig settings (check-in window, skew, ...)
    issuer_keys      the issuer's public key bundle (docs/ride-codes.md §6), verbatim
    retired_key_ids  ids the issuer has retired (so a gate can say "retired", not "unknown")
    deny             {"tickets": [ticket_no], "accounts": [hex token], "serials": [int]}
    manifest         null or {"salt": base64, "hash": "sha256", "runs": [...], "tickets": [...],
                     "faces": {ticket_no: base64 of 128 little-endian float32}} (faces optional)
    fares            fare table for walk-up ride codes (placeholder until fares are wired)
    keys_only        true when built without the booking database (``gate bundle --keys-only``):
                     no revoked tickets, no manifest; gates warn. A bundle without this key is
                     keys-only when its manifest is null (bundles from the database carry one)

Manifest tickets carry ``document_hash`` (hex SHA-256 of salt + normalised ID number), never
the number itself; ``faces`` carries, for tickets whose passenger enrolled a face, the
128-number face embedding the gate compares a live image with (never a photo). Like the key
bundle, a gate bundle must arrive over an authenticated link.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

from open12306.shared.errors import DomainError
from open12306.travel.adapters.gate.keyring import GateKeyring
from open12306.travel.adapters.keys import KeyState, KeyStoreError
from open12306.travel.domain.gate import (
    DenyLists,
    GateConfig,
    Manifest,
    ManifestRun,
    ManifestTicket,
)
from open12306.travel.ports import DeviceError, IssuerKeys

BUNDLE_FORMAT = "open12306-gate-bundle"
BUNDLE_VERSION = 1
HASH_NAME = "sha256"
FACE_PACKING = struct.Struct("<128f")
PLACEHOLDER_FARES: dict[str, Any] = {"kind": "placeholder", "currency": "CNY", "rules": []}


class BundleError(DeviceError):
    """A gate bundle is missing, malformed or of an unknown format."""


@dataclass(frozen=True)
class GateBundle:
    """A loaded gate bundle. ``issuer_keys`` is the issuer's public key bundle as JSON."""

    station: str
    bundle_version: int
    created: int
    issuer_keys: bytes
    retired_key_ids: frozenset[int] = frozenset()
    deny: DenyLists = field(default_factory=DenyLists)
    manifest: Manifest | None = None
    gate: dict[str, int] = field(default_factory=dict)
    fares: dict[str, Any] = field(default_factory=lambda: dict(PLACEHOLDER_FARES))
    faces: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    # built without the booking database: refunded and changed tickets are not in ``deny``
    keys_only: bool = False

    def keyring(self, cache_size: int = 0) -> GateKeyring:
        try:
            return GateKeyring.from_bundle(self.issuer_keys, self.retired_key_ids, cache_size)
        except KeyStoreError as error:
            raise BundleError(f"issuer_keys: {error}") from None

    def config(self, gate_id: str = "gate-1") -> GateConfig:
        try:
            return GateConfig(station=self.station, gate_id=gate_id, **self.gate)
        except (DomainError, TypeError) as error:
            raise BundleError(f"gate: {error}") from None


def issuer_section(store: IssuerKeys) -> tuple[bytes, frozenset[int]]:
    """The public key bundle and retired ids of an issuer key store."""
    retired = frozenset(e.key_id for e in store.entries() if e.state is KeyState.RETIRED)
    return store.public_bundle(), retired


# -- writing ---------------------------------------------------------------------------------


def _hex(raw: bytes) -> str:
    return raw.hex()


def _run_json(run: ManifestRun) -> dict[str, Any]:
    return {
        "train_code": run.train_code,
        "service_date": run.service_date.isoformat(),
        "departure": run.departure,
        "arrival": run.arrival,
    }


def _ticket_json(ticket: ManifestTicket) -> dict[str, Any]:
    return {
        "ticket_no": ticket.ticket_no,
        "train_code": ticket.train_code,
        "service_date": ticket.service_date.isoformat(),
        "from_station": ticket.from_station,
        "to_station": ticket.to_station,
        "valid_from": ticket.valid_from,
        "valid_until": ticket.valid_until,
        "document_hash": _hex(ticket.document_hash),
        "face_required": ticket.face_required,
    }


def _faces_json(faces: Mapping[str, tuple[float, ...]]) -> dict[str, str]:
    return {
        no: base64.b64encode(FACE_PACKING.pack(*values)).decode("ascii")
        for no, values in sorted(faces.items())
    }


def _parse_faces(section: Any) -> dict[str, tuple[float, ...]]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise BundleError("manifest.faces: expected an object")
    faces = {}
    for ticket_no, text in section.items():
        try:
            raw = base64.b64decode(text, validate=True)
            faces[ticket_no] = tuple(FACE_PACKING.unpack(raw))
        except (binascii.Error, ValueError, TypeError, struct.error):
            raise BundleError(f"manifest.faces.{ticket_no}: expected 128 float32") from None
    return faces


def dumps_bundle(bundle: GateBundle) -> bytes:
    manifest = bundle.manifest
    document = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "bundle_version": bundle.bundle_version,
        "created": bundle.created,
        "station": bundle.station,
        "gate": dict(bundle.gate),
        "issuer_keys": json.loads(bundle.issuer_keys),
        "retired_key_ids": sorted(bundle.retired_key_ids),
        "deny": {
            "tickets": sorted(bundle.deny.tickets),
            "accounts": sorted(_hex(a) for a in bundle.deny.accounts),
            "serials": sorted(bundle.deny.serials),
        },
        "manifest": None
        if manifest is None
        else {
            "salt": base64.b64encode(manifest.salt).decode("ascii"),
            "hash": HASH_NAME,
            "runs": [_run_json(r) for r in manifest.runs],
            "tickets": [_ticket_json(t) for t in manifest.tickets],
            **({"faces": _faces_json(bundle.faces)} if bundle.faces else {}),
        },
        "fares": bundle.fares,
        "keys_only": bundle.keys_only,
    }
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def save_bundle(bundle: GateBundle, path: Path | str) -> None:
    """Write the bundle atomically (a gate never reads half a bundle)."""
    target = Path(path)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_bytes(dumps_bundle(bundle))
    os.replace(temporary, target)


# -- reading ---------------------------------------------------------------------------------


def _get(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = obj.get(key)
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise BundleError(f"{where}{key}: expected {getattr(kind, '__name__', kind)}")
    return value


def _int(obj: dict[str, Any], key: str, where: str = "") -> int:
    value: int = _get(obj, key, int, where)
    return value


def _opt_int(obj: dict[str, Any], key: str, where: str) -> int | None:
    return None if obj.get(key) is None else _int(obj, key, where)


def _date(obj: dict[str, Any], key: str, where: str) -> date:
    try:
        return date.fromisoformat(_get(obj, key, str, where))
    except ValueError:
        raise BundleError(f"{where}{key}: expected YYYY-MM-DD") from None


def _unhex(text: object, where: str) -> bytes:
    if not isinstance(text, str):
        raise BundleError(f"{where}: expected hex")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise BundleError(f"{where}: expected hex") from None


def _list(obj: dict[str, Any], key: str, where: str = "") -> list[Any]:
    value: list[Any] = _get(obj, key, list, where)
    return value


def _parse_run(item: Any) -> ManifestRun:
    if not isinstance(item, dict):
        raise BundleError("manifest.runs: expected objects")
    where = "manifest.runs."
    return ManifestRun(
        _get(item, "train_code", str, where),
        _date(item, "service_date", where),
        _opt_int(item, "departure", where),
        _opt_int(item, "arrival", where),
    )


def _parse_ticket(item: Any) -> ManifestTicket:
    if not isinstance(item, dict):
        raise BundleError("manifest.tickets: expected objects")
    where = "manifest.tickets."
    return ManifestTicket(
        ticket_no=_get(item, "ticket_no", str, where),
        train_code=_get(item, "train_code", str, where),
        service_date=_date(item, "service_date", where),
        from_station=_get(item, "from_station", str, where),
        to_station=_get(item, "to_station", str, where),
        valid_from=_int(item, "valid_from", where),
        valid_until=_int(item, "valid_until", where),
        document_hash=_unhex(item.get("document_hash"), where + "document_hash"),
        face_required=_get(item, "face_required", bool, where),
    )


def _parse_manifest(section: Any) -> Manifest | None:
    if section is None:
        return None
    if not isinstance(section, dict) or section.get("hash") != HASH_NAME:
        raise BundleError(f"manifest: expected an object with hash {HASH_NAME}")
    try:
        salt = base64.b64decode(_get(section, "salt", str, "manifest."), validate=True)
    except (binascii.Error, ValueError):
        raise BundleError("manifest.salt: expected base64") from None
    runs = [_parse_run(item) for item in _list(section, "runs", "manifest.")]
    tickets = [_parse_ticket(item) for item in _list(section, "tickets", "manifest.")]
    return Manifest(salt, runs, tickets)


def _parse_deny(section: Any) -> DenyLists:
    if not isinstance(section, dict):
        raise BundleError("deny: expected an object")
    tickets = _list(section, "tickets", "deny.")
    serials = _list(section, "serials", "deny.")
    if not all(isinstance(t, str) for t in tickets):
        raise BundleError("deny.tickets: expected strings")
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in serials):
        raise BundleError("deny.serials: expected integers")
    accounts = [_unhex(a, "deny.accounts") for a in _list(section, "accounts", "deny.")]
    return DenyLists(frozenset(tickets), frozenset(accounts), frozenset(serials))


def _parse_gate(section: Any) -> dict[str, int]:
    if section is None:
        return {}
    allowed = {f.name for f in fields(GateConfig)} - {"station", "gate_id"}
    if not isinstance(section, dict) or not set(section) <= allowed:
        raise BundleError(f"gate: expected an object with keys among {sorted(allowed)}")
    return {key: _int(section, key, "gate.") for key in section}


def loads_bundle(data: bytes) -> GateBundle:
    """Parse and check a bundle; raises BundleError on anything unexpected."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise BundleError("expected a JSON object")
    if (document.get("format"), document.get("version")) != (BUNDLE_FORMAT, BUNDLE_VERSION):
        raise BundleError(f"expected format {BUNDLE_FORMAT} version {BUNDLE_VERSION}")
    retired = _list(document, "retired_key_ids")
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in retired):
        raise BundleError("retired_key_ids: expected integers")
    try:
        manifest = _parse_manifest(document.get("manifest"))
        section = document.get("manifest")
        faces = _parse_faces(section.get("faces")) if isinstance(section, dict) else {}
    except DomainError as error:
        raise BundleError(f"manifest: {error}") from None
    fares = document.get("fares", dict(PLACEHOLDER_FARES))
    if not isinstance(fares, dict):
        raise BundleError("fares: expected an object")
    keys_only = document.get("keys_only", manifest is None)
    if not isinstance(keys_only, bool):
        raise BundleError("keys_only: expected a boolean")
    bundle = GateBundle(
        station=_get(document, "station", str, ""),
        bundle_version=_int(document, "bundle_version"),
        created=_int(document, "created"),
        issuer_keys=json.dumps(_get(document, "issuer_keys", dict, "")).encode(),
        retired_key_ids=frozenset(retired),
        deny=_parse_deny(document.get("deny")),
        manifest=manifest,
        gate=_parse_gate(document.get("gate")),
        fares=fares,
        faces=faces,
        keys_only=keys_only,
    )
    bundle.keyring()  # the issuer keys must parse too
    bundle.config()  # and the settings must make a valid gate
    return bundle


def load_bundle(path: Path | str) -> GateBundle:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise BundleError(f"cannot read {path}: {error}") from None
    return loads_bundle(data)
