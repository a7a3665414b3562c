"""The benchmarks' server start: uvicorn or granian, chosen by argument or environment."""

from __future__ import annotations

import pytest

from open12306.bench import search
from open12306.bench.search import _server_command


def test_each_server_gets_its_own_command_line() -> None:
    uvicorn = _server_command("pkg.mod:app", 8123, 2, "uvicorn")
    granian = _server_command("pkg.mod:app", 8123, 2, "granian")
    assert uvicorn[1:4] == ["-m", "uvicorn", "pkg.mod:app"] and "--no-access-log" in uvicorn
    assert granian[1:4] == ["-m", "granian", "pkg.mod:app"]
    assert granian[granian.index("--interface") + 1] == "asgi"
    for command in (uvicorn, granian):
        assert command[command.index("--workers") + 1] == "2"
        assert command[command.index("--port") + 1] == "8123"
    with pytest.raises(ValueError, match="granian"):
        _server_command("pkg.mod:app", 8123, 1, "hypercorn")


def test_the_environment_picks_the_server_and_workers_unless_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[list[str]] = []

    class Recorded:
        def __init__(self, command: list[str], **_: object) -> None:
            started.append(command)

    monkeypatch.setattr(search.subprocess, "Popen", Recorded)
    monkeypatch.setenv("OPEN12306_BENCH_SERVER", "granian")
    monkeypatch.setenv("OPEN12306_BENCH_WORKERS", "3")
    search._serve("pkg.mod:app", {}, 1)
    search._serve("pkg.mod:app", {}, 1, server="uvicorn")
    monkeypatch.delenv("OPEN12306_BENCH_SERVER")
    monkeypatch.delenv("OPEN12306_BENCH_WORKERS")
    search._serve("pkg.mod:app", {}, 2)
    assert [c[2] for c in started] == ["granian", "uvicorn", "uvicorn"]
    assert [c[c.index("--workers") + 1] for c in started] == ["3", "3", "2"]
