import pytest
from hypothesis import given, settings

from open12306.travel.domain.codes import (
    CodeError,
    CodeType,
    CredentialFlags,
    RideCredential,
    encode_credential,
    open_credential,
    seal_credential,
    seal_ticket,
    verify_credential,
)
from open12306.travel.domain.codes.wire import Writer
from tests.unit.codes_support import (
    DEVICE_KEY,
    FakeIssuer,
    FakeIssuerVerifier,
    a_credential,
    a_ticket,
    credentials,
    flips,
)

ISSUER = FakeIssuer(7)
GATE = FakeIssuerVerifier(6, 7, 8)
CODE = seal_credential(a_credential(), ISSUER)


def reason(data: bytes) -> tuple[str, str]:
    with pytest.raises(CodeError) as caught:
        open_credential(data)
    return caught.value.reason, caught.value.field


def test_fixed_layout_and_size() -> None:
    assert CODE[:4] == bytes([1, CodeType.CREDENTIAL, 0, 7])
    assert CODE[4:12] == (2**40 + 5).to_bytes(8, "big")
    assert CODE[12] == 16  # account token length
    assert CODE[29:61] == DEVICE_KEY
    assert len(CODE) == 74 + 64


def test_round_trip_and_verification() -> None:
    sealed = open_credential(CODE)
    assert sealed.value == a_credential()
    assert sealed.data == CODE
    assert verify_credential(CODE, GATE).flags == (
        CredentialFlags.PAY_LATER | CredentialFlags.FACE_REQUIRED
    )


@settings(max_examples=150)
@given(credentials())
def test_any_valid_credential_round_trips_canonically(credential: RideCredential) -> None:
    code = seal_credential(credential, FakeIssuer(credential.key_id))
    sealed = open_credential(code)
    assert sealed.value == credential
    assert encode_credential(sealed.value) == sealed.message
    assert verify_credential(code, FakeIssuerVerifier(credential.key_id)) == credential


def test_flipping_any_single_byte_fails_verification() -> None:
    for mutated in flips(CODE):
        with pytest.raises(CodeError):
            verify_credential(mutated, GATE)


def test_unknown_key_is_rejected() -> None:
    with pytest.raises(CodeError) as caught:
        verify_credential(CODE, FakeIssuerVerifier(8))
    assert caught.value.reason == "bad_signature"


def test_every_proper_prefix_is_truncated() -> None:
    for size in range(len(CODE)):
        assert reason(CODE[:size])[0] == "truncated"


def test_structural_faults_have_their_own_reasons() -> None:
    assert reason(CODE + b"\x00\x00") == ("trailing_bytes", "code")
    assert reason(b"\x02" + CODE[1:]) == ("bad_version", "version")
    assert reason(CODE[:1] + b"\x00" + CODE[2:]) == ("bad_type", "type")
    assert reason(seal_ticket(a_ticket(), ISSUER)) == ("bad_type", "type")


def body(token: bytes = b"\x01" * 16, flags: int = 0, window: tuple[int, int] = (1, 2)) -> bytes:
    w = Writer().u8(1).u8(2).u16(7).u64(1).short_bytes(token).raw(DEVICE_KEY)
    return w.u32(window[0]).u32(window[1]).u8(flags).u32(0).getvalue() + bytes(64)


def test_hand_written_body_decodes() -> None:
    assert open_credential(body(flags=0x07)).value.flags == CredentialFlags(7)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (body(flags=0x08), "flags"),
        (body(flags=0x80), "flags"),
        (body(token=b""), "account_token"),
        (body(token=b"110105194912310021"), "account_token"),
        (body(token=b"110105491231002"), "account_token"),
        (body(window=(5, 5)), "valid_until"),
        (body(window=(6, 5)), "valid_until"),
    ],
)
def test_out_of_range_fields_are_bad_fields(data: bytes, field: str) -> None:
    assert reason(data) == ("bad_field", field)


def test_long_token_shifts_the_rest_and_is_rejected() -> None:
    assert reason(body(token=b"\x01" * 33))[1] == "account_token"


@pytest.mark.parametrize(
    "changes",
    [
        {"device_public_key": bytes(31)},
        {"device_public_key": bytes(33)},
        {"serial": 2**64},
        {"offline_credit_limit": -1},
        {"offline_credit_limit": 2**32},
        {"flags": 3},
        {"valid_from": True},
    ],
)
def test_encoder_refuses_invalid_credentials(changes: dict[str, object]) -> None:
    with pytest.raises(CodeError) as caught:
        a_credential(**changes)
    assert caught.value.reason == "bad_field"
    assert caught.value.field in changes
