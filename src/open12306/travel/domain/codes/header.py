"""The two bytes every code starts with: format version and code type."""

from __future__ import annotations

from enum import IntEnum

from open12306.travel.domain.codes.errors import BAD_TYPE, BAD_VERSION, CodeError
from open12306.travel.domain.codes.wire import Reader, Writer

FORMAT_VERSION = 1
HEADER_SIZE = 2


class CodeType(IntEnum):
    """What a code is; the second byte of every code."""

    TICKET = 0x01
    CREDENTIAL = 0x02
    SCAN = 0x03


def write_header(writer: Writer, code_type: CodeType) -> Writer:
    return writer.u8(FORMAT_VERSION).u8(code_type)


def read_header(reader: Reader, expected: CodeType | None = None) -> CodeType:
    """Read and check version and type; ``expected`` None accepts any known type."""
    version = reader.u8("version")
    if version != FORMAT_VERSION:
        raise CodeError(BAD_VERSION, f"format version {version} is not supported", "version")
    raw_type = reader.u8("type")
    try:
        code_type = CodeType(raw_type)
    except ValueError:
        raise CodeError(BAD_TYPE, f"code type 0x{raw_type:02x} is unknown", "type") from None
    if expected is not None and code_type is not expected:
        raise CodeError(
            BAD_TYPE,
            f"expected a {expected.name.lower()} code, got {code_type.name.lower()}",
            "type",
        )
    return code_type


def peek_type(data: bytes) -> CodeType:
    """The type of a code, after checking its version; reads nothing else."""
    return read_header(Reader(data[:HEADER_SIZE]))
