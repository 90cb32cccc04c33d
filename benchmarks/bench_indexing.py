"""Indexing speed into the embedded SQLite index, against a raw ``executemany`` floor.

For each size: write the GeoJSON (benchmarks/synthetic.py), run `catalogue harvest` in a child
process (features/s, resident memory sampled every 0.5 s), then, in the same run, copy the rows
that harvest stored into a fresh file with the same schema (tables, indexes, FTS5 and R*Tree,
made by the catalogue's own schema code) with one plain ``executemany`` per table in one
transaction: the least any loader has to pay SQLite for those rows. The ratio of the two is
what the indexing goal is stated in.

Each size is harvested ``--rounds`` times; the features/s are those of the median run.

Usage: python benchmarks/bench_indexing.py [--sizes 100000 1000000] [--rounds 5]
       [--work /tmp/ouc-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_ogc import harvest, points_config  # noqa: E402

from catalogue.index.sqlite import schema  # noqa: E402

ITEM_COLUMNS = (
    "rid, ds, id, run, hash, t_start, t_end, minx, miny, maxx, maxy, geometry, properties, envelope"
)


def raw_copy(source: Path, target: Path) -> dict[str, float]:
    """Seconds to write ``source``'s item rows into an empty ``target`` with plain
    ``executemany`` (rows streamed from ``source``), per table and in all."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    conn = schema.connect(target)
    schema.create(conn)
    rows = schema.connect(source)
    # the index keeps the words, not the text: the text is written out first, untimed
    words = target.with_suffix(".words.sqlite")
    words.unlink(missing_ok=True)
    rows.execute("ATTACH ? AS words", (str(words),))
    rows.execute("CREATE TABLE words.text(rid INTEGER PRIMARY KEY, text TEXT, ds INTEGER)")
    rows.execute("INSERT INTO words.text SELECT rid, ouc_item_text(properties), ds FROM items")
    width = len(ITEM_COLUMNS.split(","))
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    conn.execute("BEGIN")
    steps = (
        (
            "items",
            f"INSERT INTO items({ITEM_COLUMNS}) VALUES ({', '.join('?' * width)})",
            f"SELECT {ITEM_COLUMNS} FROM items",
        ),
        (
            "fts",
            "INSERT INTO items_fts(rowid, text, ds) VALUES (?, ?, ?)",
            "SELECT rid, text, ds FROM words.text",
        ),
        (
            "rtree",
            "INSERT INTO items_rtree VALUES (?, ?, ?, ?, ?, ?, ?)",
            "SELECT * FROM items_rtree",
        ),
    )
    for name, insert, select in steps:
        begun = time.perf_counter()
        conn.executemany(insert, rows.execute(select))
        seconds[name] = time.perf_counter() - begun
    conn.execute("COMMIT")
    seconds["all"] = time.perf_counter() - started
    conn.close()
    rows.close()
    words.unlink()
    return seconds


def run_size(n: int, work: Path, rounds: int) -> dict[str, object]:
    config, index = points_config(n, work, "indexing")
    load = os.getloadavg()[0]
    runs = []
    for _ in range(rounds):
        shutil.rmtree(index, ignore_errors=True)  # each a first load into an empty index
        runs.append(harvest(config))
    times = sorted(seconds for seconds, _ in runs)
    median = statistics.median(times)
    rss = runs[-1][1]
    raw = raw_copy(index / "catalogue.sqlite", work / f"raw_{n}.sqlite")
    quarter = len(rss) // 4
    return {
        "features": n,
        "harvest_s": [round(t, 2) for t in times],
        "harvest_median_s": round(median, 2),
        "features_per_s": round(n / median),
        # resident memory of the last run a quarter and three quarters in, and its peak
        "harvest_rss_mib": [round(rss[quarter]), round(rss[3 * quarter]), round(max(rss))],
        "raw_executemany_s": {k: round(v, 2) for k, v in raw.items()},
        "raw_features_per_s": round(n / raw["all"]),
        "harvest_to_raw": round(median / raw["all"], 2),
        "load_average": [round(load, 2), round(os.getloadavg()[0], 2)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/ouc-bench"))
    parser.add_argument("--rounds", type=int, default=5, help="harvests per size (median)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results = [run_size(n, args.work, args.rounds) for n in args.sizes]
    print(json.dumps({"machine": f"{os.cpu_count()} cores", "results": results}, indent=1))


if __name__ == "__main__":
    main()
