"""The search-engine backend beside SQLite on the same synthetic points, in the same run.

For each size: write the GeoJSON (benchmarks/synthetic.py); harvest it with `catalogue harvest`
into SQLite and into OpenSearch (features/s: the bulk-index rate, including parsing); copy the
SQLite index into fresh OpenSearch indices with `catalogue reindex` (records/s, alias swap at the
end); then serve each index with `catalogue serve` and time a bbox + text query returning up to
100 items over HTTP (sequential p50/p95).

Needs an OpenSearch 2.x: tests/opensearch/run.sh start (OPENSEARCH_HEAP=2g for a million).
Usage: python benchmarks/bench_search_engine.py --opensearch-url http://127.0.0.1:9250
           [--sizes 100000 1000000] [--work /tmp/ouc-bench] [--rounds 0: no queries]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_ogc import CATALOGUE, serve, time_requests  # noqa: E402
from synthetic import CATEGORIES, LAT0, LAT1, LON0, LON1, write  # noqa: E402


def run(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([CATALOGUE, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def config(path: Path, index: str, data: Path) -> Path:
    path.write_text(
        f"index: {index}\n"
        f"sources:\n  - {{name: points, type: geojson, url: {data}, datetime_field: updated}}\n"
    )
    return path


def query_paths(n: int, base: str, rounds: int) -> list[str]:
    """bbox of ~900 candidates (3x the 100-item box) and a category word as text."""
    rng = random.Random(11)
    w = (LON1 - LON0) * (100 / n) ** 0.5 * 3.6
    h = (LAT1 - LAT0) * (100 / n) ** 0.5 * 3.6
    paths = []
    for _ in range(rounds):
        x, y = rng.uniform(LON0, LON1 - w), rng.uniform(LAT0, LAT1 - h)
        q = CATEGORIES[rng.randrange(len(CATEGORIES))]
        paths.append(f"{base}?f=json&limit=100&bbox={x:.6f},{y:.6f},{x + w:.6f},{y + h:.6f}&q={q}")
    return paths


def latency(cfg: Path, n: int, port: int, rounds: int) -> tuple[float, float]:
    proc = serve(cfg, port)
    try:
        base = f"http://127.0.0.1:{port}/ogc/collections/points/items"
        with httpx.Client(timeout=60) as client:
            return time_requests(client, query_paths(n, base, rounds), "features")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run_size(n: int, work: Path, url: str, port: int, rounds: int) -> dict[str, object]:
    data = work / f"points_{n}.geojson"
    if not data.exists():
        write(n, str(data))
    folder = work / f"engine_{n}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    prefix = f"bench-{n}-{os.getpid()}-{int(time.time())}"
    sqlite = config(folder / "sqlite.yml", f"{{backend: sqlite, path: {folder}/c.sqlite}}", data)
    engine = config(
        folder / "engine.yml", f"{{backend: opensearch, url: '{url}', prefix: {prefix}}}", data
    )
    copy = config(
        folder / "copy.yml", f"{{backend: opensearch, url: '{url}', prefix: {prefix}-copy}}", data
    )
    result: dict[str, object] = {"features": n}
    seconds = run(["harvest", "--config", str(sqlite), "--quiet"])
    result["sqlite_harvest_features_per_s"] = round(n / seconds)
    seconds = run(["harvest", "--config", str(engine), "--quiet"])
    result["opensearch_harvest_features_per_s"] = round(n / seconds)
    seconds = run(["reindex", "--from", str(sqlite), "--config", str(copy), "--quiet"])
    result["reindex_sqlite_to_opensearch_records_per_s"] = round((n + 1) / seconds)
    for name, cfg in (("sqlite", sqlite), ("opensearch", engine)) if rounds else ():
        p50, p95 = latency(cfg, n, port, rounds)
        result[f"{name}_bbox_text_p50_ms"], result[f"{name}_bbox_text_p95_ms"] = (
            round(p50, 1),
            round(p95, 1),
        )
    for name in (prefix, f"{prefix}-copy"):  # leave the engine as it was
        for suffix in ("datasets", "items"):
            for target in httpx.get(f"{url}/_alias/{name}-{suffix}").json():
                httpx.delete(f"{url}/{target}")
        httpx.delete(f"{url}/{name}-meta")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--opensearch-url", required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/ouc-bench"))
    parser.add_argument("--port", type=int, default=5078)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(json.dumps({"machine": f"{os.cpu_count()} cores"}), flush=True)
    for n in args.sizes:  # each size's figures as soon as they are measured
        result = run_size(n, args.work, args.opensearch_url, args.port, args.rounds)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
