"""The benchmark scripts still run: each on a small size, end to end, printing its figures.

No timing is asserted (speed is measured by running the scripts at full size, see
docs/benchmarks.md); this only keeps them working as the code changes.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, free_port, fts_entries

BENCHMARKS = ROOT / "benchmarks"


def _run(script: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    start = done.stdout.index("{")
    return json.loads(done.stdout[start:])


@pytest.mark.slow
def test_ogc_benchmark_runs(tmp_path: Path) -> None:
    out = _run(
        "bench_ogc.py",
        "--sizes",
        "1000",
        "--rounds",
        "5",
        "--work",
        str(tmp_path),
        "--port",
        str(free_port()),
    )
    (result,) = out["results"]  # type: ignore[misc]
    assert result["features"] == 1000 and result["features_per_s"] > 0
    assert result["bbox_100_p50_ms"] > 0 and result["item_p50_ms"] > 0


@pytest.mark.slow
def test_indexing_benchmark_runs(tmp_path: Path) -> None:
    out = _run("bench_indexing.py", "--sizes", "2000", "--rounds", "2", "--work", str(tmp_path))
    (result,) = out["results"]  # type: ignore[misc]
    assert result["features"] == 2000 and result["features_per_s"] > 0
    assert len(result["harvest_s"]) == 2
    # each round a first load into an empty index: the last one's folder holds its run alone
    (report,) = (tmp_path / "indexing_2000" / "reports").glob("harvest-*.json")
    assert json.loads(report.read_text())["sources"][0]["added"] == 2001  # and its dataset
    assert result["raw_features_per_s"] > 0 and result["harvest_to_raw"] > 0
    # the raw copy holds the rows the harvest stored
    copy = sqlite3.connect(tmp_path / "raw_2000.sqlite")
    assert copy.execute("SELECT count(*) FROM items").fetchone()[0] == 2000
    assert fts_entries(copy) == 2000
    assert copy.execute("SELECT count(*) FROM items_rtree").fetchone()[0] == 2000


@pytest.mark.slow
def test_ckan_api_benchmark_runs() -> None:
    out = _run(
        "bench_ckan_api.py", "--datasets", "500", "--rounds", "5", "--port", str(free_port())
    )
    assert out["datasets"] == 500
    for name in ("q_facets", "fq_facets", "all_facets", "deep_page"):
        assert out[name]["p50_ms"] > 0  # type: ignore[index]


@pytest.mark.slow
def test_ckan_harvest_benchmark_runs() -> None:
    out = _run("bench_ckan_harvest.py", "--datasets", "500", "--rows", "100")
    assert out["datasets"] == 500
    assert out["first"]["exit"] == 0 and out["unchanged"]["exit"] == 0  # type: ignore[index]


@pytest.mark.slow
def test_crash_trials_run() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "crash_trials.py"), "--trials", "2", "--points", "5000"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary == {**summary, "trials": 2, "failed": 0}


@pytest.mark.slow
def test_load_benchmark_runs() -> None:
    out = _run(
        "bench_load.py",
        *("--datasets", "300", "--points", "2000", "--connections", "8", "--seconds", "3"),
        *("--port", str(free_port())),
    )
    for name in ("items", "records", "package_search", "dcat", "portal"):
        assert out[name]["requests"] > 0 and out[name]["errors"] == 0, name  # type: ignore[index]
    assert out["harvest_exit"] == 0
    peaks = out["server_peak_memory"]
    assert 0 < peaks["heap_mib"] <= peaks["rss_mib"]  # type: ignore[index]
