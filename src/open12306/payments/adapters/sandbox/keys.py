"""RSA keys and SHA256withRSA signatures, as both Alipay (RSA2) and WeChat Pay v3 use them."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from open12306.shared.document_keys import create_once

PrivateKey = rsa.RSAPrivateKey
PublicKey = rsa.RSAPublicKey


def generate_key() -> PrivateKey:
    """A fresh 2048-bit RSA key (the size both channels require)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: PrivateKey) -> str:
    """PKCS#8 PEM, the form both SDKs load."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_pem(key: PrivateKey | PublicKey) -> str:
    """SubjectPublicKeyInfo PEM."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public(pem: str) -> PublicKey:
    """Load a PEM public key; the bare base64 body (as consoles show it) is accepted too."""
    text = pem.strip()
    if not text.startswith("-----BEGIN"):
        text = f"-----BEGIN PUBLIC KEY-----\n{text}\n-----END PUBLIC KEY-----"
    key = serialization.load_pem_public_key(text.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def load_private(pem: str) -> PrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def load_or_create(path: Path) -> PrivateKey:
    """The key stored at ``path``, created (mode 0600) when missing. Processes starting at once
    (server workers) agree on one key: the first file written whole wins."""
    if not path.exists():
        create_once(path, private_pem(generate_key()))
    return load_private(path.read_text(encoding="ascii"))


def sign(key: PrivateKey, message: str) -> str:
    """Base64 SHA256withRSA (PKCS#1 v1.5) over the UTF-8 bytes of ``message``."""
    raw = key.sign(message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


def verify(key: PublicKey, message: str, signature: str) -> bool:
    """True when ``signature`` (base64) is a SHA256withRSA signature of ``message``."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        key.verify(raw, message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
