"""The face port: a 1:1 check of a live face against the passenger's enrolled document photo.

A gate asks it only when a decision says ``face_required``. The answer is never an exception: a
matcher that cannot run (the optional ``open12306[face]`` extra is not installed) answers
``unavailable`` and the gate sends the passenger to the manual lane, as it does for any face
the check cannot confirm.

``distance`` is the Euclidean distance between the two face embeddings (smaller is more alike);
it is ``math.inf`` whenever no comparison took place (no face, several faces, unavailable).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class FaceReason(StrEnum):
    """Why a face check came out as it did. Values are stable: journals store them."""

    MATCH = "match"
    NO_MATCH = "no_match"
    NO_FACE_ENROLLED = "no_face_enrolled"
    NO_FACE_LIVE = "no_face_live"
    SEVERAL_FACES = "several_faces"
    UNAVAILABLE = "unavailable"


MANUAL_LANE = "use the manual lane: staff compare the passenger with the document"


@dataclass(frozen=True, slots=True)
class FaceResult:
    """The outcome of one comparison: ``match`` opens the gate, anything else does not.

    ``threshold`` is the distance at or below which the matcher accepts; ``message`` says in
    words what happened and what the gate should do next.
    """

    match: bool
    distance: float
    reason: FaceReason
    message: str = ""
    threshold: float = math.nan

    @property
    def decided(self) -> bool:
        """False when the check could not compare at all: no face, several faces, no matcher.

        Either way only ``match`` opens the gate; the rest go to the manual lane.
        """
        return self.reason in (FaceReason.MATCH, FaceReason.NO_MATCH)


def refused(reason: FaceReason, message: str, threshold: float = math.nan) -> FaceResult:
    """A result where no comparison happened (the distance is infinite)."""
    if reason in (FaceReason.MATCH, FaceReason.NO_MATCH):
        raise ValueError(f"{reason} needs a measured distance")
    return FaceResult(False, math.inf, reason, message, threshold)


class FaceMatcher(Protocol):
    """Compares the face in ``live_image`` with the one in ``enrolled_image``.

    Both images are encoded files (JPEG, PNG, ...) as bytes. Implementations never raise for
    bad input: an unreadable or faceless image gives ``no_face_enrolled`` / ``no_face_live``.
    """

    @property
    def available(self) -> bool:
        """False for a matcher that can only answer ``unavailable``."""
        ...

    def compare(self, enrolled_image: bytes, live_image: bytes) -> FaceResult:
        """Compare the two faces; see :class:`FaceResult`."""
        ...
