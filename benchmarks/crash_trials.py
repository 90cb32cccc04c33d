"""Crash safety: harvests killed with SIGKILL at random moments, then checked and completed.

Each trial harvests two sources (a GeoJSON file of N points that changes between trials, and a
CSV file that does not) into one index, kills ``catalogue harvest`` at a random moment
(anywhere from start-up to the final statistics), then checks what a reader would see:

- SQLite's ``integrity_check`` is ``ok`` and the index opens and answers a bbox query;
- no item id appears twice, every stored item belongs to a dataset;

then runs the harvest again to the end and checks that every source has exactly its records
(nothing lost, nothing duplicated, the changed records updated). The index is kept from trial
to trial, so later kills land on an index that already holds data, the case that matters.

Usage: python benchmarks/crash_trials.py [--trials 20] [--points 60000] [--seed 1]
Prints one JSON line per trial and a summary; exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CATALOGUE = str(Path(sys.executable).parent / "catalogue")


def write_points(path: Path, n: int, version: int) -> None:
    """N points whose names carry the trial's version, so each run changes every record."""
    with path.open("w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for i in range(n):
            x, y = 6.7 + (i % 500) / 2000, 51.1 + (i // 500) / 2000
            feature = {
                "type": "Feature",
                "id": f"p{i}",
                "properties": {"name": f"Punkt {i} v{version}", "version": version},
                "geometry": {"type": "Point", "coordinates": [x, y]},
            }
            out.write(json.dumps(feature) + (",\n" if i < n - 1 else "\n"))
        out.write("]}\n")


def write_stations(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "lat", "lon"])
        for i in range(n):
            writer.writerow([f"s{i}", f"Station {i}", 51.2 + i / 10000, 6.78 + i / 10000])


def check_consistent(index_path: Path) -> list[str]:
    """What is wrong with the index as a reader finds it right after the kill."""
    problems = []
    conn = sqlite3.connect(index_path, timeout=30)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            problems.append("integrity_check failed")
        dupes = conn.execute(
            "SELECT count(*) FROM (SELECT ds, id FROM items GROUP BY ds, id HAVING count(*) > 1)"
        ).fetchone()[0]
        if dupes:
            problems.append(f"{dupes} duplicated item ids")
        orphans = conn.execute(
            "SELECT count(*) FROM items WHERE ds NOT IN (SELECT rid FROM datasets)"
        ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} items without a dataset")
        # the full-text table keeps no sizes to count rows by: each entry has one ds word
        conn.execute("CREATE VIRTUAL TABLE temp.cols USING fts5vocab(main, items_fts, 'col')")
        fts = conn.execute("SELECT total(doc) FROM temp.cols WHERE col = 'ds'").fetchone()[0]
        items = conn.execute("SELECT count(*) FROM items").fetchone()[0]
        if fts != items:
            problems.append(f"{items} items but {fts} full-text rows")
    finally:
        conn.close()
    # and the catalogue itself can read it
    query = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from catalogue.index.sqlite import SQLiteIndex; "
            "from catalogue.query import SearchQuery; "
            "i = SQLiteIndex(sys.argv[1]); "
            "[i.search_items(c.dataset.id, SearchQuery(bbox=(6.7, 51.1, 6.8, 51.2))) "
            "for c in i.collections()]",
            str(index_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if query.returncode != 0:
        problems.append("query failed: " + query.stderr.strip().splitlines()[-1])
    return problems


def counts(index_path: Path, version: int) -> dict[str, tuple[int, int]]:
    """Per dataset: its items, and how many of them carry ``version``."""
    conn = sqlite3.connect(index_path)
    try:
        rows = conn.execute(
            "SELECT d.id, count(i.rid), "
            "coalesce(sum(json_extract(i.properties, '$.version') IS ?), 0) "
            "FROM datasets d LEFT JOIN items i ON i.ds = d.rid GROUP BY d.id",
            (version,),
        )
        return {r[0]: (r[1], r[2]) for r in rows}
    finally:
        conn.close()


def trial(number: int, work: Path, points: int, rng: random.Random, full_s: float) -> dict:
    write_points(work / "points.geojson", points, version=number)
    started = time.monotonic()
    proc = subprocess.Popen(
        [CATALOGUE, "harvest", "--config", str(work / "c.yml"), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    kill_at = rng.uniform(0.05, 1.0) * full_s
    while proc.poll() is None and time.monotonic() - started < kill_at:
        time.sleep(0.01)
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    index = work / "index.sqlite"
    after_kill = counts(index, number) if index.exists() else {}
    problems = check_consistent(work / "index.sqlite") if after_kill else []
    rerun = subprocess.run(
        [CATALOGUE, "harvest", "--config", str(work / "c.yml"), "--quiet"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if rerun.returncode != 0:
        problems.append(f"re-run failed: {rerun.stderr.strip()[-300:]}")
    final = counts(index, number)
    if final.get("punkte") != (points, points):
        problems.append(f"points (all, updated) after the re-run: {final.get('punkte')}")
    if final.get("stationen", (0,))[0] != 500:
        problems.append(f"stations after the re-run: {final.get('stationen')}")
    problems += check_consistent(work / "index.sqlite")
    return {
        "trial": number,
        "killed_after_s": round(kill_at, 2) if killed else None,
        # per dataset: items, and how many of them the killed run had already updated
        "items_at_kill": after_kill,
        "problems": problems,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--points", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="ouc-crash-") as folder:
        work = Path(folder)
        write_stations(work / "stations.csv", 500)
        (work / "c.yml").write_text(
            "index: {backend: sqlite, path: index.sqlite}\n"
            "sources:\n"
            "  - {name: punkte, type: geojson, url: points.geojson}\n"
            "  - {name: stationen, type: csv, url: stations.csv}\n"
        )
        # one uninterrupted run first: how long a whole harvest takes, so kills spread over it
        write_points(work / "points.geojson", args.points, version=0)
        started = time.monotonic()
        subprocess.run(
            [CATALOGUE, "harvest", "--config", str(work / "c.yml"), "--quiet"], check=True
        )
        full_s = time.monotonic() - started
        failed = 0
        for number in range(1, args.trials + 1):
            result = trial(number, work, args.points, rng, full_s)
            failed += bool(result["problems"])
            print(json.dumps(result), flush=True)
    summary = {"trials": args.trials, "points": args.points, "full_run_s": round(full_s, 1)}
    print(json.dumps({**summary, "failed": failed}))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
