"""Without the face extra the check answers ``unavailable`` and points to the manual lane."""

from __future__ import annotations

import importlib.util
import math
from types import ModuleType

import pytest

from open12306.accounts.adapters.face import (
    FaceSettings,
    UnavailableMatcher,
    load_face_matcher,
)
from open12306.accounts.ports import FaceReason, FaceResult, refused


class Importer:
    """Imports nothing: fails at ``failing`` with ``error`` and records what was asked for."""

    def __init__(self, failing: str, error: BaseException) -> None:
        self.failing = failing
        self.error = error
        self.asked: list[str] = []

    def __call__(self, name: str) -> ModuleType:
        self.asked.append(name)
        if name == self.failing:
            raise self.error
        return ModuleType(name)


def assert_unavailable(result: FaceResult) -> None:
    assert result.reason is FaceReason.UNAVAILABLE
    assert not result.match
    assert math.isinf(result.distance)
    assert not result.decided
    assert "manual lane" in result.message
    assert "open12306[face]" in result.message


@pytest.mark.parametrize(
    "missing", ["numpy", "dlib", "face_recognition_models", "face_recognition"]
)
def test_missing_module_gives_the_unavailable_matcher(missing: str) -> None:
    importer = Importer(missing, ModuleNotFoundError(f"No module named {missing!r}", name=missing))
    matcher = load_face_matcher(importer=importer)
    assert isinstance(matcher, UnavailableMatcher)
    assert not matcher.available
    result = matcher.compare(b"enrolled", b"live")
    assert_unavailable(result)
    assert f"{missing} is not installed" in result.message


def test_models_are_checked_before_face_recognition_is_imported() -> None:
    # face_recognition calls quit() when its models are missing: it must not be reached.
    importer = Importer("face_recognition_models", ModuleNotFoundError(name="pkg_resources"))
    matcher = load_face_matcher(importer=importer)
    assert "face_recognition" not in importer.asked
    assert "pkg_resources is not installed" in matcher.compare(b"", b"").message


@pytest.mark.parametrize(
    "error", [SystemExit(None), RuntimeError("unsupported CPU"), OSError("libdlib.so")]
)
def test_a_module_that_fails_to_load_does_not_escape(error: BaseException) -> None:
    matcher = load_face_matcher(importer=Importer("face_recognition", error))
    assert not matcher.available
    result = matcher.compare(b"", b"")
    assert_unavailable(result)
    assert "face_recognition failed to load" in result.message


def test_all_modules_importing_gives_a_working_matcher() -> None:
    importer = Importer("none", ImportError())
    matcher = load_face_matcher(FaceSettings(threshold=0.45), importer=importer)
    assert matcher.available
    assert importer.asked == ["numpy", "dlib", "face_recognition_models", "face_recognition"]


def test_refused_result_cannot_claim_a_verdict() -> None:
    with pytest.raises(ValueError, match="distance"):
        refused(FaceReason.MATCH, "no")
    assert not refused(FaceReason.SEVERAL_FACES, "two").match


def test_only_a_comparison_is_a_decision() -> None:
    assert FaceResult(True, 0.3, FaceReason.MATCH).decided
    assert FaceResult(False, 0.9, FaceReason.NO_MATCH).decided
    assert not FaceResult(False, math.inf, FaceReason.NO_FACE_LIVE).decided


@pytest.mark.parametrize(
    "settings",
    [
        {"threshold": 0.0},
        {"threshold": 2.0},
        {"max_side": 32},
        {"upsample": 4},
        {"min_face_ratio": 0.0},
        {"min_face_ratio": 1.5},
        {"jitters": 0},
    ],
)
def test_settings_out_of_range_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        FaceSettings(**settings)  # type: ignore[arg-type]


@pytest.mark.skipif(
    all(importlib.util.find_spec(name) for name in ("numpy", "dlib", "face_recognition")),
    reason="the face extra is installed here, so the real loader finds it",
)
def test_real_loader_without_the_extra_is_unavailable_not_an_error() -> None:
    matcher = load_face_matcher()
    assert not matcher.available
    assert_unavailable(matcher.compare(b"enrolled", b"live"))
