"""Benchmark: the offline gate, from a QR image to a decision.

Phases, each given a share of ``seconds``:

- ``image``: PNG bytes → ``read_qr_png`` (Pillow + zxing-cpp) → ``Gate.evaluate`` on a ride scan
  code (213 bytes, QR version 10-M, 4 px per module), per-tap latency p50/p99. Its floor is
  zxing-cpp reading the same image already decoded to grayscale (``zxing_floor``).
- ``verify``: ``Gate.evaluate`` on scan-code bytes with no verification cache (two Ed25519
  verifications per scan) and with the runner's exact-triple cache (the credential's issuer
  signature repeats on every scan of a credential; device signatures are always checked), per
  second on one core; the floor is raw Ed25519 verifications per
  second with ``cryptography`` (``ratio_to_floor`` = scans/s × 2 / verifies/s).

``evaluate`` does not change the gate's memory, so every tap takes the accepted path.
"""

from __future__ import annotations

import base64
import io
import statistics
import time
from collections.abc import Callable
from typing import Any

import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from open12306.bench.steps import Steps, Tell, quiet
from open12306.travel.adapters.gate import DeviceKeyVerifier, GateKeyring
from open12306.travel.adapters.keys import DeviceKey, IssuerSigner
from open12306.travel.adapters.qr import qr_info, qr_png, read_qr_png
from open12306.travel.domain.codes import (
    CredentialFlags,
    RideCredential,
    ScanHint,
    ScanPart,
    seal_credential,
    seal_scan,
)
from open12306.travel.domain.gate import Direction, Gate, GateConfig, GateState

T0 = 1_770_000_000
_BUNDLE_TEMPLATE = (
    '{"algorithm": "Ed25519", "format": "open12306-issuer-keys", "version": 1,'
    ' "keys": [{"id": 1, "state": "current", "public_key": "%s"}]}'
)


def _codes() -> tuple[IssuerSigner, bytes]:
    issuer = IssuerSigner(1, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    device = DeviceKey.from_private_bytes(bytes(range(32, 64)))
    credential = seal_credential(
        RideCredential(
            key_id=1,
            serial=1_099_511_627_781,
            account_token=b"\x11" * 16,
            device_public_key=device.public_key,
            valid_from=T0,
            valid_until=T0 + 259_200,
            flags=CredentialFlags.PAY_LATER,
            offline_credit_limit=50_000,
        ),
        issuer,
    )
    scan = seal_scan(credential, ScanPart(T0 + 120, 42, ScanHint.ENTRY), device)
    return issuer, scan


def _gate(issuer: IssuerSigner, cache_size: int) -> Gate:
    """A gate trusting ``issuer``; ``cache_size`` > 0 remembers issuer verifications only
    (as ``run_gate`` does: device signatures are new on every real scan)."""
    bundle = _BUNDLE_TEMPLATE % base64.b64encode(issuer.public_key).decode()
    keyring = GateKeyring.from_bundle(bundle.encode(), cache_size=cache_size)
    return Gate(GateConfig("VNP"), keyring, DeviceKeyVerifier())


def _timed(action: Callable[[], object], seconds: float, minimum: int = 20) -> list[float]:
    """Run ``action`` repeatedly for ``seconds``; the duration of each call in seconds."""
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(samples) < minimum or time.perf_counter() < deadline:
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def _rate(action: Callable[[], object], seconds: float, batch: int = 200) -> float:
    """Calls per second, counted in batches to keep the timer out of the loop."""
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while done == 0 or time.perf_counter() < deadline:
        for _ in range(batch):
            action()
        done += batch
    return done / (time.perf_counter() - start)


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(seconds: float = 3.0, progress: Tell = quiet) -> dict[str, Any]:
    """Measure for about ``seconds``; latencies in milliseconds, rates per second (one core)."""
    issuer, scan = _codes()
    png = qr_png(scan)
    with Image.open(io.BytesIO(png)) as decoded:
        gray = decoded.convert("L")
    plain, cached = _gate(issuer, 0), _gate(issuer, 4096)
    state = GateState()
    now = T0 + 150
    entry = Direction.ENTRY
    if not plain.evaluate(read_qr_png(png), now, entry, state).accepted:
        raise RuntimeError("the benchmark code is not accepted")
    share = seconds / 5
    steps = Steps(progress, "gate", 5)

    taps = _timed(lambda: plain.evaluate(read_qr_png(png), now, entry, state), share)
    steps.step()
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    floor = _timed(lambda: zxingcpp.read_barcodes(gray, formats=qr_only), share)
    steps.step()
    scans_plain = _rate(lambda: plain.evaluate(scan, now, entry, state), share)
    steps.step()
    scans_cached = _rate(lambda: cached.evaluate(scan, now, entry, state), share)
    public = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64))).public_key()
    message, signature = scan[:-64], scan[-64:]
    verifies = _rate(lambda: public.verify(signature, message), share)

    steps.step()
    steps.step()
    image_p50, floor_p50 = statistics.median(taps), statistics.median(floor)
    info = qr_info(scan)
    return {
        "code_bytes": len(scan),
        "qr": f"version {info.version}-{info.error}, {len(png)} byte PNG",
        "image_to_decision_ms": {
            "p50": round(image_p50 * 1000, 3),
            "p99": round(_percentile(taps, 0.99) * 1000, 3),
            "samples": len(taps),
        },
        "zxing_floor_ms": {
            "p50": round(floor_p50 * 1000, 3),
            "p99": round(_percentile(floor, 0.99) * 1000, 3),
        },
        "image_ratio_to_floor": round(image_p50 / floor_p50, 2),
        "scans_per_s_per_core": round(scans_plain),
        "scans_per_s_per_core_cached": round(scans_cached),
        "ed25519_verifies_per_s_floor": round(verifies),
        "ratio_to_floor": round(scans_plain * 2 / verifies, 3),
    }
