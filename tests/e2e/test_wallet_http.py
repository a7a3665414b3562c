"""``open12306 wallet`` gets its ride credential from the real server over HTTP."""

from __future__ import annotations

import socket
from pathlib import Path

from open12306.travel.adapters.gate import DeviceKeyVerifier
from open12306.travel.adapters.keys import DeviceKey, IssuerKeyStore
from open12306.travel.adapters.qr import read_qr_png
from open12306.travel.domain.codes import (
    CredentialFlags,
    open_credential,
    verify_credential,
    verify_scan,
)
from open12306.travel.services.ticket_codes import account_token
from tests.e2e.gate_live import GateLive, gate_live, signed_up
from tests.e2e.test_orders_payment_sandbox import PASSWORD

__all__ = ["gate_live"]


def login_token(live: GateLive, username: str) -> str:
    answer = live.http.post("/api/v1/sessions", json={"username": username, "password": PASSWORD})
    token: str = answer.json()["token"]
    return token


def one_line_error(result: object) -> str:
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    err: str = result.stderr  # type: ignore[attr-defined]
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    return err


def test_wallet_credential_comes_from_the_server(gate_live: GateLive, tmp_path: Path) -> None:
    live = gate_live
    headers, _, username = signed_up(live)
    wallet = tmp_path / "w"
    assert live.invoke("wallet", "init", "--dir", str(wallet)).exit_code == 0
    token = login_token(live, username)
    fetched = live.invoke(
        "wallet", "credential", "--dir", str(wallet), "--server", live.url, "--token", token,
        "--hours", "48",
    )  # fmt: skip
    assert fetched.exit_code == 0, fetched.output

    data = (wallet / "credential.bin").read_bytes()
    assert (wallet / "credential.bin").stat().st_mode & 0o077 == 0
    credential = verify_credential(data, IssuerKeyStore.open(live.keys).verifier())
    device = DeviceKey.load(wallet / "device.key")
    assert credential.device_public_key == device.public_key
    assert credential.valid_until - credential.valid_from == 48 * 3600
    assert credential.flags == CredentialFlags.PAY_LATER  # a new account's score
    account_id = live.http.get("/api/v1/me", headers=headers).json()["id"]
    assert live.container.ride_credentials is not None
    secret = live.container.ride_credentials.token_secret
    assert credential.account_token == account_token(secret, account_id)

    png = tmp_path / "scan.png"
    code = live.invoke("wallet", "code", "--dir", str(wallet), "--entry", "--png", str(png))
    assert code.exit_code == 0, code.output
    issuer = IssuerKeyStore.open(live.keys).verifier()
    scan = verify_scan(read_qr_png(png), issuer, DeviceKeyVerifier())
    assert scan.credential.value.serial == credential.serial


def test_wallet_login_keeps_the_session(gate_live: GateLive, tmp_path: Path) -> None:
    live = gate_live
    headers, _, username = signed_up(live)
    wallet = tmp_path / "w"
    live.invoke("wallet", "init", "--dir", str(wallet))
    logged = live.invoke(
        "wallet", "login", "--dir", str(wallet), "--server", live.url,
        "--username", username, "--password", PASSWORD,
    )  # fmt: skip
    assert logged.exit_code == 0, logged.output
    assert (wallet / "server.json").stat().st_mode & 0o077 == 0
    fetched = live.invoke("wallet", "credential", "--dir", str(wallet))
    assert fetched.exit_code == 0, fetched.output
    credential = open_credential((wallet / "credential.bin").read_bytes()).value
    account_id = live.http.get("/api/v1/me", headers=headers).json()["id"]
    assert live.container.ride_credentials is not None
    secret = live.container.ride_credentials.token_secret
    assert credential.account_token == account_token(secret, account_id)  # the server's
    wrong = live.invoke(
        "wallet", "login", "--dir", str(wallet), "--server", live.url,
        "--username", username, "--password", "not-the-password",
    )  # fmt: skip
    assert "HTTP 401 bad_credentials" in one_line_error(wrong)


def test_server_errors_are_one_line_exit_2(gate_live: GateLive, tmp_path: Path) -> None:
    live = gate_live
    wallet = tmp_path / "w"
    live.invoke("wallet", "init", "--dir", str(wallet))
    refused = live.invoke(
        "wallet", "credential", "--dir", str(wallet), "--server", live.url, "--token", "bogus"
    )
    assert "HTTP 401 unauthenticated" in one_line_error(refused)
    assert not (wallet / "credential.bin").exists()

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    unreachable = live.invoke(
        "wallet", "credential", "--dir", str(wallet), "--server", closed, "--token", "t"
    )
    assert f"cannot reach {closed}" in one_line_error(unreachable)
    no_token = live.invoke("wallet", "credential", "--dir", str(wallet), "--server", live.url)
    assert "--token" in one_line_error(no_token)
