"""The offline gate's files: its bundle, its journal (taps and replay memory), its runner."""

from open12306.travel.adapters.gate.bundle import (
    BundleError,
    GateBundle,
    dumps_bundle,
    issuer_section,
    load_bundle,
    loads_bundle,
    save_bundle,
)
from open12306.travel.adapters.gate.journal import GateJournal, TapCollector
from open12306.travel.adapters.gate.keyring import DeviceKeyVerifier, GateKeyring
from open12306.travel.adapters.gate.runner import FaceLane, GateResult, run_gate, run_gate_id

__all__ = [
    "BundleError",
    "DeviceKeyVerifier",
    "FaceLane",
    "GateBundle",
    "GateJournal",
    "GateKeyring",
    "GateResult",
    "TapCollector",
    "dumps_bundle",
    "issuer_section",
    "load_bundle",
    "loads_bundle",
    "run_gate",
    "run_gate_id",
    "save_bundle",
]
