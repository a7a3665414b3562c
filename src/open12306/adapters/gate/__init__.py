"""The offline gate's files: its bundle, its journal (taps and replay memory), its runner."""

from open12306.adapters.gate.bundle import (
    BundleError,
    GateBundle,
    dumps_bundle,
    issuer_section,
    load_bundle,
    loads_bundle,
    save_bundle,
)
from open12306.adapters.gate.journal import GateJournal, TapCollector
from open12306.adapters.gate.keyring import DeviceKeyVerifier, GateKeyring
from open12306.adapters.gate.runner import GateResult, run_gate

__all__ = [
    "BundleError",
    "DeviceKeyVerifier",
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
    "save_bundle",
]
