"""The offline station gate: decide on ticket codes, ride codes and ID numbers.

Pure: the caller passes the time, the keyring (an Ed25519 adapter) and the gate's memory.
See docs/ride-codes.md §7 for the checks and their order.
"""

from open12306.travel.domain.gate.config import GateConfig
from open12306.travel.domain.gate.decision import Decision
from open12306.travel.domain.gate.gate import Gate
from open12306.travel.domain.gate.lists import DenyLists
from open12306.travel.domain.gate.manifest import (
    Manifest,
    ManifestRun,
    ManifestTicket,
    document_hash,
    normalize_document,
)
from open12306.travel.domain.gate.ports import IssuerKeyring
from open12306.travel.domain.gate.reasons import CodeKind, Direction, ReasonCode
from open12306.travel.domain.gate.rides import code_digest
from open12306.travel.domain.gate.state import (
    CounterSeen,
    Effect,
    Entered,
    Exited,
    GateState,
    TicketUsed,
)

__all__ = [
    "CodeKind",
    "CounterSeen",
    "Decision",
    "DenyLists",
    "Direction",
    "Effect",
    "Entered",
    "Exited",
    "Gate",
    "GateConfig",
    "GateState",
    "IssuerKeyring",
    "Manifest",
    "ManifestRun",
    "ManifestTicket",
    "ReasonCode",
    "TicketUsed",
    "code_digest",
    "document_hash",
    "normalize_document",
]
