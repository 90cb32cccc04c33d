"""A harvest killed mid-way leaves a consistent index, and the next run completes it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from catalogue.index.sqlite import SQLiteIndex
from catalogue.query import SearchQuery

CATALOGUE = str(Path(sys.executable).parent / "catalogue")


def write_points(path: Path, n: int) -> None:
    with path.open("w") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for i in range(n):
            x, y = 6.7 + (i % 500) / 2000, 51.1 + (i // 500) / 2000
            feature = {
                "type": "Feature",
                "id": i,
                "properties": {"name": f"Punkt {i}"},
                "geometry": {"type": "Point", "coordinates": [x, y]},
            }
            out.write(json.dumps(feature) + (",\n" if i < n - 1 else "\n"))
        out.write("]}\n")


@pytest.mark.slow
def test_killed_bulk_load_then_a_complete_rerun(tmp_path: Path) -> None:
    n = 150_000
    write_points(tmp_path / "p.geojson", n)
    config = tmp_path / "c.yml"
    config.write_text(
        "index: {backend: sqlite, path: idx.sqlite}\n"
        "sources:\n  - {name: punkte, type: geojson, url: p.geojson}\n"
    )
    index_path = tmp_path / "idx.sqlite"
    proc = subprocess.Popen(
        [CATALOGUE, "harvest", "--config", str(config), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until some batches are committed
        time.sleep(0.2)
        if index_path.exists():
            try:
                conn = sqlite3.connect(index_path, timeout=1)
                count = conn.execute("SELECT count(*) FROM items").fetchone()[0]
                conn.close()
            except sqlite3.Error:
                continue
            if count >= 20_000:
                break
    assert proc.poll() is None, "the harvest ended before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    index = SQLiteIndex(index_path)
    partial = index.search_items("punkte", SearchQuery(result_type="hits")).number_matched
    assert 20_000 <= partial < n
    assert sqlite3.connect(index_path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    rerun = subprocess.run(
        [CATALOGUE, "harvest", "--config", str(config), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads((tmp_path / "reports" / "latest.json").read_text())["sources"][0]
    assert report["items"] == n and report["added"] + report["unchanged"] == n + 1

    assert index.search_items("punkte", SearchQuery(result_type="hits")).number_matched == n
    box = (6.7, 51.1, 6.75, 51.12)  # every point whose coordinates fall in it, by arithmetic
    expected = sum(
        1
        for i in range(n)
        if 6.7 <= 6.7 + (i % 500) / 2000 <= 6.75 and 51.1 <= 51.1 + (i // 500) / 2000 <= 51.12
    )
    got = index.search_items("punkte", SearchQuery(bbox=box, result_type="hits")).number_matched
    assert got == expected
    index.close()
