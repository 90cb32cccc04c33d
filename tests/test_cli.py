"""The ``catalogue`` command as a user runs it: real processes, real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import free_port

CATALOGUE = shutil.which("catalogue") or str(Path(sys.executable).parent / "catalogue")


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CATALOGUE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def write_config(tmp_path: Path, sources: str) -> Path:
    path = tmp_path / "catalogue.yml"
    path.write_text(f"index: {{backend: sqlite, path: idx/catalogue.sqlite}}\nsources:\n{sources}")
    return path


POINTS = json.dumps(
    {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": 1,
                "properties": {"name": "A"},
                "geometry": {"type": "Point", "coordinates": [6.7, 51.2]},
            }
        ],
    }
)


def test_config_validate_accepts_the_shipped_config_and_names_bad_keys(tmp_path: Path) -> None:
    ok = run(
        "config", "validate", "--config", "config/catalogue.yml", cwd=Path(__file__).parent.parent
    )
    assert ok.returncode == 0 and "valid (4 sources" in ok.stdout
    bad = write_config(tmp_path, "  - {name: a, type: csv, url: x.csv, lat_colum: y}\n")
    result = run("config", "validate", "--config", str(bad))
    assert result.returncode == 1
    assert f"{bad}: sources[0].lat_colum: unknown key for source type 'csv'" in result.stderr


def test_harvest_prints_a_summary_writes_a_report_and_exits_1_on_a_failed_source(
    tmp_path: Path,
) -> None:
    (tmp_path / "p.geojson").write_text(POINTS)
    config = write_config(
        tmp_path,
        "  - {name: punkte, type: geojson, url: p.geojson}\n"
        "  - {name: kaputt, type: geojson, url: fehlt.geojson}\n",
    )
    result = run("harvest", "--config", str(config))
    assert result.returncode == 1, result.stderr
    assert "punkte" in result.stdout and "kaputt" in result.stdout and "failed" in result.stdout
    assert "source=kaputt" in result.stderr  # structured log line naming the source
    report = json.loads((tmp_path / "idx" / "reports" / "latest.json").read_text())
    statuses = {s["name"]: s["status"] for s in report["sources"]}
    assert statuses == {"punkte": "ok", "kaputt": "failed"}

    only = run("harvest", "--config", str(config), "--source", "punkte")
    assert only.returncode == 0 and "kaputt" not in only.stdout

    listed = run("runs", "--config", str(config))
    assert listed.returncode == 0
    assert listed.stdout.count("punkte") == 2 and "failed" in listed.stdout
    runs = json.loads(run("runs", "--config", str(config), "--json", "--limit", "1").stdout)
    assert [s["name"] for s in runs[0]["sources"]] == ["punkte"]


def test_runs_begun_within_one_second_are_listed_newest_first(tmp_path: Path) -> None:
    from catalogue.harvest.report import HarvestReport, recent_reports
    from catalogue.harvest.runner import new_run_id

    ids = [new_run_id() for _ in range(50)]  # well within a second
    assert ids == sorted(ids) and len(set(ids)) == 50
    for n, run_id in enumerate(ids):
        HarvestReport(run_id=run_id, started=str(n)).write(tmp_path)
    newest_first = [str(n) for n in reversed(range(50))]
    assert [r["started"] for r in recent_reports(tmp_path, 50)] == newest_first


@pytest.mark.parametrize("workers", ["1", "2"])
def test_demo_works_from_any_directory_and_serve_answers(tmp_path: Path, workers: str) -> None:
    data = tmp_path / "demo-data"
    result = run("demo", "--no-serve", "--data-dir", str(data), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (data / "catalogue.sqlite").exists()
    assert "sehenswuerdigkeiten" in result.stdout

    config = tmp_path / "serve.yml"
    config.write_text(f"index: {{backend: sqlite, path: {data / 'catalogue.sqlite'}}}\n")
    port = free_port()
    server = subprocess.Popen(
        [CATALOGUE, "serve", "--config", str(config), "--port", str(port), "--workers", workers],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(
                        "server did not start: "
                        + (server.stderr.read().decode() if server.stderr else "")
                    )
                time.sleep(0.2)
        assert health.json()["items"] == 10 + 60 + 38 + 8
        collections = httpx.get(f"http://127.0.0.1:{port}/ogc/collections?f=json").json()
        ids = {c["id"] for c in collections["collections"]}
        assert {"catalogue", "stadtbezirke", "sehenswuerdigkeiten", "mobilstationen"} <= ids
        self_link = next(link["href"] for link in collections["links"] if link["rel"] == "self")
        assert self_link.startswith(f"http://127.0.0.1:{port}/ogc")
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        # one process serves, or a supervisor with a process per worker (and a resource tracker)
        assert len(children) == 0 if workers == "1" else len(children) >= 2
        url = f"http://127.0.0.1:{port}/ogc/collections/sehenswuerdigkeiten/items?limit=5"
        for _ in range(10):
            page = httpx.get(url).json()
            assert page["numberMatched"] == 60 and len(page["features"]) == 5
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_with_a_broken_config_says_why(tmp_path: Path) -> None:
    config = tmp_path / "bad.yml"
    config.write_text("server: {port: -1}\n")
    result = run("serve", "--config", str(config))
    assert result.returncode == 1 and "server.port" in result.stderr


def test_a_subcommand_loads_only_its_own_modules() -> None:
    """A harvest starts without importing the web server or the SHACL validator; every
    command is still listed and runs."""
    probe = (
        "import sys\n"
        "from catalogue.cli import main\n"
        "try:\n"
        "    main(['harvest', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('uvicorn', 'starlette', 'pyshacl', 'pygeoapi') or m.startswith('catalogue.web')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"
    listing = run("--help")
    names = ("config", "demo", "harvest", "index", "reindex", "runs", "serve", "validate")
    for name in names:
        assert f"  {name} " in listing.stdout, listing.stdout + listing.stderr
