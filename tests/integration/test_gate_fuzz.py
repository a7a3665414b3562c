"""No false accept: real Ed25519 codes, every single-byte change and 100,000 random mutations.

The gate is the pure ``Gate.evaluate`` with the real keyring and device verifier and no
verification cache, so every mutated code pays for real signature checks.
"""

from __future__ import annotations

import random
import time

from open12306.travel.domain.gate import Direction, GateState
from tests.integration.gate_support import NOW, real_gate, scan, ticket

ENTRY = Direction.ENTRY
MUTATIONS = 100_000


def _every_byte_change(data: bytes) -> list[bytes]:
    """Each position with each single bit flipped, and with all bits flipped."""
    out = []
    for pos in range(len(data)):
        for mask in (1, 2, 4, 8, 16, 32, 64, 128, 255):
            out.append(data[:pos] + bytes([data[pos] ^ mask]) + data[pos + 1 :])
    return out


def _mutate(rng: random.Random, data: bytes, donors: list[bytes]) -> bytes:
    """One random mutation: bit flips, overwrites, cuts, insertions or splices."""
    out = bytearray(data)
    size = len(out)
    choice = rng.randrange(8)
    if choice == 0:
        pos = rng.randrange(size)
        out[pos] ^= 1 << rng.randrange(8)
    elif choice == 1:
        for _ in range(rng.randint(2, 6)):
            out[rng.randrange(size)] = rng.randrange(256)
    elif choice == 2:
        start = rng.randrange(size)
        length = rng.randint(1, 16)
        out[start : start + length] = rng.randbytes(min(length, size - start))
    elif choice == 3:
        del out[rng.randrange(size) :]
    elif choice == 4:
        out += rng.randbytes(rng.randint(1, 8))
    elif choice == 5:
        pos = rng.randrange(size + 1)
        out[pos:pos] = rng.randbytes(rng.randint(1, 4))
    elif choice == 6:
        pos = rng.randrange(size)
        del out[pos : pos + rng.randint(1, 4)]
    else:
        donor = rng.choice(donors)
        cut = rng.randrange(1, min(size, len(donor)))
        out = bytearray(bytes(out[:cut]) + donor[cut:])
    return bytes(out)


def test_the_seed_codes_are_accepted() -> None:
    gate = real_gate()
    assert gate.evaluate(ticket(), NOW, ENTRY, GateState()).accepted
    assert gate.evaluate(scan(), NOW, ENTRY, GateState()).accepted


def test_every_byte_change_of_real_codes_is_refused() -> None:
    gate = real_gate()
    for seed in (ticket(), scan()):
        for changed in _every_byte_change(seed):
            assert not gate.evaluate(changed, NOW, ENTRY, GateState()).accepted, changed.hex()


def test_100k_mutated_codes_give_no_false_accept() -> None:
    gate = real_gate()
    seeds = [ticket(), scan(), scan(counter=2, dev=2), ticket(key_id=6), scan(key_id=8)]
    donors = [*seeds, ticket(ticket_no="E2"), scan(counter=9, dev=3)]
    rng = random.Random(20260210)
    state = GateState()
    reasons: dict[str, int] = {}
    started = time.perf_counter()
    checked = 0
    while checked < MUTATIONS:
        seed = seeds[checked % len(seeds)]
        mutated = _mutate(rng, seed, donors)
        if mutated in donors:
            continue
        decision = gate.evaluate(mutated, NOW, ENTRY, state)
        assert not decision.accepted, mutated.hex()
        reasons[decision.reason] = reasons.get(decision.reason, 0) + 1
        checked += 1
    elapsed = time.perf_counter() - started
    print(f"\n{checked} mutated codes in {elapsed:.1f} s; reasons {sorted(reasons.items())}")
    assert reasons.get("bad_signature", 0) > MUTATIONS // 4  # most reach the signature checks


def test_the_verification_cache_changes_no_decision() -> None:
    plain, cached = real_gate(), real_gate(cache_size=64)
    rng = random.Random(7)
    seeds = [ticket(), scan(), scan(counter=2, dev=2)]
    codes = [_mutate(rng, seeds[i % 3], seeds) for i in range(3000)]
    codes += [scan(counter=n, timestamp=NOW + n) for n in range(1, 200)]  # one credential
    codes += seeds * 3
    plain_state, cached_state = GateState(), GateState()
    for code in codes:
        expected = plain.decide(code, NOW + 100, ENTRY, plain_state)
        got = cached.decide(code, NOW + 100, ENTRY, cached_state)
        assert (got.accepted, got.reason, got.detail) == (
            expected.accepted,
            expected.reason,
            expected.detail,
        )
    assert plain_state == cached_state
