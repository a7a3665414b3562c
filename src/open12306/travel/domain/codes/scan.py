"""Per-scan codes: a credential plus a fresh part signed on the phone by the device key."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from open12306.travel.domain.codes.credential import (
    RideCredential,
    open_credential,
    read_sealed_credential,
)
from open12306.travel.domain.codes.errors import bad_field
from open12306.travel.domain.codes.fields import check_uint
from open12306.travel.domain.codes.header import CodeType, read_header, write_header
from open12306.travel.domain.codes.sealed import Sealed, read_signature, require, sign
from open12306.travel.domain.codes.signing import DeviceVerifier, Signer, Verifier
from open12306.travel.domain.codes.wire import U32_MAX, Reader, Writer


class ScanHint(IntEnum):
    """What the rider's app believes this scan is; the gate's own role decides."""

    UNSPECIFIED = 0
    ENTRY = 1
    EXIT = 2


@dataclass(frozen=True, slots=True)
class ScanPart:
    """The fields the device adds for each code it shows.

    ``timestamp`` is the phone's clock (unix seconds); ``counter`` increases with every code
    the device makes for one credential, so a gate can refuse a replayed or older code.
    """

    timestamp: int
    counter: int
    hint: ScanHint = ScanHint.UNSPECIFIED

    def __post_init__(self) -> None:
        check_uint("timestamp", self.timestamp, U32_MAX)
        check_uint("counter", self.counter, U32_MAX)
        if not isinstance(self.hint, ScanHint):
            raise bad_field("hint", "must be a ScanHint")


@dataclass(frozen=True, slots=True)
class ScanCode:
    """A decoded scan code. ``signature`` (device key) covers every byte of ``message``."""

    credential: Sealed[RideCredential]
    part: ScanPart
    message: bytes
    signature: bytes

    @property
    def data(self) -> bytes:
        return self.message + self.signature


def encode_scan(credential_code: bytes, part: ScanPart) -> bytes:
    """The device-signed part of a scan code: header, the whole credential, the scan fields.

    The credential is not length-prefixed: its own layout says where it ends.
    """
    open_credential(credential_code)  # only well-formed credentials are wrapped
    writer = write_header(Writer(), CodeType.SCAN).raw(credential_code)
    writer.u32(part.timestamp).u32(part.counter).u8(part.hint)
    return writer.getvalue()


def seal_scan(credential_code: bytes, part: ScanPart, device: Signer) -> bytes:
    """The complete scan code, signed with the device's private key."""
    return sign(encode_scan(credential_code, part), device)


def open_scan(data: bytes) -> ScanCode:
    """Decode a scan code without checking either signature."""
    data = bytes(data)
    reader = Reader(data)
    read_header(reader, CodeType.SCAN)
    credential = read_sealed_credential(reader, data)  # self-delimiting: no length prefix
    timestamp = reader.u32("timestamp")
    counter = reader.u32("counter")
    raw_hint = reader.u8("hint")
    try:
        hint = ScanHint(raw_hint)
    except ValueError:
        raise bad_field("hint", f"{raw_hint} is not a known hint") from None
    message, signature = read_signature(reader, 0, data)
    reader.end()
    return ScanCode(credential, ScanPart(timestamp, counter, hint), message, signature)


def verify_scan(data: bytes, issuer: Verifier, device: DeviceVerifier) -> ScanCode:
    """Decode a scan code and check the issuer's and the device's signatures."""
    scan = open_scan(data)
    credential = scan.credential
    require(
        issuer.verify(credential.value.key_id, credential.message, credential.signature),
        "issuer",
    )
    require(
        device.verify_device(credential.value.device_public_key, scan.message, scan.signature),
        "device",
    )
    return scan
