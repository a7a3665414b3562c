import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from open12306.travel.adapters.keys import (
    BundleVerifier,
    DeviceKey,
    Ed25519DeviceVerifier,
    IssuerKeyStore,
    IssuerSigner,
    KeyState,
    KeyStoreError,
)
from open12306.travel.domain.codes import (
    CodeError,
    ScanHint,
    ScanPart,
    seal_credential,
    seal_scan,
    seal_ticket,
    verify_credential,
    verify_scan,
    verify_ticket,
)
from tests.unit.codes_support import a_credential, a_ticket, flips


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def store(tmp_path: Path) -> IssuerKeyStore:
    return IssuerKeyStore.create(tmp_path / "issuer")


def states(store: IssuerKeyStore) -> dict[int, KeyState]:
    return {e.key_id: e.state for e in store.entries()}


def test_new_store_has_current_and_next_with_private_files(store: IssuerKeyStore) -> None:
    assert states(store) == {1: KeyState.CURRENT, 2: KeyState.NEXT}
    assert mode(store.directory) == 0o700
    pems = sorted(store.directory.glob("issuer-*.pem"))
    assert [p.name for p in pems] == ["issuer-00001.pem", "issuer-00002.pem"]
    assert all(mode(p) == 0o600 for p in pems)
    assert mode(store.directory / "keys.json") == 0o600
    assert b"PRIVATE KEY" in pems[0].read_bytes()
    assert b"PRIVATE" not in (store.directory / "keys.json").read_bytes()


def test_permissions_hold_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        store = IssuerKeyStore.create(tmp_path / "loose")
        store.rotate()
    finally:
        os.umask(old)
    assert mode(store.directory) == 0o700
    assert {mode(p) for p in store.directory.iterdir() if p.name != ".lock"} == {0o600}


def test_rotation_moves_next_to_current_to_previous_to_retired(store: IssuerKeyStore) -> None:
    first_next_key = store.entries()[1].public_key
    new_current = store.rotate()
    assert (new_current.key_id, new_current.public_key) == (2, first_next_key)
    assert states(store) == {1: KeyState.PREVIOUS, 2: KeyState.CURRENT, 3: KeyState.NEXT}
    store.rotate()
    assert states(store) == {
        1: KeyState.RETIRED,
        2: KeyState.PREVIOUS,
        3: KeyState.CURRENT,
        4: KeyState.NEXT,
    }
    assert not (store.directory / "issuer-00001.pem").exists()
    assert store.signer().key_id == 3


def test_reopened_store_keeps_keys_and_states(store: IssuerKeyStore) -> None:
    store.rotate()
    code = seal_ticket(a_ticket(key_id=2), store.signer())
    again = IssuerKeyStore.open(store.directory)
    assert again.entries() == store.entries()
    assert verify_ticket(code, again.verifier()).key_id == 2
    assert IssuerKeyStore.open_or_create(store.directory).entries() == store.entries()


def test_open_refuses_readable_key_files(store: IssuerKeyStore) -> None:
    os.chmod(store.directory / "issuer-00001.pem", 0o644)
    with pytest.raises(KeyStoreError, match="mode 644"):
        IssuerKeyStore.open(store.directory)


def test_open_refuses_an_open_directory(store: IssuerKeyStore) -> None:
    os.chmod(store.directory, 0o755)
    with pytest.raises(KeyStoreError):
        IssuerKeyStore.open(store.directory)


def test_create_refuses_a_non_empty_directory(store: IssuerKeyStore) -> None:
    with pytest.raises(KeyStoreError):
        IssuerKeyStore.create(store.directory)


def test_bundle_lists_trusted_public_keys_and_states(store: IssuerKeyStore) -> None:
    store.rotate()
    store.rotate()
    bundle = json.loads(store.public_bundle())
    assert bundle["format"] == "open12306-issuer-keys"
    assert bundle["algorithm"] == "Ed25519"
    assert [(k["id"], k["state"]) for k in bundle["keys"]] == [
        (2, "previous"),
        (3, "current"),
        (4, "next"),
    ]
    assert b"PRIVATE" not in store.public_bundle()


def test_codes_by_previous_current_and_next_keys_verify(store: IssuerKeyStore) -> None:
    old_signer = store.signer()
    store.rotate()
    upcoming = IssuerKeyStore.open(store.directory)
    gate = BundleVerifier.from_bundle(store.public_bundle())
    old = seal_ticket(a_ticket(key_id=old_signer.key_id), old_signer)
    current = seal_ticket(a_ticket(key_id=2), store.signer())
    assert verify_ticket(old, gate).key_id == 1
    assert verify_ticket(current, gate).key_id == 2
    upcoming.rotate()  # the next key (3) signs only after the following rotation
    later = seal_ticket(a_ticket(key_id=3), upcoming.signer())
    assert verify_ticket(later, gate).key_id == 3


def test_retired_and_unknown_keys_are_rejected(store: IssuerKeyStore) -> None:
    first = store.signer()
    code = seal_credential(a_credential(key_id=first.key_id), first)
    store.rotate()
    store.rotate()
    gate = store.verifier()
    with pytest.raises(CodeError) as caught:
        verify_credential(code, gate)
    assert caught.value.reason == "bad_signature"
    assert gate.state_of(1) is None
    assert not gate.verify(99, b"message", bytes(64))


def test_a_bundle_that_marks_a_key_retired_does_not_trust_it(store: IssuerKeyStore) -> None:
    code = seal_ticket(a_ticket(key_id=1), store.signer())
    bundle = json.loads(store.public_bundle())
    bundle["keys"][0]["state"] = "retired"
    gate = BundleVerifier.from_bundle(json.dumps(bundle).encode())
    assert gate.state_of(1) is KeyState.RETIRED
    with pytest.raises(CodeError):
        verify_ticket(code, gate)


@pytest.mark.parametrize(
    "bundle",
    [
        b"not json",
        b"[]",
        b'{"format": "other", "version": 1, "algorithm": "Ed25519", "keys": []}',
        b'{"format": "open12306-issuer-keys", "version": 1, "algorithm": "Ed25519", "keys": '
        b'[{"id": 1, "state": "current", "public_key": "AAAA"}]}',
        b'{"format": "open12306-issuer-keys", "version": 1, "algorithm": "Ed25519", "keys": '
        b'[{"id": 1, "state": "spare", "public_key": "AAAA"}]}',
        b'{"format": "open12306-issuer-keys", "version": 1, "algorithm": "Ed25519", "keys": '
        b'[{"id": 70000, "state": "current", "public_key": "AAAA"}]}',
    ],
)
def test_malformed_bundles_are_refused(bundle: bytes) -> None:
    with pytest.raises(KeyStoreError):
        BundleVerifier.from_bundle(bundle)


def test_real_signatures_cover_every_byte_of_a_scan_code(store: IssuerKeyStore) -> None:
    device = DeviceKey.generate()
    credential = seal_credential(
        a_credential(key_id=1, device_public_key=device.public_key), store.signer()
    )
    code = seal_scan(credential, ScanPart(1_770_000_100, 3, ScanHint.EXIT), device)
    gate, devices = store.verifier(), Ed25519DeviceVerifier()
    assert verify_scan(code, gate, devices).part.counter == 3
    for mutated in flips(code):
        with pytest.raises(CodeError):
            verify_scan(mutated, gate, devices)


def test_real_signatures_cover_every_byte_of_a_ticket(store: IssuerKeyStore) -> None:
    code = seal_ticket(a_ticket(key_id=1), store.signer())
    gate = store.verifier()
    for mutated in flips(code):
        with pytest.raises(CodeError):
            verify_ticket(mutated, gate)


def test_device_key_saves_with_0600_and_loads_the_same_key(tmp_path: Path) -> None:
    device = DeviceKey.generate()
    path = tmp_path / "device.key"
    device.save(path)
    assert mode(path) == 0o600
    loaded = DeviceKey.load(path)
    assert loaded.public_key == device.public_key
    assert Ed25519DeviceVerifier().verify_device(device.public_key, b"m", loaded.sign(b"m"))
    assert not Ed25519DeviceVerifier().verify_device(device.public_key, b"n", loaded.sign(b"m"))
    assert not Ed25519DeviceVerifier().verify_device(b"short", b"m", loaded.sign(b"m"))
    with pytest.raises(FileExistsError):
        device.save(path)


def test_published_test_vector_matches_docs() -> None:
    issuer = IssuerSigner(1, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    device = DeviceKey.from_private_bytes(bytes(range(32, 64)))
    credential = seal_credential(
        a_credential(key_id=1, device_public_key=device.public_key), issuer
    )
    code = seal_scan(credential, ScanPart(1_770_000_120, 42, ScanHint.ENTRY), device)

    page = (Path(__file__).parents[2] / "docs" / "ride-codes.md").read_text()
    block = page.split("scan code (213 bytes):\n", 1)[1].split("```", 1)[0]
    assert bytes.fromhex("".join(block.split())) == code
    assert f"issuer public key {issuer.public_key.hex()}" in page
    assert f"device public key {device.public_key.hex()}" in page


def test_rotation_starts_from_disk_when_another_handle_rotated(store: IssuerKeyStore) -> None:
    other = IssuerKeyStore.open(store.directory)
    other.rotate()
    store.rotate()  # must not re-rotate from its stale view (which would reuse states)
    assert states(store) == {
        1: KeyState.RETIRED,
        2: KeyState.PREVIOUS,
        3: KeyState.CURRENT,
        4: KeyState.NEXT,
    }
    assert states(other) == {1: KeyState.PREVIOUS, 2: KeyState.CURRENT, 3: KeyState.NEXT}
    other.reload()
    assert other.entries() == store.entries()


def test_a_key_file_left_by_a_crash_is_not_reused(store: IssuerKeyStore) -> None:
    orphan = store.directory / "issuer-00003.pem"
    orphan.write_bytes(b"half-written")
    os.chmod(orphan, 0o600)
    assert store.rotate().key_id == 2
    assert store.key_id(KeyState.NEXT) == 4
    assert orphan.read_bytes() == b"half-written"


def _open_at_once(directory: str, barrier: Any, guarded: bool, results: Any) -> None:
    barrier.wait()
    try:
        if guarded:
            store = IssuerKeyStore.open_or_create(directory)
        elif (Path(directory) / "keys.json").exists():  # the check-then-create of before
            store = IssuerKeyStore.open(directory)
        else:
            store = IssuerKeyStore.create(directory)
        results.put(("ok", store.public_bundle().decode()))
    except Exception as exc:  # reported to the test, which counts them
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def _race(tmp_path: Path, guarded: bool, processes: int = 6) -> list[tuple[str, str]]:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes), context.Queue()
    directory = str(tmp_path / f"keys-{guarded}-{os.urandom(4).hex()}")
    workers = [
        context.Process(target=_open_at_once, args=(directory, barrier, guarded, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    found = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    return found


def test_processes_starting_on_a_new_key_directory_at_once_share_one_store(
    tmp_path: Path,
) -> None:
    for _ in range(5):
        found = _race(tmp_path, guarded=True)
        assert {kind for kind, _ in found} == {"ok"}, found
        assert len({bundle for _, bundle in found}) == 1  # the same keys for everyone


def test_control_check_then_create_breaks_when_processes_start_at_once(tmp_path: Path) -> None:
    failures = 0
    for _ in range(10):
        found = _race(tmp_path, guarded=False)
        failures += sum(1 for kind, _ in found if kind == "error")
        if failures:
            break
    assert failures > 0
