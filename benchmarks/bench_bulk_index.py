"""Where a rebuild's time goes, in one process: copy an SQLite index into fresh OpenSearch
indices and report, per phase, wall seconds and the CPU seconds of this (Python) process and of
the engine node. Reading the origin is timed alone first, so the write path's own Python cost
is the upsert's less the read's.

On a machine shared with other work, wall time follows the load; CPU seconds do not, so they
compare two versions of the write path fairly when run one after the other. The engine's CPU is
read from its nodes stats (``process.cpu.total_in_millis``), so it includes whatever else the
node did meanwhile.

Usage: python benchmarks/bench_bulk_index.py --opensearch-url http://127.0.0.1:9250
           --sqlite /tmp/ouc-bench/engine_100000/c.sqlite [--batch-size 5000]
(the SQLite file of a `bench_search_engine.py` run, or any catalogue index)
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from catalogue.index import open_index
from catalogue.index.sqlite import SQLiteIndex
from catalogue.index.transfer import datasets_by_source, records_of
from catalogue.settings import IndexSettings


def engine_cpu_ms(url: str) -> int:
    stats = httpx.get(f"{url}/_nodes/_local/stats/process").json()
    node = next(iter(stats["nodes"].values()))
    return int(node["process"]["cpu"]["total_in_millis"])


@contextmanager
def phase(name: str, url: str, out: dict[str, Any]) -> Iterator[None]:
    wall, cpu, engine = time.perf_counter(), time.process_time(), engine_cpu_ms(url)
    yield
    for key, value in (
        (f"{name}_s", time.perf_counter() - wall),
        (f"{name}_python_cpu_s", time.process_time() - cpu),
        (f"{name}_engine_cpu_s", (engine_cpu_ms(url) - engine) / 1000),
    ):
        out[key] = round(out.get(key, 0) + value, 2)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--opensearch-url", required=True)
    parser.add_argument("--sqlite", type=Path, required=True)
    parser.add_argument("--batch-size", type=int)
    args = parser.parse_args()
    origin = SQLiteIndex(args.sqlite)
    options = {"batch_size": args.batch_size} if args.batch_size else {}
    prefix = f"bench-bulk-{uuid.uuid4().hex[:8]}"
    target: Any = open_index(
        IndexSettings.model_validate(
            {"backend": "opensearch", "url": args.opensearch_url, "prefix": prefix, **options}
        )
    )
    result: dict[str, Any] = {"load_average": os.getloadavg()[0]}
    written = 0
    try:
        sources = datasets_by_source(origin)
        for datasets in sources.values():  # what reading the origin costs alone
            with phase("read", args.opensearch_url, result):
                for _ in records_of(origin, datasets, None):
                    pass
        started = time.perf_counter()
        with target.rebuild() as fresh:
            for name, datasets in sources.items():
                with phase("upsert", args.opensearch_url, result):
                    stats = fresh.upsert(records_of(origin, datasets, None), run_id=name)
                with phase("statistics", args.opensearch_url, result):
                    fresh.refresh_datasets([d.id for d in datasets])
                written += stats.added
                result["failed"] = result.get("failed", 0) + len(stats.failed)
        elapsed = time.perf_counter() - started
        result["records"] = written
        result["upsert_records_per_s"] = round(written / result["upsert_s"])
        result["records_per_s"] = round(written / elapsed)
    finally:
        target.drop()
        target.close()
        origin.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
