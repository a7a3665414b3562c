import pytest
from hypothesis import given, settings

from open12306.travel.domain.codes import (
    CodeError,
    CodeType,
    RideCredential,
    ScanHint,
    ScanPart,
    encode_scan,
    open_code,
    open_scan,
    seal_credential,
    seal_scan,
    verify_scan,
)
from open12306.travel.domain.codes.wire import Writer
from tests.unit.codes_support import (
    DEVICE_KEY,
    T0,
    FakeDevice,
    FakeDeviceVerifier,
    FakeIssuer,
    FakeIssuerVerifier,
    a_credential,
    credentials,
    flips,
    scan_parts,
)

ISSUER = FakeIssuer(7)
GATE = FakeIssuerVerifier(6, 7, 8)
DEVICES = FakeDeviceVerifier()
CREDENTIAL = seal_credential(a_credential(), ISSUER)
PART = ScanPart(T0 + 120, 42, ScanHint.ENTRY)
CODE = seal_scan(CREDENTIAL, PART, FakeDevice(DEVICE_KEY))


def reason(data: bytes) -> tuple[str, str]:
    with pytest.raises(CodeError) as caught:
        open_scan(data)
    return caught.value.reason, caught.value.field


def test_layout_embeds_the_whole_credential() -> None:
    assert CODE[:2] == bytes([1, CodeType.SCAN])
    assert CODE[2 : 2 + len(CREDENTIAL)] == CREDENTIAL
    tail = CODE[2 + len(CREDENTIAL) : -64]
    assert tail == (T0 + 120).to_bytes(4, "big") + (42).to_bytes(4, "big") + b"\x01"


def test_whole_scan_code_stays_near_200_bytes() -> None:
    # 213 bytes is the byte-mode capacity of a version 10 QR code at level M.
    assert len(CODE) == 213
    longest = seal_credential(a_credential(account_token=b"\x01" * 32), ISSUER)
    assert len(seal_scan(longest, PART, FakeDevice(DEVICE_KEY))) == 229


def test_round_trip_and_both_signatures_verify() -> None:
    scan = verify_scan(CODE, GATE, DEVICES)
    assert scan.part == PART
    assert scan.credential.value == a_credential()
    assert scan.credential.data == CREDENTIAL
    assert scan.data == CODE
    assert open_code(CODE) == scan


@settings(max_examples=100)
@given(credentials(), scan_parts)
def test_any_scan_round_trips_canonically(credential: RideCredential, part: ScanPart) -> None:
    sealed = seal_credential(credential, FakeIssuer(credential.key_id))
    code = seal_scan(sealed, part, FakeDevice(credential.device_public_key))
    scan = verify_scan(code, FakeIssuerVerifier(credential.key_id), DEVICES)
    assert (scan.credential.value, scan.part) == (credential, part)
    assert encode_scan(sealed, part) == scan.message


def test_flipping_any_single_byte_fails_verification() -> None:
    for mutated in flips(CODE):
        with pytest.raises(CodeError):
            verify_scan(mutated, GATE, DEVICES)


def test_scan_signed_by_another_device_is_rejected() -> None:
    stolen = seal_scan(CREDENTIAL, PART, FakeDevice(bytes(32)))
    with pytest.raises(CodeError) as caught:
        verify_scan(stolen, GATE, DEVICES)
    assert (caught.value.reason, str(caught.value)) == (
        "bad_signature",
        "the device signature does not verify",
    )


def test_credential_from_unknown_issuer_key_is_rejected() -> None:
    with pytest.raises(CodeError) as caught:
        verify_scan(CODE, FakeIssuerVerifier(8), DEVICES)
    assert str(caught.value) == "the issuer signature does not verify"


def test_every_proper_prefix_is_truncated() -> None:
    for size in range(len(CODE)):
        assert reason(CODE[:size])[0] == "truncated"


def test_structural_faults_have_their_own_reasons() -> None:
    assert reason(CODE + b"\x00") == ("trailing_bytes", "code")
    assert reason(b"\x00" + CODE[1:]) == ("bad_version", "version")
    assert reason(CODE[:1] + b"\x04" + CODE[2:]) == ("bad_type", "type")
    assert reason(CREDENTIAL) == ("bad_type", "type")


def scan_bytes(credential: bytes, hint: int = 1) -> bytes:
    w = Writer().u8(1).u8(3).raw(credential).u32(1).u32(2).u8(hint)
    return w.getvalue() + bytes(64)


def test_hand_written_scan_decodes() -> None:
    assert open_scan(scan_bytes(CREDENTIAL, hint=2)).part == ScanPart(1, 2, ScanHint.EXIT)


def test_unknown_hint_is_a_bad_field() -> None:
    assert reason(scan_bytes(CREDENTIAL, hint=3)) == ("bad_field", "hint")


def test_a_credential_of_the_wrong_length_shifts_the_scan_fields_out_of_place() -> None:
    assert reason(scan_bytes(CREDENTIAL + b"\x00")) == ("trailing_bytes", "code")
    assert reason(scan_bytes(CREDENTIAL[:-1])) == ("truncated", "signature")


def test_a_malformed_inner_credential_is_reported() -> None:
    assert reason(scan_bytes(b"\x02" + CREDENTIAL[1:])) == ("bad_version", "version")


def test_encoder_only_wraps_well_formed_credentials() -> None:
    with pytest.raises(CodeError):
        seal_scan(CREDENTIAL[:-1], PART, FakeDevice(DEVICE_KEY))


@pytest.mark.parametrize("fields", [(-1, 0, ScanHint.ENTRY), (0, 2**32, ScanHint.ENTRY), (0, 0, 1)])
def test_invalid_scan_parts_are_refused(fields: tuple[int, int, ScanHint]) -> None:
    with pytest.raises(CodeError) as caught:
        ScanPart(*fields)
    assert caught.value.reason == "bad_field"
