"""Ed25519 for the gate: the issuer keyring from a bundle, and device-key verification.

Verifications may be remembered, but only for the exact (key, message, signature) triple that
verified: Ed25519 verification is a pure function of that triple, so the cache never changes
an answer. It pays off for the issuer signature of a credential, which is the same on every
scan a rider makes for a day or more.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from open12306.travel.adapters.keys import BundleVerifier, KeyState

CACHE_SIZE = 4096


class _VerifiedCache:
    """A bounded set of triples that verified (least recently used ones leave first)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._seen: OrderedDict[tuple[bytes, bytes, bytes], None] = OrderedDict()

    def __contains__(self, triple: tuple[bytes, bytes, bytes]) -> bool:
        if self._size <= 0 or triple not in self._seen:
            return False
        self._seen.move_to_end(triple)
        return True

    def add(self, triple: tuple[bytes, bytes, bytes]) -> None:
        if self._size <= 0:
            return
        self._seen[triple] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)


class GateKeyring:
    """The issuer keys a gate trusts (previous/current/next) and the ids it knows are retired.

    Satisfies ``open12306.travel.domain.gate.IssuerKeyring``.
    """

    def __init__(
        self, verifier: BundleVerifier, retired_ids: Iterable[int] = (), cache_size: int = 0
    ) -> None:
        self._verifier = verifier
        self._retired = frozenset(retired_ids)
        self._cache = _VerifiedCache(cache_size)

    @classmethod
    def from_bundle(
        cls, issuer_bundle: bytes, retired_ids: Iterable[int] = (), cache_size: int = 0
    ) -> GateKeyring:
        return cls(BundleVerifier.from_bundle(issuer_bundle), retired_ids, cache_size)

    def state_of(self, key_id: int) -> str | None:
        state = self._verifier.state_of(key_id)
        if state is None and key_id in self._retired:
            return str(KeyState.RETIRED)
        return None if state is None else str(state)

    def verify(self, key_id: int, message: bytes, signature: bytes) -> bool:
        triple = (key_id.to_bytes(2, "big"), message, signature)
        if triple in self._cache:
            return True
        valid = self._verifier.verify(key_id, message, signature)
        if valid:
            self._cache.add(triple)
        return valid


class DeviceKeyVerifier:
    """Device signatures (the ``DeviceVerifier`` port), with the same exact-triple cache."""

    def __init__(self, cache_size: int = 0) -> None:
        self._cache = _VerifiedCache(cache_size)

    def verify_device(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        triple = (public_key, message, signature)
        if triple in self._cache:
            return True
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        self._cache.add(triple)
        return True
