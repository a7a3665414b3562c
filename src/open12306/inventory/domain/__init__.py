"""The segment inventory of one run: seat masks, pattern pools, allocation, quotas, standing."""

from open12306.inventory.domain.codec import decode as decode_state
from open12306.inventory.domain.codec import encode as encode_state
from open12306.inventory.domain.inventory import RunInventory
from open12306.inventory.domain.masks import free_gaps, gap_around, range_mask
from open12306.inventory.domain.quotas import Quota
from open12306.inventory.domain.requests import (
    MAX_PARTY,
    Allocation,
    Request,
    SoldOut,
    Strategy,
)
from open12306.inventory.domain.state import InventoryState

__all__ = [
    "MAX_PARTY",
    "Allocation",
    "InventoryState",
    "Quota",
    "Request",
    "RunInventory",
    "SoldOut",
    "Strategy",
    "decode_state",
    "encode_state",
    "free_gaps",
    "gap_around",
    "range_mask",
]
