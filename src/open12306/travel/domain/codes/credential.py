"""Ride credentials: fetched online, signed by the issuer, binding a device key to an account."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag

from open12306.travel.domain.codes.errors import bad_field
from open12306.travel.domain.codes.fields import (
    check_exact_bytes,
    check_token,
    check_uint,
    check_window,
)
from open12306.travel.domain.codes.header import CodeType, read_header, write_header
from open12306.travel.domain.codes.sealed import Sealed, read_signature, require, sign
from open12306.travel.domain.codes.signing import PUBLIC_KEY_SIZE, Signer, Verifier
from open12306.travel.domain.codes.wire import U16_MAX, U32_MAX, U64_MAX, Reader, Writer


class CredentialFlags(IntFlag):
    """What the holder may do; bits not defined here must be zero."""

    NONE = 0
    PAY_LATER = 0x01
    CONCESSION = 0x02
    FACE_REQUIRED = 0x04


_KNOWN_FLAGS = int(CredentialFlags.PAY_LATER | CredentialFlags.CONCESSION)
_KNOWN_FLAGS |= int(CredentialFlags.FACE_REQUIRED)


@dataclass(frozen=True, slots=True)
class RideCredential:
    """An issuer's statement that ``device_public_key`` may sign scans for ``account_token``.

    Valid from ``valid_from`` up to ``valid_until`` (unix seconds). ``offline_credit_limit``
    (fen) bounds what a rider may owe from taps made while nothing was online.
    """

    key_id: int
    serial: int
    account_token: bytes
    device_public_key: bytes
    valid_from: int
    valid_until: int
    flags: CredentialFlags
    offline_credit_limit: int

    def __post_init__(self) -> None:
        check_uint("key_id", self.key_id, U16_MAX)
        check_uint("serial", self.serial, U64_MAX)
        check_token("account_token", self.account_token)
        check_exact_bytes("device_public_key", self.device_public_key, PUBLIC_KEY_SIZE)
        check_uint("valid_from", self.valid_from, U32_MAX)
        check_uint("valid_until", self.valid_until, U32_MAX)
        check_window("valid_from", self.valid_from, "valid_until", self.valid_until)
        if not isinstance(self.flags, CredentialFlags) or int(self.flags) & ~_KNOWN_FLAGS:
            raise bad_field("flags", "has bits that are not defined")
        check_uint("offline_credit_limit", self.offline_credit_limit, U32_MAX)


def encode_credential(credential: RideCredential) -> bytes:
    """The signed part of a credential (everything but the issuer signature)."""
    writer = write_header(Writer(), CodeType.CREDENTIAL)
    writer.u16(credential.key_id).u64(credential.serial)
    writer.short_bytes(credential.account_token).raw(credential.device_public_key)
    writer.u32(credential.valid_from).u32(credential.valid_until)
    writer.u8(int(credential.flags)).u32(credential.offline_credit_limit)
    return writer.getvalue()


def seal_credential(credential: RideCredential, signer: Signer) -> bytes:
    """The complete credential: body and the issuer's signature (key ``credential.key_id``)."""
    return sign(encode_credential(credential), signer)


def _read_body(reader: Reader) -> RideCredential:
    read_header(reader, CodeType.CREDENTIAL)
    key_id = reader.u16("key_id")
    serial = reader.u64("serial")
    account_token = reader.short_bytes("account_token")
    device_public_key = reader.take(PUBLIC_KEY_SIZE, "device_public_key")
    valid_from = reader.u32("valid_from")
    valid_until = reader.u32("valid_until")
    raw_flags = reader.u8("flags")
    if raw_flags & ~_KNOWN_FLAGS:
        raise bad_field("flags", f"0x{raw_flags:02x} has bits that are not defined")
    return RideCredential(
        key_id=key_id,
        serial=serial,
        account_token=account_token,
        device_public_key=device_public_key,
        valid_from=valid_from,
        valid_until=valid_until,
        flags=CredentialFlags(raw_flags),
        offline_credit_limit=reader.u32("offline_credit_limit"),
    )


def read_sealed_credential(reader: Reader, data: bytes) -> Sealed[RideCredential]:
    start = reader.position
    credential = _read_body(reader)
    message, signature = read_signature(reader, start, data)
    return Sealed(credential, message, signature)


def open_credential(data: bytes) -> Sealed[RideCredential]:
    """Decode a credential without checking its signature."""
    data = bytes(data)
    reader = Reader(data)
    sealed = read_sealed_credential(reader, data)
    reader.end()
    return sealed


def verify_credential(data: bytes, verifier: Verifier) -> RideCredential:
    """Decode a credential and check the issuer signature; raises CodeError otherwise."""
    sealed = open_credential(data)
    require(verifier.verify(sealed.value.key_id, sealed.message, sealed.signature), "issuer")
    return sealed.value
