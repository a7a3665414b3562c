"""Gate bundles: round trip, built from a real key store through rotations, strict loading."""

import json
from datetime import date
from pathlib import Path

import pytest

from open12306.travel.adapters.gate import (
    BundleError,
    GateBundle,
    dumps_bundle,
    issuer_section,
    load_bundle,
    loads_bundle,
    save_bundle,
)
from open12306.travel.adapters.gate.keyring import DeviceKeyVerifier
from open12306.travel.adapters.keys import IssuerKeyStore
from open12306.travel.domain.codes import seal_ticket
from open12306.travel.domain.gate import (
    DenyLists,
    Direction,
    Gate,
    GateState,
    Manifest,
    ManifestRun,
    ManifestTicket,
    ReasonCode,
    document_hash,
)
from tests.integration.gate_support import NOW, issuer_bundle
from tests.unit.codes_support import T0, a_ticket

ID_NUMBER = "11010519491231002X"


def a_bundle(issuer_keys: bytes, retired: frozenset[int] = frozenset()) -> GateBundle:
    salt = b"\x01" * 16
    manifest = Manifest(
        salt,
        [ManifestRun("G1", date(2026, 2, 10), T0 + 3900, None)],
        [
            ManifestTicket(
                "E123456789012",
                "G1",
                date(2026, 2, 10),
                "VNP",
                "AOH",
                T0,
                T0 + 3600,
                document_hash(ID_NUMBER, salt),
                True,
            )
        ],
    )
    return GateBundle(
        station="VNP",
        bundle_version=3,
        created=T0,
        issuer_keys=issuer_keys,
        retired_key_ids=retired,
        deny=DenyLists(frozenset({"E9"}), frozenset({b"\xaa" * 16}), frozenset({2**63 + 1})),
        manifest=manifest,
        gate={"clock_skew_seconds": 30, "check_in_opens_minutes": 90},
    )


def test_a_bundle_survives_a_round_trip(tmp_path: Path) -> None:
    bundle = a_bundle(issuer_bundle({7: "current", 8: "next"}), frozenset({5}))
    save_bundle(bundle, tmp_path / "gate.json")
    loaded = load_bundle(tmp_path / "gate.json")
    assert dumps_bundle(loaded) == dumps_bundle(bundle)
    assert loaded.deny == bundle.deny and loaded.retired_key_ids == {5}
    assert loaded.manifest is not None and loaded.manifest.tickets == bundle.manifest.tickets
    assert loaded.config().clock_skew_seconds == 30 and loaded.config().station == "VNP"
    assert loaded.fares["kind"] == "placeholder"
    text = (tmp_path / "gate.json").read_text()
    assert ID_NUMBER not in text and "PRIVATE" not in text


def test_a_store_rotated_twice_gives_a_gate_that_knows_the_retired_key(tmp_path: Path) -> None:
    store = IssuerKeyStore.create(tmp_path / "issuer")
    old_signer = store.signer()  # key 1
    old_ticket = seal_ticket(a_ticket(key_id=old_signer.key_id), old_signer)
    store.rotate()
    store.rotate()  # key 1 is retired now
    keys, retired = issuer_section(store)
    assert retired == {1}
    bundle = loads_bundle(dumps_bundle(a_bundle(keys, retired)))
    gate = Gate(bundle.config(), bundle.keyring(), DeviceKeyVerifier(), bundle.deny)
    refused = gate.decide(old_ticket, NOW, Direction.ENTRY, GateState())
    assert refused.reason is ReasonCode.RETIRED_KEY
    signer = store.signer()
    fresh = seal_ticket(a_ticket(key_id=signer.key_id), signer)
    assert gate.decide(fresh, NOW, Direction.ENTRY, GateState()).accepted


def _edit(bundle: GateBundle, change: dict[str, object]) -> bytes:
    document = json.loads(dumps_bundle(bundle))
    document.update(change)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    "change",
    [
        {"format": "something-else"},
        {"version": 2},
        {"station": ""},
        {"bundle_version": "3"},
        {"retired_key_ids": [True]},
        {"deny": {"tickets": [], "accounts": ["zz"], "serials": []}},
        {"deny": {"tickets": [], "accounts": [], "serials": ["1"]}},
        {"manifest": {"salt": "AA==", "hash": "md5", "runs": [], "tickets": []}},
        {"manifest": {"salt": "!!", "hash": "sha256", "runs": [], "tickets": []}},
        {"gate": {"warp_speed": 9}},
        {"gate": {"clock_skew_seconds": -5}},
        {"issuer_keys": {"format": "open12306-issuer-keys", "version": 1, "keys": []}},
        {"fares": []},
        {"keys_only": "no"},
    ],
)
def test_a_bad_bundle_is_refused(change: dict[str, object]) -> None:
    bundle = a_bundle(issuer_bundle({7: "current"}))
    with pytest.raises(BundleError):
        loads_bundle(_edit(bundle, change))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(BundleError):
        load_bundle(tmp_path / "missing.json")
    (tmp_path / "x.json").write_bytes(b"\xff not json")
    with pytest.raises(BundleError):
        load_bundle(tmp_path / "x.json")


def test_a_bad_manifest_ticket_is_refused() -> None:
    bundle = a_bundle(issuer_bundle({7: "current"}))
    document = json.loads(dumps_bundle(bundle))
    document["manifest"]["tickets"][0]["document_hash"] = "abcd"
    with pytest.raises(BundleError):
        loads_bundle(json.dumps(document).encode())


def test_a_bundle_says_whether_it_carries_booking_data() -> None:
    with_manifest = a_bundle(issuer_bundle({7: "current"}))
    assert loads_bundle(dumps_bundle(with_manifest)).keys_only is False
    keys_only = GateBundle("VNP", 1, T0, issuer_bundle({7: "current"}), keys_only=True)
    assert json.loads(dumps_bundle(keys_only))["keys_only"] is True
    assert loads_bundle(dumps_bundle(keys_only)).keys_only is True
    older = json.loads(dumps_bundle(keys_only))
    del older["keys_only"]  # written before the flag: no manifest means no booking data
    assert loads_bundle(json.dumps(older).encode()).keys_only is True
    older = json.loads(dumps_bundle(with_manifest))
    del older["keys_only"]
    assert loads_bundle(json.dumps(older).encode()).keys_only is False
