"""A compact byte form of ``InventoryState`` for storage.

Format (version 1), all integers little-endian:

====================  ======================================================================
bytes                 meaning
====================  ======================================================================
4                     magic ``b"I12K"``
1                     format version (1)
1                     segments S (1..63)
1                     mask width w = ceil(S / 8) bytes
1                     reserved, 0
4                     seat count n (u32)
4                     standing record count m (u32)
n * w                 sold-segment mask of each seat, seat 0 first
n * w                 piece-start mask of each seat
m * 8                 standing records: class (u8, position in ``CLASS_ORDER``), from stop
                      (u8), to stop (u8), reserved (u8, 0), places (u32)
4                     CRC-32 of everything before it
====================  ======================================================================

1,200 seats on 22 segments take 7,224 bytes plus standing; mostly zeros early in a sale, so a
storage layer may compress it further.
"""

from __future__ import annotations

import struct
import zlib

from open12306.inventory.domain.masks import MAX_SEGMENTS
from open12306.inventory.domain.seats import CLASS_ORDER
from open12306.inventory.domain.state import InventoryState
from open12306.shared.errors import DomainError

MAGIC = b"I12K"
VERSION = 1
_HEADER = struct.Struct("<4sBBBBII")
_STANDING = struct.Struct("<BBBBI")
_CRC = struct.Struct("<I")


def encode(state: InventoryState) -> bytes:
    """The bytes of ``state``."""
    width = (state.segments + 7) // 8
    parts = [
        _HEADER.pack(
            MAGIC, VERSION, state.segments, width, 0, len(state.masks), len(state.standing)
        )
    ]
    parts.append(_pack_masks(state.masks, width))
    parts.append(_pack_masks(state.starts, width))
    for seat_class, i, j, places in state.standing:
        parts.append(_STANDING.pack(CLASS_ORDER.index(seat_class), i, j, 0, places))
    body = b"".join(parts)
    return body + _CRC.pack(zlib.crc32(body))


def _pack_masks(masks: tuple[int, ...], width: int) -> bytes:
    """``width`` little-endian bytes per mask: packed as 8-byte integers, then the low
    ``width`` bytes of each taken with strided slices (C loops, not one call per seat)."""
    wide = struct.pack(f"<{len(masks)}Q", *masks)
    if width == 8:
        return wide
    out = bytearray(len(masks) * width)
    for byte in range(width):
        out[byte::width] = wide[byte::8]
    return bytes(out)


def _unpack_masks(data: bytes, count: int, width: int) -> tuple[int, ...]:
    wide = bytearray(count * 8)
    for byte in range(width):
        wide[byte::8] = data[byte::width]
    return struct.unpack(f"<{count}Q", wide)


def _corrupt(message: str) -> DomainError:
    return DomainError("state", "corrupt", message)


def decode(data: bytes) -> InventoryState:
    """The state in ``data``; raises DomainError (reason ``corrupt``) on any malformed input."""
    if len(data) < _HEADER.size + _CRC.size:
        raise _corrupt("inventory state too short")
    body, (crc,) = data[: -_CRC.size], _CRC.unpack(data[-_CRC.size :])
    if zlib.crc32(body) != crc:
        raise _corrupt("inventory state checksum mismatch")
    magic, version, segments, width, _, seats, records = _HEADER.unpack_from(body)
    if magic != MAGIC or version != VERSION:
        raise _corrupt("not an inventory state of a known version")
    if not 1 <= segments <= MAX_SEGMENTS or width != (segments + 7) // 8:
        raise _corrupt("bad segment count")
    if len(body) != _HEADER.size + 2 * seats * width + records * _STANDING.size:
        raise _corrupt("inventory state length does not match its header")
    offset = _HEADER.size
    masks = _unpack_masks(body[offset : offset + seats * width], seats, width)
    offset += seats * width
    starts = _unpack_masks(body[offset : offset + seats * width], seats, width)
    offset += seats * width
    standing = []
    for _k in range(records):
        code, i, j, _, places = _STANDING.unpack_from(body, offset)
        offset += _STANDING.size
        if code >= len(CLASS_ORDER):
            raise _corrupt("unknown seat class in standing record")
        standing.append((CLASS_ORDER[code], i, j, places))
    return InventoryState(segments, masks, starts, tuple(standing))
