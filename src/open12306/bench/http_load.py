"""A small HTTP/1.1 keep-alive load generator (asyncio, raw sockets) and a wrk driver.

wrk (Debian package) is used when installed; otherwise this client. Both send the same
request paths round-robin over persistent connections, for a fixed time, loopback only.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LoadResult:
    """Requests completed, wall time, how many answers were not 2xx/4xx as expected, and
    (from wrk) the 99th percentile latency."""

    requests: int
    seconds: float
    errors: int
    tool: str
    p99_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def _worker(
    host: str, port: int, paths: Sequence[bytes], deadline: float, offset: int
) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection(host, port)
    done = errors = 0
    n = offset
    try:
        while time.perf_counter() < deadline:
            path = paths[n % len(paths)]
            n += 1
            writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: bench\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            match = re.search(rb"(?i)content-length: *(\d+)", head)
            length = int(match.group(1)) if match else 0
            await reader.readexactly(length)
            done += 1
            if status >= 500:
                errors += 1
    finally:
        writer.close()
    return done, errors


async def _python_load(
    host: str, port: int, paths: Sequence[bytes], seconds: float, connections: int
) -> LoadResult:
    start = time.perf_counter()
    deadline = start + seconds
    results = await asyncio.gather(
        *(_worker(host, port, paths, deadline, k) for k in range(connections))
    )
    elapsed = time.perf_counter() - start
    return LoadResult(sum(r[0] for r in results), elapsed, sum(r[1] for r in results), "python")


_WRK_SCRIPT = """
paths = {%s}
n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
"""


def _wrk_load(
    host: str, port: int, paths: Sequence[bytes], seconds: float, connections: int
) -> LoadResult:
    quoted = ", ".join('"' + p.decode("ascii").replace('"', '\\"') + '"' for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % quoted)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                "--latency",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "-s",
                script.name,
                f"http://{host}:{port}/",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
        ).stdout
    finally:
        os.unlink(script.name)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    taken = re.search(r"requests in ([\d.]+)(m?s)", out)
    elapsed = float(taken.group(1)) / (1000 if taken.group(2) == "ms" else 1)  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return LoadResult(requests, elapsed, int(bad.group(1)) if bad else 0, "wrk", _wrk_p99(out))


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_p99(out: str) -> float | None:
    """The 99 % line of wrk's ``--latency`` distribution, in milliseconds."""
    line = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    return float(line.group(1)) * _UNIT_MS[line.group(2)] if line else None


def load(
    host: str, port: int, paths: Sequence[bytes], seconds: float, connections: int = 32
) -> LoadResult:
    """Drive ``paths`` round-robin for ``seconds``; wrk when installed, else asyncio."""
    if shutil.which("wrk"):
        return _wrk_load(host, port, paths, seconds, connections)
    return asyncio.run(_python_load(host, port, paths, seconds, connections))
