"""Indexing speed and OGC API latency on synthetic points around Düsseldorf.

For each size: write the GeoJSON (benchmarks/synthetic.py), run `catalogue harvest` in a child
process (features/s, peak RSS), start `catalogue serve`, then time bbox queries that return
100 items, a bbox + attribute query and single items over HTTP (sequential p50/p95).

Usage: python benchmarks/bench_ogc.py [--sizes 100000 1000000] [--work /tmp/ouc-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from synthetic import LAT0, LAT1, LON0, LON1, write  # noqa: E402

CATALOGUE = shutil.which("catalogue") or str(Path(sys.executable).parent / "catalogue")


def rss_mib(pid: int) -> float | None:
    """Resident memory of the process and its children (a large file is read by a second
    process), in MiB."""
    try:
        with open(f"/proc/{pid}/status") as status:
            own = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None
    return own / 1024 + sum(rss_mib(child) or 0.0 for child in _children(pid))


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                out += [int(c) for c in children.read().split()]
    except OSError:
        pass
    return out


def harvest(config: Path) -> tuple[float, list[float]]:
    """Wall seconds, and the resident memory of the harvest (its process and children) sampled
    every 0.5 s (MiB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [CATALOGUE, "harvest", "--config", str(config), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    samples: list[float] = []
    while True:
        rss = rss_mib(proc.pid)
        if rss is not None:
            samples.append(rss)
        try:  # (a sleep here would count up to its length after the end)
            proc.wait(0.5)
            break
        except subprocess.TimeoutExpired:
            continue
    if proc.returncode != 0:
        raise RuntimeError(f"harvest failed with exit code {proc.returncode}")
    return time.perf_counter() - started, samples


def serve(config: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [CATALOGUE, "serve", "--config", str(config), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(f"http://127.0.0.1:{port}/ogc/collections?f=json", timeout=5).status_code
                == 200
            ):
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def time_requests(client: httpx.Client, paths: list[str], check: str) -> tuple[float, float]:
    for path in paths[:5]:  # warm up
        client.get(path)
    samples = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
        if check == "features":
            assert response.json()["features"], path
    return percentiles(samples)


def points_config(n: int, work: Path, name: str) -> tuple[Path, Path]:
    """A configuration harvesting ``n`` synthetic points (written once) into a fresh index
    folder: the paths of the configuration and of that folder."""
    data = work / f"points_{n}.geojson"
    if not data.exists():
        write(n, str(data))
    config = work / f"{name}_{n}.yml"
    index = work / f"{name}_{n}"
    shutil.rmtree(index, ignore_errors=True)
    config.write_text(
        f"index: {{backend: sqlite, path: {index}/catalogue.sqlite}}\n"
        f"sources:\n  - {{name: points, type: geojson, url: {data}, datetime_field: updated}}\n"
    )
    return config, index


def run_size(n: int, work: Path, port: int, rounds: int) -> dict[str, object]:
    config, index = points_config(n, work, "index")
    seconds, rss = harvest(config)
    quarter = len(rss) // 4
    result: dict[str, object] = {
        "features": n,
        "harvest_s": round(seconds, 2),
        "features_per_s": round(n / seconds),
        # resident memory a quarter and three quarters into the run, and the peak
        "harvest_rss_mib": [round(rss[quarter]), round(rss[3 * quarter]), round(max(rss))],
    }
    rerun, _ = harvest(config)
    result["reharvest_unchanged_s"] = round(rerun, 2)
    proc = serve(config, port)
    try:
        rng = random.Random(7)
        w, h = (LON1 - LON0) * (100 / n) ** 0.5 * 1.2, (LAT1 - LAT0) * (100 / n) ** 0.5 * 1.2
        base = f"http://127.0.0.1:{port}/ogc/collections/points/items"
        bbox_paths, prop_paths, item_paths = [], [], []
        for _ in range(rounds):
            x = rng.uniform(LON0, LON1 - w)
            y = rng.uniform(LAT0, LAT1 - h)
            bbox = f"{x:.6f},{y:.6f},{x + w:.6f},{y + h:.6f}"
            bbox_paths.append(f"{base}?f=json&limit=100&bbox={bbox}")
            big = f"{x:.6f},{y:.6f},{x + 3 * w:.6f},{y + 3 * h:.6f}"
            prop_paths.append(f"{base}?f=json&limit=100&bbox={big}&category=Baum")
            item_paths.append(f"{base}/{rng.randrange(1, n + 1)}?f=json")
        with httpx.Client(timeout=60) as client:
            result["bbox_100_p50_ms"], result["bbox_100_p95_ms"] = time_requests(
                client, bbox_paths, "features"
            )
            result["bbox_prop_p50_ms"], result["bbox_prop_p95_ms"] = time_requests(
                client, prop_paths, "features"
            )
            result["item_p50_ms"], result["item_p95_ms"] = time_requests(client, item_paths, "item")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in result.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/ouc-bench"))
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results = [run_size(n, args.work, args.port, args.rounds) for n in args.sizes]
    print(json.dumps({"machine": f"{os.cpu_count()} cores", "results": results}, indent=1))


if __name__ == "__main__":
    main()
