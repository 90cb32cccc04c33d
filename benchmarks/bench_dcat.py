"""DCAT output over N synthetic datasets, served by ``catalogue serve``: a Hydra page of 100
datasets as Turtle and JSON-LD (latency), and the whole catalogue streamed in both formats
(datasets/s, and the server's resident memory while it streams).

With ``--baseline-src DIR`` (a source tree of another version, e.g. from ``git archive``) a
second server runs that version on the same index; page requests alternate between the two, so
both see the same machine load, and the figures come with the ratio.

Usage: python benchmarks/bench_dcat.py [--datasets 100000] [--rounds 50] [--baseline-src DIR]
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
    """The largest ``field`` among the server process and its children: with more than one
    worker (``server.workers``) the process started is a supervisor, and the worker streaming
    the catalogue is the one whose memory tells."""
    return max(_status(p, field) for p in (pid, *_children(pid)))


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _status(pid: int, field: str) -> float:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def pages(
    client: httpx.Client, urls: dict[str, str], accept: str, total: int, rounds: int
) -> dict[str, dict[str, float]]:
    """Pages of 100 at random offsets from each server, the servers taking turns."""
    rng = random.Random(3)
    last = total // 100
    for url in urls.values():
        for _ in range(3):
            client.get(url, params={"page": 1, "page_size": 100}, headers={"Accept": accept})
    samples: dict[str, list[float]] = {name: [] for name in urls}
    for round_ in range(rounds):
        page = rng.randint(1, last)
        turns = list(urls.items())
        for name, url in turns if round_ % 2 == 0 else reversed(turns):
            started = time.perf_counter()
            response = client.get(
                url, params={"page": page, "page_size": 100}, headers={"Accept": accept}
            )
            samples[name].append(time.perf_counter() - started)
            response.raise_for_status()
    out = {}
    for name, values in samples.items():
        values.sort()
        out[name] = {
            "p50_ms": round(statistics.median(values) * 1000, 1),
            "p95_ms": round(values[int(len(values) * 0.95) - 1] * 1000, 1),
        }
    return out


def whole(client: httpx.Client, url: str, accept: str, pid: int, n: int) -> dict[str, object]:
    """Stream the whole catalogue, sampling the server worker's anonymous (heap) memory at ¼ and
    ¾ of the time. The serving process maps the index file into memory, so its total resident size
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


def serve(config: Path, port: int, source: Path | None) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if source is not None:  # that version's packages before the installed ones
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(source), env.get("PYTHONPATH"))))
    return subprocess.Popen(
        [CATALOGUE, "serve", "--config", str(config), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--port", type=int, default=5079)
    parser.add_argument(
        "--baseline-src", type=Path, help="source tree of a version to serve beside this one"
    )
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
    servers = {"this": serve(config, args.port, None)}
    if args.baseline_src:
        servers["baseline"] = serve(config, args.port + 1, args.baseline_src.resolve())
    urls = {
        name: f"http://127.0.0.1:{args.port + n}/dcat/catalog" for n, name in enumerate(servers)
    }
    results: dict[str, object] = {"datasets": args.datasets, "load_average": os.getloadavg()}
    try:
        for url in urls.values():
            for _ in range(100):
                try:
                    httpx.get(url, params={"page": 1}, timeout=5)
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
        with httpx.Client(timeout=3600) as client:
            for name, accept in (("turtle", "text/turtle"), ("jsonld", "application/ld+json")):
                timed = pages(client, urls, accept, args.datasets, args.rounds)
                for server, figures in timed.items():
                    results[_key(server, f"page100_{name}")] = figures
                if "baseline" in timed:
                    results[f"page100_{name}_baseline_over_this_p50_p95"] = [
                        round(timed["baseline"][k] / timed["this"][k], 1)
                        for k in ("p50_ms", "p95_ms")
                    ]
            for name, accept in (("turtle", "text/turtle"), ("jsonld", "application/ld+json")):
                for server, url in urls.items():
                    key = _key(server, f"whole_{name}")
                    results[key] = whole(client, url, accept, servers[server].pid, args.datasets)
                    print(json.dumps({key: results[key]}), file=sys.stderr)
        for server, process in servers.items():
            results[_key(server, "server_peak_rss_mib")] = round(rss_mib(process.pid, "VmHWM"))
        results["load_average_after"] = os.getloadavg()
    finally:
        for process in servers.values():
            process.terminate()
            process.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=1))


def _key(server: str, name: str) -> str:
    return name if server == "this" else f"{server}_{name}"


if __name__ == "__main__":
    main()
