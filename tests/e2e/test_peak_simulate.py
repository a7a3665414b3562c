"""`open12306 peak simulate` end to end, briefly: a few seconds of a sale window on loopback,
the report written, nothing oversold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from open12306.bench.sim_report import PLOTS
from open12306.bench.simulate import simulate

pytestmark = pytest.mark.operator_day


def test_a_short_window_writes_the_report_and_oversells_nothing(tmp_path: Path) -> None:
    out = tmp_path / "report"
    summary = simulate(seed=7, seconds=6, scale=0.3, bots=0.3, trains=6, out=out)
    assert summary["oversold"] == 0
    assert summary["runs_classes_audited"] > 0
    assert summary["searches"] > summary["orders"] > 0
    assert summary["tickets_held"] > 0
    assert summary["client_errors"] == 0
    for key in ("search_p99_ms", "order_p99_ms", "sold_out_s_after_release", "load_factor"):
        assert key in summary
    assert set(summary["slow_queue"]) == {"bots", "humans"}
    assert summary["slow_queue"]["humans"]["slow_queued"] == 0
    assert json.loads((out / "summary.json").read_text()) == summary
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "http" not in page.lower().replace("http-equiv", "")  # nothing fetched from anywhere
    for name in PLOTS:
        assert f'src="{name}"' in page
        raw = (out / name).read_bytes()
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(out / name) as image:
            assert image.width >= 500 and image.height >= 250
