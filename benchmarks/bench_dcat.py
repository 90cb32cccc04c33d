"""DCAT output over N synthetic datasets, served by ``catalogue serve``: a Hydra page of 100
datasets as Turtle and JSON-LD (latency), and the whole catalogue streamed in both formats
(datasets/s, and the server's resident memory while it streams).

Usage: python benchmarks/bench_dcat.py [--datasets 100000] [--rounds 50]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_ckan_api import datasets  # noqa: E402
from bench_ogc import CATALOGUE  # noqa: E402

from catalogue.index.sqlite import SQLiteIndex  # noqa: E402


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def pages(client: httpx.Client, url: str, accept: str, total: int, rounds: int) -> dict[str, float]:
    rng = random.Random(3)
    last = total // 100
    for _ in range(3):
        client.get(url, params={"page": 1, "page_size": 100}, headers={"Accept": accept})
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(
            url, params={"page": rng.randint(1, last), "page_size": 100}, headers={"Accept": accept}
        )
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 1),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1] * 1000, 1),
    }


def whole(client: httpx.Client, url: str, accept: str, pid: int, n: int) -> dict[str, object]:
    """Stream the whole catalogue, sampling the server's anonymous (heap) memory at ¼ and ¾ of
    the time. The serving process maps the index file into memory, so its total resident size
    also grows by the pages of the file it reads; those are the file's, not held data."""
    samples: list[float] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            samples.append(rss_mib(pid, "RssAnon"))
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    before = rss_mib(pid, "RssAnon")
    file_before = rss_mib(pid, "RssFile")
    started = time.perf_counter()
    watcher.start()
    size = 0
    with client.stream("GET", url, headers={"Accept": accept}) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            size += len(chunk)
    elapsed = time.perf_counter() - started
    done.set()
    watcher.join()
    quarter = samples[len(samples) // 4] if samples else before
    three_quarters = samples[len(samples) * 3 // 4] if samples else before
    return {
        "seconds": round(elapsed, 1),
        "datasets_per_s": round(n / elapsed),
        "mib_sent": round(size / 2**20, 1),
        "server_heap_mib_before_q1_q3_max": [
            round(before),
            round(quarter),
            round(three_quarters),
            round(max(samples, default=before)),
        ],
        "server_mapped_file_mib_before_after": [round(file_before), round(rss_mib(pid, "RssFile"))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--port", type=int, default=5079)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ouc-dcat-"))
    index = SQLiteIndex(work / "i.sqlite")
    index.upsert(datasets(args.datasets), run_id="bench")
    index.close()
    config = work / "c.yml"
    config.write_text(
        f"index: {{backend: sqlite, path: {work}/i.sqlite}}\n"
        "catalogue: {licence: http://dcat-ap.de/def/licenses/dl-by-de/2.0}\n"
    )
    server = subprocess.Popen(
        [CATALOGUE, "serve", "--config", str(config), "--port", str(args.port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{args.port}/dcat/catalog"
    results: dict[str, object] = {"datasets": args.datasets}
    try:
        for _ in range(100):
            try:
                httpx.get(url, params={"page": 1}, timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        with httpx.Client(timeout=3600) as client:
            for name, accept in (("turtle", "text/turtle"), ("jsonld", "application/ld+json")):
                results[f"page100_{name}"] = pages(client, url, accept, args.datasets, args.rounds)
            for name, accept in (("turtle", "text/turtle"), ("jsonld", "application/ld+json")):
                results[f"whole_{name}"] = whole(client, url, accept, server.pid, args.datasets)
                print(json.dumps({name: results[f"whole_{name}"]}), file=sys.stderr)
        results["server_peak_rss_mib"] = round(rss_mib(server.pid, "VmHWM"))
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
