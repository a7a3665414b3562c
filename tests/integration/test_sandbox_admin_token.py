"""Where the sandbox admin token and the trusted proxies come from: the environment, else a
token generated once into a 0600 file beside the database; the sandbox served alone uses it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from open12306.config import Settings
from open12306.payments.adapters.sandbox import create_sandbox_app
from open12306.payments.adapters.sandbox.config import sandbox_admin_token


def test_trusted_proxies_are_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPEN12306_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7,fd00::/8")
    assert Settings.from_env().trusted_proxies == ("10.0.0.0/8", "192.168.1.7/32", "fd00::/8")
    monkeypatch.setenv("OPEN12306_TRUSTED_PROXIES", "10.0.0.0/8,nginx")
    with pytest.raises(SystemExit, match="OPEN12306_TRUSTED_PROXIES: 'nginx'"):
        Settings.from_env()
    monkeypatch.delenv("OPEN12306_TRUSTED_PROXIES")
    assert Settings.from_env().trusted_proxies == ()


def test_the_token_is_the_setting_or_one_generated_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPEN12306_SANDBOX_ADMIN_TOKEN", raising=False)
    monkeypatch.setenv("OPEN12306_DATABASE_URL", f"sqlite:///{tmp_path}/shop.db")
    settings = Settings.from_env()
    assert settings.sandbox_admin_token_path() == tmp_path / "shop.db.sandbox-admin-token"
    first = sandbox_admin_token(settings)
    assert len(first) == 64 and first == sandbox_admin_token(settings)
    assert settings.sandbox_admin_token_path().stat().st_mode & 0o777 == 0o600
    assert "sandbox_admin_token" not in repr(Settings(sandbox_admin_token="secret-1"))
    monkeypatch.setenv("OPEN12306_SANDBOX_ADMIN_TOKEN", "chosen-token")
    assert sandbox_admin_token(Settings.from_env()) == "chosen-token"


def test_the_sandbox_served_alone_answers_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPEN12306_DATABASE_URL", f"sqlite:///{tmp_path}/alone.db")
    monkeypatch.setenv("OPEN12306_SANDBOX_ADMIN_TOKEN", "chosen-token")
    with TestClient(create_sandbox_app()) as http:
        assert http.get("/sandbox/keys").status_code == 401
        answer = http.get("/sandbox/keys", headers={"Authorization": "Bearer chosen-token"})
        assert answer.status_code == 200
    monkeypatch.delenv("OPEN12306_SANDBOX_ADMIN_TOKEN")
    with caplog.at_level(logging.WARNING), TestClient(create_sandbox_app()) as http:
        path = tmp_path / "alone.db.sandbox-admin-token"
        assert str(path) in caplog.text
        token = path.read_text().strip()
        answer = http.get("/sandbox/keys", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
