"""Run a gate over QR images: read each PNG, decide, journal the tap.

This is what ``open12306 gate ...`` drives: the gate's camera is replaced by PNG files.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from open12306.adapters.gate.bundle import load_bundle
from open12306.adapters.gate.journal import GateJournal
from open12306.adapters.gate.keyring import DeviceKeyVerifier
from open12306.adapters.qr import QrReadError, read_qr_png
from open12306.domain.gate import CodeKind, Decision, Direction, Gate, ReasonCode

VERIFY_CACHE = 4096


@dataclass(frozen=True, slots=True)
class GateResult:
    """One image's outcome: the decision and the tap id it was journaled under."""

    image: Path
    decision: Decision
    tap_id: str


def _images(image_or_folder: Path) -> list[Path]:
    if image_or_folder.is_dir():
        return sorted(p for p in image_or_folder.iterdir() if p.suffix.lower() == ".png")
    return [image_or_folder]


def run_gate(
    bundle_path: Path | str,
    journal_path: Path | str,
    image_or_folder: Path | str,
    direction: Direction | str,
    now: int | None = None,
    gate_id: str = "gate-1",
) -> list[GateResult]:
    """Decide on one PNG or every ``*.png`` in a folder (by name), journaling each tap.

    ``now`` is the gate clock in unix seconds (default: the system clock, read per image).
    The journal's replay memory is loaded first, so runs continue where the last one ended.
    """
    bundle = load_bundle(bundle_path)
    config = bundle.config(gate_id)
    gate = Gate(
        config,
        bundle.keyring(VERIFY_CACHE),
        DeviceKeyVerifier(),
        bundle.deny,
        bundle.manifest,
    )
    role = Direction(direction)
    results = []
    with GateJournal(journal_path, gate_id, config.station) as journal:
        state = journal.load_state()
        for image in _images(Path(image_or_folder)):
            clock = int(time.time()) if now is None else now
            try:
                code = read_qr_png(image)
            except (QrReadError, OSError) as error:
                code = b""
                decision = Decision(False, ReasonCode.UNREADABLE, str(error), CodeKind.UNKNOWN)
            else:
                decision = gate.decide(code, clock, role, state)
            tap_id = journal.record(decision, code, clock, role)
            results.append(GateResult(image, decision, tap_id))
    return results
