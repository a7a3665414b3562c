"""Big-endian primitives of the code format: a bounds-checked reader and a writer.

Every integer is unsigned and big-endian (network order). Variable-length fields carry a
one-byte length prefix. The reader raises only :class:`CodeError`.
"""

from __future__ import annotations

import struct

from open12306.travel.domain.codes.errors import (
    TRAILING_BYTES,
    TRUNCATED,
    CodeError,
    bad_field,
)

_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")

U16_MAX = 0xFFFF
U32_MAX = 0xFFFF_FFFF
U64_MAX = 0xFFFF_FFFF_FFFF_FFFF


class Reader:
    """Reads fields off a byte string front to back; every read checks the bounds."""

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)
        self._pos = 0

    @property
    def position(self) -> int:
        return self._pos

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def take(self, size: int, field: str) -> bytes:
        end = self._pos + size
        if end > len(self._data):
            raise CodeError(
                TRUNCATED,
                f"{field}: needs {size} bytes at offset {self._pos}, "
                f"only {len(self._data) - self._pos} left",
                field,
            )
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def u8(self, field: str) -> int:
        return int(_U8.unpack(self.take(1, field))[0])

    def u16(self, field: str) -> int:
        return int(_U16.unpack(self.take(2, field))[0])

    def u32(self, field: str) -> int:
        return int(_U32.unpack(self.take(4, field))[0])

    def u64(self, field: str) -> int:
        return int(_U64.unpack(self.take(8, field))[0])

    def short_bytes(self, field: str) -> bytes:
        """A one-byte length followed by that many bytes."""
        return self.take(self.u8(field), field)

    def short_text(self, field: str) -> str:
        """A one-byte length followed by that many bytes of UTF-8."""
        raw = self.short_bytes(field)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise bad_field(field, "is not valid UTF-8") from None

    def end(self) -> None:
        """Require that every byte has been read."""
        if self._pos != len(self._data):
            raise CodeError(
                TRAILING_BYTES,
                f"{len(self._data) - self._pos} unexpected bytes after offset {self._pos}",
            )


class Writer:
    """Appends fields; values are assumed already validated by the code's dataclass."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def u8(self, value: int) -> Writer:
        self._parts.append(_U8.pack(value))
        return self

    def u16(self, value: int) -> Writer:
        self._parts.append(_U16.pack(value))
        return self

    def u32(self, value: int) -> Writer:
        self._parts.append(_U32.pack(value))
        return self

    def u64(self, value: int) -> Writer:
        self._parts.append(_U64.pack(value))
        return self

    def raw(self, value: bytes) -> Writer:
        self._parts.append(bytes(value))
        return self

    def short_bytes(self, value: bytes) -> Writer:
        return self.u8(len(value)).raw(value)

    def short_text(self, value: str) -> Writer:
        return self.short_bytes(value.encode("utf-8"))

    def getvalue(self) -> bytes:
        return b"".join(self._parts)
