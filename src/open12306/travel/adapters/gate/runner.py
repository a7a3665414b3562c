"""Run a gate over QR images or ID numbers: read, decide, check the face if asked, journal.

This is what ``open12306 gate ...`` drives: the gate's camera is replaced by PNG files and its
face camera by a photo (``face_image``). When a decision asks for a face check (the passenger
enrolled a face, so the bundle carries the embedding for that ticket), the live photo is
compared 1:1 with that embedding; anything but a match refuses the tap (reason ``face_…``)
and sends the passenger to the manual lane, and the ticket is not marked used. Without the
optional face extra the check answers ``face check unavailable: manual lane``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from open12306.accounts.adapters.face import (
    DlibFaceMatcher,
    UnavailableMatcher,
    load_embedding_matcher,
)
from open12306.accounts.ports import MANUAL_LANE, FaceReason, FaceResult, refused
from open12306.travel.adapters.gate.bundle import GateBundle, load_bundle
from open12306.travel.adapters.gate.journal import GateJournal
from open12306.travel.adapters.gate.keyring import DeviceKeyVerifier
from open12306.travel.adapters.qr import QrReadError, read_qr_png
from open12306.travel.domain.gate import (
    CodeKind,
    Decision,
    Direction,
    Gate,
    GateState,
    ReasonCode,
)

VERIFY_CACHE = 4096
FACE_KINDS = frozenset({CodeKind.TICKET, CodeKind.ID_DOCUMENT})
FaceLoader = Callable[[], DlibFaceMatcher | UnavailableMatcher]


@dataclass(frozen=True, slots=True)
class GateResult:
    """One tap's outcome: the decision, the tap id it was journaled under and, when the
    decision asked for one, the face check (a failed check turns the decision into a refusal).
    """

    image: Path
    decision: Decision
    tap_id: str
    face: FaceResult | None = None
    # the bundle was built without the booking database: revoked tickets are not refused
    bundle_keys_only: bool = False

    @property
    def reason(self) -> str:
        """The decision's reason, or ``face_<reason>`` when the face check refused the tap."""
        if self.face is not None and not self.face.match:
            return f"face_{self.face.reason}"
        return str(self.decision.reason)


class FaceLane:
    """The gate's face camera: a live photo and a matcher loaded only when first needed."""

    def __init__(self, live_image: Path | None, loader: FaceLoader = load_embedding_matcher):
        self.live_image = live_image
        self._loader = loader
        self._matcher: DlibFaceMatcher | UnavailableMatcher | None = None

    def check(self, bundle: GateBundle, ticket_no: str) -> FaceResult:
        enrolled = bundle.faces.get(ticket_no)
        if enrolled is None:
            message = f"no enrolled face in the bundle for {ticket_no}; {MANUAL_LANE}"
            return refused(FaceReason.NO_FACE_ENROLLED, message)
        if self._matcher is None:
            self._matcher = self._loader()
        if isinstance(self._matcher, UnavailableMatcher):
            return self._matcher.compare_embedding(enrolled, b"")
        if self.live_image is None:
            message = f"a face check is required and no live image was taken; {MANUAL_LANE}"
            return refused(FaceReason.NO_FACE_LIVE, message)
        try:
            live = self.live_image.read_bytes()
        except OSError as error:
            message = f"live image unreadable ({error.strerror}); {MANUAL_LANE}"
            return refused(FaceReason.NO_FACE_LIVE, message)
        return self._matcher.compare_embedding(enrolled, live)


def _images(image_or_folder: Path) -> list[Path]:
    if image_or_folder.is_dir():
        return sorted(p for p in image_or_folder.iterdir() if p.suffix.lower() == ".png")
    return [image_or_folder]


def _gate(bundle: GateBundle, gate_id: str) -> Gate:
    return Gate(
        bundle.config(gate_id),
        bundle.keyring(VERIFY_CACHE),
        DeviceKeyVerifier(),
        bundle.deny,
        bundle.manifest,
    )


def _with_face(
    decision: Decision, bundle: GateBundle, lane: FaceLane
) -> tuple[Decision, FaceResult | None]:
    # Ride codes carry the face flag in the credential; their accounts' faces are not in the
    # bundle, so for them face_required stays advisory (reported, not checked here).
    if not (decision.accepted and decision.face_required and decision.kind in FACE_KINDS):
        return decision, None
    face = lane.check(bundle, decision.subject)
    if face.match:
        return dataclasses.replace(decision, notes=(*decision.notes, "face_match")), face
    refusal = dataclasses.replace(
        decision,
        accepted=False,
        detail=face.message,
        notes=(*decision.notes, f"face_{face.reason}"),
        effects=(),
    )
    return refusal, face


def _journal(
    journal: GateJournal,
    state: GateState,
    decision: Decision,
    face: FaceResult | None,
    code: bytes,
    clock: int,
    role: Direction,
) -> str:
    state.apply_all(decision.effects)
    reason = None if face is None or face.match else f"face_{face.reason}"
    return journal.record(decision, code, clock, role, reason=reason)


def run_gate(
    bundle_path: Path | str,
    journal_path: Path | str,
    image_or_folder: Path | str,
    direction: Direction | str,
    now: int | None = None,
    gate_id: str = "gate-1",
    face: FaceLane | None = None,
) -> list[GateResult]:
    """Decide on one PNG or every ``*.png`` in a folder (by name), journaling each tap.

    ``now`` is the gate clock in unix seconds (default: the system clock, read per image).
    The journal's replay memory is loaded first, so runs continue where the last one ended.
    ``face`` is the face camera (default: none, so a required face check refuses the tap).
    """
    bundle = load_bundle(bundle_path)
    gate = _gate(bundle, gate_id)
    lane = face if face is not None else FaceLane(None)
    role = Direction(direction)
    results = []
    with GateJournal(journal_path, gate_id, gate.config.station) as journal:
        state = journal.load_state()
        for image in _images(Path(image_or_folder)):
            clock = int(time.time()) if now is None else now
            checked = None
            try:
                code = read_qr_png(image)
            except (QrReadError, OSError) as error:
                code = b""
                decision = Decision(False, ReasonCode.UNREADABLE, str(error), CodeKind.UNKNOWN)
            else:
                found = gate.evaluate(code, clock, role, state)
                decision, checked = _with_face(found, bundle, lane)
            tap_id = _journal(journal, state, decision, checked, code, clock, role)
            results.append(GateResult(image, decision, tap_id, checked, bundle.keys_only))
    return results


def run_gate_id(
    bundle_path: Path | str,
    journal_path: Path | str,
    number: str,
    direction: Direction | str,
    now: int | None = None,
    gate_id: str = "gate-1",
    face: FaceLane | None = None,
) -> GateResult:
    """Decide on an ID number read at the gate (the ID-card lane), against the manifest.

    The number itself is never journaled: the tap names the ticket it admitted, if any."""
    bundle = load_bundle(bundle_path)
    gate = _gate(bundle, gate_id)
    lane = face if face is not None else FaceLane(None)
    role = Direction(direction)
    clock = int(time.time()) if now is None else now
    with GateJournal(journal_path, gate_id, gate.config.station) as journal:
        state = journal.load_state()
        decision, checked = _with_face(gate.evaluate_id(number, clock, role, state), bundle, lane)
        tap_id = _journal(journal, state, decision, checked, b"", clock, role)
    return GateResult(Path(f"id-{mask(number)}"), decision, tap_id, checked, bundle.keys_only)


def mask(number: str) -> str:
    """An ID number as a gate may show it: all but the last four characters hidden."""
    return "*" * max(0, len(number) - 4) + number[-4:]
