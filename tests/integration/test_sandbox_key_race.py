"""Server workers starting at once on a fresh sandbox key directory agree on one key (seen in
`bench search`: the second uvicorn worker crashed with FileExistsError and restarted)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from open12306.payments.adapters.sandbox import keys

WORKERS = 6


def _race(load: Callable[[Path], object], path: Path) -> tuple[list[object], list[BaseException]]:
    start = threading.Barrier(WORKERS)
    got: list[object] = []
    failed: list[BaseException] = []

    def worker() -> None:
        start.wait()
        try:
            got.append(load(path))
        except BaseException as error:
            failed.append(error)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return got, failed


def _pem(key: object) -> str:
    return keys.private_pem(key)  # type: ignore[arg-type]


def test_workers_creating_the_key_at_once_all_get_the_same_key(tmp_path: Path) -> None:
    path = tmp_path / "sandbox" / "alipay_private.pem"
    got, failed = _race(keys.load_or_create, path)
    assert failed == []
    assert len({_pem(k) for k in got}) == 1
    assert _pem(got[0]) == path.read_text(encoding="ascii")
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def _check_then_create(path: Path) -> object:
    """The code before the fix: look, generate, then create exclusively."""
    if path.exists():
        return keys.load_private(path.read_text(encoding="ascii"))
    key = keys.generate_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(keys.private_pem(key))
    return key


def test_control_check_then_create_fails_a_worker(tmp_path: Path) -> None:
    _, failed = _race(_check_then_create, tmp_path / "k" / "alipay_private.pem")
    assert any(isinstance(error, FileExistsError) for error in failed)
