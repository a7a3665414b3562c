"""Decoders on hostile input: CodeError or a canonical decode, never any other exception."""

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from open12306.travel.domain.codes import (
    CodeError,
    RideCredential,
    ScanCode,
    ScanHint,
    ScanPart,
    Sealed,
    TicketCode,
    encode_credential,
    encode_scan,
    encode_ticket,
    open_code,
    open_credential,
    open_scan,
    open_ticket,
    seal_credential,
    seal_scan,
    seal_ticket,
)
from tests.unit.codes_support import DEVICE_KEY, FakeDevice, FakeIssuer, a_credential, a_ticket

TICKET = seal_ticket(a_ticket(), FakeIssuer(7))
CREDENTIAL = seal_credential(a_credential(), FakeIssuer(7))
SCAN = seal_scan(CREDENTIAL, ScanPart(5, 6, ScanHint.EXIT), FakeDevice(DEVICE_KEY))
SEEDS = [TICKET, CREDENTIAL, SCAN]
DECODERS: list[Callable[[bytes], object]] = [open_code, open_ticket, open_credential, open_scan]
REASONS = {"truncated", "bad_version", "bad_type", "trailing_bytes", "bad_field"}


def reencode(decoded: object) -> bytes:
    """Encode a decoded code again from its fields alone (plus its signatures)."""
    if isinstance(decoded, ScanCode):
        credential = reencode(decoded.credential)
        return encode_scan(credential, decoded.part) + decoded.signature
    assert isinstance(decoded, Sealed)
    if isinstance(decoded.value, RideCredential):
        return encode_credential(decoded.value) + decoded.signature
    assert isinstance(decoded.value, TicketCode)
    return encode_ticket(decoded.value) + decoded.signature


def check(data: bytes) -> None:
    for decode in DECODERS:
        try:
            decoded = decode(data)
        except CodeError as error:
            assert error.reason in REASONS
            assert error.field
        else:
            assert reencode(decoded) == data


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["set", "insert", "delete", "cut", "append"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "set" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        elif kind == "delete" and data:
            del data[pos : pos + draw(st.integers(1, 4))]
        elif kind == "cut":
            del data[pos:]
        else:
            data += draw(st.binary(min_size=1, max_size=4))
    return bytes(data)


@settings(max_examples=400)
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    check(data)


@settings(max_examples=400)
@given(st.sampled_from([1, 2, 3]), st.binary(max_size=260))
def test_random_bodies_behind_a_valid_header(code_type: int, rest: bytes) -> None:
    check(bytes([1, code_type]) + rest)


@settings(max_examples=600)
@given(mutated())
def test_mutated_valid_codes(data: bytes) -> None:
    check(data)


def test_seeds_decode_and_reencode() -> None:
    for seed in SEEDS:
        assert reencode(open_code(seed)) == seed
