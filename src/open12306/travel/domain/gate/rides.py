"""Checks for a ride-code scan: two signatures, validity, freshness, counter, entry/exit."""

from __future__ import annotations

import hashlib

from open12306.travel.domain.codes import (
    CodeError,
    CredentialFlags,
    DeviceVerifier,
    ScanCode,
    open_scan,
)
from open12306.travel.domain.gate.config import GateConfig
from open12306.travel.domain.gate.decision import Decision, reject
from open12306.travel.domain.gate.lists import DenyLists
from open12306.travel.domain.gate.ports import RETIRED, TRUSTED, IssuerKeyring
from open12306.travel.domain.gate.reasons import CodeKind, Direction, ReasonCode
from open12306.travel.domain.gate.state import CounterSeen, Effect, Entered, Exited, GateState

RIDE = CodeKind.RIDE
DIGEST_SIZE = 16


def code_digest(data: bytes) -> bytes:
    """Names one exact code, to tell a replayed code from a reused counter."""
    return hashlib.sha256(data).digest()[:DIGEST_SIZE]


def authenticity_problem(
    scan: ScanCode, keyring: IssuerKeyring, device: DeviceVerifier
) -> tuple[ReasonCode, str] | None:
    """Issuer key trusted, issuer signature over the credential, device signature over all."""
    sealed = scan.credential
    key_id = sealed.value.key_id
    key_state = keyring.state_of(key_id)
    if key_state == RETIRED:
        return ReasonCode.RETIRED_KEY, f"issuer key {key_id} is retired"
    if key_state not in TRUSTED:
        return ReasonCode.UNKNOWN_KEY, f"issuer key {key_id} is not in the bundle"
    if not keyring.verify(key_id, sealed.message, sealed.signature):
        return ReasonCode.BAD_SIGNATURE, "the issuer signature does not verify"
    public_key = sealed.value.device_public_key
    if not device.verify_device(public_key, scan.message, scan.signature):
        return ReasonCode.BAD_SIGNATURE, "the device signature does not verify"
    return None


def timing_problem(scan: ScanCode, now: int, config: GateConfig) -> tuple[ReasonCode, str] | None:
    credential = scan.credential.value
    if now < credential.valid_from - config.skew:
        return ReasonCode.NOT_YET_VALID, "the credential is not valid yet"
    if now > credential.valid_until + config.skew:
        return ReasonCode.EXPIRED, "the credential has expired"
    if abs(now - scan.part.timestamp) > config.scan_validity_seconds + config.skew:
        return ReasonCode.CLOCK_SKEW, f"scan made at {scan.part.timestamp}, gate clock {now}"
    return None


def check_ride(
    data: bytes,
    now: int,
    direction: Direction,
    state: GateState,
    config: GateConfig,
    keyring: IssuerKeyring,
    device: DeviceVerifier,
    deny: DenyLists,
) -> Decision:
    """Decide on a scan code; the first failing check gives the reason."""
    try:
        scan = open_scan(data)
    except CodeError as error:
        return reject(RIDE, ReasonCode.MALFORMED, f"{error.reason}: {error.message}")
    credential = scan.credential.value
    serial, counter = credential.serial, scan.part.counter
    subject = f"serial:{serial}"
    problem = authenticity_problem(scan, keyring, device) or timing_problem(scan, now, config)
    if problem is not None:
        return reject(RIDE, problem[0], problem[1], subject)
    digest = code_digest(data)
    seen = state.counters.get(serial)
    if seen is not None and counter <= seen.counter:
        if counter == seen.counter and digest == seen.digest:
            return reject(RIDE, ReasonCode.REPLAYED, "this code was already used", subject)
        detail = f"counter {counter} is not above {seen.counter}"
        return reject(RIDE, ReasonCode.COUNTER_REPLAY, detail, subject)
    if deny.blocks_ride(credential.account_token, serial):
        return reject(RIDE, ReasonCode.DENY_LISTED, "the account is blocked", subject)
    token = credential.account_token
    entered = state.inside.get(token)
    if entered is not None and now - entered.at > config.inside_expiry_minutes * 60:
        entered = None
    if direction is Direction.ENTRY and entered is not None:
        detail = f"already inside since {entered.at} at {entered.station}"
        return reject(RIDE, ReasonCode.ALREADY_INSIDE, detail, subject)
    notes: tuple[str, ...] = ()
    movement: Effect = Entered(token, now, config.station)
    if direction is Direction.EXIT:
        movement = Exited(token)
        if entered is None:
            notes = ("entry_unknown",)
        elif entered.station == config.station and now - entered.at <= config.cancel_minutes * 60:
            notes = ("cancelled_trip",)
    return Decision(
        True,
        ReasonCode.OK,
        f"ride code {direction}",
        RIDE,
        subject,
        serial=serial,
        counter=counter,
        face_required=bool(credential.flags & CredentialFlags.FACE_REQUIRED),
        notes=notes,
        effects=(CounterSeen(serial, counter, digest, credential.valid_until), movement),
    )
