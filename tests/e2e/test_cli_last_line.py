"""The console entry's last line of defence (``cli.main.main``): a database that is not set up
and any other unexpected failure are one line on stderr, exit status 1, never a traceback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.operator_day
COMMAND = [sys.executable, "-c", "from open12306.cli.main import main; main()"]


def _run(database: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"OPEN12306_DATABASE_URL": database}
    return subprocess.run(
        [*COMMAND, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_database_without_tables_says_to_run_db_upgrade(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    done = _run(f"sqlite:///{empty}", "stations", "VNP")
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("error: database: no such table: ")
    assert line.endswith(" — the database is not set up: run `open12306 db upgrade`")


def test_a_file_that_cannot_be_used_is_one_database_line(tmp_path: Path) -> None:
    (tmp_path / "folder.db").mkdir()  # a folder where the SQLite file should be
    done = _run(f"sqlite:///{tmp_path / 'folder.db'}", "stations", "VNP")
    assert done.returncode == 1, done.stderr
    assert done.stderr == "error: database: unable to open database file\n"


def test_an_unexpected_failure_is_one_internal_line(tmp_path: Path) -> None:
    database = tmp_path / "broken.db"
    sqlite3.connect(database).close()
    (tmp_path / "broken.db.document-enc-key").write_text("not hex\n", encoding="ascii")
    done = _run(f"sqlite:///{database}", "stations", "VNP")
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        f"error: internal: ValueError: {tmp_path / 'broken.db.document-enc-key'}: "
        "expected one hex key per line\n"
    )
