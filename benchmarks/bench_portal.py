"""Server time of the portal's search and dataset pages over N synthetic datasets on the
embedded index (the time the app reports in its ``Server-Timing`` header, read over HTTP from
``catalogue serve``), plus the time the client saw.

Usage: python benchmarks/bench_portal.py [--datasets 100000] [--rounds 200]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_ckan_api import THEMES, datasets  # noqa: E402
from bench_ckan_harvest import WORDS  # noqa: E402

from catalogue.index.sqlite import SQLiteIndex  # noqa: E402

# this environment's command first (another one on PATH may be another checkout)
_HERE_CLI = Path(sys.executable).parent / "catalogue"
CATALOGUE = str(_HERE_CLI) if _HERE_CLI.exists() else shutil.which("catalogue") or "catalogue"
KINDS = ("geodata", "geodata", "sensor", "culture")
DISTRICTS = [f"Stadtbezirk {n}" for n in range(1, 11)]


def portal_datasets(n: int):
    """The CKAN benchmark's datasets, with kinds, extents in the city and districts."""
    rng = random.Random(11)
    for i, dataset in enumerate(datasets(n)):
        x, y = 6.70 + rng.random() * 0.2, 51.12 + rng.random() * 0.2
        yield replace(
            dataset,
            kind=KINDS[i % len(KINDS)],
            spatial=(x, y, x + 0.01, y + 0.01),
            extras={"districts": rng.sample(DISTRICTS, 2)},
        ).with_hash()


def timed(client: httpx.Client, paths: list[str]) -> dict[str, float]:
    for path in paths[:5]:
        client.get(path).raise_for_status()
    server, seen = [], []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        seen.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
        server.append(float(response.headers["server-timing"].split("dur=")[1]) / 1000)

    def p(samples: list[float], share: float) -> float:
        samples = sorted(samples)
        return round(samples[max(int(len(samples) * share) - 1, 0)] * 1000, 1)

    return {
        "server_p50_ms": round(statistics.median(server) * 1000, 1),
        "server_p95_ms": p(server, 0.95),
        "client_p50_ms": round(statistics.median(seen) * 1000, 1),
        "client_p95_ms": p(seen, 0.95),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args()
    if not args.port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    work = Path(tempfile.mkdtemp(prefix="ouc-portal-"))
    index = SQLiteIndex(work / "i.sqlite")
    started = time.perf_counter()
    index.upsert(portal_datasets(args.datasets), run_id="bench")
    load_s = time.perf_counter() - started
    index.close()
    config = work / "c.yml"
    config.write_text(f"index: {{backend: sqlite, path: {work}/i.sqlite}}\n")
    server = subprocess.Popen(
        [CATALOGUE, "serve", "--config", str(config), "--port", str(args.port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    rng = random.Random(9)
    theme = "http://publications.europa.eu/resource/authority/data-theme/"
    rounds = args.rounds
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=60) as client:
            results = {
                "search_text": timed(
                    client, [f"/search?q={quote(rng.choice(WORDS))}" for _ in range(rounds)]
                ),
                "search_two_facets": timed(
                    client,
                    [
                        f"/search?kind={rng.choice(KINDS)}"
                        f"&theme={quote(theme + rng.choice(THEMES), safe='')}"
                        for _ in range(rounds)
                    ],
                ),
                "search_text_district_page": timed(
                    client,
                    [
                        f"/search?q={quote(rng.choice(WORDS))}"
                        f"&district={quote(rng.choice(DISTRICTS))}&page={rng.randint(1, 5)}"
                        for _ in range(rounds)
                    ],
                ),
                "search_all": timed(client, ["/search"] * max(rounds // 10, 10)),
                "dataset": timed(
                    client,
                    [f"/datasets/bench.{rng.randrange(args.datasets):06d}" for _ in range(rounds)],
                ),
                "home": timed(client, ["/"] * max(rounds // 10, 10)),
            }
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"datasets": args.datasets, "load_s": round(load_s, 1), **results}, indent=1))


if __name__ == "__main__":
    main()
