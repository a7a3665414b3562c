"""Face embeddings for enrolment: the matcher loaded on first use, its refusals as domain errors."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from open12306.accounts.adapters.face import (
    DlibFaceMatcher,
    FaceImageError,
    UnavailableMatcher,
    load_embedding_matcher,
)
from open12306.accounts.ports import FaceReason
from open12306.accounts.services.faces import FaceUnavailable
from open12306.shared.errors import DomainError

FACE_MODEL = "dlib_resnet_v1"
_REASONS = {
    FaceReason.NO_FACE_LIVE: "no_face",
    FaceReason.NO_FACE_ENROLLED: "no_face",
    FaceReason.SEVERAL_FACES: "several_faces",
}


class LazyEmbedder:
    """Loads the face matcher on first use (dlib takes a while) and turns its refusals into
    DomainErrors: ``no_face`` / ``several_faces`` (400), ``face_unavailable`` (503)."""

    def __init__(
        self,
        loader: Callable[[], DlibFaceMatcher | UnavailableMatcher] = load_embedding_matcher,
    ) -> None:
        self._loader = loader
        self._matcher: DlibFaceMatcher | UnavailableMatcher | None = None
        self._lock = threading.Lock()

    def __call__(self, photo: bytes) -> Sequence[float]:
        with self._lock:
            if self._matcher is None:
                self._matcher = self._loader()
            matcher = self._matcher
        try:
            return matcher.embed(photo)
        except FaceImageError as error:
            if error.reason is FaceReason.UNAVAILABLE:
                raise FaceUnavailable("face", "face_unavailable", error.message) from None
            reason = _REASONS.get(error.reason, "no_face")
            raise DomainError("photo", reason, f"photo: {error.message}") from None
