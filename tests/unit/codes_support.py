"""Fakes and Hypothesis strategies for the code format tests.

The fakes sign with HMAC-SHA512 (64 bytes, like Ed25519) so unit tests need no crypto library;
they are deterministic and any change to a signed byte changes the tag.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from hypothesis import strategies as st

from open12306.inventory.domain.seats import SeatClass
from open12306.travel.domain.codes import (
    CredentialFlags,
    RideCredential,
    ScanHint,
    ScanPart,
    TicketCode,
)

T0 = 1_770_000_000  # 2026-02-02 02:40 UTC


def _tag(secret: bytes, message: bytes) -> bytes:
    return hmac.new(secret, message, hashlib.sha512).digest()


class FakeIssuer:
    """Signs as issuer key ``key_id``."""

    def __init__(self, key_id: int) -> None:
        self.key_id = key_id

    def sign(self, message: bytes) -> bytes:
        return _tag(b"issuer-%d" % self.key_id, message)


class FakeIssuerVerifier:
    """Trusts the fake issuer keys whose ids it was given."""

    def __init__(self, *key_ids: int) -> None:
        self.key_ids = set(key_ids)

    def verify(self, key_id: int, message: bytes, signature: bytes) -> bool:
        if key_id not in self.key_ids:
            return False
        return hmac.compare_digest(_tag(b"issuer-%d" % key_id, message), signature)


class FakeDevice:
    """A device whose 'public key' doubles as its HMAC secret (fine for a fake)."""

    def __init__(self, public_key: bytes) -> None:
        self.public_key = public_key

    def sign(self, message: bytes) -> bytes:
        return _tag(self.public_key, message)


class FakeDeviceVerifier:
    def verify_device(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        return hmac.compare_digest(_tag(public_key, message), signature)


DEVICE_KEY = bytes(range(32))


def a_ticket(**changes: object) -> TicketCode:
    fields: dict[str, object] = {
        "key_id": 7,
        "ticket_no": "E123456789012",
        "train_code": "G1",
        "service_date": date(2026, 2, 10),
        "from_station": "VNP",
        "to_station": "AOH",
        "seat_class": SeatClass.SECOND,
        "coach": 5,
        "seat_label": "07F",
        "passenger_token": b"\x8a" * 16,
        "valid_from": T0,
        "valid_until": T0 + 3600,
    }
    fields.update(changes)
    return TicketCode(**fields)  # type: ignore[arg-type]


def a_credential(**changes: object) -> RideCredential:
    fields: dict[str, object] = {
        "key_id": 7,
        "serial": 2**40 + 5,
        "account_token": b"\x11" * 16,
        "device_public_key": DEVICE_KEY,
        "valid_from": T0,
        "valid_until": T0 + 72 * 3600,
        "flags": CredentialFlags.PAY_LATER | CredentialFlags.FACE_REQUIRED,
        "offline_credit_limit": 50_000,
    }
    fields.update(changes)
    return RideCredential(**fields)  # type: ignore[arg-type]


def _not_id_number(token: bytes) -> bool:
    return not (len(token) in (15, 18) and token[:15].isdigit())


code_text = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=16
)
tokens = st.binary(min_size=1, max_size=32).filter(_not_id_number)
u32 = st.integers(0, 2**32 - 1)
windows = st.tuples(u32, u32).filter(lambda w: w[0] != w[1]).map(sorted)


@st.composite
def tickets(draw: st.DrawFn) -> TicketCode:
    start, end = draw(windows)
    from_station = draw(code_text)
    to_station = draw(code_text.filter(lambda s: s != from_station))
    label = draw(
        st.text(
            alphabet=st.characters(min_codepoint=0x20, blacklist_categories=("Cc", "Cs")),
            max_size=5,
        ).filter(lambda s: len(s.encode()) <= 16)
    )
    return TicketCode(
        key_id=draw(st.integers(0, 0xFFFF)),
        ticket_no=draw(
            st.text(
                alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E),
                min_size=1,
                max_size=24,
            )
        ),
        train_code=draw(code_text),
        service_date=draw(st.dates(date(1970, 1, 1), date(2149, 6, 6))),
        from_station=from_station,
        to_station=to_station,
        seat_class=draw(st.sampled_from(SeatClass)),
        coach=draw(st.integers(0, 255)),
        seat_label=label,
        passenger_token=draw(tokens),
        valid_from=start,
        valid_until=end,
    )


@st.composite
def credentials(draw: st.DrawFn) -> RideCredential:
    start, end = draw(windows)
    return RideCredential(
        key_id=draw(st.integers(0, 0xFFFF)),
        serial=draw(st.integers(0, 2**64 - 1)),
        account_token=draw(tokens),
        device_public_key=draw(st.binary(min_size=32, max_size=32)),
        valid_from=start,
        valid_until=end,
        flags=CredentialFlags(draw(st.integers(0, 7))),
        offline_credit_limit=draw(u32),
    )


scan_parts = st.builds(ScanPart, u32, u32, st.sampled_from(ScanHint))


def flips(data: bytes) -> list[bytes]:
    """Every copy of ``data`` with exactly one byte changed (two ways per position)."""
    out = []
    for pos in range(len(data)):
        for mask in (0x01, 0x80):
            out.append(data[:pos] + bytes([data[pos] ^ mask]) + data[pos + 1 :])
    return out
