"""The portal benchmark still runs: a small size, end to end (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_portal_benchmark_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_portal.py"), "--datasets", "300"]
        + ["--rounds", "5"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout[done.stdout.index("{") :])
    assert out["datasets"] == 300
    for page in ("search_text", "search_two_facets", "dataset", "home"):
        assert out[page]["server_p50_ms"] > 0
