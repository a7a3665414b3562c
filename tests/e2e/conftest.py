"""A demo database built once per test session (real stations, corridors, generated trains)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from open12306.config import Settings


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    from open12306.bootstrap.tasks import load_demo
    from open12306.database.migrate import upgrade

    folder: Path = tmp_path_factory.mktemp("demo")
    settings = replace(Settings.from_env(), database_url=f"sqlite:///{folder}/demo.db")
    upgrade(settings.database_url)
    load_demo(settings, seed=7, trains=1000, fill=0.0, days=0, force=True)
    yield settings
