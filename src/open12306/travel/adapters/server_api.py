"""The open12306 server's travel endpoints, called over HTTP (``http_client``).

Sessions (``POST /api/v1/sessions``), ride credentials (``POST /api/v1/ride/credentials``),
gate taps (``POST /api/v1/gate/taps``) and station bundles
(``GET /api/v1/gate/stations/{station}/bundle``). An answer that does not hold what the
endpoint promises is a ServerError, like a refusal.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from open12306.shared.errors import DomainError
from open12306.travel.adapters.http_client import ServerError, call
from open12306.travel.domain.codes import open_credential


class HttpTravelServer:
    """The TravelServer port on one server URL, with a bearer session or gate token."""

    def __init__(self, server: str, token: str = "") -> None:
        self.server = server
        self.token = token

    def login(self, username: str, password: str) -> tuple[str, str]:
        body = {"username": username, "password": password}
        answer = call(self.server, "POST", "/api/v1/sessions", body)
        token = answer.get("token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise ServerError("server: the login answer holds no token")
        return token, str(answer.get("expires_at", "?"))

    def ride_credential(self, device_public_key: bytes, hours: int) -> bytes:
        """POST the device public key; the sealed credential the server issued, refused
        unless it is a credential for this very device key."""
        body = {"device_public_key": base64.b64encode(device_public_key).decode(), "hours": hours}
        answer = self._call("POST", "/api/v1/ride/credentials", body)
        try:
            data = base64.b64decode(answer["credential"], validate=True)
            credential = open_credential(data).value
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise ServerError("server: the answer holds no readable credential") from None
        except DomainError as error:
            raise ServerError(f"server: the credential does not decode ({error.reason})") from None
        if credential.device_public_key != device_public_key:
            raise ServerError("server: the credential is for another device key")
        return data

    def upload_taps(self, taps: Sequence[dict[str, Any]]) -> int:
        """Send taps without their code bytes."""
        sent = [{k: v for k, v in tap.items() if k != "code"} for tap in taps]
        answer = self._call("POST", "/api/v1/gate/taps", {"taps": sent})
        outcomes = answer.get("outcomes", {}) if isinstance(answer, dict) else {}
        return int(outcomes.get("used", 0))

    def station_bundle(self, station: str) -> Any:
        """The bundle document; the station is sent as given (names are resolved there)."""
        path = f"/api/v1/gate/stations/{quote(station.strip(), safe='')}/bundle"
        return self._call("GET", path)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        return call(self.server, method, path, body, token=self.token)
