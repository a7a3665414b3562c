"""Face 1:1 check on real photographs (tests/data/faces/README.md says where they come from).

Needs the optional face extra (face_recognition, face_recognition_models, dlib-bin, numpy);
skipped with the reason when it is not installed.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from open12306.accounts.adapters.face import DEFAULT_THRESHOLD, FaceSettings, load_face_matcher
from open12306.accounts.ports import FaceMatcher, FaceReason

FACES = Path(__file__).resolve().parents[1] / "data" / "faces"
_EXTRA = ("numpy", "dlib", "face_recognition_models", "face_recognition")
_MISSING = [name for name in _EXTRA if importlib.util.find_spec(name) is None]

pytestmark = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"face extra not installed (missing {', '.join(_MISSING)}): "
    "pip install -r requirements-face.txt",
)


@pytest.fixture(scope="module")
def matcher() -> FaceMatcher:
    found = load_face_matcher()
    assert found.available, found.compare(b"", b"").message
    return found


def photo(name: str) -> bytes:
    return (FACES / name).read_bytes()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def astronaut() -> bytes:
    """Eileen Collins' head and shoulders: the full picture also shows her mission patch,
    which dlib's detector takes for a second face of the same size."""
    with Image.open(FACES / "astronaut.png") as image:
        return png(image.crop((0, 0, 512, 300)))


def biden_head() -> Image.Image:
    """The top of biden.jpg, so that his face comes out about as large as obama2.jpg's."""
    with Image.open(FACES / "biden.jpg") as image:
        return image.convert("RGB").crop((0, 0, 970, 1400))


def side_by_side(left: str, right: Image.Image, right_scale: float = 1.0) -> bytes:
    """Two real photographs pasted into one frame, as a camera seeing two people would."""
    with Image.open(FACES / left) as opened:
        a = opened.convert("RGB")
    height = round(a.height * right_scale)
    b = right.resize((round(right.width * height / right.height), height))
    frame = Image.new("RGB", (a.width + b.width, a.height), "white")
    frame.paste(a, (0, 0))
    frame.paste(b, (a.width, a.height - b.height))
    return png(frame)


SAME_PERSON = [
    ("obama.jpg", "obama2.jpg"),
    ("obama.jpg", "obama3.jpg"),
    ("obama3.jpg", "obama2.jpg"),
]
DIFFERENT_PEOPLE = [
    ("obama.jpg", "biden.jpg"),
    ("biden.jpg", "obama2.jpg"),
    ("obama3.jpg", "astronaut"),
    ("astronaut", "biden.jpg"),
]


def load(name: str) -> bytes:
    return astronaut() if name == "astronaut" else photo(name)


@pytest.mark.parametrize(("enrolled", "live"), SAME_PERSON)
def test_same_person_is_accepted(matcher: FaceMatcher, enrolled: str, live: str) -> None:
    result = matcher.compare(load(enrolled), load(live))
    assert result.reason is FaceReason.MATCH, result.message
    assert result.match
    assert 0.0 < result.distance <= DEFAULT_THRESHOLD == result.threshold
    assert result.decided


@pytest.mark.parametrize(("enrolled", "live"), DIFFERENT_PEOPLE)
def test_different_person_is_rejected(matcher: FaceMatcher, enrolled: str, live: str) -> None:
    result = matcher.compare(load(enrolled), load(live))
    assert result.reason is FaceReason.NO_MATCH, result.message
    assert not result.match
    # Well clear of face_recognition's documented general cut-off of 0.6, not only of ours.
    assert result.distance > 0.7
    assert "manual lane" in result.message


def test_threshold_is_configurable(matcher: FaceMatcher) -> None:
    strict = load_face_matcher(FaceSettings(threshold=0.2))
    result = strict.compare(photo("obama.jpg"), photo("obama2.jpg"))
    assert result.reason is FaceReason.NO_MATCH
    assert result.threshold == 0.2
    assert result.distance == pytest.approx(
        matcher.compare(photo("obama.jpg"), photo("obama2.jpg")).distance
    )


def test_photo_without_a_face_live(matcher: FaceMatcher) -> None:
    result = matcher.compare(photo("obama.jpg"), photo("rocket.jpg"))
    assert result.reason is FaceReason.NO_FACE_LIVE
    assert not result.match
    assert result.distance == float("inf")
    assert not result.decided


def test_photo_without_a_face_enrolled(matcher: FaceMatcher) -> None:
    result = matcher.compare(photo("rocket.jpg"), photo("obama2.jpg"))
    assert result.reason is FaceReason.NO_FACE_ENROLLED
    assert not result.match


@pytest.mark.parametrize("junk", [b"", b"not an image", photo("obama.jpg")[:2000]])
def test_unreadable_live_image_is_no_face(matcher: FaceMatcher, junk: bytes) -> None:
    result = matcher.compare(photo("obama2.jpg"), junk)
    assert result.reason is FaceReason.NO_FACE_LIVE
    assert not result.match


def test_two_people_in_the_live_image(matcher: FaceMatcher) -> None:
    result = matcher.compare(photo("obama.jpg"), side_by_side("obama2.jpg", biden_head()))
    assert result.reason is FaceReason.SEVERAL_FACES, result.message
    assert not result.match
    assert not result.decided


def test_small_face_in_the_background_is_ignored(matcher: FaceMatcher) -> None:
    live = side_by_side("obama2.jpg", biden_head(), right_scale=0.35)
    result = matcher.compare(photo("obama.jpg"), live)
    assert result.reason is FaceReason.MATCH, result.message


def test_loading_leaves_pillow_settings_alone(matcher: FaceMatcher) -> None:
    # face_recognition sets LOAD_TRUNCATED_IMAGES for the whole process on import.
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_exif_rotation_is_applied(matcher: FaceMatcher) -> None:
    """A phone stores the picture sideways and says so in EXIF; the check must turn it back."""
    with Image.open(FACES / "obama2.jpg") as image:
        sideways = image.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    out = io.BytesIO()
    sideways.save(out, format="JPEG", exif=exif.tobytes())
    tagged = out.getvalue()
    untagged = png(sideways)
    assert matcher.compare(photo("obama.jpg"), tagged).reason is FaceReason.MATCH
    assert matcher.compare(photo("obama.jpg"), untagged).reason is FaceReason.NO_FACE_LIVE
