"""Latency of the CKAN Action API's package_search over N synthetic datasets on the embedded
index: text search with facets, a field filter with facets, and deep paging.

Usage: python benchmarks/bench_ckan_api.py [--datasets 100000] [--rounds 200]
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
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_ckan_harvest import THEMES as THEME_CODES  # noqa: E402
from bench_ckan_harvest import WORDS  # noqa: E402
from bench_ogc import CATALOGUE  # noqa: E402

from catalogue.index.sqlite import SQLiteIndex  # noqa: E402
from catalogue.model import Agent, Dataset, Distribution, Provenance  # noqa: E402

THEMES = [code.upper() for code in THEME_CODES]
FACETS = '["tags", "groups", "organization", "res_format", "license_id"]'


def datasets(n: int):
    rng = random.Random(5)
    for i in range(n):
        word = WORDS[i % len(WORDS)]
        yield Dataset(
            id=f"bench.{i:06d}",
            title=f"{word} {2010 + i % 15} ({i})",
            description=f"Der Datensatz {word} der Stadt, Stand {2010 + i % 15}.",
            keywords=tuple(rng.sample(WORDS, 3)),
            themes=(
                f"http://publications.europa.eu/resource/authority/data-theme/{THEMES[i % 8]}",
            ),
            publisher=Agent(f"Amt {i % 40}"),
            licence="http://dcat-ap.de/def/licenses/dl-by-de/2.0",
            modified=f"20{10 + i % 15}-06-01T00:00:00Z",
            distributions=(Distribution(url=f"https://example.org/{i}.csv", format="CSV"),),
            provenance=Provenance("bench", "ckan", None, str(i)),
        ).with_hash()


def timed(client: httpx.Client, paths: list[str]) -> dict[str, float]:
    for path in paths[:5]:
        client.get(path).raise_for_status()
    samples = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - started)
        assert response.json()["success"], path
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--port", type=int, default=5078)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ouc-ckan-api-"))
    index = SQLiteIndex(work / "i.sqlite")
    started = time.perf_counter()
    index.upsert(datasets(args.datasets), run_id="bench")
    load_s = time.perf_counter() - started
    index.close()
    config = work / "c.yml"
    config.write_text(f"index: {{backend: sqlite, path: {work}/i.sqlite}}\n")
    server = subprocess.Popen(
        [CATALOGUE, "serve", "--config", str(config), "--port", str(args.port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}/api/3/action/package_search"
    try:
        for _ in range(100):
            try:
                httpx.get(base, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        rng = random.Random(9)
        with httpx.Client(timeout=60) as client:
            results = {
                "q_facets": timed(
                    client,
                    [
                        f"{base}?q={rng.choice(WORDS)}&rows=10&facet.field={FACETS}"
                        for _ in range(args.rounds)
                    ],
                ),
                "fq_facets": timed(
                    client,
                    [
                        f"{base}?fq=groups:{rng.choice(THEMES).lower()}"
                        f"&rows=10&facet.field={FACETS}"
                        for _ in range(args.rounds)
                    ],
                ),
                "all_facets": timed(
                    client,
                    [
                        f"{base}?rows=10&facet.field={FACETS}"
                        for _ in range(max(args.rounds // 10, 10))
                    ],
                ),
                "deep_page": timed(
                    client,
                    [
                        f"{base}?rows=10&start={rng.randrange(args.datasets - 10)}&sort=name%20asc"
                        for _ in range(args.rounds)
                    ],
                ),
            }
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"datasets": args.datasets, "load_s": round(load_s, 1), **results}, indent=1))


if __name__ == "__main__":
    main()
