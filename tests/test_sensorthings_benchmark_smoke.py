"""The SensorThings benchmark still runs, at a small size (no timing asserted: speed is measured
by running it at full size, see the README)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_sensorthings_benchmark_runs() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_sensorthings.py"),
            "--datastreams",
            "20",
            "--observations",
            "300",
            "--new",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout[done.stdout.index("{") :])
    assert out["observations"] == 6000 and out["first"]["exit"] == 0
    assert out["incremental"]["exit"] == 0
    # 2 Things, 20 Datastreams: every Thing and at least one aggregate per Datastream rewritten
    assert out["incremental_report"]["status"] == "ok"
    assert out["incremental_report"]["items"] >= 22
