import base64

import pytest

from open12306.accounts.adapters.passwords import ScryptHasher
from open12306.accounts.ports import PasswordHasher

# RFC 7914 §12, third test vector: N = 16384, r = 8, p = 1, 64-byte key.
RFC_SALT = b"SodiumChloride"
RFC_KEY = bytes.fromhex(
    "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
    "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


RFC_ENCODED = f"$scrypt$ln=14,r=8,p=1${b64(RFC_SALT)}${b64(RFC_KEY)}"


def test_rfc_7914_vector_verifies() -> None:
    hasher: PasswordHasher = ScryptHasher()
    assert hasher.verify("pleaseletmein", RFC_ENCODED)
    assert not hasher.verify("pleaseletmeim", RFC_ENCODED)


def test_round_trip_and_salting() -> None:
    hasher = ScryptHasher()
    first = hasher.hash("correct horse 电池 staple")
    second = hasher.hash("correct horse 电池 staple")
    assert first.startswith("$scrypt$ln=14,r=8,p=1$")
    assert first != second
    assert hasher.verify("correct horse 电池 staple", first)
    assert hasher.verify("correct horse 电池 staple", second)
    assert not hasher.verify("correct horse 电池 stapl", first)
    assert not hasher.verify("", first)


def test_injected_randomness_gives_the_documented_layout() -> None:
    hasher = ScryptHasher(random_bytes=lambda n: RFC_SALT[:n] + bytes(max(0, n - 14)))
    encoded = hasher.hash("pleaseletmein")
    _, name, params, salt, digest = encoded.split("$")
    assert (name, params) == ("scrypt", "ln=14,r=8,p=1")
    assert base64.b64decode(salt + "==") == RFC_SALT + bytes(2)
    assert len(base64.b64decode(digest + "=")) == 32


def test_needs_rehash_when_parameters_change() -> None:
    weak = ScryptHasher(log_n=10)
    strong = ScryptHasher()
    old = weak.hash("pw")
    assert strong.verify("pw", old)  # still accepted: parameters come from the hash
    assert strong.needs_rehash(old)
    assert not weak.needs_rehash(old)
    assert not strong.needs_rehash(strong.hash("pw"))
    assert ScryptHasher(hash_bytes=64).needs_rehash(strong.hash("pw"))
    assert strong.needs_rehash("plain-text-password")


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "pw",
        "$2b$12$abcdefghijklmnopqrstuv",
        "$scrypt$ln=14,r=8,p=1$c2FsdHNhbHQ$",
        "$scrypt$ln=14,r=8,p=1$c2FsdHNhbHQ$!!!!",
        "$scrypt$ln=14,r=8,p=1$c2FsdHNhbHQ$AAAA",  # 3-byte hash
        "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHQ$" + "A" * 43,  # absurd cost
        "$scrypt$ln=20,r=32,p=1$c2FsdHNhbHQ$" + "A" * 43,  # 4 GiB of memory
        RFC_ENCODED + "\n",
    ],
)
def test_malformed_hashes_never_verify(encoded: str) -> None:
    hasher = ScryptHasher()
    assert not hasher.verify("pw", encoded)
    assert hasher.needs_rehash(encoded)


@pytest.mark.parametrize(
    "kwargs",
    [{"log_n": 0}, {"log_n": 21}, {"r": 0}, {"p": 17}, {"salt_bytes": 8}, {"hash_bytes": 8}],
)
def test_unsafe_parameters_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        ScryptHasher(**kwargs)  # type: ignore[arg-type]
