"""Enrolled face embeddings on the database, and the enrolment service's checks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from open12306.accounts.adapters.accounts_repo import SqlAccountsStore
from open12306.accounts.adapters.embedder import LazyEmbedder
from open12306.accounts.adapters.face import UnavailableMatcher
from open12306.accounts.adapters.faces_repo import SqlFaceStore
from open12306.accounts.services.faces import (
    FaceEnrolment,
    FaceUnavailable,
    pack_embedding,
    unpack_embedding,
)
from open12306.shared.errors import DomainError, NotFound
from tests.conftest import TEST_CIPHER
from tests.integration.test_accounts_repo import NOW, account, passenger

VECTOR = tuple((i - 64) / 100 for i in range(128))
MODEL = "dlib_resnet_v1"


def stores(db_url: str) -> tuple[SqlAccountsStore, SqlFaceStore]:
    accounts = SqlAccountsStore.from_url(db_url, TEST_CIPHER)
    accounts.add_account(account())
    accounts.add_passenger(passenger("p1"), "key-1")
    accounts.add_passenger(passenger("p2", number="E87654321"), "key-2")
    return accounts, SqlFaceStore(accounts.engine)


def test_embeddings_are_stored_replaced_and_forgotten(db_url: str) -> None:
    accounts, faces = stores(db_url)
    faces.save_face("a1", "p1", MODEL, pack_embedding(VECTOR), NOW)
    found = faces.embeddings(["p1", "p2", "nobody"], MODEL)
    assert set(found) == {"p1"}
    assert unpack_embedding(found["p1"]) == pytest.approx(VECTOR, abs=1e-6)
    assert faces.embeddings(["p1"], "another-model") == {}
    newer = tuple(-v for v in VECTOR)
    faces.save_face("a1", "p1", MODEL, pack_embedding(newer), NOW + timedelta(days=1))
    assert unpack_embedding(faces.embeddings(["p1"], MODEL)["p1"]) == pytest.approx(newer, abs=1e-6)
    assert not faces.delete_face("someone-else", "p1")
    assert faces.delete_face("a1", "p1") and faces.embeddings(["p1"], MODEL) == {}
    faces.save_face("a1", "p2", MODEL, pack_embedding(VECTOR), NOW)
    assert accounts.delete_passenger("a1", "p2")
    assert faces.embeddings(["p2"], MODEL) == {}  # gone with the passenger


class Accounts:
    """The one AccountService method enrolment uses: the caller's own passenger, or 404."""

    def passenger(self, caller: object, passenger_id: str) -> object:
        if passenger_id != "p1":
            raise NotFound("passenger", "not_found", "no such passenger")
        return object()


class Faces:
    def __init__(self) -> None:
        self.saved: dict[str, bytes] = {}

    def save_face(self, account_id: str, pid: str, model: str, data: bytes, at: object) -> None:
        self.saved[pid] = data

    def delete_face(self, account_id: str, pid: str) -> bool:
        return self.saved.pop(pid, None) is not None

    def embeddings(self, pids: object, model: str) -> dict[str, bytes]:
        return dict(self.saved)


def enrolment(embed: object) -> tuple[FaceEnrolment, Faces]:
    faces = Faces()
    service = FaceEnrolment(Accounts(), faces, embed, lambda: NOW, MODEL)  # type: ignore[arg-type]
    return service, faces


def test_enrolment_keeps_only_the_embedding() -> None:
    service, faces = enrolment(lambda photo: VECTOR)
    caller = account()
    service.enrol(caller, "p1", b"\xff\xd8photo")
    assert faces.saved == {"p1": pack_embedding(VECTOR)}
    assert service.embeddings(["p1"])["p1"] == pytest.approx(VECTOR, abs=1e-6)
    with pytest.raises(NotFound):
        service.enrol(caller, "p9", b"photo")
    with pytest.raises(DomainError) as empty:
        service.enrol(caller, "p1", b"")
    assert empty.value.reason == "empty"
    assert service.forget(caller, "p1") and not service.forget(caller, "p1")


def test_a_server_without_the_face_extra_answers_503() -> None:
    embed = LazyEmbedder(lambda: UnavailableMatcher("dlib is not installed"))
    service, faces = enrolment(embed)
    with pytest.raises(FaceUnavailable) as info:
        service.enrol(account(), "p1", b"\xff\xd8photo")
    assert (info.value.status, info.value.reason) == (503, "face_unavailable")
    assert "face check unavailable: manual lane" in info.value.message and faces.saved == {}
