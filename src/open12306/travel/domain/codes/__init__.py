"""Binary ticket and ride code formats (version 1); see docs/ride-codes.md.

Pure: encoding, decoding and strict validation. Signatures go through the ``Signer``,
``Verifier`` and ``DeviceVerifier`` ports; adapters supply Ed25519.
"""

from open12306.travel.domain.codes.credential import (
    CredentialFlags,
    RideCredential,
    encode_credential,
    open_credential,
    seal_credential,
    verify_credential,
)
from open12306.travel.domain.codes.errors import CodeError
from open12306.travel.domain.codes.header import FORMAT_VERSION, CodeType, peek_type
from open12306.travel.domain.codes.reading import AnyCode, open_code
from open12306.travel.domain.codes.scan import (
    ScanCode,
    ScanHint,
    ScanPart,
    encode_scan,
    open_scan,
    seal_scan,
    verify_scan,
)
from open12306.travel.domain.codes.sealed import Sealed
from open12306.travel.domain.codes.signing import (
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    DeviceVerifier,
    Signer,
    Verifier,
)
from open12306.travel.domain.codes.ticket import (
    TicketCode,
    encode_ticket,
    open_ticket,
    seal_ticket,
    verify_ticket,
)

__all__ = [
    "FORMAT_VERSION",
    "PUBLIC_KEY_SIZE",
    "SIGNATURE_SIZE",
    "AnyCode",
    "CodeError",
    "CodeType",
    "CredentialFlags",
    "DeviceVerifier",
    "RideCredential",
    "ScanCode",
    "ScanHint",
    "ScanPart",
    "Sealed",
    "Signer",
    "TicketCode",
    "Verifier",
    "encode_credential",
    "encode_scan",
    "encode_ticket",
    "open_code",
    "open_credential",
    "open_scan",
    "open_ticket",
    "peek_type",
    "seal_credential",
    "seal_scan",
    "seal_ticket",
    "verify_credential",
    "verify_scan",
    "verify_ticket",
]
