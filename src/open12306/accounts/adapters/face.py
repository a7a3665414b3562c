"""Face 1:1 check on ``face_recognition`` (dlib's ResNet embeddings), the ``open12306[face]`` extra.

The weights ship inside ``face_recognition_models`` (nothing is downloaded); dlib comes from the
prebuilt ``dlib-bin`` wheel. Without the extra, :func:`load_face_matcher` returns an
:class:`UnavailableMatcher` that answers ``unavailable``: callers never see an ImportError.

Each image is decoded with Pillow (EXIF rotation applied), shrunk so that its longer side is at
most ``max_side`` pixels, searched for faces with dlib's HOG detector, and the face is turned into
a 128-number embedding. Two faces match when the embeddings are at most ``threshold`` apart.
face_recognition documents 0.6 as its general-purpose cut-off; a gate that opens on a match
should err towards refusing (a refusal only means the manual lane), so the default is 0.5.
On this project's test photographs the same person lies 0.335-0.435 apart and different people
0.8 or more (tests/integration/test_face.py).
"""

from __future__ import annotations

import importlib
import io
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from open12306.accounts.ports import MANUAL_LANE, FaceMatcher, FaceReason, FaceResult, refused

DEFAULT_THRESHOLD = 0.5
FACE_EXTRA_HINT = "install the face extra: pip install 'open12306[face]'"

EMBEDDING_SIZE = 128
UNAVAILABLE_LINE = "face check unavailable: manual lane"

# A box is (top, right, bottom, left), as face_recognition returns them.
Box = tuple[int, int, int, int]
# 128 numbers describing one face; what enrolment stores and gate bundles carry, never a photo.
Embedding = tuple[float, ...]


class FaceImageError(Exception):
    """An image gave no embedding: ``reason`` says why (no face, several, no matcher)."""

    def __init__(self, reason: FaceReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class FaceSettings:
    """How strict and how thorough the check is.

    ``min_face_ratio``: a second face counts (``several_faces``) only when its box is at least
    this fraction of the largest box's area, so a small face far behind the passenger is ignored.
    ``upsample`` lets the detector find smaller faces at the cost of time; ``jitters`` re-samples
    each face that many times when embedding it (slower, slightly steadier).
    """

    threshold: float = DEFAULT_THRESHOLD
    max_side: int = 1024
    upsample: int = 1
    min_face_ratio: float = 0.5
    jitters: int = 1

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 2.0:
            raise ValueError(f"threshold must lie in (0, 2), got {self.threshold}")
        if self.max_side < 64:
            raise ValueError(f"max_side must be at least 64 pixels, got {self.max_side}")
        if not 0 <= self.upsample <= 3:
            raise ValueError(f"upsample must lie in 0..3, got {self.upsample}")
        if not 0.0 < self.min_face_ratio <= 1.0:
            raise ValueError(f"min_face_ratio must lie in (0, 1], got {self.min_face_ratio}")
        if self.jitters < 1:
            raise ValueError(f"jitters must be at least 1, got {self.jitters}")


class UnavailableMatcher:
    """Stands in when the face extra is missing: every check answers ``unavailable``."""

    def __init__(self, cause: str) -> None:
        self.cause = cause

    @property
    def available(self) -> bool:
        return False

    def compare(self, enrolled_image: bytes, live_image: bytes) -> FaceResult:
        return refused(FaceReason.UNAVAILABLE, self._message())

    def compare_embedding(self, enrolled: Sequence[float], live_image: bytes) -> FaceResult:
        return refused(FaceReason.UNAVAILABLE, self._message())

    def embed(self, image: bytes) -> Embedding:
        raise FaceImageError(FaceReason.UNAVAILABLE, self._message())

    def _message(self) -> str:
        return f"{UNAVAILABLE_LINE} ({self.cause}); {MANUAL_LANE}; {FACE_EXTRA_HINT}"


class _NoFace(Exception):
    """The image could not be read or holds no usable face (message says which)."""


class _SeveralFaces(Exception):
    """The image holds more than one face of comparable size."""


class DlibFaceMatcher:
    """Compares two photographs with face_recognition's embeddings (see the module docstring)."""

    def __init__(self, engine: ModuleType, numpy: ModuleType, settings: FaceSettings) -> None:
        self._fr = engine
        self._np = numpy
        self.settings = settings

    @property
    def available(self) -> bool:
        return True

    def compare(self, enrolled_image: bytes, live_image: bytes) -> FaceResult:
        threshold = self.settings.threshold
        sides = (
            (enrolled_image, FaceReason.NO_FACE_ENROLLED, "enrolled photo"),
            (live_image, FaceReason.NO_FACE_LIVE, "live image"),
        )
        embeddings = []
        for data, no_face, label in sides:
            try:
                embeddings.append(self._embed(data))
            except _NoFace as exc:
                return refused(no_face, f"{label}: {exc}; {MANUAL_LANE}", threshold)
            except _SeveralFaces as exc:
                message = f"{label}: {exc}; {MANUAL_LANE}"
                return refused(FaceReason.SEVERAL_FACES, message, threshold)
        distance = float(self._np.linalg.norm(embeddings[0] - embeddings[1]))
        if distance <= threshold:
            message = f"same person (distance {distance:.3f} <= {threshold})"
            return FaceResult(True, distance, FaceReason.MATCH, message, threshold)
        message = f"different person (distance {distance:.3f} > {threshold}); {MANUAL_LANE}"
        return FaceResult(False, distance, FaceReason.NO_MATCH, message, threshold)

    def embed(self, image: bytes) -> Embedding:
        """The embedding of the one face in ``image`` (FaceImageError when there is none)."""
        try:
            return tuple(float(x) for x in self._embed(image))
        except _NoFace as exc:
            raise FaceImageError(FaceReason.NO_FACE_LIVE, f"{exc}") from None
        except _SeveralFaces as exc:
            raise FaceImageError(FaceReason.SEVERAL_FACES, f"{exc}") from None

    def compare_embedding(self, enrolled: Sequence[float], live_image: bytes) -> FaceResult:
        """Like ``compare``, against a stored embedding instead of an enrolled photo."""
        threshold = self.settings.threshold
        if len(enrolled) != EMBEDDING_SIZE:
            message = f"enrolled embedding: {len(enrolled)} numbers, not {EMBEDDING_SIZE}"
            return refused(FaceReason.NO_FACE_ENROLLED, f"{message}; {MANUAL_LANE}", threshold)
        try:
            live = self._embed(live_image)
        except _NoFace as exc:
            message = f"live image: {exc}; {MANUAL_LANE}"
            return refused(FaceReason.NO_FACE_LIVE, message, threshold)
        except _SeveralFaces as exc:
            message = f"live image: {exc}; {MANUAL_LANE}"
            return refused(FaceReason.SEVERAL_FACES, message, threshold)
        distance = float(self._np.linalg.norm(self._np.asarray(enrolled) - live))
        return self._verdict(distance)

    def _verdict(self, distance: float) -> FaceResult:
        threshold = self.settings.threshold
        if distance <= threshold:
            message = f"same person (distance {distance:.3f} <= {threshold})"
            return FaceResult(True, distance, FaceReason.MATCH, message, threshold)
        message = f"different person (distance {distance:.3f} > {threshold}); {MANUAL_LANE}"
        return FaceResult(False, distance, FaceReason.NO_MATCH, message, threshold)

    def _embed(self, data: bytes) -> Any:
        pixels = self._np.asarray(_decode(data, self.settings.max_side))
        boxes = self._fr.face_locations(pixels, number_of_times_to_upsample=self.settings.upsample)
        box = _single_face(boxes, self.settings.min_face_ratio)
        found = self._fr.face_encodings(pixels, [box], num_jitters=self.settings.jitters)
        if not found:
            raise _NoFace("the face could not be measured")
        return found[0]


def _decode(data: bytes, max_side: int) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise _NoFace(f"not a readable image ({type(exc).__name__})") from exc
    longer = max(image.size)
    if longer > max_side:
        scale = max_side / longer
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image


def _area(box: Box) -> int:
    top, right, bottom, left = box
    return max(0, bottom - top) * max(0, right - left)


def _single_face(boxes: list[Box], min_face_ratio: float) -> Box:
    if not boxes:
        raise _NoFace("no face found")
    ranked = sorted(boxes, key=_area, reverse=True)
    largest = _area(ranked[0])
    rivals = [box for box in ranked[1:] if _area(box) >= min_face_ratio * largest]
    if rivals:
        raise _SeveralFaces(f"{1 + len(rivals)} faces of similar size")
    return ranked[0]


def load_face_matcher(
    settings: FaceSettings | None = None,
    importer: Callable[[str], ModuleType] = importlib.import_module,
) -> FaceMatcher:
    """The real matcher when the face extra imports, else an :class:`UnavailableMatcher`.

    ``face_recognition_models`` is imported before ``face_recognition`` because the latter ends
    the process (``quit()``) when it cannot import its models; the models package in turn needs
    ``pkg_resources`` (setuptools < 82). ``importer`` is replaceable for tests.
    """
    chosen = settings or FaceSettings()
    modules: dict[str, ModuleType] = {}
    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        for name in ("numpy", "dlib", "face_recognition_models", "face_recognition"):
            try:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
                    modules[name] = importer(name)
            except ImportError as exc:
                return UnavailableMatcher(f"{exc.name or name} is not installed")
            except (RuntimeError, OSError, SystemExit) as exc:
                return UnavailableMatcher(f"{name} failed to load: {exc or type(exc).__name__}")
    finally:
        # face_recognition switches this on for the whole process when imported.
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated
    return DlibFaceMatcher(modules["face_recognition"], modules["numpy"], chosen)


def face_extra_installed() -> bool:
    """Whether :func:`load_face_matcher` would return the real matcher."""
    return load_face_matcher().available


def load_embedding_matcher(
    settings: FaceSettings | None = None,
    importer: Callable[[str], ModuleType] = importlib.import_module,
) -> DlibFaceMatcher | UnavailableMatcher:
    """:func:`load_face_matcher`, typed for embedding work (``embed``, ``compare_embedding``)."""
    found = load_face_matcher(settings, importer)
    if isinstance(found, (DlibFaceMatcher, UnavailableMatcher)):
        return found
    raise TypeError(f"unexpected matcher {type(found).__name__}")
