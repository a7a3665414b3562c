"""Moving a gate's files: taps out of its journal in batches, a fresh bundle in.

A gate never takes a bundle for another station or an older one than it holds, and uploads
are idempotent at the receiver (one row per tap id), so repeating a sync changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from open12306.travel.adapters.gate.bundle import BundleError, GateBundle, load_bundle, save_bundle
from open12306.travel.adapters.gate.journal import GateJournal, TapCollector
from open12306.travel.ports import TravelServer

UPLOAD_BATCH = 10_000


def journal_batches(journal: Path, size: int = UPLOAD_BATCH) -> Iterator[list[dict[str, Any]]]:
    """Every tap of the journal, oldest first, ``size`` at a time."""
    with GateJournal(journal, "sync", "-") as source:
        since = 0
        while batch := source.export_taps(since, size):
            yield batch
            since = batch[-1]["seq"]


def upload_to_collector(journal: Path, collector: Path) -> tuple[int, int]:
    """Every tap of the journal into a collector file: (taps sent, taps new there)."""
    sent = new = 0
    with TapCollector(collector) as sink:
        for batch in journal_batches(journal):
            new += sink.receive(batch)
            sent += len(batch)
    return sent, new


def upload_to_server(journal: Path, server: TravelServer) -> tuple[int, int]:
    """Every tap of the journal to the server: (taps sent, tickets the server marked used for
    the first time)."""
    sent = used = 0
    for batch in journal_batches(journal):
        used += server.upload_taps(batch)
        sent += len(batch)
    return sent, used


def bundle_version_at(path: Path) -> int:
    """The version of the bundle at ``path``; 0 when there is none or it does not read."""
    if not path.is_file():
        return 0
    try:
        return load_bundle(path).bundle_version
    except BundleError:
        return 0


def take_bundle(fresh_path: Path, gate_path: Path) -> GateBundle:
    """Install a fresh bundle for the same station, never an older one than the gate holds."""
    fresh = load_bundle(fresh_path)
    if gate_path.is_file():
        held = load_bundle(gate_path)
        if fresh.station != held.station:
            raise BundleError(f"fetch: the bundle is for {fresh.station}, not {held.station}")
        if fresh.bundle_version < held.bundle_version:
            raise BundleError(
                f"fetch: bundle version {fresh.bundle_version} is older than {held.bundle_version}"
            )
    save_bundle(fresh, gate_path)
    return fresh
