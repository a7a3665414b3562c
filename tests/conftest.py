"""Shared fixtures: database URLs for SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from open12306.shared.document_keys import DocumentCipher

# Hypothesis checks properties, not speed: no per-example deadline (a loaded CI machine made a
# 2 ms example take 260 ms once); speed lives in `open12306 bench`.
settings.register_profile("open12306", deadline=None)
settings.load_profile("open12306")

# The suite runs the allocator in the server process (OPEN12306_ALLOCATOR=thread), where its
# state is there to inspect, and servers start without a child; the default, the order desk
# process, is run by tests/e2e/test_allocator_process.py (it runs the same intake and
# allocator behind a pipe).
os.environ.setdefault("OPEN12306_ALLOCATOR", "thread")

DEFAULT_PG_URL = "postgresql+psycopg://open12306:open12306@127.0.0.1:5432/open12306_test"
_pg_state: dict[str, str | None] = {}

# The document cipher of tests that build stores on an engine of their own (a deployment's
# comes from its key file, see bootstrap.open_store).
TEST_CIPHER = DocumentCipher((bytes(range(32)),))


def cipher_key_file(folder: Path) -> Path:
    """A key file holding TEST_CIPHER's key, for commands run against a test's database."""
    path = folder / "document-enc-key"
    path.write_text(TEST_CIPHER.keys[0].hex() + "\n", encoding="ascii")
    return path


def postgres_url() -> str | None:
    """The test PostgreSQL URL, or None (with the reason remembered) when unreachable."""
    if "url" in _pg_state:
        return _pg_state["url"]
    url = os.environ.get("OPEN12306_TEST_PG_URL") or DEFAULT_PG_URL
    try:
        import psycopg

        plain = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, connect_timeout=3):
            pass
        _pg_state["url"] = url
    except Exception as exc:  # any failure means: no PostgreSQL for this run
        _pg_state["url"] = None
        _pg_state["why"] = f"PostgreSQL not reachable at {url} ({type(exc).__name__})"
    return _pg_state["url"]


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _session_database() -> str:
    """A database of this test session's own (so concurrent runs never wipe each other's),
    created next to the configured one and dropped at exit."""
    if "session" in _pg_state:
        return _pg_state["session"] or ""
    import atexit

    import psycopg
    from sqlalchemy.engine import make_url

    base = postgres_url()
    assert base is not None
    name = f"open12306_t{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_plain(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        try:
            with psycopg.connect(_plain(base), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception:  # best effort at exit
            pass

    atexit.register(drop)
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    _pg_state["session"] = url
    return url


def fresh_postgres() -> str:
    if postgres_url() is None:
        pytest.skip(_pg_state.get("why") or "PostgreSQL not available")
    import psycopg

    url = _session_database()
    with psycopg.connect(_plain(url)) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: SQLite in a temp folder, or a wiped PostgreSQL schema."""
    from open12306.database.migrate import upgrade

    url = f"sqlite:///{tmp_path}/test.db" if request.param == "sqlite" else fresh_postgres()
    upgrade(url)
    yield url


def pytest_report_header(config: pytest.Config) -> str:
    url = postgres_url()
    if url is None:
        return f"postgres: SKIPPED — {_pg_state.get('why')}"
    return f"postgres: {url}"


@pytest.fixture(scope="session", autouse=True)
def _key_dirs_of_this_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Issuer keys and the wallet in folders of this test process's own, never var/ of the
    checkout: two xdist workers creating one key store at once would collide."""
    folder = tmp_path_factory.mktemp("key-dirs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPEN12306_KEY_DIR", str(folder / "keys"))
        patch.setenv("OPEN12306_WALLET_DIR", str(folder / "wallet"))
        # Servers started by tests warm a few hundred runs, not 8,192 (CPU and memory that
        # the tests beside them need).
        patch.setenv("OPEN12306_INVENTORY_CACHE_RUNS", "512")
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The demo database's runs are made for the system clock's operator day: every test over
    it is an ``operator_day`` test."""
    for item in items:
        if "demo_settings" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.operator_day)
