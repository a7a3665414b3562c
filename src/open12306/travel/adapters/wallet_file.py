"""A wallet kept in a directory (mode 0700), each secret in a file of mode 0600.

``device.key`` holds the device key's seed, ``credential.bin`` the sealed ride credential,
``counter`` the last scan counter handed out and ``server.json`` the session of the last
``wallet login``. Files are replaced atomically; the counter is read and advanced under an
exclusive lock on ``.lock``, so two processes never hand out the same counter.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from open12306.travel.adapters.keys import DIR_MODE, FILE_MODE, DeviceKey
from open12306.travel.ports import DeviceError

DEVICE_KEY_FILE = "device.key"
CREDENTIAL_FILE = "credential.bin"
COUNTER_FILE = "counter"
LOGIN_FILE = "server.json"
LOCK_FILE = ".lock"
U32_MAX = 0xFFFF_FFFF


class WalletError(DeviceError):
    """The wallet directory lacks what was asked for, or holds something unreadable."""


def replace_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by the owner only."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


class WalletFiles:
    """The Wallet port on a directory of files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def create(self) -> DeviceKey:
        """Make the directory (mode 0700) and a new device key in it (mode 0600)."""
        self.directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.chmod(self.directory, DIR_MODE)
        if (self.directory / DEVICE_KEY_FILE).exists():
            raise WalletError(f"{self.directory} already holds a wallet")
        key = DeviceKey.generate()
        key.save(self.directory / DEVICE_KEY_FILE)
        return key

    def device_key(self) -> DeviceKey:
        path = self.directory / DEVICE_KEY_FILE
        if not path.is_file():
            raise WalletError(f"no wallet at {self.directory}: run `open12306 wallet init`")
        return DeviceKey.load(path)

    def credential(self) -> bytes:
        path = self.directory / CREDENTIAL_FILE
        if not path.is_file():
            raise WalletError(
                f"no credential in {self.directory}: run `open12306 wallet credential`"
            )
        return path.read_bytes()

    def save_credential(self, sealed: bytes) -> None:
        replace_private(self.directory / CREDENTIAL_FILE, sealed)

    def next_counter(self) -> int:
        """The next scan counter: one above the last, persisted before it is used."""
        path = self.directory / COUNTER_FILE
        with self._locked():
            last = 0
            if path.exists():
                text = path.read_text().strip()
                if not text.isdigit():
                    raise WalletError(f"{path}: expected a number, found {text!r}")
                last = int(text)
            if last >= U32_MAX:
                raise WalletError("counter: exhausted; make a new wallet")
            replace_private(path, f"{last + 1}\n".encode("ascii"))
        return last + 1

    def save_login(self, server: str, token: str) -> None:
        login = {"server": server, "token": token}
        replace_private(self.directory / LOGIN_FILE, json.dumps(login).encode("utf-8"))

    def login(self) -> tuple[str, str] | None:
        path = self.directory / LOGIN_FILE
        if not path.is_file():
            return None
        try:
            login = json.loads(path.read_bytes())
            return str(login["server"]), str(login["token"])
        except (ValueError, KeyError, TypeError):
            raise WalletError(f"{path}: unreadable; run `open12306 wallet login` again") from None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
