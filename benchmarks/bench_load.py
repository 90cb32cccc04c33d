"""Load: many concurrent clients on every kind of endpoint while a harvest writes.

Builds an embedded index of N synthetic datasets (the CKAN API benchmark's) plus a collection of
points, starts ``catalogue serve``, starts a harvest of another point source into the same index
(it keeps writing during the measurement), and sends requests from C concurrent connections for
T seconds, round robin over: OGC API items (bbox), OGC API Records search, CKAN
``package_search`` with facets, a DCAT page and a portal search page. Reports per endpoint the
requests, errors (non-2xx or transport), p50/p99 latency, the whole run's throughput, and the
server's peak memory (heap of all its processes, and resident size with the mapped index file).

Usage: python benchmarks/bench_load.py [--datasets 100000] [--points 100000]
       [--connections 64] [--seconds 60]
Exits 1 when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_ckan_api import FACETS, datasets  # noqa: E402
from bench_dcat import rss_mib  # noqa: E402
from bench_ogc import CATALOGUE  # noqa: E402
from synthetic import LAT0, LAT1, LON0, LON1, write  # noqa: E402

from catalogue.index.sqlite import SQLiteIndex  # noqa: E402


def paths(n_points: int, rng: random.Random) -> dict[str, list[str]]:
    w = (LON1 - LON0) * (100 / n_points) ** 0.5 * 1.2
    h = (LAT1 - LAT0) * (100 / n_points) ** 0.5 * 1.2
    boxes = []
    for _ in range(50):
        x, y = rng.uniform(LON0, LON1 - w), rng.uniform(LAT0, LAT1 - h)
        boxes.append(f"{x:.5f},{y:.5f},{x + w:.5f},{y + h:.5f}")
    words = ["Baumkataster", "Radverkehr", "Luftqualität", "Spielplätze", "Parkhäuser"]
    return {
        "items": [f"/ogc/collections/points/items?f=json&limit=100&bbox={b}" for b in boxes],
        "records": [f"/ogc/collections/catalogue/items?f=json&q={w}&limit=10" for w in words],
        "package_search": [
            f"/api/3/action/package_search?q={w}&rows=10&facet.field={FACETS}" for w in words
        ],
        "dcat": [f"/dcat/catalog.ttl?page={p}&page_size=20" for p in range(1, 30)],
        "portal": [f"/search?q={w}" for w in words],
    }


async def load(
    base: str, routes: dict[str, list[str]], connections: int, seconds: float
) -> dict[str, object]:
    samples: dict[str, list[float]] = {name: [] for name in routes}
    errors: dict[str, list[str]] = {name: [] for name in routes}
    reconnects: dict[str, int] = {name: 0 for name in routes}
    order = [(name, path) for name, group in routes.items() for path in group]
    random.Random(3).shuffle(order)
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def worker(offset: int) -> None:
            i = offset
            while time.perf_counter() < deadline:
                name, path = order[i % len(order)]
                i += connections
                started = time.perf_counter()
                try:
                    try:
                        response = await client.get(path)
                    except httpx.RemoteProtocolError:
                        # the server closed an idle kept-alive connection as it was reused: a
                        # GET is sent again on a new one, as HTTP clients do (RFC 9112 9.3.1)
                        reconnects[name] += 1
                        response = await client.get(path)
                    if response.status_code >= 400:
                        errors[name].append(f"{response.status_code} {path}")
                except httpx.HTTPError as exc:
                    errors[name].append(f"{type(exc).__name__} {path}")
                samples[name].append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(connections)))
        elapsed = time.perf_counter() - started
    out: dict[str, object] = {}
    total = 0
    for name, values in samples.items():
        values.sort()
        total += len(values)
        out[name] = {
            "requests": len(values),
            "errors": len(errors[name]),
            "error_examples": errors[name][:3],
            "reconnects": reconnects[name],
            "p50_ms": round(values[len(values) // 2] * 1000, 1) if values else None,
            "p99_ms": round(values[int(len(values) * 0.99) - 1] * 1000, 1) if values else None,
        }
    out["requests_per_s"] = round(total / elapsed, 1)
    return out


def server_memory(pid: int, stop: threading.Event, peaks: dict[str, float]) -> None:
    """Samples the server's processes (the supervisor and its workers) twice a second: the
    peak of their summed anonymous memory (heap) and of their summed resident size (which also
    counts the pages of the memory-mapped index file)."""
    while not stop.wait(0.5):
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            pids = [pid, *(int(c) for c in children)]
            heap = sum(rss_mib(p, "RssAnon") for p in pids)
            resident = sum(rss_mib(p) for p in pids)
        except (OSError, ValueError):
            continue
        peaks["heap_mib"] = max(peaks.get("heap_mib", 0.0), round(heap))
        peaks["rss_mib"] = max(peaks.get("rss_mib", 0.0), round(resident))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--port", type=int, default=5079)
    parser.add_argument(
        "--no-writer", action="store_true", help="no harvest during the load (for comparison)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ouc-load-"))
    try:
        write(args.points, str(work / "points.geojson"))
        write(args.points, str(work / "more.geojson"))
        index = SQLiteIndex(work / "index.sqlite")
        index.upsert(datasets(args.datasets), run_id="load")
        index.close()
        (work / "serve.yml").write_text(
            "index: {backend: sqlite, path: index.sqlite}\n"
            "sources:\n  - {name: points, type: geojson, url: points.geojson}\n"
        )
        (work / "writer.yml").write_text(
            "index: {backend: sqlite, path: index.sqlite}\n"
            "sources:\n  - {name: more, type: geojson, url: more.geojson}\n"
        )
        subprocess.run(
            [CATALOGUE, "harvest", "--config", str(work / "serve.yml"), "--quiet"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        server = subprocess.Popen(
            [CATALOGUE, "serve", "--config", str(work / "serve.yml"), "--port", str(args.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            # a harvest writing into the same index while the clients read
            writer = subprocess.Popen(
                [CATALOGUE, "harvest", "--config", str(work / "writer.yml"), "--quiet"]
                if not args.no_writer
                else ["true"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            routes = paths(args.points, random.Random(7))
            peaks: dict[str, float] = {}
            stop = threading.Event()
            sampler = threading.Thread(target=server_memory, args=(server.pid, stop, peaks))
            sampler.start()
            try:
                result = asyncio.run(load(base, routes, args.connections, args.seconds))
            finally:
                stop.set()
                sampler.join()
            result["server_peak_memory"] = peaks
            result["harvest_still_writing_at_end"] = writer.poll() is None
            writer.wait(timeout=600)
            result["harvest_exit"] = writer.returncode
        finally:
            server.terminate()
            server.wait(timeout=20)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {
        "datasets": args.datasets,
        "points": args.points,
        "connections": args.connections,
        "seconds": args.seconds,
        **result,
    }
    print(json.dumps(summary, indent=1))
    failed = sum(v["errors"] for v in result.values() if isinstance(v, dict) and "errors" in v)
    sys.exit(1 if failed or result["harvest_exit"] != 0 else 0)


if __name__ == "__main__":
    main()
